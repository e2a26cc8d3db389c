// The page's driver: loads the wasm module and the bundled prior, runs a restoration step by step
// (awaiting each step's x̂0 readback, so the browser's event loop keeps running between steps), and
// offers window.tweedie.run(options) to scripts (web/test.sh drives it over DevTools).
import init, { Engine } from './pkg/tweedie_web.js';

const $ = (id) => document.getElementById(id);
const IMAGES = 8; // assets/test_0.png .. test_7.png, Fashion-MNIST test images
const state = {
  engine: null, size: 32, running: false, stop: false, mask: null, upload: null, drawing: null,
};

function status(text, error = false) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : '';
}

async function fetchOk(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`fetching ${url} failed: ${r.status} (run web/build.sh first)`);
  return r;
}

function draw(canvas, frame) {
  canvas.width = frame.width;
  canvas.height = frame.height;
  const data = new ImageData(new Uint8ClampedArray(frame.rgba), frame.width, frame.height);
  canvas.getContext('2d').putImageData(data, 0, 0);
}

const db = (v) => (Number.isFinite(v) ? `${v.toFixed(2)} dB` : '');

// A grey picture (one byte a pixel, the model's size) as PNG bytes.
async function greyPng(grey) {
  const s = state.size;
  const c = document.createElement('canvas');
  c.width = c.height = s;
  const g = c.getContext('2d');
  const px = g.createImageData(s, s);
  for (let i = 0; i < grey.length; i++) {
    px.data[4 * i] = px.data[4 * i + 1] = px.data[4 * i + 2] = grey[i];
    px.data[4 * i + 3] = 255;
  }
  g.putImageData(px, 0, 0);
  const blob = await new Promise((ok) => c.toBlob(ok, 'image/png'));
  return new Uint8Array(await blob.arrayBuffer());
}

// The chosen test image (or the upload, or the drawing) as PNG bytes at the model's size.
async function truthBytes() {
  if (state.upload) return state.upload;
  if ($('image').value === 'draw') return greyPng(state.drawing);
  const r = await fetchOk(`assets/test_${$('image').value}.png`);
  return new Uint8Array(await r.arrayBuffer());
}

// An uploaded picture, centre-cropped, resized to the model's size, grey, as PNG bytes.
async function loadUpload(file) {
  const bitmap = await createImageBitmap(file);
  const s = state.size;
  const c = document.createElement('canvas');
  c.width = c.height = s;
  const g = c.getContext('2d');
  const side = Math.min(bitmap.width, bitmap.height);
  g.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, s, s);
  const px = g.getImageData(0, 0, s, s);
  for (let i = 0; i < px.data.length; i += 4) {
    const l = 0.299 * px.data[i] + 0.587 * px.data[i + 1] + 0.114 * px.data[i + 2];
    px.data[i] = px.data[i + 1] = px.data[i + 2] = l;
  }
  g.putImageData(px, 0, 0);
  const blob = await new Promise((ok) => c.toBlob(ok, 'image/png'));
  return new Uint8Array(await blob.arrayBuffer());
}

function drawingChanged() {
  const drawing = $('image').value === 'draw' && !state.upload;
  $('c-truth').classList.toggle('paint', drawing);
  $('drawhint').hidden = !drawing;
}

// Calls apply(pixel index, distance) for each model pixel within `radius` of the pointer over `canvas`.
function underPointer(ev, canvas, radius, apply) {
  const r = canvas.getBoundingClientRect();
  const s = state.size;
  const cx = ((ev.clientX - r.left) / r.width) * s;
  const cy = ((ev.clientY - r.top) / r.height) * s;
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (d <= radius) apply(y * s + x, d);
    }
  }
}

// Draws on the truth (the "Draw your own" image): white, shift-drag erases.
function pen(ev) {
  if (state.running || $('image').value !== 'draw' || state.upload || !(ev.buttons & 1)) return;
  underPointer(ev, $('c-truth'), 2, (i, d) => {
    state.drawing[i] = ev.shiftKey ? 0 : Math.min(255, state.drawing[i] + Math.round(255 * (1.2 - d / 2)));
  });
  showTruth();
}

