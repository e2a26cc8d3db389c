//! `tweedie degrade`: simulates a measurement and records how it was made.

use super::*;
use crate::operators::Noise;

/// Simulates a measurement of the image `input` for `task` with Gaussian noise `sigma_y`, written
/// to `out` (a picture, or safetensors), with the record restore reads; every output is checked
/// before compute. [`degrade_with`] takes any noise model.
pub fn degrade(
    f: &mut dyn Frontend,
    task: &str,
    input: &std::path::Path,
    sigma_y: f64,
    seed: u64,
    out: &std::path::Path,
) -> Result<()> {
    check_sigma_y(sigma_y)?;
    degrade_with(f, task, input, Noise::Gaussian { sigma: sigma_y }, seed, out)
}

/// [`degrade`] with the noise model `noise` (Gaussian, or Poisson shot noise on measurements that
/// are pictures: see [`operators::Noise`]), recorded in the output for restore.
pub fn degrade_with(
    f: &mut dyn Frontend,
    task: &str,
    input: &std::path::Path,
    noise: Noise,
    seed: u64,
    out: &std::path::Path,
) -> Result<()> {
    let sigma_y = match noise {
        Noise::Gaussian { sigma } => {
            check_sigma_y(sigma)?;
            sigma
        }
        Noise::Poisson { .. } => 0.0,
    };
    let mut spec: TaskSpec = task.parse()?;
    if operators::task_entry(&spec.name).is_some_and(|t| t.seeded()) {
        spec = spec.with_default("seed", &seed.to_string());
    }
    let mask = spec.get("path").map(PathBuf::from);
    let mut inputs = vec![("--input", input)];
    inputs.extend(mask.as_deref().map(|m| ("--task path=", m)));
    crate::io::check_distinct(&inputs, &[("--out", out)])?;
    crate::io::check_output(out, output_kind(out), "--out")?;
    let img = crate::io::read_image(input)?;
    let plan = operators::resolve(&spec, img.shape())?;
    // a blind task makes no observations; measurements that are not pictures go to .safetensors
    plan.check_measurable(!is_safetensors(out))?;
    if let Noise::Poisson { .. } = noise
        && plan.picture() != operators::Picture::Exact
    {
        return Err(Error::Input(format!(
            "--noise {noise}: Poisson noise counts photons of a measurement that is a picture \
             (inpainting, super-resolution, deblurring, denoising, colorization, HDR), and {} \
             measurements are not intensities in [-1, 1]; use Gaussian noise (--sigma-y)",
            plan.describe()
        )));
    }
    if let Some(n) = plan.note() {
        f.note(&n);
    }
    // a picture that is a view (phase retrieval's log magnitude): the exact y goes beside it
    let view = plan.picture() == operators::Picture::View;
    let gpu = f.gpu()?;
    let op = operators::build_plan(&gpu, plan, img.shape())?;
    // the pictures written beside the output (a motion kernel): checked before the compute
    let pictures = op.extras()?;
    let extras: Vec<PathBuf> = pictures
        .iter()
        .map(|(suffix, _)| out.with_extension(format!("{suffix}.png")))
        .collect();
    let mut outs = vec![("--out", out)];
    outs.extend(
        extras
            .iter()
            .map(|p| ("the kernel picture (beside --out)", p.as_path())),
    );
    let exact = (!is_safetensors(out) && view).then(|| out.with_extension("safetensors"));
    if let Some(e) = &exact {
        outs.push(("the exact measurement (beside --out)", e.as_path()));
        crate::io::check_output(
            e,
            crate::io::Output::Safetensors,
            "the exact measurement (beside --out)",
        )?;
    }
    crate::io::check_distinct(&inputs, &outs)?;
    for p in &extras {
        crate::io::check_output(p, crate::io::Output::Png, "the kernel picture (beside --out)")?;
    }
    let x = image_tensor(&gpu, std::slice::from_ref(&img))?;
    let y = noise.apply(&op.forward(&x)?, seed)?;
    // how it was made goes into the file: restore reads the task (a random mask's seed
    // included), σ_y and the image size from it
    let meta = Made {
        task: op.describe(),
        sigma_y,
        shape: img.shape(),
        noise,
    }
    .metadata();
    if is_safetensors(out) {
        crate::io::write_safetensors_with(out, &[("y", y.shape(), &y.to_vec()?)], &meta)?;
    } else {
        let obs = op.observation_image(&y)?.ok_or_else(|| {
            Error::Input(format!(
                "{} measurements are not images: write them with --out y.safetensors",
                op.describe()
            ))
        })?;
        let s = obs.shape();
        let im = Image {
            channels: s[1],
            height: s[2],
            width: s[3],
            data: obs.to_vec()?,
        };
        crate::io::write_image_with(out, &im, &meta)?;
        if op.measurement_from_image(&obs).is_err() {
            // the picture is a view (phase retrieval's log magnitude): the exact y goes beside it
            let exact = exact.unwrap_or_else(|| out.with_extension("safetensors"));
            crate::io::write_safetensors_with(&exact, &[("y", y.shape(), &y.to_vec()?)], &meta)?;
            f.say(&format!(
                "the picture is for viewing only; restore from {} (the exact measurement)",
                exact.display()
            ));
        }
    }
    for ((suffix, pic), p) in pictures.into_iter().zip(&extras) {
        crate::io::write_image(p, &host_image(&pic)?, 8)?;
        f.say(&format!("wrote the {suffix} to {}", p.display()));
    }
    f.say(&format!(
        "wrote {} of {} to {}",
        op.describe(),
        input.display(),
        out.display()
    ));
    let how = match noise {
        Noise::Gaussian { .. } => format!("--sigma-y {sigma_y}"),
        Noise::Poisson { .. } => format!("--noise {noise}"),
    };
    f.say(&format!(
        "it records --task '{}' {how}: restore reads them from it",
        op.describe()
    ));
    Ok(())
}

