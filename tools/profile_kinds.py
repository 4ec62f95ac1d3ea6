#!/usr/bin/python3
"""profile_kinds.py: where a network's time goes, by kind of layer, in rnc
and in ONNX Runtime side by side (issue 12's measurements).

    /usr/bin/python3 tools/profile_kinds.py GRAPH.json RNC_PROFILE.txt \
        [ORT_PROFILE.json] [--top N] [--peak GFLOPS]

GRAPH.json is `rnc --graph-json NET.rn`; RNC_PROFILE.txt what a --main
program (or rnc --run) prints with --profile; ORT_PROFILE.json what
`node tools/compare/ort_bench.js DIR --profile PREFIX` writes (ONNX
Runtime's own profiler: every node's time in every run).

Prints, for each kind (depthwise 3x3 s1, 1x1 conv, squeeze-excite parts,
elementwise passes, concat, ...): rnc's ms and share, its GFLOP/s and %
of the peak, ONNX Runtime's ms, and the ratio ORT/rnc (> 1: rnc is
faster); then rnc's N slowest layers with their kind.

Kinds come from the layers' shapes, so both sides are classified alike:
rnc's rows from the graph (a row's time includes what is fused into it
and any activation pass its code runs), ORT's nodes from their op and
tensor shapes (ORT fuses too: a Conv with its activation, x * sigmoid(x)
as QuickGelu; its NCHWc reorders are a kind of their own). ORT's figure
for a node is its median over the profiled runs.
"""
import json
import re
import statistics
import sys
from collections import defaultdict


def conv_kind(k, s, cin, groups, cout, out_hw, cin_total):
    """The kind of a convolution from its kernel, stride, groups, shapes."""
    kk = f"{k[0]}x{k[1]}"
    st = f" s{s[0]}" if s[0] > 1 else ""
    if groups > 1 and groups == cin_total and cout % cin_total == 0:
        return f"depthwise {kk}{st}"
    if groups > 1:
        return f"grouped conv {kk}{st} ({cin_total // groups} ch/group)"
    if out_hw == [1, 1] and k == [1, 1]:
        return "SE/FC 1x1 conv on 1x1"
    if cin_total <= 8:
        return f"stem conv {kk}{st}"
    if k == [1, 1]:
        return f"conv 1x1{st}"
    return f"conv {kk}{st}"


