// check.js: the independent cross-check of rnc's golden summaries.
//
// Each example network is built here again, by hand, with the TF.js layers
// API (Keras semantics in pure JavaScript: @tensorflow/tfjs 4.22.0, no
// native code), following the same references as the .rn files (Keras
// applications, torchvision, the seeds). Then every row of the golden
// summary tests/summary/NAME.txt is parsed back and compared by layer name
// with the TF.js model: class, output shape, parameter count, the layers
// it is connected to, the layout (Keras prints a chain without "Connected
// to"), and the three totals. A `layer` group row is compared with the sum
// of its inner TF.js layers; with --expand goldens the inner rows too.
//
//   cd tools/keras_check && npm install && node check.js [NAME...]
//
// Exit status 0 when every golden agrees; each disagreement is printed.
'use strict';
const fs = require('fs');
const path = require('path');

// TF.js greets (suggesting tfjs-node) through console.warn on its first
// tensor: mute console, and write the results straight to stdout.
console.log = console.warn = () => {};
const tf = require('@tensorflow/tfjs');
const say = (s) => process.stdout.write(s + '\n');

const ROOT = path.resolve(__dirname, '..', '..');
const GOLDEN = path.join(ROOT, 'tests', 'summary');

// ------------------------------------------------------------ building

// A model under construction: Keras-style automatic names (conv2d,
// conv2d_1, ...: a counter per base name, explicit names do not count),
// and `layer` groups whose inner layers are named afresh per instance.
class Builder {
  constructor(name) {
    this.name = name;
    this.scopes = [new Map()];
    this.group = null; // the innermost open group
    this.groups = []; // {name, path, klass, parent, layers: [], out}
    this.groupOf = new Map(); // TF.js layer name -> innermost group
    this.inputs = [];
  }
  auto(base) {
    const counts = this.scopes[this.scopes.length - 1];
    const k = counts.get(base) || 0;
    counts.set(base, k + 1);
    return k ? `${base}_${k}` : base;
  }
  // Applies a new layer: make(config with its name) -> a TF.js layer.
  apply(base, make, inputs, cfg = {}, name) {
    const local = name || this.auto(base);
    // TF.js names must be unique in a model: prefix by the group path.
    const full = this.group ? `${this.group.path}/${local}` : local;
    const layer = make(Object.assign({name: full}, cfg));
    layer.localName = local;
    if (this.group) this.groupOf.set(full, this.group);
    for (let g = this.group; g; g = g.parent) g.layers.push(layer);
    return layer.apply(inputs);
  }
  input(name, shape) {
    const t = tf.input({shape, name});
    this.inputs.push(t);
    return t;
  }
  // Runs body inside a `layer` group named like a Keras custom layer.
  layerGroup(base, klass, body) {
    const local = this.auto(base);
    const parent = this.group;
    const g = {name: local, path: parent ? `${parent.path}/${local}` : local,
               klass, parent, layers: [], out: null};
    this.groups.push(g);
    this.group = g;
    this.scopes.push(new Map());
    const out = body();
    this.scopes.pop();
    this.group = parent;
    g.out = out;
    return out;
  }
  model(outputs) {
    return tf.model({inputs: this.inputs, outputs, name: this.name});
  }
}

