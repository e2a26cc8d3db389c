#!/usr/bin/env bash
# Wall time of whole commands as a user runs them, cold and warm (issue #36):
#   - cold: an empty Mesa shader cache (a fresh MESA_SHADER_CACHE_DIR) and an empty tweedie
#     pipeline cache (a fresh TWEEDIE_PIPELINE_CACHE): the first run after an install;
#   - warm: the same command again with both caches as the first run left them (median of 3).
# Commands: `tweedie eps --vjp` on a batch of 32 (the issue's start-up case), `tweedie demo`
# (defaults: 4 images x 3 tasks, 20 DPS steps) and a 20-step DPS restore of one image.
# If a Python with torch + diffusers is given (PYTHON=/path/to/python), PyTorch's forward + VJP at
# batch 32 (benches/torch_cpu.py, same threads as cores) is timed in the same sitting for the ratio.
#
#   cargo build --release && bash benches/startup.sh            # prints a Markdown table
#   PYTHON=~/venv/bin/python bash benches/startup.sh
#
# Run it on a quiet machine (pause background jobs); the numbers are wall seconds of this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${T:-target/release/tweedie}
[ -x "$T" ] || { echo "build first: cargo build --release" >&2; exit 1; }
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# inputs of the eps case: x and v [32, 1, 32, 32], fixed pseudo-random values (plain Python)
python3 - "$work" <<'PY'
import json, struct, sys, random
def save(path, name, vals, shape):
    b = struct.pack('<%df' % len(vals), *vals)
    h = json.dumps({name: {"dtype": "F32", "shape": shape, "data_offsets": [0, len(b)]}}).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + b)
random.seed(0)
n = 32 * 32 * 32
save(sys.argv[1] + '/x.safetensors', 'x', [random.gauss(0, 1) for _ in range(n)], [32, 1, 32, 32])
save(sys.argv[1] + '/v.safetensors', 'v', [random.gauss(0, 1) for _ in range(n)], [32, 1, 32, 32])
PY
"$T" degrade --task inpaint-box --input tests/data/fmnist_test_00004.png --out "$work/y.png" >/dev/null 2>&1

eps() { "$T" eps --model weights/fmnist32 --input "$work/x.safetensors" --t 500 --vjp "$work/v.safetensors" --out "$work/o$1.safetensors"; }
demo() { "$T" demo --out "$work/demo$1.png"; }
dps() { "$T" restore --solver dps --steps 20 --observed "$work/y.png" --out "$work/r$1.png"; }

# seconds of one run of "$1" with the caches in "$2"
timed() {
  local t0 t1
  t0=$(date +%s.%N)
  MESA_SHADER_CACHE_DIR="$2/mesa" TWEEDIE_PIPELINE_CACHE="$2/tweedie" "$1" "$RANDOM" >/dev/null 2>&1
  t1=$(date +%s.%N)
  awk "BEGIN { print $t1 - $t0 }"
}
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }

echo "| command | cold (s) | warm (s, median of 3) |"
echo "| --- | --- | --- |"
declare -A warm
for c in eps demo dps; do
  caches="$work/caches-$c"
  cold=$(timed $c "$caches")
  w=$(median3 "$(timed $c "$caches")" "$(timed $c "$caches")" "$(timed $c "$caches")")
  warm[$c]=$w
  case $c in
    eps) name='`tweedie eps --vjp`, batch 32' ;;
    demo) name='`tweedie demo` (4 images x 3 tasks, 20 DPS steps)' ;;
    dps) name='`tweedie restore --solver dps --steps 20`, one image' ;;
  esac
  printf '| %s | %.2f | %.2f |\n' "$name" "$cold" "$w"
  [ "$c" = eps ] && eps_cold=$cold
done
if [ -n "${PYTHON:-}" ]; then
  ms=$("$PYTHON" benches/torch_cpu.py --batches 32 --reps 5 --threads "$(nproc)" | sed -n 's/^forward+vjp batch 32: \([0-9.]*\) ms/\1/p')
  printf '\nPyTorch forward + VJP, batch 32 (in-process, median of 5): %.3f s; tweedie eps --vjp wall / PyTorch: %.1fx cold, %.1fx warm\n' \
    "$(awk "BEGIN { print $ms / 1000 }")" "$(awk "BEGIN { print $eps_cold * 1000 / $ms }")" \
    "$(awk "BEGIN { print ${warm[eps]} * 1000 / $ms }")"
fi
