#!/usr/bin/python3
"""make_keras_fixtures.py: Keras models in the TF.js layers format written by
hand, for what tfjs cannot build or save: the configs of Keras 2 (as
Python's tensorflowjs converter writes them, Keras 2.2 to 2.15) and of
Keras 3, and the layers tfjs lacks (Normalization, Subtract,
SpatialDropout2D, keepdims pooling, grouped convolutions, ReLU's
negative_slope and threshold, hard_swish, Keras 3's hard_sigmoid, bilinear
UpSampling2D with TF 2's half-pixel centers, ...).

Each model is written with a small builder that is also its reference: every
layer call computes its output at once with NumPy in float64, following
Keras's documented semantics (not rnc's code), from the float32 (or float16)
weights that go into the shards. So tests/import/keras/NAME/ gets model.json,
its shards, input.npy, expected.npy and summary.json (Keras's parameter
counts per top-level layer and the three totals), as
tools/make_keras_goldens.js writes them for the tfjs models.

    /usr/bin/python3 tools/make_keras_fixtures.py        (needs python3-numpy)
"""
import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                   "import", "keras")
F64 = np.float64


# ------------------------------------------------------------ Keras maths

def pad_same(n, k, s, d):
    """TensorFlow's SAME padding (before, after) of one axis."""
    keff = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + keff - n, 0)
    return total // 2, total - total // 2


def conv2d(x, w, stride, padding, dilation=(1, 1), groups=1):
    """x [H, W, C], w [kh, kw, C/groups, F]."""
    kh, kw, cg, f = w.shape
    sh, sw = stride
    dh, dw = dilation
    if padding == "same":
        (pt, pb), (pl, pr) = pad_same(x.shape[0], kh, sh, dh), pad_same(x.shape[1], kw, sw, dw)
        x = np.pad(x, ((pt, pb), (pl, pr), (0, 0)))
    H, W, C = x.shape
    oh = (H - ((kh - 1) * dh + 1)) // sh + 1
    ow = (W - ((kw - 1) * dw + 1)) // sw + 1
    out = np.zeros((oh, ow, f))
    fg = f // groups
    for g in range(groups):
        xs = x[:, :, g * cg:(g + 1) * cg]
        for a in range(kh):
            for b in range(kw):
                patch = xs[a * dh:a * dh + (oh - 1) * sh + 1:sh,
                           b * dw:b * dw + (ow - 1) * sw + 1:sw, :]
                out[:, :, g * fg:(g + 1) * fg] += patch @ w[a, b, :, g * fg:(g + 1) * fg]
    return out


def depthwise(x, w, stride, padding, dilation=(1, 1)):
    """w [kh, kw, C, M]: output channel c*M + m."""
    kh, kw, c, m = w.shape
    full = np.zeros((kh, kw, c, c * m))
    for ci in range(c):
        full[:, :, ci, ci * m:(ci + 1) * m] = w[:, :, ci, :]
    return conv2d(x, full, stride, padding, dilation)


