//! Measurement noise models: Gaussian (`σ_y`, the default everywhere) and Poisson shot noise.
//!
//! `gaussian:sigma=S`: `y = A x + S n`, `n ~ N(0, I)`, in [-1, 1] image units (DPS's σ_y), drawn on
//! the device from the Philox stream of the seed ([`add_noise`](super::add_noise)).
//!
//! `poisson:rate=R`: photon counting on the measurement as an intensity, as the DPS code's
//! `PoissonNoise` (DPS2022/diffusion-posterior-sampling, `guided_diffusion/measurements.py`):
//!
//! ```text
//! u  = clamp((A x + 1) / 2, 0, 1)                    intensity in [0, 1]
//! k  ~ Poisson(255 R u)                              photon counts (255 R at full white)
//! y  = clamp(2 k / (255 R) − 1, −1, 1)               back to [-1, 1] (E[y] = A x below the clip)
//! ```
//!
//! so the noise of a pixel has standard deviation `2 sqrt(u / (255 R))` in [-1, 1] units (0.125 at
//! full white for `R = 1`, the DPS paper's setting; it falls as R grows), and a count above
//! 255 R is clipped to white as the official code clips. With `R = 1` every y is a whole number of
//! 255ths, which an 8-bit PNG stores exactly. Only measurements that are pictures (inpainting,
//! super-resolution, deblurring, denoising, colorization, HDR) count photons; the sampler runs on
//! the host ([`poisson`]), deterministic per seed and element (a counter-based generator: the same
//! seed gives the same y on every machine).

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// A measurement's noise model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// Additive white Gaussian noise of standard deviation `sigma`, in [-1, 1] units.
    Gaussian {
        /// σ_y.
        sigma: f64,
    },
    /// Poisson shot noise: `255 · rate` photons at full white (see the module notes).
    Poisson {
        /// R: the photon count at full white is `255 R`.
        rate: f64,
    },
}

/// The solvers' word for the noise kinds, for messages.
pub const NOISE_KINDS: &str = "gaussian:sigma=S (σ_y in [-1, 1] units) or poisson:rate=R (R > 0: \
     255·R photons at full white)";

/// The largest Poisson rate taken: 255·10⁶ photons at white is far past where shot noise matters.
pub const MAX_RATE: f64 = 1e6;

impl std::str::FromStr for Noise {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let spec: super::TaskSpec = s.parse().map_err(|_| bad(s, "is not kind:key=value"))?;
        let value = |key: &str| -> Result<f64> {
            if let Some((k, _)) = spec.params.iter().find(|(k, _)| k != key) {
                return Err(bad(s, &format!("{} takes only {key}, not {k}", spec.name)));
            }
            let v = spec
                .get(key)
                .ok_or_else(|| bad(s, &format!("{} needs {key}=…", spec.name)))?;
            v.parse::<f64>()
                .map_err(|_| bad(s, &format!("{key}={v} is not a number")))
        };
        match spec.name.as_str() {
            "gaussian" => {
                let sigma = value("sigma")?;
                if !(sigma.is_finite() && (0.0..=100.0).contains(&sigma)) {
                    return Err(bad(s, "sigma must be a number in [0, 100] ([-1, 1] image units)"));
                }
                Ok(Noise::Gaussian { sigma })
            }
            "poisson" => {
                let rate = value("rate")?;
                if !(rate.is_finite() && rate > 0.0 && rate <= MAX_RATE) {
                    return Err(bad(
                        s,
                        &format!(
                            "rate must be a number above 0 and at most {MAX_RATE} (1 is the DPS paper's)"
                        ),
                    ));
                }
                Ok(Noise::Poisson { rate })
            }
            other => Err(bad(s, &format!("unknown noise kind {other:?}"))),
        }
    }
}

fn bad(s: &str, why: &str) -> Error {
    Error::Input(format!("--noise {s}: {why}; noise models: {NOISE_KINDS}"))
}

impl std::fmt::Display for Noise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Noise::Gaussian { sigma } => write!(f, "gaussian:sigma={sigma}"),
            Noise::Poisson { rate } => write!(f, "poisson:rate={rate}"),
        }
    }
}

impl Noise {
    /// The Poisson rate, `None` for Gaussian noise.
    pub fn poisson_rate(&self) -> Option<f64> {
        match self {
            Noise::Poisson { rate } => Some(*rate),
            Noise::Gaussian { .. } => None,
        }
    }

    /// The noisy measurement of the clean `y` (`A x`) with noise drawn from the stream `seed`:
    /// Gaussian on the device, Poisson on the host (see the module notes).
    pub fn apply(&self, y: &Tensor, seed: u64) -> Result<Tensor> {
        match *self {
            Noise::Gaussian { sigma } => super::add_noise(y, sigma, seed),
            Noise::Poisson { rate } => {
                let v = poisson_counts(&y.to_vec()?, rate, seed);
                Tensor::from_slice(y.gpu(), y.shape(), &v)
            }
        }
    }
}

/// The Poisson measurement of clean values `y` in [-1, 1] at `rate` (the module notes' formula),
/// element `i` drawn from the counter-based stream `(seed, i)`.
pub fn poisson_counts(y: &[f32], rate: f64, seed: u64) -> Vec<f32> {
    let peak = 255.0 * rate;
    y.iter()
        .enumerate()
        .map(|(i, &v)| {
            let u = ((v as f64 + 1.0) / 2.0).clamp(0.0, 1.0);
            let mut rng = Stream::new(seed, i as u64);
            let k = poisson(peak * u, &mut rng);
            (2.0 * k / peak - 1.0).clamp(-1.0, 1.0) as f32
        })
        .collect()
}

