// make_tfjs_trace_golden.js: remakes the committed TensorFlow.js trace of
// tests/inspect/tfjs_small.rn, an independent framework's value of every
// layer, which tests/e2e/inspect.sh compares with `rnc --run --trace`.
//
//   cd tools/keras_check && npm install && cd ../.. &&
//   node tools/make_tfjs_trace_golden.js
//
// Builds the same network with the tfjs layers API (the layer names of the
// .rn), seeded weights and batch-norm statistics, saves it as a layers
// model (model.json + weights.bin, in a temporary folder) and loads it
// back the way tools/trace_tfjs.js reads any model; then writes:
//   tests/inspect/tfjs_small.safetensors   the weights, named as rnc names them
//   tests/golden/trace/tfjs_small/         trace_tfjs.js's trace (input included)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const trace = require('./trace_tfjs.js');

const tf = trace.requireTf();
const ROOT = path.resolve(__dirname, '..');
const GOLDEN = path.join(ROOT, 'tests', 'golden', 'trace', 'tfjs_small');
const WEIGHTS = path.join(ROOT, 'tests', 'inspect', 'tfjs_small.safetensors');

// A small splitmix-like generator, so the goldens do not depend on tfjs's.
let state = 12345n;
function uniform(lo, hi) {
  state = (state + 0x9E3779B97F4A7C15n) & 0xFFFFFFFFFFFFFFFFn;
  let z = state;
  z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & 0xFFFFFFFFFFFFFFFFn;
  z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & 0xFFFFFFFFFFFFFFFFn;
  z ^= z >> 31n;
  return lo + (hi - lo) * Number(z >> 40n) / 2 ** 24;
}

function build() {
  const L = tf.layers;
  const image = tf.input({shape: [12, 12, 3], name: 'image'});
  const a = L.conv2d({filters: 8, kernelSize: 3, padding: 'same', activation: 'relu',
                      name: 'conv_a'}).apply(image);
  const b = L.batchNormalization({name: 'bn_a'}).apply(a);
  const c = L.depthwiseConv2d({kernelSize: 3, padding: 'same', name: 'dw'}).apply(b);
  const d = L.activation({activation: 'relu6', name: 'relu6_a'}).apply(c);
  const p = L.maxPooling2d({poolSize: 2, name: 'pool'}).apply(d);
  const e = L.conv2d({filters: 8, kernelSize: 1, name: 'conv_b'}).apply(p);
  const s = L.add({name: 'add'}).apply([p, e]);
  const k = L.concatenate({name: 'cat'}).apply([s, p]);
  const g = L.globalAveragePooling2d({name: 'gap'}).apply(k);
  const o = L.dense({units: 5, activation: 'softmax', name: 'logits'}).apply(g);
  const model = tf.model({inputs: image, outputs: o, name: 'tfjs_small'});
  // every weight drawn here; variances positive
  for (const layer of model.layers) {
    const ws = layer.weights.map((w) => {
      const n = w.shape.reduce((x, y) => x * y, 1);
      const pos = w.originalName.endsWith('moving_variance');
      const v = Float32Array.from({length: n}, () => pos ? uniform(0.5, 2) : uniform(-0.6, 0.6));
      return tf.tensor(v, w.shape);
    });
    if (ws.length) layer.setWeights(ws);
  }
  return model;
}

// rnc's names: LAYER.kernel, .bias, .depthwise_kernel, .gamma, .beta,
// .moving_mean, .moving_variance (Keras's, and the same layouts).
function writeSafetensors(file, model) {
  const header = {};
  const blobs = [];
  let off = 0;
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const suffix = w.originalName.split('/').pop();
      const data = Buffer.from(w.read().dataSync().buffer.slice(0));
      header[`${layer.name}.${suffix}`] = {dtype: 'F32', shape: w.shape,
                                           data_offsets: [off, off + data.length]};
      blobs.push(data);
      off += data.length;
    }
  }
  let h = JSON.stringify(header);
  h += ' '.repeat((8 - (h.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  fs.writeFileSync(file, Buffer.concat([len, Buffer.from(h), ...blobs]));
}

async function main() {
  const model = build();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-golden-'));
  await model.save(tf.io.withSaveHandler(async (art) => {
    fs.writeFileSync(path.join(tmp, 'weights.bin'), Buffer.from(art.weightData));
    fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify({
      modelTopology: art.modelTopology, format: 'layers-model',
      weightsManifest: [{paths: ['weights.bin'], weights: art.weightSpecs}]}));
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  const loaded = await trace.loadModel(tf, path.join(tmp, 'model.json'));
  const x = {shape: [12, 12, 3], data: Float32Array.from({length: 432}, () => uniform(-1, 1))};
  fs.rmSync(GOLDEN, {recursive: true, force: true});
  const rows = await trace.traceModel(tf, loaded, [x], GOLDEN);
  writeSafetensors(WEIGHTS, loaded);
  fs.rmSync(tmp, {recursive: true, force: true});
  process.stdout.write(`make_tfjs_trace_golden: ${rows.length} layers in ${GOLDEN}\n`);
}

main().catch((e) => {
  process.stderr.write(`make_tfjs_trace_golden: ${e.stack}\n`);
  process.exit(1);
});