def conv2d_transpose(x, w, stride, padding, output_padding=None, dilation=(1, 1)):
    """Keras's Conv2DTranspose: w [kh, kw, F, C]; the sizes of
    deconv_output_length, the pads of the conv2d it is the gradient of."""
    kh, kw, f, c = w.shape
    out_sizes, tops = [], []
    for axis in range(2):
        n, k, s, d = x.shape[axis], w.shape[axis], stride[axis], dilation[axis]
        keff = (k - 1) * d + 1
        op = None if output_padding is None else output_padding[axis]
        if op is None:
            o = n * s if padding == "same" else n * s + max(keff - s, 0)
        else:
            pad = keff // 2 if padding == "same" else 0
            o = (n - 1) * s + keff - 2 * pad + op
        total = max((n - 1) * s + keff - o, 0) if padding == "same" else 0
        out_sizes.append(o)
        tops.append(total // 2)
    out = np.zeros((out_sizes[0], out_sizes[1], f))
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            for a in range(kh):
                for b in range(kw):
                    oi = i * stride[0] + a * dilation[0] - tops[0]
                    oj = j * stride[1] + b * dilation[1] - tops[1]
                    if 0 <= oi < out_sizes[0] and 0 <= oj < out_sizes[1]:
                        out[oi, oj, :] += w[a, b, :, :] @ x[i, j, :]
    return out


def pool(x, k, s, padding, kind):
    if padding == "same":
        (pt, pb), (pl, pr) = pad_same(x.shape[0], k[0], s[0], 1), pad_same(x.shape[1], k[1], s[1], 1)
    else:
        pt = pb = pl = pr = 0
    H, W, C = x.shape
    oh = (H + pt + pb - k[0]) // s[0] + 1
    ow = (W + pl + pr - k[1]) // s[1] + 1
    out = np.zeros((oh, ow, C))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s[0] - pt, j * s[1] - pl
            win = x[max(r0, 0):min(r0 + k[0], H), max(c0, 0):min(c0 + k[1], W), :]
            out[i, j] = win.max(axis=(0, 1)) if kind == "max" else win.mean(axis=(0, 1))
    return out


def upsample(x, size, interpolation):
    H, W, C = x.shape
    if interpolation == "nearest":
        return x.repeat(size[0], axis=0).repeat(size[1], axis=1)
    out = np.zeros((H * size[0], W * size[1], C))

    def taps(o, n, scale):
        src = (o + 0.5) / scale - 0.5          # TF 2's half-pixel centers
        lo = int(np.floor(src))
        frac = src - lo
        return max(lo, 0), min(lo + 1, n - 1), min(max(lo, 0), n - 1), frac

    for i in range(out.shape[0]):
        y0, y1, y0c, fy = taps(i, H, size[0])
        y0 = min(y0, H - 1)
        for j in range(out.shape[1]):
            x0, x1, _, fx = taps(j, W, size[1])
            x0 = min(x0, W - 1)
            top = x[y0, x0] * (1 - fx) + x[y0, x1] * fx
            bot = x[y1, x0] * (1 - fx) + x[y1, x1] * fx
            out[i, j] = top * (1 - fy) + bot * fy
    return out


def erf(x):
    import math
    return np.vectorize(math.erf)(x)


SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805


def activation(x, name, keras3):
    relu6 = lambda v: np.minimum(np.maximum(v, 0), 6)
    sig = lambda v: 1 / (1 + np.exp(-v))
    fns = {
        "linear": lambda v: v,
        "relu": lambda v: np.maximum(v, 0),
        "relu6": relu6,
        "sigmoid": sig,
        "tanh": np.tanh,
        "softmax": lambda v: np.exp(v - v.max(-1, keepdims=True)) /
                             np.exp(v - v.max(-1, keepdims=True)).sum(-1, keepdims=True),
        "swish": lambda v: v * sig(v),
        "silu": lambda v: v * sig(v),
        "gelu": lambda v: 0.5 * v * (1 + erf(v / np.sqrt(2))),
        "gelu_new": lambda v: 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3))),
        "hard_sigmoid": (lambda v: relu6(v + 3) / 6) if keras3 else
                        (lambda v: np.clip(0.2 * v + 0.5, 0, 1)),
        "hard_swish": lambda v: v * relu6(v + 3) / 6,
        "hard_silu": lambda v: v * relu6(v + 3) / 6,
        "elu": lambda v: np.where(v > 0, v, np.expm1(v)),
        "selu": lambda v: SELU_S * np.where(v > 0, v, SELU_A * np.expm1(v)),
        "softplus": lambda v: np.logaddexp(0, v),
        "softsign": lambda v: v / (1 + np.abs(v)),
        "exponential": np.exp,
        "mish": lambda v: v * np.tanh(np.logaddexp(0, v)),
        "leaky_relu": lambda v: np.where(v > 0, v, 0.2 * v),
    }
    return fns[name](x)


# ------------------------------------------------------------- the builder

class T:
    """A tensor: its value (no batch axis) and the layer that made it."""
    def __init__(self, value, layer):
        self.value, self.layer = value, layer


