#!/usr/bin/python3
"""export_torchvision.py: a torchvision network exported for the speed
comparison (tools/bench_compare.sh), the way people bring models to rnc.

    /usr/bin/python3 tools/compare/export_torchvision.py FAMILY OUTDIR

FAMILY is a torchvision.models constructor (resnet50, mobilenet_v2, ...).
The model is built with weights=None under torch.manual_seed(0), its
batch-norm statistics and biases then drawn from seeded generators (as
tools/check_import.py does, so that no output is near zero by accident),
and put in eval mode. OUTDIR gets:

  model.onnx   torch.onnx.export at opset 13 with the default options
               (batch norm folded into the convs), batch 1, 224x224;
               ONNX Runtime loads it, rnc imports it (rnc --import)
  model.pt     TorchScript, traced and frozen; tools/compare/torch_bench.py
               applies torch.jit.optimize_for_inference when it loads it
  input0.npy   the seeded input, NHWC ([224, 224, 3]) as rnc takes it
  ref0.npy     PyTorch's output on it, computed in float64 (eager)
  meta.json    names and shapes as tools/compare/to_torch.py writes them,
               and "tolerance": "max" (see below)

The check: every output is compared with ref0.npy by the rule of
rnc --import's tests, |got - ref| <= 1e-4 * max|ref| + 1e-5 for every
value and the same argmax; here for PyTorch's float32 module and the
reloaded, optimized TorchScript; ort_bench.js and torch_bench.py --check
apply it when meta.json says "tolerance": "max".
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from check_import import randomize  # noqa: E402 (tools/check_import.py)

SIZE = 224
OPSET = 13


def check(got, ref, what):
    got = got.detach().double().numpy().reshape(-1)
    ref = ref.reshape(-1)
    err = float(np.abs(got - ref).max())
    tol = 1e-4 * float(np.abs(ref).max()) + 1e-5
    if not err <= tol or got.argmax() != ref.argmax():
        raise SystemExit(f"export_torchvision.py: error: {what}: max error "
                         f"{err:.3g} > {tol:.3g} or argmax differs")
    print(f"export_torchvision: {what} matches float64 PyTorch "
          f"(max error {err:.2e}, tolerance {tol:.2e}, same argmax)")


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    family, outdir = argv[1], argv[2]
    if not hasattr(torchvision.models, family):
        print(f"export_torchvision.py: error: no torchvision.models.{family}",
              file=sys.stderr)
        return 2
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    m = getattr(torchvision.models, family)(weights=None).eval()
    randomize(m, 1)
    g = torch.Generator().manual_seed(2)
    x = torch.rand(1, 3, SIZE, SIZE, generator=g) * 2 - 1
    np.save(os.path.join(outdir, "input0.npy"),
            x[0].permute(1, 2, 0).contiguous().numpy())
    with torch.no_grad():
        ref = m.double()(x.double()).numpy()
        m = m.float()
        np.save(os.path.join(outdir, "ref0.npy"), ref.astype(np.float32))
        check(m(x), ref, f"{family}: PyTorch float32")
        torch.onnx.export(m, x, os.path.join(outdir, "model.onnx"),
                          opset_version=OPSET, input_names=["in0"],
                          output_names=["out0"])
        frozen = torch.jit.freeze(torch.jit.trace(m, x))
        pt_path = os.path.join(outdir, "model.pt")
        torch.jit.save(frozen, pt_path)
        opt = torch.jit.optimize_for_inference(torch.jit.load(pt_path))
        check(opt(x), ref, f"{family}: TorchScript (optimized)")
    meta = {
        "model": family, "layout": "NCHW", "tolerance": "max",
        "inputs": [{"name": "in0", "nhwc": [SIZE, SIZE, 3],
                    "shape": [1, 3, SIZE, SIZE]}],
        "outputs": ["out0"],
    }
    with open(os.path.join(outdir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
