//! `tweedie restore`: a solver on observations, with the checks that come before any compute.

use super::degrade::Made;
use super::*;

/// The record the observations carry (the first one's, with its path): all that carry one must
/// agree, since a batch restores with one operator and one σ_y.
pub(crate) fn observations_made(observed: &[PathBuf]) -> Result<Option<(PathBuf, Made)>> {
    let mut first: Option<(PathBuf, Made)> = None;
    for p in observed {
        let Some(m) = Made::read(p)? else { continue };
        match &first {
            None => first = Some((p.clone(), m)),
            Some((q, f)) if *f != m => {
                return Err(Error::Input(format!(
                    "{} was degraded with --task '{}' --sigma-y {} from a {}x{} image, but {} with --task '{}' --sigma-y {} from a {}x{} image: a batch restores with one operator; restore them in separate runs",
                    q.display(),
                    f.task,
                    f.sigma_y,
                    f.shape[2],
                    f.shape[1],
                    p.display(),
                    m.task,
                    m.sigma_y,
                    m.shape[2],
                    m.shape[1]
                )));
            }
            Some(_) => {}
        }
    }
    Ok(first)
}

/// The task to restore with: the one the observations record, or `--task`, which must agree with
/// the record where there is one (parameters it leaves out are taken from the record).
pub fn restore_task(
    f: &mut dyn Frontend,
    given: Option<&str>,
    made: Option<&(PathBuf, Made)>,
    observed: &[PathBuf],
) -> Result<TaskSpec> {
    match (given, made) {
        (None, None) if std::fs::File::open(&observed[0]).is_err() => {
            let e = std::fs::File::open(&observed[0])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            Err(Error::Input(format!(
                "cannot read image {}: {e}",
                observed[0].display()
            )))
        }
        (None, None) => Err(Error::Input(format!(
            "--task is needed: {} does not record how it was made (it was not written by tweedie \
             degrade, or by a version before the record); give the task spec degrade was given, e.g. \
             --task sr:factor=4",
            observed[0].display()
        ))),
        (Some(t), None) => t.parse(),
        (None, Some((p, m))) => {
            let spec: TaskSpec = m.task.parse()?;
            // a recorded mask file is read from where restore runs
            operators::resolve(&spec, m.shape).map_err(|e| {
                Error::Input(format!(
                    "{} records --task '{}', which cannot be rebuilt here ({e}); give --task with the \
                     mask's path as seen from this folder",
                    p.display(),
                    m.task
                ))
            })?;
            Ok(spec)
        }
        (Some(t), Some((p, m))) => {
            let recorded: TaskSpec = m.task.parse()?;
            let (spec, agreement) = operators::agreement(t.parse()?, &recorded, m.shape)?;
            let agree = match agreement {
                operators::Agreement::Agrees => true,
                // the recorded mask file is not where degrade read it (another folder): the given
                // --task is all there is to go by
                operators::Agreement::Unchecked(e) => {
                    f.note(&format!(
                        "--task {t} cannot be checked against {}'s record: {e}",
                        p.display()
                    ));
                    true
                }
                operators::Agreement::Disagrees => false,
            };
            if !agree {
                return Err(Error::Input(format!(
                    "--task {t} disagrees with {}, which degrade made with --task '{}': leave --task out \
                     to use the recorded task, or give the observation that task was for",
                    p.display(),
                    m.task
                )));
            }
            Ok(spec)
        }
    }
}

