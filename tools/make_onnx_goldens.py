#!/usr/bin/python3
"""make_onnx_goldens.py: the ONNX files of tests/import/onnx/ and PyTorch's
outputs for them (run with Debian's /usr/bin/python3: torch 1.13, onnx).

Small torchvision-style modules that cover every ONNX op and pattern that
`rnc --import` maps, each exported by torch.onnx.export at a few opsets:
  NAME_opN.onnx     the model
  NAME_opN.in.npy   a seeded input, NHWC as rnc reads it ([1, H, W, C])
  NAME_opN.out.npy  PyTorch's output for it (an image output as NHWC)
Weights are random but seeded, batch-norm statistics and biases drawn so
that no layer is an identity by accident. Then h_*.onnx, built with
onnx.helper for what PyTorch does not write, with PyTorch's functional
ops as the reference; then the damaged and
unsupported files of tests/import/onnx/bad/ (built with onnx.helper),
whose expected messages tests/e2e/import_onnx.sh keeps beside them.

And a few small valid models (tests/fuzz/onnx/) that seed the fuzzer.

Usage: tools/make_onnx_goldens.py [NAME... handmade bad seeds]
(default: all)
"""
import io
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "import", "onnx")
OPSETS = (11, 13, 17)


def randomize(m, seed):
    """Draws what a fresh module leaves constant: batch-norm statistics,
    biases, layer scales."""
    g = torch.Generator().manual_seed(seed)

    def u(t, lo, hi):
        return torch.rand(t.shape, generator=g) * (hi - lo) + lo

    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                mod.running_mean.copy_(u(mod.running_mean, -0.25, 0.25))
                mod.running_var.copy_(u(mod.running_var, 0.5, 1.5))
                mod.weight.copy_(u(mod.weight, 0.5, 1.5))
                mod.bias.copy_(u(mod.bias, -0.25, 0.25))
            if isinstance(mod, nn.LayerNorm):
                mod.weight.copy_(u(mod.weight, 0.5, 1.5))
                mod.bias.copy_(u(mod.bias, -0.25, 0.25))
        for name, p in m.named_parameters():
            if name.endswith("bias") and "norm" not in name and "bn" not in name:
                p.copy_(u(p, -0.1, 0.1))
            if "layer_scale" in name:
                p.copy_(u(p, 0.2, 1.0))
    return m


# ------------------------------------------------------------- modules

class Convs(nn.Module):
    """Conv variants (bias, none, stride, dilation, rectangular, groups,
    depthwise with a multiplier, an even kernel after a Pad), batch norm
    fused by the exporter, the activations, a residual add, zero padding,
    and pooling with ceil_mode and count_include_pad."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, (3, 1), padding=(1, 0), dilation=1)
        self.act2 = nn.ReLU6()
        self.conv3 = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=2)
        self.act3 = nn.LeakyReLU(0.1)
        self.dw = nn.Conv2d(8, 16, 3, padding=1, groups=8, bias=False)
        self.bn2 = nn.BatchNorm2d(16, eps=1e-3)
        self.act4 = nn.ELU()
        self.conv4 = nn.Conv2d(16, 8, 4)
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.pool2 = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                  count_include_pad=True)
        self.pool3 = nn.AvgPool2d(3, stride=1, padding=1,
                                  count_include_pad=False)
        self.head = nn.Conv2d(16, 6, 1)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        y = self.act2(self.conv2(x))
        y = self.act3(self.conv3(y))
        x = x + y
        z = self.act4(self.bn2(self.dw(x)))
        z = torch.sigmoid(self.conv4(F.pad(z, (1, 2, 1, 2)))) * torch.tanh(x)
        z = F.pad(z, (1, 0, 2, 1))
        a = self.pool1(z)
        b = self.pool3(self.pool2(z))
        return self.head(torch.cat([a, b], 1))


class Preserved(nn.Module):
    """Batch norm the exporter keeps (TrainingMode.PRESERVE): after a conv,
    before one (DenseNet's order), and on a flat vector; a flatten of
    C, H, W > 1 into a Linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.norm = nn.BatchNorm2d(8, eps=1e-3)
        self.conv2 = nn.Conv2d(8, 4, 1, bias=False)
        self.fc = nn.Linear(4 * 6 * 6, 10)
        self.bn1d = nn.BatchNorm1d(10)
        self.fc2 = nn.Linear(10, 5)

    def forward(self, x):
        x = F.relu(self.bn(self.conv(x)))
        x = self.conv2(F.relu(self.norm(x)))
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.bn1d(self.fc(x))))


