//! GibbsDDRM: DDRM steps for the image given the current blur kernel, interleaved with updates of
//! the kernel given the image — a partially collapsed Gibbs sampler over (x_t, φ).
//!
//! Murata, Saito, Lai, Takida, Uesaka, Mitsufuji, Ermon, "GibbsDDRM: A Partially Collapsed Gibbs
//! Sampler for Solving Blind Inverse Problems with Denoising Diffusion Restoration", ICML 2023
//! (arXiv 2301.12686); official code sony/gibbsddrm (`functions/denoising.py`,
//! `sample_gibbsddrm`, `update_x`, `calc_vars_for_xupdate`; `functions/svd_replacement.py`,
//! `DeblurringArbitral2D`; `configs/ffhq_256_deblur.yml`).
//!
//! **The operator's SVD for the current kernel.** As in the official `DeblurringArbitral2D`, the
//! blur is embedded in a circular convolution `C` on an `N × N` grid (`N` the power of two at or
//! above `H + K − 1`, so nothing wraps onto the image), diagonalised by the orthonormal DFT:
//! `F(C X) = K̂ ⊙ F(X)` with `K̂ = N · DFT(φ placed about the origin)`, `s = |K̂|` (`s(0) = Σφ = 1`).
//! The image sits in the middle of the grid, and the observed window of `C X` is exactly the
//! zero-padded same-size blur `A_φ x` the operator makes. In real arithmetic: `V` is the 2-D
//! Hartley transform of the embedded image (`Vᵀx = Re F(Ex) − Im F(Ex)`, `V z` its window after
//! the inverse, which is the same transform), and `U` carries K̂'s phase:
//! `Uᵀ y' = (Re − Im)(conj(K̂) ⊙ F y') / |K̂|`, so that `Uᵀ C E x = s ⊙ Vᵀ x`. (The official code
//! puts the phase on `V` instead and works with complex coordinates; the two factorisations are the
//! same SVD.) Singular values below `min_singular` (the official `ZERO = 0.05`) count as zero.
//! The observation covers the window only: the rest of the grid is filled in
//! (`conv_type: same_interp`, `interp_y_0`) with `C E x̂0 + σ_y ξ`, from Tweedie's x̂0 once
//! `t < 0.7 T` and from `y` itself before.
//!
//! **One step**, from `t` to the next timestep `s` (`sample_gibbsddrm`):
//!
//! ```text
//! x̂0, ε    = Tweedie(x_t, ε_θ(x_t, t))
//! x_s      = V · DDRM(Vᵀx̂0, Vᵀε, Uᵀy', s_φ)                 (Kawar et al. eq. 7–8, see Ddrm)
//! if t ≤ 0.7 T, `sweeps` times (the official iter_Hupdate = 3, resample_after_Hupdate):
//!     x̂0'  = Tweedie(x_s, ε_θ(x_s, s))
//!     φ    ← Π_Δ(φ moved `kernel_iters` times down ‖y − A_φ x̂0'‖² + Langevin noise)
//!     x_s  = V · DDRM(Vᵀx̂0, Vᵀε, Uᵀy', s_φ)                 (the same x̂0, ε; the new φ)
//! ```
//!
//! Defaults from the official FFHQ/AFHQ deblurring config: 100 steps, η_b = 0.9, η = 0.8, three
//! kernel updates per step from 0.7 T on, `ZERO` = 0.05, the kernel starting at a centred Gaussian
//! (`kernel_corruption: gauss_init`; here the task's `deblur-blind:init_sigma`, size/6).
//!
//! Deviations, stated:
//! - **The kernel's step.** The official update is 500 steps of plain Langevin dynamics
//!   `φ ← φ − (λ/2) ∇U + sqrt(λ) ξ` on `U = ‖y − A_φ x̂0'‖² / (2 · 0.04²) + 1000 ‖φ‖₁` with
//!   λ = 1e-11, then φ / Σφ. That rate is tuned to 256² × 3 images and 64² kernels, and the
//!   gradient's scale follows x̂0's contrast. Here the drift is Adam's (rate `kernel_lr` 5e-3,
//!   `kernel_iters` = 5 steps per update, one Adam state for the whole run), as in [`super::BlindDps`],
//!   and the diffusion is one Gaussian kick of the kernel posterior's scale per update,
//!   `σ_y / ‖x̂0'‖` per entry (the inverse square root of the Fisher information's diagonal,
//!   `Σ_i x̂0'²_i / σ_y²`). The kernel is then projected onto the simplex (non-negative, summing to
//!   one), the prior of the other blind solvers; the official ℓ1 term is constant there and its
//!   renormalisation is part of the projection.
//! - **One η.** The shared DDRM kernel (`shaders/spectral.wgsl`) has one η where the official code
//!   has η_D = 0.8 on the unseen coordinates and (η_A, η_C) = (0, 0.8) on those seen less noisily
//!   than x_t: η = 0.8 matches the unseen ones exactly and weights the residual of the others by 0.6
//!   (its noise by 0.8) instead of 0.8 (0.6).
//! - The DDRM noise is drawn white in the `N × N` spectral coordinates (the official draws it on
//!   the image and maps it through `Vᵀ`); Tweedie's x̂0 is clamped when the schedule says so (the
//!   official does not clamp).
//!
//! φ is updated in the operator in place, as for the other blind solvers, so `restore` writes the
//! estimate beside the output; one kernel serves the whole batch. `--set eta=…,eta_b=…,
//! min_singular=…,sweeps=…,kernel_iters=…,kernel_lr=…,kernel_start=…,measure=0|1` (`measure=0`:
//! every coordinate unseen — DDIM with η — and the kernel never moves).
//!
//! Measured (`examples/blind_deblur.rs --solver gibbs-ddrm`: 9×9 kernels, σ_y = 0.02, the kernel
//! starting at Gaussian σ 1.5; mean PSNR, kernel relative error start → end; Gaussian σ 1.0 /
//! σ 2.0 / motion, observations in brackets): on held-out images 4–7 at 100 steps 25.74 / 20.81 /
//! 27.65 dB [18.13 / 14.93 / 15.14], kernel 0.46 → 0.13, 0.42 → 0.16, 0.74 → 0.13 (blind-dps there:
//! 23.24 / 19.38 / 20.31; RED-Diff given the true kernel 23.28 / 19.18 / 20.54), 67–106 s / image
//! on lavapipe (2-core VM, loaded). Defaults untuned: on images 0–3 at 20 steps 27.12 / 21.68 /
//! 27.77 [18.28 / 14.32 / 14.37]. Fewest steps 3: on images 4–7 at 3 steps 18.39 / 16.89 / 16.42
//! (above the observation), at 2 steps 17.42 / 15.57 / 15.65, at 1 step 7.68 (the chain starts at
//! t = 0, and no kernel update runs).

