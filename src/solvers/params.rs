//! A solver's parameters, declared once: [`crate::solver_params!`] turns one declaration per
//! solver into its struct, the reading of its `--set` pairs with defaults and ranges, and the
//! settings it prints, with its registry name written once ([`Declared::NAME`]). The switch every
//! solver takes, `measure`, is read once for all by [`super::create_for`] (as `restarts` is) and
//! handed over in the [`Setup`]; a word parameter is a [`Choice`], the particle solvers' four keys
//! one [`Param`] ([`super::smc::ParticleSettings`]).

use super::Solver;
use crate::error::{Error, Result, Setting};
use crate::operators::Caps;
use std::ops::{Bound, RangeBounds};

/// `--set key=value` parameters with checking: every key must be used.
pub struct Params {
    kv: Vec<(String, String)>,
    used: Vec<String>,
    solver: &'static str,
}

impl Params {
    /// Wraps the pairs given on the command line.
    pub fn new(solver: &'static str, kv: &[(String, String)]) -> Self {
        Params {
            kv: kv.to_vec(),
            used: Vec::new(),
            solver,
        }
    }

    /// The text given for `key` (an error when it is given twice), marking the key used.
    fn raw(&mut self, key: &str) -> Result<Option<String>> {
        self.used.push(key.to_string());
        let mut hits = self.kv.iter().filter(|(k, _)| k == key);
        let first = hits.next().map(|(_, v)| v.clone());
        if hits.next().is_some() {
            return Err(Error::setting(
                Setting::SolverParam(key.to_string()),
                format!(" is given twice for {}; give each parameter once", self.solver),
            ));
        }
        Ok(first)
    }

    /// Gives `key` the text `value` unless the pairs already give it (a solver's default that
    /// differs from the declared one of the solver it wraps).
    pub fn default_to(&mut self, key: &str, value: &str) {
        if !self.kv.iter().any(|(k, _)| k == key) {
            self.kv.push((key.to_string(), value.to_string()));
        }
    }

    /// A switch every solver takes (`measure`), read once before the solver's own parameters: the
    /// key is not marked used here but where the solver's declaration lists it ([`Params::mark`]),
    /// so that the list of keys an error shows keeps the declared order.
    pub fn shared_flag(&mut self, key: &str, default: bool) -> Result<bool> {
        let v = self.flag(key, default)?;
        self.used.retain(|k| k != key);
        Ok(v)
    }

    /// Marks `key` as one this solver takes (a key read by [`Params::shared_flag`]).
    pub fn mark(&mut self, key: &str) {
        self.used.push(key.to_string());
    }

