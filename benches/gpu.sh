#!/usr/bin/env bash
# One-call GPU benchmark: tweedie against PyTorch on the same UNet, same inputs, same card.
#
# For an NVIDIA host (H100/H200) with CUDA and PyTorch but no Rust toolchain and no network: the
# binaries are built here (x86-64, like the host) and travel with the work tree.
#
# Prepare, on the build machine, from the repository root (both steps write only ignored folders):
#   bash ../shared/device/prep.sh      # .gl/ (Vulkan + GL loaders), .whl/ (diffusers), .dev/ (on-gpu.sh)
#   bash benches/gpu.sh prep           # builds and copies the five binaries into .dev/bin/
# `gpu.sh prep` (BIN= picks another folder) runs exactly:
#   cargo build --release --bin tweedie --example profile     # target/release/{tweedie,examples/profile}
#   cargo bench --bench unet --no-run                         # prints "Executable benches/unet.rs (PATH)"
#   cargo test --release --no-run --test unet_golden --test adm   # prints "Executable tests/adm.rs (PATH)" ...
# and copies them, stripped and gzipped (about 15 MB for all five, against 48 MB as built), as
#   .dev/bin/{tweedie,unet-bench,profile,unet_golden,adm}.gz
# plus .dev/bin/manifest_dir (the build tree's path: the bench and the tests find weights/ and
# tests/fixtures/ through the CARGO_MANIFEST_DIR compiled into them; where the tree lands elsewhere
# on the host, this script links that path to it) and .dev/bin/build_info (commit, dirty files).
# To find the paths by hand: `cargo bench --bench unet --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p'`
# (the same for the test command); plain uncompressed binaries in BIN work too.
#
# Run, on the GPU host, from the copied tree (at most 8 minutes; each step has its own timeout and a
# step that fails or times out is recorded as such and the rest go on):
#   source .dev/on-gpu.sh; OUT=$OUT BIN=.dev/bin bash benches/gpu.sh
# With the device tool: carry [".gl", ".whl", ".dev"], command
#   source .dev/on-gpu.sh; OUT=$OUT bash benches/gpu.sh      (timeout_s 540)
# (the script also sources .dev/on-gpu.sh itself when it is there and VK_DRIVER_FILES is unset).
#
# It writes $OUT/gpu-bench.md (OUT defaults to /tmp/tweedie-gpu-bench): the table
#   | case | tweedie (ms) | PyTorch fp32 no-TF32 (ms) | PyTorch default (ms) | ratio vs fp32 | ratio vs default |
# for forward and forward + VJP at batch 1 and 8 (tweedie: criterion medians of benches/unet.rs;
# PyTorch: benches/torch_gpu.py, eager fp32, CUDA-event medians), the device, the goldens
# (tests/unet_golden.rs and tests/adm.rs, --test-threads 1) on the default kernel path and on
# TWEEDIE_KERNELS=cpu, the per-kernel profiles of forward + VJP at batch 1 and 8 (GPU timestamps),
# each step's status and time; and $OUT/gpu-bench-logs.txt, every step's full log one after the
# other (KEEP_LOGS=1 also keeps them as separate files in $OUT/logs/).
#
# Settings (environment): BIN (.dev/bin), OUT (/tmp/tweedie-gpu-bench), PYTHON (python3), REPS (PyTorch's
# timed runs, 50), PROFILE_RUNS (8), BUDGET (seconds for the whole script, 460), WARMUP_TIME and
# MEASUREMENT_TIME (criterion's, 1 and 3 s).
# Exit status 0 when every step passed, else 1 (the report is written either way).
# DRY=1 tests the whole script on a machine without CUDA (lavapipe, PyTorch on the CPU): TORCH_DEVICE
# cpu, REPS 3, PROFILE_RUNS 3, every step's timeout times TSCALE (20) and BUDGET 7200.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
BIN=${BIN:-.dev/bin}
NAMES=(tweedie unet-bench profile unet_golden adm)

