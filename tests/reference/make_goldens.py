#!/usr/bin/env python3
"""Generate golden fixtures for tweedie's UNet2DModel implementation.

For each small random-weight diffusers ``UNet2DModel`` this writes
``tests/fixtures/<name>/`` containing

* ``config.json`` + ``diffusion_pytorch_model.safetensors`` -- written by
  diffusers' own ``save_pretrained(dir, safe_serialization=True)``, with the
  parameters stored in the fixture's dtype (f32 / f16 / bf16);
* ``io.safetensors`` -- f32 tensors
    ``x``   [B,C,H,W]  model input (randn)
    ``t``   [1]        integer-valued timestep, as f32
    ``eps`` [B,C',H,W] ``model(x, t).sample``
    ``v``   like eps   randn cotangent
    ``vjp`` like x     d<v, eps>/dx   (torch.autograd)

Goldens are computed in float64 from the weights *as stored in the file*
(the model is reloaded from disk with ``from_pretrained`` and cast to
float64), then written as f32.

With ``--fmnist [DIR]`` it instead writes ``tests/fixtures/fmnist32_io.safetensors``
(x: batch 2 randn 1x32x32, t=250, eps, v, vjp) for the trained prior in
``weights/fmnist32`` (or DIR).

Run (from the repository root):
    nice -n 19 /tmp/ref/bin/python tests/reference/make_goldens.py
    nice -n 19 /tmp/ref/bin/python tests/reference/make_goldens.py --fmnist
"""

import argparse
import json
import os
import shutil
import sys

import torch
from diffusers import UNet2DModel
from diffusers.utils import logging as dlogging
from safetensors.torch import save_file, load_file

torch.set_num_threads(2)
dlogging.set_verbosity_error()

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

DTYPES = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}

