#!/usr/bin/python3
"""check_import.py: every torchvision family through `rnc --import`
(make check-import; not part of make test, it takes a while).

For each family: build the model with random weights (weights=None, eval
mode; batch-norm statistics and biases drawn too, so that no output is
near zero by accident), export it with torch.onnx.export (opset 13 unless
--opset), run PyTorch on one seeded input, import the ONNX file with rnc,
compile the .rn ahead of time with `cc -O3 -march=native`, run it on the
same input (NHWC), and compare: pass when every element is within
1e-4 * max|ref| + 1e-5 and the argmax agrees. Prints a table:
family, pass/fail, max error, tolerance, argmax agree, and why a family
failed. Exit 1 when any failed.

--trace also compares layer by layer: `rnc --run --trace` of the imported
model against tools/trace_torch.py's trace of the PyTorch module (its
modules' outputs under the names the importer gives them), with
`rnc --compare`; a family passes only when every layer the two have in
common is within tolerance (layers on one side only are fine: PyTorch's
`x + y` is no module).

Usage: tools/check_import.py [--rnc PATH] [--opset N] [--keep DIR]
                             [--preserve] [--trace] [FAMILY...]
Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import trace_torch  # noqa: E402

# family -> (input size, constructor keywords)
FAMILIES = {
    "resnet18": (224, {}),
    "resnet50": (224, {}),
    "resnext50_32x4d": (224, {}),
    "wide_resnet50_2": (224, {}),
    "mobilenet_v2": (224, {}),
    "mobilenet_v3_small": (224, {}),
    "mobilenet_v3_large": (224, {}),
    "mnasnet1_0": (224, {}),
    "efficientnet_b0": (224, {}),
    "regnet_y_400mf": (224, {}),
    "densenet121": (224, {}),
    "squeezenet1_1": (224, {}),
    "googlenet": (224, {"aux_logits": False, "init_weights": False}),
    "inception_v3": (299, {"aux_logits": False, "init_weights": False}),
    "shufflenet_v2_x1_0": (224, {}),
    "vgg11_bn": (224, {}),
    "alexnet": (224, {}),
    "convnext_tiny": (224, {}),
}


def randomize(m, seed):
    g = torch.Generator().manual_seed(seed)

    def u(t, lo, hi):
        return torch.rand(t.shape, generator=g) * (hi - lo) + lo

    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                mod.running_mean.copy_(u(mod.running_mean, -0.25, 0.25))
                mod.running_var.copy_(u(mod.running_var, 0.5, 1.5))
                mod.weight.copy_(u(mod.weight, 0.5, 1.5))
                mod.bias.copy_(u(mod.bias, -0.25, 0.25))
        for name, p in m.named_parameters():
            if name.endswith("bias"):
                p.copy_(u(p, -0.1, 0.1))
            if "layer_scale" in name:
                p.copy_(u(p, 0.2, 1.0))


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        lines = (r.stderr or r.stdout).strip().splitlines()
        raise RuntimeError(f"{what} failed: " + " | ".join(lines[:3]))
    return r


def compare_layers(m, x, rnc, rn, weights, work, preserve):
    """rnc's trace against PyTorch's, layer by layer: (layers in common,
    layers out of tolerance, PyTorch's modules rnc has no layer for)."""
    ours = os.path.join(work, "rnc_trace")
    theirs = os.path.join(work, "torch_trace")
    run([rnc, "--run", rn, "--weights", weights, "--input",
         os.path.join(work, "in.npy"), "--trace", ours], "rnc --run --trace")
    trace_torch.trace(m, x, theirs, fold_bn=not preserve)
    r = subprocess.run([rnc, "--compare", theirs, ours], capture_output=True,
                       text=True)
    lines = r.stdout.strip().splitlines() or ["?"]
    last, words = lines[-1], lines[-1].split()
    missing = [ln.split(":", 1)[1].split(",") for ln in lines
               if ln.startswith(f"Only in {theirs}:")]
    missing = len(missing[0]) if missing else 0
    if r.returncode == 0 and words[0] == "All":
        return int(words[1]), 0, missing
    if r.returncode == 1 and len(words) > 3 and words[1] == "of":
        return int(words[2]), int(words[0]), missing
    raise RuntimeError(f"rnc --compare: {last}")


def check(family, rnc, opset, work, preserve, trace):
    size, kw = FAMILIES[family]
    torch.manual_seed(0)
    m = getattr(torchvision.models, family)(weights=None, **kw).eval()
    randomize(m, 1)
    x = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(2)) * 2 - 1
    onnx_path = os.path.join(work, "model.onnx")
    opts = {"training": torch.onnx.TrainingMode.PRESERVE} if preserve else {}
    torch.onnx.export(m, x, onnx_path, opset_version=opset, **opts)
    with torch.no_grad():
        ref = m(x).numpy()
    np.save(os.path.join(work, "in.npy"), x.permute(0, 2, 3, 1).numpy())
    rn = os.path.join(work, "net.rn")
    weights = os.path.join(work, "net.safetensors")
    run([rnc, "--import", onnx_path, "-o", rn, "--weights", weights], "import")
    c = os.path.join(work, "net.c")
    run([rnc, rn, "-o", c, "--main"], "rnc -o")
    cflags = run([rnc, "--cflags"], "rnc --cflags").stdout.split()
    libs = run([rnc, "--libs"], "rnc --libs").stdout.split()
    exe = os.path.join(work, "net")
    run(["cc", "-O3", "-march=native", c] + cflags + libs + ["-o", exe], "cc")
    out = os.path.join(work, "out.npy")
    run([exe, weights, os.path.join(work, "in.npy"), out], "run")
    got = np.load(out).reshape(ref.shape)
    err = float(np.abs(got - ref).max())
    tol = 1e-4 * float(np.abs(ref).max()) + 1e-5
    same = int(got.argmax()) == int(ref.argmax())
    layers = compare_layers(m, x, rnc, rn, weights, work, preserve) \
        if trace else None
    return err, tol, same, layers


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rnc", default=os.path.join(ROOT, "build", "rnc"))
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--keep", help="keep each family's files under DIR")
    ap.add_argument("--preserve", action="store_true",
                    help="export with TrainingMode.PRESERVE (batch norm kept)")
    ap.add_argument("--trace", action="store_true",
                    help="compare layer by layer too (rnc --compare)")
    ap.add_argument("families", nargs="*", default=list(FAMILIES))
    a = ap.parse_args()
    for f in a.families:
        if f not in FAMILIES:
            sys.exit(f"check_import: unknown family {f} (one of: "
                     f"{' '.join(FAMILIES)})")
    print(f"rnc --import of torchvision {torchvision.__version__} families, "
          f"torch {torch.__version__}, opset {a.opset}"
          f"{', batch norm preserved' if a.preserve else ''}")
    print(f"{'family':<22}{'result':<8}{'max error':>11}{'tolerance':>11}"
          f"  argmax  seconds{'  layers within tolerance' if a.trace else ''}")
    failed = 0
    for f in a.families:
        work = os.path.join(a.keep, f) if a.keep else tempfile.mkdtemp()
        os.makedirs(work, exist_ok=True)
        start = time.time()
        why = ""
        tail = ""
        try:
            err, tol, same, layers = check(f, a.rnc, a.opset, work,
                                           a.preserve, a.trace)
            ok = err <= tol and same and (not layers or layers[1] == 0)
            line = (f"{f:<22}{'pass' if ok else 'FAIL':<8}{err:>11.3g}"
                    f"{tol:>11.3g}  {'agree' if same else 'DIFFER':<6}")
            if layers:
                tail = (f"  {layers[0] - layers[1]} of {layers[0]}"
                        f"{f' ({layers[2]} modules not in rnc)' if layers[2] else ''}")
        except Exception as e:  # report and go on with the next family
            ok = False
            line = f"{f:<22}{'FAIL':<8}{'-':>11}{'-':>11}  {'-':<6}"
            why = str(e)
        failed += not ok
        print(f"{line}  {time.time() - start:7.1f}{tail}", flush=True)
        if why:
            print(f"    {why[:300]}", flush=True)
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{len(a.families) - failed} of {len(a.families)} families pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