# ---------------------------------------------------------------- prep (on the build machine)
if [ "${1:-}" = prep ]; then
  set -e
  mkdir -p "$BIN"
  [ -f .dev/on-gpu.sh ] || echo "note: .dev/on-gpu.sh is missing: run bash ../shared/device/prep.sh too (.gl/ .whl/ .dev/)"
  cargo build --release --bin tweedie --example profile
  exe() { sed -n "s|^ *Executable $1 (\(.*\))\$|\1|p" "$2" | tail -1; }
  log=$(mktemp)
  cargo bench --bench unet --no-run 2>&1 | tee "$log"
  cargo test --release --no-run --test unet_golden --test adm 2>&1 | tee -a "$log"
  declare -A src=(
    [tweedie]=target/release/tweedie
    [profile]=target/release/examples/profile
    [unet-bench]=$(exe 'benches/unet.rs' "$log")
    [unet_golden]=$(exe 'tests/unet_golden.rs' "$log")
    [adm]=$(exe 'tests/adm.rs' "$log")
  )
  rm -f "$log"
  for n in "${NAMES[@]}"; do
    s=${src[$n]}
    [ -n "$s" ] && [ -f "$s" ] || { echo "error: no executable found for $n" >&2; exit 1; }
    rm -f "$BIN/$n" "$BIN/$n.gz"
    cp "$s" "$BIN/$n"
    command -v strip >/dev/null && strip "$BIN/$n"
    gzip -6 "$BIN/$n"
    echo "$BIN/$n.gz <- $s"
  done
  echo "$ROOT" > "$BIN/manifest_dir"
  { echo "commit $(git rev-parse --short HEAD 2>/dev/null) ($(git log -1 --format=%s 2>/dev/null | cut -c1-80))"
    echo "uncommitted changes in $(git status --porcelain 2>/dev/null | grep -c '^ \?[MADR]') tracked files at build time"
    echo "built $(date -u '+%Y-%m-%d %H:%M UTC') with $(rustc --version 2>/dev/null)"; } > "$BIN/build_info"
  du -ch "$BIN"/* | tail -1
  exit 0
fi

# ---------------------------------------------------------------- settings
T0=$SECONDS
DRY=${DRY:-0}
OUT=${OUT:-/tmp/tweedie-gpu-bench}
PYTHON=${PYTHON:-python3}
if [ "$DRY" = 1 ]; then
  TORCH_DEVICE=${TORCH_DEVICE:-cpu}; REPS=${REPS:-3}; PROFILE_RUNS=${PROFILE_RUNS:-3}
  TSCALE=${TSCALE:-20}; BUDGET=${BUDGET:-7200}
else
  TORCH_DEVICE=${TORCH_DEVICE:-cuda}; REPS=${REPS:-50}; PROFILE_RUNS=${PROFILE_RUNS:-8}
  TSCALE=${TSCALE:-1}; BUDGET=${BUDGET:-460}
fi
WARMUP_TIME=${WARMUP_TIME:-1}
MEASUREMENT_TIME=${MEASUREMENT_TIME:-3}
mkdir -p "$OUT/logs" || exit 1
OUT=$(cd "$OUT" && pwd)
LOGS=$OUT/logs
rm -f "$LOGS"/*.log
export HF_HUB_OFFLINE=1 DIFFUSERS_VERBOSITY=error PYTHONUNBUFFERED=1 RUST_BACKTRACE=1
export CRITERION_HOME=${CRITERION_HOME:-/tmp/gpu-bench-criterion}
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then XDG_RUNTIME_DIR=$(mktemp -d) && export XDG_RUNTIME_DIR; fi  # quiets Mesa

note() { echo "[gpu.sh $((SECONDS - T0))s] $*" >&2; }

# ---------------------------------------------------------------- steps
declare -A STATUS SECS
STEPS=()
# run_step NAME TIMEOUT_S CMD...: runs CMD with stdout+stderr to $LOGS/NAME.log under a timeout
# (scaled by TSCALE, capped by what is left of BUDGET); records ok / FAILED (rc) / TIMEOUT / SKIPPED.
run_step() {
  local name=$1 t=$(( $2 * TSCALE )); shift 2
  local left=$(( BUDGET - (SECONDS - T0) - 15 ))
  STEPS+=("$name")
  if [ "$left" -lt 10 ]; then
    STATUS[$name]="SKIPPED (out of time)"; SECS[$name]=0
    echo "skipped: the script's budget of ${BUDGET}s was spent" > "$LOGS/$name.log"
    note "$name: SKIPPED (budget spent)"; return 1
  fi
  [ "$t" -gt "$left" ] && t=$left
  note "$name (timeout ${t}s): $*"
  local s=$SECONDS rc
  { echo "\$ $*"; echo "# timeout ${t}s, TWEEDIE_KERNELS=${TWEEDIE_KERNELS:-unset}"; } > "$LOGS/$name.log"
  timeout -k 5 "$t" "$@" >> "$LOGS/$name.log" 2>&1
  rc=$?
  SECS[$name]=$((SECONDS - s))
  case $rc in
    0) STATUS[$name]=ok ;;
    124|137) STATUS[$name]="FAILED (timeout ${t}s)" ;;
    *) STATUS[$name]="FAILED (exit $rc)" ;;
  esac
  echo "# exit $rc after ${SECS[$name]}s" >> "$LOGS/$name.log"
  note "$name: ${STATUS[$name]} in ${SECS[$name]}s"
  return $rc
}
skip_step() {  # skip_step NAME REASON
  STEPS+=("$1"); STATUS[$1]="FAILED ($2)"; SECS[$1]=0; echo "$2" > "$LOGS/$1.log"; note "$1: $2"
}

# ---------------------------------------------------------------- environment
if [ -f .dev/on-gpu.sh ] && [ -z "${VK_DRIVER_FILES:-}" ] && [ "$DRY" != 1 ]; then
  note "sourcing .dev/on-gpu.sh"
  # shellcheck disable=SC1091
  source .dev/on-gpu.sh > "$LOGS/on-gpu.log" 2>&1 || note "on-gpu.sh returned non-zero (see on-gpu.log)"
fi

# binaries: BIN/NAME, or BIN/NAME.gz unpacked to a temporary folder
declare -A EXE
UNPACK=$(mktemp -d /tmp/gpu-bench-bin.XXXXXX)
for n in "${NAMES[@]}"; do
  if [ -x "$BIN/$n" ]; then EXE[$n]=$BIN/$n
  elif [ -f "$BIN/$n.gz" ]; then gzip -dc "$BIN/$n.gz" > "$UNPACK/$n" && chmod +x "$UNPACK/$n" && EXE[$n]=$UNPACK/$n
  else EXE[$n]=""; note "missing binary: $BIN/$n (or $n.gz)"
  fi
done
# The bench and the tests read weights/ and tests/fixtures/ under the build tree's path (CARGO_MANIFEST_DIR).
LINKED=""
if [ -f "$BIN/manifest_dir" ]; then
  md=$(cat "$BIN/manifest_dir")
  if [ "$md" != "$ROOT" ] && [ ! -e "$md/weights/fmnist32/config.json" ]; then
    if [ ! -e "$md" ] && mkdir -p "$(dirname "$md")" && ln -s "$ROOT" "$md"; then
      LINKED="$md -> $ROOT"; note "linked $LINKED (CARGO_MANIFEST_DIR of the binaries)"
    else
      note "warning: the binaries look for files under $md, which exists but is not this tree"
    fi
  fi
fi

# ---------------------------------------------------------------- 1. tweedie info
if [ -n "${EXE[tweedie]}" ]; then run_step info 30 "${EXE[tweedie]}" info; else skip_step info "no tweedie binary"; fi

# ---------------------------------------------------------------- 2. criterion bench (fmnist32 cases)
if [ -n "${EXE[unet-bench]}" ]; then
  run_step bench 120 "${EXE[unet-bench]}" --bench --noplot --warm-up-time "$WARMUP_TIME" \
    --measurement-time "$MEASUREMENT_TIME" fmnist32
else skip_step bench "no unet-bench binary"; fi

# ---------------------------------------------------------------- 3. PyTorch, fp32 without TF32 and default settings
for mode in off default; do
  run_step "torch-tf32-$mode" 75 "$PYTHON" benches/torch_gpu.py --device "$TORCH_DEVICE" --tf32 "$mode" \
    --reps "$REPS" --model "$ROOT/weights/fmnist32"
done

# ---------------------------------------------------------------- 4. kernel profiles, forward + VJP
for b in 1 8; do
  if [ -n "${EXE[profile]}" ]; then
    run_step "profile-b$b" 40 "${EXE[profile]}" --vjp --batch "$b" --runs "$PROFILE_RUNS" --model "$ROOT/weights/fmnist32"
  else skip_step "profile-b$b" "no profile binary"; fi
done

# ---------------------------------------------------------------- 5. goldens, default kernels and TWEEDIE_KERNELS=cpu
for path in default cpu; do
  for t in unet_golden adm; do
    name="golden-$t-$path"
    if [ -z "${EXE[$t]}" ]; then skip_step "$name" "no $t binary"; continue; fi
    tl=60; [ "$t" = adm ] && tl=90
    if [ "$path" = cpu ]; then
      TWEEDIE_KERNELS=cpu run_step "$name" "$tl" "${EXE[$t]}" --test-threads 1 --nocapture
    else
      run_step "$name" "$tl" "${EXE[$t]}" --test-threads 1 --nocapture
    fi
  done
done

# ---------------------------------------------------------------- parse
# criterion: "NAME\n   time:   [low median high]" (or NAME and time: on one line) -> median in ms
crit_median() {  # crit_median "forward fmnist32 [1, 1, 32, 32]"
  awk -v want="$1" '
    function ms(v, u) { if (u == "s") return v * 1000; if (u == "ms") return v; if (u == "µs" || u == "us") return v / 1000; if (u == "ns") return v / 1e6; return -1 }
    /^Benchmarking / { next }
    {
      line = $0
      i = index(line, "time:")
      if (i > 0) {
        pre = substr(line, 1, i - 1); gsub(/^[ \t]+|[ \t]+$/, "", pre)
        if (pre != "") cur = pre
        if (cur == want) {
          rest = substr(line, i + 5); gsub(/[\[\]]/, "", rest)
          n = split(rest, f, /[ \t]+/); k = 0
          for (j = 1; j <= n; j++) if (f[j] != "") g[++k] = f[j]
          if (k >= 4) { printf "%.3f\n", ms(g[3], g[4]); exit }
        }
      } else {
        s = line; gsub(/^[ \t]+|[ \t]+$/, "", s)
        if (s != "" && s !~ /^(Warning|Found|Benchmarking|change:|Performance|No change|Change within)/ && s !~ /outlier/) cur = s
      }
    }' "$LOGS/bench.log" 2>/dev/null
}
torch_ms() {  # torch_ms off|default "forward batch 1"
  sed -n "s/^$2: \([0-9.]*\) ms.*/\1/p" "$LOGS/torch-tf32-$1.log" 2>/dev/null | tail -1
}
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "-" }'; else echo "-"; fi; }
fmt() {  # fmt VALUE STEP: the number, or FAILED where the step failed / the case is missing
  if [ -n "$1" ]; then awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.1f", v; else if (v >= 10) printf "%.2f", v; else printf "%.3f", v }'
  else echo "FAILED"; fi
}

