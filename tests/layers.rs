//! The layering `src/lib.rs` states holds in the code: every `crate::` path outside comments in a
//! module's files names a module of an earlier layer (or the module itself). The layers are read from
//! the numbered list in `lib.rs`'s doc comment, so the list and this check cannot drift apart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// `module -> layer` from lib.rs's "Layers" list: lines `//! N. [`a`] ..., [`b`] ...`.
fn layers() -> HashMap<String, usize> {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let mut out = HashMap::new();
    for line in lib.lines().filter_map(|l| l.strip_prefix("//! ")) {
        let Some((n, rest)) = line.split_once(". ") else {
            continue;
        };
        let Ok(n) = n.trim().parse::<usize>() else {
            continue;
        };
        for part in rest.split("[`").skip(1) {
            if let Some((name, _)) = part.split_once("`]") {
                out.insert(name.to_string(), n);
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`src/ops/conv.rs` -> `ops`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

/// The modules a file's code names as `crate::m` (comments left out), with their line numbers;
/// each top-level name of a `use crate::{a::X, b, ...}` group counts.
fn uses(text: &str) -> Vec<(usize, String)> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let line_at = |at: usize| code[..at].matches('\n').count() + 1;
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(k) = code[from..].find("crate::") {
        let at = from + k + "crate::".len();
        from = at;
        let Some(group) = code[at..].strip_prefix('{') else {
            out.push((line_at(at), ident(&code[at..])));
            continue;
        };
        // the names at depth 0 of the braced group
        let (mut depth, mut start) = (0usize, true);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => start = true,
                c if start && (c.is_alphanumeric() || c == '_') => {
                    out.push((line_at(at + 1 + i), ident(&group[i..])));
                    start = false;
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn no_module_uses_a_later_layer() {
    let layer = layers();
    assert!(layer.len() >= 10, "lib.rs lists the layers: {layer:?}");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for f in files {
        let m = module_of(&src, &f);
        if m == "lib" || m == "main" {
            continue;
        }
        let Some(&mine) = layer.get(&m) else {
            wrong.push(format!(
                "{}: module {m} is not in lib.rs's layer list",
                f.display()
            ));
            continue;
        };
        for (line, used) in uses(&std::fs::read_to_string(&f).unwrap()) {
            if used == m || used.is_empty() || used.chars().next().is_some_and(|c| c.is_uppercase()) {
                continue;
            }
            match layer.get(&used) {
                Some(&l) if l < mine => {}
                Some(&l) => wrong.push(format!(
                    "{}:{line}: {m} (layer {mine}) uses {used} (layer {l})",
                    f.display()
                )),
                None => {}
            }
        }
    }
    assert!(wrong.is_empty(), "imports up the layers:\n{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_a_use_up_the_layers() {
    let found = uses(
        "use crate::solvers::Run;\nuse crate::{gpu::Gpu, tensor::Tensor};\n// crate::app in a comment\n",
    );
    let names: Vec<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["solvers", "gpu", "tensor"]);
}