// Layer makers, Keras defaults; zero initializers keep building fast (only
// shapes and counts are compared, never values).
const Z = {kernelInitializer: 'zeros', biasInitializer: 'zeros'};
function conv(b, x, filters, k, o = {}) {
  return b.apply('conv2d', tf.layers.conv2d, x, Object.assign({
    filters, kernelSize: k, strides: o.stride || 1,
    padding: o.padding || 'valid', useBias: o.bias !== false,
    activation: o.activation || 'linear'}, Z), o.name);
}
function dwconv(b, x, k, o = {}) {
  return b.apply('depthwise_conv2d', tf.layers.depthwiseConv2d, x, {
    kernelSize: k, strides: o.stride || 1, padding: o.padding || 'valid',
    depthMultiplier: o.multiplier || 1, useBias: o.bias !== false,
    depthwiseInitializer: 'zeros', biasInitializer: 'zeros'}, o.name);
}
function bn(b, x, epsilon = 1e-3, name) {
  return b.apply('batch_normalization', tf.layers.batchNormalization, x,
                 {epsilon}, name);
}
function act(b, x, activation, name) {
  return b.apply('activation', tf.layers.activation, x, {activation}, name);
}
function maxpool(b, x, size, o = {}) {
  return b.apply('max_pooling2d', tf.layers.maxPooling2d, x, {
    poolSize: size, strides: o.stride || size,
    padding: o.padding || 'valid'}, o.name);
}
function zeropad(b, x, pad, name) {
  return b.apply('zero_padding2d', tf.layers.zeroPadding2d, x,
                 {padding: pad}, name);
}
function gap(b, x, name) {
  return b.apply('global_average_pooling2d',
                 tf.layers.globalAveragePooling2d, x, {}, name);
}
function dense(b, x, units, activation = 'linear', name) {
  return b.apply('dense', tf.layers.dense, x,
                 Object.assign({units, activation}, Z), name);
}
function add(b, xs) { return b.apply('add', tf.layers.add, xs); }
// Keras's Flatten also takes a flat (None, N) tensor and keeps it; TF.js's
// refuses rank 2, so this one does what Keras does there.
class KerasFlatten extends tf.layers.Layer {
  static get className() { return 'Flatten'; }
  computeOutputShape(s) {
    return [s[0], s.slice(1).reduce((a, d) => a * d, 1)];
  }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.reshape(x, [x.shape[0], -1]);
  }
}
function flatten(b, x) {
  return b.apply('flatten', (c) => x.shape.length >= 3
    ? tf.layers.flatten(c) : new KerasFlatten(c), x);
}

// Layers TF.js 4.22 lacks, written after Keras's own source (keras 2.11)
// so that their rows can be checked all the same: class name, output
// shape and weights (hence parameter counts) as Keras builds them.
//   Subtract (merging/subtract.py): no weights, the operands' shape.
//   Normalization (preprocessing/normalization.py, adapted): weights mean
//     [C] and variance [C] and count [] (int64 in Keras), all
//     non-trainable: 2C + 1; none when mean and variance are constants.
//   GlobalAveragePooling2D(keepdims=True) (pooling/base_global_pooling2d):
//     (None, 1, 1, C), no weights.
//   ChannelShuffle and ChannelSlice: rnc's own (no Keras layer; models
//     from ONNX use them), shape-only, no weights.
class KerasSubtract extends tf.layers.Layer {
  static get className() { return 'Subtract'; }
  computeOutputShape(s) { return s[0]; }
  call(inputs) { return tf.sub(inputs[0], inputs[1]); }
}
class KerasNormalization extends tf.layers.Layer {
  static get className() { return 'Normalization'; }
  constructor(c) { super(c); this.constants = !!c.constants; }
  build(s) {
    const ch = s[s.length - 1];
    if (!this.constants) {
      this.addWeight('mean', [ch], 'float32', tf.initializers.zeros(), null, false);
      this.addWeight('variance', [ch], 'float32', tf.initializers.ones(), null, false);
      this.addWeight('count', [], 'float32', tf.initializers.zeros(), null, false);
    }
    this.built = true;
  }
  computeOutputShape(s) { return s; }
  call(inputs) { return Array.isArray(inputs) ? inputs[0] : inputs; }
}
class KeepdimsAveragePooling2D extends tf.layers.Layer {
  static get className() { return 'GlobalAveragePooling2D'; }
  computeOutputShape(s) { return [s[0], 1, 1, s[3]]; }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.mean(x, [1, 2], true);
  }
}
class ChannelShuffle extends tf.layers.Layer {
  static get className() { return 'ChannelShuffle'; }
  computeOutputShape(s) { return s; }
  call(inputs) { return Array.isArray(inputs) ? inputs[0] : inputs; }
}
class ChannelSlice extends tf.layers.Layer {
  static get className() { return 'ChannelSlice'; }
  constructor(c) { super(c); this.start = c.start; this.stop = c.stop; }
  computeOutputShape(s) { return s.slice(0, -1).concat([this.stop - this.start]); }
  call(inputs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return x.slice([0, 0, 0, this.start], [-1, -1, -1, this.stop - this.start]);
  }
}
const custom = (Cls) => (c) => new Cls(c);

// ------------------------------------------------------------ the models

