#!/usr/bin/env bash
# Builds the browser demo (web/build.sh), then serves web/ on 127.0.0.1 and drives headless Chromium
# (WebGPU on SwiftShader) over the DevTools protocol: DDRM and DPS restore box inpainting of test image
# 0 in 20 steps, as the native embedding test does, and must beat the observation's PSNR by its margins.
# Screenshots and results.json land in target/web-test/. Needs chromium and python3-websocket (apt;
# installed here when missing, as root).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash web/build.sh
need=()
for pkg in chromium python3-websocket; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "web/test.sh: needs ${need[*]} (apt-get install ${need[*]}, as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Debian's python3, which python3-websocket installs into (a pyenv python3 may come first on PATH)
/usr/bin/python3 web/drive.py --out target/web-test "$@"
