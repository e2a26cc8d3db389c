#!/usr/bin/env python3
"""Golden fixtures for guided-diffusion (ADM) models, made with the official code.

Builds small random-weight ``UNetModel``s of openai/guided-diffusion with the official
``guided_diffusion.script_util.create_model`` (the function the official sampling scripts call)
and writes, for each, ``tests/fixtures/adm/<name>/``:

* ``model.pt`` -- ``torch.save(model.state_dict(), path)``, float32, default zip format: exactly how
  the official checkpoints are saved (train_util saves ``model.state_dict()`` the same way);
* ``config.json`` -- the ``create_model`` arguments under guided-diffusion's own names (flat);
* ``golden.safetensors`` -- f32 tensors
    ``x``     [2,3,H,W]    model input (randn)
    ``t``     [2]          integer-valued timesteps (37, 811) as f32; the model is called as
                           ``model(x, t)`` like guided-diffusion does (no rescaling)
    ``out``   [2,3|6,H,W]  full model output, f32 forward
    ``out64`` like out     the same in float64
    ``v``     [2,3,H,W]    randn cotangent
    ``vjp``   [2,3,H,W]    d<v, out[:, :3]>/dx (the epsilon channels) in float64
* ``keys.txt`` (small64 only) -- sorted ``name d0,d1,...`` lines of the state dict.

Weights: guided-diffusion zero-initialises the last conv of every ResBlock, every attention
``proj_out`` and the final output conv, so after construction *every* parameter is drawn again
from a fixed-seed generator: conv/linear weights N(0, 1/fan_in), biases N(0, 0.05^2), GroupNorm
weights 1 + N(0, 0.1^2), GroupNorm biases N(0, 0.1^2).

Float64: the official forward casts to f32 on purpose in four places (``GroupNorm32`` runs on
``x.float()``, ``timestep_embedding`` on ``timesteps.float()``, ``h = x.type(self.dtype)`` with
``self.dtype = th.float32``, and the attention softmax on ``weight.float()``), so ``model.double()``
alone fails.  The f64 pass sets ``model.dtype = torch.float64`` and, only while it runs (forward
and backward: attention is always gradient-checkpointed and recomputed in the backward pass),
makes ``Tensor.float()`` a no-op on f64 tensors.  The official files are not modified.  The f32
``freqs`` of ``timestep_embedding`` (built with ``dtype=th.float32``) stay f32 in both passes.

The script is deterministic: rerunning it reproduces the files byte for byte.

Run (from the repository root; torch, numpy and safetensors; no other guided-diffusion
dependency is imported):
    /tmp/ref/bin/python tests/reference/make_adm_goldens.py --guided-diffusion DIR
Without --guided-diffusion it clones https://github.com/openai/guided-diffusion into a
temporary directory.
"""

import argparse
import contextlib
import hashlib
import importlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import save_file

torch.set_num_threads(2)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "adm")
REPO_URL = "https://github.com/openai/guided-diffusion"

# create_model's defaults (guided_diffusion/script_util.py), overridden per fixture below
DEFAULTS = dict(
    image_size=64, num_channels=128, num_res_blocks=2, channel_mult="", learn_sigma=False,
    class_cond=False, attention_resolutions="16", num_heads=1, num_head_channels=-1,
    num_heads_upsample=-1, use_scale_shift_norm=False, dropout=0, resblock_updown=False,
    use_fp16=False, use_new_attention_order=False, use_checkpoint=False,
)

FIXTURE_SPECS = {
    # 2 levels 32/64, attention (new QKV order, 2 heads of 32) at ds=2 and in the middle,
    # additive time embedding, conv Downsample/Upsample, eps-only output (3 channels)
    "small32": dict(
        config=dict(image_size=32, num_channels=32, num_res_blocks=1, channel_mult="1,2",
                    attention_resolutions="16", num_heads=2, num_head_channels=-1,
                    use_scale_shift_norm=False, resblock_updown=False, learn_sigma=False,
                    use_new_attention_order=True, dropout=0, class_cond=False),
        seed=2101,
    ),
    # 3 levels of 32 channels, 1 res block a level, legacy QKV order with 16-channel heads at ds=2
    # and ds=4 (and the middle), scale-shift norm, ResBlock up/down, learn_sigma (6 output
    # channels); the fixtures stay small (GroupNorm32 needs 32 channels a level at least)
    "small64": dict(
        config=dict(image_size=64, num_channels=32, num_res_blocks=1, channel_mult="1,1,1",
                    attention_resolutions="32,16", num_heads=4, num_head_channels=16,
                    use_scale_shift_norm=True, resblock_updown=True, learn_sigma=True,
                    use_new_attention_order=False, dropout=0, class_cond=False),
        seed=2102,
        keys=True,
    ),
}
TIMESTEPS = (37.0, 811.0)
BATCH = 2


