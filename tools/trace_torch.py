#!/usr/bin/python3
"""trace_torch.py: a PyTorch model's layer outputs, as rnc traces them.

    /usr/bin/python3 tools/trace_torch.py MODEL INPUT.npy DIR \
        [--state-dict W.pt] [--no-fold-bn] [--double] [--input-name NAME]

writes the output of every leaf module (a module without children: Conv2d,
BatchNorm2d, ReLU, Linear, ...) as DIR/NAME.npy, and DIR/trace.json listing
them in the order they ran, the layout of `rnc --run M.rn --trace DIR`.
Then `rnc --compare DIR RNC_TRACE_DIR` compares the two layer by layer.

MODEL is "package.module:function" (e.g. "torchvision.models:resnet18"),
called without arguments, or a file saved with torch.save(module).
--state-dict loads weights into it. INPUT.npy is what `rnc --run --input`
takes: float32 [H, W, C] or [1, H, W, C] (NHWC); the module gets it as
NCHW. Outputs of rank 4 are written NHWC ([1, H, W, C]), as rnc's; the
axes that a Permute module moved (ConvNeXt's blocks compute in NHWC
between two) are followed, so those outputs are made NHWC too.

Names are those `rnc --import` gives the layers of an ONNX file exported
from the module (torch.onnx.export): the module's path ("layer1.0.conv1"),
'/' made "__" in file names; a module called more than once gets "_1",
"_2", ... on its later calls, as the exporter numbers its scopes
("layer1.0.relu", then "layer1.0.relu_1").

Batch norm: torch.onnx.export's default export (eval mode) folds a
BatchNorm2d into the Conv2d before it, so the imported model has only the
conv, computing what the batch norm outputs. By default this tool does the
same: a Conv2d whose output goes straight into a BatchNorm2d is recorded
under the conv's name with the batch norm's output, and the batch norm has
no file of its own. --no-fold-bn keeps them apart (a model exported with
training=torch.onnx.TrainingMode.PRESERVE, or written by hand). The tool
sees module calls only: a conv whose output also feeds something besides
the batch norm (which the exporter does not fold) is still folded here.

Functional operations (x + y, torch.flatten, F.relu) are not modules and
are not traced; they show in `rnc --compare` as layers on one side only.
Note that torch's flatten of an NCHW tensor orders values channel first,
where rnc's (NHWC) does not: compare layers before a flatten, or after the
dense layer that follows it.

As a library: trace(module, x_nchw, folder, fold_bn=True).
"""
import importlib
import json
import os
import sys

import numpy as np
import torch

torch.set_grad_enabled(False)


def file_name(name):
    return name.replace("/", "__") + ".npy"


NCHW = (0, 1, 2, 3)


def to_nhwc(t, axes=NCHW):
    """t as NHWC; axes[i] is the NCHW axis (0 N, 1 C, 2 H, 3 W) that axis i
    of t holds (a Permute module moves them)."""
    a = t.detach().cpu().numpy()
    if a.ndim == 4:
        a = a.transpose([axes.index(k) for k in (0, 2, 3, 1)])
    return np.ascontiguousarray(a.astype(np.float32))


def permutation(m):
    """The dims of a Permute module (torchvision.ops.misc.Permute, as
    ConvNeXt's blocks use between NCHW and NHWC), or None."""
    dims = getattr(m, "dims", None)
    if type(m).__name__ == "Permute" and isinstance(dims, (list, tuple)) \
            and sorted(dims) == [0, 1, 2, 3]:
        return list(dims)
    return None


