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
            params.push((k.trim().to_string(), v.trim().to_string()));
        }
        Ok(TaskSpec {
            name: name.trim().to_string(),
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

    fn parse<T: std::str::FromStr>(&self, key: &str, default: T, what: &str) -> Result<T> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| Error::Input(format!("task {}: {key}={v} is not {what}", self.name))),
        }
    }

    /// A count parameter.
    pub fn usize(&self, key: &str, default: usize) -> Result<usize> {
        self.parse(key, default, "a whole number")
    }

    /// A seed parameter.
    pub fn u64(&self, key: &str, default: u64) -> Result<u64> {
        self.parse(key, default, "a whole number")
    }

    /// A real parameter.
    pub fn f64(&self, key: &str, default: f64) -> Result<f64> {
        self.parse(key, default, "a number")
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
