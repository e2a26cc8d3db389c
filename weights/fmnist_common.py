"""Shared pieces for train_fmnist.py / eval_fmnist.py (Fashion-MNIST 32x32 DDPM prior)."""

import gzip
import os

import numpy as np
import torch

DATA_DIR = os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist")

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# DDPM schedule: linear betas 1e-4 .. 0.02, T = 1000, epsilon prediction.
T = 1000
BETA_START, BETA_END = 1e-4, 0.02

# UNet2DModel config (diffusers).  See MODEL_CARD.md for the measured cost.
UNET_CONFIG = dict(
    sample_size=32,
    in_channels=1,
    out_channels=1,
    block_out_channels=(32, 64, 64),
    layers_per_block=2,
    down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
    up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
    norm_num_groups=8,
    attention_head_dim=8,
)


def alphas_cumprod(dtype=torch.float64) -> torch.Tensor:
    betas = torch.linspace(BETA_START, BETA_END, T, dtype=torch.float64)
    return torch.cumprod(1.0 - betas, 0).to(dtype)


def read_idx(path: str) -> np.ndarray:
    """Read a (gzipped) IDX file as a numpy uint8 array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    assert data[2] == 0x08, "expected unsigned byte data"
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_split(split: str):
    """Return (images uint8 [N,32,32] padded with 0, labels uint8 [N]).  split: 'train' | 't10k'."""
    imgs = read_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz"))
    assert imgs.shape[1:] == (28, 28)
    padded = np.zeros((imgs.shape[0], 32, 32), dtype=np.uint8)  # background value 0
    padded[:, 2:30, 2:30] = imgs
    return padded, labels


def to_model_range(u8: torch.Tensor) -> torch.Tensor:
    """uint8 [N,32,32] -> float [N,1,32,32] in [-1, 1] (x/127.5 - 1)."""
    return (u8.float() / 127.5 - 1.0).unsqueeze(1)


def count_gflop(model, device="cpu") -> float:
    """GFLOP (2 x MACs of conv/linear/matmul/attention) of one forward pass at batch 1."""
    from torch.utils.flop_counter import FlopCounterMode
    cfg = model.config
    x = torch.zeros(1, cfg.in_channels, 32, 32, device=device, dtype=next(model.parameters()).dtype)
    t = torch.tensor([500], device=device)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        model(x, t)
    return fc.get_total_flops() / 1e9


def hardware_string(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = "CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores visible, {torch.get_num_threads()} torch threads, no GPU"

# Held-out set for the training log and the model card: test-split images the repository does not
# ship (tests/data holds t10k[0:64]), a fixed noise draw per t.
HELDOUT_START, N_HELDOUT = 64, 256
EVAL_TS = (100, 300, 500, 700, 900)
NOISE_SEED = 1234


@torch.no_grad()
def heldout_losses(model, device, bs=64, start=HELDOUT_START, n=N_HELDOUT):
    """Per-element mean ||eps - eps_theta(x_t, t)||^2 at each t in EVAL_TS, on t10k[start:start+n]."""
    imgs, _ = load_split("t10k")
    x0 = to_model_range(torch.from_numpy(imgs[start:start + n])).to(device)
    acp = alphas_cumprod(torch.float64)
    gen = torch.Generator().manual_seed(NOISE_SEED)
    out = {}
    for t in EVAL_TS:
        noise = torch.randn(x0.shape, generator=gen).to(device)
        a = float(acp[t])
        xt = (a ** 0.5 * x0 + (1 - a) ** 0.5 * noise).float()
        se = 0.0
        for i in range(0, n, bs):
            pred = model(xt[i:i + bs], torch.full((xt[i:i + bs].shape[0],), t, device=device)).sample
            se += ((pred.double() - noise[i:i + bs].double()) ** 2).sum().item()
        out[t] = se / noise.numel()
    return out
