//! `tweedie demo`: DPS on the bundled test images, three tasks, in one grid.

use super::*;

/// DPS with `steps` on the first `n` bundled test images, three tasks (box inpainting, x4 SR,
/// Gaussian deblurring), their PSNR/SSIM beside the trivial estimate's, and one grid in `out`.
pub fn demo(
    f: &mut dyn Frontend,
    steps: usize,
    n: usize,
    out: &std::path::Path,
    model: Option<PathBuf>,
    seed: u64,
) -> Result<()> {
    if n == 0 || n > 64 {
        return Err(Error::Input(format!("--images {n}: between 1 and 64")));
    }
    let min = crate::solvers::min_steps("dps").unwrap_or(1);
    if steps < min || steps > 1000 {
        return Err(Error::Input(format!(
            "--steps {steps}: the demo's DPS takes {min} to 1000 steps (with fewer its chain ends in noise)"
        )));
    }
    crate::io::check_output(out, crate::io::Output::Png, "--out")?;
    let dir = model.unwrap_or_else(default_model);
    let gpu = f.gpu()?;
    let prior = crate::prior::Prior::Pixel(load_model(f, &gpu, &dir)?);
    let m = prior.denoiser();
    let truths: Vec<Image> = (0..n)
        .map(|i| crate::io::read_image(&test_image(i)))
        .collect::<Result<_>>()?;
    let x_shape = truths[0].shape();
    m.check_input(&[1, x_shape[0], x_shape[1], x_shape[2]])?;
    let x = image_tensor(&gpu, &truths)?;
    let sigma_y = 0.05;
    let mut tiles = Vec::new();
    f.say(&format!(
        "DPS, {steps} steps, sigma_y = {sigma_y}, {n} Fashion-MNIST test images, on {}",
        gpu.adapter_info().name
    ));
    f.say(&format!(
        "{:<14} {:>5} {:>14} {:>14} {:>12} {:>12}",
        "task", "image", "trivial PSNR", "DPS PSNR", "trivial SSIM", "DPS SSIM"
    ));
    for task in ["inpaint-box", "sr:factor=4", "deblur-gauss:size=9,sigma=1.5"] {
        let spec: TaskSpec = task.parse()?;
        let op = operators::build(&gpu, &spec, x_shape)?;
        let y = operators::add_noise(&op.forward(&x)?, sigma_y, seed)?;
        let solver = crate::solvers::create("dps", op.as_ref(), Some(steps), &[])?;
        let p = crate::solvers::Problem {
            model: m,
            op: op.as_ref(),
            y: &y,
            sigma_y,
        };
        let r = solver.solve(&p, seed, &mut |d, t| f.progress(&spec.name, d, t))?;
        let xs = r.shape().to_vec();
        let restored = crate::io::batch_to_images(&r.to_vec()?, &xs);
        let trivial = crate::io::batch_to_images(
            &crate::solvers::trivial_estimate(m, op.as_ref(), &y)?.to_vec()?,
            &xs,
        );
        let obs = crate::io::batch_to_images(&display_observation(&prior, op.as_ref(), &y)?.to_vec()?, &xs);
        for i in 0..n {
            f.say(&format!(
                "{:<14} {:>5} {:>14.2} {:>14.2} {:>12.4} {:>12.4}",
                spec.name,
                i,
                crate::metrics::psnr(&trivial[i], &truths[i]),
                crate::metrics::psnr(&restored[i], &truths[i]),
                crate::metrics::ssim(&trivial[i], &truths[i]),
                crate::metrics::ssim(&restored[i], &truths[i]),
            ));
            tiles.extend([
                obs[i].clone(),
                trivial[i].clone(),
                restored[i].clone(),
                truths[i].clone(),
            ]);
        }
    }
    crate::io::write_image(out, &crate::io::grid(&tiles, 4)?, 4)?;
    f.say(&format!(
        "wrote {} (each row: observation | trivial estimate | DPS | truth)",
        out.display()
    ));
    Ok(())
}
