#!/usr/bin/python3
"""train_digits.py OUT_DIR: a small residual CNN trained for real, for
`make demo-trained` (tools/demo_trained.sh), on scikit-learn's handwritten
digits (load_digits: 1,797 scans of 8 x 8 pixels, 17 grey levels, by 43
people, from the UCI collection).

Run with Debian's /usr/bin/python3 (python3-torch, python3-sklearn,
python3-pil). Deterministic: a fixed split and seeds, one thread.

  - split: 1,397 digits to train on, 400 held out (stratified, seed 0);
  - pixels scaled to [0, 1] (value / 16), as the PNGs below decode;
  - network: conv 3x3 (16) - batch norm - ReLU, a residual block of two
    such convs, conv 3x3 stride 2 (32) - BN - ReLU, global average pool,
    dense 10, softmax; Adam, 40 epochs of batches of 64;
  - writes to OUT_DIR:
      digits.onnx            the network (opset 13, softmax included)
      heldout_x.npy          [400, 8, 8, 1] float32, NHWC, as trained on
      heldout_y.npy          [400] the true digits (float32: the C side
                             reads float32 .npy)
      torch_probs.npy        [400, 10] PyTorch's own probabilities
      digit_N_*.png          a few held-out digits: 8 x 8 grey as scanned,
                             and one drawn 32 x 32 in RGB (rnc converts it
                             to grey and shrinks it)
      png_probs.npy          [files, 10] PyTorch's probabilities for those
                             PNGs, decoded and resized as docs/images.md
                             says (Pillow's bilinear on float samples)
      png_files.txt          their names, in that order
      digits.txt             the class names, zero to nine
  - prints the held-out accuracy.
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
HELD_OUT = 400
EPOCHS = 40
BATCH = 64


def conv_bn(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(cout)]


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.body = nn.Sequential(*conv_bn(c, c), nn.ReLU(), *conv_bn(c, c))
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.body(x) + x)


class Digits(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(*conv_bn(1, 16), nn.ReLU(), Residual(16),
                                      *conv_bn(16, 32, stride=2), nn.ReLU(),
                                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classify = nn.Linear(32, 10)

    def forward(self, x):  # logits, for training
        return self.classify(self.features(x))


class WithSoftmax(nn.Module):  # what is exported: probabilities
    def __init__(self, net):
        super().__init__()
        self.net = net
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.net(x))


def train(x, y):
    torch.manual_seed(0)
    net = Digits()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(1)
    for epoch in range(EPOCHS):
        net.train()
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), BATCH):
            b = order[i:i + BATCH]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(xt[b]), yt[b])
            loss.backward()
            opt.step()
        sched.step()
    return net.eval()


def png_input(path):
    """A PNG as rnc reads it for an [8, 8, 1] input (docs/images.md):
    samples / 255, RGB to grey by 0.299 R + 0.587 G + 0.114 B in float64,
    Pillow's bilinear resize of the float image."""
    im = Image.open(path)
    a = np.asarray(im.convert("RGB") if im.mode != "L" else im, np.float64) / 255
    if a.ndim == 3:
        a = 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]
    f = Image.fromarray(a.astype(np.float32), "F")
    if f.size != (8, 8):
        f = f.resize((8, 8), Image.BILINEAR)
    return np.asarray(f, np.float32)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: train_digits.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    t0 = time.time()

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)  # [1797, 8, 8] in [0, 1]
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=HELD_OUT, random_state=0,
                                          stratify=y)
    net = train(xtr[:, None], ytr)
    model = WithSoftmax(net).eval()
    with torch.no_grad():
        probs = model(torch.from_numpy(xte[:, None])).numpy()
    acc = (probs.argmax(1) == yte).mean()
    print(f"PyTorch: trained on {len(ytr)} digits in {time.time() - t0:.1f} s; "
          f"held-out accuracy {acc * 100:.2f}% ({(probs.argmax(1) == yte).sum()} of {len(yte)})")

    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), f"{out}/digits.onnx",
                      opset_version=13, input_names=["image"], output_names=["probs"])
    np.save(f"{out}/heldout_x.npy", xte[..., None])
    np.save(f"{out}/heldout_y.npy", yte.astype(np.float32))
    np.save(f"{out}/torch_probs.npy", probs.astype(np.float32))
    with open(f"{out}/digits.txt", "w") as f:
        f.write("\n".join(NAMES) + "\n")

    # a few held-out digits as PNG files: the first of 3, 5, 7 and 9 as
    # scanned (8 x 8 grey), and the first 4 drawn large in RGB
    files = []
    for digit in (3, 5, 7, 9):
        i = int(np.flatnonzero(yte == digit)[0])
        name = f"digit_{digit}_8x8.png"
        Image.fromarray(np.rint(xte[i] * 255).astype(np.uint8), "L").save(f"{out}/{name}")
        files.append(name)
    i = int(np.flatnonzero(yte == 4)[0])
    big = np.kron(np.rint(xte[i] * 255), np.ones((4, 4))).astype(np.uint8)
    name = "digit_4_32x32_rgb.png"
    Image.fromarray(np.stack([big] * 3, -1), "RGB").save(f"{out}/{name}")
    files.append(name)
    with torch.no_grad():
        pp = model(torch.from_numpy(np.stack([png_input(f"{out}/{n}") for n in files])[:, None]))
    np.save(f"{out}/png_probs.npy", pp.numpy().astype(np.float32))
    with open(f"{out}/png_files.txt", "w") as f:
        f.write("\n".join(files) + "\n")
    for n, p in zip(files, pp.numpy()):
        print(f"PyTorch on {n}: {NAMES[p.argmax()]} ({p.max():.4f})")
    return 0 if acc > 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