class SqueezeExcite(nn.Module):
    def __init__(self, c, squeeze, act, scale):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(c, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, c, 1)
        self.act = act
        self.scale = scale

    def forward(self, x):
        s = self.scale(self.fc2(self.act(self.fc1(self.avgpool(x)))))
        return s * x


class MobileBlocks(nn.Module):
    """MobileNetV3 / EfficientNet pieces: hardswish, silu, squeeze-excite
    with hardsigmoid and sigmoid scales, x.mean([2, 3]) into a Linear,
    dropout, and a standalone hardsigmoid."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.hs = nn.Hardswish()
        self.dw = nn.Conv2d(16, 16, 5, padding=2, groups=16)
        self.se1 = SqueezeExcite(16, 8, nn.ReLU(), nn.Hardsigmoid())
        self.pw = nn.Conv2d(16, 24, 1)
        self.silu = nn.SiLU()
        self.se2 = SqueezeExcite(24, 6, nn.SiLU(), nn.Sigmoid())
        self.hsig = nn.Hardsigmoid()
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(24, 7)

    def forward(self, x):
        x = self.hs(self.bn(self.stem(x)))
        x = self.se1(self.hs(self.dw(x)))
        x = self.se2(self.silu(self.pw(x)))
        x = self.hsig(x) * 2.0 + 0.5
        return self.fc(self.drop(x.mean([2, 3])))


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    def __init__(self, dim, approximate):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, 7, padding=3, groups=dim),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim),
            nn.GELU(approximate=approximate),
            nn.Linear(4 * dim, dim),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * 1e-6)

    def forward(self, x):
        return self.layer_scale * self.block(x) + x


class Permute(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return torch.permute(x, self.dims)


class ConvNeXtish(nn.Module):
    """ConvNeXt's pieces: a patchify stem with LayerNorm2d, blocks with a
    depthwise 7x7, permute to NHWC, LayerNorm, Linear, GELU (erf and tanh
    forms), Linear, permute back, layer scale and residual; a downsample;
    global pooling, LayerNorm2d, flatten, Linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 2, stride=2),
                                  LayerNorm2d(8, eps=1e-6))
        self.stage1 = nn.Sequential(CNBlock(8, "none"), CNBlock(8, "tanh"))
        self.down = nn.Sequential(LayerNorm2d(8, eps=1e-6),
                                  nn.Conv2d(8, 16, 2, stride=2))
        self.stage2 = CNBlock(16, "none")
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(LayerNorm2d(16, eps=1e-6),
                                        nn.Flatten(1), nn.Linear(16, 5))

    def forward(self, x):
        x = self.stage2(self.down(self.stage1(self.stem(x))))
        return self.classifier(self.avgpool(x))


