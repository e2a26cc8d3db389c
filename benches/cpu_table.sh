#!/usr/bin/env bash
# The README's speed table: tweedie (criterion, `cargo bench --bench unet`) and PyTorch
# (benches/torch_cpu.py, same model, inputs and threads) side by side in one sitting, as Markdown
# with ratios. Needs a Python with torch + diffusers:
#
#   PYTHON=~/venv/bin/python bash benches/cpu_table.sh
#
# Run it on a quiet machine (pause background jobs: this VM's speed moves between runs, so only
# ratios from one sitting mean anything). TWEEDIE_KERNELS etc. apply as usual.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
threads=$(nproc)
cargo bench -q --bench unet -- fmnist32 >/dev/null 2>&1
torch=$("$PYTHON" benches/torch_cpu.py --threads "$threads")
"$PYTHON" - "$torch" <<'PY'
import glob, json, os, re, sys
torch = dict(re.findall(r"^(forward(?:\+vjp)? batch \d+): ([0-9.]+) ms$", sys.argv[1], re.M))
head = sys.argv[1].splitlines()[0]
def criterion(name):
    for d in glob.glob("target/criterion/*/"):
        bench = os.path.join(d, "new", "benchmark.json")
        if os.path.exists(bench) and json.load(open(bench))["full_id"] == name:
            return json.load(open(os.path.join(d, "new", "estimates.json")))["median"]["point_estimate"] / 1e6
    sys.exit(f"no criterion result for {name!r}: did cargo bench run?")
print("| case | tweedie | PyTorch | ratio |")
print("| --- | --- | --- | --- |")
for b in (1, 8):
    for kind, label in (("forward", "forward"), ("forward+vjp", "forward + VJP")):
        ours = criterion(f"{kind} fmnist32 [{b}, 1, 32, 32]")
        theirs = float(torch[f"{kind} batch {b}"])
        print(f"| {label}, batch {b} | {ours:,.1f} ms | {theirs:,.1f} ms | {ours / theirs:.1f}x |")
print(f"\n(tweedie: criterion median; PyTorch: {head}, median)")
PY
