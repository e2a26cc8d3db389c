"""Writes the PyTorch-checkpoint fixtures of tests/pt.rs into tests/fixtures/pt/.

- state.pt: a state dict as torch.save writes it (torch >= 1.6 zip format): f32, f16, bf16, f64 and
  int64 tensors, a transposed (non-contiguous) view, a row view at a storage offset sharing its
  storage with another entry, an nn.Parameter, a 0-d tensor, an empty one, and a nested dict;
  state_expected.safetensors: the same tensors, contiguous f32, under their dotted names.
- evil.pt: a checkpoint whose pickle asks to call os.system (the reader must refuse to, naming it).

Run: python tests/reference/make_pt_fixtures.py (torch and safetensors; any recent version).
"""

import collections
import os

import torch
from safetensors.torch import save_file

out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "pt")
os.makedirs(out, exist_ok=True)
g = torch.Generator().manual_seed(0)
base = torch.randn(3, 4, generator=g)
sd = collections.OrderedDict()
sd["conv.weight"] = torch.randn(2, 3, 3, 3, generator=g)
sd["conv.bias"] = torch.randn(2, generator=g).half()
sd["norm.weight"] = torch.randn(5, generator=g).bfloat16()
sd["proj.weight"] = torch.randn(4, 2, generator=g).double()
sd["steps"] = torch.tensor([7, -3, 1 << 24])  # integers exact in f32 are read
sd["mat"] = base
sd["mat_t"] = base.t()
sd["row"] = base[1]
sd["param"] = torch.nn.Parameter(torch.randn(3, generator=g))
sd["scalar"] = torch.tensor(2.5)
sd["empty"] = torch.zeros(0, 4)
ckpt = {"ema": sd, "epoch": 12}
torch.save(ckpt, os.path.join(out, "state.pt"))

expected = {}
for k, v in sd.items():
    expected["ema." + k] = v.detach().float().contiguous().clone()
save_file(expected, os.path.join(out, "state_expected.safetensors"))


# an integer f32 cannot hold exactly: refused with the tensor named (the safetensors reader's policy too)
torch.save({"w": torch.ones(2), "count": torch.tensor([1 << 40])}, os.path.join(out, "big_int.pt"))


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


torch.save({"w": torch.ones(2), "x": Evil()}, os.path.join(out, "evil.pt"))
print("wrote", sorted(os.listdir(out)))