async function showTruth() {
  drawingChanged();
  const bytes = await truthBytes();
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const c = $('c-truth');
  c.width = bitmap.width;
  c.height = bitmap.height;
  c.getContext('2d').drawImage(bitmap, 0, 0);
  if ($('task').value === 'inpaint-painted') paintPreview();
}

// ---- the painted mask: 1 where observed, 0 where the brush went ----
function resetMask() {
  state.mask = new Uint8Array(state.size * state.size).fill(1);
}

function paintPreview() {
  const t = $('c-truth');
  const o = $('c-obs');
  o.width = t.width;
  o.height = t.height;
  const g = o.getContext('2d');
  g.drawImage(t, 0, 0);
  const px = g.getImageData(0, 0, o.width, o.height);
  for (let i = 0; i < state.mask.length; i++) {
    if (!state.mask[i]) {
      px.data[4 * i] = 160; px.data[4 * i + 1] = 0; px.data[4 * i + 2] = 0;
    }
  }
  g.putImageData(px, 0, 0);
}

function brush(ev) {
  if (state.running || $('task').value !== 'inpaint-painted' || !(ev.buttons & 1)) return;
  underPointer(ev, $('c-obs'), 2.5, (i) => { state.mask[i] = ev.shiftKey ? 1 : 0; });
  paintPreview();
}

function taskChanged() {
  const painted = $('task').value === 'inpaint-painted';
  $('painthint').hidden = !painted;
  $('c-obs').classList.toggle('paint', painted);
  if (painted) {
    if (!state.mask.includes(0)) {
      // a starting stroke, so the first run has something to restore
      const s = state.size;
      for (let y = 10; y < 22; y++) for (let x = 8; x < 24; x++) state.mask[y * s + x] = 0;
    }
    paintPreview();
  }
}

// ---- a restoration ----
function options() {
  return {
    image: $('image').value === 'draw' ? 'draw' : Number($('image').value),
    task: $('task').value,
    solver: $('solver').value,
    sigma: Number($('sigma').value),
    steps: Number($('steps').value),
    seed: Number($('seed').value),
  };
}