// Seed 000: the residual network of language.md (Keras: 297,697 params).
function smallResidual() {
  const b = new Builder('small_residual');
  let x = b.input('image', [32, 32, 3]);
  x = b.apply('rescaling', tf.layers.rescaling, x, {scale: 1 / 255});
  const block = (x, filters, pooling) => {
    let residual = x;
    x = conv(b, x, filters, 3, {activation: 'relu', padding: 'same'});
    x = conv(b, x, filters, 3, {activation: 'relu', padding: 'same'});
    if (pooling) {
      x = maxpool(b, x, 2, {padding: 'same'});
      residual = conv(b, residual, filters, 1, {stride: 2});
    } else if (filters !== residual.shape[3]) {
      residual = conv(b, residual, filters, 1);
    }
    return add(b, [x, residual]);
  };
  x = block(x, 32, true);
  x = block(x, 64, true);
  x = block(x, 128, false);
  x = gap(b, x);
  return [b, dense(b, x, 1, 'sigmoid')];
}

// Seed 001: ResNet-34 (Geron's ResidualUnit) with a 10-way head.
function resnet34() {
  const b = new Builder('resnet34');
  let x = b.input('image', [224, 224, 3]);
  const same = {padding: 'same', bias: false};
  x = conv(b, x, 64, 7, Object.assign({stride: 2}, same));
  x = act(b, bn(b, x), 'relu');
  x = maxpool(b, x, 3, {stride: 2, padding: 'same'});
  const unit = (x, filters, stride) =>
    b.layerGroup('residual_unit', 'ResidualUnit', () => {
      let y = conv(b, x, filters, 3, Object.assign({stride}, same));
      y = act(b, bn(b, y), 'relu');
      y = bn(b, conv(b, y, filters, 3, same));
      let skip = x;
      if (stride > 1)
        skip = bn(b, conv(b, x, filters, 1, Object.assign({stride}, same)));
      return act(b, add(b, [y, skip]), 'relu');
    });
  let prev = 64;
  const plan = [].concat(Array(3).fill(64), Array(4).fill(128),
                         Array(6).fill(256), Array(3).fill(512));
  for (const filters of plan) {
    x = unit(x, filters, filters === prev ? 1 : 2);
    prev = filters;
  }
  x = flatten(b, gap(b, x));
  return [b, dense(b, x, 10, 'softmax')];
}

// torchvision's resnet18 layout. PyTorch pads symmetrically (conv1 3,
// 3x3 convs 1, the max pool 1); at these sizes every one of them gives the
// same output size as Keras's 'same', and padding holds no parameters, so
// 'same' stands for them in this shape-and-count check.
function resnet18() {
  const b = new Builder('resnet18');
  let x = b.input('image', [224, 224, 3]);
  const eps = 1e-5;
  x = conv(b, x, 64, 7, {stride: 2, padding: 'same', bias: false});
  x = act(b, bn(b, x, eps), 'relu');
  x = maxpool(b, x, 3, {stride: 2, padding: 'same'});
  const basic = (x, filters, stride) => {
    let y = conv(b, x, filters, 3, {stride, padding: 'same', bias: false});
    y = act(b, bn(b, y, eps), 'relu');
    y = bn(b, conv(b, y, filters, 3, {padding: 'same', bias: false}), eps);
    let skip = x;
    if (stride !== 1 || x.shape[3] !== filters) {
      skip = conv(b, x, filters, 1, {stride, bias: false});
      skip = bn(b, skip, eps);
    }
    return act(b, add(b, [y, skip]), 'relu');
  };
  for (const f of [64, 128, 256, 512]) {
    x = basic(x, f, f === 64 ? 1 : 2);
    x = basic(x, f, 1);
  }
  x = gap(b, x);
  return [b, dense(b, x, 1000, 'softmax')];
}