use super::spectral::{DdrmStep, ddrm_step};
use super::{Problem, Run, Solver, Stepped, check_blind_problem, next_t, timesteps};
use crate::autograd;
use crate::diffusion::{randn, tweedie};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::ops::{self, Adam, MatmulSpec, Spectral};
use crate::solver_params;
use crate::tensor::Tensor;

solver_params! {
    /// GibbsDDRM: DDRM with the blur's FFT-diagonal SVD, Gibbs updates of the kernel.
    pub struct GibbsDdrm("gibbs-ddrm") {
        /// Number of respaced steps.
        steps: usize = steps(100);
        /// η (stochasticity of the unseen and less-noisy coordinates; the official η_C = η_D).
        eta: f64 = set(0.8, 0.0..=1.0);
        /// η_b (weight of the measurement where it is noisier than `x_t`).
        eta_b: f64 = set(0.9, 0.0..=1.0);
        /// Singular values below this count as zero (the official `ZERO`).
        min_singular: f64 = set(0.05, 0.0..);
        /// Kernel updates (each followed by a resample of `x`) per step once the kernel moves.
        sweeps: usize = set(3);
        /// Adam steps of the kernel per update.
        kernel_iters: usize = set(5, 1..);
        /// Adam's learning rate for the kernel.
        kernel_lr: f64 = set(5e-3, 1e-8..=1.0);
        /// The kernel moves (and `y` is filled in from x̂0) once `t` is below this fraction of T.
        kernel_start: f64 = set(0.7, 0.0..=1.0);
        /// Whether the measurement is used at all (without it the kernel never moves).
        measure: bool = measure();
    }
}