def rnc_kinds(graph):
    """name -> (kind, MACs) for every node of an rnc graph."""
    nodes = {n["id"]: n for n in graph["nodes"]}
    out = {}
    for n in graph["nodes"]:
        op, a, shp = n["op"], n["attrs"], n["shape"]
        ins = [nodes[i] for i in n["inputs"]]
        macs = 0
        kind = op
        if op in ("conv2d", "depthwise_conv2d"):
            cin = ins[0]["shape"][-1]
            k, s = a["kernel"], a["stride"]
            if op == "depthwise_conv2d":
                groups, cout = cin, cin * a.get("multiplier", 1)
            else:
                groups, cout = a.get("groups", 1), a["filters"]
            kind = conv_kind(k, s, cin, groups, cout, shp[:2], cin)
            macs = shp[0] * shp[1] * cout * k[0] * k[1] * (cin // groups)
            act = a.get("act", "none")
            if act not in ("none", "relu", "relu6"):
                kind += f" +{act}"
        elif op == "dense":
            kind = "dense"
            macs = ins[0]["shape"][-1] * a["units"]
        elif op in ("global_avgpool", "global_maxpool"):
            kind = "global pool"
        elif op in ("multiply", "add", "subtract"):
            same = all(i["shape"] == shp for i in ins)
            kind = f"{op}" + ("" if same else " (broadcast)")
        elif op in ("relu", "relu6", "silu", "sigmoid", "hard_swish",
                    "hard_sigmoid", "activation"):
            kind = "activation"
        elif op in ("maxpool", "avgpool"):
            kind = "pool"
        out[n["name"]] = (kind, macs)
    return out


ROW = re.compile(r"^ (\S+) \(([A-Za-z0-9_]+)\)\s+([0-9.]+)\s")


def read_rnc_profile(path):
    rows = []
    with open(path) as f:
        for line in f:
            m = ROW.match(line)
            if m and not line.startswith(" Total"):
                rows.append((m.group(1), float(m.group(3))))
    return rows


def ort_kind(ev):
    """The kind of an ORT node from its op and tensor shapes."""
    a = ev["args"]
    op = a.get("op_name", "?")
    ins = [list(t.values())[0] for t in a.get("input_type_shape", [])]
    outs = [list(t.values())[0] for t in a.get("output_type_shape", [])]
    if op in ("Conv", "FusedConv") and len(ins) >= 2 and len(ins[1]) == 4:
        x, w = ins[0], ins[1]
        y = outs[0] if outs else x
        cin, cout = x[1], w[0]
        k = [w[2], w[3]]
        s = [max(1, round(x[2] / y[2])), 1] if len(y) == 4 and y[2] else [1, 1]
        groups = cin // w[1] if w[1] else 1
        return conv_kind(k, s, cin, groups, cout, y[2:4], cin)
    if op in ("Gemm", "MatMul", "FusedGemm", "FusedMatMul"):
        return "dense"
    if op in ("GlobalAveragePool", "GlobalMaxPool", "ReduceMean"):
        return "global pool"
    if op in ("Mul", "Add", "Sub"):
        same = len(ins) == 2 and ins[0] == ins[1]
        name = {"Mul": "multiply", "Add": "add", "Sub": "subtract"}[op]
        return name + ("" if same else " (broadcast)")
    if op in ("Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish",
              "QuickGelu"):
        return "activation"
    if op in ("MaxPool", "AveragePool"):
        return "pool"
    if op in ("ReorderInput", "ReorderOutput"):
        return "NCHWc reorder"
    return {"Concat": "concat", "BatchNormalization": "batchnorm",
            "Flatten": "flatten"}.get(op, op)


def read_ort_profile(path):
    """kind -> ms: each node's median over the runs, summed per kind."""
    with open(path) as f:
        events = json.load(f)
    per = defaultdict(list)
    kinds = {}
    for ev in events:
        if ev.get("cat") != "Node" or not ev["name"].endswith("_kernel_time"):
            continue
        per[ev["name"]].append(ev["dur"] / 1000.0)
        kinds[ev["name"]] = ort_kind(ev)
    out = defaultdict(float)
    for name, ds in per.items():
        out[kinds[name]] += statistics.median(ds)
    return out


def base_kind(kind):
    """ORT fuses the activation into its kernels: compare kinds without
    rnc's '+act' mark."""
    return kind.split(" +")[0]


def main(argv):
    args, top, peak = [], 15, 102.0
    i = 1
    while i < len(argv):
        if argv[i] == "--top":
            top = int(argv[i + 1])
            i += 2
        elif argv[i] == "--peak":
            peak = float(argv[i + 1])
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(args[0]) as f:
        kinds = rnc_kinds(json.load(f))
    rows = read_rnc_profile(args[1])
    ort = read_ort_profile(args[2]) if len(args) == 3 else {}
    total = sum(ms for _, ms in rows)
    by = defaultdict(lambda: [0.0, 0, 0])  # ms, MACs, layers
    for name, ms in rows:
        kind, macs = kinds.get(name, ("?", 0))
        b = by[base_kind(kind)]
        b[0] += ms
        b[1] += macs
        b[2] += 1
    ort_total = sum(ort.values())
    print(f"{'kind':<40}{'layers':>7}{'rnc ms':>9}{'share':>7}"
          f"{'GFLOP/s':>9}{'%peak':>7}{'ORT ms':>9}{'ORT/rnc':>8}")
    for kind in sorted(set(by) | set(ort), key=lambda k: -by[k][0]):
        ms, macs, n = by[kind]
        g = 2 * macs / (ms * 1e6) if ms > 0 and macs else 0
        o = ort.get(kind)
        print(f"{kind:<40}{n:>7}{ms:>9.3f}{100 * ms / total:>6.1f}%"
              f"{g:>9.1f}{100 * g / peak:>6.0f}%" if g else
              f"{kind:<40}{n:>7}{ms:>9.3f}{100 * ms / total:>6.1f}%"
              f"{'-':>9}{'-':>7}", end="")
        print(f"{o:>9.3f}{o / ms:>8.2f}" if o and ms else
              f"{o:>9.3f}{'-':>8}" if o else f"{'-':>9}{'-':>8}")
    print(f"{'total':<40}{len(rows):>7}{total:>9.3f}{100:>6.1f}%"
          f"{'':>16}{ort_total:>9.3f}"
          f"{ort_total / total if ort_total else 0:>8.2f}")
    print(f"\nrnc's {top} slowest layers")
    for name, ms in sorted(rows, key=lambda r: -r[1])[:top]:
        kind, macs = kinds.get(name, ("?", 0))
        g = 2 * macs / (ms * 1e6) if ms > 0 and macs else 0
        gs = f"{g:7.1f} {100 * g / peak:4.0f}%" if g else f"{'-':>7} {'-':>5}"
        print(f"  {name:<44} {ms:7.3f} ms {gs}  {kind}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
