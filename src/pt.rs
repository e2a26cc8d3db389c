//! Reading PyTorch checkpoints (`torch.save` of a state dict) without Python and without running
//! anything from the file.
//!
//! A `.pt` file since torch 1.6 is a zip archive (entries stored, not compressed): `<name>/data.pkl`
//! is a pickle of the state dict and `<name>/data/<key>` holds each storage's raw little-endian
//! bytes. The pickle is read by a small stack machine that knows only the opcodes a state dict
//! uses (protocols 2–5: containers, strings, numbers, memo, persistent ids) and only four callables:
//! `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter`
//! and the `torch.*Storage` types as persistent-id tags. Any other callable is an error that names
//! it — nothing is ever imported or executed — as is any opcode outside that set.
//!
//! Nested dicts (`{"state_dict": {...}}`, `{"ema": {...}}`) are flattened with dotted names. f32,
//! f16, bf16, f64 and integer tensors are returned as f32 — integers only where exact there
//! (|v| <= 2^24, the policy of the safetensors reader too); views (offsets, strides, shared
//! storages) are materialised row-major.

use crate::error::{Error, Result};
use crate::io::HostTensor;
use std::collections::BTreeMap;
use std::path::Path;

/// Every tensor of a PyTorch checkpoint, by its (dotted) state-dict name, as f32.
pub fn read_pt(path: &Path) -> Result<BTreeMap<String, HostTensor>> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::Model(format!(
            "{}: cannot read the checkpoint ({e}); check the path",
            path.display()
        ))
    })?;
    parse_pt(&bytes).map_err(|e| Error::Model(format!("{}: {e}", path.display())))
}

/// [`read_pt`] on the bytes of a file. Errors are plain messages (what is wrong, and what to do).
pub fn parse_pt(bytes: &[u8]) -> std::result::Result<BTreeMap<String, HostTensor>, String> {
    if bytes.len() >= 2 && bytes[0] == 0x80 && bytes[1] <= 5 {
        return Err(
            "this is a legacy (pre-zip, torch < 1.6) checkpoint, which is not read: re-save it with a \
             recent torch, loading it without running its pickle \
             (`torch.save(torch.load(f, weights_only=True), g)`; on torch < 2.6 a plain torch.load runs \
             whatever the file carries), or convert it to .safetensors"
                .into(),
        );
    }
    let zip = Zip::parse(bytes)?;
    let pkl_name = zip
        .names()
        .find(|n| n.ends_with("/data.pkl") || *n == "data.pkl")
        .ok_or("no data.pkl in the archive: not a torch.save checkpoint")?
        .to_string();
    let prefix = pkl_name.trim_end_matches("data.pkl").to_string();
    if let Some(order) = zip.get(&format!("{prefix}byteorder"))
        && order != b"little"
    {
        return Err(format!(
            "the checkpoint was written {} endian; only little-endian files are read",
            String::from_utf8_lossy(order)
        ));
    }
    let pkl = zip.get(&pkl_name).ok_or("data.pkl is unreadable")?;
    let root = Unpickler::new(pkl).run()?;
    let mut out = BTreeMap::new();
    flatten(&root, "", &zip, &prefix, &mut out)?;
    if out.is_empty() {
        return Err("the checkpoint holds no tensors".into());
    }
    Ok(out)
}

