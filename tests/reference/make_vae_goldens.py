#!/usr/bin/env python3
"""Generate golden fixtures for tweedie's AutoencoderKL (issue #34).

For each small random-weight diffusers ``AutoencoderKL`` this writes
``tests/fixtures/vae/<name>/`` containing

* ``config.json`` + ``diffusion_pytorch_model.safetensors`` -- written by
  diffusers' own ``save_pretrained(dir, safe_serialization=True)``, with the
  parameters stored in the fixture's dtype (f32 / f16);
* ``io.safetensors`` -- f32 tensors
    ``x``     [B,C,H,W]      encoder input (uniform in [-1, 1], an image's range)
    ``mean``  [B,L,H/f,W/f]  ``vae.encode(x).latent_dist.mean``
    ``z``     [B,L,H/f,W/f]  decoder input (randn, the unscaled latent)
    ``dec``   [B,C',H,W]     ``vae.decode(z).sample``
    ``v``     like dec       randn cotangent
    ``vjp``   like z         d<v, dec>/dz   (torch.autograd)

Goldens are computed in float64 from the weights *as stored in the file* (the
model is reloaded with ``from_pretrained`` and cast to float64), then written
as f32. Weights: diffusers' default init, then every GroupNorm weight
``1 + 0.2*randn`` and bias ``0.2*randn``, every other bias ``0.1*randn``.

Run (from the repository root; deterministic, a few seconds on 2 cores):
    nice -n 19 /root/venv/bin/python tests/reference/make_vae_goldens.py
"""

import os
import shutil

import torch
from diffusers import AutoencoderKL
from diffusers.utils import logging as dlogging
from safetensors.torch import save_file

torch.set_num_threads(2)
dlogging.set_verbosity_error()

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "vae")
DTYPES = {"f32": torch.float32, "f16": torch.float16}

MODELS = {
    # two levels, odd group count (3 groups of 4 and 6 channels), SD3/Flux-style shift_factor
    "two_level_shift": dict(
        config=dict(
            in_channels=3,
            out_channels=3,
            latent_channels=4,
            block_out_channels=(12, 18),
            down_block_types=("DownEncoderBlock2D",) * 2,
            up_block_types=("UpDecoderBlock2D",) * 2,
            layers_per_block=1,
            norm_num_groups=3,
            sample_size=16,
            scaling_factor=0.3611,
            shift_factor=0.1159,
        ),
        batch=2, hw=(16, 16), dtype="f32", seed=3401,
    ),
    # three levels, five groups, two resnets per encoder block (three per decoder block), no
    # quant convs, a non-square grayscale image, weights stored in f16
    "three_level_noquant": dict(
        config=dict(
            in_channels=1,
            out_channels=1,
            latent_channels=3,
            block_out_channels=(10, 15, 20),
            down_block_types=("DownEncoderBlock2D",) * 3,
            up_block_types=("UpDecoderBlock2D",) * 3,
            layers_per_block=2,
            norm_num_groups=5,
            sample_size=32,
            scaling_factor=0.18215,
            use_quant_conv=False,
            use_post_quant_conv=False,
        ),
        batch=1, hw=(32, 20), dtype="f16", seed=3402,
    ),
    # one level (no resampling), no mid-block attention, diffusers' defaults otherwise
    "one_level_noattn": dict(
        config=dict(
            in_channels=3,
            out_channels=2,
            latent_channels=2,
            block_out_channels=(8,),
            down_block_types=("DownEncoderBlock2D",),
            up_block_types=("UpDecoderBlock2D",),
            layers_per_block=1,
            norm_num_groups=4,
            mid_block_add_attention=False,
        ),
        batch=2, hw=(6, 10), dtype="f32", seed=3403,
    ),
}


def perturb_(model, gen):
    with torch.no_grad():
        gn = set()
        for mod in model.modules():
            if isinstance(mod, torch.nn.GroupNorm):
                mod.weight.copy_(1.0 + 0.2 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.2 * torch.randn(mod.bias.shape, generator=gen))
                gn.add(id(mod.weight))
                gn.add(id(mod.bias))
        for name, p in model.named_parameters():
            if name.endswith("bias") and id(p) not in gn:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def make_fixture(name, spec):
    out = os.path.join(FIXTURES, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    torch.manual_seed(spec["seed"])
    model = AutoencoderKL(**spec["config"]).eval()
    perturb_(model, torch.Generator().manual_seed(spec["seed"] + 1))
    dtype = DTYPES[spec["dtype"]]
    model.to(dtype)
    model.save_pretrained(out, safe_serialization=True)
    os.chmod(os.path.join(out, "diffusion_pytorch_model.safetensors"), 0o644)
    m64 = AutoencoderKL.from_pretrained(out, torch_dtype=dtype).eval().double()

    cfg = spec["config"]
    b, (h, w) = spec["batch"], spec["hw"]
    f = 2 ** (len(cfg["block_out_channels"]) - 1)
    gen = torch.Generator().manual_seed(spec["seed"] + 2)
    x = torch.rand((b, cfg["in_channels"], h, w), generator=gen) * 2 - 1
    z = torch.randn((b, cfg["latent_channels"], h // f, w // f), generator=gen)
    with torch.no_grad():
        mean = m64.encode(x.double()).latent_dist.mean
    z64 = z.double().clone().requires_grad_(True)
    dec = m64.decode(z64).sample
    v = torch.randn(dec.shape, generator=gen)
    (vjp,) = torch.autograd.grad((dec * v.double()).sum(), z64)
    save_file(
        {
            "x": x.float().contiguous(),
            "mean": mean.float().contiguous(),
            "z": z.float().contiguous(),
            "dec": dec.detach().float().contiguous(),
            "v": v.float().contiguous(),
            "vjp": vjp.float().contiguous(),
        },
        os.path.join(out, "io.safetensors"),
    )
    os.chmod(os.path.join(out, "io.safetensors"), 0o644)
    # the f32 forward of the stored weights against the f64 golden: the scale of a fair tolerance
    m32 = AutoencoderKL.from_pretrained(out, torch_dtype=dtype).eval().float()
    with torch.no_grad():
        d32 = m32.decode(z).sample.double()
        e32 = m32.encode(x).latent_dist.mean.double()
    rel = lambda a, r: ((a - r).norm() / r.norm()).item()
    size = sum(os.path.getsize(os.path.join(out, p)) for p in os.listdir(out))
    print(f"{name:20s} {spec['dtype']} mean.std={mean.std().item():.3f} dec.std={dec.std().item():.3f} "
          f"vjp.std={vjp.std().item():.3f} f32-vs-f64 mean {rel(e32, mean):.1e} dec {rel(d32, dec.detach()):.1e} "
          f"size={size / 1024:.1f} KiB")
    assert torch.isfinite(vjp).all()
    return size


def main():
    torch.use_deterministic_algorithms(True)
    total = sum(make_fixture(n, s) for n, s in MODELS.items())
    print(f"total: {total / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
