#!/usr/bin/env python3
"""Generate golden fixtures for tweedie's UNet2DConditionModel (issue #34).

For each small random-weight diffusers ``UNet2DConditionModel`` this writes
``tests/fixtures/unet_cond/<name>/`` containing

* ``config.json`` + ``diffusion_pytorch_model.safetensors`` -- written by
  diffusers' own ``save_pretrained(dir, safe_serialization=True)``, with the
  parameters stored in the fixture's dtype (f32 / f16);
* ``scheduler_config.json`` -- diffusers' ``DDIMScheduler`` config (one
  fixture predicts ``v_prediction`` with SD 2.x's scaled-linear betas);
* ``io.safetensors`` -- f32 tensors
    ``x``        [B,C,h,w]    latent input (randn)
    ``t``        [1]          timestep (the whole batch)
    ``cond``     [1 or B,T,D] encoder hidden states (randn; [1,...] is
                              broadcast over the batch, as tweedie does)
    ``uncond``   [1,T,D]      a second embedding, the "empty prompt"
    ``out``      [B,C',h,w]   ``unet(x, t, cond).sample`` (the raw output)
    ``w``        like out     randn cotangent
    ``vjp``      like x       d<w, out>/dx   (torch.autograd)
    ``guidance`` [1]          a guidance scale g
    ``cfg``      like out     diffusers' classifier-free guidance of the
                              model's epsilon: e_u + g (e_c - e_u), with the
                              two branches run as one batch of 2B as the
                              pipelines do (``torch.cat([uncond, cond])``)
    ``cfg_vjp``  like x       d<w, cfg>/dx
    ``alpha_bar``[1]          the scheduler's alphas_cumprod[t]

  and, for the fixture paired with a CLIP fixture (``clip``), the pipeline's
  path: PROMPT and the empty prompt tokenized by transformers' CLIPTokenizer
  (padded to the maximum length, as StableDiffusionPipeline pads) and encoded
  by its CLIPTextModel (tests/fixtures/clip/<clip>/, written by
  make_clip_goldens.py), then
    ``prompt_out`` like out   unet(x, t, clip(PROMPT)).sample
    ``prompt_cfg`` like out   e_u + g (e_c - e_u) with e_u from clip("")

  where the model's epsilon is ``out`` for ``epsilon`` prediction and
  ``sqrt(alpha_bar) out + sqrt(1 - alpha_bar) x`` for ``v_prediction``
  (diffusers' DDIMScheduler.step's ``pred_epsilon``).

Goldens are computed in float64 from the weights *as stored in the file* (the
model is reloaded with ``from_pretrained`` and cast to float64), then written
as f32. Weights: diffusers' default init, then every GroupNorm/LayerNorm weight
``1 + 0.2*randn`` and bias ``0.2*randn``, every other bias ``0.1*randn`` (so
every path carries signal).

Run (from the repository root; deterministic, a few seconds on 2 cores):
    nice -n 19 /root/venv/bin/python tests/reference/make_unet_cond_goldens.py
"""

import json
import os
import shutil

import torch
from diffusers import DDIMScheduler, UNet2DConditionModel
from diffusers.utils import logging as dlogging
from safetensors.torch import save_file

torch.set_num_threads(2)
dlogging.set_verbosity_error()

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "unet_cond")
DTYPES = {"f32": torch.float32, "f16": torch.float16}

