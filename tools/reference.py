#!/usr/bin/python3
"""reference.py: an independent float64 evaluator of an rnc graph.

    /usr/bin/python3 tools/reference.py GRAPH.json WEIGHTS.safetensors \
        IN.npy... OUT.npy...

GRAPH.json is what `rnc --graph-json MODEL.rn` prints; inputs and outputs
follow the model's order. Every op is computed with torch in float64 as
Keras/TensorFlow define it, from the op's attributes alone: nothing here
follows rnc's C code. Tensors stay NHWC with a batch of one ([1, H, W, C] or
[1, N]); convolutions and pools go through NCHW for torch.

What this checks on the way: TensorFlow's SAME padding is recomputed here
and must equal the paddings rnc resolved; every weight must be in the file
with the shape the JSON names; every node's output shape must equal the one
rnc inferred. Any disagreement stops with an error (exit 1).
"""
import json
import math
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_grad_enabled(False)
DT = torch.float64


class RefError(Exception):
    pass


def read_safetensors(path):
    """name -> float64 tensor. Parsed here with json + numpy, independently
    of rnc's own reader."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise RefError(f"{path}: too short for safetensors")
    (hlen,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + hlen].decode("utf-8"))
    data = blob[8 + hlen:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise RefError(f"{path}: {name}: dtype {t['dtype']}, want F32")
        lo, hi = t["data_offsets"]
        shape = tuple(t["shape"])
        if hi - lo != 4 * math.prod(shape):
            raise RefError(f"{path}: {name}: {hi - lo} bytes for {shape}")
        arr = np.frombuffer(data[lo:hi], dtype="<f4").reshape(shape)
        out[name] = torch.from_numpy(arr.astype(np.float64))
    return out


def same_pads(size, k, s, d):
    """TensorFlow's SAME: total max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0),
    the odd pixel after (bottom/right)."""
    total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def resolve_pads(node, x):
    """[t, b, l, r] for a windowed op on NHWC x, checked against rnc's."""
    a = node["attrs"]
    kh, kw = a["kernel"]
    sh, sw = a["stride"]
    dh, dw = a.get("dilation", [1, 1])
    mode = a["padding"]
    if mode == "valid":
        pads = [0, 0, 0, 0]
    elif mode == "same":
        pads = [*same_pads(x.shape[1], kh, sh, dh),
                *same_pads(x.shape[2], kw, sw, dw)]
    elif mode == "explicit":
        pads = list(a["pads"])  # as written in the source
    else:
        raise RefError(f"node {node['id']}: padding '{mode}'")
    if pads != list(a["pads"]):
        raise RefError(f"node {node['id']} ({node['path']}): {mode} pads "
                       f"should be {pads}, rnc resolved {a['pads']}")
    return pads


def nchw(x):
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def pad_nchw(x, pads, value=0.0):
    t, b, l, r = pads
    return F.pad(x, (l, r, t, b), mode="constant", value=value)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def softplus(x):
    # log(1 + e^x) without overflow
    return torch.clamp(x, min=0) + torch.log1p(torch.exp(-torch.abs(x)))


def hard_sigmoid(x, alpha=0.2, beta=0.5):
    return torch.clamp(alpha * x + beta, 0.0, 1.0)


