//! Noise schedules (ᾱ_t) and timestep respacing.

use crate::error::{Error, Result};
use std::path::Path;

/// What a model's output is (diffusers' `prediction_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prediction {
    /// The noise ε (`epsilon`).
    Epsilon,
    /// `v = sqrt(ᾱ) ε − sqrt(1 − ᾱ) x_0` (`v_prediction`, Salimans & Ho 2022; Stable Diffusion 2.x
    /// at 768²): ε = sqrt(ᾱ) v + sqrt(1 − ᾱ) x_t.
    V,
}

impl Prediction {
    /// The name `scheduler_config.json` gives it.
    pub fn name(self) -> &'static str {
        match self {
            Prediction::Epsilon => "epsilon",
            Prediction::V => "v_prediction",
        }
    }
}

/// A discrete variance-preserving noise schedule over `T` training steps: `x_t = sqrt(ᾱ_t) x_0 +
/// sqrt(1 - ᾱ_t) ε`, with `t` in `0..T` (diffusers' indexing).
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// β_t.
    pub betas: Vec<f64>,
    /// ᾱ_t = Π_{s<=t} (1 - β_s).
    pub alphas_cumprod: Vec<f64>,
    /// Clip Tweedie's x̂0 to [-1, 1] in the sampler updates (diffusers' `clip_sample`).
    pub clip_sample: bool,
}

impl Schedule {
    fn from_betas(betas: Vec<f64>) -> Self {
        let mut acc = 1.0;
        let alphas_cumprod = betas
            .iter()
            .map(|b| {
                acc *= 1.0 - b;
                acc
            })
            .collect();
        Schedule {
            betas,
            alphas_cumprod,
            clip_sample: true,
        }
    }

    /// Linear betas from `start` to `end` (DDPM: 1e-4 to 0.02 over 1000 steps).
    pub fn linear(t: usize, start: f64, end: f64) -> Self {
        let d = if t > 1 {
            (end - start) / (t - 1) as f64
        } else {
            0.0
        };
        Self::from_betas((0..t).map(|i| start + d * i as f64).collect())
    }

    /// Betas linear in sqrt(β) (latent diffusion's "scaled_linear").
    pub fn scaled_linear(t: usize, start: f64, end: f64) -> Self {
        let (a, b) = (start.sqrt(), end.sqrt());
        let d = if t > 1 { (b - a) / (t - 1) as f64 } else { 0.0 };
        Self::from_betas((0..t).map(|i| (a + d * i as f64).powi(2)).collect())
    }

    /// The cosine schedule of Nichol & Dhariwal 2021 (diffusers' "squaredcos_cap_v2"), β capped at 0.999.
    pub fn cosine(t: usize) -> Self {
        let f = |u: f64| ((u + 0.008) / 1.008 * std::f64::consts::FRAC_PI_2).cos().powi(2);
        Self::from_betas(
            (0..t)
                .map(|i| (1.0 - f((i + 1) as f64 / t as f64) / f(i as f64 / t as f64)).min(0.999))
                .collect(),
        )
    }

    /// The DDPM default: linear 1e-4 to 0.02 over 1000 steps.
    pub fn ddpm_default() -> Self {
        Self::linear(1000, 1e-4, 0.02)
    }

    /// Reads diffusers' `scheduler_config.json` from a model directory if it has one, else returns the
    /// DDPM default.
    pub fn for_model_dir(dir: &Path) -> Result<Self> {
        let p = dir.join("scheduler_config.json");
        if !p.is_file() {
            return Ok(Self::ddpm_default());
        }
        let text = std::fs::read_to_string(&p).map_err(|e| crate::error::io_err(&p, e))?;
        Self::from_json(&text, &p.display().to_string())
    }

    /// [`Self::for_model_dir`] for a model that may predict `v` as well as ε: the schedule and what
    /// its `prediction_type` says the model predicts (ε without a file).
    pub fn for_model_dir_predicting(dir: &Path) -> Result<(Self, Prediction)> {
        let p = dir.join("scheduler_config.json");
        if !p.is_file() {
            return Ok((Self::ddpm_default(), Prediction::Epsilon));
        }
        let text = std::fs::read_to_string(&p).map_err(|e| crate::error::io_err(&p, e))?;
        Self::from_json_predicting(&text, &p.display().to_string())
    }

