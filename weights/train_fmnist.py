#!/usr/bin/env python3
"""Train the bundled Fashion-MNIST 32x32 DDPM prior (diffusers UNet2DModel), resumably.

One run is defined by its step count (--total-steps): the learning-rate schedule (warmup, then cosine to
--min-lr-frac) is a function of the step alone, the data order is a seeded permutation per epoch that
depends only on (seed, step), and the noise/timestep generator's state is checkpointed. A run can
therefore be stopped (kill, reboot) and resumed with --resume any number of times and stays the same run.

Everything the run writes lives in --ckpt-dir, outside the repository:
    state.pt      model, EMA, optimiser, step, generator state, best held-out loss (every --save-every min)
    train_log.txt step, smoothed loss, lr, elapsed; '# heldout' lines with the held-out table
    best/         EMA weights (f16, diffusers layout) + train_info.json of the best held-out loss so far
Copy best/ into weights/fmnist32 with weights/export_fmnist.sh (also re-evaluates and rewrites the
model card) and regenerate the goldens that depend on the weights.

If --resume finds no state.pt (a new machine), it starts from the committed weights in --init
(weights/fmnist32, both model and EMA) at the step recorded in its train_info.json, with a fresh
optimiser (re-warmed up over --warmup steps).

CPU, in the background, taking only idle CPU:
    nohup nice -n 19 python weights/train_fmnist.py --resume --threads 2 > /tmp/train.out 2>&1 &
Pause while timing anything: kill -STOP <pid>; continue: kill -CONT <pid>.
GPU (CUDA is used when available):
    python weights/train_fmnist.py --resume --total-steps 60000 --batch 128 --lr 1e-3
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
from fmnist_common import (EVAL_TS, UNET_CONFIG, alphas_cumprod, count_gflop, hardware_string,  # noqa: E402
                           heldout_losses, load_split, to_model_range)

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--total-steps", type=int, default=20000, help="length of the run (defines the LR schedule)")
    ap.add_argument("--minutes", type=float, default=0.0,
                    help="stop this invocation after this wall time (0 = none); does not change the schedule")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=100, help="linear LR warmup steps (after a fresh optimiser too)")
    ap.add_argument("--min-lr-frac", type=float, default=0.05, help="cosine floor as a fraction of --lr")
    ap.add_argument("--ema", type=float, default=0.999, help="max EMA decay; decay_k = min(ema, (1+k)/(10+k))")
    ap.add_argument("--ckpt-dir", default="/var/tmp/tweedie-fmnist32")
    ap.add_argument("--init", default=os.path.join(HERE, "fmnist32"),
                    help="committed weights to start from when --resume finds no checkpoint")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    ap.add_argument("--save-every", type=float, default=5.0, help="minutes between checkpoints")
    ap.add_argument("--eval-every", type=int, default=250, help="steps between held-out evaluations")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    return ap.parse_args()


def lr_at(args, step, fresh_opt_step):
    """Warmup from the step the optimiser was (re)created, then cosine over the whole run by step."""
    since = step - fresh_opt_step
    warm = min(1.0, (since + 1) / args.warmup) if args.warmup > 0 else 1.0
    frac = min(1.0, step / max(1, args.total_steps))
    floor = args.min_lr_frac
    return warm * args.lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * frac)))


class DataOrder:
    """Epoch-wise seeded permutations: the batch at a step depends only on (seed, step)."""

    def __init__(self, n, batch, seed):
        self.n, self.batch, self.seed = n, batch, seed
        self._epoch, self._perm = -1, None

    def _perm_of(self, epoch):
        if epoch != self._epoch:
            self._epoch = epoch
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.n)
        return self._perm

    def indices(self, step):
        out = []
        pos = step * self.batch
        while len(out) < self.batch:
            epoch, off = divmod(pos, self.n)
            take = min(self.batch - len(out), self.n - off)
            out.extend(self._perm_of(epoch)[off:off + take])
            pos += take
        return torch.from_numpy(np.asarray(out, dtype=np.int64))


def main():
    args = parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    from diffusers import UNet2DModel
    from diffusers.utils import logging as dlogging
    dlogging.set_verbosity_error()
    import diffusers

    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    os.makedirs(args.ckpt_dir, exist_ok=True)
    state_path = os.path.join(args.ckpt_dir, "state.pt")
    log_path = os.path.join(args.ckpt_dir, "train_log.txt")
    best_dir = os.path.join(args.ckpt_dir, "best")

    imgs, _ = load_split("train")
    data = torch.from_numpy(imgs).to(device)  # uint8 [60000,32,32]
    order = DataOrder(data.shape[0], args.batch, args.seed)

    model = UNet2DModel(**UNET_CONFIG).to(device)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    nparams = sum(p.numel() for p in model.parameters())
    gflop = count_gflop(model, device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    acp = alphas_cumprod(torch.float32).to(device)
    gen = torch.Generator(device=device).manual_seed(args.seed + 1)

    step, elapsed_before, fresh_opt_step, best, origin = 0, 0.0, 0, None, "scratch"
    if args.resume and os.path.exists(state_path):
        st = torch.load(state_path, map_location=device)
        model.load_state_dict(st["model"]); ema.load_state_dict(st["ema"]); opt.load_state_dict(st["opt"])
        step, elapsed_before = st["step"], st["elapsed"]
        fresh_opt_step, best = st.get("fresh_opt_step", 0), st.get("best")
        gen.set_state(st["gen"].cpu() if device.type == "cpu" else st["gen"])
        origin = f"checkpoint {state_path}"
    elif args.resume:
        init = UNet2DModel.from_pretrained(args.init).float().to(device)
        model.load_state_dict(init.state_dict()); ema.load_state_dict(init.state_dict())
        info = json.load(open(os.path.join(args.init, "train_info.json")))
        step, elapsed_before = int(info["steps"]), float(info.get("wall_time_s", 0.0))
        fresh_opt_step = step
        gen.manual_seed(args.seed + 1 + step)  # the old run's generator state is gone: a new stream
        origin = f"committed weights {args.init} (step {step}), fresh optimiser"

    logf = open(log_path, "a")

    def log(msg):
        print(msg, flush=True)
        logf.write(msg + "\n"); logf.flush()

    hw = hardware_string(device)
    log(f"# start at step {step} from {origin}; {nparams} params, {gflop:.4f} GFLOP/forward(b1), {hw}")
    log(f"# args {json.dumps(vars(args))}")
    log("# step loss_ema10 lr elapsed_s")

    def info_dict():
        return dict(steps=step, total_steps=args.total_steps, batch=args.batch, lr=args.lr, warmup=args.warmup,
                    min_lr_frac=args.min_lr_frac, ema=args.ema, seed=args.seed,
                    wall_time_s=round(elapsed_before + time.time() - t0, 1), hardware=hw, device=str(device),
                    params=nparams, gflop_per_forward_b1=round(gflop, 4),
                    finished=step >= args.total_steps, torch=torch.__version__,
                    examples_seen=step * args.batch, diffusers=diffusers.__version__)

    def save_state():
        el = elapsed_before + time.time() - t0
        torch.save(dict(model=model.state_dict(), ema=ema.state_dict(), opt=opt.state_dict(), step=step,
                        elapsed=el, gen=gen.get_state(), fresh_opt_step=fresh_opt_step, best=best),
                   state_path + ".tmp")
        os.replace(state_path + ".tmp", state_path)
        log(f"# checkpoint at step {step}, {el/60:.1f} min")

    def evaluate():
        nonlocal best
        losses = heldout_losses(ema, device)
        mean = sum(losses.values()) / len(losses)
        table = " ".join(f"t{t}={losses[t]:.4f}" for t in EVAL_TS)
        improved = best is None or mean < best["mean"]
        log(f"# heldout step {step} mean {mean:.5f} {table}{' (best)' if improved else ''}")
        if improved:
            best = dict(step=step, mean=mean, losses={str(k): v for k, v in losses.items()})
            tmp = best_dir + ".tmp"
            e16 = copy.deepcopy(ema).to("cpu").half()
            e16.save_pretrained(tmp, safe_serialization=True)
            with open(os.path.join(tmp, "train_info.json"), "w") as f:
                json.dump(dict(info_dict(), heldout=best), f, indent=2)
            if os.path.exists(best_dir):
                os.replace(best_dir, best_dir + ".old")
            os.replace(tmp, best_dir)
            if os.path.exists(best_dir + ".old"):
                import shutil
                shutil.rmtree(best_dir + ".old")

    t0 = time.time()
    last_save = t0
    run_loss = None
    if best is None:
        evaluate()
    model.train()
    while step < args.total_steps:
        if args.minutes > 0 and time.time() - t0 >= args.minutes * 60:
            break
        lr = lr_at(args, step, fresh_opt_step)
        for g in opt.param_groups:
            g["lr"] = lr

        x0 = to_model_range(data[order.indices(step).to(device)])
        t = torch.randint(0, 1000, (args.batch,), generator=gen, device=device)
        noise = torch.randn(x0.shape, generator=gen, device=device)
        a = acp[t].view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = F.mse_loss(model(xt, t).sample, noise)
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
        if step % args.log_every == 0:
            log(f"{step} {run_loss:.5f} {lr:.3e} {elapsed_before + time.time() - t0:.1f}")
        if step % args.eval_every == 0:
            evaluate()
        if time.time() - last_save >= args.save_every * 60:
            save_state()
            last_save = time.time()

    if step % args.eval_every != 0:
        evaluate()
    save_state()
    el = elapsed_before + time.time() - t0
    log(f"# stopped at step {step} of {args.total_steps}, {el/60:.1f} min in all")


if __name__ == "__main__":
    main()