# Keras's activation functions (keras/activations.py), by rnc's word; the
# defaults of the words: elu alpha 1, leaky_relu 0.2, hard_sigmoid 0.2/0.5.
ACTIVATIONS = {
    "none": lambda x: x,
    "relu": torch.relu,
    "relu6": lambda x: torch.clamp(x, 0.0, 6.0),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "silu": lambda x: x * torch.sigmoid(x),
    "gelu": lambda x: 0.5 * x * (1 + torch.erf(x / math.sqrt(2))),
    "gelu_tanh": lambda x: 0.5 * x * (1 + torch.tanh(
        math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "hard_sigmoid": hard_sigmoid,
    "hard_swish": lambda x: x * torch.clamp(x + 3, 0.0, 6.0) / 6,
    "elu": lambda x: torch.where(x > 0, x, torch.expm1(x)),
    "selu": lambda x: SELU_SCALE * torch.where(
        x > 0, x, SELU_ALPHA * torch.expm1(x)),
    "softplus": softplus,
    "softsign": lambda x: x / (1 + torch.abs(x)),
    "exponential": torch.exp,
    "mish": lambda x: x * torch.tanh(softplus(x)),
    "leaky_relu": lambda x: torch.where(x > 0, x, 0.2 * x),
}


def activation(x, name):
    if name not in ACTIVATIONS:
        raise RefError(f"unknown activation '{name}'")
    return ACTIVATIONS[name](x)


def relu_layer(a, x):
    """Keras's ReLU layer (keras/layers/activation/relu.py)."""
    t, slope, mx = a["threshold"], a["negative_slope"], a["max_value"]
    above = x if mx is None else torch.clamp(x, max=mx)
    return torch.where(x >= t, above, slope * (x - t))


def prelu(node, x, w):
    alpha = w[node["path"] + ".alpha"]  # the input's shape, shared axes 1
    for axis in node["attrs"]["shared_axes"]:
        if alpha.shape[axis - 1] != 1:
            raise RefError(f"node {node['id']}: alpha {list(alpha.shape)} is "
                           f"not shared on axis {axis}")
    return torch.where(x > 0, x, alpha * x)


def conv2d(node, x, w):
    a = node["attrs"]
    p = node["path"]
    # Keras [kh, kw, cin/groups, filters] -> torch [filters, cin/groups, kh, kw];
    # both split input and output channels into contiguous groups.
    k = w[p + ".kernel"].permute(3, 2, 0, 1)
    y = F.conv2d(pad_nchw(nchw(x), resolve_pads(node, x)), k,
                 stride=tuple(a["stride"]), dilation=tuple(a["dilation"]),
                 groups=a["groups"])
    y = nhwc(y)
    if a["bias"]:
        y = y + w[p + ".bias"]
    return activation(y, a["act"])


def depthwise_conv2d(node, x, w):
    a = node["attrs"]
    p = node["path"]
    k = w[p + ".depthwise_kernel"]  # [kh, kw, cin, mult]
    kh, kw, cin, mult = k.shape
    # output channel c*mult + m is input channel c under kernel[:, :, c, m]
    kt = k.reshape(kh, kw, cin * mult).permute(2, 0, 1).unsqueeze(1)
    y = F.conv2d(pad_nchw(nchw(x), resolve_pads(node, x)), kt,
                 stride=tuple(a["stride"]), dilation=tuple(a["dilation"]),
                 groups=cin)
    y = nhwc(y)
    if a["bias"]:
        y = y + w[p + ".bias"]
    return activation(y, a["act"])


def dense(node, x, w):
    a = node["attrs"]
    p = node["path"]
    y = x @ w[p + ".kernel"]  # [1, in] @ [in, units]
    if a["bias"]:
        y = y + w[p + ".bias"]
    return activation(y, a["act"])


def gamma_beta(node, w):
    """gamma and beta, or 1 and 0 where Keras's scale/center drop them."""
    a, p = node["attrs"], node["path"]
    gamma = w[p + ".gamma"] if a["scale"] else 1.0
    beta = w[p + ".beta"] if a["center"] else 0.0
    return gamma, beta


def batchnorm(node, x, w):
    p = node["path"]
    eps = node["attrs"]["epsilon"]
    mean, var = w[p + ".moving_mean"], w[p + ".moving_variance"]
    gamma, beta = gamma_beta(node, w)
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta


def layernorm(node, x, w):
    # Keras's LayerNormalization over the last axis: biased variance
    gamma, beta = gamma_beta(node, w)
    c = x.shape[-1]
    return F.layer_norm(x, (c,), eps=node["attrs"]["epsilon"]) * gamma + beta


def normalization(node, x, w):
    # Keras's Normalization: (x - mean) / max(sqrt(variance), 1e-7)
    a, p = node["attrs"], node["path"]
    if a["mean"] is None:
        mean, var = w[p + ".mean"], w[p + ".variance"]
    else:
        mean = torch.tensor(a["mean"], dtype=DT)
        var = torch.tensor(a["variance"], dtype=DT)
    return (x - mean) / torch.clamp(torch.sqrt(var), min=1e-7)


def pool_out(size, k, s, lo, hi, ceil):
    """PyTorch's pooling_output_shape (pad_lr form): with ceil_mode the size
    rounds up, less one if the last window starts past the input and its
    lo padding."""
    if not ceil:
        return (size + lo + hi - k) // s + 1
    out = -(-(size + lo + hi - k) // s) + 1
    if (out - 1) * s >= size + lo:
        out -= 1
    return out


def torch_pool_ok(pads, k):
    """PyTorch's own pools take symmetric padding of at most half a
    window; those go through F.max_pool2d / F.avg_pool2d unchanged."""
    t, b, l, r = pads
    return t == b and l == r and t <= k[0] // 2 and l <= k[1] // 2


def pool_windows(node, x, value):
    """x padded by the pads, and on the bottom/right as far as ceil_mode's
    last windows reach, with `value`; the output size."""
    a = node["attrs"]
    pads = resolve_pads(node, x)
    (kh, kw), (sh, sw) = a["kernel"], a["stride"]
    ceil = a.get("ceil_mode", False)
    oh = pool_out(x.shape[1], kh, sh, pads[0], pads[1], ceil)
    ow = pool_out(x.shape[2], kw, sw, pads[2], pads[3], ceil)
    eh = max((oh - 1) * sh + kh - (x.shape[1] + pads[0] + pads[1]), 0)
    ew = max((ow - 1) * sw + kw - (x.shape[2] + pads[2] + pads[3]), 0)
    t, b, l, r = pads
    return pad_nchw(nchw(x), (t, b + eh, l, r + ew), value), pads, (eh, ew)


def maxpool(node, x):
    a = node["attrs"]
    k, s = tuple(a["kernel"]), tuple(a["stride"])
    ceil = a.get("ceil_mode", False)
    xp, pads, _ = pool_windows(node, x, -math.inf)
    if torch_pool_ok(pads, k):
        return nhwc(F.max_pool2d(nchw(x), k, s, padding=(pads[0], pads[2]),
                                 ceil_mode=ceil))
    # padded positions are -inf so they never win
    return nhwc(F.max_pool2d(xp, k, s))


def avgpool(node, x):
    a = node["attrs"]
    k, s = tuple(a["kernel"]), tuple(a["stride"])
    ceil = a.get("ceil_mode", False)
    with_pad = a.get("count_include_pad", False)
    xp, pads, (eh, ew) = pool_windows(node, x, 0.0)
    if torch_pool_ok(pads, k):
        return nhwc(F.avg_pool2d(nchw(x), k, s, padding=(pads[0], pads[2]),
                                 ceil_mode=ceil, count_include_pad=with_pad))
    total = F.avg_pool2d(xp, k, s)
    # the divisor: TensorFlow's real pixels under the window, or PyTorch's
    # positions inside the padded input (never ceil_mode's overflow)
    t, b, l, r = pads
    ones = torch.ones_like(nchw(x)[:, :1])
    if with_pad:
        ones = pad_nchw(ones, pads, 1.0)
        t = b = l = r = 0
    real = F.avg_pool2d(pad_nchw(ones, (t, b + eh, l, r + ew)), k, s)
    return nhwc(total / real)


def upsample(a, x):
    sh, sw = a["size"]
    if a["interpolation"] == "nearest":
        return x.repeat_interleave(sh, dim=1).repeat_interleave(sw, dim=2)
    # TensorFlow 2's bilinear resize (half-pixel centers) is PyTorch's
    # align_corners=False; align_corners=True is PyTorch's
    size = (x.shape[1] * sh, x.shape[2] * sw)
    return nhwc(F.interpolate(nchw(x), size=size, mode="bilinear",
                              align_corners=a["align_corners"]))


MERGES = {
    "add": torch.add,
    "subtract": torch.sub,
    "multiply": torch.mul,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "average": torch.add,  # then divided by the count
}


def evaluate(graph, w, inputs):
    nodes = graph["nodes"]
    val = {}
    for i, nid in enumerate(graph["inputs"]):
        val[nid] = inputs[i]
    for node in nodes:
        op, nid = node["op"], node["id"]
        xs = [val[j] for j in node["inputs"]]
        x = xs[0] if xs else None
        a = node["attrs"]
        if op == "input":
            y = val[nid]
        elif op == "conv2d":
            y = conv2d(node, x, w)
        elif op == "depthwise_conv2d":
            y = depthwise_conv2d(node, x, w)
        elif op == "dense":
            y = dense(node, x, w)
        elif op == "batchnorm":
            y = batchnorm(node, x, w)
        elif op == "layernorm":
            y = layernorm(node, x, w)
        elif op == "normalization":
            y = normalization(node, x, w)
        elif op == "activation":
            if a["act"] == "hard_sigmoid":
                y = hard_sigmoid(x, a["alpha"], a["beta"])
            else:
                y = activation(x, a["act"])
        elif op == "relu":
            y = relu_layer(a, x)
        elif op == "elu":
            y = torch.where(x > 0, x, a["alpha"] * torch.expm1(x))
        elif op == "leaky_relu":
            y = torch.where(x > 0, x, a["alpha"] * x)
        elif op == "softmax":
            if a["axis"] != -1:
                raise RefError(f"node {nid}: softmax axis {a['axis']}")
            y = torch.softmax(x, dim=-1)
        elif op == "prelu":
            y = prelu(node, x, w)
        elif op == "maxpool":
            y = maxpool(node, x)
        elif op == "avgpool":
            y = avgpool(node, x)
        elif op == "global_avgpool":
            y = x.mean(dim=(1, 2), keepdim=a["keepdims"])
        elif op == "global_maxpool":
            y = x.amax(dim=(1, 2), keepdim=a["keepdims"])
        elif op == "flatten":
            y = x.reshape(1, -1)  # C order of NHWC, as Keras's Flatten
        elif op == "rescale":
            y = x * a["scale"] + a["offset"]
        elif op in MERGES:
            # Keras's merge layers, broadcasting as NumPy does (same rank)
            if any(t.dim() != x.dim() for t in xs):
                raise RefError(f"node {nid}: operands of different ranks")
            y = xs[0]
            for t in xs[1:]:
                y = MERGES[op](y, t)
            if op == "average":
                y = y / len(xs)
        elif op == "concat":
            y = torch.cat(xs, dim=-1)
        elif op == "dropout":
            y = x  # identity at inference
        elif op == "reshape":
            # Keras's Reshape: the same elements in C (NHWC) order
            y = x.reshape([1] + a["target_shape"])
        elif op == "crop":
            t, b, l, r = a["crop"]
            y = x[:, t:x.shape[1] - b, l:x.shape[2] - r, :]
        elif op == "upsample":
            y = upsample(a, x)
        elif op == "channel_shuffle":
            g, c = a["groups"], x.shape[-1]
            # ShuffleNet's: view as [groups, c / groups], transpose, flatten
            y = x.reshape(*x.shape[:-1], g, c // g).transpose(-1, -2)
            y = y.reshape(x.shape)
        elif op == "channel_slice":
            y = x[..., a["start"]:a["stop"]]
        elif op == "zeropad":
            t, b, l, r = a["pads"]
            y = nhwc(pad_nchw(nchw(x), (t, b, l, r)))
        else:
            raise RefError(f"node {nid}: unknown op '{op}'")
        if list(y.shape[1:]) != list(node["shape"]):
            raise RefError(f"node {nid} ({node['path']}): reference shape "
                           f"{list(y.shape[1:])}, rnc says {node['shape']}")
        val[nid] = y
    return [val[j] for j in graph["outputs"]]


def check_weights(graph, w):
    want = {}
    for node in graph["nodes"]:
        for t in node["weights"]:
            want[t["name"]] = t["shape"]
    for name, shape in want.items():
        if name not in w:
            raise RefError(f"weights: '{name}' missing")
        if list(w[name].shape) != list(shape):
            raise RefError(f"weights: '{name}' is {list(w[name].shape)}, "
                           f"graph says {shape}")
    extra = sorted(set(w) - set(want))
    if extra:
        raise RefError(f"weights: unexpected tensor '{extra[0]}'")


def load_input(path, node):
    arr = np.load(path)
    if arr.dtype != np.float32:
        raise RefError(f"{path}: dtype {arr.dtype}, want float32")
    shape = list(node["shape"])
    if list(arr.shape) not in (shape, [1] + shape):
        raise RefError(f"{path}: shape {list(arr.shape)}, input "
                       f"'{node['name']}' is {shape}")
    return torch.from_numpy(arr.astype(np.float64)).reshape([1] + shape)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        graph = json.load(f)
    files = argv[3:]
    nin, nout = len(graph["inputs"]), len(graph["outputs"])
    if len(files) != nin + nout:
        print(f"reference.py: the model has {nin} input(s) and {nout} "
              f"output(s); {len(files)} files given", file=sys.stderr)
        return 2
    try:
        w = read_safetensors(argv[2])
        check_weights(graph, w)
        by_id = {n["id"]: n for n in graph["nodes"]}
        inputs = [load_input(files[i], by_id[nid])
                  for i, nid in enumerate(graph["inputs"])]
        outs = evaluate(graph, w, inputs)
    except RefError as e:
        print(f"reference.py: error: {e}", file=sys.stderr)
        return 1
    for path, y in zip(files[nin:], outs):
        np.save(path, y.numpy().astype(np.float32))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