device="" gpu_name=""
if command -v nvidia-smi >/dev/null 2>&1; then
  device=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
  gpu_name=${device%%,*}
  [ -n "$device" ] && device="$device (nvidia-smi: name, memory, driver)"
fi
chosen=$(sed -n 's/^chosen: //p' "$LOGS/info.log" 2>/dev/null | head -1)
kernels=$(sed -n 's/^kernels: //p' "$LOGS/info.log" 2>/dev/null | head -1)
driver=$(sed -n 's/^driver: //p' "$LOGS/info.log" 2>/dev/null | head -1)
torch_dev=$(sed -n 's/^device: //p' "$LOGS/torch-tf32-off.log" 2>/dev/null | head -1)
torch_ver=$(sed -n 's/^\(torch .*\)/\1/p' "$LOGS/torch-tf32-off.log" 2>/dev/null | head -1)
tf32_off=$(sed -n 's/^tf32 off: //p' "$LOGS/torch-tf32-off.log" 2>/dev/null | head -1)
tf32_def=$(sed -n 's/^tf32 default: //p' "$LOGS/torch-tf32-default.log" 2>/dev/null | head -1)

golden_row() {  # golden_row BINARY PATH
  local name="golden-$1-$2" log="$LOGS/golden-$1-$2.log" sum passed failed failures
  sum=$(grep -a '^test result:' "$log" 2>/dev/null | tail -1)
  passed=$(sed -n 's/.* \([0-9]*\) passed.*/\1/p' <<<"$sum")
  failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$sum")
  failures=$(awk '/^failures:$/ { f++; next } f >= 2 && /^    [A-Za-z0-9_:]+$/ { gsub(/^ +/, ""); printf "%s%s", (n++ ? ", " : ""), $0 }' "$log" 2>/dev/null)
  local kpath=$2; [ "$2" = default ] && kpath="default (auto)"
  [ "$2" = cpu ] && kpath="TWEEDIE_KERNELS=cpu"
  echo "| tests/$1.rs | $kpath | ${STATUS[$name]:-not run} | ${passed:--} | ${failed:--} | ${failures:--} | ${SECS[$name]:-0} s |"
}

