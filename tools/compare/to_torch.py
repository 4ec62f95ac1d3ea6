#!/usr/bin/python3
"""to_torch.py: an rnc graph as a float32 PyTorch module, exported for the
speed comparison (tools/bench_compare.sh).

    /usr/bin/python3 tools/compare/to_torch.py GRAPH.json WEIGHTS.safetensors \
        OUTDIR [--no-check]

GRAPH.json is what `rnc --graph-json MODEL.rn` prints, WEIGHTS what
`rnc --init-weights W --random --seed 1 MODEL.rn` writes. OUTDIR gets:

  model.onnx   ONNX, opset 13, for ONNX Runtime (tools/compare/ort_bench.js)
  model.pt     TorchScript, traced and frozen; tools/compare/torch_bench.py
               applies torch.jit.optimize_for_inference when it loads it
  input*.npy   the seeded check inputs, NHWC as rnc takes them
  ref*.npy     tools/reference.py's float64 outputs on them (as float32)
  meta.json    input and output names and shapes, layout

Layout: both exports take NCHW input ([1, C, H, W]; flat inputs [1, N]),
torch's native layout, so neither ONNX Runtime nor PyTorch pays for a
transpose that rnc does not need; outputs are [1, N] for flat tensors and
NCHW for images. The check (unless --no-check) runs the module on a seeded
input and requires it to equal tools/reference.py's output (run as a
separate process, as it is run everywhere else) within 1e-4 relative: each
value against its own magnitude, floored at 1% of the largest output value
so that values near zero are held to an absolute bound. ONNX Runtime's output is checked against the same
reference by tools/compare/ort_bench.js --check, from the shell script.

Batch normalization is folded into the convolution before it when that
convolution feeds nothing else and has no activation of its own; elsewhere
it is a BatchNorm2d in eval mode. Folding happens here, in float64, so that
ONNX Runtime and PyTorch both run the folded network whatever their own
graph optimizers do.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from reference import read_safetensors  # noqa: E402  (json+numpy reader)

torch.set_grad_enabled(False)
RTOL = 1e-4
SEED = 1


class ConvertError(Exception):
    pass


def activation(x, name):
    if name in ("none", "linear"):
        return x
    if name == "relu":
        return F.relu(x)
    if name == "relu6":
        return F.hardtanh(x, 0.0, 6.0)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "softmax":
        return torch.softmax(x, dim=1)  # the channel axis, NCHW or [1, N]
    raise ConvertError(f"unknown activation '{name}'")


def symmetric(pads):
    t, b, l, r = pads
    return t == b and l == r


class Conv(nn.Module):
    """conv2d or depthwise_conv2d, with TensorFlow's padding: the conv's own
    when symmetric, else an explicit F.pad first."""

    def __init__(self, a, weight, bias, groups):
        super().__init__()
        t, b, l, r = a["pads"]
        self.pre = None if symmetric(a["pads"]) else (l, r, t, b)
        pad = (t, l) if self.pre is None else (0, 0)
        cout, cin_g, kh, kw = weight.shape
        self.conv = nn.Conv2d(cin_g * groups, cout, (kh, kw),
                              stride=tuple(a["stride"]), padding=pad,
                              dilation=tuple(a["dilation"]), groups=groups,
                              bias=bias is not None)
        self.conv.weight.copy_(weight.float())
        if bias is not None:
            self.conv.bias.copy_(bias.float())
        self.act = a["act"]

    def forward(self, x):
        if self.pre is not None:
            x = F.pad(x, self.pre)
        return activation(self.conv(x), self.act)


class MaxPool(nn.Module):
    def __init__(self, a):
        super().__init__()
        kh, kw = a["kernel"]
        t, b, l, r = a["pads"]
        self.k, self.s = (kh, kw), tuple(a["stride"])
        # torch's own padding never wins a max; it allows at most k/2
        if symmetric(a["pads"]) and 2 * t <= kh and 2 * l <= kw:
            self.pre, self.pad = None, (t, l)
        else:
            self.pre, self.pad = (l, r, t, b), (0, 0)

    def forward(self, x):
        if self.pre is not None:
            x = F.pad(x, self.pre, value=-math.inf)
        return F.max_pool2d(x, self.k, self.s, self.pad)


class AvgPool(nn.Module):
    """TensorFlow's average divides by the real pixels under the window:
    count_include_pad=False when torch can pad itself, else zero padding and
    a constant per-position correction."""

    def __init__(self, a, in_hw):
        super().__init__()
        kh, kw = a["kernel"]
        t, b, l, r = a["pads"]
        self.k, self.s = (kh, kw), tuple(a["stride"])
        if symmetric(a["pads"]) and 2 * t <= kh and 2 * l <= kw:
            self.pre, self.pad = None, (t, l)
            self.register_buffer("scale", None)
        else:
            self.pre, self.pad = (l, r, t, b), (0, 0)
            ones = F.pad(torch.ones(1, 1, *in_hw, dtype=torch.float64),
                         self.pre)
            real = F.avg_pool2d(ones, self.k, self.s)
            self.register_buffer("scale", (1.0 / real).float())

    def forward(self, x):
        if self.pre is None:
            return F.avg_pool2d(x, self.k, self.s, self.pad,
                                count_include_pad=False)
        y = F.avg_pool2d(F.pad(x, self.pre), self.k, self.s)
        return y * self.scale


class Lambda(nn.Module):
    """An op without weights, by name; traced away."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *xs):
        return self.fn(*xs)