MODELS = {
    # SD 1.x layout: 1x1 convolution proj_in/proj_out, attention_head_dim an int (= 2 heads per
    # block, whatever the width), 7 tokens against 64 or 16 query pixels, square latent, batch 2
    # with one embedding broadcast over the batch; its cross_attention_dim is the hidden size of
    # the CLIP fixture tests/fixtures/clip/sd1, which encodes PROMPT for the prompt goldens
    "sd1_conv": dict(
        config=dict(
            in_channels=4,
            out_channels=4,
            block_out_channels=(8, 16),
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
            layers_per_block=1,
            norm_num_groups=4,
            cross_attention_dim=48,
            attention_head_dim=2,
            sample_size=8,
        ),
        batch=2, hw=(8, 8), tokens=7, cond_batch=1, t=601, dtype="f32", seed=3501, clip="sd1",
        scheduler=dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                       prediction_type="epsilon"),
    ),
    # SD 2.x layout: linear proj_in/proj_out, attention_head_dim a per-block list, three levels,
    # a non-square latent, two transformer blocks a level, upcast_attention (SD 2.1), f16 weights,
    # v_prediction
    "sd2_linear": dict(
        config=dict(
            in_channels=4,
            out_channels=4,
            block_out_channels=(8, 16, 16),
            down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            layers_per_block=1,
            transformer_layers_per_block=(2, 1, 1),
            norm_num_groups=4,
            cross_attention_dim=10,
            attention_head_dim=(1, 2, 4),
            use_linear_projection=True,
            upcast_attention=True,
            sample_size=(8, 12),
        ),
        batch=1, hw=(8, 12), tokens=5, cond_batch=1, t=333, dtype="f16", seed=3502,
        scheduler=dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                       prediction_type="v_prediction"),
    ),
    # odd sizes: a 6x10 latent, 3 heads over 12 and 16 channels (head widths 4 and 5, so the
    # 16-channel blocks' transformer width is 15, not 16), only_cross_attention, diffusers'
    # other time-embedding layout, 3 latent channels, batch 2 with one embedding each
    "odd_6x10": dict(
        config=dict(
            in_channels=3,
            out_channels=3,
            block_out_channels=(12, 16),
            down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
            layers_per_block=1,
            norm_num_groups=4,
            cross_attention_dim=6,
            attention_head_dim=3,
            only_cross_attention=True,
            flip_sin_to_cos=False,
            freq_shift=1,
        ),
        batch=2, hw=(6, 10), tokens=7, cond_batch=2, t=77, dtype="f32", seed=3503,
        scheduler=dict(beta_schedule="linear", beta_start=0.0001, beta_end=0.02,
                       prediction_type="epsilon"),
    ),
}

GUIDANCE = 7.5
PROMPT = "a photograph of an astronaut riding a horse"


def clip_embed(name, prompts):
    """last_hidden_state of the CLIP fixture ``name`` for ``prompts`` (float64)."""
    from transformers import CLIPTextModel, CLIPTokenizer

    base = os.path.join(ROOT, "tests", "fixtures", "clip", name)
    tk = CLIPTokenizer.from_pretrained(os.path.join(base, "tokenizer"))
    enc = tk(prompts, padding="max_length", max_length=tk.model_max_length, truncation=True,
             return_tensors="pt")
    te = CLIPTextModel.from_pretrained(os.path.join(base, "text_encoder"),
                                       attn_implementation="eager").double().eval()
    with torch.no_grad():
        return te(enc.input_ids).last_hidden_state