profile_block() {  # profile_block B: per-run wall times and the top kernels
  local log="$LOGS/profile-b$1.log"
  echo
  echo "Forward + VJP, batch $1 (${STATUS[profile-b$1]:-not run}, section \`profile-b$1.log\`):"
  echo
  if ! grep -aq '^kernel ' "$log" 2>/dev/null; then echo "(no profile: see the log)"; return; fi
  echo '```'
  grep -a ' run [0-9]*: ' "$log" | grep -v XDG
  awk '/^kernel / { p = 1 } p && n < 13 { print; n++ } /^total / && p { if (n >= 13) print; exit }' "$log"
  echo '```'
}

# ---------------------------------------------------------------- report
MD=$OUT/gpu-bench.md
{
  echo "# tweedie vs PyTorch on ${gpu_name:-${chosen:-an unknown device}}"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), \`benches/gpu.sh\`$( [ "$DRY" = 1 ] && echo ' (DRY=1: no CUDA, PyTorch on the CPU)')."
  [ -f "$BIN/build_info" ] && sed 's/^/Binaries: /' "$BIN/build_info" | head -3 | sed 's/$/  /'
  echo
  echo "- device: ${device:-no nvidia-smi}"
  echo "- tweedie adapter: ${chosen:-?}; driver: ${driver:-?}; kernels: ${kernels:-?}"
  echo "- PyTorch: ${torch_dev:-?}; ${torch_ver:-?}"
  echo "  - fp32 no-TF32: ${tf32_off:-?}"
  echo "  - default: ${tf32_def:-?}"
  [ -n "$LINKED" ] && echo "- linked $LINKED (the binaries' CARGO_MANIFEST_DIR)"
  echo
  echo "tweedie: criterion median (benches/unet.rs, warm-up ${WARMUP_TIME} s, measurement ${MEASUREMENT_TIME} s, device synchronised each iteration);"
  echo "PyTorch: median of $REPS runs after 5 warm-ups (benches/torch_gpu.py, eager fp32, $( [ "$TORCH_DEVICE" = cuda ] && echo "CUDA events" || echo "wall clock on $TORCH_DEVICE")). Ratio = tweedie / PyTorch."
  echo
  echo "| case | tweedie (ms) | PyTorch fp32 no-TF32 (ms) | PyTorch default (ms) | ratio vs fp32 | ratio vs default |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for b in 1 8; do
    for k in forward forward+vjp; do
      tw=$(crit_median "$k fmnist32 [$b, 1, 32, 32]")
      po=$(torch_ms off "$k batch $b")
      pd=$(torch_ms default "$k batch $b")
      label="forward, batch $b"; [ "$k" = forward+vjp ] && label="forward + VJP, batch $b"
      echo "| $label | $(fmt "$tw") | $(fmt "$po") | $(fmt "$pd") | $(ratio "$tw" "$po") | $(ratio "$tw" "$pd") |"
    done
  done
  echo
  mem=$(grep -a 'peak device memory' "$LOGS/bench.log" 2>/dev/null | grep fmnist32)
  if [ -n "$mem" ]; then echo "Peak device memory (tweedie's pooled tensors):"; echo; echo '```'; echo "$mem"; echo '```'; echo; fi
  echo "## Goldens on the GPU (--test-threads 1)"
  echo
  echo "| test binary | kernel path | status | passed | failed | failing tests | time |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  for p in default cpu; do for t in unet_golden adm; do golden_row "$t" "$p"; done; done
  echo
  echo "## Kernel profiles (examples/profile.rs --vjp, GPU timestamps, $PROFILE_RUNS runs of which the first two are warm-ups)"
  profile_block 1
  profile_block 8
  echo
  echo "## Steps"
  echo
  echo "Every log is a section of \`gpu-bench-logs.txt\` (\`===== NAME =====\`)$( [ "${KEEP_LOGS:-0}" = 1 ] && echo ", and a file \`logs/NAME\`")."
  echo
  echo "| step | status | seconds | log |"
  echo "| --- | --- | --- | --- |"
  for s in "${STEPS[@]}"; do echo "| $s | ${STATUS[$s]} | ${SECS[$s]} | \`$s.log\` |"; done
  echo
  echo "Total: $((SECONDS - T0)) s of a ${BUDGET} s budget."
} > "$MD"

{
  for s in on-gpu "${STEPS[@]}"; do
    f=$LOGS/$s.log
    [ -f "$f" ] || continue
    echo "===== $(basename "$f") ====="
    grep -av 'XDG_RUNTIME_DIR is invalid' "$f"
    echo
  done
} > "$OUT/gpu-bench-logs.txt"
[ "${KEEP_LOGS:-0}" = 1 ] || rm -rf "$LOGS"
rm -rf "$UNPACK"
cat "$MD"
note "done: $MD, $OUT/gpu-bench-logs.txt"
nfail=0
for s in "${STEPS[@]}"; do [ "${STATUS[$s]}" = ok ] || nfail=$((nfail + 1)); done
[ "$nfail" = 0 ] || { note "$nfail step(s) not ok"; exit 1; }
