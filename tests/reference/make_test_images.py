#!/usr/bin/env python3
"""Write tests/data/fmnist_test_00000.png ... : the first 64 images (indices 0..63)
of the Fashion-MNIST test split, zero-padded 28x28 -> 32x32 (2 px each side),
as 8-bit grayscale PNGs, plus tests/data/README.md with indices and labels.

    /tmp/ref/bin/python tests/reference/make_test_images.py
"""

import os
import sys

from PIL import Image

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "weights"))
from fmnist_common import CLASSES, DATA_DIR, load_split  # noqa: E402

N = 64


def main():
    out = os.path.join(ROOT, "tests", "data")
    os.makedirs(out, exist_ok=True)
    imgs, labels = load_split("t10k")
    rows = []
    for i in range(N):
        name = f"fmnist_test_{i:05d}.png"
        Image.fromarray(imgs[i], mode="L").save(os.path.join(out, name), optimize=True)
        rows.append(f"| {i} | `{name}` | {int(labels[i])} | {CLASSES[int(labels[i])]} |")
    readme = f"""# Test images

The first {N} images (indices 0..{N - 1}) of the **Fashion-MNIST test split**
(`t10k-images-idx3-ubyte.gz` / `t10k-labels-idx1-ubyte.gz`), zero-padded from
28×28 to 32×32 (2 pixels each side, background value 0, no resampling) and
stored as 8-bit grayscale PNGs.  Pixel value p maps to the model range as
`p / 127.5 - 1` (see `weights/fmnist32/MODEL_CARD.md`).  These images are not
in the prior's training data (train split only).

Regenerate: `/tmp/ref/bin/python tests/reference/make_test_images.py`
(reads `{DATA_DIR}`).

Fashion-MNIST is © Zalando SE, MIT license
(https://github.com/zalandoresearch/fashion-mnist).

| index | file | label | class |
|---|---|---|---|
""" + "\n".join(rows) + "\n"
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(readme)
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"wrote {N} PNGs + README.md to {out} ({total/1024:.1f} KiB)")


if __name__ == "__main__":
    main()
