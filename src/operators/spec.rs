//! Task specs: `name[:key=value,...]`.

use crate::error::{Error, Result};

/// A parsed task spec such as `inpaint-box:x=8,y=8,w=16,h=16`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSpec {
    /// The task name.
    pub name: String,
    /// Parameters in the order given.
    pub params: Vec<(String, String)>,
}

impl std::str::FromStr for TaskSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (name, rest) = s.split_once(':').unwrap_or((s, ""));
        let mut params = Vec::new();
        for kv in rest.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| Error::Input(format!("task {s:?}: parameter {kv:?} is not key=value")))?;
            let (k, v) = (k.trim().to_string(), v.trim().to_string());
            if k.is_empty() || v.is_empty() {
                return Err(Error::Input(format!(
                    "task {s:?}: parameter {kv:?} needs both a key and a value (key=value)"
                )));
            }
            if params.iter().any(|(p, _)| *p == k) {
                return Err(Error::Input(format!(
                    "task {s:?}: {k} is given twice; give each parameter once"
                )));
            }
            params.push((k, v));
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::Input(format!(
                "task {s:?} has no name; write name[:key=value,...], e.g. sr:factor=4"
            )));
        }
        Ok(TaskSpec {
            name: name.to_string(),
            params,
        })
    }
}

impl TaskSpec {
    /// The value of `key`, if given.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Errors on a key the task does not take.
    pub fn check_keys(&self, allowed: &[&str]) -> Result<()> {
        for (k, _) in &self.params {
            if !allowed.contains(&k.as_str()) {
                return Err(Error::Input(format!(
                    "task {} has no parameter {k:?} (it takes: {})",
                    self.name,
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                )));
            }
        }
        Ok(())
    }

    /// A count parameter of at least `min`.
    pub fn usize(&self, key: &str, default: usize, min: usize) -> Result<usize> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.parse::<usize>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(Error::Input(format!(
                "task {}: {key}={v} must be a whole number of at least {min}",
                self.name
            ))),
        }
    }

    /// A seed parameter (any whole number from 0 to 2^64 - 1).
    pub fn u64(&self, key: &str, default: u64) -> Result<u64> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        v.parse().map_err(|_| {
            Error::Input(format!(
                "task {}: {key}={v} must be a whole number from 0 to {}",
                self.name,
                u64::MAX
            ))
        })
    }

    /// A finite real parameter in `range` (described for the message, e.g. "in (0, 100]").
    pub fn f64(&self, key: &str, default: f64, ok: impl Fn(f64) -> bool, range: &str) -> Result<f64> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() && ok(x) => Ok(x),
            _ => Err(Error::Input(format!(
                "task {}: {key}={v} must be a number {range}",
                self.name
            ))),
        }
    }

    /// The spec with `key=value` added when it is not given (e.g. the command's `--seed`).
    pub fn with_default(mut self, key: &str, value: &str) -> Self {
        if self.get(key).is_none() {
            self.params.push((key.to_string(), value.to_string()));
        }
        self
    }

    /// `name:k=v,...` with the given resolved parameters.
    pub fn describe_with(&self, kv: &[(&str, String)]) -> String {
        if kv.is_empty() {
            return self.name.clone();
        }
        let p: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("{}:{}", self.name, p.join(","))
    }
}