def load_guided_diffusion(path):
    """(create_model, unet module) from the checkout at path, importing only what they need."""
    path = os.path.abspath(path)
    pkg_dir = os.path.join(path, "guided_diffusion")
    if not os.path.isfile(os.path.join(pkg_dir, "unet.py")):
        sys.exit(f"{pkg_dir}/unet.py not found: not a guided-diffusion checkout")
    if "guided_diffusion" in sys.modules:
        sys.exit("another guided_diffusion is already imported")
    sys.path.insert(0, path)
    unet = importlib.import_module("guided_diffusion.unet")
    assert os.path.dirname(os.path.abspath(unet.__file__)) == pkg_dir, unet.__file__
    try:
        script_util = importlib.import_module("guided_diffusion.script_util")
        create_model = script_util.create_model
        print(f"using {script_util.__file__}: create_model")
    except ImportError as e:  # script_util also pulls in gaussian_diffusion/respace
        print(f"script_util does not import ({e}); using the transcription of create_model")
        create_model = lambda **kw: create_model_transcribed(unet, **kw)  # noqa: E731
    for f in ("unet.py", "nn.py", "script_util.py"):
        with open(os.path.join(pkg_dir, f), "rb") as fh:
            print(f"  {f}: sha256 {hashlib.sha256(fh.read()).hexdigest()[:16]}")
    return create_model, unet


def create_model_transcribed(unet, image_size, num_channels, num_res_blocks, channel_mult="",
                             learn_sigma=False, class_cond=False, use_checkpoint=False,
                             attention_resolutions="16", num_heads=1, num_head_channels=-1,
                             num_heads_upsample=-1, use_scale_shift_norm=False, dropout=0,
                             resblock_updown=False, use_fp16=False, use_new_attention_order=False):
    """guided_diffusion.script_util.create_model, line for line (fallback only)."""
    if channel_mult == "":
        channel_mult = {512: (0.5, 1, 1, 2, 2, 4, 4), 256: (1, 1, 2, 2, 4, 4),
                        128: (1, 1, 2, 3, 4), 64: (1, 2, 3, 4)}[image_size]
    else:
        channel_mult = tuple(int(ch_mult) for ch_mult in channel_mult.split(","))
    attention_ds = [image_size // int(res) for res in attention_resolutions.split(",")]
    return unet.UNetModel(
        image_size=image_size, in_channels=3, model_channels=num_channels,
        out_channels=(3 if not learn_sigma else 6), num_res_blocks=num_res_blocks,
        attention_resolutions=tuple(attention_ds), dropout=dropout, channel_mult=channel_mult,
        num_classes=(1000 if class_cond else None), use_checkpoint=use_checkpoint,
        use_fp16=use_fp16, num_heads=num_heads, num_head_channels=num_head_channels,
        num_heads_upsample=num_heads_upsample, use_scale_shift_norm=use_scale_shift_norm,
        resblock_updown=resblock_updown, use_new_attention_order=use_new_attention_order,
    )


def reinit_(model, gen):
    """Draw every parameter again (see the module docstring)."""
    done = set()
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Linear)):
                fan_in = mod.weight[0].numel()
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=gen) / math.sqrt(fan_in))
                mod.bias.copy_(0.05 * torch.randn(mod.bias.shape, generator=gen))
            elif isinstance(mod, torch.nn.GroupNorm):
                mod.weight.copy_(1.0 + 0.1 * torch.randn(mod.weight.shape, generator=gen))
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=gen))
            else:
                continue
            done.update(id(p) for p in mod.parameters())
    left = [n for n, p in model.named_parameters() if id(p) not in done]
    assert not left, f"parameters not re-initialised: {left}"


@contextlib.contextmanager
def float64_forward(model):
    """Let the official forward run in f64 (see the module docstring)."""
    orig_float = torch.Tensor.float
    orig_dtype = model.dtype

    def float_keep_f64(self, *args, **kwargs):
        if self.dtype == torch.float64:
            return self
        return orig_float(self, *args, **kwargs)

    torch.Tensor.float = float_keep_f64
    model.dtype = torch.float64
    try:
        yield
    finally:
        torch.Tensor.float = orig_float
        model.dtype = orig_dtype


def forward_vjp(model, x, t, v):
    """out = model(x, t) and d<v, out[:, :3]>/dx, in x's dtype."""
    x = x.clone().requires_grad_(True)
    out = model(x, t)
    (vjp,) = torch.autograd.grad((out[:, :3] * v).sum(), x)
    return out.detach(), vjp.detach()


