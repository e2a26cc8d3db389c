#!/usr/bin/env python3
"""Train the bundled Fashion-MNIST 32x32 DDPM prior (diffusers UNet2DModel).

Time- or step-limited.  Saves the EMA weights (f16 safetensors, diffusers
``save_pretrained`` layout, loadable with ``UNet2DModel.from_pretrained(out)``)
every --save-every minutes and at the end, and logs to <out>/train_log.txt.

CPU (what produced the bundled weights):
    nohup nice -n 19 python weights/train_fmnist.py --minutes 75 --threads 2 > /tmp/train.log 2>&1 &
GPU full-length run (uses CUDA automatically when available):
    python weights/train_fmnist.py --minutes 0 --steps 60000 --batch 128 --lr 1e-3
"""

import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fmnist_common import (UNET_CONFIG, alphas_cumprod, count_gflop, hardware_string,  # noqa: E402
                           load_split, to_model_range)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=75.0, help="wall-clock limit (0 = none)")
    ap.add_argument("--steps", type=int, default=0, help="step limit (0 = none)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100, help="linear LR warmup steps")
    ap.add_argument("--min-lr-frac", type=float, default=0.05,
                    help="cosine decay floor as a fraction of --lr; the decay follows the larger of "
                         "step/--steps and elapsed/--minutes")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--ema", type=float, default=0.999, help="max EMA decay; decay_k = min(ema, (1+k)/(10+k))")
    ap.add_argument("--out", default="weights/fmnist32")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    ap.add_argument("--save-every", type=float, default=5.0, help="minutes between checkpoints")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--state", default=None,
                    help="full training state (model/EMA/optimizer) for --resume; default /tmp/<out-name>_state.pt")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--layers-per-block", type=int, default=UNET_CONFIG["layers_per_block"])
    ap.add_argument("--groups", type=int, default=UNET_CONFIG["norm_num_groups"])
    return ap.parse_args()


def lr_at(args, step, elapsed):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    fracs = []
    if args.steps > 0:
        fracs.append(step / args.steps)
    if args.minutes > 0:
        fracs.append(elapsed / (args.minutes * 60.0))
    frac = min(1.0, max(fracs)) if fracs else 0.0
    floor = args.min_lr_frac
    return args.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * frac)))


def main():
    args = parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    from diffusers import UNet2DModel
    from diffusers.utils import logging as dlogging
    dlogging.set_verbosity_error()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    os.makedirs(args.out, exist_ok=True)
    state_path = args.state or f"/tmp/{os.path.basename(os.path.normpath(args.out))}_state.pt"
    log_path = os.path.join(args.out, "train_log.txt")

    imgs, _ = load_split("train")
    data = torch.from_numpy(imgs)  # uint8 [60000,32,32]
    if device.type == "cuda":
        data = data.to(device)
    n = data.shape[0]

    cfg = dict(UNET_CONFIG, layers_per_block=args.layers_per_block, norm_num_groups=args.groups)
    model = UNet2DModel(**cfg).to(device)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    nparams = sum(p.numel() for p in model.parameters())
    gflop = count_gflop(model, device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    acp = alphas_cumprod(torch.float32).to(device)
    gen = torch.Generator(device=device).manual_seed(args.seed + 1)

    step, elapsed_before = 0, 0.0
    if args.resume and os.path.exists(state_path):
        st = torch.load(state_path, map_location=device)
        model.load_state_dict(st["model"]); ema.load_state_dict(st["ema"]); opt.load_state_dict(st["opt"])
        step, elapsed_before = st["step"], st["elapsed"]
        gen.set_state(st["gen"].cpu() if device.type == "cpu" else st["gen"])
        print(f"resumed from {state_path} at step {step}, {elapsed_before/60:.1f} min")

    logf = open(log_path, "a" if args.resume else "w")

    def log(msg):
        print(msg, flush=True)
        logf.write(msg + "\n"); logf.flush()

    hw = hardware_string(device)
    log(f"# config {json.dumps(cfg)}")
    log(f"# params {nparams} gflop_per_forward_b1 {gflop:.4f} device {device} hw {hw}")
    log(f"# args {json.dumps(vars(args))}")
    log("# step loss_ema10 lr elapsed_s")

    def save(final=False):
        e16 = copy.deepcopy(ema).to("cpu").half()
        e16.save_pretrained(args.out, safe_serialization=True)
        os.chmod(os.path.join(args.out, "diffusion_pytorch_model.safetensors"), 0o644)
        el = elapsed_before + time.time() - t0
        info = dict(steps=step, batch=args.batch, lr=args.lr, warmup=args.warmup, min_lr_frac=args.min_lr_frac,
                    ema=args.ema, seed=args.seed, wall_time_s=round(el, 1), hardware=hw, device=str(device),
                    params=nparams, gflop_per_forward_b1=round(gflop, 4), finished=final,
                    torch=torch.__version__, examples_seen=step * args.batch)
        import diffusers
        info["diffusers"] = diffusers.__version__
        with open(os.path.join(args.out, "train_info.json"), "w") as f:
            json.dump(info, f, indent=2)
        torch.save(dict(model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(), step=step,
                        elapsed=el, gen=gen.get_state()), state_path + ".tmp")
        os.replace(state_path + ".tmp", state_path)
        log(f"# saved EMA (f16) at step {step}, {el/60:.1f} min{' (final)' if final else ''}")

    t0 = time.time()
    last_save = t0
    run_loss = None
    model.train()
    while True:
        elapsed = elapsed_before + time.time() - t0
        if args.steps > 0 and step >= args.steps:
            break
        if args.minutes > 0 and elapsed >= args.minutes * 60:
            break
        lr = lr_at(args, step, elapsed)
        for g in opt.param_groups:
            g["lr"] = lr

        idx = torch.randint(0, n, (args.batch,), generator=gen, device=device)
        x0 = to_model_range(data[idx])
        t = torch.randint(0, 1000, (args.batch,), generator=gen, device=device)
        noise = torch.randn(x0.shape, generator=gen, device=device)
        a = acp[t].view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        pred = model(xt, t).sample
        loss = F.mse_loss(pred, noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

        d = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1 - d)
        step += 1

        li = loss.item()
        run_loss = li if run_loss is None else 0.9 * run_loss + 0.1 * li
        if step % args.log_every == 0 or step == 1:
            log(f"{step} {run_loss:.5f} {lr:.3e} {elapsed_before + time.time() - t0:.1f}")
        if time.time() - last_save >= args.save_every * 60:
            save()
            last_save = time.time()

    save(final=True)
    el = elapsed_before + time.time() - t0
    log(f"# done: {step} steps in {el/60:.1f} min ({step/(el/60):.1f} steps/min)")


if __name__ == "__main__":
    main()