/// What `restore` is given: the command line's options (`tweedie restore --help`).
#[derive(clap::Args, Debug, Clone)]
pub struct Restore {
    /// Task spec the observations were made with (default: the one degrade recorded in them;
    /// a given spec must agree with it).
    #[arg(long)]
    pub task: Option<String>,
    /// Solver: dps, ddrm, ddnm, pigdm, mcg, score-ald, red-diff, dmplug, mmps, tmpd, diffpir,
    /// daps, score-sde, ilvr (super-resolution), snips, pnp-dm, dpnp, the latent solvers
    /// latent-dps, psld and resample (on a pipeline folder's latent prior), the particle solvers tds,
    /// smcdiff (inpainting), mcgdiff and fps, blind-red-diff, blind-dps or gibbs-ddrm for
    /// deblur-blind, or baseline (classical, no diffusion). ddrm, ddnm, pigdm, snips, pnp-dm,
    /// mcgdiff and fps need an operator with an SVD: every task but deblur-motion. README.md has
    /// each one's parameters.
    #[arg(long, default_value = "dps")]
    pub solver: String,
    /// Observations (PNG or .safetensors from degrade); several restore as one batch.
    #[arg(long, num_args = 1.., required = true)]
    pub observed: Vec<PathBuf>,
    /// Ground-truth images, one per observation: prints PSNR and SSIM.
    #[arg(long, num_args = 1..)]
    pub truth: Vec<PathBuf>,
    /// Solver steps (default: the solver's own).
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<usize>)]
    pub steps: Option<usize>,
    /// Seed of the solver's noise.
    #[arg(long, allow_negative_numbers = true, value_parser = whole::<u64>, default_value_t = 0)]
    pub seed: u64,
    /// Measurement noise the observations carry, in [-1, 1] units (default: the σ_y degrade
    /// recorded in them, else 0.05).
    #[arg(long, allow_negative_numbers = true)]
    pub sigma_y: Option<f64>,
    /// Solver parameters, key=value (e.g. scale=0.5 for dps, eta=0.85 for ddrm; measure=0 makes
    /// any solver ignore the measurement).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// diffusers UNet2DModel directory, guided-diffusion checkpoint (.pt, .safetensors; see
    /// --model-config), or a latent diffusion pipeline folder (model_index.json, unet/, vae/,
    /// scheduler/, e.g. weights/fmnist32-ldm: the latent solvers); default: the bundled
    /// weights/fmnist32.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// A text-conditioned pipeline folder's prompt (encoded by its CLIP; the latent solvers then
    /// restore with the UNet conditioned on it).
    #[arg(long)]
    pub prompt: Option<String>,
    /// Classifier-free guidance scale with --prompt (default 1: the conditional branch alone;
    /// Stable Diffusion's pipelines use 7.5).
    #[arg(long, allow_negative_numbers = true)]
    pub guidance: Option<f64>,
    /// Output PNG (one observation) or directory (several).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write observation | restored | truth side by side.
    #[arg(long)]
    pub grid: Option<PathBuf>,
    /// Particle solvers (tds, mcgdiff, fps): also write the per-pixel posterior standard
    /// deviation of the weighted particles as a picture (black 0, white the batch's largest,
    /// printed); a PNG for one observation, a directory for several. Added to --grid.
    #[arg(long)]
    pub std: Option<PathBuf>,
}

/// Reads one observation as the measurement tensor `[1, ...]` of `op`.
pub fn read_observation(gpu: &Gpu, op: &dyn Operator, path: &std::path::Path) -> Result<Tensor> {
    let want = op.y_shape();
    if is_safetensors(path) {
        let t = read_tensor(path, "y")?;
        let per: Vec<usize> = if t.shape.first() == Some(&1) && t.shape.len() == want.len() + 1 {
            t.shape[1..].to_vec()
        } else {
            t.shape.clone()
        };
        if per != want {
            return Err(Error::Input(format!(
                "{}: y has shape {:?} but {} expects {want:?} per image",
                path.display(),
                t.shape,
                op.describe()
            )));
        }
        let mut s = vec![1];
        s.extend(&want);
        return Tensor::from_slice(gpu, &s, &t.data);
    }
    let img = crate::io::read_image(path)?;
    if img.shape().to_vec() != want && want.len() != 3 {
        // not [C, H, W]: no picture holds it (MRI's complex k-space, compressed sensing)
        return Err(Error::Input(format!(
            "{}: {} measurements are {want:?} per image, not a picture: pass the .safetensors file \
             degrade wrote (beside the picture)",
            path.display(),
            op.describe()
        )));
    }
    if img.shape().to_vec() != want {
        return Err(Error::Input(format!(
            "{} is {}x{} with {} channel(s), but {} on {}x{} images expects an observation of {want:?} (channels, height, width)",
            path.display(),
            img.width,
            img.height,
            img.channels,
            op.describe(),
            op.x_shape()[2],
            op.x_shape()[1]
        )));
    }
    op.measurement_from_image(&image_tensor(gpu, &[img])?)
}