/// The side of the FFT grid for an `h × w` image and a `k × k` kernel: the power of two at or
/// above `max(h, w) + k − 1`.
fn grid_side(h: usize, w: usize, k: usize) -> Result<usize> {
    let n = (h.max(w) + k - 1).next_power_of_two();
    if n > ops::MAX_FFT_SIDE {
        return Err(Error::Input(format!(
            "gibbs-ddrm diagonalises the blur with an FFT of side {n} (image {h}x{w}, kernel {k}), \
             beyond the largest the engine runs ({}): use a smaller image or kernel, or blind-dps",
            ops::MAX_FFT_SIDE
        )));
    }
    Ok(n)
}

/// A small constant matrix on the device.
fn constant(gpu: &Gpu, shape: &[usize], v: &[f32]) -> Result<Tensor> {
    Tensor::from_slice(gpu, shape, v)
}

/// The blur's circulant embedding and its SVD for one kernel (see the module notes).
struct Fourier {
    /// Grid side N, image size.
    n: usize,
    h: usize,
    w: usize,
    /// `[2, 1]` (1, −1): `Re − Im`; `[2, 2]` matrices: (1 + i)·, swap, and the three maps from K̂.
    re_minus_im: Tensor,
    one_plus_i: Tensor,
    swap: Tensor,
    to_kc: Tensor,
    to_ks: Tensor,
    to_ut: Tensor,
    /// `[2, 1]` ones and `[1, 2]` ones.
    pair_sum: Tensor,
    pair_spread: Tensor,
    /// N e^{−2πi (f1 + f2) d / N} as `(e_r, −e_r)` and `(e_i, e_i)`, `[N, N, 2]`: conj(F φ) to K̂.
    shift_c: Tensor,
    shift_s: Tensor,
    /// 1 outside the image's window of the grid, 0 inside, `[N, N]`.
    outside: Tensor,
}

/// What depends on the kernel: K̂ as the two broadcast factors of a complex product, the map of
/// `Uᵀ`, and the thresholded singular values.
struct Spectrum {
    kc: Tensor,
    ks: Tensor,
    ut: Tensor,
    s: Tensor,
}

impl Fourier {
    fn new(gpu: &Gpu, h: usize, w: usize, k: usize) -> Result<Self> {
        let n = grid_side(h, w, k)?;
        // the kernel's centre sits at (N − k)/2 + k/2 on the grid (embed_complex centres it)
        let d = ((n - k) / 2 + k / 2) as f64;
        let mut shift_c = vec![0f32; n * n * 2];
        let mut shift_s = vec![0f32; n * n * 2];
        for f1 in 0..n {
            for f2 in 0..n {
                let a = -std::f64::consts::TAU * ((f1 + f2) as f64 * d) / n as f64;
                let (er, ei) = (n as f64 * a.cos(), n as f64 * a.sin());
                let i = 2 * (f1 * n + f2);
                shift_c[i] = er as f32;
                shift_c[i + 1] = -er as f32;
                shift_s[i] = ei as f32;
                shift_s[i + 1] = ei as f32;
            }
        }
        let (oh, ow) = ((n - h) / 2, (n - w) / 2);
        let outside: Vec<f32> = (0..n * n)
            .map(|q| {
                let (i, j) = (q / n, q % n);
                let inside = (oh..oh + h).contains(&i) && (ow..ow + w).contains(&j);
                (!inside) as u8 as f32
            })
            .collect();
        Ok(Fourier {
            n,
            h,
            w,
            re_minus_im: constant(gpu, &[2, 1], &[1.0, -1.0])?,
            one_plus_i: constant(gpu, &[2, 2], &[1.0, 1.0, -1.0, 1.0])?,
            swap: constant(gpu, &[2, 2], &[0.0, 1.0, 1.0, 0.0])?,
            to_kc: constant(gpu, &[2, 2], &[1.0, 1.0, 0.0, 0.0])?,
            to_ks: constant(gpu, &[2, 2], &[0.0, 0.0, -1.0, 1.0])?,
            to_ut: constant(gpu, &[2, 2], &[1.0, -1.0, 1.0, 1.0])?,
            pair_sum: constant(gpu, &[2, 1], &[1.0, 1.0])?,
            pair_spread: constant(gpu, &[1, 2], &[1.0, 1.0])?,
            shift_c: constant(gpu, &[n, n, 2], &shift_c)?,
            shift_s: constant(gpu, &[n, n, 2], &shift_s)?,
            outside: constant(gpu, &[n, n], &outside)?,
        })
    }

