"""PyTorch's side of the UNet benchmark on a CUDA GPU (or the CPU, to test the script without one).

Times the bundled prior (weights/fmnist32, a diffusers UNet2DModel) exactly as benches/unet.rs does
on tweedie: one forward pass, and one forward + VJP (the gradient of <v, eps> with respect to x),
at batch 1 and 8, with the same inputs (x[i] = ((7919 i) mod 1000) / 500 - 1, t = 500, v = 0.1).
Eager mode, fp32 weights and activations; the model's parameters are frozen (tweedie's VJP takes
no weight gradients either). Each case runs --warmup times, then --reps timed runs; on CUDA each
run is timed with CUDA events around it and a synchronisation after it. Prints the median of the
timed runs in milliseconds, one machine-readable line per case:

    forward batch 1: 1.234 ms
    forward+vjp batch 1: 2.345 ms
    forward batch 8: ...
    forward+vjp batch 8: ...

    python benches/torch_gpu.py [--device cuda|cpu] [--tf32 off|on|default] [--reps 50] [--warmup 5]

--tf32 off sets torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
(true fp32 products and convolutions, as tweedie computes), on sets both True, default leaves
PyTorch's own settings (TF32 in cuDNN convolutions, not in matmuls). No network: the model is
loaded from the folder with UNet2DModel.from_pretrained. benches/gpu.sh runs this twice (off and
default) next to tweedie's criterion bench.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")

import torch  # noqa: E402
from diffusers import UNet2DModel  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda" if torch.cuda.is_available() else "cpu")
ap.add_argument("--tf32", choices=("off", "on", "default"), default="off")
ap.add_argument("--reps", type=int, default=50)
ap.add_argument("--warmup", type=int, default=5)
ap.add_argument("--batches", default="1,8", help="comma-separated batch sizes")
ap.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads (--device cpu)")
ap.add_argument("--model", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "weights", "fmnist32"))
args = ap.parse_args()

dev = torch.device(args.device)
if dev.type == "cuda" and not torch.cuda.is_available():
    sys.exit("error: --device cuda but torch.cuda.is_available() is False (use --device cpu)")
if dev.type == "cpu":
    torch.set_num_threads(args.threads)

if args.tf32 != "default":
    on = args.tf32 == "on"
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on


def tf32_state():
    s = f"matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32} cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}"
    # PyTorch >= 2.9 also has the fp32_precision settings that the flags above map onto
    for name, obj in (("matmul", getattr(torch.backends.cuda, "matmul", None)), ("cudnn.conv", getattr(torch.backends.cudnn, "conv", None))):
        p = getattr(obj, "fp32_precision", None) if obj is not None else None
        if p is not None:
            s += f" {name}.fp32_precision={p}"
    return s


model = UNet2DModel.from_pretrained(args.model).to(dev).eval()
for p in model.parameters():
    p.requires_grad_(False)
c, s = model.config.in_channels, model.config.sample_size
if isinstance(s, (list, tuple)):
    h, w = s
else:
    h = w = s

name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU, {args.threads} threads"
print(f"device: {name}")
print(f"torch {torch.__version__}, cuda {torch.version.cuda}, cudnn {torch.backends.cudnn.version() if dev.type == 'cuda' else '-'}")
print(f"tf32 {args.tf32}: {tf32_state()}, cudnn.benchmark={torch.backends.cudnn.benchmark}")
print(f"eager fp32, {args.warmup} warm-ups, median of {args.reps} runs")


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def timed(f):
    """Milliseconds of one call of f, the device synchronised before and after."""
    if dev.type == "cuda":
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        f()
        b.record()
        b.synchronize()
        return a.elapsed_time(b)
    t0 = time.perf_counter()
    f()
    return (time.perf_counter() - t0) * 1000.0


for batch in (int(b) for b in args.batches.split(",")):
    n = batch * c * h * w
    x = torch.tensor([((i * 7919) % 1000) / 500.0 - 1.0 for i in range(n)], dtype=torch.float32).reshape(batch, c, h, w).to(dev)
    t = torch.full((batch,), 500.0, device=dev)
    v = torch.full((batch, model.config.out_channels, h, w), 0.1, device=dev)

    def forward():
        with torch.no_grad():
            return model(x, t).sample

    def forward_vjp():
        xr = x.detach().clone().requires_grad_(True)
        eps = model(xr, t).sample
        (g,) = torch.autograd.grad(eps, xr, v)
        return g

    for label, f in (("forward", forward), ("forward+vjp", forward_vjp)):
        for _ in range(args.warmup):
            f()
        sync()
        times = [timed(f) for _ in range(args.reps)]
        sync()
        print(f"{label} batch {batch}: {statistics.median(times):.3f} ms (min {min(times):.3f}, max {max(times):.3f})", flush=True)