/// What a grid shows for an observation: the picture if it has the image's size (box-averaged down
/// when it is a whole factor larger), else A⁺y or the trivial estimate (small SR observations
/// enlarged, CS back-projected).
pub fn display_observation(prior: &crate::prior::Prior, op: &dyn Operator, y: &Tensor) -> Result<Tensor> {
    if let Some(o) = op.observation_image(y)? {
        let [c, h, w] = op.x_shape();
        let s = o.shape().to_vec();
        if s[1..] == [c, h, w] {
            return Ok(o);
        }
        // a picture larger by a whole factor (phase retrieval's 2× padded spectrum): shown
        // box-averaged to the image's size
        if s.len() == 4 && s[1] == c && s[2] > h && s[2] % h == 0 && s[3] % w == 0 && s[2] / h == s[3] / w {
            let f = s[2] / h;
            let v = o.to_vec()?;
            let mut out = vec![0f32; s[0] * c * h * w];
            for (q, o) in out.iter_mut().enumerate() {
                let (r, i, j) = (q / (h * w), (q / w) % h, q % w);
                let mut acc = 0.0;
                for a in 0..f {
                    for b in 0..f {
                        acc += v[(r * s[2] + i * f + a) * s[3] + j * f + b];
                    }
                }
                *o = acc / (f * f) as f32;
            }
            return Tensor::from_slice(y.gpu(), &[s[0], c, h, w], &out);
        }
    }
    prior.trivial(op, y)
}

/// Where each restored image of a batch goes: `out/<observation name>.png`, refusing two
/// observations that would land on one file.
pub(crate) fn batch_outputs(observed: &[PathBuf], out: &std::path::Path) -> Result<Vec<PathBuf>> {
    let mut seen: std::collections::HashMap<PathBuf, &PathBuf> = std::collections::HashMap::new();
    let mut paths = Vec::new();
    for obs in observed {
        let name = obs.with_extension("png");
        let p = out.join(name.file_name().unwrap_or_default());
        if let Some(first) = seen.insert(p.clone(), obs) {
            return Err(Error::Input(format!(
                "--observed {} and {} would both be written to {}: give the observations distinct file names, or restore them in separate runs",
                first.display(),
                obs.display(),
                p.display()
            )));
        }
        paths.push(p);
    }
    Ok(paths)
}

/// The files `restore` reads, by option: observations, truths, a mask named by the task, a model file.
pub(crate) fn restore_inputs<'a>(
    a: &'a Restore,
    mask: Option<&'a std::path::Path>,
) -> Vec<(&'static str, &'a std::path::Path)> {
    let mut v: Vec<(&str, &std::path::Path)> =
        a.observed.iter().map(|p| ("--observed", p.as_path())).collect();
    v.extend(a.truth.iter().map(|p| ("--truth", p.as_path())));
    v.extend(mask.map(|m| ("--task path=", m)));
    v.extend(a.model.as_deref().filter(|m| m.is_file()).map(|m| ("--model", m)));
    v
}