def trace(module, x, folder, fold_bn=True, extra=()):
    """Runs module on x (NCHW) and writes its leaf modules' outputs to
    folder. extra: (name, type, nhwc array) rows written first (the
    input). Returns the index rows."""
    module.eval()
    paths = {m: p for p, m in module.named_modules()}
    calls = {}
    records = []  # [name, type, tensor]
    made_by = {}  # id(output tensor) -> index in records (a conv's)
    keep = []     # the outputs, so that their ids stay unique
    axes = {}     # id(output tensor) -> its axes in NCHW terms, when moved

    def hook(m, inputs, out):
        if not torch.is_tensor(out):
            return
        path = paths[m] or type(m).__name__
        k = calls.get(m, 0)
        calls[m] = k + 1
        name = path if k == 0 else f"{path}_{k}"
        src = inputs[0] if inputs and torch.is_tensor(inputs[0]) else None
        # the layout: a Permute moves its input's axes; other modules keep
        # them (LayerNorm and Linear act on the last axis, wherever it is)
        src_axes = axes.get(id(src), NCHW) if src is not None else NCHW
        perm = permutation(m)
        out_axes = tuple(src_axes[d] for d in perm) if perm else src_axes
        if out_axes != NCHW and out.dim() == 4:
            axes[id(out)] = out_axes
            keep.append(out)
        if (fold_bn and isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                and src is not None and id(src) in made_by):
            # the conv's row takes the batch norm's value (ONNX's folding)
            records[made_by.pop(id(src))][2] = out.detach().clone()
            return
        keep.append(out)
        if isinstance(m, torch.nn.Conv2d):
            made_by[id(out)] = len(records)
        # a copy now: an in-place module after this one (ReLU(inplace=True))
        # would change the tensor
        records.append([name, type(m).__name__, out.detach().clone(),
                        out_axes if out.dim() == 4 else NCHW])

    handles = [m.register_forward_hook(hook) for m in module.modules()
               if not list(m.children())]
    try:
        module(x)
    finally:
        for h in handles:
            h.remove()
    os.makedirs(folder, exist_ok=True)
    rows = []
    for name, kind, arr in list(extra) + [(n, k, to_nhwc(t, a))
                                          for n, k, t, a in records]:
        np.save(os.path.join(folder, file_name(name)), arr)
        rows.append({"name": name, "type": kind, "shape": list(arr.shape),
                     "file": file_name(name)})
    with open(os.path.join(folder, "trace.json"), "w") as f:
        json.dump({"model": type(module).__name__, "layers": rows}, f, indent=0)
        f.write("\n")
    return rows


def load_module(spec):
    if os.path.isfile(spec):  # its class must be importable (see below)
        sys.path.insert(0, os.getcwd())
        return torch.load(spec, map_location="cpu")
    if ":" not in spec:
        raise SystemExit(f"trace_torch.py: {spec}: not a file, nor package.module:function")
    mod, fn = spec.split(":", 1)
    sys.path.insert(0, os.getcwd())  # a model defined beside the caller
    return getattr(importlib.import_module(mod), fn)()


def main(argv):
    opts = {"--state-dict": None, "--input-name": None}
    flags = {"--no-fold-bn": False, "--double": False}
    args = []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in opts and i + 1 < len(argv):
            opts[a] = argv[i + 1]
            i += 2
            continue
        if a in flags:
            flags[a] = True
        elif a.startswith("--"):
            print(__doc__.strip(), file=sys.stderr)
            return 2
        else:
            args.append(a)
        i += 1
    if len(args) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    model = load_module(args[0])
    if opts["--state-dict"]:
        model.load_state_dict(torch.load(opts["--state-dict"], map_location="cpu"))
    x = np.load(args[1])
    if x.dtype != np.float32 or x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[0] != 1):
        print(f"trace_torch.py: {args[1]}: want float32 [H, W, C] or [1, H, W, C]",
              file=sys.stderr)
        return 1
    x = x.reshape((1,) + x.shape[-3:])
    extra = []
    if opts["--input-name"]:
        extra.append((opts["--input-name"], "InputLayer", x))
    t = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    if flags["--double"]:
        model = model.double()
        t = t.double()
    rows = trace(model, t, args[2], fold_bn=not flags["--no-fold-bn"], extra=extra)
    print(f"trace_torch.py: {len(rows)} layers written to {args[2]}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
