#!/usr/bin/env bash
# Export the best held-out EMA weights of the resumable training run into weights/fmnist32, re-evaluate
# them and rewrite the model card. Then regenerate the goldens that depend on the weights:
#   /tmp/ref/bin/python tests/reference/make_goldens.py   (see tests/reference/README.md)
set -euo pipefail
cd "$(dirname "$0")/.."
CKPT=${CKPT:-/var/tmp/tweedie-fmnist32}
PY=${PY:-/tmp/ref/bin/python}
test -f "$CKPT/best/diffusion_pytorch_model.safetensors" || { echo "no $CKPT/best: run weights/train_fmnist.py first" >&2; exit 1; }
cp "$CKPT/best/diffusion_pytorch_model.safetensors" "$CKPT/best/config.json" weights/fmnist32/
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("heldout",None); json.dump(d,open(sys.argv[2],"w"),indent=2)' \
  "$CKPT/best/train_info.json" weights/fmnist32/train_info.json
grep -v '^# checkpoint' "$CKPT/train_log.txt" > weights/fmnist32/train_log_resumed.txt
nice -n 19 "$PY" weights/eval_fmnist.py --model weights/fmnist32 --threads 2