// keras.applications.ResNet50 (resnet.py: stack1/block1), include_top.
function resnet50() {
  const b = new Builder('resnet50');
  const eps = 1.001e-5;
  let x = b.input('image', [224, 224, 3]);
  x = zeropad(b, x, [[3, 3], [3, 3]], 'conv1_pad');
  x = conv(b, x, 64, 7, {stride: 2, name: 'conv1_conv'});
  x = bn(b, x, eps, 'conv1_bn');
  x = act(b, x, 'relu', 'conv1_relu');
  x = zeropad(b, x, [[1, 1], [1, 1]], 'pool1_pad');
  x = maxpool(b, x, 3, {stride: 2, name: 'pool1_pool'});
  const block1 = (x, filters, stride, convShortcut) => {
    let shortcut = x;
    if (convShortcut) {
      shortcut = conv(b, x, 4 * filters, 1, {stride});
      shortcut = bn(b, shortcut, eps);
    }
    x = conv(b, x, filters, 1, {stride});
    x = act(b, bn(b, x, eps), 'relu');
    x = conv(b, x, filters, 3, {padding: 'same'});
    x = act(b, bn(b, x, eps), 'relu');
    x = bn(b, conv(b, x, 4 * filters, 1), eps);
    return act(b, add(b, [shortcut, x]), 'relu');
  };
  const stack1 = (x, filters, blocks, stride1 = 2) => {
    x = block1(x, filters, stride1, true);
    for (let i = 2; i <= blocks; i++) x = block1(x, filters, 1, false);
    return x;
  };
  x = stack1(x, 64, 3, 1);
  x = stack1(x, 128, 4);
  x = stack1(x, 256, 6);
  x = stack1(x, 512, 3);
  x = gap(b, x, 'avg_pool');
  return [b, dense(b, x, 1000, 'softmax', 'predictions')];
}

// keras.applications.MobileNet (mobilenet.py: _conv_block,
// _depthwise_conv_block), alpha 1; Keras's 1x1 conv_preds head becomes a
// dense layer of the same size (GlobalAveragePooling -> Dropout -> Dense).
function mobilenetV1() {
  const b = new Builder('mobilenet_v1');
  let x = b.input('image', [224, 224, 3]);
  x = conv(b, x, 32, 3, {stride: 2, padding: 'same', bias: false});
  x = act(b, bn(b, x), 'relu6');
  const dw = (x, filters, stride) => {
    if (stride === 1) {
      x = dwconv(b, x, 3, {padding: 'same', bias: false});
    } else {
      x = zeropad(b, x, [[0, 1], [0, 1]]);
      x = dwconv(b, x, 3, {stride, padding: 'valid', bias: false});
    }
    x = act(b, bn(b, x), 'relu6');
    x = conv(b, x, filters, 1, {padding: 'same', bias: false});
    return act(b, bn(b, x), 'relu6');
  };
  x = dw(x, 64, 1);
  x = dw(x, 128, 2); x = dw(x, 128, 1);
  x = dw(x, 256, 2); x = dw(x, 256, 1);
  x = dw(x, 512, 2);
  for (let i = 0; i < 5; i++) x = dw(x, 512, 1);
  x = dw(x, 1024, 2); x = dw(x, 1024, 1);
  x = gap(b, x);
  x = b.apply('dropout', tf.layers.dropout, x, {rate: 0.001});
  return [b, dense(b, x, 1000, 'softmax')];
}

// keras.applications.VGG16, include_top.
function vgg16() {
  const b = new Builder('vgg16');
  let x = b.input('image', [224, 224, 3]);
  for (const [filters, convs] of [[64, 2], [128, 2], [256, 3], [512, 3],
                                  [512, 3]]) {
    for (let i = 0; i < convs; i++)
      x = conv(b, x, filters, 3, {padding: 'same', activation: 'relu'});
    x = maxpool(b, x, 2);
  }
  x = flatten(b, x);
  x = dense(b, x, 4096, 'relu');
  x = dense(b, x, 4096, 'relu');
  return [b, dense(b, x, 1000, 'softmax')];
}

