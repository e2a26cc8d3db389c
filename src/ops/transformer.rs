//! Launchers for `shaders/transformer.wgsl`: the ops of transformer blocks (CLIP's text encoder, the
//! transformer blocks of Stable Diffusion's UNet) — layer norm over the last dimension, GELU in its
//! three forms, the causal mask of self-attention, the head split/merge permutations — and the
//! token-major multi-head attention composed from them with [`matmul`] and [`softmax_rows`].

use super::grad::{record, want};
use super::{MatmulSpec, matmul, same_device, softmax_rows, u32_of};
use crate::error::{Error, Result};
use crate::gpu::params::TransformerParams;
use crate::gpu::{KernelId, grid1d};
use crate::tensor::binds;
use crate::tensor::{BackwardOp, InputGrads, Tensor};

const FILE: &str = "transformer.wgsl";

/// One dispatch of `entry` over `threads` invocations: storage inputs `ins` (bindings 1-4; unused ones
/// repeat the first) and outputs `outs` (bindings 5-6; an unused one is a one-float scratch).
fn launch(
    entry: &'static str,
    p: TransformerParams,
    ins: [&Tensor; 4],
    outs: [Option<&Tensor>; 2],
    threads: usize,
) -> Result<()> {
    let gpu = ins[0].gpu();
    let s0;
    let o0 = match outs[0] {
        Some(t) => t,
        None => {
            s0 = Tensor::empty(gpu, &[1])?;
            &s0
        }
    };
    let s1;
    let o1 = match outs[1] {
        Some(t) => t,
        None => {
            s1 = Tensor::empty(gpu, &[1])?;
            &s1
        }
    };
    let [a, b, c, s] = ins;
    gpu.dispatch(
        &KernelId::new(FILE, entry),
        &p,
        &binds!(a, b, c, s => o0, o1),
        grid1d(threads, 64),
    )
}

/// Layer normalisation over the last dimension of `x` (`[..., C]`), with per-channel `gamma` and
/// `beta` (`[C]`), as `torch.nn.LayerNorm(C, eps)`. Differentiable in all three.
pub fn layer_norm(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f32) -> Result<Tensor> {
    same_device(x, gamma)?;
    same_device(x, beta)?;
    let c = *x.shape().last().unwrap_or(&0);
    if c == 0 || x.numel() == 0 {
        return Err(Error::Shape(format!(
            "layer norm of an empty tensor {:?}",
            x.shape()
        )));
    }
    if gamma.numel() != c || beta.numel() != c {
        return Err(Error::Shape(format!(
            "layer norm over {c} channels with gamma {:?} and beta {:?}",
            gamma.shape(),
            beta.shape()
        )));
    }
    if !(eps.is_finite() && eps >= 0.0) {
        return Err(Error::Shape(format!(
            "layer norm epsilon {eps} (needs a finite value >= 0)"
        )));
    }
    let rows = x.numel() / c;
    let out = Tensor::empty(x.gpu(), x.shape())?;
    let stats = Tensor::empty(x.gpu(), &[rows, 2])?;
    let p = TransformerParams {
        rows: u32_of(rows, "layer norm rows")?,
        len: u32_of(c, "layer norm row")?,
        eps,
        ..Default::default()
    };
    launch(
        "layer_norm",
        p,
        [x, gamma, beta, x],
        [Some(&out), Some(&stats)],
        rows,
    )?;
    Ok(record(out, &[x, gamma, beta], LayerNorm { stats }))
}

/// Gradients of [`layer_norm`] of `x` with scale `gamma` from the output's gradient `dy`: `dx`, and
/// `(dgamma, dbeta)` when `params` (the row statistics are recomputed).
pub fn layer_norm_backward(
    x: &Tensor,
    gamma: &Tensor,
    dy: &Tensor,
    eps: f32,
    params: bool,
) -> Result<(Tensor, Option<(Tensor, Tensor)>)> {
    same_device(x, gamma)?;
    let c = gamma.numel();
    if c == 0 || *x.shape().last().unwrap_or(&0) != c {
        return Err(Error::Shape(format!(
            "layer norm backward of {:?} with gamma {:?}",
            x.shape(),
            gamma.shape()
        )));
    }
    let rows = x.numel() / c;
    let (y, st) = (
        Tensor::empty(x.gpu(), x.shape())?,
        Tensor::empty(x.gpu(), &[rows, 2])?,
    );
    let p = TransformerParams {
        rows: u32_of(rows, "layer norm rows")?,
        len: u32_of(c, "layer norm row")?,
        eps,
        ..Default::default()
    };
    launch("layer_norm", p, [x, gamma, gamma, x], [Some(&y), Some(&st)], rows)?;
    layer_norm_grad(x, gamma, &st, dy, params)
}

