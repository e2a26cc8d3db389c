//! Image quality: PSNR and SSIM on images in [-1, 1] (mapped to [0, 1], data range 1).

use crate::io::Image;

/// Peak signal-to-noise ratio in dB of `x` against `reference` (values clipped to [-1, 1]).
pub fn psnr(x: &Image, reference: &Image) -> f64 {
    let mse = x
        .data
        .iter()
        .zip(&reference.data)
        .map(|(a, b)| ((a.clamp(-1.0, 1.0) - b.clamp(-1.0, 1.0)) as f64 / 2.0).powi(2))
        .sum::<f64>()
        / x.data.len() as f64;
    10.0 * (1.0 / mse.max(1e-12)).log10()
}

/// Structural similarity (Wang et al. 2004): 11×11 Gaussian window of σ 1.5 (truncated at the
/// borders, "valid" positions only), K1 = 0.01, K2 = 0.03, data range 1, averaged over channels.
pub fn ssim(x: &Image, reference: &Image) -> f64 {
    let (c, h, w) = (x.channels, x.height, x.width);
    let win = 11.min(h).min(w);
    let half = win / 2;
    let g: Vec<f64> = (0..win)
        .map(|i| (-((i as f64 - half as f64).powi(2)) / (2.0 * 1.5 * 1.5)).exp())
        .collect();
    let gs: f64 = g.iter().sum();
    let (c1, c2) = (0.01f64.powi(2), 0.03f64.powi(2));
    let px = |img: &Image, ch: usize, y: usize, xx: usize| {
        (img.data[(ch * h + y) * w + xx].clamp(-1.0, 1.0) as f64 + 1.0) / 2.0
    };
    let mut total = 0.0;
    let mut count = 0usize;
    for ch in 0..c {
        for y0 in 0..=h - win {
            for x0 in 0..=w - win {
                let (mut mx, mut my, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
                for dy in 0..win {
                    for dx in 0..win {
                        let wt = g[dy] * g[dx] / (gs * gs);
                        let a = px(x, ch, y0 + dy, x0 + dx);
                        let b = px(reference, ch, y0 + dy, x0 + dx);
                        mx += wt * a;
                        my += wt * b;
                        sxx += wt * a * a;
                        syy += wt * b * b;
                        sxy += wt * a * b;
                    }
                }
                let (vx, vy, cxy) = (sxx - mx * mx, syy - my * my, sxy - mx * my);
                total +=
                    ((2.0 * mx * my + c1) * (2.0 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
                count += 1;
            }
        }
    }
    total / count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(data: Vec<f32>) -> Image {
        Image {
            channels: 1,
            height: 16,
            width: 16,
            data,
        }
    }

    #[test]
    fn identical_images_score_perfectly_and_noise_lowers_both() {
        let a = img((0..256).map(|i| ((i * 37) % 200) as f32 / 125.0 - 0.8).collect());
        assert!(psnr(&a, &a) > 100.0);
        assert!((ssim(&a, &a) - 1.0).abs() < 1e-9);
        let b = img(a
            .data
            .iter()
            .enumerate()
            .map(|(i, v)| v + if i % 2 == 0 { 0.1 } else { -0.1 })
            .collect());
        // mse = (0.1/2)^2 = 0.0025 -> 26.02 dB
        assert!((psnr(&b, &a) - 26.0206).abs() < 1e-3);
        assert!(ssim(&b, &a) < 0.99);
    }
}
