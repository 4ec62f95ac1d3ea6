// make_keras_goldens.js: the Keras goldens of `rnc --import`, made by
// TensorFlow.js (@tensorflow/tfjs 4.22.0, Keras's layers in JavaScript).
//
// Each model is built here with tfjs's layers API, given seeded random
// weights (batch-norm statistics too), and saved in the TF.js layers format
// into tests/import/keras/NAME/: model.json and its shards, as float32, or
// quantized as tfjs-converter's quantization.py writes them (uint8 and
// uint16 with the nudged min and scale; float16), split over several
// shards and groups for some. The model is then loaded back from those
// files through tfjs's own HTTP loader (a fetch reading the files), so the
// goldens are what tfjs itself reads from them, dequantization included:
//   input.npy     a seeded input (a batch of one, as Keras's arrays)
//   expected.npy  tfjs's predict() on it
//   summary.json  tfjs's countParams() per top-level layer, and the
//                 Total / Trainable / Non-trainable counts
// The one exception is `upsample_bilinear`: tfjs resizes without half-pixel
// centers, Keras (TF 2) with them, so its expected output is computed by
// applying the loaded model's layers one by one with tf.image.resizeBilinear
// (halfPixelCenters = true) in place of UpSampling2D.
//
//   cd tools/keras_check && npm ci && cd ../.. && node tools/make_keras_goldens.js
'use strict';
const fs = require('fs');
const path = require('path');

console.log = console.warn = () => {}; // tfjs greets through these
const say = (s) => process.stdout.write(s + '\n');
const tf = require(path.join(__dirname, 'keras_check', 'node_modules',
                             '@tensorflow', 'tfjs'));
const L = tf.layers;

const OUT = path.join(__dirname, '..', 'tests', 'import', 'keras');

// ------------------------------------------------------------ numbers

// mulberry32: a small seeded generator (uniform in [0, 1)).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Weights that keep activations near unit size: kernels U(-a, a) with
// a = sqrt(3 / fan_in); batch-norm gamma and variance in [0.5, 1.5],
// beta and mean in [-0.2, 0.2]; biases and PReLU alphas small.
function randomizeWeights(model, seed) {
  const r = rng(seed);
  const u = (lo, hi) => lo + (hi - lo) * r();
  for (const w of model.weights) {
    const shape = w.shape, n = shape.reduce((a, b) => a * b, 1);
    const base = w.originalName.split('/').pop();
    const v = new Float32Array(n);
    let fanIn = 1;
    if (shape.length >= 2) {
      fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      if (base === 'depthwise_kernel') fanIn = shape[0] * shape[1];
      if (/transpose/i.test(w.originalName))
        fanIn = shape[0] * shape[1] * shape[3];
    }
    for (let i = 0; i < n; i++) {
      if (base === 'gamma' || base === 'moving_variance') v[i] = u(0.5, 1.5);
      else if (base === 'beta' || base === 'moving_mean') v[i] = u(-0.2, 0.2);
      else if (base === 'bias') v[i] = u(-0.1, 0.1);
      else if (base === 'alpha') v[i] = u(0.05, 0.4);
      else { const a = Math.sqrt(3 / fanIn); v[i] = u(-a, a); }
    }
    w.write(tf.tensor(v, shape));
  }
}

