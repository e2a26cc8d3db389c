//! `tweedie eps`: the model once, and its vector-Jacobian product.

use super::*;

/// The model once on the tensor `x` of `input` at timestep `t`, written to `out` as `eps`, with
/// `vjp` = ∇_x ⟨v, eps⟩ when a file of `v` is given.
pub fn eps(
    f: &mut dyn Frontend,
    model: &std::path::Path,
    input: &std::path::Path,
    t: u32,
    out: &std::path::Path,
    vjp: Option<&std::path::Path>,
) -> Result<()> {
    let mut inputs = vec![("--input", input)];
    inputs.extend(vjp.map(|v| ("--vjp", v)));
    inputs.extend(Some(model).filter(|m| m.is_file()).map(|m| ("--model", m)));
    crate::io::check_distinct(&inputs, &[("--out", out)])?;
    crate::io::check_output(out, crate::io::Output::Safetensors, "--out")?;
    let x = read_tensor(input, "x")?;
    let gpu = f.gpu()?;
    let m = load_model(f, &gpu, model)?;
    let len = m.schedule().len();
    if t as usize >= len {
        return Err(Error::Input(format!(
            "--t {t}: the model's schedule has {len} timesteps, so t must be from 0 to {}",
            len - 1
        )));
    }
    m.check_input(&x.shape)
        .map_err(|e| Error::Input(format!("{}: tensor x: {e}", input.display())))?;
    let xt = Tensor::from_slice(&gpu, &x.shape, &x.data)?;
    let tt = Tensor::full(&gpu, &[x.shape[0]], t as f32)?;
    match vjp {
        None => {
            let e = m.forward(&xt, &tt)?;
            let ev = e.to_vec()?;
            finite(&ev, "the model output")?;
            crate::io::write_safetensors(out, &[("eps", e.shape(), &ev)])?;
            f.say(&format!("wrote eps {:?} to {}", e.shape(), out.display()));
        }
        Some(vpath) => {
            let v = read_tensor(vpath, "v")?;
            let want: Vec<usize> = vec![x.shape[0], m.out_channels(), x.shape[2], x.shape[3]];
            if v.shape != want {
                return Err(Error::Input(format!(
                    "{}: v has shape {:?} but the model output has shape {want:?}",
                    vpath.display(),
                    v.shape
                )));
            }
            let vt = Tensor::from_slice(&gpu, &v.shape, &v.data)?;
            let xt = xt.tracked();
            let e = m.forward(&xt, &tt)?;
            let g = crate::autograd::backward(&e, &vt, &[&xt])?.remove(0);
            let e = e.detach();
            let (ev, gv) = (e.to_vec()?, g.to_vec()?);
            finite(&ev, "the model output")?;
            finite(&gv, "the vector-Jacobian product")?;
            crate::io::write_safetensors(out, &[("eps", e.shape(), &ev), ("vjp", g.shape(), &gv)])?;
            f.say(&format!(
                "wrote eps {:?} and vjp {:?} to {}",
                e.shape(),
                g.shape(),
                out.display()
            ));
        }
    }
    Ok(())
}