def flatten_nhwc(x):
    if x.dim() == 4:
        x = x.permute(0, 2, 3, 1)  # Keras's Flatten reads NHWC order
    return x.reshape(1, -1)


def add_all(*xs):
    y = xs[0]
    for t in xs[1:]:
        y = y + t
    return y


def bn_terms(w, p, eps):
    """BatchNorm as y = x * scale + shift, in float64."""
    scale = w[p + ".gamma"] / torch.sqrt(w[p + ".moving_variance"] + eps)
    shift = w[p + ".beta"] - w[p + ".moving_mean"] * scale
    return scale, shift


def conv_weight(node, w):
    """The torch weight [cout, cin/groups, kh, kw], bias, groups."""
    p, a = node["path"], node["attrs"]
    if node["op"] == "conv2d":
        k = w[p + ".kernel"].permute(3, 2, 0, 1)
        groups = a["groups"]
    else:
        k = w[p + ".depthwise_kernel"]  # [kh, kw, cin, mult]
        kh, kw, cin, mult = k.shape
        # output channel c*mult + m is input channel c under k[:, :, c, m]
        k = k.reshape(kh, kw, cin * mult).permute(2, 0, 1).unsqueeze(1)
        groups = cin
    bias = w[p + ".bias"] if a["bias"] else None
    return k.contiguous(), bias, groups


