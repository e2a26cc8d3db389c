//! The PyTorch checkpoint reader (`tweedie::pt`) on fixtures written by torch.save
//! (`tests/reference/make_pt_fixtures.py`): every tensor equal to its contiguous f32 copy saved by
//! safetensors (f32, f16, bf16, f64 and int64 storages, transposed and offset views, shared storage,
//! a Parameter, 0-d and empty tensors, a nested dict); a pickle that asks to call `os.system`
//! refused with the callable named; truncated and corrupted copies give errors, never a panic.

use std::path::Path;
use tweedie::pt::parse_pt;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pt")
            .join(name),
    )
    .unwrap()
}

#[test]
fn torch_save_state_dict_reads_as_saved() {
    let got = parse_pt(&fixture("state.pt")).unwrap();
    let want = tweedie::io::read_safetensors(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pt/state_expected.safetensors"),
    )
    .unwrap();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "names (the epoch counter beside the weights is skipped)"
    );
    for (k, w) in &want {
        let g = &got[k];
        assert_eq!(g.shape, w.shape, "{k}: shape");
        assert_eq!(g.data, w.data, "{k}: values");
    }
}

#[test]
fn pickles_that_ask_to_run_code_are_refused() {
    let e = parse_pt(&fixture("evil.pt")).err().unwrap();
    assert!(e.contains("system") && e.contains("refused"), "{e}");
}

#[test]
fn truncated_and_corrupted_checkpoints_are_errors() {
    let good = fixture("state.pt");
    for cut in [0, 1, 10, 100, good.len() / 2, good.len() - 30, good.len() - 1] {
        assert!(parse_pt(&good[..cut]).is_err(), "cut at {cut} was accepted");
    }
    // every byte of the file flipped in turn: an error, or — where the byte does not matter (time
    // stamps, alignment padding, version fields) — exactly the right tensors; never a panic and
    // never a silently different weight (the entries' CRC-32 is checked)
    let want = parse_pt(&good).unwrap();
    let mut accepted = 0;
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x5A;
        if let Ok(got) = parse_pt(&bad) {
            accepted += 1;
            assert_eq!(got.len(), want.len(), "byte {i}: tensors lost");
            for (k, w) in &want {
                assert_eq!(
                    (&got[k].shape, &got[k].data),
                    (&w.shape, &w.data),
                    "byte {i}: {k} changed"
                );
            }
        }
    }
    println!(
        "{accepted} of {} single-byte corruptions read the same tensors",
        good.len()
    );
    let legacy = [0x80u8, 0x02, b'}', b'.'];
    assert!(parse_pt(&legacy).err().unwrap().contains("legacy"));
    assert!(
        parse_pt(b"not a checkpoint at all")
            .err()
            .unwrap()
            .contains("zip")
    );
}

/// `data.pkl` wrapped the way torch.save writes it (a stored zip entry `archive/data.pkl`).
fn torch_zip(pickle: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("archive/data.pkl", opts).unwrap();
    z.write_all(pickle).unwrap();
    z.finish().unwrap();
    buf.into_inner()
}

/// Crafted pickles of about 2 MB that once overflowed the stack and aborted the process (a million
/// nested lists, 100,000 nested dicts), or would fill the memory by copying a memoised value over
/// and over: each is a clear error naming the limit.
#[test]
fn crafted_pickles_are_bounded_errors() {
    let proto = [0x80u8, 0x02];
    // a million empty lists, then a million APPENDs: each list goes into the one below it
    let mut lists = proto.to_vec();
    lists.extend(std::iter::repeat_n(b']', 1_000_000));
    lists.extend(std::iter::repeat_n(b'a', 999_999));
    lists.push(b'.');
    // 100,000 nested dicts: {} then (key, {}) SETITEM, innermost first
    let mut dicts = proto.to_vec();
    for _ in 0..100_000 {
        dicts.extend_from_slice(&[b'}', b'K', 1]); // empty dict, key 1 (BININT1)
    }
    dicts.push(b'}');
    dicts.extend(std::iter::repeat_n(b's', 100_000));
    dicts.push(b'.');
    // nesting through the memo, with a stack two deep: list, memo get of the last, append, memo put
    let mut memo = proto.to_vec();
    memo.extend_from_slice(&[b']', b'q', 0]);
    for _ in 0..200_000 {
        memo.extend_from_slice(&[b']', b'h', 0, b'a', b'q', 0]);
    }
    memo.push(b'.');
    // a 100,000-item list read back from the memo 100,000 times
    let mut wide = proto.to_vec();
    wide.extend_from_slice(b"](");
    wide.extend(std::iter::repeat_n(b'N', 100_000));
    wide.extend_from_slice(&[b'e', b'q', 0, b']', b'(']);
    for _ in 0..100_000 {
        wide.extend_from_slice(&[b'h', 0]);
    }
    wide.extend_from_slice(b"e.");
    for (name, pickle, words) in [
        ("nested lists", lists, "deep"),
        ("nested dicts", dicts, "deep"),
        ("nesting through the memo", memo, "deep"),
        ("wide memo copies", wide, "memo"),
    ] {
        let start = std::time::Instant::now();
        let e = parse_pt(&torch_zip(&pickle))
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        assert!(e.contains(words), "{name}: {e}");
        assert!(
            start.elapsed().as_secs() < 20,
            "{name}: took {:?}",
            start.elapsed()
        );
    }
}

/// One policy for integer tensors in both formats: exact in f32 (|v| <= 2^24) is read, anything
/// larger is refused with the tensor named — `.pt` used to round 2^40 silently while safetensors
/// refused every I64.
#[test]
fn integer_tensors_are_read_exactly_or_refused_in_both_formats() {
    let e = parse_pt(&fixture("big_int.pt")).expect_err("2^40 in an int64 tensor was accepted");
    assert!(e.contains("count") && e.contains("2^24"), "{e}");
    let st = |v: i64| {
        safetensors::serialize(
            [(
                "count",
                safetensors::tensor::TensorView::new(
                    safetensors::Dtype::I64,
                    vec![2],
                    bytemuck::cast_slice(&[v, -3i64][..]),
                )
                .unwrap(),
            )],
            None,
        )
        .unwrap()
    };
    let ok = tweedie::io::parse_safetensors(&st(1 << 24)).unwrap();
    assert_eq!(ok["count"].data, vec![16_777_216.0, -3.0]);
    let e = tweedie::io::parse_safetensors(&st(1 << 40))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("count") && e.contains("2^24"), "{e}");
}