    /// `z · m` for complex `z` `[..., 2]` viewed as rows of 2 and a `[2, c]` matrix `m`.
    fn rows(&self, z: &Tensor, m: &Tensor) -> Result<Tensor> {
        let (k, c) = (m.shape()[0], m.shape()[1]);
        let r = z.numel() / k;
        ops::matmul(z, m, None, MatmulSpec::contiguous(1, r, c, k))?.reshape(&[r, c])
    }

    /// The orthonormal DFT of real `[..., N, N]` (or of an `h × w` image, centred in zeros).
    fn fft(&self, x: &Tensor) -> Result<Tensor> {
        ops::fft2(&ops::embed_complex(x, self.n, self.n)?, false)
    }

    /// `Vᵀ x`: images `[B, C, h, w]` to Hartley coordinates `[B, C, N, N]`.
    fn vt(&self, x: &Tensor) -> Result<Tensor> {
        let s = x.shape();
        self.rows(&self.fft(x)?, &self.re_minus_im)?
            .reshape(&[s[0], s[1], self.n, self.n])
    }

    /// `V z`: the image window of the (self-inverse) Hartley transform of `z` `[B, C, N, N]`.
    fn v(&self, z: &Tensor) -> Result<Tensor> {
        let f = self.fft(z)?;
        let rot = self.rows(&f, &self.one_plus_i)?.reshape(f.shape())?;
        ops::crop_real(&rot, self.h, self.w)
    }

    /// The kernel's spectrum: K̂, `Uᵀ`'s map and the singular values (thresholded at `min`, all
    /// zero when `on` is false).
    fn spectrum(&self, phi: &Tensor, min: f64, on: bool) -> Result<Spectrum> {
        let n = self.n;
        let f = self.fft(phi)?.reshape(&[n, n, 2])?;
        // K̂ = N conj(F φ) e^{−2πi f·d/N}
        let sw = self.rows(&f, &self.swap)?.reshape(&[n, n, 2])?;
        let k = ops::add(
            &ops::mul_bcast(&f, &self.shift_c)?,
            &ops::mul_bcast(&sw, &self.shift_s)?,
        )?;
        let mag2 = self.rows(&ops::mul(&k, &k)?, &self.pair_sum)?;
        let inv = self.rows(&ops::pow(&mag2, 1.0, -0.5, 1e-30)?, &self.pair_spread)?;
        let ut = ops::mul(&self.rows(&k, &self.to_ut)?, &inv.reshape(&[n * n, 2])?)?;
        let s = if on {
            let s = ops::pow(&mag2, 1.0, 0.5, 0.0)?.reshape(&[n * n])?;
            let keep = ops::clamp(&ops::affine(&s, 1e6, (-min * 1e6) as f32)?, 0.0, 1.0)?;
            ops::mul(&s, &keep)?
        } else {
            Tensor::full(phi.gpu(), &[n * n], 0.0)?
        };
        Ok(Spectrum {
            kc: self.rows(&k, &self.to_kc)?.reshape(&[n, n, 2])?,
            ks: self.rows(&k, &self.to_ks)?.reshape(&[n, n, 2])?,
            ut: ut.reshape(&[n, n, 2])?,
            s,
        })
    }

    /// `C E x` on the whole grid, `[B, C, N, N]`.
    fn blur(&self, sp: &Spectrum, x: &Tensor) -> Result<Tensor> {
        let f = self.fft(x)?;
        let sw = self.rows(&f, &self.swap)?.reshape(f.shape())?;
        let kf = ops::add(&ops::mul_bcast(&f, &sp.kc)?, &ops::mul_bcast(&sw, &sp.ks)?)?;
        ops::crop_real(&ops::fft2(&kf, true)?, self.n, self.n)
    }

    /// `Uᵀ y'` of the measurement filled in around its window: `y` inside, `C E x + σ_y ξ` outside.
    fn ut_filled(
        &self,
        sp: &Spectrum,
        y: &Tensor,
        x: &Tensor,
        sigma_y: f64,
        noise: &Tensor,
    ) -> Result<Tensor> {
        let n = self.n;
        let inside = ops::crop_real(&ops::embed_complex(y, n, n)?, n, n)?;
        let fill = ops::axpby(1.0, &self.blur(sp, x)?, sigma_y as f32, noise)?;
        let filled = ops::add(&inside, &ops::mul_bcast(&fill, &self.outside)?)?;
        let s = filled.shape().to_vec();
        let f = ops::fft2(&ops::embed_complex(&filled, n, n)?, false)?;
        self.rows(&ops::mul_bcast(&f, &sp.ut)?, &self.pair_sum)?
            .reshape(&s)
    }
}