// The layers of the language's second round (examples/ops_tour.rn).
function opsTour() {
  const b = new Builder('ops_tour');
  let x = b.input('image', [32, 32, 3]);
  x = b.apply('normalization', custom(KerasNormalization), x);
  x = conv(b, x, 16, 3, {stride: 2, padding: 'same', bias: false, name: 'stem.conv'});
  x = b.apply('batch_normalization', tf.layers.batchNormalization, x,
              {scale: false, trainable: false}, 'stem.bn');
  x = b.apply('re_lu', tf.layers.reLU, x, {maxValue: 6});
  x = b.apply('separable_conv2d', tf.layers.separableConv2d, x, {
    filters: 32, kernelSize: 3, padding: 'same', depthMultiplier: 2,
    activation: 'swish'});
  x = b.apply('batch_normalization', tf.layers.batchNormalization, x, {center: false});
  const se = x;
  x = b.layerGroup('squeeze_excite', 'SqueezeExcite', () => {
    let s = b.apply('global_average_pooling2d', custom(KeepdimsAveragePooling2D), se);
    s = dense(b, s, 8, 'relu');
    s = dense(b, s, 32, 'hardSigmoid');
    return b.apply('multiply', tf.layers.multiply, [se, s]);
  });
  let y = dwconv(b, x, 3, {padding: 'same'});
  y = b.apply('p_re_lu', tf.layers.prelu, y, {sharedAxes: [1, 2]});
  x = b.apply('leaky_re_lu', tf.layers.leakyReLU, add(b, [x, y]));
  x = maxpool(b, x, 2);
  const a = b.apply('channel_slice', custom(ChannelSlice), x, {start: 0, stop: 16});
  let c = b.apply('channel_slice', custom(ChannelSlice), x, {start: 16, stop: 32});
  c = conv(b, c, 16, 1, {activation: 'gelu'});
  x = b.apply('concatenate', tf.layers.concatenate, [a, c]);
  x = b.apply('channel_shuffle', custom(ChannelShuffle), x);
  x = b.apply('layer_normalization', tf.layers.layerNormalization, x, {});
  let u = b.apply('conv2d_transpose', tf.layers.conv2dTranspose, x, {
    filters: 16, kernelSize: 3, strides: 2, padding: 'same'});
  u = b.apply('elu', tf.layers.elu, u, {}); // TF.js takes no other alpha

  u = b.apply('cropping2d', tf.layers.cropping2D, u, {cropping: [[1, 1], [2, 2]]});
  u = b.apply('up_sampling2d', tf.layers.upSampling2d, u, {size: [2, 2], interpolation: 'bilinear'});
  u = b.apply('conv2d', tf.layers.conv2d, u, {filters: 8, kernelSize: [13, 9], trainable: false});
  let d = dense(b, x, 8, 'tanh');
  d = b.apply('up_sampling2d', tf.layers.upSampling2d, d, {size: [2, 2]});
  const m = b.apply('maximum', tf.layers.maximum, [d, u]);
  const n = b.apply('minimum', tf.layers.minimum, [d, u]);
  x = b.apply('concatenate', tf.layers.concatenate, [
    b.apply('average', tf.layers.average, [m, n, d]),
    b.apply('subtract', custom(KerasSubtract), [m, n]),
    b.apply('multiply', tf.layers.multiply, [d, u])]);
  x = act(b, x, 'mish');
  x = b.apply('global_max_pooling2d', tf.layers.globalMaxPooling2d, x, {});
  x = b.apply('reshape', tf.layers.reshape, x, {targetShape: [4, 3, 2]});
  x = flatten(b, x);
  x = b.apply('dropout', tf.layers.dropout, x, {rate: 0.2});
  x = b.apply('re_lu', tf.layers.reLU, dense(b, x, 16), {});
  return [b, b.apply('softmax', tf.layers.softmax, dense(b, x, 10), {axis: -1})];
}

const MODELS = {
  small_residual: smallResidual, resnet34, resnet18, resnet50,
  mobilenet_v1: mobilenetV1, vgg16, ops_tour: opsTour,
};
// Golden file -> model builder and whether it is the --expand form.
const GOLDENS = [
  ['small_residual', false], ['resnet34', false], ['resnet34_expand', true],
  ['resnet18', false], ['resnet50', false], ['mobilenet_v1', false],
  ['vgg16', false], ['ops_tour', false],
];

// ------------------------------------------------------- the golden text