fn flatten(
    v: &Value,
    name: &str,
    zip: &Zip,
    prefix: &str,
    out: &mut BTreeMap<String, HostTensor>,
) -> std::result::Result<(), String> {
    match v {
        Value::Dict(items) => {
            for (k, v) in items {
                let key = match k {
                    Value::Str(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                    other => return Err(format!("a dict key of kind {} in the state dict", other.kind())),
                };
                let full = if name.is_empty() {
                    key
                } else {
                    format!("{name}.{key}")
                };
                flatten(v, &full, zip, prefix, out)?;
            }
            Ok(())
        }
        Value::Tensor(t) => {
            out.insert(name.to_string(), t.materialise(zip, prefix, name)?);
            Ok(())
        }
        // training state beside the weights (step counters, hyperparameters) is skipped
        _ => Ok(()),
    }
}

/// A storage's element type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DType {
    F32,
    F16,
    BF16,
    F64,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    fn of_storage(name: &str) -> Option<DType> {
        Some(match name {
            "FloatStorage" => DType::F32,
            "HalfStorage" => DType::F16,
            "BFloat16Storage" => DType::BF16,
            "DoubleStorage" => DType::F64,
            "LongStorage" => DType::I64,
            "IntStorage" => DType::I32,
            "ShortStorage" => DType::I16,
            "CharStorage" => DType::I8,
            "ByteStorage" => DType::U8,
            "BoolStorage" => DType::Bool,
            _ => return None,
        })
    }
    fn size(self) -> usize {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::F16 | DType::BF16 | DType::I16 => 2,
            DType::I8 | DType::U8 | DType::Bool => 1,
        }
    }
    fn read(self, b: &[u8]) -> f32 {
        match self {
            DType::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            DType::F16 => half::f16::from_le_bytes([b[0], b[1]]).to_f32(),
            DType::BF16 => half::bf16::from_le_bytes([b[0], b[1]]).to_f32(),
            DType::F64 => f64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])) as f32,
            // integers are checked for exactness by `materialise`
            DType::I64 => i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])) as f32,
            DType::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
            DType::I16 => i16::from_le_bytes([b[0], b[1]]) as f32,
            DType::I8 => b[0] as i8 as f32,
            DType::U8 | DType::Bool => b[0] as f32,
        }
    }
}

/// A tensor in the pickle: a view into a storage.
#[derive(Debug, Clone)]
struct TensorRef {
    dtype: DType,
    key: String,
    numel: usize,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

impl TensorRef {
    fn materialise(&self, zip: &Zip, prefix: &str, name: &str) -> std::result::Result<HostTensor, String> {
        let raw = zip
            .get(&format!("{prefix}data/{}", self.key))
            .ok_or_else(|| format!("tensor {name}: its storage data/{} is missing", self.key))?;
        let es = self.dtype.size();
        if raw.len() < self.numel.saturating_mul(es) {
            return Err(format!(
                "tensor {name}: storage data/{} has {} bytes for {} elements (truncated or corrupt file)",
                self.key,
                raw.len(),
                self.numel
            ));
        }
        let n: usize = self
            .shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .ok_or_else(|| format!("tensor {name}: shape {:?} overflows", self.shape))?;
        // the largest element the view touches must lie inside the storage
        let last = self
            .shape
            .iter()
            .zip(&self.stride)
            .try_fold(self.offset, |a, (&d, &s)| {
                a.checked_add(d.saturating_sub(1).checked_mul(s)?)
            });
        if n > 0 && last.is_none_or(|l| l >= self.numel) {
            return Err(format!(
                "tensor {name}: shape {:?}, stride {:?} and offset {} reach past its storage of {} \
                 elements (corrupt file)",
                self.shape, self.stride, self.offset, self.numel
            ));
        }
        let mut data = Vec::with_capacity(n);
        let mut idx = vec![0usize; self.shape.len()];
        for _ in 0..n {
            let e: usize = self.offset + idx.iter().zip(&self.stride).map(|(i, s)| i * s).sum::<usize>();
            let b = &raw[e * es..(e + 1) * es];
            data.push(match self.dtype {
                // the policy of crate::io::exact_integer: exact in f32, or refused
                DType::I64 => {
                    crate::io::exact_integer(i64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])), name)?
                }
                DType::I32 => {
                    crate::io::exact_integer(i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64, name)?
                }
                d => d.read(b),
            });
            for d in (0..idx.len()).rev() {
                idx[d] += 1;
                if idx[d] < self.shape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        Ok(HostTensor {
            shape: self.shape.clone(),
            data,
        })
    }
}