// float32 -> IEEE half bits, rounding to nearest even (numpy's astype).
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
function toHalf(x) {
  f32[0] = x;
  const b = u32[0], sign = (b >>> 16) & 0x8000;
  let e = (b >>> 23) & 0xff, m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  e = e - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    m |= 0x800000;
    const shift = 14 - e, half = 1 << (shift - 1);
    let h = m >>> shift;
    const rest = m & ((1 << shift) - 1);
    if (rest > half || (rest === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (m >>> 13);
  const rest = m & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return sign | h;
}

// numpy's round (halves to even).
function roundEven(x) {
  const f = Math.floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

// tfjs-converter's quantize_weights: affine over [min, max] with the zero
// point nudged onto an integer when 0 is in range.
function quantize(v, dtype) {
  const qmax = dtype === 'uint8' ? 255 : 65535;
  let min = Infinity, max = -Infinity;
  for (const x of v) { min = Math.min(min, x); max = Math.max(max, x); }
  const out = dtype === 'uint8' ? new Uint8Array(v.length)
                                : new Uint16Array(v.length);
  if (min === max) return {data: out, min, scale: 1.0};
  let scale = (max - min) / qmax;
  if (min <= 0 && 0 <= max) {
    const zero = roundEven((0 - min) / scale);
    min = -zero * scale;
    max = qmax * scale + min;
  }
  for (let i = 0; i < v.length; i++) {
    const c = Math.min(Math.max(v[i], min), max);
    out[i] = roundEven((c - min) / scale);
  }
  return {data: out, min, scale};
}

// ------------------------------------------------------------- files

function npy(file, data, shape) {
  let h = `{'descr': '<f4', 'fortran_order': False, 'shape': (${
      shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((10 + h.length + 1) % 64) h += ' ';
  h += '\n';
  const buf = Buffer.alloc(10 + h.length + 4 * data.length);
  buf.write('\x93NUMPY', 0, 'latin1');
  buf[6] = 1;
  buf[7] = 0;
  buf.writeUInt16LE(h.length, 8);
  buf.write(h, 10, 'latin1');
  Buffer.from(new Float32Array(data).buffer).copy(buf, 10 + h.length);
  fs.writeFileSync(file, buf);
}

// Saves the model's weights as `opts.quant` (none, uint8, uint16,
// float16), in `opts.groups` groups of shards of at most `opts.shard`
// bytes, with model.json beside them.
async function saveLayersFormat(model, dir, opts) {
  let topology = null;
  await model.save(tf.io.withSaveHandler(async (a) => {
    topology = a.modelTopology;
    return {modelArtifactsInfo: {dateSaved: new Date(),
                                 modelTopologyType: 'JSON'}};
  }));
  const weights = [];
  for (const layer of model.layers)
    for (const w of layer.weights) weights.push(w);
  const ngroups = opts.groups || 1;
  const per = Math.ceil(weights.length / ngroups);
  const manifest = [];
  for (let g = 0; g < ngroups; g++) {
    const part = weights.slice(g * per, (g + 1) * per);
    if (!part.length) continue;
    const chunks = [], specs = [];
    for (const w of part) {
      const v = w.read().dataSync();
      const spec = {name: w.originalName, shape: w.shape, dtype: 'float32'};
      if (!opts.quant) {
        chunks.push(Buffer.from(new Float32Array(v).buffer));
      } else if (opts.quant === 'float16') {
        const h = new Uint16Array(v.length);
        for (let i = 0; i < v.length; i++) h[i] = toHalf(v[i]);
        chunks.push(Buffer.from(h.buffer));
        spec.quantization = {dtype: 'float16', original_dtype: 'float32'};
      } else {
        const q = quantize(v, opts.quant);
        chunks.push(Buffer.from(q.data.buffer));
        spec.quantization = {dtype: opts.quant, min: q.min, scale: q.scale,
                             original_dtype: 'float32'};
      }
      specs.push(spec);
    }
    const all = Buffer.concat(chunks);
    const size = opts.shard || all.length || 1;
    const nshards = Math.max(1, Math.ceil(all.length / size));
    const paths = [];
    for (let s = 0; s < nshards; s++) {
      const p = `group${g + 1}-shard${s + 1}of${nshards}.bin`;
      fs.writeFileSync(path.join(dir, p), all.subarray(s * size, (s + 1) * size));
      paths.push(p);
    }
    manifest.push({paths, weights: specs});
  }
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({
    format: 'layers-model',
    generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
    convertedBy: 'tools/make_keras_goldens.js',
    modelTopology: topology,
    weightsManifest: manifest,
  }, null, 1) + '\n');
}

// tfjs's own loader over the files (a fetch that reads them), checked
// against tfjs's decoding of all shards joined into one buffer: tfjs 4.22's
// CompositeArrayBuffer takes its shards as equal-sized but for the last, and
// misplaces a last shard larger than the first (zeros where the weights
// are), so a layout that would meet that is refused here.
async function loadBack(dir) {
  const fetchFunc = async (url) => {
    const file = path.join(dir, path.basename(new URL(url).pathname));
    return new Response(fs.readFileSync(file));
  };
  const m = await tf.loadLayersModel(tf.io.http('http://files/model.json', {fetchFunc}));
  const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json')));
  const all = Buffer.concat(j.weightsManifest.flatMap(
      (g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p)))));
  const ref = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: j.modelTopology,
    weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length)}));
  m.weights.forEach((w, i) => {
    const a = w.read().dataSync(), b = ref.weights[i].read().dataSync();
    if (a.length !== b.length || a.some((v, k) => !Object.is(v, b[k])))
      throw new Error(`${dir}: tfjs's loader misreads ${w.name}; change the shards`);
  });
  return m;
}

function summaryOf(model) {
  const size = (ws) => ws.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  return {
    total: model.countParams(),
    trainable: size(model.trainableWeights),
    non_trainable: size(model.nonTrainableWeights),
    layers: model.layers.map((l) => ({name: l.name, class: l.getClassName(),
                                      params: l.countParams()})),
  };
}

// ------------------------------------------------------------ models

// A MobileNetV2-style network (Keras applications' names and shapes, at
// width 0.25 on 32x32): stem, inverted residual blocks with ReLU(6),
// ZeroPadding2D before the stride-2 depthwise convolutions.
function mobilenetBase(name, frozen) {
  const inp = tf.input({shape: [32, 32, 3], name: `${name}_input`});
  let x = L.conv2d({filters: 8, kernelSize: 3, strides: 2, padding: 'same',
                    useBias: false, name: 'Conv1'}).apply(inp);
  x = L.batchNormalization({epsilon: 1e-3, name: 'bn_Conv1'}).apply(x);
  x = L.reLU({maxValue: 6, name: 'Conv1_relu'}).apply(x);
  const block = (x, id, expand, stride, filters) => {
    const cin = x.shape[3], p = id ? `block_${id}_` : 'expanded_conv_';
    let y = x;
    if (expand > 1) {
      y = L.conv2d({filters: cin * expand, kernelSize: 1, useBias: false,
                    name: p + 'expand'}).apply(y);
      y = L.batchNormalization({name: p + 'expand_BN'}).apply(y);
      y = L.reLU({maxValue: 6, name: p + 'expand_relu'}).apply(y);
    }
    if (stride === 2)
      y = L.zeroPadding2d({padding: [[0, 1], [0, 1]], name: p + 'pad'}).apply(y);
    y = L.depthwiseConv2d({kernelSize: 3, strides: stride, useBias: false,
                           padding: stride === 2 ? 'valid' : 'same',
                           name: p + 'depthwise'}).apply(y);
    y = L.batchNormalization({name: p + 'depthwise_BN'}).apply(y);
    y = L.reLU({maxValue: 6, name: p + 'depthwise_relu'}).apply(y);
    y = L.conv2d({filters, kernelSize: 1, useBias: false,
                  name: p + 'project'}).apply(y);
    y = L.batchNormalization({name: p + 'project_BN'}).apply(y);
    if (stride === 1 && cin === filters)
      y = L.add({name: p + 'add'}).apply([x, y]);
    return y;
  };
  x = block(x, 0, 1, 1, 8);
  x = block(x, 1, 6, 2, 8);
  x = block(x, 2, 6, 1, 8);
  x = block(x, 3, 6, 2, 16);
  x = block(x, 4, 6, 1, 16);
  x = L.conv2d({filters: 32, kernelSize: 1, useBias: false,
                name: 'Conv_1'}).apply(x);
  x = L.batchNormalization({name: 'Conv_1_bn'}).apply(x);
  x = L.reLU({maxValue: 6, name: 'out_relu'}).apply(x);
  const m = tf.model({inputs: inp, outputs: x, name});
  // As Keras's base.trainable = False leaves it in the config: per layer.
  if (frozen) for (const l of m.layers) l.trainable = false;
  return m;
}

function mobilenetV2() {
  const base = mobilenetBase('mobilenetv2_0.25_32', false);
  let x = L.globalAveragePooling2d({name: 'global_average_pooling2d'})
              .apply(base.outputs[0]);
  x = L.dropout({rate: 0.2, name: 'dropout'}).apply(x);
  x = L.dense({units: 10, activation: 'softmax', name: 'predictions'}).apply(x);
  return tf.model({inputs: base.inputs, outputs: x, name: 'mobilenetv2'});
}

// The transfer-learning shape: Sequential([base, pooling, Dense(5)]),
// the base frozen.
function transfer() {
  const m = tf.sequential({name: 'transfer'});
  m.add(mobilenetBase('mobilenetv2_1.00_224', true));
  m.add(L.globalAveragePooling2d({name: 'global_average_pooling2d'}));
  m.add(L.dense({units: 5, name: 'dense'}));
  return m;
}

// ResNet-style: conv stem, basic blocks with identity and projection
// shortcuts (Keras's conv2_block1_... names), average pooling, Dense.
function resnet() {
  const inp = tf.input({shape: [24, 24, 3], name: 'input_1'});
  let x = L.zeroPadding2d({padding: 1, name: 'conv1_pad'}).apply(inp);
  x = L.conv2d({filters: 16, kernelSize: 3, strides: 1, name: 'conv1_conv'}).apply(x);
  x = L.batchNormalization({epsilon: 1.001e-5, name: 'conv1_bn'}).apply(x);
  x = L.activation({activation: 'relu', name: 'conv1_relu'}).apply(x);
  x = L.maxPooling2d({poolSize: 3, strides: 2, padding: 'same',
                      name: 'pool1_pool'}).apply(x);
  const block = (x, name, filters, stride, project) => {
    let s = x;
    if (project) {
      s = L.conv2d({filters, kernelSize: 1, strides: stride,
                    name: name + '_0_conv'}).apply(x);
      s = L.batchNormalization({epsilon: 1.001e-5, name: name + '_0_bn'}).apply(s);
    }
    let y = L.conv2d({filters, kernelSize: 3, strides: stride, padding: 'same',
                      name: name + '_1_conv'}).apply(x);
    y = L.batchNormalization({epsilon: 1.001e-5, name: name + '_1_bn'}).apply(y);
    y = L.activation({activation: 'relu', name: name + '_1_relu'}).apply(y);
    y = L.conv2d({filters, kernelSize: 3, padding: 'same',
                  name: name + '_2_conv'}).apply(y);
    y = L.batchNormalization({epsilon: 1.001e-5, name: name + '_2_bn'}).apply(y);
    y = L.add({name: name + '_add'}).apply([s, y]);
    return L.activation({activation: 'relu', name: name + '_out'}).apply(y);
  };
  x = block(x, 'conv2_block1', 16, 1, false);
  x = block(x, 'conv3_block1', 32, 2, true);
  x = block(x, 'conv3_block2', 32, 1, false);
  x = L.globalAveragePooling2d({name: 'avg_pool'}).apply(x);
  x = L.dense({units: 10, activation: 'softmax', name: 'predictions'}).apply(x);
  return tf.model({inputs: inp, outputs: x, name: 'resnet'});
}

// EfficientNet-style MBConv: swish, squeeze-and-excite (a channel scale
// [1, 1, C] multiplied onto [H, W, C]), dropout, residual add; Rescaling
// in front as Keras's EfficientNet has.
function efficientnetBlock() {
  const inp = tf.input({shape: [16, 16, 3], name: 'input_1'});
  let x = L.rescaling({scale: 1 / 127.5, offset: -1, name: 'rescaling'}).apply(inp);
  x = L.conv2d({filters: 16, kernelSize: 3, strides: 2, padding: 'same',
                useBias: false, name: 'stem_conv'}).apply(x);
  x = L.batchNormalization({name: 'stem_bn'}).apply(x);
  x = L.activation({activation: 'swish', name: 'stem_activation'}).apply(x);
  const mb = (x, p, expand, filters) => {
    const cin = x.shape[3];
    let y = L.conv2d({filters: cin * expand, kernelSize: 1, padding: 'same',
                      useBias: false, name: p + 'expand_conv'}).apply(x);
    y = L.batchNormalization({name: p + 'expand_bn'}).apply(y);
    y = L.activation({activation: 'swish', name: p + 'expand_activation'}).apply(y);
    y = L.depthwiseConv2d({kernelSize: 3, padding: 'same', useBias: false,
                           name: p + 'dwconv'}).apply(y);
    y = L.batchNormalization({name: p + 'bn'}).apply(y);
    y = L.activation({activation: 'swish', name: p + 'activation'}).apply(y);
    const c = y.shape[3];
    let se = L.globalAveragePooling2d({name: p + 'se_squeeze'}).apply(y);
    se = L.reshape({targetShape: [1, 1, c], name: p + 'se_reshape'}).apply(se);
    se = L.conv2d({filters: Math.max(1, cin >> 2), kernelSize: 1,
                   padding: 'same', activation: 'swish',
                   name: p + 'se_reduce'}).apply(se);
    se = L.conv2d({filters: c, kernelSize: 1, padding: 'same',
                   activation: 'sigmoid', name: p + 'se_expand'}).apply(se);
    y = L.multiply({name: p + 'se_excite'}).apply([y, se]);
    y = L.conv2d({filters, kernelSize: 1, padding: 'same', useBias: false,
                  name: p + 'project_conv'}).apply(y);
    y = L.batchNormalization({name: p + 'project_bn'}).apply(y);
    if (cin === filters) {
      y = L.dropout({rate: 0.2, name: p + 'drop'}).apply(y);
      y = L.add({name: p + 'add'}).apply([y, x]);
    }
    return y;
  };
  x = mb(x, 'block1a_', 4, 16);
  x = mb(x, 'block1b_', 4, 16);
  x = L.globalAveragePooling2d({name: 'avg_pool'}).apply(x);
  x = L.dense({units: 4, name: 'predictions'}).apply(x);
  return tf.model({inputs: inp, outputs: x, name: 'efficientnet_block'});
}

// A Sequential whose first layer carries the input shape (batchInputShape),
// tfjs's automatic names.
function seqBasic() {
  const m = tf.sequential();
  m.add(L.conv2d({inputShape: [12, 12, 2], filters: 6, kernelSize: 3,
                  padding: 'same', activation: 'relu'}));
  m.add(L.maxPooling2d({poolSize: 2}));
  m.add(L.conv2d({filters: 8, kernelSize: [3, 2], strides: [2, 1],
                  activation: 'tanh'}));
  m.add(L.batchNormalization({}));
  m.add(L.flatten());
  m.add(L.dense({units: 7, activation: 'relu'}));
  m.add(L.dense({units: 3, activation: 'softmax'}));
  return m;
}

// A Sequential starting with an InputLayer.
function seqInputLayer() {
  const m = tf.sequential({name: 'seq_input_layer'});
  m.add(L.inputLayer({inputShape: [10, 10, 3], name: 'pixels'}));
  m.add(L.depthwiseConv2d({kernelSize: 3, depthMultiplier: 2, name: 'dw'}));
  m.add(L.dense({units: 5, activation: 'elu', name: 'per_pixel'}));
  m.add(L.averagePooling2d({poolSize: 2, strides: 1, padding: 'same',
                            name: 'avg'}));
  m.add(L.globalMaxPooling2d({name: 'gmax'}));
  m.add(L.dense({units: 4, useBias: false, name: 'logits'}));
  return m;
}

// A functional model calling nested models: a functional one (frozen
// in part) and a Sequential one, joined by Concatenate.
function nested() {
  const bi = tf.input({shape: [8, 8, 4], name: 'features_in'});
  let b = L.conv2d({filters: 6, kernelSize: 3, padding: 'same',
                    name: 'features_conv'}).apply(bi);
  b = L.batchNormalization({name: 'features_bn'}).apply(b);
  b = L.reLU({name: 'features_relu'}).apply(b);
  const features = tf.model({inputs: bi, outputs: b, name: 'features'});
  features.getLayer('features_conv').trainable = false;
  const side = tf.sequential({name: 'side'});
  side.add(L.conv2d({inputShape: [8, 8, 4], filters: 3, kernelSize: 1,
                     name: 'side_conv'}));
  side.add(L.leakyReLU({alpha: 0.1, name: 'side_leaky'}));
  const inp = tf.input({shape: [8, 8, 4], name: 'image'});
  const f = features.apply(inp), s = side.apply(inp);
  let x = L.concatenate({axis: -1, name: 'joined'}).apply([f, s]);
  x = L.conv2d({filters: 4, kernelSize: 3, strides: 2, name: 'head_conv'}).apply(x);
  x = L.flatten({name: 'flat'}).apply(x);
  x = L.dense({units: 3, name: 'out'}).apply(x);
  return tf.model({inputs: inp, outputs: x, name: 'nested'});
}

// The other layers tfjs has, a few at a time.
function zooConv() {
  const inp = tf.input({shape: [9, 9, 3], name: 'x'});
  // (tfjs reloads a SeparableConv2D's depth_multiplier as 1: 1 here)
  let a = L.separableConv2d({filters: 5, kernelSize: 3,
                             padding: 'same', activation: 'relu6',
                             name: 'sep'}).apply(inp);
  a = L.conv2dTranspose({filters: 4, kernelSize: 3, strides: 2,
                         padding: 'same', name: 'deconv_same'}).apply(a);
  a = L.conv2d({filters: 4, kernelSize: 3, dilationRate: 2, name: 'dilated'}).apply(a);
  let b = L.conv2dTranspose({filters: 4, kernelSize: 2, strides: 2,
                             activation: 'sigmoid', name: 'deconv_valid'}).apply(inp);
  b = L.cropping2D({cropping: [[1, 3], [2, 2]], name: 'crop'}).apply(b);
  let c = L.maximum({name: 'max'}).apply([a, b]);
  let d = L.minimum({name: 'min'}).apply([b, c]);
  let e = L.average({name: 'avg'}).apply([c, d, b]);
  e = L.batchNormalization({center: false, name: 'bn_nocenter'}).apply(e);
  e = L.batchNormalization({scale: false, epsilon: 0.01, name: 'bn_noscale'}).apply(e);
  e = L.layerNormalization({name: 'ln'}).apply(e);
  e = L.globalAveragePooling2d({name: 'gap'}).apply(e);
  e = L.dense({units: 3, name: 'out'}).apply(e);
  return tf.model({inputs: inp, outputs: e, name: 'zoo_conv'});
}

function zooActivations() {
  const inp = tf.input({shape: [6, 6, 4], name: 'x'});
  const acts = ['elu', 'selu', 'softplus', 'softsign', 'tanh', 'sigmoid',
                'hardSigmoid', 'relu6', 'swish', 'mish', 'gelu', // (gelu_new does not reload)
                'linear', 'relu', 'softmax'];
  const outs = acts.map((a) => L.activation({activation: a,
                                             name: `act_${a}`}).apply(inp));
  let x = L.concatenate({name: 'acts'}).apply(outs);
  let y = L.conv2d({filters: 4, kernelSize: 1, name: 'mix'}).apply(x);
  const p1 = L.leakyReLU({name: 'leaky'}).apply(y);
  const p2 = L.elu({name: 'elu_layer'}).apply(y); // tfjs: alpha 1 only
  const p3 = L.prelu({sharedAxes: [1, 2], name: 'prelu'}).apply(y);
  const p4 = L.prelu({name: 'prelu_full'}).apply(y);
  const p5 = L.softmax({axis: -1, name: 'softmax_layer'}).apply(y);
  const p6 = L.reLU({maxValue: 0.5, name: 'relu_capped'}).apply(y);
  const p7 = L.reLU({name: 'relu_layer'}).apply(y);
  x = L.concatenate({axis: 3, name: 'layers'}).apply([p1, p2, p3, p4, p5, p6, p7]);
  x = L.gaussianNoise({stddev: 0.3, name: 'noise'}).apply(x);
  x = L.gaussianDropout({rate: 0.3, name: 'gdrop'}).apply(x);
  x = L.alphaDropout({rate: 0.1, name: 'adrop'}).apply(x);
  x = L.flatten({name: 'flat'}).apply(x);
  x = L.reshape({targetShape: [6, 6, 28], name: 'unflat'}).apply(x);
  x = L.globalMaxPooling2d({name: 'gmp'}).apply(x);
  x = L.dense({units: 8, activation: 'selu', name: 'hidden'}).apply(x);
  x = L.dense({units: 2, name: 'out'}).apply(x);
  return tf.model({inputs: inp, outputs: x, name: 'zoo_activations'});
}

// Two inputs and two outputs.
function twoInputs() {
  const a = tf.input({shape: [6, 6, 2], name: 'left'});
  const b = tf.input({shape: [6, 6, 2], name: 'right'});
  const x = L.add({name: 'sum'}).apply([a, b]);
  const y = L.conv2d({filters: 3, kernelSize: 3, name: 'conv'}).apply(x);
  const p = L.flatten({name: 'flat'}).apply(y);
  const o1 = L.dense({units: 2, name: 'head_a'}).apply(p);
  const o2 = L.globalAveragePooling2d({name: 'head_b'}).apply(y);
  return tf.model({inputs: [a, b], outputs: [o1, o2], name: 'two_inputs'});
}

function upsampleBilinear() {
  const inp = tf.input({shape: [5, 4, 3], name: 'x'});
  let x = L.conv2d({filters: 3, kernelSize: 1, name: 'pre'}).apply(inp);
  x = L.upSampling2d({size: [2, 3], interpolation: 'bilinear', name: 'up'}).apply(x);
  x = L.conv2d({filters: 2, kernelSize: 3, name: 'post'}).apply(x);
  x = L.upSampling2d({size: [2, 2], name: 'up_nearest'}).apply(x); // tfjs: a list
  return tf.model({inputs: inp, outputs: x, name: 'upsample_bilinear'});
}

const MODELS = [
  {name: 'seq_basic', make: seqBasic},
  {name: 'seq_input_layer', make: seqInputLayer, shard: 256},
  {name: 'mobilenetv2', make: mobilenetV2, quant: 'uint16', shard: 16384},
  {name: 'transfer', make: transfer, quant: 'float16'},
  {name: 'resnet', make: resnet, quant: 'uint8', groups: 3, shard: 8192},
  {name: 'efficientnet_block', make: efficientnetBlock, inputScale: 255},
  {name: 'nested', make: nested, groups: 2, shard: 512},
  {name: 'zoo_conv', make: zooConv},
  {name: 'zoo_activations', make: zooActivations, quant: 'uint8'},
  {name: 'two_inputs', make: twoInputs},
  {name: 'upsample_bilinear', make: upsampleBilinear, halfPixel: true},
];

// Keras (TF 2) semantics for UpSampling2D: the layers applied in order,
// bilinear resizing with half-pixel centers.
function predictHalfPixel(model, x) {
  const values = new Map();
  values.set(model.inputs[0].name, x);
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const inNode = layer.inboundNodes[0];
    const ins = inNode.inputTensors.map((t) => values.get(t.name));
    let y;
    if (layer.getClassName() === 'UpSampling2D' &&
        layer.getConfig().interpolation === 'bilinear') {
      const [h, w] = [ins[0].shape[1], ins[0].shape[2]];
      const s = layer.getConfig().size;
      y = tf.image.resizeBilinear(ins[0], [h * s[0], w * s[1]], false, true);
    } else {
      y = layer.apply(ins.length === 1 ? ins[0] : ins);
    }
    values.set(inNode.outputTensors[0].name, y);
  }
  return values.get(model.outputs[0].name);
}