class Net(nn.Module):
    """The graph, node by node; forward is an interpreter that tracing
    flattens into a plain sequence of torch ops."""

    def __init__(self, graph, w):
        super().__init__()
        nodes = graph["nodes"]
        self.in_ids = list(graph["inputs"])
        self.out_ids = list(graph["outputs"])
        users = {}
        for n in nodes:
            for j in n["inputs"]:
                users[j] = users.get(j, 0) + 1
        for j in self.out_ids:
            users[j] = users.get(j, 0) + 1
        by_id = {n["id"]: n for n in nodes}
        folded = {}   # conv id -> (scale, shift) of the batchnorm after it
        alias = {}    # batchnorm id -> the conv id that now computes it
        for n in nodes:
            if n["op"] != "batchnorm":
                continue
            src = by_id[n["inputs"][0]]
            if (src["op"] in ("conv2d", "depthwise_conv2d")
                    and src["attrs"]["act"] == "none"
                    and users.get(src["id"], 0) == 1
                    and len(src["shape"]) == 3):
                folded[src["id"]] = bn_terms(w, n["path"],
                                             n["attrs"]["epsilon"])
                alias[n["id"]] = src["id"]
        self.alias = alias
        self.steps = []  # (id, module index or -1, input ids)
        self.mods = nn.ModuleList()
        for n in nodes:
            op, a = n["op"], n["attrs"]
            if op == "input" or n["id"] in alias:
                continue
            in_shape = by_id[n["inputs"][0]]["shape"] if n["inputs"] else []
            if op in ("conv2d", "depthwise_conv2d"):
                k, bias, groups = conv_weight(n, w)
                if n["id"] in folded:
                    scale, shift = folded[n["id"]]
                    k = k * scale.reshape(-1, 1, 1, 1)
                    bias = shift if bias is None else bias * scale + shift
                m = Conv(a, k, bias, groups)
            elif op == "dense":
                p = n["path"]
                kern = w[p + ".kernel"]  # [in, units]
                lin = nn.Linear(kern.shape[0], kern.shape[1],
                                bias=a["bias"])
                lin.weight.copy_(kern.t().float())
                if a["bias"]:
                    lin.bias.copy_(w[p + ".bias"].float())
                act = a["act"]
                m = nn.Sequential(lin, Lambda(lambda x, act=act:
                                              activation(x, act)))
            elif op == "batchnorm":
                p = n["path"]
                c = n["shape"][-1]
                if len(n["shape"]) == 3:
                    bn = nn.BatchNorm2d(c, eps=a["epsilon"])
                else:
                    bn = nn.BatchNorm1d(c, eps=a["epsilon"])
                bn.weight.copy_(w[p + ".gamma"].float())
                bn.bias.copy_(w[p + ".beta"].float())
                bn.running_mean.copy_(w[p + ".moving_mean"].float())
                bn.running_var.copy_(w[p + ".moving_variance"].float())
                m = bn.eval()
            elif op == "activation":
                act = a["act"]
                m = Lambda(lambda x, act=act: activation(x, act))
            elif op == "maxpool":
                m = MaxPool(a)
            elif op == "avgpool":
                m = AvgPool(a, in_shape[:2])
            elif op == "global_avgpool":
                m = Lambda(lambda x: x.mean(dim=(2, 3)))
            elif op == "global_maxpool":
                m = Lambda(lambda x: x.amax(dim=(2, 3)))
            elif op == "flatten":
                m = Lambda(flatten_nhwc)
            elif op == "rescale":
                sc, off = a["scale"], a["offset"]
                m = Lambda(lambda x, sc=sc, off=off:
                           x * sc + off if off else x * sc)
            elif op == "add":
                m = Lambda(add_all)
            elif op == "concat":
                m = Lambda(lambda *xs: torch.cat(xs, dim=1))
            elif op == "dropout":
                m = Lambda(lambda x: x)
            elif op == "zeropad":
                t, b, l, r = a["pads"]
                m = Lambda(lambda x, p=(l, r, t, b): F.pad(x, p))
            else:
                raise ConvertError(f"node {n['id']}: unknown op '{op}'")
            self.steps.append((n["id"], len(self.mods),
                               [self.resolve(j) for j in n["inputs"]]))
            self.mods.append(m)
        self.out_ids = [self.resolve(j) for j in self.out_ids]

    def resolve(self, nid):
        return self.alias.get(nid, nid)

    def forward(self, *inputs):
        val = dict(zip(self.in_ids, inputs))
        for nid, mi, ins in self.steps:
            val[nid] = self.mods[mi](*[val[j] for j in ins])
        outs = tuple(val[j] for j in self.out_ids)
        return outs[0] if len(outs) == 1 else outs


def to_nchw(arr):
    """An rnc input ([H, W, C] or [N]) as the exports take it."""
    t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    if t.dim() == 3:
        return t.permute(2, 0, 1).unsqueeze(0).contiguous()
    return t.reshape(1, -1)


def to_nhwc(t):
    """An export's output in rnc's (and reference.py's) layout."""
    if t.dim() == 4:
        t = t.permute(0, 2, 3, 1)
    return t.numpy()


