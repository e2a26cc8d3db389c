"""PyTorch's side of the UNet benchmark (issue: speed against PyTorch on the same CPU cores).

Times the bundled prior (weights/fmnist32, a diffusers UNet2DModel) exactly as benches/unet.rs does
on tweedie: one forward pass, and one forward + VJP (the gradient of <v, eps> with respect to x),
at batch 1 and 8, with the same inputs (x[i] = ((7919 i) mod 1000) / 500 - 1, t = 500, v = 0.1),
on the CPU with --threads threads (default: the machine's cores). Prints the median of --reps runs
after two warm-up runs, in milliseconds, one line per case:

    python benches/torch_cpu.py [--threads 2] [--reps 20] [--batches 1,8]

(benches/startup.sh asks for --batches 32: the forward + VJP its `tweedie eps --vjp` case is put
against.)

Run it right after `cargo bench --bench unet` on a quiet machine and quote ratios.
"""

import argparse
import os
import statistics
import time

import torch
from diffusers import UNet2DModel

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=os.cpu_count())
ap.add_argument("--reps", type=int, default=20)
ap.add_argument("--batches", default="1,8", help="comma-separated batch sizes")
ap.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "..", "weights", "fmnist32"))
args = ap.parse_args()
torch.set_num_threads(args.threads)
model = UNet2DModel.from_pretrained(args.model).eval()
c, s = model.config.in_channels, model.config.sample_size
print(f"torch {torch.__version__}, {args.threads} threads, {args.reps} runs each")

for batch in [int(b) for b in args.batches.split(",")]:
    n = batch * c * s * s
    x = (torch.tensor([((i * 7919) % 1000) / 500.0 - 1.0 for i in range(n)])).reshape(batch, c, s, s)
    t = torch.full((batch,), 500.0)
    v = torch.full((batch, model.config.out_channels, s, s), 0.1)

    def forward():
        with torch.no_grad():
            return model(x, t).sample

    def forward_vjp():
        xr = x.clone().requires_grad_(True)
        eps = model(xr, t).sample
        (g,) = torch.autograd.grad(eps, xr, v)
        return g

    for name, f in (("forward", forward), ("forward+vjp", forward_vjp)):
        for _ in range(2):
            f()
        times = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            f()
            times.append((time.perf_counter() - t0) * 1000)
        print(f"{name} batch {batch}: {statistics.median(times):.1f} ms")