/// What the pickle machine holds.
#[derive(Debug, Clone)]
enum Value {
    None,
    /// a bool (kept only as a placeholder: state dicts need none)
    Bool,
    Int(i64),
    /// a float (ditto)
    Float,
    Str(String),
    /// bytes (ditto)
    Bytes,
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(String, String),
    Storage {
        dtype: DType,
        key: String,
        numel: usize,
    },
    Tensor(TensorRef),
    Mark,
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool => "bool",
            Value::Int(_) => "int",
            Value::Float => "float",
            Value::Str(_) => "str",
            Value::Bytes => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Global(..) => "callable",
            Value::Storage { .. } => "storage",
            Value::Tensor(_) => "tensor",
            Value::Mark => "mark",
        }
    }
    fn usize(&self, what: &str) -> std::result::Result<usize, String> {
        match self {
            Value::Int(i) if *i >= 0 => Ok(*i as usize),
            other => Err(format!(
                "{what}: expected a non-negative int, found {}",
                other.kind()
            )),
        }
    }
    fn usizes(&self, what: &str) -> std::result::Result<Vec<usize>, String> {
        match self {
            Value::Tuple(v) | Value::List(v) => v.iter().map(|x| x.usize(what)).collect(),
            other => Err(format!("{what}: expected a tuple, found {}", other.kind())),
        }
    }
}

/// The callables a state dict's pickle may name.
const ALLOWED: &[(&str, &str)] = &[
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
];

/// Deepest nesting of containers data.pkl may build. A state dict nests a handful (dict, tuple of
/// rebuild arguments, size tuple); a crafted 2 MB file can nest a million lists, which overflowed the
/// stack when the value was copied or freed.
const MAX_DEPTH: usize = 64;
/// Memo entries data.pkl may write: a checkpoint writes a few per tensor.
const MAX_MEMO: usize = 1 << 20;
/// Values data.pkl may copy out of its memo in all: each read copies the value, so a small file that
/// reads a wide value back many times would otherwise fill the memory.
const MAX_MEMO_COPIES: usize = 1 << 24;

/// Containers nested in `v` (0 for a scalar) and the values it holds, counted without recursion and
/// stopping past [`MAX_DEPTH`].
fn measure(v: &Value) -> (usize, usize) {
    let (mut depth, mut nodes) = (0, 0);
    let mut todo = vec![(v, 0usize)];
    while let Some((v, d)) = todo.pop() {
        nodes += 1;
        depth = depth.max(d);
        if d > MAX_DEPTH {
            break;
        }
        match v {
            Value::Tuple(xs) | Value::List(xs) => todo.extend(xs.iter().map(|x| (x, d + 1))),
            Value::Dict(kv) => {
                for (k, x) in kv {
                    todo.push((k, d + 1));
                    todo.push((x, d + 1));
                }
            }
            _ => {}
        }
    }
    (depth, nodes)
}

/// Refuses values that would nest a container deeper than [`MAX_DEPTH`] once put in one.
fn check_nesting(items: &[Value]) -> std::result::Result<(), String> {
    if items.iter().any(|v| measure(v).0 + 1 > MAX_DEPTH) {
        return Err(format!(
            "data.pkl nests containers more than {MAX_DEPTH} deep, where a state dict nests a handful: \
             a crafted or corrupt file; nothing in it is run. Save the model's state_dict() with \
             torch.save, or convert it to .safetensors"
        ));
    }
    Ok(())
}

struct Unpickler<'a> {
    b: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    memo: BTreeMap<u64, Value>,
    /// values copied out of the memo so far ([`MAX_MEMO_COPIES`])
    copied: usize,
}