# name -> (config kwargs, input (B,H,W), timestep, stored dtype, seed)
MODELS = {
    "attn_heads": dict(
        config=dict(
            sample_size=16,
            in_channels=3,
            out_channels=3,
            block_out_channels=(32, 64),
            layers_per_block=1,
            down_block_types=("AttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "AttnUpBlock2D"),
            norm_num_groups=8,
            attention_head_dim=8,
            flip_sin_to_cos=True,
            freq_shift=0,
        ),
        batch=2, hw=(16, 16), t=37, dtype="f32", seed=1001,
    ),
    "odd_cifarlike": dict(
        config=dict(
            sample_size=(24, 20),
            in_channels=1,
            out_channels=2,
            block_out_channels=(15, 21, 21),
            norm_num_groups=3,
            layers_per_block=2,
            down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=None,
            downsample_padding=0,
            flip_sin_to_cos=False,
            freq_shift=1,
            norm_eps=1e-6,
        ),
        batch=3, hw=(24, 20), t=999, dtype="f16", seed=1002,
    ),
    # the soak test's model: the fewest kernels a step (one level of resnets, no attention outside
    # the mid block), so 1,000 DPS steps fit a CI run
    "tiny": dict(
        config=dict(
            sample_size=8,
            in_channels=1,
            out_channels=1,
            block_out_channels=(8, 8),
            layers_per_block=1,
            down_block_types=("DownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "UpBlock2D"),
            norm_num_groups=4,
            attention_head_dim=None,
        ),
        batch=1, hw=(8, 8), t=300, dtype="f32", seed=1004,
    ),
    "multi_attn": dict(
        config=dict(
            sample_size=32,
            in_channels=3,
            out_channels=3,
            block_out_channels=(16, 32, 32),
            down_block_types=("AttnDownBlock2D", "AttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "AttnUpBlock2D", "AttnUpBlock2D"),
            attention_head_dim=8,
            norm_num_groups=4,
            norm_eps=1e-5,
            mid_block_scale_factor=1.414,
            center_input_sample=True,
            layers_per_block=1,
            downsample_padding=1,
        ),
        batch=2, hw=(32, 32), t=500, dtype="bf16", seed=1003,
    ),
}


def perturb_(model: UNet2DModel, gen: torch.Generator) -> None:
    """Make every parameter non-trivial (no all-zero biases, no all-one norm gains).

    GroupNorm: weight = 1 + 0.2*randn, bias = 0.2*randn; every other bias = 0.1*randn.
    Weights otherwise keep PyTorch/diffusers' default init.
    """
    with torch.no_grad():
        gn = set()
        for mod in model.modules():
            if isinstance(mod, torch.nn.GroupNorm):
                mod.weight.copy_(1.0 + 0.2 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.2 * torch.randn(mod.bias.shape, generator=gen))
                gn.add(id(mod.weight)); gn.add(id(mod.bias))
        for name, p in model.named_parameters():
            if name.endswith("bias") and id(p) not in gn:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def golden(model64: UNet2DModel, x: torch.Tensor, t: int, v_gen: torch.Generator):
    """eps, v, vjp in float64 for a float64 model."""
    x64 = x.double().clone().requires_grad_(True)
    tt = torch.tensor([float(t)], dtype=torch.float64)
    eps = model64(x64, tt).sample
    v = torch.randn(eps.shape, generator=v_gen, dtype=torch.float32)
    (vjp,) = torch.autograd.grad((eps * v.double()).sum(), x64)
    return eps.detach(), v, vjp.detach()


def write_io(path: str, x, t, eps, v, vjp, meta: dict) -> None:
    tensors = {
        "x": x.float().contiguous(),
        "t": torch.tensor([float(t)], dtype=torch.float32),
        "eps": eps.float().contiguous(),
        "v": v.float().contiguous(),
        "vjp": vjp.float().contiguous(),
    }
    # No safetensors metadata: it is serialized from a hash map in random key
    # order, which would make the fixture bytes non-reproducible.
    del meta
    save_file(tensors, path)


def dir_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def make_fixture(name: str, spec: dict) -> int:
    out = os.path.join(FIXTURES, name)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)

    torch.manual_seed(spec["seed"])
    model = UNet2DModel(**spec["config"]).eval()
    gen = torch.Generator().manual_seed(spec["seed"] + 1)
    perturb_(model, gen)

    dtype = DTYPES[spec["dtype"]]
    model.to(dtype)
    model.save_pretrained(out, safe_serialization=True)
    os.chmod(os.path.join(out, "diffusion_pytorch_model.safetensors"), 0o644)

    # Reload exactly what is on disk, compute in float64.
    loaded = UNet2DModel.from_pretrained(out, torch_dtype=dtype).eval()
    for (n1, p1), (n2, p2) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert n1 == n2 and p1.dtype == p2.dtype and torch.equal(p1, p2), n1
    stored = load_file(os.path.join(out, "diffusion_pytorch_model.safetensors"))
    assert all(tns.dtype == dtype for tns in stored.values()), "unexpected stored dtype"
    model64 = loaded.double()

    b = spec["batch"]
    h, w = spec["hw"]
    cin = spec["config"]["in_channels"]
    dgen = torch.Generator().manual_seed(spec["seed"] + 2)
    x = torch.randn((b, cin, h, w), generator=dgen, dtype=torch.float32)
    eps, v, vjp = golden(model64, x, spec["t"], dgen)

    nparams = sum(p.numel() for p in model64.parameters())
    meta = dict(name=name, stored_dtype=spec["dtype"], t=spec["t"], params=nparams,
                compute="float64", seed=spec["seed"])
    write_io(os.path.join(out, "io.safetensors"), x, spec["t"], eps, v, vjp, meta)

    # sanity: f32 forward on the f32-cast stored weights should be close to the f64 golden
    m32 = UNet2DModel.from_pretrained(out, torch_dtype=dtype).float().eval()
    with torch.no_grad():
        e32 = m32(x, torch.tensor([float(spec["t"])])).sample.double()
    rel = ((e32 - eps).norm() / eps.norm()).item()

    size = dir_size(out)
    print(f"{name:14s} dtype={spec['dtype']:4s} params={nparams:7d} x={tuple(x.shape)} "
          f"eps={tuple(eps.shape)} eps.std={eps.std().item():.3f} eps.mean={eps.mean().item():+.3f} "
          f"vjp.std={vjp.std().item():.3f} f32-vs-f64 rel={rel:.2e} size={size/1024:.1f} KiB")
    assert 0.1 < eps.std().item() < 10.0, f"{name}: eps std out of range"
    assert torch.isfinite(vjp).all()
    return size


def make_fmnist(model_dir: str) -> None:
    out = os.path.join(FIXTURES, "fmnist32_io.safetensors")
    os.makedirs(FIXTURES, exist_ok=True)
    stored = load_file(os.path.join(model_dir, "diffusion_pytorch_model.safetensors"))
    sdt = {tns.dtype for tns in stored.values()}
    assert len(sdt) == 1, sdt
    dtype = sdt.pop()
    model64 = UNet2DModel.from_pretrained(model_dir, torch_dtype=dtype).eval().double()
    gen = torch.Generator().manual_seed(2050)
    cfg = model64.config
    x = torch.randn((2, cfg.in_channels, 32, 32), generator=gen, dtype=torch.float32)
    t = 250
    eps, v, vjp = golden(model64, x, t, gen)
    nparams = sum(p.numel() for p in model64.parameters())
    write_io(out, x, t, eps, v, vjp,
             dict(name="fmnist32", stored_dtype=str(dtype), t=t, params=nparams,
                  compute="float64", model_dir=os.path.relpath(model_dir, ROOT)))
    print(f"fmnist32: params={nparams} stored={dtype} eps.std={eps.std().item():.3f} "
          f"vjp.std={vjp.std().item():.3f} size={os.path.getsize(out)/1024:.1f} KiB -> {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fmnist", nargs="?", const=os.path.join(ROOT, "weights", "fmnist32"), default=None,
                    metavar="DIR", help="write tests/fixtures/fmnist32_io.safetensors for the trained prior "
                                         "(default DIR: weights/fmnist32) instead of the random-weight fixtures")
    ap.add_argument("--only", nargs="*", default=None, help="subset of random-weight fixtures to build")
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)

    if args.fmnist is not None:
        make_fmnist(args.fmnist)
        return

    total = 0
    for name, spec in MODELS.items():
        if args.only and name not in args.only:
            continue
        total += make_fixture(name, spec)
    print(f"total random-weight fixtures: {total/1024:.1f} KiB")


if __name__ == "__main__":
    main()