async function main() {
  const only = process.argv.slice(2);
  for (const [i, spec] of MODELS.entries()) {
    if (only.length && !only.includes(spec.name)) continue;
    const dir = path.join(OUT, spec.name);
    fs.rmSync(dir, {recursive: true, force: true});
    fs.mkdirSync(dir, {recursive: true});
    const model = spec.make();
    randomizeWeights(model, 1000 + i);
    await saveLayersFormat(model, dir, spec);
    const back = await loadBack(dir);
    const r = rng(7 + i);
    const scale = spec.inputScale || 1;
    const inputs = back.inputs.map((t, k) => {
      const shape = t.shape.slice(1), n = shape.reduce((a, b) => a * b, 1);
      const v = new Float32Array(n);
      for (let j = 0; j < n; j++)
        v[j] = scale === 1 ? 2 * r() - 1 : scale * r();
      npy(path.join(dir, back.inputs.length > 1 ? `input${k}.npy` : 'input.npy'),
          v, [1, ...shape]);
      return tf.tensor(v, [1, ...shape]);
    });
    let outs = spec.halfPixel ? predictHalfPixel(back, inputs[0])
                              : back.predict(inputs.length > 1 ? inputs : inputs[0]);
    if (!Array.isArray(outs)) outs = [outs];
    outs.forEach((o, k) => npy(path.join(dir, outs.length > 1 ?
                                             `expected${k}.npy` : 'expected.npy'),
                                o.dataSync(), o.shape));
    const s = summaryOf(back);
    fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(s, null, 1) + '\n');
    say(`${spec.name}: ${s.total} params (${s.trainable} trainable), ` +
        `${spec.quant || 'float32'}, outputs ${outs.map((o) => '[' + o.shape.slice(1) + ']').join(' ')}`);
  }
}

main().catch((e) => { process.stderr.write(e.stack + '\n'); process.exit(1); });
