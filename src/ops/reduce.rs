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