/// Restores the observations of `a` with its solver: every input, output and option checked
/// before the device and the model are touched; writes the pictures (and the spread, the grid, a
/// blind solve's kernel), and PSNR/SSIM against the truths where given.
pub fn restore(f: &mut dyn Frontend, a: Restore) -> Result<()> {
    // everything that can be checked without the device and the model, first
    if let Some(v) = a.sigma_y {
        check_sigma_y(v)?;
    }
    // how the observations were made, as degrade recorded it: the task, σ_y and image size
    let made = observations_made(&a.observed)?;
    let spec = restore_task(f, a.task.as_deref(), made.as_ref(), &a.observed)?;
    let sigma_y = match (a.sigma_y, &made) {
        (Some(v), Some((p, m))) if v != m.sigma_y => {
            f.note(&format!(
                "restoring with --sigma-y {v}, though {} was degraded with σ_y {}",
                p.display(),
                m.sigma_y
            ));
            v
        }
        (Some(v), _) => v,
        (None, Some((_, m))) => m.sigma_y,
        (None, None) => 0.05,
    };
    let mut sets = parse_sets(&a.sets)?;
    // Poisson measurements: only a solver with a Poisson likelihood, told the rate
    if let Some((p, m)) = &made
        && let Some(rate) = m.noise.poisson_rate()
    {
        crate::solvers::check_noise(&a.solver, &m.noise)
            .map_err(|e| e.in_context(&format!("{}", p.display())))?;
        if let Some(v) = a.sigma_y {
            return Err(Error::Input(format!(
                "--sigma-y {v}: {} carries {} (Poisson) noise, which has no σ_y; leave --sigma-y out",
                p.display(),
                m.noise
            )));
        }
        if !sets.iter().any(|(k, _)| k == "poisson") {
            sets.push(("poisson".into(), rate.to_string()));
        }
    }
    let solver = crate::solvers::create_for_task(&a.solver, &spec.name, a.steps, &sets)?;
    crate::solvers::check_min_steps(solver.as_ref())?;
    let dir = a.model.clone().unwrap_or_else(default_model);
    let text = text_conditioning(a.prompt.as_deref(), a.guidance)?;
    let latent = crate::prior::is_pipeline(&dir);
    crate::solvers::check_prior(&a.solver, &spec.name, latent)?;
    if latent && a.std.is_some() {
        return Err(Error::Input(
            "--std shows the particles' spread in pixels, and on a latent prior they are latents: \
             leave --std out (or restore with a pixel prior)"
                .into(),
        ));
    }
    if !a.truth.is_empty() && a.truth.len() != a.observed.len() {
        return Err(Error::Input(format!(
            "{} --truth images for {} observations: give one per observation, in the same order",
            a.truth.len(),
            a.observed.len()
        )));
    }
    // every output against every input and each other, before anything is created or computed
    let batch = a.observed.len() > 1;
    if batch {
        crate::io::check_folder_name(&a.out, "--out", a.observed.len())?;
        if let Some(sp) = &a.std {
            crate::io::check_folder_name(sp, "--std", a.observed.len())?;
        }
    }
    let outputs = if batch {
        batch_outputs(&a.observed, &a.out)?
    } else {
        vec![a.out.clone()]
    };
    let std_outputs = match &a.std {
        None => Vec::new(),
        Some(_) if !solver.gives_std() => {
            return Err(Error::Input(format!(
                "--std needs a particle solver (its weighted particles give the spread); {} gives one \
                 picture. Use --solver {}",
                solver.name(),
                crate::solvers::particle_solvers().join(" or ")
            )));
        }
        Some(sp) if !batch => vec![sp.clone()],
        Some(sp) => batch_outputs(&a.observed, sp)?,
    };
    let mask = spec.get("path").map(PathBuf::from);
    let inputs = restore_inputs(&a, mask.as_deref());
    let mut outs: Vec<(&str, &std::path::Path)> = outputs.iter().map(|p| ("--out", p.as_path())).collect();
    outs.extend(a.grid.as_deref().map(|g| ("--grid", g)));
    outs.extend(std_outputs.iter().map(|p| ("--std", p.as_path())));
    crate::io::check_distinct(&inputs, &outs)?;
    if batch {
        crate::io::check_output(&a.out, crate::io::Output::Folder, "--out")?;
    } else {
        crate::io::check_output(&a.out, crate::io::Output::Png, "--out")?;
    }
    if let Some(g) = &a.grid {
        crate::io::check_output(g, crate::io::Output::Png, "--grid")?;
    }
    match &a.std {
        Some(sp) if batch => crate::io::check_output(sp, crate::io::Output::Folder, "--std")?,
        Some(sp) => crate::io::check_output(sp, crate::io::Output::Png, "--std")?,
        None => {}
    }
    let truths: Vec<Image> = a
        .truth
        .iter()
        .map(|p| crate::io::read_image(p))
        .collect::<Result<_>>()?;
    if let Some((i, t)) = truths
        .iter()
        .enumerate()
        .find(|(_, t)| t.shape() != truths[0].shape())
    {
        return Err(Error::Input(format!(
            "--truth {} is {}x{} with {} channel(s) but {} is {}x{} with {}: the truth images must share one size",
            a.truth[i].display(),
            t.width,
            t.height,
            t.channels,
            a.truth[0].display(),
            truths[0].width,
            truths[0].height,
            truths[0].channels
        )));
    }
    let gpu = f.gpu()?;
    let prior = load_prior(f, &gpu, &dir, text)?;
    let model = prior.denoiser();
    let model_shape = prior.image_size().map(|(h, w)| [prior.image_channels(), h, w]);
    if let (Some(t), Some((p, m))) = (truths.first(), &made)
        && t.shape() != m.shape
    {
        return Err(Error::Input(format!(
            "--truth {} is {}x{} with {} channel(s), but {} was degraded from a {}x{} image with {}: give the clean image the observation was made from",
            a.truth[0].display(),
            t.width,
            t.height,
            t.channels,
            p.display(),
            m.shape[2],
            m.shape[1],
            m.shape[0]
        )));
    }
    let x_shape = match (truths.first(), model_shape, &made) {
        (Some(t), _, _) => t.shape(),
        (None, _, Some((_, m))) => m.shape,
        (None, Some(s), None) => s,
        (None, None, None) => {
            return Err(Error::Input(
                "the model config has no sample_size: pass --truth to give the image size".into(),
            ));
        }
    };
    if x_shape[0] != prior.image_channels() {
        return Err(Error::Input(format!(
            "--truth {} has {} channel(s) but the model restores images with {}",
            a.truth[0].display(),
            x_shape[0],
            prior.image_channels()
        )));
    }
    if latent {
        prior.check_image_shape(x_shape)?;
    }
    let plan = operators::resolve(&spec, x_shape)?;
    if let Some(n) = plan.note() {
        f.note(&n);
    }
    let op: std::sync::Arc<dyn Operator> = operators::build_plan(&gpu, plan, x_shape)?.into();
    // what the solver sees: the operator, or on a latent prior the operator after the decoder
    let pop = prior.problem_operator(op.clone())?;
    // the estimated kernel of a blind solve goes beside the output: checked like the others, before
    // the solve
    let side_outputs: Vec<(String, PathBuf)> = if op.unknown().is_some() {
        op.extras()?
            .into_iter()
            .map(|(suffix, _)| {
                let p = if batch {
                    a.out.join(format!("{suffix}.png"))
                } else {
                    a.out.with_extension(format!("{suffix}.png"))
                };
                (suffix, p)
            })
            .collect()
    } else {
        Vec::new()
    };
    for (suffix, p) in &side_outputs {
        crate::io::check_output(
            p,
            crate::io::Output::Png,
            &format!("the estimated {suffix} (beside --out)"),
        )?;
    }
    let side: Vec<(&str, &std::path::Path)> = side_outputs
        .iter()
        .map(|(_, p)| ("the estimated kernel (beside --out)", p.as_path()))
        .collect();
    crate::io::check_distinct(&inputs, &[outs.clone(), side].concat())?;
    let ys: Vec<Tensor> = match a
        .observed
        .iter()
        .map(|p| read_observation(&gpu, op.as_ref(), p))
        .collect::<Result<Vec<_>>>()
    {
        Ok(ys) => ys,
        Err(e) => {
            // the truth's size sets the problem; when the observations fit the model's own size
            // instead, the truth is the one that is wrong
            if let (Some(t), Some(ms)) = (truths.first(), model_shape)
                && ms != x_shape
                && let Ok(mop) = operators::build(&gpu, &spec, ms)
                && a.observed
                    .iter()
                    .all(|p| read_observation(&gpu, mop.as_ref(), p).is_ok())
            {
                return Err(Error::Input(format!(
                    "--truth {} is {}x{} but the observations are of {}x{} images (the model's size): give the clean images at the size of the restored ones",
                    a.truth[0].display(),
                    t.width,
                    t.height,
                    ms[2],
                    ms[1]
                )));
            }
            return Err(e);
        }
    };
    let mut all = Vec::new();
    for y in &ys {
        all.extend(y.to_vec()?);
    }
    let mut yshape = vec![ys.len()];
    yshape.extend(op.y_shape());
    let y = Tensor::from_slice(&gpu, &yshape, &all)?;
    let problem = crate::solvers::Problem {
        model,
        op: pop.as_ref(),
        y: &y,
        sigma_y,
    };
    let settings: Vec<String> = solver
        .settings()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    f.status(&format!(
        "{} on {} x{} ({})",
        solver.name(),
        pop.describe(),
        ys.len(),
        settings.join(", ")
    ));
    let (x, std) = solver.solve_with_std(&problem, a.seed, &mut |d, t| f.progress(solver.name(), d, t))?;
    let x = prior.to_images(&x)?;
    let xs = x.shape().to_vec();
    let restored = crate::io::batch_to_images(&x.to_vec()?, &xs);
    for (img, p) in restored.iter().zip(&outputs) {
        crate::io::write_image(p, img, 1)?;
    }
    // the spread as a picture: 0 black, the largest standard deviation of the batch white
    let spread = match (&std, std_outputs.is_empty()) {
        (Some(s), false) => {
            let v = s.to_vec()?;
            let top = v.iter().fold(0f32, |a, &b| a.max(b)).max(1e-6);
            let scaled: Vec<f32> = v.iter().map(|&x| 2.0 * x / top - 1.0).collect();
            let pics = crate::io::batch_to_images(&scaled, &xs);
            for (img, p) in pics.iter().zip(&std_outputs) {
                crate::io::write_image(p, img, 1)?;
            }
            let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
            // a spread of zero is not certainty: resampling kept copies of one particle
            let per = v.len() / xs[0].max(1);
            for (i, img) in v.chunks(per.max(1)).enumerate() {
                if img.iter().all(|&x| x == 0.0) {
                    f.note(&format!(
                        "the standard deviation of {} is zero everywhere: the weighted \
                         particles collapsed onto one (all the weight on one particle, or resampling \
                         left copies of one), so the picture says nothing about uncertainty; more \
                         particles (--set particles=N) or steps keep them apart",
                        a.observed[i].display()
                    ));
                }
            }
            f.say(&format!(
                "wrote the posterior standard deviation to {} (white = {top:.3}, mean {mean:.3}, in [-1, 1] pixel units)",
                a.std
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ));
            pics
        }
        _ => Vec::new(),
    };
    if outputs.len() == 1 {
        f.say(&format!("wrote {}", a.out.display()));
    } else {
        f.say(&format!("wrote {} images to {}", restored.len(), a.out.display()));
    }
    // a blind solve: the estimated kernel beside the output (paths checked before the solve)
    for ((suffix, pic), (_, p)) in op.extras()?.into_iter().zip(&side_outputs) {
        crate::io::write_image(p, &host_image(&pic)?, 8)?;
        f.say(&format!("wrote the estimated {suffix} to {}", p.display()));
    }
    if !truths.is_empty() {
        let triv = prior.trivial(op.as_ref(), &y)?;
        let trivial = crate::io::batch_to_images(&triv.to_vec()?, &xs);
        f.say(&format!(
            "{:<28} {:>10} {:>8} {:>12} {:>10}",
            "image", "PSNR (dB)", "SSIM", "trivial PSNR", "trivial SSIM"
        ));
        for i in 0..truths.len() {
            f.say(&format!(
                "{:<28} {:>10.2} {:>8.4} {:>12.2} {:>10.4}",
                a.observed[i].file_name().unwrap_or_default().to_string_lossy(),
                crate::metrics::psnr(&restored[i], &truths[i]),
                crate::metrics::ssim(&restored[i], &truths[i]),
                crate::metrics::psnr(&trivial[i], &truths[i]),
                crate::metrics::ssim(&trivial[i], &truths[i]),
            ));
        }
    }
    if let Some(gp) = &a.grid {
        let obs = display_observation(&prior, op.as_ref(), &y)?;
        let obs = crate::io::batch_to_images(&obs.to_vec()?, &xs);
        let mut tiles = Vec::new();
        for i in 0..restored.len() {
            tiles.push(obs[i].clone());
            tiles.push(restored[i].clone());
            if let Some(sp) = spread.get(i) {
                tiles.push(sp.clone());
            }
            if let Some(t) = truths.get(i) {
                tiles.push(t.clone());
            }
        }
        let cols = 2 + usize::from(!truths.is_empty()) + usize::from(!spread.is_empty());
        let scale = if x_shape[1] <= 64 { 4 } else { 1 };
        crate::io::write_image(gp, &crate::io::grid(&tiles, cols)?, scale)?;
        f.say(&format!("wrote {}", gp.display()));
    }
    Ok(())
}