impl<'a> Unpickler<'a> {
    fn new(b: &'a [u8]) -> Self {
        Unpickler {
            b,
            pos: 0,
            stack: Vec::new(),
            memo: BTreeMap::new(),
            copied: 0,
        }
    }

    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.b.len())
            .ok_or_else(|| {
                format!(
                    "data.pkl ends inside a value at byte {} (truncated or corrupt file)",
                    self.pos
                )
            })?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> std::result::Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> std::result::Result<u16, String> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> std::result::Result<u64, String> {
        let s = self.take(8)?;
        Ok(u64::from_le_bytes(s.try_into().map_err(|_| "short read")?))
    }
    fn line(&mut self) -> std::result::Result<String, String> {
        let rest = &self.b[self.pos..];
        let n = rest
            .iter()
            .position(|&c| c == b'\n')
            .ok_or("data.pkl ends inside a name (truncated or corrupt file)")?;
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.pos += n + 1;
        Ok(s)
    }
    fn text(&mut self, n: usize) -> std::result::Result<Value, String> {
        let s = self.take(n)?;
        Ok(Value::Str(String::from_utf8(s.to_vec()).map_err(
            |_| "a string in data.pkl is not UTF-8 (corrupt file)",
        )?))
    }
    fn pop(&mut self) -> std::result::Result<Value, String> {
        self.stack
            .pop()
            .ok_or_else(|| "data.pkl pops an empty stack (corrupt file)".into())
    }
    fn pop_mark(&mut self) -> std::result::Result<Vec<Value>, String> {
        let m = self
            .stack
            .iter()
            .rposition(|v| matches!(v, Value::Mark))
            .ok_or("data.pkl closes a group it never opened (corrupt file)")?;
        let items = self.stack.split_off(m + 1);
        self.stack.pop();
        Ok(items)
    }
    fn top(&mut self) -> std::result::Result<&mut Value, String> {
        self.stack
            .last_mut()
            .ok_or_else(|| "data.pkl works on an empty stack (corrupt file)".into())
    }
    fn memo_put(&mut self, k: u64) -> std::result::Result<(), String> {
        let v = self
            .stack
            .last()
            .cloned()
            .ok_or("data.pkl memoises an empty stack (corrupt file)")?;
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&k) {
            return Err(format!(
                "data.pkl writes more than {MAX_MEMO} memo entries, where a checkpoint writes a few a \
                 tensor: a crafted or corrupt file"
            ));
        }
        self.memo.insert(k, v);
        Ok(())
    }
    fn memo_get(&mut self, k: u64) -> std::result::Result<(), String> {
        let v = self
            .memo
            .get(&k)
            .ok_or_else(|| format!("data.pkl reads memo {k}, never written (corrupt file)"))?;
        self.copied += measure(v).1;
        if self.copied > MAX_MEMO_COPIES {
            return Err(format!(
                "data.pkl copies more than {MAX_MEMO_COPIES} values out of its memo: a crafted or \
                 corrupt file"
            ));
        }
        let v = v.clone();
        self.stack.push(v);
        Ok(())
    }

    fn run(mut self) -> std::result::Result<Value, String> {
        loop {
            let at = self.pos;
            let op = self.u8()?;
            match op {
                0x80 => {
                    let p = self.u8()?;
                    if p > 5 {
                        return Err(format!("pickle protocol {p} is newer than any torch writes"));
                    }
                }
                0x95 => {
                    self.u64()?; // FRAME: a length hint
                }
                b'.' => return self.pop(),
                b'(' => self.stack.push(Value::Mark),
                b'N' => self.stack.push(Value::None),
                0x88 | 0x89 => self.stack.push(Value::Bool),
                b'K' => {
                    let v = self.u8()?;
                    self.stack.push(Value::Int(v as i64))
                }
                b'M' => {
                    let v = self.u16()?;
                    self.stack.push(Value::Int(v as i64))
                }
                b'J' => {
                    let v = self.u32()?;
                    self.stack.push(Value::Int(v as i32 as i64))
                }
                0x8a => {
                    let n = self.u8()? as usize;
                    let s = self.take(n)?;
                    if n > 8 {
                        return Err("an integer in data.pkl is wider than 64 bits".into());
                    }
                    let mut v: i64 = 0;
                    for (i, &c) in s.iter().enumerate() {
                        v |= (c as i64) << (8 * i);
                    }
                    if n > 0 && n < 8 && s[n - 1] & 0x80 != 0 {
                        v -= 1i64 << (8 * n);
                    }
                    self.stack.push(Value::Int(v))
                }
                b'G' => {
                    self.take(8)?;
                    self.stack.push(Value::Float)
                }
                b'X' => {
                    let n = self.u32()? as usize;
                    let v = self.text(n)?;
                    self.stack.push(v)
                }
                0x8c => {
                    let n = self.u8()? as usize;
                    let v = self.text(n)?;
                    self.stack.push(v)
                }
                0x8d => {
                    let n = usize::try_from(self.u64()?).map_err(|_| "a string longer than memory")?;
                    let v = self.text(n)?;
                    self.stack.push(v)
                }
                b'U' => {
                    let n = self.u8()? as usize;
                    let v = self.text(n)?;
                    self.stack.push(v)
                }
                b'T' => {
                    let n = self.u32()? as usize;
                    let v = self.text(n)?;
                    self.stack.push(v)
                }
                b'C' => {
                    let n = self.u8()? as usize;
                    self.take(n)?;
                    self.stack.push(Value::Bytes)
                }
                b'B' => {
                    let n = self.u32()? as usize;
                    self.take(n)?;
                    self.stack.push(Value::Bytes)
                }
                b')' => self.stack.push(Value::Tuple(Vec::new())),
                b't' => {
                    let v = self.pop_mark()?;
                    check_nesting(&v)?;
                    self.stack.push(Value::Tuple(v))
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < n {
                        return Err("data.pkl builds a tuple from an empty stack (corrupt file)".into());
                    }
                    let v = self.stack.split_off(self.stack.len() - n);
                    if v.iter().any(|x| matches!(x, Value::Mark)) {
                        return Err("data.pkl puts a mark in a tuple (corrupt file)".into());
                    }
                    check_nesting(&v)?;
                    self.stack.push(Value::Tuple(v))
                }
                b']' => self.stack.push(Value::List(Vec::new())),
                b'}' => self.stack.push(Value::Dict(Vec::new())),
                b'a' => {
                    let v = self.pop()?;
                    check_nesting(std::slice::from_ref(&v))?;
                    match self.top()? {
                        Value::List(l) => l.push(v),
                        other => return Err(format!("data.pkl appends to a {}", other.kind())),
                    }
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    check_nesting(&items)?;
                    match self.top()? {
                        Value::List(l) => l.extend(items),
                        other => return Err(format!("data.pkl appends to a {}", other.kind())),
                    }
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    check_nesting(std::slice::from_ref(&k))?;
                    check_nesting(std::slice::from_ref(&v))?;
                    match self.top()? {
                        Value::Dict(d) => d.push((k, v)),
                        other => return Err(format!("data.pkl sets an item of a {}", other.kind())),
                    }
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    if items.len() % 2 != 0 {
                        return Err("data.pkl sets a key without a value (corrupt file)".into());
                    }
                    check_nesting(&items)?;
                    let mut it = items.into_iter();
                    let mut pairs = Vec::new();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    match self.top()? {
                        Value::Dict(d) => d.extend(pairs),
                        other => return Err(format!("data.pkl sets items of a {}", other.kind())),
                    }
                }
                // BINPUT, LONG_BINPUT, MEMOIZE; BINGET, LONG_BINGET
                b'q' | b'r' | 0x94 | b'h' | b'j' => {
                    let k = match op {
                        b'q' | b'h' => self.u8()? as u64,
                        b'r' | b'j' => self.u32()? as u64,
                        _ => self.memo.len() as u64,
                    };
                    if matches!(op, b'h' | b'j') {
                        self.memo_get(k)?
                    } else {
                        self.memo_put(k)?
                    }
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.stack.push(Value::Global(module, name))
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module, name) {
                        (Value::Str(m), Value::Str(n)) => self.stack.push(Value::Global(m, n)),
                        _ => return Err("data.pkl names a callable by non-strings (corrupt file)".into()),
                    }
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let storage = persistent(pid)?;
                    self.stack.push(storage)
                }
                b'R' => {
                    let args = self.pop()?;
                    check_nesting(std::slice::from_ref(&args))?;
                    let f = self.pop()?;
                    let v = reduce(f, args)?;
                    self.stack.push(v)
                }
                b'b' => {
                    // BUILD: state set on an object; a tensor's or a dict's is not needed
                    let _state = self.pop()?;
                    match self.top()? {
                        Value::Tensor(_) | Value::Dict(_) => {}
                        other => return Err(format!("data.pkl sets the state of a {}", other.kind())),
                    }
                }
                _ => {
                    return Err(format!(
                        "pickle opcode 0x{op:02x} at byte {at} of data.pkl is not part of a state dict: \
                         the file holds more than tensors and dicts (or is corrupt), and nothing in it \
                         is run; save the model's state_dict() instead, or convert it to .safetensors"
                    ));
                }
            }
        }
    }
}