def compare(got, want, what):
    """Equal within RTOL relative; returns the relative error."""
    got = np.asarray(got, dtype=np.float64).reshape(-1)
    want = np.asarray(want, dtype=np.float64).reshape(-1)
    if got.shape != want.shape:
        raise ConvertError(f"{what}: {got.size} values, reference "
                           f"{want.size}")
    if not np.all(np.isfinite(got)):
        raise ConvertError(f"{what}: non-finite output")
    # each value against its own size, floored at 1% of the largest so
    # that values near zero are held to an absolute bound
    floor = max(0.01 * float(np.max(np.abs(want))), 1e-30)
    err = float(np.max(np.abs(got - want) / np.maximum(np.abs(want), floor)))
    if err > RTOL:
        raise ConvertError(f"{what}: relative error {err:.3g} > {RTOL}")
    return err


def seeded_inputs(graph, by_id):
    """NHWC float32 inputs; images in [0, 255] when the net starts with
    rescale (it expects pixels), else standard normal."""
    rng = np.random.default_rng(SEED)
    arrs = []
    for nid in graph["inputs"]:
        shape = by_id[nid]["shape"]
        pixels = any(n["op"] == "rescale" and n["inputs"] == [nid]
                     for n in graph["nodes"])
        x = rng.uniform(0, 255, shape) if pixels else rng.standard_normal(
            shape)
        arrs.append(x.astype(np.float32))
    return arrs


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    check = "--no-check" not in argv
    if len(args) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    graph_path, weights_path, outdir = args
    os.makedirs(outdir, exist_ok=True)
    with open(graph_path) as f:
        graph = json.load(f)
    by_id = {n["id"]: n for n in graph["nodes"]}
    w = read_safetensors(weights_path)
    net = Net(graph, w).eval()

    xs = seeded_inputs(graph, by_id)
    in_paths, ref_paths = [], []
    for i, x in enumerate(xs):
        in_paths.append(os.path.join(outdir, f"input{i}.npy"))
        np.save(in_paths[-1], x)
    for i in range(len(graph["outputs"])):
        ref_paths.append(os.path.join(outdir, f"ref{i}.npy"))
    targs = tuple(to_nchw(x) for x in xs)

    if check:
        ref = os.path.join(os.path.dirname(HERE), "reference.py")
        r = subprocess.run(["/usr/bin/python3", ref, graph_path,
                            weights_path, *in_paths, *ref_paths])
        if r.returncode != 0:
            raise ConvertError("tools/reference.py failed")
        outs = net(*targs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        for i, (y, rp) in enumerate(zip(outs, ref_paths)):
            err = compare(to_nhwc(y), np.load(rp), f"torch output {i}")
            print(f"to_torch: {graph['model']}: torch output {i} matches "
                  f"reference.py (relative error {err:.2e})")

    in_names = [f"in{i}" for i in range(len(xs))]
    out_names = [f"out{i}" for i in range(len(graph["outputs"]))]
    onnx_path = os.path.join(outdir, "model.onnx")
    torch.onnx.export(net, targs, onnx_path, opset_version=13,
                      input_names=in_names, output_names=out_names,
                      do_constant_folding=True)
    # Saved frozen; optimize_for_inference runs at load (torch_bench.py),
    # since torch 1.13 cannot reload the MKLDNN constants it introduces.
    frozen = torch.jit.freeze(torch.jit.trace(net, targs))
    pt_path = os.path.join(outdir, "model.pt")
    torch.jit.save(frozen, pt_path)
    if check:
        # what torch_bench.py will time, loaded as it will load it
        opt = torch.jit.optimize_for_inference(torch.jit.load(pt_path))
        outs = opt(*targs)
        outs = outs if isinstance(outs, tuple) else (outs,)
        for i, (y, rp) in enumerate(zip(outs, ref_paths)):
            err = compare(to_nhwc(y), np.load(rp), f"TorchScript output {i}")
            print(f"to_torch: {graph['model']}: TorchScript output {i} "
                  f"matches reference.py (relative error {err:.2e})")
    meta = {
        "model": graph["model"], "layout": "NCHW",
        "inputs": [{"name": n, "nhwc": by_id[j]["shape"],
                    "shape": list(t.shape)}
                   for n, j, t in zip(in_names, graph["inputs"], targs)],
        "outputs": out_names,
    }
    with open(os.path.join(outdir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except ConvertError as e:
        print(f"to_torch.py: error: {e}", file=sys.stderr)
        sys.exit(1)
