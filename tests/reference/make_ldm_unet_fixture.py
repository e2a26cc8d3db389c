#!/usr/bin/env python3
"""Write ``tests/fixtures/ldm_unet/``: a tiny random-weight diffusers ``UNet2DModel`` on the
latents of the test autoencoder ``tests/fixtures/vae/two_level_shift`` (4 latent channels, 8x8
latents of 16x16 pictures), for the pipeline-folder tests (tests/pipeline.rs assemble a
``model_index.json`` folder from it and that VAE). Only the plumbing is tested with it: its
weights are diffusers' default initialisation, with every bias and GroupNorm parameter drawn
(``0.1*randn``; GroupNorm weights ``1 + 0.2*randn``) so no output is trivially zero.

Run (from the repository root; deterministic, a second on 2 cores):
    /root/venv/bin/python tests/reference/make_ldm_unet_fixture.py
"""

import os

import torch
from diffusers import UNet2DModel

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "ldm_unet")


def main():
    torch.manual_seed(0)
    m = UNet2DModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(8, 16),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D"),
        norm_num_groups=4,
        attention_head_dim=4,
    )
    with torch.no_grad():
        for name, p in m.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
    m.save_pretrained(OUT, safe_serialization=True)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
