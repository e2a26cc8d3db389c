"""deepinv's DiffPIR on the same prior and the same y as `tweedie restore --solver diffpir`.

The measurements are the engine's own (`tweedie degrade ... --out y.safetensors`, σ_y = 0.05 in
[-1, 1] units); the prior is the bundled diffusers UNet in weights/fmnist32 (ε-prediction, DDPM
linear β 1e-4 … 0.02). Conversions to deepinv's [0, 1] convention:

- images: x01 = (x + 1) / 2; for a linear A, y01 = (y + A(1)) / 2; σ01 = σ_y / 2 = 0.025.
- denoiser D(x, σ) with x in [0, 1] and σ in [0, 1] units: α = 1 / (1 + 4σ²), x_t = √α (2x − 1),
  t = the timestep whose √(1 − ᾱ_t) is nearest 2σ√α, D = (clamp((x_t − √(1−ᾱ_t) ε_θ(x_t, t)) / √ᾱ_t,
  −1, 1) + 1) / 2 (deepinv's DiffPIR calls it with the [-1, 1] VE noise level halved).
- operators as `deepinv.physics.LinearPhysics` with exact adjoints, checked against the engine's
  noise-free measurement of image 4 (`--check` files) before anything runs.
- deepinv calls its proximal step with γ = 1/(2ρ), which doubles ρ: deepinv's λ is half the official
  one, so λ_deepinv = λ_tweedie / 2 gives the same ρ_t.

PSNR as tweedie's: both images in [-1, 1], clipped, mse of the difference / 2, 10 log10(1/mse).

Usage (from the repository root; y files made with `tweedie degrade --sigma-y 0.05 --seed i` for
images 4–7 of tests/data, named y_<task>_<i>.safetensors, and clean_<task>_4.safetensors with
--sigma-y 0):

    nice -n 19 /tmp/ref/bin/python tests/reference/deepinv_diffpir.py --ydir /tmp/cmp --out r.json
"""

import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file

import deepinv as dinv
from diffusers import UNet2DModel

TASKS = ["inpaint-box", "sr", "deblur-gauss"]
# tweedie's DiffPIR defaults (official λ units) per task
OURS = {"inpaint-box": (1.0, 1.0), "sr": (3.0, 1.0), "deblur-gauss": (7.0, 1.0)}


def gaussian_kernel(size=9, sigma=1.5):
    c = size // 2
    ax = torch.arange(size, dtype=torch.float64) - c
    k = torch.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * sigma * sigma))
    return (k / k.sum()).float()[None, None]


def operator(task):
    """A and Aᵀ in any units (linear), as torch functions of [B, 1, 32, 32] / measurement batches."""
    if task == "inpaint-box":
        mask = torch.ones(1, 1, 32, 32)
        mask[..., 8:24, 8:24] = 0.0
        return (lambda x: x * mask), (lambda y: y * mask)
    if task == "sr":
        return (lambda x: F.avg_pool2d(x, 4)), (lambda y: F.interpolate(y, scale_factor=4, mode="nearest") / 16)
    k = gaussian_kernel()
    return (lambda x: F.conv2d(x, k, padding=4)), (lambda y: F.conv_transpose2d(y, k, padding=4))


def load_png(path):
    a = np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0
    return torch.from_numpy(a * 2 - 1)[None, None]


def psnr(a, b):
    mse = (((a.clamp(-1, 1) - b.clamp(-1, 1)) / 2) ** 2).mean().item()
    return 10 * math.log10(1 / max(mse, 1e-12))


class Denoiser(torch.nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet
        betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
        self.ab = torch.cumprod(1 - betas, 0)

    def forward(self, x, sigma):
        s = float(sigma.flatten()[0]) if torch.is_tensor(sigma) else float(sigma)
        alpha = 1 / (1 + 4 * s * s)
        xt = math.sqrt(alpha) * (2 * x - 1)
        t = int(torch.argmin(((1 - self.ab).sqrt() - 2 * s * math.sqrt(alpha)).abs()))
        with torch.no_grad():
            eps = self.unet(xt.float(), t).sample
        a, b = self.ab[t].sqrt().item(), (1 - self.ab[t]).sqrt().item()
        return (((xt - b * eps) / a).clamp(-1, 1) + 1) / 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ydir", default="/tmp/cmp")
    ap.add_argument("--images", default="4,5,6,7")
    ap.add_argument("--steps", default="20,50,100")
    ap.add_argument("--out", default="/tmp/cmp/deepinv_diffpir.json")
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    unet = UNet2DModel.from_pretrained("weights/fmnist32").eval()
    den = Denoiser(unet)
    images = [int(i) for i in args.images.split(",")]
    rows = []
    for task in args.tasks.split(","):
        A, At = operator(task)
        truth4 = load_png(f"tests/data/fmnist_test_{images[0]:05d}.png")
        clean = load_file(f"{args.ydir}/clean_{task}_{images[0]}.safetensors")["y"]
        err = (A(truth4) - clean).abs().max().item()
        print(f"{task}: |A x − engine's A x| = {err:.2e}")
        assert err < 1e-4, f"{task}: the torch operator does not match the engine's"
        ones = A(torch.ones(1, 1, 32, 32))
        physics = dinv.physics.LinearPhysics(A=A, A_adjoint=At, noise_model=dinv.physics.GaussianNoise(sigma=0.025))
        configs = [("deepinv defaults", 7.0, 0.1), ("tweedie's λ, ζ", OURS[task][0] / 2, OURS[task][1])]
        for name, lam, zeta in configs:
            for steps in [int(s) for s in args.steps.split(",")]:
                model = dinv.sampling.DiffPIR(den, dinv.optim.data_fidelity.L2(), sigma=0.025, max_iter=steps, zeta=zeta, lambda_=lam)
                ps, t0 = [], time.time()
                for i in images:
                    y = load_file(f"{args.ydir}/y_{task}_{i}.safetensors")["y"]
                    y01 = (y + ones) / 2
                    torch.manual_seed(args.seed)
                    x01 = model(y01, physics, seed=None)
                    ps.append(psnr(2 * x01 - 1, load_png(f"tests/data/fmnist_test_{i:05d}.png")))
                sec = (time.time() - t0) / len(images)
                row = dict(task=task, config=name, lambda_deepinv=lam, zeta=zeta, steps=steps, psnr=float(np.mean(ps)), per_image=ps, seconds=sec)
                rows.append(row)
                print(f"{task:13s} {name:17s} λ={lam:<4} ζ={zeta:<4} {steps:4d} steps: {row['psnr']:.2f} dB ({sec:.1f} s / image)")
    json.dump(rows, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