/// A counter-based uniform stream (SplitMix64 of the seed and the element's index): element `i`
/// draws the same numbers whatever order the elements are drawn in.
pub struct Stream(u64);

impl Stream {
    const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

    /// The stream of element `index` under `seed`.
    pub fn new(seed: u64, index: u64) -> Stream {
        let s = Self::mix(seed ^ 0x0005_EED0_F901_5508);
        Stream(Self::mix(s.wrapping_add(index.wrapping_mul(Self::GOLDEN))))
    }

    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in [0, 1) (53 bits).
    pub fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(Self::GOLDEN);
        (Self::mix(self.0) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One Poisson draw of mean `lambda` (≥ 0) as an f64 count: by multiplying uniforms below 30
/// (Knuth), else by Hörmann's transformed rejection with squeeze (PTRS, "The transformed rejection
/// method for generating Poisson random variables", 1993), exact for every mean.
pub fn poisson(lambda: f64, rng: &mut Stream) -> f64 {
    if lambda <= 0.0 || !lambda.is_finite() {
        return 0.0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let mut k = 0.0;
        let mut p = rng.uniform();
        while p > limit {
            k += 1.0;
            p *= rng.uniform();
        }
        return k;
    }
    let slam = lambda.sqrt();
    let loglam = lambda.ln();
    let b = 0.931 + 2.53 * slam;
    let a = -0.059 + 0.02483 * b;
    let inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
    let vr = 0.9277 - 3.6224 / (b - 2.0);
    loop {
        let u = rng.uniform() - 0.5;
        let v = rng.uniform();
        let us = 0.5 - u.abs();
        let k = ((2.0 * a / us + b) * u + lambda + 0.43).floor();
        if us >= 0.07 && v <= vr {
            return k;
        }
        if k < 0.0 || (us < 0.013 && v > us) {
            continue;
        }
        if v.ln() + inv_alpha.ln() - (a / (us * us) + b).ln() <= -lambda + k * loglam - ln_gamma(k + 1.0) {
            return k;
        }
    }
}

/// `ln Γ(x)` for `x ≥ 1`: Stirling's series (error below 1e-10 from 7 on), shifted up from smaller
/// `x` by the recurrence.
fn ln_gamma(x: f64) -> f64 {
    let (mut x, mut shift) = (x, 0.0);
    while x < 7.0 {
        shift -= x.ln();
        x += 1.0;
    }
    let r = 1.0 / x;
    let r2 = r * r;
    shift + (x - 0.5) * x.ln() - x
        + 0.5 * (2.0 * std::f64::consts::PI).ln()
        + r * (1.0 / 12.0 - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 / 1680.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The draws have the Poisson mean and variance at small and large means (both branches),
    /// and the same seed gives the same draws.
    #[test]
    fn poisson_draws_have_the_poisson_moments() {
        for &lambda in &[0.5, 3.0, 29.0, 31.0, 255.0, 5000.0] {
            let n = 40_000u64;
            let draws: Vec<f64> = (0..n).map(|i| poisson(lambda, &mut Stream::new(7, i))).collect();
            let mean = draws.iter().sum::<f64>() / n as f64;
            let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64;
            let se = (lambda / n as f64).sqrt();
            assert!((mean - lambda).abs() < 5.0 * se, "λ {lambda}: mean {mean}");
            assert!((var / lambda - 1.0).abs() < 0.05, "λ {lambda}: variance {var}");
            assert!(draws.iter().all(|d| *d >= 0.0 && d.fract() == 0.0));
        }
        let y = [-1.0, -0.2, 0.4, 1.0];
        assert_eq!(poisson_counts(&y, 1.0, 3), poisson_counts(&y, 1.0, 3));
        assert_ne!(poisson_counts(&y, 1.0, 3), poisson_counts(&y, 1.0, 4));
        assert_eq!(poisson_counts(&[-1.0], 1.0, 3), vec![-1.0]);
    }

    /// `ln Γ` against exact factorials.
    #[test]
    fn ln_gamma_matches_factorials() {
        let mut f = 1.0f64;
        for n in 1..30 {
            assert!((ln_gamma(n as f64) - f.ln()).abs() < 1e-9, "Γ({n})");
            f *= n as f64;
        }
    }

    /// Parsing: the two kinds, and clear errors for the rest.
    #[test]
    fn noise_specs_parse_or_say_why_not() {
        assert_eq!(
            "poisson:rate=2".parse::<Noise>().unwrap(),
            Noise::Poisson { rate: 2.0 }
        );
        assert_eq!(
            "gaussian:sigma=0.1".parse::<Noise>().unwrap(),
            Noise::Gaussian { sigma: 0.1 }
        );
        assert_eq!(
            "poisson:rate=0.5".parse::<Noise>().unwrap().to_string(),
            "poisson:rate=0.5"
        );
        for bad in [
            "poisson:rate=0",
            "poisson:rate=-1",
            "poisson:rate=NaN",
            "poisson",
            "laplace:b=1",
            "poisson:rate=1,x=2",
            "gaussian:sigma=inf",
        ] {
            let e = bad.parse::<Noise>().unwrap_err().to_string();
            assert!(
                e.contains("--noise") && e.contains("poisson:rate=R"),
                "{bad}: {e}"
            );
        }
    }
}