// Reads a Keras 2.11 summary back into rows. A field never holds two
// spaces in a row, and columns are separated by at least two, so each
// line splits into pieces; a piece belongs to the column whose start is
// the last one at or before it (a long field pushes the rest of its line
// right by at most a character or two). Wrapped pieces join their field.
function parseGolden(text) {
  const lines = text.split('\n');
  const head = lines[2];
  const functional = head.includes('Connected to');
  const width = functional ? 98 : 65;
  const pos = functional ? [32, 53, 65, 98] : [29, 55, 65];
  const starts = [0].concat(pos.slice(0, -1));
  const rows = [];
  let row = null, depth = 0;
  const parents = [];
  let i = 4; // after Model, ___, header, ===
  const flush = () => { if (row) rows.push(row); row = null; };
  for (; i < lines.length && !lines[i].startsWith('='); i++) {
    let l = lines[i];
    if (l.includes('\u00af')) { // a frame of a nested (expanded) group
      flush();
      const bars = l.match(/^\|*/)[0].length;
      if (bars === depth + 1) { parents.push(rows[rows.length - 1]); depth++; }
      else { parents.pop(); depth--; }
      continue;
    }
    const bars = l.match(/^\|*/)[0].length;
    if (bars !== depth) throw new Error(`line ${i + 1}: nesting ${bars}, expected ${depth}`);
    l = l.slice(bars, l.length - bars);
    if (l.length + 2 * bars !== width && bars === 0)
      throw new Error(`line ${i + 1}: width ${l.length}, expected ${width}`);
    if (!l.trim()) { flush(); continue; }
    if (!row) row = {fields: pos.map(() => ''), depth,
                     parent: parents[parents.length - 1] || null};
    const re = /\S+(?: \S+)*/g;
    let m;
    while ((m = re.exec(l))) {
      let c = 0;
      while (c + 1 < starts.length && starts[c + 1] - 2 * depth <= m.index) c++;
      row.fields[c] += m[0];
    }
  }
  flush();
  const totals = {};
  for (const l of lines.slice(i)) {
    const m = l.match(/^(Total|Trainable|Non-trainable) params: ([\d,]+)$/);
    if (m) totals[m[1]] = Number(m[2].replace(/,/g, ''));
  }
  for (const r of rows) {
    const m = r.fields[0].match(/^(\S+?)\s*\((\w+)\)$/);
    if (!m) throw new Error(`cannot read row '${r.fields[0]}'`);
    r.name = m[1];
    r.klass = m[2];
    r.shape = r.fields[1].replace(/\s/g, '');
    r.params = Number(r.fields[2]);
    r.conn = functional
      ? (r.fields[3].match(/'([^'\[]+)\[0\]\[0\]'/g) || [])
          .map((s) => s.slice(1, s.indexOf('[')))
      : null;
  }
  return {functional, rows, totals};
}

// ------------------------------------------------------------ comparing

function kerasShape(layer) {
  const s = layer.outputShape;
  const t = '(' + s.map((d) => (d === null ? 'None' : String(d))).join(',') + ')';
  return layer.getClassName() === 'InputLayer' ? `[${t}]` : t;
}

function tfShape(t) {
  return '(' + t.shape.map((d) => (d === null ? 'None' : String(d))).join(',') + ')';
}

function countOf(weights) {
  return weights.reduce((n, w) => n + w.shape.reduce((a, d) => a * d, 1), 0);
}

// What the summary row of a TF.js entity (a layer or a group) looks like.
function expectedRows(b, model) {
  const byName = new Map();
  const rowOf = (layer, scope) => {
    // the name readers in `scope` see for this layer's output
    let g = b.groupOf.get(layer.name) || null;
    const chain = [];
    for (; g; g = g.parent) chain.unshift(g);
    // outermost group not containing the reader's scope
    for (const q of chain) {
      let inScope = false;
      for (let s = scope; s; s = s.parent) if (s === q) inScope = true;
      if (!inScope) return q.name;
    }
    return layer.localName || layer.name;
  };
  const inbound = (layer) =>
    layer.inboundNodes.length ? layer.inboundNodes[0].inboundLayers : [];
  for (const layer of model.layers) {
    const g = b.groupOf.get(layer.name) || null;
    const key = (g ? g.path + '/' : '') + (layer.localName || layer.name);
    byName.set(key, {
      klass: layer.getClassName(), shape: kerasShape(layer),
      params: layer.countParams(),
      conn: inbound(layer).map((u) => rowOf(u, g)),
    });
  }
  for (const g of b.groups) {
    const conn = [];
    for (const layer of g.layers)
      for (const u of inbound(layer))
        if (!g.layers.includes(u)) {
          const n = rowOf(u, g.parent);
          if (!conn.includes(n)) conn.push(n);
        }
    byName.set(g.path, {
      klass: g.klass, shape: tfShape(g.out),
      params: g.layers.reduce((n, l) => n + l.countParams(), 0), conn,
    });
  }
  return byName;
}

function checkOne(goldenName, expand) {
  const file = path.join(GOLDEN, goldenName + '.txt');
  const modelName = goldenName.replace(/_expand$/, '');
  const problems = [];
  if (!fs.existsSync(file)) return [`${file} is missing`];
  const golden = parseGolden(fs.readFileSync(file, 'utf8'));
  const [b, out] = MODELS[modelName]();
  const model = b.model(out);
  const want = expectedRows(b, model);
  const seen = new Set();
  const pathOf = (r) => {
    const names = [];
    for (let p = r; p; p = p.parent) names.unshift(p.name);
    return names.join('/');
  };
  for (const r of golden.rows) {
    const key = pathOf(r);
    const w = want.get(key);
    if (!w) { problems.push(`row ${key}: no such layer in the TF.js model`); continue; }
    seen.add(key);
    if (w.klass !== r.klass) problems.push(`${key}: class ${r.klass}, TF.js ${w.klass}`);
    if (w.shape !== r.shape) problems.push(`${key}: shape ${r.shape}, TF.js ${w.shape}`);
    if (w.params !== r.params) problems.push(`${key}: ${r.params} params, TF.js ${w.params}`);
    if (r.conn && r.conn.join() !== w.conn.join())
      problems.push(`${key}: connected to [${r.conn}], TF.js [${w.conn}]`);
  }
  // Every TF.js layer or group that the summary shows must have a row.
  for (const key of want.keys()) {
    const depth = key.split('/').length - 1;
    const shown = expand || depth === 0;
    if (shown && !seen.has(key)) problems.push(`${key}: TF.js layer has no row`);
  }
  const trainable = countOf(model.trainableWeights);
  const frozen = countOf(model.nonTrainableWeights);
  const t = golden.totals;
  if (t.Total !== model.countParams()) problems.push(`total ${t.Total}, TF.js ${model.countParams()}`);
  if (t.Trainable !== trainable) problems.push(`trainable ${t.Trainable}, TF.js ${trainable}`);
  if (t['Non-trainable'] !== frozen) problems.push(`non-trainable ${t['Non-trainable']}, TF.js ${frozen}`);
  // Layout: TF.js decides sequential-likeness as Keras does; a model with
  // groups is judged on its rows (every row one input, one reader).
  let chain;
  if (b.groups.length === 0) {
    let text = '';
    model.summary(200, undefined, (s) => { text += s + '\n'; });
    chain = !text.includes('Receives inputs');
  } else {
    const top = golden.rows.filter((r) => r.depth === 0).map((r) => want.get(r.name));
    chain = b.inputs.length === 1 && top.every((w, k) => w.conn.length === (k ? 1 : 0));
    const readers = new Map();
    for (const w of top) for (const c of w.conn) readers.set(c, (readers.get(c) || 0) + 1);
    chain = chain && [...readers.values()].every((n) => n === 1);
  }
  if (chain === golden.functional)
    problems.push(`layout: golden is ${golden.functional ? 'functional' : 'sequential'}, Keras would print the other`);
  tf.disposeVariables();
  const rowsOk = golden.rows.length;
  return {problems, rows: rowsOk, total: t.Total};
}

function main() {
  const only = process.argv.slice(2);
  let bad = 0;
  for (const [name, expand] of GOLDENS) {
    if (only.length && !only.includes(name)) continue;
    let r;
    try {
      r = checkOne(name, expand);
    } catch (e) {
      r = {problems: [String(e.stack || e)], rows: 0};
    }
    if (Array.isArray(r)) r = {problems: r, rows: 0};
    if (r.problems.length) {
      bad++;
      say(`${name}: FAIL`);
      for (const p of r.problems) say('  ' + p);
    } else {
      say(`${name}: ok (${r.rows} rows, ${r.total.toLocaleString('en-US')} params)`);
    }
  }
  process.exit(bad ? 1 : 0);
}

main();