impl Solver for GibbsDdrm {
    solver_params!(@solver);

    fn start<'a>(&self, p: &Problem<'a>, seed: u64) -> Result<Run<'a>> {
        let (p, me) = (*p, *self);
        let [b, c, h, w] = check_blind_problem(&p)?;
        let phi = p.op.unknown().ok_or_else(|| {
            Error::Input(format!(
                "gibbs-ddrm estimates an unknown blur kernel, and {} is fully known: \
                 give --task deblur-blind:size=K, or for a known blur use ddrm (Gaussian, an SVD) or dps",
                p.op.describe()
            ))
        })?;
        let phi = phi.detach();
        let ks = phi.shape();
        if ks.len() != 4 || ks[0] != 1 || ks[1] != 1 || ks[2] != ks[3] {
            return Err(Error::Input(format!(
                "gibbs-ddrm estimates one square blur kernel [1, 1, K, K], and {} has unknowns of \
                 shape {ks:?}: use blind-dps or blind-red-diff",
                p.op.describe()
            )));
        }
        let gpu = p.model.gpu().clone();
        let fr = Fourier::new(&gpu, h, w, ks[2])?;
        let n = fr.n;
        let grid = [b, c, n, n];
        let mut spec = fr.spectrum(&phi, me.min_singular, me.measure)?;
        let mut kadam = Adam::new(&gpu, phi.shape(), me.kernel_lr as f32)?;
        let tt = timesteps(&p, me.steps)?;
        let total = p.schedule().len() as f64;
        let moving = move |t: usize| me.measure && (t as f64) <= me.kernel_start * total;
        let st = move |next: Option<usize>, init: bool| DdrmStep::at(&p, me.eta, me.eta_b, next, init);
        // x_T ~ p(x_T | y), with y filled in from itself (official: interp_y_0(y_0, y_0))
        let z = randn(&gpu, &grid, seed, 0, 1)?;
        let uty = fr.ut_filled(&spec, p.y, p.y, p.sigma_y, &randn(&gpu, &grid, seed, 0, 2)?)?;
        let sp = Spectral {
            x0: &z,
            uty: &uty,
            ebar: &z,
            z: &z,
            s: &spec.s,
        };
        let x = fr.v(&ddrm_step(&sp, &st(Some(tt[0].t), true))?)?;
        let n_steps = tt.len();
        let step = move |x: &Tensor, i: usize| {
            let (t, next) = (tt[i].t, next_t(&tt, i));
            let sched = p.schedule();
            let eps = p.model.eps(x, &tt[i])?;
            let x0 = tweedie(sched, x, &eps, t, sched.clip_sample)?;
            let (x0b, eb) = (fr.vt(&x0)?, fr.vt(&eps)?);
            let fill_from = if moving(t) { &x0 } else { p.y };
            let si = i as u32 + 1;
            // one DDRM draw of x at `next` with the current kernel (sweep j: its own noise)
            let draw = |spec: &Spectrum, j: u32| -> Result<Tensor> {
                let fill = randn(&gpu, &grid, seed, si, 2 + 2 * j)?;
                let uty = fr.ut_filled(spec, p.y, fill_from, p.sigma_y, &fill)?;
                let z = randn(&gpu, &grid, seed, si, 1 + 2 * j)?;
                let sp = Spectral {
                    x0: &x0b,
                    uty: &uty,
                    ebar: &eb,
                    z: &z,
                    s: &spec.s,
                };
                fr.v(&ddrm_step(&sp, &st(next, false))?)
            };
            let mut xs = draw(&spec, 0)?;
            if let Some(tn) = next.filter(|_| moving(t)) {
                for j in 1..=me.sweeps as u32 {
                    let eps_n = p.model.eps(&xs, &tt[i + 1])?;
                    let x0n = tweedie(sched, &xs, &eps_n, tn, sched.clip_sample)?.detach();
                    for _ in 0..me.kernel_iters {
                        let k = phi.tracked();
                        let r = ops::axpby(1.0, p.y, -1.0, &p.op.forward_with(&x0n, &k)?)?;
                        let ss = ops::sumsq_rows(&r, 1)?;
                        let one = Tensor::full(&gpu, &[1], 1.0)?;
                        let gk = autograd::backward(&ss, &one, &[&k])?.remove(0);
                        kadam.step(&phi, &gk)?;
                    }
                    // Langevin's diffusion at the posterior's scale: σ_y / ‖x̂0'‖ per entry
                    let sd = ops::pow(&ops::sumsq_rows(&x0n, 1)?, p.sigma_y as f32, -0.5, 1e-12)?;
                    let kick = ops::mul_bcast(&randn(&gpu, phi.shape(), seed, si, 64 + j)?, &sd)?;
                    let moved = ops::add(&phi, &kick)?;
                    gpu.copy(moved.buffer(), 0, phi.buffer(), 0, phi.bytes());
                    ops::project_simplex(&phi, 1)?;
                    spec = fr.spectrum(&phi, me.min_singular, true)?;
                    xs = draw(&spec, j)?;
                }
            }
            Ok(Stepped { x: xs, x0: Some(x0) })
        };
        Ok(Run::new(Self::NAME, p.model.gpu(), x, n_steps, step, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operators;

    fn cpu(t: &Tensor) -> Vec<f32> {
        t.to_vec().unwrap()
    }

    fn close(a: &[f32], b: &[f32], tol: f32, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        let err = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f32>().sqrt();
        let norm = b.iter().map(|y| y * y).sum::<f32>().sqrt().max(1e-12);
        assert!(err / norm < tol, "{what}: relative error {}", err / norm);
    }

    /// The circulant embedding reproduces the operator's zero-padded blur in its window, `V` undoes
    /// `Vᵀ` on images, and `Uᵀ C E x = s ⊙ Vᵀ x` (with every singular value kept): the SVD the DDRM
    /// step needs, for an asymmetric kernel and an odd image size.
    #[test]
    fn circulant_svd_matches_the_blur() {
        let g = crate::Gpu::new().expect("a GPU adapter (lavapipe on CI)");
        let (h, w, k) = (13, 10, 5);
        let op = operators::build(&g, &"deblur-blind:size=5".parse().unwrap(), [1, h, w]).unwrap();
        let phi: Vec<f32> = (0..k * k).map(|i| ((i * 7 % 11) as f32 + 0.5) / 150.0).collect();
        let phi = Tensor::from_slice(&g, &[1, 1, k, k], &phi).unwrap();
        let xs: Vec<f32> = (0..2 * h * w).map(|i| (i as f32 * 0.37).sin() * 1.3).collect();
        let x = Tensor::from_slice(&g, &[2, 1, h, w], &xs).unwrap();
        let fr = Fourier::new(&g, h, w, k).unwrap();
        assert_eq!(fr.n, 32);
        let sp = fr.spectrum(&phi, 0.0, true).unwrap();
        let full = fr.blur(&sp, &x).unwrap();
        let window = ops::crop_real(&ops::embed_complex(&full, fr.n, fr.n).unwrap(), h, w).unwrap();
        close(
            &cpu(&window),
            &cpu(&op.forward_with(&x, &phi).unwrap()),
            1e-5,
            "window of C E x",
        );
        close(&cpu(&fr.v(&fr.vt(&x).unwrap()).unwrap()), &xs, 1e-5, "V Vᵀ x");
        // Uᵀ of the exact full blur: the fill-in is C E x itself (no noise)
        let y = op.forward_with(&x, &phi).unwrap();
        let zero = Tensor::full(&g, &[2, 1, fr.n, fr.n], 0.0).unwrap();
        let uty = fr.ut_filled(&sp, &y, &x, 0.0, &zero).unwrap();
        let svt = ops::mul_bcast(&fr.vt(&x).unwrap(), &sp.s).unwrap();
        close(&cpu(&uty), &cpu(&svt), 1e-4, "Uᵀ C E x = s Vᵀ x");
        let s = cpu(&sp.s);
        assert!((s[0] - cpu(&phi).iter().sum::<f32>()).abs() < 1e-5, "s(0) = Σφ");
    }
}