/// The metadata key under which `degrade` records how it made an observation (one key holding a
/// JSON object, so the file's bytes do not depend on a map's order).
pub(crate) const MADE_KEY: &str = "tweedie";

/// How `degrade` made an observation: the task spec with every parameter spelled out (a random
/// mask's resolved seed included), the measurement noise and the clean image's `[C, H, W]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Made {
    /// The task spec, every parameter spelled out.
    pub task: String,
    /// The measurement noise.
    pub sigma_y: f64,
    /// The clean image's `[C, H, W]`.
    pub shape: [usize; 3],
    /// The noise model (Gaussian of `sigma_y`, or Poisson, for which `sigma_y` is 0).
    pub noise: Noise,
}

impl Made {
    /// The record as file metadata.
    pub fn metadata(&self) -> crate::io::Metadata {
        let json = serde_json::json!({
            "task": self.task,
            "sigma_y": self.sigma_y,
            "shape": self.shape,
            "version": env!("CARGO_PKG_VERSION"),
        });
        // Gaussian records stay as they were; another model adds its spec
        let mut json = json;
        if let Noise::Poisson { .. } = self.noise {
            json["noise"] = serde_json::Value::String(self.noise.to_string());
        }
        [(MADE_KEY.to_string(), json.to_string())].into_iter().collect()
    }

    /// What `path` records, `None` when it records nothing (not written by `degrade`, or by a
    /// version before the record); a record that cannot be read is an error naming the field.
    pub fn read(path: &std::path::Path) -> Result<Option<Made>> {
        // a file that cannot be read records nothing here: reading the observation says why
        let Ok(m) = crate::io::read_metadata(path) else {
            return Ok(None);
        };
        let Some(text) = m.get(MADE_KEY) else {
            return Ok(None);
        };
        let bad = |field: &str| {
            Error::Input(format!(
                "{}: its record of how degrade made it ({MADE_KEY:?} metadata) has no valid {field}: {text}; \
                 give --task and --sigma-y yourself, or degrade the image again",
                path.display()
            ))
        };
        let v: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("JSON"))?;
        let task = v["task"].as_str().ok_or_else(|| bad("task"))?.to_string();
        let sigma_y = v["sigma_y"]
            .as_f64()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| bad("sigma_y"))?;
        let dims: Vec<usize> = v["shape"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d.as_u64().map(|d| d as usize)).collect())
            .unwrap_or_default();
        let shape: [usize; 3] = dims
            .try_into()
            .ok()
            .filter(|d: &[usize; 3]| d.iter().all(|&n| n > 0))
            .ok_or_else(|| bad("shape"))?;
        let noise = match v.get("noise") {
            None => Noise::Gaussian { sigma: sigma_y },
            Some(n) => n
                .as_str()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| bad("noise"))?,
        };
        Ok(Some(Made {
            task,
            sigma_y,
            shape,
            noise,
        }))
    }
}
