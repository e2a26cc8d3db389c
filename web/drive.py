#!/usr/bin/env python3
"""Drives web/index.html in headless Chromium over the DevTools protocol (web/test.sh runs it).

Serves web/ on 127.0.0.1, starts Chromium with WebGPU on SwiftShader (its CPU Vulkan), waits for the
page's engine, runs scripted restorations through window.tweedie.run (each resolves to the PSNRs, the
time per step and the longest stall of the page's event loop), takes a screenshot after each, checks
that the page never stalled for long (it awaits each step's readback instead of blocking), and
checks each PSNR against the observation's by the margin the native embedding test holds the same
solvers to on the same problem (tests/embed.rs: test image 0, box inpainting, 20 steps; DDRM +1 dB,
DPS +2 dB). A negative control opens the page in a Chromium without WebGPU and expects the page to
say so.

Only the standard library and Debian's python3-websocket.
"""

import argparse
import base64
import contextlib
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import websocket  # python3-websocket

WEB = os.path.dirname(os.path.abspath(__file__))

# solver -> margin over the observation, dB (tests/embed.rs holds DDRM and DPS to these)
MARGINS = {"ddrm": 1.0, "dps": 2.0}
# the longest a 20 ms timer may wait during a run: a page that blocked on its run would stall for
# the whole run (20 s and more here); compiling a kernel on its first use stalls it for < 1 s
MAX_GAP_MS = 5000


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a browser closing a connection mid-response (a page navigated away) is not a failure
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def serve():
    port = free_port()
    handler = functools.partial(Quiet, directory=WEB)
    Quiet.extensions_map[".wasm"] = "application/wasm"
    Quiet.extensions_map[".js"] = "text/javascript"
    httpd = Server(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, port


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("web/drive.py: no Chromium found (apt-get install chromium)")


class Page:
    """One headless Chromium with one page, driven over its DevTools WebSocket."""

    def __init__(self, url, webgpu=True):
        self.profile = tempfile.mkdtemp(prefix="tweedie-chromium-")
        port = free_port()
        flags = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu-sandbox",
            "--no-first-run",
            "--window-size=1180,760",
            f"--user-data-dir={self.profile}",
            f"--remote-debugging-port={port}",
        ]
        if webgpu:
            flags += [
                "--enable-unsafe-webgpu",
                "--enable-features=Vulkan",
                "--use-webgpu-adapter=swiftshader",
                "--enable-unsafe-swiftshader",
            ]
        self.proc = subprocess.Popen(
            [chromium_binary(), *flags, url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        ws_url = None
        deadline = time.time() + 60
        while time.time() < deadline and ws_url is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as r:
                    pages = [p for p in json.load(r) if p.get("type") == "page"]
                    if pages:
                        ws_url = pages[0]["webSocketDebuggerUrl"]
            except OSError:
                time.sleep(0.3)
        if ws_url is None:
            self.close()
            sys.exit("web/drive.py: Chromium's DevTools endpoint never came up")
        self.ws = websocket.create_connection(ws_url, timeout=900, suppress_origin=True)
        self.next_id = 0
        self.console = []
        self.call("Runtime.enable")

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]
            if msg.get("method") == "Runtime.consoleAPICalled":
                args = msg["params"].get("args", [])
                self.console.append(" ".join(str(a.get("value", a.get("description", ""))) for a in args))
            elif msg.get("method") == "Runtime.exceptionThrown":
                d = msg["params"]["exceptionDetails"]
                self.console.append(d.get("exception", {}).get("description", d.get("text", "")))

    def evaluate(self, expression, timeout_s):
        """Evaluates `expression`, awaits the promise it gives, and returns its value (JSON)."""
        r = self.call(
            "Runtime.evaluate",
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
            timeout=int(timeout_s * 1000),
        )
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise RuntimeError(d.get("exception", {}).get("description") or d.get("text"))
        return r["result"].get("value")

    def wait_for(self, expression, timeout_s):
        """Polls `expression` until it is truthy (the page and its module load asynchronously)."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            v = self.evaluate(expression, 10)
            if v:
                return v
            time.sleep(0.3)
        raise RuntimeError(f"timed out after {timeout_s} s waiting for {expression}")

    def screenshot(self, path):
        shot = self.call("Page.captureScreenshot", format="png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def close(self):
        with contextlib.suppress(Exception):
            self.ws.close()
        self.proc.terminate()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="target/web-test", help="folder for the screenshots and results.json")
    ap.add_argument("--runs", default="ddrm:inpaint-box,dps:inpaint-box",
                    help="solver:task pairs to run, comma-separated (checked where MARGINS has the solver)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--image", type=int, default=0, help="bundled test image (0-7; the embed test's is 0)")
    ap.add_argument("--no-control", action="store_true", help="skip the no-WebGPU negative control")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if not os.path.isfile(os.path.join(WEB, "pkg", "tweedie_web_bg.wasm")):
        sys.exit("web/drive.py: web/pkg has no wasm module; run web/build.sh first")

    httpd, port = serve()
    url = f"http://127.0.0.1:{port}/index.html"
    failures = []
    results = []
    page = Page(url)
    try:
        t0 = time.time()
        page.wait_for("typeof window.tweedie === 'object'", 60)
        page.evaluate("window.tweedie.ready.then(() => true)", 300)
        adapter = page.evaluate("document.getElementById('adapter').textContent", 10)
        print(f"page ready in {time.time() - t0:.1f} s; {adapter}")
        for pair in args.runs.split(","):
            solver, task = pair.split(":", 1)
            opts = {"solver": solver, "task": task, "steps": args.steps, "image": args.image,
                    "sigma": 0.05, "seed": 0}
            t0 = time.time()
            r = page.evaluate(f"window.tweedie.run({json.dumps(opts)})", 900)
            r["wall_s"] = round(time.time() - t0, 1)
            results.append(r)
            shot = os.path.join(args.out, f"{solver}.png")
            page.screenshot(shot)
            gain = r["psnr"] - r["observationPsnr"]
            print(f"{solver} {task} {r['steps']} steps: PSNR {r['psnr']:.2f} dB, observation "
                  f"{r['observationPsnr']:.2f} dB ({gain:+.2f}), trivial estimate {r['trivialPsnr']:.2f} dB "
                  f"({r['psnr'] - r['trivialPsnr']:+.2f}); {r['msPerStep']:.0f} ms per step, "
                  f"{r['wall_s']} s in all; longest the page went unresponsive: "
                  f"{r['longestGapMs']:.0f} ms; screenshot {shot}")
            if r["longestGapMs"] > MAX_GAP_MS:
                failures.append(f"{solver}: the page's event loop stalled for {r['longestGapMs']:.0f} ms "
                                f"(a timer every 20 ms); more than {MAX_GAP_MS} ms means the run blocks the page")
            need = MARGINS.get(solver)
            if need is not None and not gain > need:
                failures.append(f"{solver}: {gain:+.2f} dB over the observation, needs more than +{need}")
    except Exception as e:  # the page's own error text helps most
        failures.append(f"the page failed: {e}")
        with contextlib.suppress(Exception):
            failures.append("page status: " + str(page.evaluate("document.getElementById('status').textContent", 10)))
            page.screenshot(os.path.join(args.out, "failure.png"))
    finally:
        if page.console:
            print("page console:\n  " + "\n  ".join(page.console[-20:]))
        page.close()

    if not args.no_control:
        control = Page(url, webgpu=False)
        try:
            text = ""
            with contextlib.suppress(RuntimeError):
                text = control.wait_for(
                    "(document.getElementById('status') || {}).className === 'error' && "
                    "document.getElementById('status').textContent", 120)
            print(f"negative control (no WebGPU flags): {text or 'no error shown'}")
            if not text:
                failures.append("without WebGPU the page showed no error")
        finally:
            control.close()
    httpd.shutdown()

    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    if failures:
        print("web test FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print(f"web test: {len(results)} passed, 0 failed")


if __name__ == "__main__":
    main()
