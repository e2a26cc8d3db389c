//! Blur kernels.

/// The normalised 1-D Gaussian of which [`gaussian_kernel`] is the outer product with itself.
pub fn gaussian_taps(size: usize, sigma: f64) -> Vec<f64> {
    let c = (size / 2) as f64;
    let k: Vec<f64> = (0..size)
        .map(|i| (-(i as f64 - c).powi(2) / (2.0 * sigma * sigma)).exp())
        .collect();
    let s: f64 = k.iter().sum();
    k.into_iter().map(|v| v / s).collect()
}

/// A normalised `size`×`size` Gaussian kernel of standard deviation `sigma` (row-major).
pub fn gaussian_kernel(size: usize, sigma: f64) -> Vec<f32> {
    let c = (size / 2) as f64;
    let mut k: Vec<f64> = (0..size * size)
        .map(|i| {
            let (y, x) = ((i / size) as f64 - c, (i % size) as f64 - c);
            (-(x * x + y * y) / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let s: f64 = k.iter().sum();
    k.iter_mut().for_each(|v| *v /= s);
    k.into_iter().map(|v| v as f32).collect()
}

/// A normalised `size`×`size` motion-blur kernel: a seeded random camera trajectory (a walk whose
/// heading wanders more with `intensity` in [0, 1]), centred, scaled to fill the kernel and splatted
/// bilinearly. The same seed gives the same kernel.
pub fn motion_kernel(size: usize, intensity: f64, seed: u64) -> Vec<f32> {
    let steps = 4 * size;
    let key = [seed as u32, (seed >> 32) as u32];
    let normal = |i: u32| crate::ops::random::randn_host(seed, 0, 9, i);
    let uni = crate::ops::random::philox4x32_10([0, 0, 10, 0], key)[0] as f64 / 4294967296.0;
    let mut heading = uni * std::f64::consts::TAU;
    let (mut px, mut py) = (0f64, 0f64);
    let mut pts = Vec::with_capacity(steps);
    for i in 0..steps {
        heading += intensity * std::f64::consts::FRAC_PI_2 * normal(i as u32);
        px += heading.cos();
        py += heading.sin();
        pts.push((px, py));
    }
    let (mx, my) = pts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
    let (mx, my) = (mx / steps as f64, my / steps as f64);
    let ext = pts
        .iter()
        .map(|p| (p.0 - mx).abs().max((p.1 - my).abs()))
        .fold(1e-9, f64::max);
    let half = (size as f64 - 1.0) / 2.0;
    let s = (half - 0.5).max(0.5) / ext;
    let mut k = vec![0f64; size * size];
    for &(x, y) in &pts {
        let fx = (x - mx) * s + half;
        let fy = (y - my) * s + half;
        let (x0, y0) = (fx.floor(), fy.floor());
        let (ax, ay) = (fx - x0, fy - y0);
        for (dx, dy, wgt) in [
            (0, 0, (1.0 - ax) * (1.0 - ay)),
            (1, 0, ax * (1.0 - ay)),
            (0, 1, (1.0 - ax) * ay),
            (1, 1, ax * ay),
        ] {
            let (xi, yi) = (x0 as isize + dx, y0 as isize + dy);
            if xi >= 0 && yi >= 0 && (xi as usize) < size && (yi as usize) < size {
                k[yi as usize * size + xi as usize] += wgt;
            }
        }
    }
    let t: f64 = k.iter().sum();
    k.into_iter().map(|v| (v / t) as f32).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn kernels_are_normalised_and_seeded() {
        let g = super::gaussian_kernel(9, 1.5);
        assert!((g.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(g[40] > g[0]);
        let a = super::motion_kernel(9, 0.5, 3);
        let b = super::motion_kernel(9, 0.5, 3);
        let c = super::motion_kernel(9, 0.5, 4);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!((a.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