def channel_shuffle(x, groups):
    n, c, h, w = x.size()
    x = x.view(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(n, -1, h, w)


class ShuffleUnit(nn.Module):
    def __init__(self, c):
        super().__init__()
        b = c // 2
        self.branch2 = nn.Sequential(
            nn.Conv2d(b, b, 1, bias=False), nn.BatchNorm2d(b), nn.ReLU(),
            nn.Conv2d(b, b, 3, padding=1, groups=b, bias=False),
            nn.BatchNorm2d(b), nn.Conv2d(b, b, 1, bias=False),
            nn.BatchNorm2d(b), nn.ReLU())

    def forward(self, x):
        x1, x2 = x.chunk(2, dim=1)
        return channel_shuffle(torch.cat((x1, self.branch2(x2)), 1), 2)


class Shuffle(nn.Module):
    """ShuffleNetV2 units: chunk (Split or Slice), concat, channel shuffle
    (Reshape-Transpose-Reshape), and the mean over H, W."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1),
                                   nn.BatchNorm2d(16), nn.ReLU())
        self.stage = nn.Sequential(ShuffleUnit(16), ShuffleUnit(16))
        self.split3 = nn.Conv2d(16, 12, 1)
        self.fc = nn.Linear(12, 6)

    def forward(self, x):
        x = self.stage(self.conv1(x))
        a, b, c = torch.split(self.split3(x), [4, 4, 4], dim=1)
        x = torch.cat([c, F.relu(a), b], 1)
        return self.fc(x.mean([2, 3]))


class FlattenHead(nn.Module):
    """AlexNet/VGG heads: features of C, H, W > 1 flattened with
    x.view(x.size(0), -1) and torch.flatten into Linears, softmax."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1),
                                      nn.ReLU(inplace=True),
                                      nn.MaxPool2d(2))
        self.avgpool = nn.AdaptiveAvgPool2d((5, 4))
        self.fc1 = nn.Linear(6 * 5 * 4, 12)
        self.fc2 = nn.Linear(12, 4)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        x = x.view(x.size(0), -1)
        x = F.relu(self.fc1(x))
        return F.softmax(self.fc2(x), dim=1)


