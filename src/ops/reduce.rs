//! Launchers for `shaders/reduce.wgsl`.

use super::grad::record;
use super::u32_of;
use crate::error::{Error, Result};
use crate::gpu::params::ReduceParams;
use crate::gpu::{Access, KernelId, grid1d};
use crate::tensor::{BackwardOp, InputGrads, Tensor};

fn rows_op(entry: &'static str, x: &Tensor, rows: usize) -> Result<Tensor> {
    if rows == 0 || !x.numel().is_multiple_of(rows) {
        return Err(Error::Shape(format!(
            "{rows} rows of a tensor of shape {:?}",
            x.shape()
        )));
    }
    let len = x.numel() / rows;
    let out = Tensor::empty(x.gpu(), &[rows])?;
    x.gpu().dispatch(
        &KernelId::new("reduce.wgsl", entry),
        &ReduceParams {
            rows: u32_of(rows, "rows")?,
            len: u32_of(len, "row length")?,
            ..Default::default()
        },
        &[x.bind(Access::Read), out.bind(Access::ReadWrite)],
        grid1d(rows, 1),
    )?;
    Ok(out)
}

/// Sums of `x` viewed as `rows` equal rows (e.g. one per sample). Returns `[rows]`.
pub fn sum_rows(x: &Tensor, rows: usize) -> Result<Tensor> {
    let out = rows_op("sum_rows", x, rows)?;
    let out = record(out, &[x], SumRows);
    Ok(out)
}

/// Sums of squares of `x` viewed as `rows` equal rows. Returns `[rows]`.
pub fn sumsq_rows(x: &Tensor, rows: usize) -> Result<Tensor> {
    let out = rows_op("sumsq_rows", x, rows)?;
    let out = record(out, &[x], SumsqRows);
    Ok(out)
}

/// [`sum_rows`]: each element's gradient is its row's.
struct SumRows;

impl BackwardOp for SumRows {
    fn name(&self) -> &'static str {
        "sum_rows"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(super::rows_scale(None, x[0].shape(), g, 1.0)?)])
    }
}

/// [`sumsq_rows`]: `2 x` times the row's gradient.
struct SumsqRows;

impl BackwardOp for SumsqRows {
    fn name(&self) -> &'static str {
        "sumsq_rows"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(super::rows_scale(Some(&x[0]), x[0].shape(), g, 2.0)?)])
    }
}

/// The largest code [`flag_nonfinite`] writes exactly (an f32 holds every integer up to 2²⁴).
pub const MAX_FLAG_CODE: u32 = 1 << 24;

/// A NaN check without a readback: if any value of `x` is NaN or infinite and `flag` (one element,
/// 0 while every check so far passed) is still 0, sets it to `code` (1 ..= [`MAX_FLAG_CODE`]), so
/// the flag keeps the first failure. The host reads the flag when it chooses
/// ([`Tensor::to_vec`], [`Tensor::read_async`]). Not differentiable.
pub fn flag_nonfinite(x: &Tensor, flag: &Tensor, code: u32) -> Result<()> {
    super::same_device(x, flag)?;
    if flag.numel() != 1 || code == 0 || code > MAX_FLAG_CODE {
        return Err(Error::Shape(format!(
            "flag_nonfinite: a one-element flag and a code in 1..={MAX_FLAG_CODE} (got a flag of \
             shape {:?} and code {code})",
            flag.shape()
        )));
    }
    x.gpu().dispatch(
        &KernelId::new("reduce.wgsl", "flag_nonfinite"),
        &ReduceParams {
            len: u32_of(x.numel(), "elements")?,
            code,
            ..Default::default()
        },
        &[x.bind(Access::Read), flag.bind(Access::ReadWrite)],
        [1, 1, 1],
    )
}

/// `values` holds `runs` runs' values for `rows` observations, run after run (`[runs * rows]`);
/// for each observation, the global row `r * rows + i` of the run `r` with the smallest finite
/// value (run 0 when none is finite), as f32 for [`super::particles::gather_rows`]: a choice
/// between runs made on the device. Returns `[rows]`. Not differentiable.
pub fn argmin_runs(values: &Tensor, rows: usize) -> Result<Tensor> {
    if rows == 0 || values.numel() == 0 || !values.numel().is_multiple_of(rows) {
        return Err(Error::Shape(format!(
            "argmin_runs: {} values for {rows} observations",
            values.numel()
        )));
    }
    let out = Tensor::empty(values.gpu(), &[rows])?;
    values.gpu().dispatch(
        &KernelId::new("reduce.wgsl", "argmin_runs"),
        &ReduceParams {
            rows: u32_of(rows, "observations")?,
            len: u32_of(values.numel() / rows, "runs")?,
            ..Default::default()
        },
        &[values.bind(Access::Read), out.bind(Access::ReadWrite)],
        grid1d(rows, 256),
    )?;
    Ok(out)
}
