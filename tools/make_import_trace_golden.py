#!/usr/bin/python3
"""make_import_trace_golden.py: the files of tests/import/trace/ (run with
Debian's /usr/bin/python3: torch 1.13).

A small torchvision-style network, exported with torch.onnx.export's
defaults (eval mode: each batch norm folded into its conv; opset 13), and
PyTorch's own layer-by-layer trace of it by tools/trace_torch.py, so that
tests/e2e/import_onnx.sh can check, without PyTorch, that
`rnc --import` keeps every module of the source as its own layer under
the module's name: `rnc --run --trace` then `rnc --compare torch rnc`
must match every traced module within tolerance.

The modules cover what a layer boundary can hide: ReLU after a conv and
batch norm, a ReLU module called twice (relu, relu_1), ReLU6 (Clip),
Hardswish and SiLU (exported as patterns at opset 13), a squeeze-excite
with a Sigmoid module, a GELU (the erf pattern) after a Linear, pooling.

Writes: model.onnx, x.npy (NHWC input), torch/ (trace.json and one .npy
per module, NHWC).
Usage: tools/make_import_trace_golden.py [DIR] (default tests/import/trace)
"""
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trace_torch  # noqa: E402
from check_import import randomize  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Block(nn.Module):
    """torchvision's BasicBlock: one ReLU module called twice."""

    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + x)


class SqueezeExcite(nn.Module):
    def __init__(self, c, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.act = nn.SiLU()
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.scale = nn.Sigmoid()

    def forward(self, x):
        s = self.scale(self.fc2(self.act(self.fc1(self.avgpool(x)))))
        return s * x


class TraceNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(8), nn.ReLU6(inplace=True))
        self.layer1 = Block(8)
        self.dw = nn.Sequential(
            nn.Conv2d(8, 16, 3, padding=1, groups=8, bias=False),
            nn.BatchNorm2d(16), nn.Hardswish())
        self.se = SqueezeExcite(16, 4)
        self.pool = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(16, 12)
        self.gelu = nn.GELU()
        self.fc2 = nn.Linear(12, 5)

    def forward(self, x):
        x = self.se(self.dw(self.layer1(self.stem(x))))
        x = torch.flatten(self.gap(self.pool(x)), 1)
        return self.fc2(self.gelu(self.fc1(x)))


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(ROOT, "tests", "import",
                                                     "trace")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(3)
    m = TraceNet().eval()
    randomize(m, 4)
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(5))
    x = x * 2 - 1
    torch.onnx.export(m, x, os.path.join(out, "model.onnx"), opset_version=13)
    np.save(os.path.join(out, "x.npy"),
            np.ascontiguousarray(x.permute(0, 2, 3, 1).numpy()))
    shutil.rmtree(os.path.join(out, "torch"), ignore_errors=True)
    rows = trace_torch.trace(m, x, os.path.join(out, "torch"))
    print(f"make_import_trace_golden.py: model.onnx, x.npy and {len(rows)} "
          f"traced modules in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