    /// Parses the text of a diffusers `scheduler_config.json`; `name` is what errors call it (the
    /// file's path, or where the bytes came from). Refuses a `prediction_type` other than
    /// `epsilon` (a caller that converts `v` uses [`Self::from_json_predicting`]).
    pub fn from_json(text: &str, name: &str) -> Result<Self> {
        let (s, pred) = Self::from_json_predicting(text, name)?;
        if pred != Prediction::Epsilon {
            return Err(Error::Model(format!(
                "{name}: prediction_type {:?} is not supported here; this model must predict epsilon (tweedie converts v_prediction for diffusers' UNet2DConditionModel only)",
                pred.name()
            )));
        }
        Ok(s)
    }

    /// [`Self::from_json`], accepting `prediction_type` `epsilon` (the default) and `v_prediction`,
    /// and returning which.
    pub fn from_json_predicting(text: &str, name: &str) -> Result<(Self, Prediction)> {
        let p = name;
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::Model(format!("{p} is not valid JSON: {e}")))?;
        // every number is checked where it enters, naming the file and the key: a negative beta_start
        // or a beta_end of 5 gave all-black samples, num_train_timesteps 0 was blamed on --steps
        let num = |k: &str, d: f64, lo: f64, hi: f64| -> Result<f64> {
            let Some(x) = v.get(k) else { return Ok(d) };
            match x.as_f64() {
                Some(n) if n.is_finite() && n >= lo && n <= hi => Ok(n),
                _ => Err(Error::Model(format!(
                    "{}: {k} is {x}, where it must be a number in [{lo}, {hi}]; fix the file or remove \
                     the key (default {d})",
                    p
                ))),
            }
        };
        let t = num("num_train_timesteps", 1000.0, 1.0, 100_000.0)?;
        if t.fract() != 0.0 {
            return Err(Error::Model(format!(
                "{}: num_train_timesteps is {t}, where it must be a whole number",
                p
            )));
        }
        let t = t as usize;
        let prediction = match v.get("prediction_type") {
            None | Some(serde_json::Value::Null) => Prediction::Epsilon,
            Some(x) => match x.as_str() {
                Some("epsilon") => Prediction::Epsilon,
                Some("v_prediction") => Prediction::V,
                _ => {
                    return Err(Error::Model(format!(
                        "{}: prediction_type {x} is not supported; tweedie runs models that predict epsilon or v_prediction",
                        p
                    )));
                }
            },
        };
        let (b0, b1) = (
            num("beta_start", 1e-4, 1e-12, 0.999)?,
            num("beta_end", 0.02, 1e-12, 0.999)?,
        );
        if b0 > b1 {
            return Err(Error::Model(format!(
                "{}: beta_start {b0} is above beta_end {b1}: the noise levels must grow with t",
                p
            )));
        }
        let mut s = match v
            .get("beta_schedule")
            .and_then(|x| x.as_str())
            .unwrap_or("linear")
        {
            "linear" => Self::linear(t, b0, b1),
            "scaled_linear" => Self::scaled_linear(t, b0, b1),
            "squaredcos_cap_v2" => Self::cosine(t),
            other => {
                return Err(Error::Model(format!(
                    "{}: beta_schedule {other:?} is not supported (linear, scaled_linear, squaredcos_cap_v2)",
                    p
                )));
            }
        };
        s.clip_sample = v.get("clip_sample").and_then(|x| x.as_bool()).unwrap_or(true);
        Ok((s, prediction))
    }

    /// Number of training steps T.
    pub fn len(&self) -> usize {
        self.betas.len()
    }

    /// Whether the schedule is empty.
    pub fn is_empty(&self) -> bool {
        self.betas.is_empty()
    }

    /// ᾱ at timestep `t`, with ᾱ = 1 before the first step (`t = None`).
    pub fn alpha_bar(&self, t: Option<usize>) -> f64 {
        t.map_or(1.0, |t| self.alphas_cumprod[t])
    }

    /// Tweedie's formula on the host: `x̂0 = (x_t - sqrt(1-ᾱ_t) ε) / sqrt(ᾱ_t)`.
    pub fn x0_coefficients(&self, t: usize) -> (f64, f64) {
        let ab = self.alphas_cumprod[t];
        (1.0 / ab.sqrt(), -(1.0 - ab).sqrt() / ab.sqrt())
    }

    /// The forward process from timestep `s` (`None`: from x0) to a later `t`:
    /// `x_t = a x_s + b ε` with `a = sqrt(ᾱ_t / ᾱ_s)`, `b = sqrt(1 − ᾱ_t / ᾱ_s)`.
    pub fn q_coefficients(&self, s: Option<usize>, t: usize) -> (f64, f64) {
        let r = self.alpha_bar(Some(t)) / self.alpha_bar(s);
        (r.sqrt(), (1.0 - r).sqrt())
    }

    /// σ of timestep `t` in variance-exploding units, `sqrt((1 − ᾱ_t) / ᾱ_t)` (0 at the end,
    /// `None`).
    pub fn ve_sigma(&self, t: Option<usize>) -> f64 {
        let ab = self.alpha_bar(t);
        ((1.0 - ab) / ab).sqrt()
    }

    /// The reverse step from timestep `t` to the earlier `s` (`None`: the end of sampling, ᾱ = 1)
    /// with DDIM's stochasticity `eta`: the DDPM posterior `q(x_s | x_t, x̂0)` and DDIM's update
    /// (see [`Transition`]). The one place these coefficients are written.
    pub fn transition(&self, t: usize, s: Option<usize>, eta: f64) -> Transition {
        let ab_t = self.alpha_bar(Some(t));
        let ab_s = self.alpha_bar(s);
        let alpha = ab_t / ab_s;
        let beta = 1.0 - alpha;
        let sigma = eta * ((1.0 - ab_s) / (1.0 - ab_t)).sqrt() * (1.0 - ab_t / ab_s).max(0.0).sqrt();
        Transition {
            ab_t,
            ab_s,
            beta,
            c_x0: ab_s.sqrt() * beta / (1.0 - ab_t),
            c_x: alpha.sqrt() * (1.0 - ab_s) / (1.0 - ab_t),
            var: beta * (1.0 - ab_s) / (1.0 - ab_t),
            sigma,
            c_eps: (1.0 - ab_s - sigma * sigma).max(0.0).sqrt(),
        }
    }
}

