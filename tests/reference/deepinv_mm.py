"""deepinv's moment-matching guidance (MomentMatchingDataFidelity, Rozet et al.) in its posterior
VP-SDE sampler (Euler-Maruyama, α = 1), on the bundled prior and the engine's y, for comparison with
`tweedie restore --solver mmps`. Units and operators as in deepinv_diffpir.py (this reuses its
helpers); deepinv works in [0, 1], so y01 = (y + A(1))/2 and σ = 0.025.

Usage, from the repository root, with the y files of deepinv_diffpir.py in /tmp/cmp:
    nice -n 19 /tmp/ref/bin/python tests/reference/deepinv_mm.py TASK STEPS WEIGHT
with TASK one of inpaint-box, sr, deblur-gauss. (Weights 0.1, 1 and 3 were tried: 1 was best.)
"""
import sys, time, torch, numpy as np
sys.path.insert(0, "tests/reference")
import deepinv as dinv
from deepinv_diffpir import operator, Denoiser, load_png, psnr
from safetensors.torch import load_file
from diffusers import UNet2DModel
torch.set_num_threads(1)
unet = UNet2DModel.from_pretrained("weights/fmnist32").eval()
den = Denoiser(unet)
task, steps, weight = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
minus = False  # deepinv's [-1, 1] mode (minus_one_one) gave 5.8 dB on deblurring: a units mismatch
A, At = operator(task)
ones = A(torch.ones(1, 1, 32, 32))
physics = dinv.physics.LinearPhysics(A=A, A_adjoint=At, noise_model=dinv.physics.GaussianNoise(sigma=0.025 if not minus else 0.05))
df = dinv.sampling.MomentMatchingDataFidelity(denoiser=den, weight=weight, clip=(0.0, 1.0) if not minus else (-1.0, 1.0))
sde = dinv.sampling.VariancePreservingDiffusion(denoiser=den, alpha=1.0, solver=dinv.sampling.EulerSolver(timesteps=np.linspace(1, 1e-3, steps)), dtype=torch.float32)
model = dinv.sampling.PosteriorDiffusion(data_fidelity=df, denoiser=den, sde=sde, dtype=torch.float32, minus_one_one=minus)
ps = []
t0 = time.time()
for i in [4, 5, 6, 7]:
    y = load_file(f"/tmp/cmp/y_{task}_{i}.safetensors")["y"]
    yy = y if minus else (y + ones) / 2
    x = model(yy, physics, x_init=(1, 1, 32, 32), seed=0)
    x = x if minus else 2 * x - 1
    ps.append(psnr(x, load_png(f"tests/data/fmnist_test_{i:05d}.png")))
print(task, steps, weight, "minus" if minus else "01", f"{np.mean(ps):.2f}", [round(p, 2) for p in ps], f"{(time.time()-t0)/4:.1f}s/img", flush=True)