/// A persistent id `('storage', torch.XStorage, key, location, numel)`.
fn persistent(pid: Value) -> std::result::Result<Value, String> {
    let Value::Tuple(t) = pid else {
        return Err(format!("a persistent id of kind {} (corrupt file)", pid.kind()));
    };
    match t.as_slice() {
        [
            Value::Str(tag),
            Value::Global(module, name),
            key,
            _location,
            numel,
        ] if tag == "storage" => {
            let dtype = (module == "torch")
                .then(|| DType::of_storage(name))
                .flatten()
                .ok_or_else(|| format!("storage type {module}.{name} is not read"))?;
            let key = match key {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                other => return Err(format!("a storage key of kind {}", other.kind())),
            };
            Ok(Value::Storage {
                dtype,
                key,
                numel: numel.usize("storage size")?,
            })
        }
        _ => Err("a persistent id that is not a tensor storage: only state dicts are read".into()),
    }
}

/// Calls one of the [`ALLOWED`] callables (by building its result, never by running code).
fn reduce(f: Value, args: Value) -> std::result::Result<Value, String> {
    let Value::Global(module, name) = f else {
        return Err(format!("data.pkl calls a {} (corrupt file)", f.kind()));
    };
    if !ALLOWED.contains(&(module.as_str(), name.as_str())) {
        return Err(format!(
            "the checkpoint asks to call {module}.{name}, which is refused: only tensors and dicts are \
             read, and nothing in the file is run; save the model's state_dict() instead"
        ));
    }
    let Value::Tuple(a) = args else {
        return Err(format!("{module}.{name} called with a {}", args.kind()));
    };
    match name.as_str() {
        "OrderedDict" => Ok(Value::Dict(Vec::new())),
        "_rebuild_tensor_v2" => match a.as_slice() {
            [Value::Storage { dtype, key, numel }, offset, size, stride, ..] => {
                let shape = size.usizes("tensor size")?;
                let stride = stride.usizes("tensor stride")?;
                if shape.len() != stride.len() {
                    return Err(format!(
                        "tensor size {shape:?} and stride {stride:?} differ in rank"
                    ));
                }
                Ok(Value::Tensor(TensorRef {
                    dtype: *dtype,
                    key: key.clone(),
                    numel: *numel,
                    offset: offset.usize("storage offset")?,
                    shape,
                    stride,
                }))
            }
            _ => Err("_rebuild_tensor_v2 without a storage (corrupt file)".into()),
        },
        _ => match a.into_iter().next() {
            Some(t @ Value::Tensor(_)) => Ok(t),
            _ => Err("_rebuild_parameter without a tensor (corrupt file)".into()),
        },
    }
}

