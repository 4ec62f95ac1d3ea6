#!/usr/bin/env node
// ort_bench.js: times an exported model (tools/compare/to_torch.py) with
// ONNX Runtime's CPU provider (npm onnxruntime-node 1.30.0).
//
//   node tools/compare/ort_bench.js DIR [--threads N] [--repeat R]
//        [--warmup W] [--check | --first]
//
// DIR holds model.onnx, meta.json and input*.npy (NHWC, as rnc takes them;
// transposed here to the export's NCHW before any timing).
//   default   W warm-up runs (3), then R timed runs (20); prints one line
//             "median_ms=... min_ms=... runs=R threads=N maxrss_kb=..."
//   --check   one run; each output must equal DIR/ref*.npy (reference.py)
//             within 1e-4 relative (as tools/compare/to_torch.py checks)
//   --first   one run, prints "first_result", exits at once: the shell
//             times the process from start to that line
//   --profile PREFIX  as the default, with ORT's profiler on: its JSON
//             (every node's time in every run) goes to PREFIX_<date>.json,
//             whose name is printed (tools/profile_kinds.py reads it)
'use strict';
const fs = require('fs');
const path = require('path');

const RTOL = 1e-4;

function fail(msg) {
  process.stderr.write(`ort_bench.js: error: ${msg}\n`);
  process.exit(1);
}

// A little-endian float32 .npy (format 1.x or 2.x), C order.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${file}: not .npy`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  if (!/'descr':\s*'<f4'/.test(header)) fail(`${file}: not float32`);
  if (/'fortran_order':\s*True/.test(header)) fail(`${file}: Fortran order`);
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  const shape = m[1].split(',').map((s) => s.trim()).filter((s) => s)
    .map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(start + 4 * i);
  return { shape, data };
}

// rnc's [H, W, C] (or [N]) as the export's [1, C, H, W] (or [1, N]).
function toNchw(arr, shape) {
  if (shape.length !== 4) return arr;
  const [, c, h, w] = shape;
  const out = new Float32Array(arr.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++)
        out[(k * h + y) * w + x] = arr[(y * w + x) * c + k];
  return out;
}

// An NCHW output back in rnc's NHWC order, for comparison.
function toNhwc(t) {
  if (t.dims.length !== 4) return t.data;
  const [, c, h, w] = t.dims;
  const out = new Float32Array(t.data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++)
        out[(y * w + x) * c + k] = t.data[(k * h + y) * w + x];
  return out;
}

// meta.json's "tolerance": "max" (tools/compare/export_torchvision.py):
// |got - want| <= 1e-4 max|want| + 1e-5 everywhere and the same argmax;
// returns the largest error over max|want|.
function checkMax(got, want, what) {
  let top = 0, err = 0, ag = 0, aw = 0;
  for (let j = 0; j < want.length; j++) {
    if (!Number.isFinite(got[j])) fail(`${what}: non-finite value`);
    top = Math.max(top, Math.abs(want[j]));
    err = Math.max(err, Math.abs(got[j] - want[j]));
    if (got[j] > got[ag]) ag = j;
    if (want[j] > want[aw]) aw = j;
  }
  if (err > RTOL * top + 0.1 * RTOL || ag !== aw)
    fail(`${what}: max error ${err.toExponential(2)} > ` +
         `${(RTOL * top + 0.1 * RTOL).toExponential(2)} or argmax differs`);
  return top > 0 ? err / top : err;
}

function parseArgs(argv) {
  const o = { dir: null, threads: 1, repeat: 20, warmup: 3, mode: 'time',
    profile: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) fail(`${a} wants a positive integer`);
      return v;
    };
    if (a === '--threads') o.threads = num();
    else if (a === '--repeat') o.repeat = num();
    else if (a === '--warmup') o.warmup = num();
    else if (a === '--check') o.mode = 'check';
    else if (a === '--first') o.mode = 'first';
    else if (a === '--profile' && i + 1 < argv.length) o.profile = argv[++i];
    else if (!a.startsWith('--') && o.dir === null) o.dir = a;
    else fail(`unknown argument '${a}'`);
  }
  if (o.dir === null) fail('usage: ort_bench.js DIR [--threads N] ...');
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    fail(`onnxruntime-node is not installed: ${e.message}`);
  }
  const meta = JSON.parse(fs.readFileSync(path.join(o.dir, 'meta.json')));
  const session = await ort.InferenceSession.create(
    path.join(o.dir, 'model.onnx'), {
      executionProviders: ['cpu'],
      intraOpNumThreads: o.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      ...(o.profile ? { enableProfiling: true, profileFilePrefix: o.profile }
                    : {}),
    });
  const feeds = {};
  meta.inputs.forEach((inp, i) => {
    const x = readNpy(path.join(o.dir, `input${i}.npy`));
    feeds[inp.name] = new ort.Tensor('float32', toNchw(x.data, inp.shape),
      inp.shape);
  });

  if (o.mode === 'first') {
    const r = await session.run(feeds);
    process.stdout.write(`first_result ${r[meta.outputs[0]].data[0]}\n`);
    process.exit(0);
  }
  if (o.mode === 'check') {
    const r = await session.run(feeds);
    let worst = 0;
    meta.outputs.forEach((name, i) => {
      const got = toNhwc(r[name]);
      const want = readNpy(path.join(o.dir, `ref${i}.npy`)).data;
      if (got.length !== want.length)
        fail(`output ${i}: ${got.length} values, reference ${want.length}`);
      if (meta.tolerance === 'max') {
        worst = Math.max(worst, checkMax(got, want, `${meta.model}: ORT output ${i}`));
        return;
      }
      // each value against its own size, floored at 1% of the largest
      let floor = 1e-30;
      for (let j = 0; j < want.length; j++)
        floor = Math.max(floor, 0.01 * Math.abs(want[j]));
      let err = 0;
      for (let j = 0; j < want.length; j++) {
        if (!Number.isFinite(got[j])) fail(`output ${i}: non-finite value`);
        err = Math.max(err, Math.abs(got[j] - want[j]) /
                            Math.max(Math.abs(want[j]), floor));
      }
      if (err > RTOL)
        fail(`${meta.model}: ORT output ${i}: relative error ` +
             `${err.toExponential(2)} > ${RTOL}`);
      worst = Math.max(worst, err);
    });
    console.log(`ort_bench: ${meta.model}: ORT output matches the reference ` +
                `(relative error ${worst.toExponential(2)})`);
    return;
  }

  for (let i = 0; i < o.warmup; i++) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < o.repeat; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  const n = ms.length;
  const median = n % 2 ? ms[(n - 1) / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  if (o.profile) session.endProfiling(); // prints nothing; writes the file
  const rss = process.resourceUsage().maxRSS; // kilobytes
  console.log(`median_ms=${median.toFixed(3)} min_ms=${ms[0].toFixed(3)} ` +
              `runs=${n} threads=${o.threads} maxrss_kb=${rss}`);
}

main().catch((e) => fail(e && e.message ? e.message : String(e)));