def perturb_(model, gen):
    with torch.no_grad():
        norm = set()
        for mod in model.modules():
            if isinstance(mod, (torch.nn.GroupNorm, torch.nn.LayerNorm)):
                mod.weight.copy_(1.0 + 0.2 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.2 * torch.randn(mod.bias.shape, generator=gen))
                norm.add(id(mod.weight))
                norm.add(id(mod.bias))
        for name, p in model.named_parameters():
            if name.endswith("bias") and id(p) not in norm:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def make_fixture(name, spec):
    out = os.path.join(FIXTURES, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    torch.manual_seed(spec["seed"])
    model = UNet2DConditionModel(**spec["config"]).eval()
    perturb_(model, torch.Generator().manual_seed(spec["seed"] + 1))
    dtype = DTYPES[spec["dtype"]]
    model.to(dtype)
    model.save_pretrained(out, safe_serialization=True)
    os.chmod(os.path.join(out, "diffusion_pytorch_model.safetensors"), 0o644)
    sched = DDIMScheduler(num_train_timesteps=1000, clip_sample=False, **spec["scheduler"])
    sched.save_config(out)
    os.chmod(os.path.join(out, "scheduler_config.json"), 0o644)
    m64 = UNet2DConditionModel.from_pretrained(out, torch_dtype=dtype).eval().double()

    cfg = spec["config"]
    b, (h, w), tk = spec["batch"], spec["hw"], spec["tokens"]
    gen = torch.Generator().manual_seed(spec["seed"] + 2)
    x = torch.randn((b, cfg["in_channels"], h, w), generator=gen)
    cond = torch.randn((spec["cond_batch"], tk, cfg["cross_attention_dim"]), generator=gen)
    uncond = torch.randn((1, tk, cfg["cross_attention_dim"]), generator=gen)
    t = spec["t"]
    ab = sched.alphas_cumprod[t].double()
    v_pred = spec["scheduler"]["prediction_type"] == "v_prediction"

    def eps_of(raw, xx):
        return ab.sqrt() * raw + (1 - ab).sqrt() * xx if v_pred else raw

    x64 = x.double().clone().requires_grad_(True)
    cond_b = cond.double().expand(b, -1, -1)
    raw = m64(x64, t, encoder_hidden_states=cond_b).sample
    wv = torch.randn(raw.shape, generator=gen)
    (vjp,) = torch.autograd.grad((raw * wv.double()).sum(), x64)

    # classifier-free guidance as StableDiffusionPipeline runs it: one batch of [uncond; cond]
    x64 = x.double().clone().requires_grad_(True)
    both = torch.cat([uncond.double().expand(b, -1, -1), cond_b])
    raw2 = m64(torch.cat([x64, x64]), t, encoder_hidden_states=both).sample
    e_u, e_c = eps_of(raw2, torch.cat([x64, x64])).chunk(2)
    cfg_out = e_u + GUIDANCE * (e_c - e_u)
    (cfg_vjp,) = torch.autograd.grad((cfg_out * wv.double()).sum(), x64)

    extra = {}
    if "clip" in spec:
        emb_c, emb_u = clip_embed(spec["clip"], [PROMPT, ""]).chunk(2)
        with torch.no_grad():
            xx = x.double()
            p_c = eps_of(m64(xx, t, encoder_hidden_states=emb_c.expand(b, -1, -1)).sample, xx)
            p_u = eps_of(m64(xx, t, encoder_hidden_states=emb_u.expand(b, -1, -1)).sample, xx)
        extra = {
            "prompt_out": p_c.float().contiguous(),
            "prompt_cfg": (p_u + GUIDANCE * (p_c - p_u)).float().contiguous(),
        }
    save_file(
        {
            **extra,
            "x": x.float().contiguous(),
            "t": torch.tensor([float(t)]),
            "cond": cond.float().contiguous(),
            "uncond": uncond.float().contiguous(),
            "out": raw.detach().float().contiguous(),
            "w": wv.float().contiguous(),
            "vjp": vjp.float().contiguous(),
            "guidance": torch.tensor([GUIDANCE]),
            "cfg": cfg_out.detach().float().contiguous(),
            "cfg_vjp": cfg_vjp.float().contiguous(),
            "alpha_bar": torch.tensor([float(ab)]),
        },
        os.path.join(out, "io.safetensors"),
    )
    os.chmod(os.path.join(out, "io.safetensors"), 0o644)
    # the f32 forward of the stored weights against the f64 golden: the scale of a fair tolerance
    m32 = UNet2DConditionModel.from_pretrained(out, torch_dtype=dtype).eval().float()
    with torch.no_grad():
        r32 = m32(x, t, encoder_hidden_states=cond.expand(b, -1, -1)).sample.double()
    rel = lambda a, r: ((a - r).norm() / r.norm()).item()
    size = sum(os.path.getsize(os.path.join(out, p)) for p in os.listdir(out))
    print(f"{name:12s} {spec['dtype']} out.std={raw.std().item():.3f} vjp.std={vjp.std().item():.3f} "
          f"cfg.std={cfg_out.std().item():.3f} f32-vs-f64 {rel(r32, raw.detach()):.1e} "
          f"size={size / 1024:.1f} KiB")
    assert torch.isfinite(vjp).all() and torch.isfinite(cfg_vjp).all()
    return size


def main():
    torch.use_deterministic_algorithms(True)
    total = sum(make_fixture(n, s) for n, s in MODELS.items())
    print(f"total: {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