/// The entries of a zip archive whose members are stored uncompressed (as `torch.save` writes).
struct Zip<'a> {
    entries: Vec<(String, &'a [u8])>,
}

impl<'a> Zip<'a> {
    fn parse(b: &'a [u8]) -> std::result::Result<Self, String> {
        let rd16 = |o: usize| -> std::result::Result<usize, String> {
            b.get(o..o + 2)
                .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
                .ok_or_else(|| "the zip directory points past the end of the file (truncated)".to_string())
        };
        let rd32 = |o: usize| -> std::result::Result<usize, String> {
            b.get(o..o + 4)
                .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
                .ok_or_else(|| "the zip directory points past the end of the file (truncated)".to_string())
        };
        let rd64 = |o: usize| -> std::result::Result<usize, String> {
            b.get(o..o + 8)
                .and_then(|s| usize::try_from(u64::from_le_bytes(s.try_into().ok()?)).ok())
                .ok_or_else(|| "the zip directory points past the end of the file (truncated)".to_string())
        };
        if b.len() < 22 || &b[..4] != b"PK\x03\x04" {
            return Err(
                "not a torch.save checkpoint (no zip header): give a .pt written by torch >= 1.6, or \
                 .safetensors"
                    .into(),
            );
        }
        // the end-of-central-directory record, searched backward over the longest comment
        let lo = b.len().saturating_sub(22 + 65535);
        let eocd = (lo..=b.len() - 22)
            .rev()
            .find(|&o| &b[o..o + 4] == b"PK\x05\x06")
            .ok_or("the zip directory is missing (truncated file)")?;
        let (mut count, mut cd) = (rd16(eocd + 10)?, rd32(eocd + 16)?);
        if (count == 0xFFFF || cd == 0xFFFF_FFFF) && eocd >= 20 && &b[eocd - 20..eocd - 16] == b"PK\x06\x07" {
            let z = rd64(eocd - 20 + 8)?;
            if b.get(z..z + 4) != Some(b"PK\x06\x06") {
                return Err("the zip64 directory is damaged (corrupt file)".into());
            }
            count = rd64(z + 32)?;
            cd = rd64(z + 48)?;
        }
        let mut entries = Vec::new();
        let mut o = cd;
        for _ in 0..count {
            if b.get(o..o + 4) != Some(b"PK\x01\x02") {
                return Err("a zip directory entry is damaged (corrupt file)".into());
            }
            let method = rd16(o + 10)?;
            let (mut csize, mut size) = (rd32(o + 20)?, rd32(o + 24)?);
            let (nlen, xlen, clen) = (rd16(o + 28)?, rd16(o + 30)?, rd16(o + 32)?);
            let mut local = rd32(o + 42)?;
            let name = b
                .get(o + 46..o + 46 + nlen)
                .ok_or("a zip entry name runs past the end (truncated)")?;
            let name = String::from_utf8_lossy(name).into_owned();
            // zip64 sizes and offset in the extra field (tag 1), in this order where saturated
            let mut x = o + 46 + nlen;
            let xend = x + xlen;
            while x + 4 <= xend {
                let (tag, len) = (rd16(x)?, rd16(x + 2)?);
                if tag == 1 {
                    let mut f = x + 4;
                    for v in [&mut size, &mut csize, &mut local] {
                        if *v == 0xFFFF_FFFF && f + 8 <= x + 4 + len {
                            *v = rd64(f)?;
                            f += 8;
                        }
                    }
                }
                x += 4 + len;
            }
            if method != 0 {
                return Err(format!(
                    "zip entry {name} is compressed (method {method}); torch.save stores entries \
                     uncompressed: re-save the checkpoint with torch.save"
                ));
            }
            if csize != size {
                return Err(format!("zip entry {name} has inconsistent sizes (corrupt file)"));
            }
            if b.get(local..local + 4) != Some(b"PK\x03\x04") {
                return Err(format!(
                    "zip entry {name} points at a damaged header (corrupt file)"
                ));
            }
            let start = local + 30 + rd16(local + 26)? + rd16(local + 28)?;
            let data = start
                .checked_add(size)
                .and_then(|end| b.get(start..end))
                .ok_or_else(|| format!("zip entry {name} runs past the end of the file (truncated)"))?;
            if crc32(data) as usize != rd32(o + 16)? {
                return Err(format!(
                    "zip entry {name} fails its checksum (corrupt file): download it again"
                ));
            }
            entries.push((name, data));
            o = xend + clen;
        }
        Ok(Zip { entries })
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, d)| *d)
    }
}

/// CRC-32 (IEEE 802.3, as zip uses), bytewise with a table.
fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, e) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *e = c;
        }
        t
    });
    !data
        .iter()
        .fold(!0u32, |c, &b| t[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8))
}
