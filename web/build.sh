#!/usr/bin/env bash
# Builds the browser demo (web/index.html): the set-up it needs first, each step skipped when done
# already, so a rerun is quick:
#   1. Debian's rustc-web, rust-web-src, cargo-web and rust-web-llvm (Rust with the wasm32 std
#      sources, its cargo, and /usr/bin/rust-lld; rustc-web 1.96 only recommends the last two, and
#      the install skips recommends) and lld-22 (the wasm linker rust-lld points at), by apt;
#   2. the wasm-bindgen command-line tool at exactly the version in web/Cargo.lock, built once by
#      cargo install into target/wasm-tools/;
#   3. the wasm module (std built for wasm32-unknown-unknown from source, -Zbuild-std), into
#      target/web/, and its JS glue into web/pkg/;
#   4. the bundled prior and eight test images copied into web/assets/.
# Then serve web/ over HTTP (python3 -m http.server -d web) and open it in a browser with WebGPU.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

say() { printf '== web/build.sh: %s\n' "$*"; }

need=()
for pkg in rustc-web rust-web-src cargo-web rust-web-llvm lld-22; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "web/build.sh: needs ${need[*]} (apt-get install ${need[*]}, as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# rustc-web's toolchain by full path: rustup's shims come first on PATH and have no wasm32 std
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1
WEB_CARGO=/usr/bin/cargo

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' web/Cargo.lock)
tools="$root/target/wasm-tools"
if ! "$tools/bin/wasm-bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
  say "building wasm-bindgen-cli $version (once; a few minutes)"
  # no --locked: the registry mirror lacks one of its pinned dependency versions
  env -u RUSTC -u RUSTDOC -u RUSTC_BOOTSTRAP cargo install -q wasm-bindgen-cli --version "$version" --root "$tools"
fi

say "building the wasm module"
"$WEB_CARGO" build -q --release --manifest-path web/Cargo.toml --target wasm32-unknown-unknown \
  -Zbuild-std=std,panic_abort --target-dir target/web
"$tools/bin/wasm-bindgen" --target web --no-typescript --out-dir web/pkg \
  target/web/wasm32-unknown-unknown/release/tweedie_web.wasm

mkdir -p web/assets
cp weights/fmnist32/config.json weights/fmnist32/diffusion_pytorch_model.safetensors \
  weights/fmnist32/scheduler_config.json web/assets/
for i in 0 1 2 3 4 5 6 7; do
  cp "tests/data/fmnist_test_0000$i.png" "web/assets/test_$i.png"
done
say "done: $(du -h web/pkg/tweedie_web_bg.wasm | cut -f1) of wasm in web/pkg; serve web/ (python3 -m http.server -d web)"
