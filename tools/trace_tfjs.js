// trace_tfjs.js: a Keras model's layer outputs, as rnc traces them, computed
// by TensorFlow.js (Keras semantics in plain JavaScript, no native code).
//
//   node tools/trace_tfjs.js MODEL.json INPUT.npy... DIR
//
// MODEL.json is a tfjs layers model (modelTopology and weightsManifest, the
// binary shards beside it: what tensorflowjs_converter writes, and what
// `rnc --import` reads). Each INPUT.npy is float32 [H, W, C] or
// [1, H, W, C] (NHWC, as `rnc --run --input` takes), one per model input.
// Writes every layer's output, inputs included, as DIR/NAME.npy ([1, ...],
// float32; '/' in a name becomes "__") under its Keras layer name (the
// name `rnc --import` keeps), and DIR/trace.json listing them in the
// model's layer order: the layout of `rnc --run M.rn --trace DIR`. Then
// `rnc --compare DIR RNC_TRACE_DIR` compares the two layer by layer.
//
// A nested model (a Model used as a layer) is traced as one layer.
//
// Needs @tensorflow/tfjs from npm: `cd tools/keras_check && npm install`
// (this script finds it there), or installed anywhere node looks.
//
// As a library: traceModel(tf, model, inputs, dir), readNpy, writeNpy,
// loadModel(tf, path).
'use strict';
const fs = require('fs');
const path = require('path');

function requireTf() {
  console.warn = () => {}; // tfjs suggests tfjs-node on its first tensor
  for (const where of ['@tensorflow/tfjs',
    path.join(__dirname, 'keras_check', 'node_modules', '@tensorflow', 'tfjs')]) {
    try {
      return require(where);
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  process.stderr.write('trace_tfjs.js: @tensorflow/tfjs is missing: ' +
                       'cd tools/keras_check && npm install\n');
  process.exit(2);
}

// .npy version 1-3, little-endian float32, C order.
function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.length < 10 || b.toString('latin1', 0, 6) !== '\x93NUMPY') {
    throw new Error(`${file}: not a .npy file`);
  }
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + hlen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${file}: want float32, C order`);
  }
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  const shape = m[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const count = shape.reduce((a, d) => a * d, 1);
  const data = new Float32Array(count);
  const body = b.subarray(start + hlen);
  if (body.length !== 4 * count) throw new Error(`${file}: ${body.length} bytes of data`);
  for (let i = 0; i < count; i++) data[i] = body.readFloatLE(4 * i);
  return {shape, data};
}

// Version 1.0, the header padded to 64 bytes as NumPy does; written through
// a temporary file and renamed.
function writeNpy(file, shape, data) {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const out = Buffer.alloc(10 + header.length + 4 * data.length);
  out.write('\x93NUMPY\x01\x00', 0, 'latin1');
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], 10 + header.length + 4 * i);
  fs.writeFileSync(file + '.tmp', out);
  fs.renameSync(file + '.tmp', file);
}

// A layers model from model.json and its shards, read from disk (plain
// tfjs has no file:// loader in node).
async function loadModel(tf, file) {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const specs = [];
  const shards = [];
  for (const group of json.weightsManifest || []) {
    specs.push(...group.weights);
    for (const p of group.paths) shards.push(fs.readFileSync(path.join(path.dirname(file), p)));
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  return tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: specs, weightData,
    format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
  }));
}

const fileName = (name) => name.replace(/\//g, '__') + '.npy';

// Every layer's output for the inputs ([{shape, data}] NHWC, batch 1).
async function traceModel(tf, model, inputs, dir) {
  fs.mkdirSync(dir, {recursive: true});
  const xs = model.inputs.map((t, i) => {
    const want = t.shape.slice(1);
    const got = inputs[i].shape.length === want.length + 1 ? inputs[i].shape.slice(1) : inputs[i].shape;
    if (got.join() !== want.join()) {
      throw new Error(`input ${i}: shape [${inputs[i].shape}], the model wants [${want}]`);
    }
    return tf.tensor(inputs[i].data, [1, ...want]);
  });
  // one model whose outputs are every layer's (inputs are given as is)
  const layers = model.layers.filter((l) => !model.inputLayers.includes(l));
  const probe = tf.model({inputs: model.inputs, outputs: layers.map((l) => l.getOutputAt(0))});
  let ys = probe.predict(xs);
  if (!Array.isArray(ys)) ys = [ys];
  const rows = [];
  const put = (layer, t) => {
    const shape = t.shape;
    writeNpy(path.join(dir, fileName(layer.name)), shape, t.dataSync());
    rows.push({name: layer.name, type: layer.getClassName(), shape, file: fileName(layer.name)});
  };
  for (const l of model.layers) {
    const k = model.inputLayers.indexOf(l);
    if (k >= 0) put(l, xs[k]);
    else put(l, ys[layers.indexOf(l)]);
  }
  const index = {model: model.name, layers: rows};
  fs.writeFileSync(path.join(dir, 'trace.json.tmp'),
                   '{"model": ' + JSON.stringify(index.model) + ', "layers": [\n' +
                   rows.map((r) => JSON.stringify(r)).join(',\n') + ']}\n');
  fs.renameSync(path.join(dir, 'trace.json.tmp'), path.join(dir, 'trace.json'));
  return rows;
}

async function main(argv) {
  if (argv.length < 3) {
    process.stderr.write('usage: node tools/trace_tfjs.js MODEL.json INPUT.npy... DIR\n');
    return 2;
  }
  const tf = requireTf();
  const model = await loadModel(tf, argv[0]);
  const inputs = argv.slice(1, -1).map(readNpy);
  if (inputs.length !== model.inputs.length) {
    process.stderr.write(`trace_tfjs.js: the model has ${model.inputs.length} ` +
                         `input(s), ${inputs.length} given\n`);
    return 2;
  }
  const rows = await traceModel(tf, model, inputs, argv[argv.length - 1]);
  process.stdout.write(`trace_tfjs.js: ${rows.length} layers written to ` +
                       `${argv[argv.length - 1]}/\n`);
  return 0;
}

module.exports = {requireTf, readNpy, writeNpy, loadModel, traceModel, fileName};

if (require.main === module) {
  main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => {
    process.stderr.write(`trace_tfjs.js: ${e.message}\n`);
    process.exit(1);
  });
}