class UpDown(nn.Module):
    """A small U-Net: transposed convolutions (output_padding, dilation),
    nearest and bilinear resizing (half-pixel and align_corners), concat;
    PReLU (per channel and shared), softplus and constants on a tensor.
    Its output is an image (NHWC in the golden)."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.prelu = nn.PReLU(8)
        self.up1 = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1,
                                      output_padding=1)
        self.up2 = nn.ConvTranspose2d(8, 4, 2, stride=2, bias=False)
        self.prelu1 = nn.PReLU()
        self.out = nn.Conv2d(3 + 4 + 4 + 8 + 8, 5, 1)

    def forward(self, x):
        d = self.prelu(self.down(x))
        a = self.up1(d)
        b = self.prelu1(self.up2(d))
        c = F.interpolate(d, scale_factor=2, mode="nearest")
        e = F.interpolate(d, scale_factor=2, mode="bilinear",
                          align_corners=False)
        f = F.interpolate(d, scale_factor=2, mode="bilinear",
                          align_corners=True)
        y = torch.cat([x, a, b, c, e - f], 1)
        return F.softplus(self.out(y)) / 3 - 1


# name -> (module, input NCHW shape, export options)
MODELS = {
    "convs": (Convs, (1, 3, 24, 20), {}),
    "preserved": (Preserved, (1, 3, 12, 12),
                  {"training": torch.onnx.TrainingMode.PRESERVE}),
    "mobile": (MobileBlocks, (1, 3, 16, 16), {}),
    "convnext": (ConvNeXtish, (1, 3, 16, 16), {}),
    "shuffle": (Shuffle, (1, 3, 10, 10), {}),
    "flatten": (FlattenHead, (1, 3, 20, 16), {}),
    "updown": (UpDown, (1, 3, 12, 10), {}),
}


def export(name, opset):
    cls, shape, opts = MODELS[name]
    seed = sorted(MODELS).index(name) + 1
    torch.manual_seed(seed)
    m = randomize(cls().eval(), seed)
    x = torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    f = io.BytesIO()
    torch.onnx.export(m, x, f, opset_version=opset, **opts)
    with torch.no_grad():
        y = m(x)
    if y.dim() == 4:
        y = y.permute(0, 2, 3, 1)
    base = os.path.join(OUT, f"{name}_op{opset}")
    with open(base + ".onnx", "wb") as fh:
        fh.write(f.getvalue())
    np.save(base + ".in.npy", x.permute(0, 2, 3, 1).numpy().astype(np.float32))
    np.save(base + ".out.npy", y.numpy().astype(np.float32))
    print(f"{name}_op{opset}: {len(f.getvalue())} bytes, output "
          f"{list(y.shape)}, max|y| {float(y.abs().max()):.3g}")


# ----------------------------------------------------- bad files (bad/)

def tensor(name, dims, values=None):
    arr = np.asarray(values if values is not None else
                     np.linspace(-1, 1, int(np.prod(dims))), np.float32)
    return helper.make_tensor(name, TensorProto.FLOAT, dims, arr.ravel())


def model(nodes, inits, opset=13, inputs=None, outputs=("y",)):
    inputs = inputs or [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 3, 8, 8])]
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
            for o in outputs]
    g = helper.make_graph(nodes, "bad", inputs, outs, inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)],
                             producer_name="make_onnx_goldens")


def bad_files():
    bad = os.path.join(OUT, "bad")
    os.makedirs(bad, exist_ok=True)
    files = {}
    # several nodes rnc cannot import, reported in one run
    files["unsupported"] = model([
        helper.make_node("Conv", ["x", "w"], ["c"], name="/conv/Conv",
                         pads=[1, 1, 1, 1]),
        helper.make_node("Abs", ["c"], ["a"], name="/abs/Abs"),
        helper.make_node("Resize", ["c", "", "s"], ["r"], name="/up/Resize",
                         mode="cubic"),
        helper.make_node("LeakyRelu", ["c"], ["l"], name="/act/LeakyRelu",
                         alpha=0.1, beta=2.0),
        helper.make_node("Conv", ["c", "w2"], ["c2"], name="/conv2/Conv",
                         pads=[0, 0, 0, 0], group=3),
        helper.make_node("Add", ["a", "r"], ["y0"], name="/Add"),
        helper.make_node("Concat", ["l", "c2", "y0"], ["y"], name="/Concat",
                         axis=1),
    ], [tensor("w", [4, 3, 3, 3]), tensor("w2", [4, 4, 1, 1]),
        tensor("s", [4], [1, 1, 2, 2])])
    # a cycle: a reads b, b reads a
    files["cycle"] = model([
        helper.make_node("Add", ["x", "b"], ["a"], name="a"),
        helper.make_node("Relu", ["a"], ["b"], name="b"),
        helper.make_node("Relu", ["a"], ["y"], name="out"),
    ], [])
    # an input that nothing defines (a lost initializer)
    files["missing_init"] = model([
        helper.make_node("Conv", ["x", "weight", "bias"], ["y"],
                         name="/conv/Conv"),
    ], [tensor("weight", [4, 3, 1, 1])])
    # an initializer whose dims hold far more than its data
    t = tensor("w", [4, 3, 1, 1])
    t.dims[:] = [1 << 40, 1 << 40, 3, 1]
    files["absurd_dims"] = model([
        helper.make_node("Conv", ["x", "w"], ["y"], name="/conv/Conv")], [t])
    # raw data shorter than its dims say
    t = tensor("w", [4, 3, 1, 1])
    t.raw_data = np.zeros(5, np.float32).tobytes()
    del t.float_data[:]
    files["short_data"] = model([
        helper.make_node("Conv", ["x", "w"], ["y"], name="/conv/Conv")], [t])
    # weights in an external file
    t = tensor("w", [4, 3, 1, 1])
    del t.float_data[:]
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="w.bin")
    files["external"] = model([
        helper.make_node("Conv", ["x", "w"], ["y"], name="/conv/Conv")], [t])
    # a symbolic height
    files["symbolic"] = model(
        [helper.make_node("Relu", ["x"], ["y"], name="/relu/Relu")], [],
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                              ["N", 3, "H", 8])])
    # an opset rnc does not read
    files["opset9"] = model(
        [helper.make_node("Relu", ["x"], ["y"], name="/relu/Relu")], [],
        opset=9)
    for name, m in files.items():
        with open(os.path.join(bad, name + ".onnx"), "wb") as fh:
            fh.write(m.SerializeToString())
    # a file cut short and one that is no protobuf at all
    good = files["unsupported"].SerializeToString()
    with open(os.path.join(bad, "truncated.onnx"), "wb") as fh:
        fh.write(good[:len(good) // 2])
    with open(os.path.join(bad, "garbage.onnx"), "wb") as fh:
        fh.write(b"\x08\x07\x12\xff\xff\xff\xff\x0f not a protobuf\n")
    print(f"bad/: {len(files) + 2} files")


# ------------------------------------------ handmade models (onnx.helper)

def handmade():
    """Attributes and ops that PyTorch's exporter does not write but other
    producers do (count_include_pad with pads, auto_pad, Gemm's alpha,
    beta and transB=0, a vector input, Resize by sizes, LayerNormalization
    without a bias, ReduceMax, Selu/Neg/Exp/Softsign), each built with
    onnx.helper; the reference is PyTorch's functional op of the same
    meaning."""
    rng = np.random.default_rng(7)
    cases = []

    def t(a):
        return torch.from_numpy(np.asarray(a, np.float32))

    # AveragePool, pads 1, ceil_mode, count_include_pad: PyTorch's rules
    x = rng.uniform(-1, 1, (1, 3, 8, 7)).astype(np.float32)
    cases.append(("h_avgpool_pads", x, [
        helper.make_node("AveragePool", ["x"], ["y"], name="/pool/AveragePool",
                         kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=1)],
        [], 13, F.avg_pool2d(t(x), 3, 2, 1, ceil_mode=True,
                             count_include_pad=True)))
    # auto_pad SAME_UPPER on a strided conv, SAME_LOWER on a max pool
    x = rng.uniform(-1, 1, (1, 3, 9, 8)).astype(np.float32)
    w = rng.uniform(-0.5, 0.5, (4, 3, 3, 3)).astype(np.float32)
    c = F.conv2d(F.pad(t(x), (0, 1, 1, 1)), t(w), stride=2)  # 9 -> 5, 8 -> 4
    ref = F.max_pool2d(F.pad(c, (1, 0, 1, 0), value=-1e30), 2, 1)
    cases.append(("h_autopad", x, [
        helper.make_node("Conv", ["x", "w"], ["c"], name="/conv/Conv",
                         kernel_shape=[3, 3], strides=[2, 2],
                         auto_pad="SAME_UPPER"),
        helper.make_node("MaxPool", ["c"], ["y"], name="/pool/MaxPool",
                         kernel_shape=[2, 2], auto_pad="SAME_LOWER")],
        [tensor("w", w.shape, w)], 13, ref))
    # a vector input, Gemm with alpha, beta and an untransposed B, softmax
    x = rng.uniform(-1, 1, (1, 6)).astype(np.float32)
    b = rng.uniform(-1, 1, (6, 4)).astype(np.float32)
    cb = rng.uniform(-1, 1, (4,)).astype(np.float32)
    cases.append(("h_gemm", x, [
        helper.make_node("Gemm", ["x", "b", "c"], ["g"], name="/fc/Gemm",
                         alpha=0.5, beta=2.0),
        helper.make_node("Softmax", ["g"], ["y"], name="/Softmax", axis=1)],
        [tensor("b", b.shape, b), tensor("c", cb.shape, cb)], 11,
        F.softmax(0.5 * t(x) @ t(b) + 2 * t(cb), dim=1)))
    # activations PyTorch writes as other ops
    x = rng.uniform(-1, 1, (1, 4, 5, 5)).astype(np.float32)
    cases.append(("h_acts", x, [
        helper.make_node("Selu", ["x"], ["a"], name="/selu/Selu"),
        helper.make_node("Neg", ["a"], ["b"], name="/Neg"),
        helper.make_node("Exp", ["b"], ["c"], name="/Exp"),
        helper.make_node("Softsign", ["c"], ["y"], name="/Softsign")],
        [], 13, F.softsign(torch.exp(-F.selu(t(x))))))
    # LayerNormalization without a bias on NHWC, then ReduceMax over H, W
    x = rng.uniform(-1, 1, (1, 4, 5, 6)).astype(np.float32)
    g = rng.uniform(0.5, 1.5, (4,)).astype(np.float32)
    ln = F.layer_norm(t(x).permute(0, 2, 3, 1), (4,), t(g), None, 1e-5)
    cases.append(("h_layernorm", x, [
        helper.make_node("Transpose", ["x"], ["p"], perm=[0, 2, 3, 1]),
        helper.make_node("LayerNormalization", ["p", "g"], ["n"],
                         name="/norm/LayerNormalization", axis=-1),
        helper.make_node("ReduceMax", ["n"], ["y"], name="/ReduceMax",
                         axes=[1, 2], keepdims=0)],
        [tensor("g", g.shape, g)], 17, ln.amax(dim=(1, 2))))
    # Resize by sizes (nearest, asymmetric, floor), then Slice on H
    x = rng.uniform(-1, 1, (1, 3, 4, 5)).astype(np.float32)
    up = F.interpolate(t(x), scale_factor=2, mode="nearest")
    cases.append(("h_resize_crop", x, [
        helper.make_node("Resize", ["x", "", "", "sizes"], ["r"],
                         name="/up/Resize", mode="nearest",
                         coordinate_transformation_mode="asymmetric",
                         nearest_mode="floor"),
        helper.make_node("Slice", ["r", "st", "en", "ax"], ["y"],
                         name="/Slice")],
        [helper.make_tensor("sizes", TensorProto.INT64, [4], [1, 3, 8, 10]),
         helper.make_tensor("st", TensorProto.INT64, [1], [1]),
         helper.make_tensor("en", TensorProto.INT64, [1], [-2]),
         helper.make_tensor("ax", TensorProto.INT64, [1], [2])], 13,
        up[:, :, 1:-2, :]))
    for name, x, nodes, inits, opset, ref in cases:
        shape = list(x.shape)
        m = model(nodes, inits, opset=opset, inputs=[
            helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)])
        base = os.path.join(OUT, name)
        with open(base + ".onnx", "wb") as fh:
            fh.write(m.SerializeToString())
        xin = x.transpose(0, 2, 3, 1) if x.ndim == 4 else x
        ref = ref.numpy()
        if ref.ndim == 4:
            ref = ref.transpose(0, 2, 3, 1)
        np.save(base + ".in.npy", np.ascontiguousarray(xin, np.float32))
        np.save(base + ".out.npy", np.ascontiguousarray(ref, np.float32))
        print(f"{name}: output {list(ref.shape)}")


def fuzz_seeds():
    """Small valid models (a few hundred bytes each) that reach every
    stage, as seeds for tests/fuzz/fuzz_onnx.c."""
    seeds = os.path.join(ROOT, "tests", "fuzz", "onnx")
    os.makedirs(seeds, exist_ok=True)
    x4 = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 4, 4])]
    i64 = lambda name, v: helper.make_tensor(name, TensorProto.INT64,
                                             [len(v)], v)
    files = {}
    # conv, batch norm, activations, pooling, flatten, gemm, softmax
    files["cnn"] = model([
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="/conv/Conv",
                         pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c", "g", "b", "b", "g"],
                         ["n"], name="/bn/BatchNormalization"),
        helper.make_node("Clip", ["n", "lo", "hi"], ["r"], name="/act/Clip"),
        helper.make_node("MaxPool", ["r"], ["p"], name="/pool/MaxPool",
                         kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        helper.make_node("GlobalAveragePool", ["p"], ["gp"], name="/gap"),
        helper.make_node("Flatten", ["gp"], ["f"], name="/Flatten", axis=1),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["fc"], name="/fc/Gemm",
                         transB=1),
        helper.make_node("Softmax", ["fc"], ["y"], name="/Softmax", axis=1),
    ], [tensor("w", [2, 4, 3, 3]), tensor("b", [2]), tensor("g", [2], [1, 2]),
        tensor("lo", [], [0]), tensor("hi", [], [6]), tensor("fw", [3, 2]),
        tensor("fb", [3])], inputs=x4)
    # GELU (erf), a decomposed LayerNorm on a transposed tensor, MatMul+Add
    files["patterns"] = model([
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("ReduceMean", ["t"], ["m"], axes=[-1]),
        helper.make_node("Sub", ["t", "m"], ["d"]),
        helper.make_node("Pow", ["d", "two"], ["p"]),
        helper.make_node("ReduceMean", ["p"], ["v"], axes=[-1]),
        helper.make_node("Add", ["v", "eps"], ["ve"]),
        helper.make_node("Sqrt", ["ve"], ["s"]),
        helper.make_node("Div", ["d", "s"], ["nd"]),
        helper.make_node("Mul", ["nd", "gam"], ["ng"]),
        helper.make_node("Add", ["ng", "bet"], ["ln"]),
        helper.make_node("MatMul", ["ln", "mw"], ["mm"]),
        helper.make_node("Add", ["mm", "mb"], ["h"]),
        helper.make_node("Div", ["h", "sq2"], ["h1"]),
        helper.make_node("Erf", ["h1"], ["h2"]),
        helper.make_node("Add", ["h2", "one"], ["h3"]),
        helper.make_node("Mul", ["h", "h3"], ["h4"]),
        helper.make_node("Mul", ["h4", "half"], ["g"]),
        helper.make_node("Transpose", ["g"], ["y"], perm=[0, 3, 1, 2]),
    ], [tensor("two", [], [2]), tensor("eps", [], [1e-6]),
        tensor("gam", [4]), tensor("bet", [4]), tensor("mw", [4, 3]),
        tensor("mb", [3]), tensor("sq2", [], [1.4142135]),
        tensor("one", [], [1]), tensor("half", [], [0.5])], inputs=x4)
    # shape arithmetic folded into a chunk, a shuffle and a reshape
    files["shuffle"] = model([
        helper.make_node("Shape", ["x"], ["sh"]),
        helper.make_node("Gather", ["sh", "one_i"], ["c"], axis=0),
        helper.make_node("Div", ["c", "two_i"], ["half_c"]),
        helper.make_node("Slice", ["x", "zero_i", "half_c", "one_i"], ["a"]),
        helper.make_node("Split", ["x", "splits"], ["s1", "s2"], axis=1),
        helper.make_node("Relu", ["s2"], ["r"]),
        helper.make_node("Concat", ["a", "r"], ["cat0"], axis=1),
        helper.make_node("Add", ["cat0", "x"], ["cat"]),
        helper.make_node("Reshape", ["cat", "shape5"], ["r5"]),
        helper.make_node("Transpose", ["r5"], ["t5"], perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["t5", "shape4"], ["r4"]),
        helper.make_node("ReduceMean", ["r4"], ["y"], axes=[2, 3],
                         keepdims=0),
    ], [i64("one_i", [1]), i64("two_i", [2]), i64("zero_i", [0]),
        i64("splits", [2, 2]), i64("shape5", [1, 2, 2, 4, 4]),
        i64("shape4", [1, -1, 4, 4])], inputs=x4)
    # resize, transposed conv, pad, hard swish, prelu, squeeze-excite
    files["updown"] = model([
        helper.make_node("ConvTranspose", ["x", "tw"], ["u"], strides=[2, 2],
                         pads=[1, 1, 1, 1], output_padding=[1, 1]),
        helper.make_node("HardSwish", ["u"], ["hs"]),
        helper.make_node("Resize", ["x", "", "scales"], ["rz"],
                         mode="linear",
                         coordinate_transformation_mode="half_pixel"),
        helper.make_node("Concat", ["hs", "rz"], ["cat"], axis=1),
        helper.make_node("Pad", ["cat", "pads"], ["pd"], mode="constant"),
        helper.make_node("PRelu", ["pd", "slope"], ["pr"]),
        helper.make_node("GlobalAveragePool", ["pr"], ["se"]),
        helper.make_node("HardSigmoid", ["se"], ["sc"], alpha=0.2),
        helper.make_node("Mul", ["pr", "sc"], ["y"]),
    ], [tensor("tw", [4, 2, 3, 3]), tensor("scales", [4], [1, 1, 2, 2]),
        i64("pads", [0, 0, 1, 0, 0, 0, 0, 1]), tensor("slope", [6, 1, 1])],
        inputs=x4)
    for name, m in files.items():
        with open(os.path.join(seeds, name + ".onnx"), "wb") as fh:
            fh.write(m.SerializeToString())
    print(f"tests/fuzz/onnx/: {len(files)} seeds")


def main():
    names = sys.argv[1:] or sorted(MODELS) + ["handmade", "bad", "seeds"]
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        if name == "bad":
            bad_files()
            continue
        if name == "seeds":
            fuzz_seeds()
            continue
        if name == "handmade":
            handmade()
            continue
        for opset in OPSETS:
            export(name, opset)


if __name__ == "__main__":
    main()