/// [`layer_norm_backward`] with the forward's statistics.
fn layer_norm_grad(
    x: &Tensor,
    gamma: &Tensor,
    stats: &Tensor,
    dy: &Tensor,
    params: bool,
) -> Result<(Tensor, Option<(Tensor, Tensor)>)> {
    dy.expect_shape(x.shape(), "layer norm backward: dy")?;
    let c = gamma.numel();
    let rows = x.numel() / c;
    let p = TransformerParams {
        rows: u32_of(rows, "layer norm rows")?,
        len: u32_of(c, "layer norm row")?,
        ..Default::default()
    };
    let dx = Tensor::empty(x.gpu(), x.shape())?;
    launch("layer_norm_dx", p, [x, gamma, dy, stats], [Some(&dx), None], rows)?;
    let pg = if params {
        let (dg, db) = (
            Tensor::empty(x.gpu(), gamma.shape())?,
            Tensor::empty(x.gpu(), gamma.shape())?,
        );
        launch(
            "layer_norm_dparams",
            p,
            [x, gamma, dy, stats],
            [Some(&dg), Some(&db)],
            c,
        )?;
        Some((dg, db))
    } else {
        None
    };
    Ok((dx, pg))
}

/// [`layer_norm`] (inputs x, gamma, beta): the forward's (mean, 1/std) per row.
struct LayerNorm {
    stats: Tensor,
}

impl BackwardOp for LayerNorm {
    fn name(&self) -> &'static str {
        "layer_norm"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, need: &[bool]) -> Result<InputGrads> {
        let (dx, p) = layer_norm_grad(&x[0], &x[1], &self.stats, g, want(need, 1) || want(need, 2))?;
        let (dg, db) = match p {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        Ok(vec![want(need, 0).then_some(dx), dg, db])
    }
}

/// The GELU activations of transformers' `hidden_act` / diffusers' `activation_fn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gelu {
    /// `quick_gelu`: `x * sigmoid(1.702 x)` (OpenAI CLIP, Stable Diffusion 1.x's text encoder).
    Quick,
    /// `gelu`: `x * Phi(x)` with the exact normal CDF (erf).
    Erf,
    /// `gelu_new` / `gelu_pytorch_tanh` / `gelu_fast` (diffusers: `gelu-approximate`): the tanh
    /// approximation.
    Tanh,
}

impl Gelu {
    /// The activation a `hidden_act` (transformers) or `activation_fn` (diffusers) string names,
    /// `None` for one tweedie does not have.
    pub fn from_name(name: &str) -> Option<Gelu> {
        match name {
            "quick_gelu" => Some(Gelu::Quick),
            "gelu" => Some(Gelu::Erf),
            // transformers' names, and diffusers' activation_fn name
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" | "gelu-approximate" => Some(Gelu::Tanh),
            _ => None,
        }
    }

    fn mode(self) -> u32 {
        match self {
            Gelu::Quick => 0,
            Gelu::Erf => 1,
            Gelu::Tanh => 2,
        }
    }
}

/// The GELU `kind` of `x`, elementwise. Differentiable.
pub fn gelu(x: &Tensor, kind: Gelu) -> Result<Tensor> {
    let out = Tensor::empty(x.gpu(), x.shape())?;
    let p = TransformerParams {
        n: u32_of(x.numel(), "gelu")?,
        mode: kind.mode(),
        ..Default::default()
    };
    launch("gelu", p, [x, x, x, x], [Some(&out), None], x.numel())?;
    Ok(record(out, &[x], GeluOp(kind)))
}

/// Gradient of [`gelu`]: `dy * gelu'(x)`.
pub fn gelu_backward(x: &Tensor, dy: &Tensor, kind: Gelu) -> Result<Tensor> {
    dy.expect_shape(x.shape(), "gelu backward: dy")?;
    let out = Tensor::empty(x.gpu(), x.shape())?;
    let p = TransformerParams {
        n: u32_of(x.numel(), "gelu")?,
        mode: kind.mode(),
        ..Default::default()
    };
    launch("gelu_grad", p, [x, x, dy, x], [Some(&out), None], x.numel())?;
    Ok(out)
}

/// [`gelu`] (input x).
struct GeluOp(Gelu);

impl BackwardOp for GeluOp {
    fn name(&self) -> &'static str {
        "gelu"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(gelu_backward(&x[0], g, self.0)?)])
    }
}