    /// The value of `key` parsed as `T`, or `default` when not given.
    fn parsed<T: std::str::FromStr>(&mut self, key: &str, default: T, expects: &str) -> Result<T> {
        match self.raw(key)? {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                Error::setting(
                    Setting::SolverParam(format!("{key}={v}")),
                    format!(": {} expects {expects}", self.solver),
                )
            }),
        }
    }

    /// A real parameter with its default, finite and within `[lo, hi]` (`hi` may be infinite).
    pub fn f64(&mut self, key: &str, default: f64, lo: f64, hi: f64) -> Result<f64> {
        let range = if hi.is_infinite() {
            format!("a finite number of at least {lo}")
        } else {
            format!("a number in [{lo}, {hi}]")
        };
        match self.raw(key)? {
            None => Ok(default),
            Some(v) => match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= lo && x <= hi => Ok(x),
                _ => Err(Error::setting(
                    Setting::SolverParam(format!("{key}={v}")),
                    format!(": {} expects {range}", self.solver),
                )),
            },
        }
    }

    /// A count with its default, at least `min`.
    pub fn usize(&mut self, key: &str, default: usize, min: usize) -> Result<usize> {
        match self.parsed(key, default, &format!("a whole number of at least {min}"))? {
            n if n >= min => Ok(n),
            n => Err(Error::setting(
                Setting::SolverParam(format!("{key}={n}")),
                format!(": {} expects a whole number of at least {min}", self.solver),
            )),
        }
    }

    /// A switch with its default, given as `1` or `0`.
    pub fn flag(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.parsed::<u8>(key, default as u8, "1 or 0")? {
            v @ (0 | 1) => Ok(v == 1),
            v => Err(Error::setting(
                Setting::SolverParam(format!("{key}={v}")),
                format!(": {} expects 1 or 0", self.solver),
            )),
        }
    }

    /// Errors on keys that no parameter used.
    pub fn finish(self) -> Result<()> {
        if let Some((k, _)) = self.kv.iter().find(|(k, _)| !self.used.contains(k)) {
            return Err(Error::setting(
                Setting::SolverParam(k.to_string()),
                format!(
                    ": {} has no such parameter (it takes: {})",
                    self.solver,
                    self.used.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// What a solver's parameters may depend on besides their own `--set` pairs.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// What the operator offers; its [`crate::operators::Kind`] chooses the defaults that depend on
    /// the problem.
    pub caps: Caps,
    /// `--steps`, when given (each solver has its own default).
    pub steps: Option<usize>,
    /// The switch every solver takes: `measure=0` drops the data term (the run is the prior's
    /// alone), read once by [`super::create_for`].
    pub measure: bool,
}

/// What [`crate::solver_params!`] gives a solver: its registry name, its parameters read from `--set`
/// pairs, and its settings as printed.
pub trait Declared: Sized {
    /// The registry name (`--solver`).
    const NAME: &'static str;
    /// The parameters from the `--set` pairs in `p` (every key must be one of them), with the
    /// defaults for `setup`.
    fn new(setup: &Setup, p: Params) -> Result<Self>;
    /// The settings in effect, as `key=value` pairs in the declared order.
    fn pairs(&self) -> Vec<(String, String)>;
}

/// The registry's constructor for a declared solver.
pub fn boxed<S: Declared + Solver + 'static>(setup: &Setup, p: Params) -> Result<Box<dyn Solver>> {
    Ok(Box::new(S::new(setup, p)?))
}

/// A parameter's value type: how it is read from its `--set` text, within a range, and printed.
pub trait Param: Sized {
    /// The value of `key` in `p`, or `default` when it is not given; `range` bounds numbers (`..`
    /// for none).
    fn read(p: &mut Params, key: &'static str, default: Self, range: impl RangeBounds<Self>) -> Result<Self>;
    /// The printed `key=value` pairs (one for most values; a group prints its own keys).
    fn pairs(&self, key: &str) -> Vec<(String, String)>;
}

impl Param for f64 {
    fn read(p: &mut Params, key: &'static str, default: Self, range: impl RangeBounds<Self>) -> Result<Self> {
        let lo = match range.start_bound() {
            Bound::Included(&lo) | Bound::Excluded(&lo) => lo,
            Bound::Unbounded => f64::NEG_INFINITY,
        };
        let hi = match range.end_bound() {
            Bound::Included(&hi) | Bound::Excluded(&hi) => hi,
            Bound::Unbounded => f64::INFINITY,
        };
        p.f64(key, default, lo, hi)
    }

    fn pairs(&self, key: &str) -> Vec<(String, String)> {
        vec![(key.into(), self.to_string())]
    }
}

impl Param for usize {
    fn read(p: &mut Params, key: &'static str, default: Self, range: impl RangeBounds<Self>) -> Result<Self> {
        let min = match range.start_bound() {
            Bound::Included(&lo) => lo,
            Bound::Excluded(&lo) => lo + 1,
            Bound::Unbounded => 0,
        };
        p.usize(key, default, min)
    }

    fn pairs(&self, key: &str) -> Vec<(String, String)> {
        vec![(key.into(), self.to_string())]
    }
}

/// A switch, given and printed as `1` or `0`.
impl Param for bool {
    fn read(p: &mut Params, key: &'static str, default: Self, _: impl RangeBounds<Self>) -> Result<Self> {
        p.flag(key, default)
    }

    fn pairs(&self, key: &str) -> Vec<(String, String)> {
        vec![(key.into(), (*self as u8).to_string())]
    }
}

/// A parameter that is one of a few words (a preset, a variant of the method).
pub trait Choice: Copy + PartialEq + 'static {
    /// Each word and the value it names.
    const WORDS: &'static [(&'static str, Self)];
    /// What the words mean, for the error on any other word: `"{solver} expects {EXPECTS}"`.
    const EXPECTS: &'static str;
}

impl<T: Choice> Param for T {
    fn read(p: &mut Params, key: &'static str, default: Self, _: impl RangeBounds<Self>) -> Result<Self> {
        let Some(w) = p.raw(key)? else {
            return Ok(default);
        };
        T::WORDS
            .iter()
            .find(|(k, _)| *k == w)
            .map(|&(_, v)| v)
            .ok_or_else(|| {
                Error::setting(
                    Setting::SolverParam(format!("{key}={w}")),
                    format!(": {} expects {}", p.solver, T::EXPECTS),
                )
            })
    }

    fn pairs(&self, key: &str) -> Vec<(String, String)> {
        let word = T::WORDS.iter().find(|(_, v)| v == self).map_or("?", |(k, _)| k);
        vec![(key.into(), word.into())]
    }
}

/// How a parameter is printed where not as its value type prints it (`show = ...` in
/// [`crate::solver_params!`]); `None` leaves it out of the settings.
pub mod show {
    /// Four decimal places (step sizes whose default is computed: DPS's ζ, RED-Diff's rate).
    pub fn places4(v: &f64) -> Option<String> {
        Some(format!("{v:.4}"))
    }

    /// Scientific notation (DAPS's Langevin step).
    pub fn exp(v: &f64) -> Option<String> {
        Some(format!("{v:e}"))
    }

    /// `auto` for 0, the value otherwise (a parameter whose 0 means "chosen per problem").
    pub fn auto_if_zero(v: &f64) -> Option<String> {
        Some(if *v > 0.0 { v.to_string() } else { "auto".into() })
    }

    /// Not printed (what the other settings already say, or a preset whose values they show).
    pub fn hidden<T>(_: &T) -> Option<String> {
        None
    }
}

/// Declares a solver's parameters once: the struct with its documented fields, [`Declared`] (the
/// registry name, reading `--set` pairs with defaults and ranges, the printed settings in the
/// declared order). Each field is one of
///
/// - `steps: usize = steps(DEFAULT);` — the number of steps, from `--steps` (printed under the
///   field's name: `steps`, or `levels` for a method that anneals over noise levels);
/// - `measure: bool = measure();` — the shared `measure` switch, read once by
///   [`super::create_for`];
/// - `name: T = set(DEFAULT[, RANGE]);` — a `--set name=...` parameter of a [`Param`] type, with
///   `RANGE` a Rust range (`0.0..=1.0`, `1..`) bounding numbers.
///
/// and may end in `, show = f` (`f: fn(&T) -> Option<String>`, see [`show`]) to print otherwise.
/// Defaults are expressions that may use the fields before them and, when the header names it
/// (`struct Dps("dps", kind)`), the operator's [`crate::operators::Kind`]. An optional
/// `check = f;` after the fields runs `f(&mut solver) -> Result<()>` once all are read.
///
/// Inside `impl Solver for ...`, `solver_params!(@solver);` writes `name` and `settings` from the
/// declaration (`solver_params!(@particle_solver);` also `gives_std`, for a particle solver).
#[macro_export]
macro_rules! solver_params {
    (@read $s:ident $p:ident $f:ident steps($d:expr)) => {
        $s.steps.unwrap_or($d)
    };
    (@read $s:ident $p:ident $f:ident measure()) => {{
        $p.mark("measure");
        $s.measure
    }};
    (@read $s:ident $p:ident $f:ident set($d:expr)) => {
        $crate::solvers::params::Param::read(&mut $p, stringify!($f), $d, ..)?
    };
    (@read $s:ident $p:ident $f:ident set($d:expr, $r:expr)) => {
        $crate::solvers::params::Param::read(&mut $p, stringify!($f), $d, $r)?
    };
    (@show $s:ident $f:ident) => {
        $crate::solvers::params::Param::pairs(&$s.$f, stringify!($f))
    };
    (@show $s:ident $f:ident $show:expr) => {
        ($show)(&$s.$f).map(|v| (stringify!($f).to_string(), v))
    };
    (@solver) => {
        fn name(&self) -> &'static str {
            Self::NAME
        }

        fn settings(&self) -> Vec<(String, String)> {
            $crate::solvers::params::Declared::pairs(self)
        }
    };
    (@particle_solver) => {
        $crate::solver_params!(@solver);

        fn gives_std(&self) -> bool {
            true
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($solver:literal $(, $kind:ident)?) {
            $(
                $(#[$fmeta:meta])*
                $field:ident: $ty:ty = $src:ident($($arg:tt)*) $(, show = $show:expr)?;
            )*
        }
        $(check = $check:expr;)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name {
            $(
                $(#[$fmeta])*
                pub $field: $ty,
            )*
        }

        impl $name {
            /// The registry name.
            pub const NAME: &'static str = $solver;
        }

        impl $crate::solvers::params::Declared for $name {
            const NAME: &'static str = $solver;

            fn new(
                setup: &$crate::solvers::params::Setup,
                mut p: $crate::solvers::params::Params,
            ) -> $crate::error::Result<Self> {
                $(let $kind = setup.caps.kind;)?
                $(let $field: $ty = $crate::solver_params!(@read setup p $field $src($($arg)*));)*
                p.finish()?;
                #[allow(unused_mut)]
                let mut s = $name { $($field),* };
                $(($check)(&mut s)?;)?
                Ok(s)
            }

            fn pairs(&self) -> Vec<(String, String)> {
                let mut out: Vec<(String, String)> = Vec::new();
                $(out.extend($crate::solver_params!(@show self $field $($show)?));)*
                out
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::super::{REGISTRY, create_for_task};

    /// Every solver takes back the settings it prints (the declaration is the one source of both):
    /// each printed key is a `--set` key, and feeding the values back changes nothing.
    #[test]
    fn printed_settings_read_back() {
        for e in REGISTRY {
            let task = if e.name.starts_with("blind") {
                "deblur-blind"
            } else {
                "inpaint-box"
            };
            let s = create_for_task(e.name, task, Some(20), &[]).unwrap();
            let printed = s.settings();
            let sets: Vec<(String, String)> = printed
                .iter()
                .filter(|(k, v)| k != "steps" && k != "levels" && v != "auto")
                .cloned()
                .collect();
            let again = create_for_task(e.name, task, Some(20), &sets)
                .unwrap_or_else(|err| panic!("{}: {err}", e.name));
            assert_eq!(again.settings(), printed, "{}", e.name);
            assert_eq!(again.name(), e.name);
        }
    }

    /// The particle solvers are those that say they give a standard deviation.
    #[test]
    fn particle_solvers_come_from_the_registry() {
        assert_eq!(
            super::super::particle_solvers(),
            ["tds", "smcdiff", "mcgdiff", "fps"]
        );
    }

    /// A word parameter names the solver and its words when given another.
    #[test]
    fn choices_name_the_words() {
        let sets = [("variance".to_string(), "x".to_string())];
        let err = create_for_task("dps", "sr", None, &sets)
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("dps expects learned") && err.contains("fixed"),
            "{err}"
        );
    }
}