def rel_l2(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def make_fixture(name, spec, create_model):
    out_dir = os.path.join(FIXTURES, name)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(out_dir)
    config = dict(DEFAULTS)
    config.update(spec["config"])
    assert config["use_fp16"] is False and config["use_checkpoint"] is False

    torch.manual_seed(spec["seed"])
    model = create_model(**config)
    reinit_(model, torch.Generator().manual_seed(spec["seed"] + 1))
    model.eval()

    model_path = os.path.join(out_dir, "model.pt")
    sd = model.state_dict()
    assert all(p.dtype == torch.float32 for p in sd.values())
    torch.save(sd, model_path)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    if spec.get("keys"):
        with open(os.path.join(out_dir, "keys.txt"), "w") as f:
            for k in sorted(sd):
                f.write(f"{k} {','.join(str(d) for d in sd[k].shape)}\n")

    # Goldens from the weights as saved (reloaded from disk).
    loaded = torch.load(model_path, map_location="cpu", weights_only=True)
    model32 = create_model(**config)
    model32.load_state_dict(loaded)
    model32.eval()
    for k, p in model32.state_dict().items():
        assert torch.equal(p, sd[k]), k

    s = config["image_size"]
    gen = torch.Generator().manual_seed(spec["seed"] + 2)
    x = torch.randn((BATCH, 3, s, s), generator=gen)
    v = torch.randn((BATCH, 3, s, s), generator=gen)
    t = torch.tensor(TIMESTEPS, dtype=torch.float32)

    out32, vjp32 = forward_vjp(model32, x, t, v)
    model64 = create_model(**config)
    model64.load_state_dict(loaded)
    model64.double().eval()
    with float64_forward(model64):
        out64, vjp64 = forward_vjp(model64, x.double(), t.double(), v.double())
    assert out64.dtype == torch.float64 and vjp64.dtype == torch.float64
    # sanity: the patch is gone again, and the official f32 forward is unaffected by it
    assert torch.ones(1, dtype=torch.float64).float().dtype == torch.float32
    with torch.no_grad():
        assert torch.equal(model32(x, t), out32)

    save_file({
        "x": x.contiguous(),
        "t": t.contiguous(),
        "out": out32.float().contiguous(),
        "out64": out64.float().contiguous(),
        "v": v.contiguous(),
        "vjp": vjp64.float().contiguous(),
    }, os.path.join(out_dir, "golden.safetensors"))
    os.chmod(os.path.join(out_dir, "golden.safetensors"), 0o644)  # safetensors writes 0600

    # t-dependence: the two batch items differ in x too, so compare t swapped on the same x
    with torch.no_grad():
        out_swapped = model32(x, t.flip(0))
    t_rel = rel_l2(out_swapped, out32)

    nparams = sum(p.numel() for p in model.parameters())
    assert torch.isfinite(out64).all() and torch.isfinite(vjp64).all()
    mabs = out64.abs().mean().item()
    assert 0.05 < mabs < 20.0, f"{name}: mean |out| = {mabs} not O(1)"
    print(f"{name}: params={nparams} ({len(sd)} tensors) out={tuple(out32.shape)}")
    print(f"  out64: mean|.|={mabs:.4f} std={out64.std().item():.4f} mean={out64.mean().item():+.4f}"
          f"  [eps ch 0-2 std={out64[:, :3].std().item():.4f}"
          + (f", var ch 3-5 std={out64[:, 3:].std().item():.4f}]" if out64.shape[1] == 6 else "]"))
    print(f"  vjp64: mean|.|={vjp64.abs().mean().item():.4f} std={vjp64.std().item():.4f}")
    print(f"  rel L2 f32 vs f64: out={rel_l2(out32, out64):.3e} vjp={rel_l2(vjp32, vjp64):.3e}")
    print(f"  rel L2 change of out when the two timesteps are swapped: {t_rel:.3f}")
    for f in sorted(os.listdir(out_dir)):
        print(f"  {f:18s} {os.path.getsize(os.path.join(out_dir, f)):9d} bytes")
    return sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guided-diffusion", metavar="DIR", default=None,
                    help="path of an openai/guided-diffusion checkout (default: clone it into a "
                         "temporary directory)")
    ap.add_argument("--only", nargs="*", default=None, choices=sorted(FIXTURE_SPECS),
                    help="subset of fixtures to build")
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)

    with tempfile.TemporaryDirectory() as tmp:
        gd = args.guided_diffusion
        if gd is None:
            gd = os.path.join(tmp, "guided-diffusion")
            subprocess.run(["git", "clone", "--depth", "1", REPO_URL, gd], check=True)
            rev = subprocess.run(["git", "-C", gd, "rev-parse", "HEAD"], check=True,
                                 capture_output=True, text=True).stdout.strip()
            print(f"cloned {REPO_URL} at {rev}")
        create_model, _ = load_guided_diffusion(gd)
        print(f"torch {torch.__version__}")
        total = 0
        for name, spec in FIXTURE_SPECS.items():
            if args.only and name not in args.only:
                continue
            total += make_fixture(name, spec, create_model)
        print(f"total: {total} bytes ({total / 2**20:.2f} MiB)")


if __name__ == "__main__":
    main()