/// The coefficients of one reverse step from `x_t` to `x_s` ([`Schedule::transition`]).
///
/// DDPM (Ho et al. 2020): the posterior `q(x_s | x_t, x̂0) = N(c_x0 x̂0 + c_x x_t, var)`.
/// DDIM (Song et al. 2021): `x_s = sqrt(ᾱ_s) x̂0 + c_eps ε + σ z`, with η = 1 giving DDPM's
/// variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// ᾱ_t.
    pub ab_t: f64,
    /// ᾱ_s (1 at the end).
    pub ab_s: f64,
    /// β of the respaced step, `1 − ᾱ_t / ᾱ_s`.
    pub beta: f64,
    /// The DDPM posterior mean's coefficient of x̂0, `sqrt(ᾱ_s) β / (1 − ᾱ_t)`.
    pub c_x0: f64,
    /// The DDPM posterior mean's coefficient of x_t, `sqrt(ᾱ_t / ᾱ_s) (1 − ᾱ_s) / (1 − ᾱ_t)`.
    pub c_x: f64,
    /// The DDPM posterior variance β̃ = `β (1 − ᾱ_s) / (1 − ᾱ_t)` ("fixed small").
    pub var: f64,
    /// DDIM's σ: `η sqrt((1 − ᾱ_s) / (1 − ᾱ_t)) sqrt(1 − ᾱ_t / ᾱ_s)`.
    pub sigma: f64,
    /// DDIM's coefficient of ε: `sqrt(1 − ᾱ_s − σ²)`.
    pub c_eps: f64,
}