/// Runs one restoration with `opts` (the form's fields when omitted) and resolves to its numbers.
async function run(opts) {
  if (!state.engine) throw new Error('the engine is not open yet');
  if (state.running) throw new Error('a restoration is running');
  opts = { ...options(), ...opts };
  for (const [id, key] of [['image', 'image'], ['task', 'task'], ['solver', 'solver'], ['sigma', 'sigma'], ['steps', 'steps'], ['seed', 'seed']]) {
    $(id).value = String(opts[key]);
  }
  taskChanged();
  state.running = true;
  state.stop = false;
  $('run').disabled = true;
  $('stop').disabled = false;
  $('f-std').hidden = true;
  for (const id of ['l-obs', 'l-trivial', 'l-live', 'l-result']) $(id).textContent = $(id).textContent.split(' ·')[0];
  let r = null;
  // how long the page's event loop went without running a timer: the page's responsiveness
  let last = performance.now();
  let longestGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 20);
  try {
    await showTruth();
    const mask = opts.task === 'inpaint-painted' ? state.mask : undefined;
    r = state.engine.start(await truthBytes(), opts.task, mask, opts.solver, opts.steps, opts.sigma, opts.seed);
    const obs = await r.observation();
    draw($('c-obs'), obs);
    $('l-obs').textContent = `observation · ${db(obs.psnr)}`;
    const trivial = await r.trivial();
    draw($('c-trivial'), trivial);
    $('l-trivial').textContent = `trivial estimate · ${db(trivial.psnr)}`;
    const n = r.steps();
    status(`${r.solver()}: ${n} steps on ${state.engine.adapter()}`);
    $('progress').max = n;
    const t0 = performance.now();
    let live = null;
    for (let k = 0; k < n && !state.stop; k++) {
      r.step();
      live = await r.estimate(); // waits for this step on the GPU without blocking the page
      draw($('c-live'), live);
      const ms = (performance.now() - t0) / (k + 1);
      $('progress').value = k + 1;
      $('stats').textContent = `step ${k + 1} / ${n} · ${ms.toFixed(0)} ms per step`;
      $('l-live').textContent = `x̂₀ at step ${k + 1} · ${db(live.psnr)}`;
    }
    if (state.stop) {
      status(`stopped after ${r.done()} of ${n} steps`);
      return { stopped: true };
    }
    const out = await r.finish();
    const msPerStep = (performance.now() - t0) / n;
    const result = out.result;
    draw($('c-result'), result);
    $('l-result').textContent = `${opts.solver} · ${db(result.psnr)}`;
    if (out.uncertainty) {
      draw($('c-std'), out.uncertainty);
      $('f-std').hidden = false;
      $('l-std').textContent = `posterior std · white = ${out.uncertainty.peak.toFixed(3)}`;
    }
    const gain = result.psnr - trivial.psnr;
    status(`${opts.solver}, ${n} steps: ${db(result.psnr)}, ${gain >= 0 ? '+' : ''}${gain.toFixed(2)} dB over the trivial estimate (${msPerStep.toFixed(0)} ms per step)`);
    return {
      solver: opts.solver, task: opts.task, steps: n, psnr: result.psnr, trivialPsnr: trivial.psnr,
      observationPsnr: obs.psnr, msPerStep, adapter: state.engine.adapter(),
      longestGapMs: Math.max(longestGap, performance.now() - last),
    };
  } catch (e) {
    status(String(e.message || e), true);
    throw e;
  } finally {
    clearInterval(ticker);
    if (r) r.free();
    state.running = false;
    $('run').disabled = false;
    $('stop').disabled = true;
  }
}

async function boot() {
  for (let i = 0; i < IMAGES; i++) $('image').add(new Option(`Fashion-MNIST test ${i}`, String(i)));
  $('image').add(new Option('Draw your own', 'draw'));
  $('image').value = '4';
  state.drawing = new Uint8Array(state.size * state.size);
  $('c-truth').addEventListener('pointerdown', pen);
  $('c-truth').addEventListener('pointermove', pen);
  resetMask();
  $('task').addEventListener('change', taskChanged);
  $('image').addEventListener('change', () => { state.upload = null; $('upload').value = ''; showTruth(); });
  $('upload').addEventListener('change', async () => {
    const f = $('upload').files[0];
    if (f) { state.upload = await loadUpload(f); showTruth(); }
  });
  $('c-obs').addEventListener('pointerdown', brush);
  $('c-obs').addEventListener('pointermove', brush);
  $('run').addEventListener('click', () => run().catch(() => {}));
  $('stop').addEventListener('click', () => { state.stop = true; });
  await init();
  if (!navigator.gpu) {
    throw new Error('this browser has no WebGPU (navigator.gpu is missing): use Chrome or Edge 113+, '
      + 'Safari 26+, or Firefox 141+ on Windows; in Chromium on Linux start it with --enable-unsafe-webgpu');
  }
  const [config, weights, scheduler] = await Promise.all([
    fetchOk('assets/config.json').then((r) => r.text()),
    fetchOk('assets/diffusion_pytorch_model.safetensors').then((r) => r.arrayBuffer()),
    fetchOk('assets/scheduler_config.json').then((r) => r.text()),
  ]);
  state.size = JSON.parse(config).sample_size || 32;
  resetMask();
  state.drawing = new Uint8Array(state.size * state.size);
  state.engine = await Engine.open(config, new Uint8Array(weights), scheduler);
  $('adapter').textContent = `GPU: ${state.engine.adapter()}.`;
  $('run').disabled = false;
  await showTruth();
  status('Ready: pick a task and a solver, then Restore.');
}

window.tweedie = { ready: boot(), run };
window.tweedie.ready.catch((e) => {
  status(String(e.message || e), true);
  $('adapter').textContent = 'No GPU.';
});
