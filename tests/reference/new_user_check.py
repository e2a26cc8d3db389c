# A new user's check (not run by CI): a UNet2DModel config the fixtures lack, saved by diffusers' own
# save_pretrained, run through `tweedie eps --vjp`, compared with diffusers/torch.autograd in float32.
#   python tests/reference/new_user_check.py            # writes /tmp/newuser/{model,x,v,torch}
#   tweedie eps --model /tmp/newuser/model --input /tmp/newuser/x.safetensors --t 700 \
#       --vjp /tmp/newuser/v.safetensors --out /tmp/newuser/out.safetensors
#   python tests/reference/new_user_check.py compare    # prints the relative L2 errors
# Measured 2026-11-28 on lavapipe: eps 1.05e-6, vjp 1.52e-6.
import torch, sys
import os
from diffusers import UNet2DModel
from safetensors.torch import save_file
if len(sys.argv) > 1 and sys.argv[1] == "compare":
    from safetensors.torch import load_file
    a = load_file("/tmp/newuser/torch.safetensors"); b = load_file("/tmp/newuser/out.safetensors")
    for k in ["eps", "vjp"]:
        print(k, "relative L2 error", ((a[k] - b[k]).norm() / a[k].norm()).item())
    sys.exit(0)
os.makedirs("/tmp/newuser", exist_ok=True)
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
