# A new user's check (not run by CI): a UNet2DModel config the fixtures lack, saved by diffusers' own
# save_pretrained, run through `tweedie eps --vjp`, compared with diffusers/torch.autograd in float32.
#   python tests/reference/new_user_check.py            # writes /tmp/newuser/{model,x,v,torch}
#   tweedie eps --model /tmp/newuser/model --input /tmp/newuser/x.safetensors --t 700 \
#       --vjp /tmp/newuser/v.safetensors --out /tmp/newuser/out.safetensors
#   python tests/reference/new_user_check.py compare    # prints the relative L2 errors
# Measured 2026-11-28 on lavapipe: eps 1.05e-6, vjp 1.52e-6.
# With `b` first (`python new_user_check.py b [compare]`, files in /tmp/newuser2, --t 311): a second
# config with multi-head attention (8 channels a head), a 24x40 input, two channels, 8 norm groups,
# flip_sin_to_cos, batch 3. Measured 2026-12-03 (eps / vjp): lavapipe CPU path 8.8e-7 / 1.4e-6,
# portable path 1.25e-6 / 1.8e-6 (subgroups off 1.24e-6 / 1.85e-6), GL backend the same on each path.
import torch, sys
import os
from diffusers import UNet2DModel
from safetensors.torch import save_file
second = len(sys.argv) > 1 and sys.argv[1] == "b"
args = sys.argv[2:] if second else sys.argv[1:]
d = "/tmp/newuser2" if second else "/tmp/newuser"
if args and args[0] == "compare":
    from safetensors.torch import load_file
    a = load_file(f"{d}/torch.safetensors"); b = load_file(f"{d}/out.safetensors")
    for k in ["eps", "vjp"]:
        print(k, "relative L2 error", ((a[k] - b[k]).norm() / a[k].norm()).item())
    sys.exit(0)
os.makedirs(d, exist_ok=True)
if second:
    torch.manual_seed(7)
    m = UNet2DModel(sample_size=(24, 40), in_channels=2, out_channels=2, block_out_channels=(24, 48, 48),
        down_block_types=("DownBlock2D", "AttnDownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "AttnUpBlock2D", "UpBlock2D"), layers_per_block=1,
        attention_head_dim=8, norm_num_groups=8, flip_sin_to_cos=True, freq_shift=0, norm_eps=1e-5)
    for n, p in m.named_parameters():
        if "norm" in n and n.endswith("weight"): p.data = 1 + 0.2 * torch.randn_like(p)
        elif n.endswith("bias"): p.data = 0.1 * torch.randn_like(p)
    m.save_pretrained(f"{d}/model")
    x = torch.randn(3, 2, 24, 40, requires_grad=True)
    v = torch.randn(3, 2, 24, 40)
    eps = m(x, 311).sample
    (g,) = torch.autograd.grad((eps * v).sum(), x)
    save_file({"x": x.detach().contiguous()}, f"{d}/x.safetensors")
    save_file({"v": v}, f"{d}/v.safetensors")
    save_file({"eps": eps.detach().contiguous(), "vjp": g.contiguous()}, f"{d}/torch.safetensors")
    sys.exit(0)
torch.manual_seed(123)
m = UNet2DModel(sample_size=32, in_channels=3, out_channels=3, block_out_channels=(32, 32, 64, 64),
    down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
    layers_per_block=2, attention_head_dim=None, norm_num_groups=16, downsample_padding=0,
    flip_sin_to_cos=False, freq_shift=1, norm_eps=1e-6)
for n, p in m.named_parameters():
    if "norm" in n and n.endswith("weight"): p.data = 1 + 0.2 * torch.randn_like(p)
    elif n.endswith("bias"): p.data = 0.1 * torch.randn_like(p)
m.save_pretrained("/tmp/newuser/model")
x = torch.randn(2, 3, 32, 32, requires_grad=True)
v = torch.randn(2, 3, 32, 32)
eps = m(x, 700).sample
(g,) = torch.autograd.grad((eps * v).sum(), x)
save_file({"x": x.detach().contiguous()}, "/tmp/newuser/x.safetensors")
save_file({"v": v}, "/tmp/newuser/v.safetensors")
save_file({"eps": eps.detach().contiguous(), "vjp": g.contiguous()}, "/tmp/newuser/torch.safetensors")
print("eps std", eps.std().item())