/// `steps` timesteps out of `t_train`, evenly strided and descending, ending at 0 (diffusers'
/// "leading" spacing: `i * (T / steps)`). Errors if `steps` is 0 or more than `t_train`.
pub fn respace(t_train: usize, steps: usize) -> Result<Vec<usize>> {
    if steps == 0 || steps > t_train {
        return Err(Error::Input(format!(
            "{steps} sampling steps: choose between 1 and the model's {t_train} training steps"
        )));
    }
    let ratio = t_train as f64 / steps as f64;
    let mut ts: Vec<usize> = (0..steps).map(|i| (i as f64 * ratio).floor() as usize).collect();
    ts.dedup();
    ts.reverse();
    Ok(ts)
}

/// `steps` timesteps out of `t_train` on DiffPIR's quadratic spacing (yuanzhi-zhu/DiffPIR,
/// `skip_type = 'quad'`): `t_i = T − 1 − ⌊sqrt(i T² / (steps − 1))⌋`, descending from `T − 1` to 0 and
/// dense near 0, where the data step matters most. Errors as [`respace`].
pub fn respace_quad(t_train: usize, steps: usize) -> Result<Vec<usize>> {
    respace(t_train, steps)?;
    if steps == 1 {
        return Ok(vec![t_train - 1]);
    }
    let tt = (t_train * t_train) as f64;
    let mut ts: Vec<usize> = (0..steps)
        .map(|i| {
            let s = ((i as f64 * tt / (steps - 1) as f64).sqrt().floor() as usize).min(t_train - 1);
            t_train - 1 - s
        })
        .collect();
    ts.dedup();
    Ok(ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_schedule_matches_ddpm() {
        let s = Schedule::ddpm_default();
        assert_eq!(s.len(), 1000);
        assert!((s.betas[0] - 1e-4).abs() < 1e-15 && (s.betas[999] - 0.02).abs() < 1e-15);
        // ᾱ_999 of the DDPM schedule is about 4.04e-5
        assert!(
            (s.alphas_cumprod[999] - 4.035e-5).abs() < 1e-7,
            "{}",
            s.alphas_cumprod[999]
        );
        let c = Schedule::cosine(1000);
        assert!(c.alphas_cumprod.windows(2).all(|w| w[1] < w[0]));
    }

    #[test]
    fn transition_is_ddpm_at_eta_1_and_forward_noising_inverts_from_x0() {
        let s = Schedule::ddpm_default();
        let tr = s.transition(500, Some(480), 1.0);
        assert!((tr.sigma - tr.var.sqrt()).abs() < 1e-12);
        assert!((tr.c_eps * tr.c_eps + tr.sigma * tr.sigma + tr.ab_s - 1.0).abs() < 1e-12);
        let end = s.transition(20, None, 0.3);
        assert!(end.sigma == 0.0 && end.c_eps.abs() < 1e-12 && end.c_x.abs() < 1e-12);
        let (a, b) = s.q_coefficients(None, 300);
        let ab = s.alpha_bar(Some(300));
        assert!(a == ab.sqrt() && b == (1.0 - ab).sqrt());
        // two forward hops compose into one
        let (a1, b1) = s.q_coefficients(None, 100);
        let (a2, b2) = s.q_coefficients(Some(100), 300);
        assert!((a1 * a2 - a).abs() < 1e-12 && ((a2 * b1).powi(2) + b2 * b2 - b * b).abs() < 1e-12);
    }

    #[test]
    fn respacing_is_strided_and_descending() {
        assert_eq!(respace(1000, 4).unwrap(), vec![750, 500, 250, 0]);
        assert_eq!(respace(10, 10).unwrap(), (0..10).rev().collect::<Vec<_>>());
        assert!(respace(10, 0).is_err() && respace(10, 11).is_err());
    }

    #[test]
    fn quadratic_spacing_is_diffpirs() {
        // DiffPIR's seq for 20 steps starts 0, 229, 324 (t = 999, 770, 675) and ends at t = 0
        let q = respace_quad(1000, 20).unwrap();
        assert_eq!(&q[..3], &[999, 770, 675]);
        assert_eq!(q.last(), Some(&0));
        assert!(q.windows(2).all(|w| w[1] < w[0]));
    }
}