/// GEGLU, the gated feed-forward input of diffusers' transformer blocks: for `x` `[rows, 2I]`
/// holding `[h | gate]` per row (as `Linear(dim, 2I)` writes it, split by `chunk(2, dim=-1)`),
/// `h * gelu(gate)` `[rows, I]` with the GELU `kind` (diffusers' `GEGLU`: exact, [`Gelu::Erf`]).
/// Differentiable (one fused kernel each way).
pub fn geglu(x: &Tensor, kind: Gelu) -> Result<Tensor> {
    let s = x.shape();
    let w = *s.last().unwrap_or(&0);
    if x.numel() == 0 || w == 0 || !w.is_multiple_of(2) {
        return Err(Error::Shape(format!(
            "GEGLU of {s:?}: needs [rows, 2 x width] with a non-zero even last dimension"
        )));
    }
    let mut shape = s.to_vec();
    *shape.last_mut().unwrap() = w / 2;
    let out = Tensor::empty(x.gpu(), &shape)?;
    let p = TransformerParams {
        n: u32_of(out.numel(), "geglu")?,
        len: u32_of(w / 2, "geglu")?,
        mode: kind.mode(),
        ..Default::default()
    };
    launch("geglu", p, [x, x, x, x], [Some(&out), None], out.numel())?;
    Ok(record(out, &[x], GegluOp(kind)))
}

/// Gradient of [`geglu`] with respect to its input `x` `[rows, 2I]` from the output's gradient
/// `dy` `[rows, I]`: `[dy * gelu(gate) | dy * h * gelu'(gate)]`.
pub fn geglu_backward(x: &Tensor, dy: &Tensor, kind: Gelu) -> Result<Tensor> {
    same_device(x, dy)?;
    let w = *x.shape().last().unwrap_or(&0);
    if w == 0 || !w.is_multiple_of(2) || dy.numel() * 2 != x.numel() {
        return Err(Error::Shape(format!(
            "GEGLU backward of {:?} with dy {:?}",
            x.shape(),
            dy.shape()
        )));
    }
    let out = Tensor::empty(x.gpu(), x.shape())?;
    let p = TransformerParams {
        n: u32_of(x.numel(), "geglu")?,
        len: u32_of(w / 2, "geglu")?,
        mode: kind.mode(),
        ..Default::default()
    };
    launch("geglu_grad", p, [x, x, dy, x], [Some(&out), None], x.numel())?;
    Ok(out)
}

/// [`geglu`] (input x).
struct GegluOp(Gelu);

impl BackwardOp for GegluOp {
    fn name(&self) -> &'static str {
        "geglu"
    }

    fn backward(&self, x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(geglu_backward(&x[0], g, self.0)?)])
    }
}

/// The causal mask of attention scores `x` laid out as blocks of `[tq, tk]` (query rows, key
/// columns; `tk >= tq`, the queries being the last `tq` of the `tk` positions): the scores of keys
/// after a query's position are replaced by -1e30, so that a softmax gives them weight 0.
/// Differentiable (the gradient passes where the scores were kept).
pub fn causal_mask(x: &Tensor, tq: usize, tk: usize) -> Result<Tensor> {
    if tq == 0 || tk < tq || !x.numel().is_multiple_of(tq * tk) {
        return Err(Error::Shape(format!(
            "causal mask of {tq} queries x {tk} keys over scores {:?}",
            x.shape()
        )));
    }
    let out = Tensor::empty(x.gpu(), x.shape())?;
    launch(
        "causal_mask",
        mask_params(x, tq, tk, 0)?,
        [x, x, x, x],
        [Some(&out), None],
        x.numel(),
    )?;
    Ok(record(out, &[x], CausalMask { tq, tk }))
}

fn mask_params(x: &Tensor, tq: usize, tk: usize, mode: u32) -> Result<TransformerParams> {
    Ok(TransformerParams {
        n: u32_of(x.numel(), "causal mask")?,
        len: u32_of(tk, "causal mask")?,
        t: u32_of(tq, "causal mask")?,
        mode,
        ..Default::default()
    })
}

/// [`causal_mask`] (input x).
struct CausalMask {
    tq: usize,
    tk: usize,
}

impl BackwardOp for CausalMask {
    fn name(&self) -> &'static str {
        "causal_mask"
    }

    fn backward(&self, _x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        let out = Tensor::empty(g.gpu(), g.shape())?;
        let p = mask_params(g, self.tq, self.tk, 1)?;
        launch("causal_mask", p, [g, g, g, g], [Some(&out), None], g.numel())?;
        Ok(vec![Some(out)])
    }
}

/// The sizes of a head permutation: `batch` x `tokens` x `heads` x `dim_head`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heads {
    /// Batch.
    pub batch: usize,
    /// Tokens.
    pub tokens: usize,
    /// Heads.
    pub heads: usize,
    /// Channels a head.
    pub dim_head: usize,
}

impl Heads {
    fn numel(&self) -> usize {
        self.batch * self.tokens * self.heads * self.dim_head
    }
}

/// `[B, T, H*d]` (token-major, heads interleaved as a projection writes them) to `[B*H, T, d]`.
/// Differentiable.
pub fn split_heads(x: &Tensor, h: Heads) -> Result<Tensor> {
    permute(x, h, false)
}