class Model:
    """Layers of one Keras model, in order; configs in the chosen format
    ("keras2" or "keras3"); weights kept per layer in Keras's order."""

    def __init__(self, name, fmt, rng, kind="Functional", trainable=None):
        self.name, self.fmt, self.rng, self.kind = name, fmt, rng, kind
        self.layers, self.inputs, self.outputs = [], [], []
        self.trainable = trainable

    # weights ---------------------------------------------------------
    def rand(self, shape, lo=-1.0, hi=1.0):
        return self.rng.uniform(lo, hi, size=shape).astype(np.float32)

    def kernel(self, shape, fan_in):
        a = np.sqrt(3.0 / fan_in)
        return self.rand(shape, -a, a)

    # configs ---------------------------------------------------------
    def ref(self, t):
        name = t.layer["name"]
        if self.fmt == "keras3":
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": [None] + list(t.value.shape), "dtype": "float32",
                               "keras_history": [name, 0, 0]}}
        return [name, 0, 0, {}]

    def add(self, cls, name, config, inputs, value, weights=(), trainable=True,
            call_kwargs=None):
        cfg = dict(config)
        cfg["name"] = name
        cfg["trainable"] = trainable
        if self.fmt == "keras3":
            cfg["dtype"] = {"module": "keras", "class_name": "DTypePolicy",
                            "config": {"name": "float32"}, "registered_name": None}
        else:
            cfg["dtype"] = "float32"
        layer = {"class_name": cls, "config": cfg, "name": name}
        if self.fmt == "keras3":
            layer["module"] = "keras.layers"
            layer["registered_name"] = None
        if self.kind != "Sequential":
            if not inputs:
                layer["inbound_nodes"] = []
            elif self.fmt == "keras3":
                refs = [self.ref(t) for t in inputs]
                args = [refs] if len(inputs) > 1 else refs
                layer["inbound_nodes"] = [{"args": args, "kwargs": call_kwargs or {}}]
            else:
                layer["inbound_nodes"] = [[self.ref(t)[:3] + [call_kwargs or {}]
                                           for t in inputs]]
        layer["_weights"] = list(weights)   # (param, array, trainable)
        layer["_trainable"] = trainable
        self.layers.append(layer)
        return T(value, layer)

    def input(self, name, shape):
        key = "batch_shape" if self.fmt == "keras3" else "batch_input_shape"
        cfg = {key: [None] + list(shape), "sparse": False}
        if self.fmt == "keras2":
            cfg["ragged"] = False
        v = np.zeros(shape)
        t = self.add("InputLayer", name, cfg, [], v)
        t.layer["config"].pop("trainable")
        self.inputs.append(t)
        return t

    def config(self):
        layers = []
        for l in self.layers:
            d = {k: v for k, v in l.items() if not k.startswith("_")}
            if "_model" in l:
                d["config"] = l["_model"].config()["config"]
                d["class_name"] = l["_model"].kind
            layers.append(d)
        if self.kind == "Sequential":
            cfg = {"name": self.name, "layers": layers}
        else:
            io = lambda ts: [[t.layer["name"], 0, 0] for t in ts]
            cfg = {"name": self.name, "layers": layers,
                   "input_layers": io(self.inputs), "output_layers": io(self.outputs)}
            if self.fmt == "keras3" and len(self.inputs) == 1:
                cfg["input_layers"] = io(self.inputs)[0]   # Keras 3's single ref
        if self.trainable is not None:
            cfg["trainable"] = self.trainable
        out = {"class_name": self.kind, "config": cfg}
        if self.fmt == "keras3":
            out = {"module": "keras.src.models.functional" if self.kind != "Sequential"
                   else "keras", **out, "registered_name": self.kind}
        return out

    # the layers ------------------------------------------------------
    def conv2d(self, x, filters, k, name, strides=(1, 1), padding="valid",
               dilation=(1, 1), groups=1, use_bias=True, act="linear", trainable=True):
        cin = x.value.shape[-1]
        w = self.kernel((k[0], k[1], cin // groups, filters), k[0] * k[1] * cin // groups)
        b = self.rand((filters,), -0.1, 0.1)
        y = conv2d(x.value, w.astype(F64), strides, padding, dilation, groups)
        if use_bias:
            y = y + b
        y = activation(y, act, self.fmt == "keras3")
        cfg = {"filters": filters, "kernel_size": list(k), "strides": list(strides),
               "padding": padding, "data_format": "channels_last",
               "dilation_rate": list(dilation), "groups": groups, "activation": act,
               "use_bias": use_bias}
        ws = [("kernel", w)] + ([("bias", b)] if use_bias else [])
        return self.add("Conv2D", name, cfg, [x], y, ws, trainable)

    def depthwise(self, x, k, name, strides=(1, 1), padding="valid", mult=1, act="linear"):
        cin = x.value.shape[-1]
        w = self.kernel((k[0], k[1], cin, mult), k[0] * k[1])
        b = self.rand((cin * mult,), -0.1, 0.1)
        y = activation(depthwise(x.value, w.astype(F64), strides, padding) + b, act,
                       self.fmt == "keras3")
        cfg = {"kernel_size": list(k), "strides": list(strides), "padding": padding,
               "depth_multiplier": mult, "data_format": "channels_last",
               "dilation_rate": [1, 1], "activation": act, "use_bias": True}
        return self.add("DepthwiseConv2D", name, cfg, [x], y,
                        [("depthwise_kernel", w), ("bias", b)])

    def separable(self, x, filters, k, name, mult=1, padding="valid", act="linear"):
        cin = x.value.shape[-1]
        dw = self.kernel((k[0], k[1], cin, mult), k[0] * k[1])
        pw = self.kernel((1, 1, cin * mult, filters), cin * mult)
        b = self.rand((filters,), -0.1, 0.1)
        y = depthwise(x.value, dw.astype(F64), (1, 1), padding)
        y = activation(conv2d(y, pw.astype(F64), (1, 1), "valid") + b, act,
                       self.fmt == "keras3")
        cfg = {"filters": filters, "kernel_size": list(k), "strides": [1, 1],
               "padding": padding, "depth_multiplier": mult,
               "data_format": "channels_last", "dilation_rate": [1, 1],
               "activation": act, "use_bias": True}
        return self.add("SeparableConv2D", name, cfg, [x], y,
                        [("depthwise_kernel", dw), ("pointwise_kernel", pw), ("bias", b)])

    def deconv(self, x, filters, k, name, strides, padding, output_padding=None):
        cin = x.value.shape[-1]
        w = self.kernel((k[0], k[1], filters, cin), k[0] * k[1] * cin)
        b = self.rand((filters,), -0.1, 0.1)
        y = conv2d_transpose(x.value, w.astype(F64), strides, padding, output_padding) + b
        cfg = {"filters": filters, "kernel_size": list(k), "strides": list(strides),
               "padding": padding, "output_padding": output_padding,
               "data_format": "channels_last", "dilation_rate": [1, 1],
               "activation": "linear", "use_bias": True}
        return self.add("Conv2DTranspose", name, cfg, [x], y, [("kernel", w), ("bias", b)])

    def dense(self, x, units, name, act="linear", use_bias=True, trainable=True):
        cin = x.value.shape[-1]
        w = self.kernel((cin, units), cin)
        b = self.rand((units,), -0.1, 0.1)
        y = x.value @ w.astype(F64) + (b if use_bias else 0)
        y = activation(y, act, self.fmt == "keras3")
        cfg = {"units": units, "activation": act, "use_bias": use_bias}
        return self.add("Dense", name, cfg, [x], y,
                        [("kernel", w)] + ([("bias", b)] if use_bias else []), trainable)

    def batchnorm(self, x, name, eps=0.001, center=True, scale=True, trainable=True,
                  cls="BatchNormalization"):
        c = x.value.shape[-1]
        g, be = self.rand((c,), 0.5, 1.5), self.rand((c,), -0.2, 0.2)
        mu, var = self.rand((c,), -0.2, 0.2), self.rand((c,), 0.5, 1.5)
        y = (x.value - mu) / np.sqrt(var.astype(F64) + eps)
        if scale:
            y = y * g
        if center:
            y = y + be
        cfg = {"axis": -1 if self.fmt == "keras3" else [len(x.value.shape)],
               "momentum": 0.99, "epsilon": eps, "center": center, "scale": scale}
        ws = ([("gamma", g)] if scale else []) + ([("beta", be)] if center else []) + \
             [("moving_mean", mu), ("moving_variance", var)]
        return self.add(cls, name, cfg, [x], y, ws, trainable)

    def layernorm(self, x, name, eps=0.001):
        c = x.value.shape[-1]
        g, be = self.rand((c,), 0.5, 1.5), self.rand((c,), -0.2, 0.2)
        m = x.value.mean(-1, keepdims=True)
        v = ((x.value - m) ** 2).mean(-1, keepdims=True)
        y = (x.value - m) / np.sqrt(v + eps) * g + be
        cfg = {"axis": [-1], "epsilon": eps, "center": True, "scale": True}
        if self.fmt == "keras3":
            cfg["rms_scaling"] = False
        return self.add("LayerNormalization", name, cfg, [x], y, [("gamma", g), ("beta", be)])

    def normalization(self, x, name, in_config=False):
        c = x.value.shape[-1]
        mean, var = self.rand((c,), -0.5, 0.5), self.rand((c,), 0.2, 2.0)
        y = (x.value - mean) / np.maximum(np.sqrt(var.astype(F64)), 1e-7)
        cfg = {"axis": [-1] if self.fmt == "keras2" else -1, "invert": False}
        if in_config:
            # Keras keeps the broadcast shape of the given statistics
            cfg["mean"] = [[[float(v) for v in mean]]]
            cfg["variance"] = [[[float(v) for v in var]]]
            ws = []
        else:
            cfg["mean"] = cfg["variance"] = None
            ws = [("mean", mean), ("variance", var), ("count", np.array(37, np.int32))]
        return self.add("Normalization", name, cfg, [x], y, ws)

    def act(self, x, name, fn):
        return self.add("Activation", name, {"activation": fn}, [x],
                        activation(x.value, fn, self.fmt == "keras3"))

    def relu(self, x, name, max_value=None, negative_slope=0.0, threshold=0.0):
        v = x.value
        y = np.where(v >= threshold, v if max_value is None else np.minimum(v, max_value),
                     negative_slope * (v - threshold))
        cfg = {"max_value": max_value, "negative_slope": negative_slope,
               "threshold": threshold}
        return self.add("ReLU", name, cfg, [x], y)

    def leaky(self, x, name, slope):
        key = "negative_slope" if self.fmt == "keras3" else "alpha"
        return self.add("LeakyReLU", name, {key: slope}, [x],
                        np.where(x.value > 0, x.value, slope * x.value))

    def merge(self, cls, xs, name, **cfg):
        vals = [t.value for t in xs]
        y = {"Add": lambda: sum(vals), "Subtract": lambda: vals[0] - vals[1],
             "Multiply": lambda: np.prod(np.broadcast_arrays(*vals), axis=0),
             "Maximum": lambda: np.max(np.broadcast_arrays(*vals), axis=0),
             "Minimum": lambda: np.min(np.broadcast_arrays(*vals), axis=0),
             "Average": lambda: sum(vals) / len(vals),
             "Concatenate": lambda: np.concatenate(vals, axis=-1)}[cls]()
        return self.add(cls, name, cfg, xs, y)

    def pool(self, x, cls, name, k, strides=None, padding="valid"):
        s = strides or k
        y = pool(x.value, k, s, padding, "max" if cls == "MaxPooling2D" else "avg")
        cfg = {"pool_size": list(k), "strides": list(strides) if strides else None,
               "padding": padding, "data_format": "channels_last"}
        return self.add(cls, name, cfg, [x], y)

    def gpool(self, x, cls, name, keepdims=False):
        f = np.max if cls == "GlobalMaxPooling2D" else np.mean
        y = f(x.value, axis=(0, 1), keepdims=keepdims)
        return self.add(cls, name, {"data_format": "channels_last", "keepdims": keepdims},
                        [x], y)

    def simple(self, cls, x, name, value, **cfg):
        return self.add(cls, name, cfg, [x], value)

    def tfop(self, fn, x, y, name):
        """Keras 2's TFOpLambda: tf.FN(x, y), y a number, a list or a
        tensor (then in the call's kwargs as [layer, node, tensor])."""
        yv = y.value if isinstance(y, T) else np.asarray(y, F64)
        f = {"__operators__.add": np.add, "math.multiply": np.multiply,
             "math.subtract": np.subtract, "math.truediv": np.true_divide}[fn]
        t = self.add("TFOpLambda", name, {"function": fn}, [x], f(x.value, yv))
        t.layer["inbound_nodes"] = [[x.layer["name"], 0, 0, {
            "y": [y.layer["name"], 0, 0] if isinstance(y, T) else y, "name": None}]]
        return t

    def op3(self, cls, args, name):
        """Keras 3: keras.ops.CLS called on tensors and constants."""
        vals = [a.value if isinstance(a, T) else np.asarray(a, F64) for a in args]
        f = {"Add": np.add, "Subtract": np.subtract, "Multiply": np.multiply,
             "Divide": np.true_divide}[cls]
        t = self.add(cls, name, {}, [a for a in args if isinstance(a, T)],
                     f(vals[0], vals[1]))
        t.layer["module"] = "keras.src.ops.numpy"
        t.layer["registered_name"] = cls
        t.layer["config"] = {"name": name}
        t.layer["inbound_nodes"] = [{"args": [self.ref(a) if isinstance(a, T) else a
                                              for a in args], "kwargs": {}}]
        return t

    def nested(self, sub, xs, name, call_kwargs=None):
        """Calls model `sub` (built on its own inputs) on xs."""
        vals = sub.run([t.value for t in xs])
        t = self.add(sub.kind, name, {}, xs, vals, call_kwargs=call_kwargs)
        t.layer["_model"] = sub
        t.layer["_weights"] = []
        return t

    def run(self, values):
        """The nested model's output on new inputs: its layers again."""
        return self._replay(values)

    # weights of every layer, nested ones too -------------------------
    def all_weights(self, scope=()):
        for l in self.layers:
            if "_model" in l:
                yield from l["_model"].all_weights(scope + (l["_model"].name,))
            for p, a in l["_weights"]:
                yield scope, l["name"], p, a


def replayable(build):
    """A nested model whose build(m, inputs) can run again on new inputs."""
    def make(fmt, rng, name, shapes, kind="Functional", trainable=None, seed=0):
        m = Model(name, fmt, np.random.default_rng(seed), kind, trainable)
        ins = [m.input(f"{name}_in{i}" if len(shapes) > 1 else f"{name}_input", s)
               for i, s in enumerate(shapes)]
        m.outputs = [build(m, ins)]

        def replay(values):
            m2 = Model(name, fmt, np.random.default_rng(seed), kind, trainable)
            ins2 = [T(v, {"name": t.layer["name"]}) for t, v in zip(ins, values)]
            for t2, t in zip(ins2, ins):
                t2.layer = t.layer
            return build(m2, ins2).value
        m._replay = replay
        return m
    return make


# ------------------------------------------------------------- writing

def npy(path, a):
    np.save(path, np.asarray(a, np.float32)[None])


def write(model, name, fmt_version, naming="plain", dtype="float32", groups=1,
          inputs=None, shard=None, layers_for_summary=None):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):   # what this script writes (not import.rn)
        if f == "model.json" or f == "summary.json" or f.endswith((".bin", ".npy")):
            os.remove(os.path.join(d, f))
    entries = []
    for scope, lname, param, arr in model.all_weights():
        wname = f"{lname}/{param}"
        if naming in ("scoped", "scoped_colon") and scope:
            wname = "/".join(scope) + "/" + wname
        if naming in ("colon", "scoped_colon"):
            wname += ":0"
        entries.append((wname, arr, lname, param))
    if naming == "indexed":   # Keras 3's tfjs names: LAYER/INDEX in weight order
        count = {}
        out = []
        for wname, arr, lname, param in entries:
            i = count.get(lname, 0)
            count[lname] = i + 1
            out.append((f"{lname}/{i}", arr, lname, param))
        entries = out
    per = -(-len(entries) // groups)
    manifest = []
    for g in range(groups):
        part = entries[g * per:(g + 1) * per]
        if not part:
            continue
        blobs, specs = [], []
        for wname, arr, _, _ in part:
            if arr.dtype == np.int32:
                blobs.append(arr.astype("<i4").tobytes())
                specs.append({"name": wname, "shape": list(arr.shape), "dtype": "int32"})
            elif dtype == "float16":
                blobs.append(arr.astype("<f2").tobytes())
                specs.append({"name": wname, "shape": list(arr.shape), "dtype": "float16"})
            else:
                blobs.append(arr.astype("<f4").tobytes())
                specs.append({"name": wname, "shape": list(arr.shape), "dtype": "float32"})
        data = b"".join(blobs)
        size = shard or max(len(data), 1)
        n = max(1, -(-len(data) // size))
        paths = []
        for s in range(n):
            p = f"group{g + 1}-shard{s + 1}of{n}.bin"
            with open(os.path.join(d, p), "wb") as f:
                f.write(data[s * size:(s + 1) * size])
            paths.append(p)
        manifest.append({"paths": paths, "weights": specs})
    topo = model.config()
    if fmt_version.startswith("bare"):
        doc = topo
    else:
        doc = {"format": "layers-model",
               "generatedBy": f"keras v{fmt_version}",
               "convertedBy": "tools/make_keras_fixtures.py",
               "modelTopology": {"keras_version": fmt_version, "backend": "tensorflow",
                                 "model_config": topo},
               "weightsManifest": manifest}
    if fmt_version == "2.2.4-list":   # Keras 2.2's Sequential: a bare list
        doc["modelTopology"]["model_config"]["config"] = topo["config"]["layers"]
        doc["modelTopology"]["keras_version"] = "2.2.4"
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    for i, t in enumerate(inputs):
        npy(os.path.join(d, "input.npy" if len(inputs) == 1 else f"input{i}.npy"), t)
    outs = model.outputs
    for i, t in enumerate(outs):
        npy(os.path.join(d, "expected.npy" if len(outs) == 1 else f"expected{i}.npy"),
            t.value)
    # Keras's counts: every weight, non-trainable when its layer (or an
    # enclosing model) is frozen or it is a statistic (batch norm's moving
    # mean and variance, Normalization's three weights).
    stats = ("moving_mean", "moving_variance", "mean", "variance", "count")
    rows, total, trainable = [], 0, 0
    shown = [l for l in model.layers
             if not (model.kind == "Sequential" and l["class_name"] == "InputLayer")]
    for l in shown:
        n = t_n = 0
        if "_model" in l:
            sub = l["_model"]
            frozen = {x["name"] for x in sub.layers if not x["_trainable"]}
            ws = [(lname, p, a, sub.trainable is not False and lname not in frozen)
                  for _, lname, p, a in sub.all_weights()]
        else:
            ws = [(l["name"], p, a, l["_trainable"]) for p, a in l["_weights"]]
        for lname, p, a, tr in ws:
            n += a.size
            if tr and p not in stats:
                t_n += a.size
        cls = l["class_name"]
        if l.get("module", "").startswith("keras.src.ops"):
            cls = "keras.ops." + cls   # an op: Keras's summary leaves it out
        rows.append({"name": l["name"], "class": cls, "params": n})
        total += n
        trainable += t_n
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump({"total": total, "trainable": trainable,
                   "non_trainable": total - trainable, "layers": rows}, f, indent=1)
        f.write("\n")
    print(f"{name}: {total} params ({trainable} trainable), {dtype}, "
          f"{len(manifest)} group(s)")


# ------------------------------------------------------------- the models

def keras2_functional():
    """Keras 2.x through the Python converter: ':0' names, scoped names
    of a nested model, Normalization with adapted weights (its count an
    int32), grouped and dilated convolutions, ReLU with all its options,
    Subtract, Minimum, squeeze-excite Multiply, keepdims pooling, bilinear
    upsampling, cropping, Dense on images, LayerNormalization."""
    rng = np.random.default_rng(11)
    m = Model("model", "keras2", rng)
    x = m.input("input_1", (10, 10, 4))
    xv = rng.uniform(-1, 1, (10, 10, 4))
    x.value = xv
    n = m.normalization(x, "normalization")
    c = m.conv2d(n, 8, (3, 3), "conv2d", padding="same", groups=2)
    r = m.relu(c, "re_lu", max_value=1.5, negative_slope=0.1, threshold=0.2)
    d = m.simple("SpatialDropout2D", r, "spatial_dropout2d", r.value, rate=0.25)
    c2 = m.conv2d(d, 8, (3, 3), "conv2d_1", padding="same", dilation=(2, 2), act="elu")
    s = m.merge("Subtract", [c2, r], "subtract")
    mn = m.merge("Minimum", [s, c2], "minimum")
    se = m.gpool(mn, "GlobalAveragePooling2D", "global_average_pooling2d", keepdims=True)
    se = m.conv2d(se, 8, (1, 1), "se_conv", act="sigmoid")
    mul = m.merge("Multiply", [mn, se], "multiply")
    sub = replayable(lambda mm, ins: mm.conv2d(
        mm.batchnorm(ins[0], "inner_bn", trainable=False), 6, (3, 3), "inner_conv",
        trainable=False))("keras2", None, "inner", [(10, 10, 8)], seed=5)
    nst = m.nested(sub, [mul], "inner")
    up = m.simple("UpSampling2D", nst, "up_sampling2d",
                  upsample(nst.value, (2, 2), "bilinear"), size=[2, 2],
                  interpolation="bilinear", data_format="channels_last")
    cr = m.simple("Cropping2D", up, "cropping2d", up.value[1:-1, 2:-2, :],
                  cropping=[[1, 1], [2, 2]], data_format="channels_last")
    dn = m.dense(cr, 5, "dense", act="gelu")
    dn = m.act(dn, "activation", "gelu_new")   # TF.js's name of tanh's gelu
    ln = m.layernorm(dn, "layer_normalization")
    p = m.pool(ln, "AveragePooling2D", "average_pooling2d", (3, 3), (2, 2), "same")
    f = m.simple("Flatten", p, "flatten", p.value.reshape(-1), data_format="channels_last")
    o = m.dense(f, 4, "dense_1", act="softmax")
    m.outputs = [o]
    write(m, "keras2_functional", "2.15.0", naming="scoped_colon", groups=2,
          shard=1000, inputs=[xv])


def keras2_sequential_list():
    """Keras 2.2.4: a Sequential whose config is a bare list, the first
    layer with batch_input_shape, BatchNormalizationV1, hard_sigmoid as
    Keras 2 defines it, LeakyReLU's alpha, float16 weights."""
    rng = np.random.default_rng(12)
    m = Model("sequential_1", "keras2", rng, kind="Sequential")
    xv = rng.uniform(-1, 1, (8, 8, 3))
    x = T(xv, {"name": "conv2d_1_input"})
    c = m.conv2d(x, 6, (3, 3), "conv2d_1", strides=(2, 2), padding="same",
                 act="hard_sigmoid")
    m.layers[-1]["config"]["batch_input_shape"] = [None, 8, 8, 3]
    b = m.batchnorm(c, "batch_normalization_1", cls="BatchNormalizationV1")
    l = m.leaky(b, "leaky_re_lu_1", 0.3)
    z = m.simple("ZeroPadding2D", l, "zero_padding2d_1",
                 np.pad(l.value, ((1, 0), (2, 1), (0, 0))), padding=[[1, 0], [2, 1]],
                 data_format="channels_last")
    p = m.pool(z, "MaxPooling2D", "max_pooling2d_1", (2, 2))
    f = m.simple("Flatten", p, "flatten_1", p.value.reshape(-1))
    d = m.dense(f, 3, "dense_1", act="tanh")
    m.outputs = [d]
    # float16 weights: the reference must use what the file holds
    for l in m.layers:
        l["_weights"] = [(p_, a.astype(np.float16).astype(np.float32))
                         for p_, a in l["_weights"]]
    # recompute with the float16-rounded weights, layer by layer
    v = xv
    w = {l["name"]: dict(l["_weights"]) for l in m.layers}
    v = conv2d(v, w["conv2d_1"]["kernel"].astype(F64), (2, 2), "same") + w["conv2d_1"]["bias"]
    v = np.clip(0.2 * v + 0.5, 0, 1)
    bn = w["batch_normalization_1"]
    v = (v - bn["moving_mean"]) / np.sqrt(bn["moving_variance"].astype(F64) + 0.001) * \
        bn["gamma"] + bn["beta"]
    v = np.where(v > 0, v, 0.3 * v)
    v = np.pad(v, ((1, 0), (2, 1), (0, 0)))
    v = pool(v, (2, 2), (2, 2), "valid", "max").reshape(-1)
    v = np.tanh(v @ w["dense_1"]["kernel"].astype(F64) + w["dense_1"]["bias"])
    m.outputs[0].value = v
    write(m, "keras2_sequential_list", "2.2.4-list", naming="colon", dtype="float16",
          inputs=[xv])


def keras3_functional():
    """Keras 3: batch_shape, {args, kwargs} nodes with __keras_tensor__,
    dtype policies, module / registered_name, a single input_layers ref,
    LAYER/INDEX weight names; Rescaling, Normalization with its statistics
    in the config, hard_sigmoid as Keras 3 defines it, hard_swish,
    SeparableConv2D with a depth multiplier, Conv2DTranspose with
    output_padding, a frozen nested model called with training=False,
    Maximum, Average, Concatenate, GlobalMaxPooling2D keepdims."""
    rng = np.random.default_rng(13)
    m = Model("functional_1", "keras3", rng)
    x = m.input("input_layer", (9, 9, 3))
    xv = rng.uniform(0, 255, (9, 9, 3))
    x.value = xv
    r = m.simple("Rescaling", x, "rescaling", xv / 127.5 - 1, scale=1 / 127.5, offset=-1.0)
    n = m.normalization(r, "normalization", in_config=True)
    c = m.conv2d(n, 6, (3, 3), "conv2d", padding="same", act="hard_silu")
    h = m.act(c, "activation", "hard_sigmoid")
    s = m.separable(c, 6, (3, 3), "separable_conv2d", mult=2, padding="same", act="relu")
    mx = m.merge("Maximum", [h, s], "maximum")
    base = replayable(lambda mm, ins: mm.leaky(mm.depthwise(
        ins[0], (3, 3), "base_dw", padding="same", mult=1, act="silu"), "base_leaky", 0.2))(
        "keras3", None, "base", [(9, 9, 6)], trainable=False, seed=6)
    nb = m.nested(base, [mx], "base", call_kwargs={"training": False})
    av = m.merge("Average", [nb, mx, c], "average")
    dc = m.deconv(av, 4, (3, 3), "conv2d_transpose", (2, 2), "same", output_padding=(1, 0))
    g = m.gpool(dc, "GlobalMaxPooling2D", "global_max_pooling2d", keepdims=True)
    cat = m.merge("Concatenate", [dc, m.merge("Multiply", [dc, g], "multiply")],
                  "concatenate", axis=-1)
    e = m.act(cat, "activation_1", "softplus")
    ga = m.gpool(e, "GlobalAveragePooling2D", "global_average_pooling2d")
    rs = m.simple("Reshape", ga, "reshape", ga.value.reshape(2, 2, 2), target_shape=[2, 2, 2])
    f = m.simple("Flatten", rs, "flatten", rs.value.reshape(-1))
    o = m.dense(f, 3, "dense", act="mish")
    m.outputs = [o]
    write(m, "keras3_functional", "3.3.3", naming="indexed", inputs=[xv])


def keras3_sequential():
    """Keras 3's Sequential: an InputLayer entry, no inbound_nodes, Keras 3
    activations (leaky_relu, gelu, selu, exponential, softsign), ELU's
    alpha, batch norm without center on a flat tensor."""
    rng = np.random.default_rng(14)
    m = Model("sequential", "keras3", rng, kind="Sequential")
    x = m.input("input_layer", (6,))
    xv = rng.uniform(-1, 1, (6,))
    x.value = xv
    a = m.dense(x, 8, "dense", act="leaky_relu")
    a = m.dense(a, 8, "dense_1", act="selu")
    a = m.act(a, "activation", "softsign")
    a = m.simple("ELU", a, "elu", np.where(a.value > 0, a.value, 0.5 * np.expm1(a.value)),
                 alpha=0.5)
    a = m.dense(a, 6, "dense_2", act="exponential")
    a = m.batchnorm(a, "batch_normalization", center=False)
    a = m.simple("Softmax", a, "softmax", activation(a.value, "softmax", True), axis=-1)
    m.outputs = [a]
    write(m, "keras3_sequential", "3.1.0", inputs=[xv])


def keras2_mobilenetv3():
    """Keras 2.15's MobileNetV3 style: hard_sigmoid as ReLU(6.)(x + 3.) *
    (1. / 6.), whose + and * are TFOpLambda layers (tf.__operators__.add,
    tf.math.multiply); hard_swish as Multiply; squeeze-and-excite with
    keepdims pooling; Rescaling in the model; EfficientNet's
    Normalization (adapted weights) and per-channel Rescaling; TF ops with
    a tensor operand and with a division."""
    rng = np.random.default_rng(15)
    m = Model("MobilenetV3small", "keras2", rng)
    x = m.input("input_1", (16, 16, 3))
    xv = rng.uniform(0, 255, (16, 16, 3))
    x.value = xv
    r = m.simple("Rescaling", x, "rescaling", xv / 127.5 - 1, scale=1 / 127.5, offset=-1.0)
    n = m.normalization(r, "normalization")
    stds = [0.229, 0.224, 0.225]
    sc = [1 / np.sqrt(v) for v in stds]
    r2 = m.simple("Rescaling", n, "rescaling_1", n.value * np.asarray(sc), scale=sc, offset=0.0)

    def hard_sigmoid(t, p):
        a = m.tfop("__operators__.add", t, 3.0, f"tf.__operators__.add{p}")
        b = m.relu(a, f"re_lu{p}", max_value=6.0)
        return m.tfop("math.multiply", b, 1.0 / 6.0, f"tf.math.multiply{p}")

    c = m.conv2d(r2, 8, (3, 3), "Conv", strides=(2, 2), padding="same", use_bias=False)
    c = m.batchnorm(c, "Conv/BatchNorm", eps=0.001)
    hs = m.merge("Multiply", [c, hard_sigmoid(c, "")], "multiply")
    se = m.gpool(hs, "GlobalAveragePooling2D", "expanded_conv/squeeze_excite/AvgPool",
                 keepdims=True)
    se = m.conv2d(se, 4, (1, 1), "expanded_conv/squeeze_excite/Conv", act="relu")
    se = m.conv2d(se, 8, (1, 1), "expanded_conv/squeeze_excite/Conv_1")
    se = hard_sigmoid(se, "_1")
    y = m.merge("Multiply", [hs, se], "expanded_conv/squeeze_excite/Mul")
    d = m.depthwise(y, (3, 3), "expanded_conv/depthwise", strides=(2, 2), padding="same")
    diff = m.tfop("math.subtract", d, y if False else d, "tf.math.subtract")
    half = m.tfop("math.truediv", d, 4.0, "tf.math.truediv")
    both = m.tfop("__operators__.add", half, diff, "tf.__operators__.add_2")
    p = m.conv2d(both, 8, (1, 1), "expanded_conv/project", use_bias=False)
    p = m.batchnorm(p, "expanded_conv/project/BatchNorm")
    g = m.gpool(p, "GlobalAveragePooling2D", "global_average_pooling2d")
    o = m.dense(g, 5, "Predictions", act="softmax")
    m.outputs = [o]
    write(m, "keras2_mobilenetv3", "2.15.0", inputs=[xv])


def keras3_ops():
    """Keras 3: keras.ops called on tensors in a functional model (x + 3,
    x * c, 2 - x, x / 4, a product of two tensors): ops, not layers, in the
    config (module keras.src.ops.numpy)."""
    rng = np.random.default_rng(16)
    m = Model("functional", "keras3", rng)
    x = m.input("input_layer", (5, 5, 2))
    xv = rng.uniform(-2, 2, (5, 5, 2))
    x.value = xv
    c = m.conv2d(x, 4, (3, 3), "conv2d", padding="same")
    a = m.op3("Add", [c, 3.0], "add")
    r = m.relu(a, "re_lu", max_value=6.0)
    h = m.op3("Multiply", [r, 1 / 6], "multiply")
    h = m.act(h, "activation", "hard_swish")
    s = m.op3("Subtract", [2.0, h], "subtract")
    q = m.op3("Divide", [s, 4.0], "divide")
    p = m.op3("Multiply", [q, c], "multiply_1")
    f = m.simple("Flatten", p, "flatten", p.value.reshape(-1))
    o = m.dense(f, 3, "dense")
    m.outputs = [o]
    write(m, "keras3_ops", "3.5.0", inputs=[xv])


def main():
    keras2_mobilenetv3()
    keras3_ops()
    keras2_functional()
    keras2_sequential_list()
    keras3_functional()
    keras3_sequential()


if __name__ == "__main__":
    sys.exit(main())