/// `[B*H, T, d]` back to `[B, T, H*d]` (the inverse of [`split_heads`]). Differentiable.
pub fn merge_heads(x: &Tensor, h: Heads) -> Result<Tensor> {
    permute(x, h, true)
}

fn permute(x: &Tensor, h: Heads, merge: bool) -> Result<Tensor> {
    if x.numel() != h.numel() || h.numel() == 0 {
        return Err(Error::Shape(format!(
            "head permutation of {:?} as {h:?}",
            x.shape()
        )));
    }
    let shape = if merge {
        [h.batch, h.tokens, h.heads * h.dim_head]
    } else {
        [h.batch * h.heads, h.tokens, h.dim_head]
    };
    let out = Tensor::empty(x.gpu(), &shape)?;
    let u = |v: usize| u32_of(v, "head permutation");
    let p = TransformerParams {
        n: u(h.numel())?,
        mode: merge as u32,
        t: u(h.tokens)?,
        h: u(h.heads)?,
        d: u(h.dim_head)?,
        ..Default::default()
    };
    launch("permute_heads", p, [x, x, x, x], [Some(&out), None], h.numel())?;
    Ok(record(out, &[x], Permute { heads: h, merge }))
}

/// [`split_heads`] / [`merge_heads`] (input x): the backward is the other permutation.
struct Permute {
    heads: Heads,
    merge: bool,
}

impl BackwardOp for Permute {
    fn name(&self) -> &'static str {
        "permute_heads"
    }

    fn backward(&self, _x: &[Tensor], _out: &Tensor, g: &Tensor, _need: &[bool]) -> Result<InputGrads> {
        Ok(vec![Some(permute(&g.detach(), self.heads, !self.merge)?)])
    }
}

/// The sizes of a token-major multi-head attention ([`attention_tokens`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TokenAttentionSpec {
    /// Batch.
    pub batch: usize,
    /// Heads.
    pub heads: usize,
    /// Query tokens.
    pub tq: usize,
    /// Key (and value) tokens.
    pub tk: usize,
    /// Channels a head.
    pub dim_head: usize,
    /// Scale of the scores (`1 / sqrt(dim_head)`).
    pub alpha: f32,
    /// Whether a query sees only the keys up to its position ([`causal_mask`]).
    pub causal: bool,
}

/// Multi-head attention over token-major tensors, as transformers' and diffusers' attention layers
/// lay them out: `q` `[B, tq, H*d]`, `k` and `v` `[B, tk, H*d]` (heads interleaved per token, as the
/// projections write them). Returns `[B, tq, H*d]`: per head, `softmax(alpha q k^T (+ causal mask)) v`.
/// Composed from [`split_heads`], [`matmul`], [`causal_mask`], [`softmax_rows`] and [`merge_heads`],
/// so differentiable in `q`, `k` and `v` on every adapter.
pub fn attention_tokens(q: &Tensor, k: &Tensor, v: &Tensor, s: TokenAttentionSpec) -> Result<Tensor> {
    let inner = s.heads * s.dim_head;
    for (t, name, len) in [(q, "q", s.tq), (k, "k", s.tk), (v, "v", s.tk)] {
        if t.numel() != s.batch * len * inner || t.numel() == 0 {
            return Err(Error::Shape(format!(
                "token attention {name} {:?} for batch {} x {len} tokens x {} heads of {} channels",
                t.shape(),
                s.batch,
                s.heads,
                s.dim_head
            )));
        }
        same_device(q, t)?;
    }
    let hd = |tokens| Heads {
        batch: s.batch,
        tokens,
        heads: s.heads,
        dim_head: s.dim_head,
    };
    let (qh, kh, vh) = (
        split_heads(q, hd(s.tq))?,
        split_heads(k, hd(s.tk))?,
        split_heads(v, hd(s.tk))?,
    );
    let (bh, d) = (s.batch * s.heads, s.dim_head);
    // scores[bh, i, j] = alpha q[bh, i, :] . k[bh, j, :]
    let scores = matmul(
        &qh,
        &kh,
        None,
        MatmulSpec {
            batch: bh,
            m: s.tq,
            n: s.tk,
            k: d,
            a_strides: [s.tq * d, d, 1],
            b_strides: [s.tk * d, 1, d],
            alpha: s.alpha,
        },
    )?;
    let scores = if s.causal {
        causal_mask(&scores, s.tq, s.tk)?
    } else {
        scores
    };
    let probs = softmax_rows(&scores, 1.0)?;
    drop(scores);
    let o = matmul(&probs, &vh, None, MatmulSpec::contiguous(bh, s.tq, d, s.tk))?;
    merge_heads(&o, hd(s.tq))
}
