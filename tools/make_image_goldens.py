#!/usr/bin/python3
"""make_image_goldens.py: the small test images of tests/images/ and what
an independent pipeline makes of each, for tests/e2e/images.sh.

Run with Debian's /usr/bin/python3 (python3-pil, python3-numpy,
python3-torch for torchvision's Normalize):  tools/make_image_goldens.py

The reference for every case (NAME.npy, float32 [1, H, W, C] as rnc
writes its outputs):
  - decoding: Pillow (zlib, libjpeg-turbo), samples / 255; 16-bit
    images from the very samples written (Pillow reads 16-bit RGB as
    8-bit, and its convert('RGB') clips 16-bit grey at 255);
  - channels: grey copied to R, G, B; alpha dropped; RGB to grey by
    0.299 R + 0.587 G + 0.114 B, in float64;
  - resizing: Pillow's Image.resize((W, H), Image.BILINEAR) on each
    channel as a float ('F') image, which is what rnc computes;
  - normalization: torchvision.transforms.functional.normalize on
    (x * scale).
Cases named *_pil8 compare with Pillow's own 8-bit pipeline instead,
img.convert('RGB' or 'L').resize(...) / 255, which rounds to 8 bits after
each pass: what torchvision's usual transforms feed a model.

MANIFEST, a line a case:  NAME IMAGE HxWxC TOLERANCE [FLAG VALUE]...
TOLERANCE is the largest |rnc - reference| allowed, element by element.
Measured when they were made: every case bit-identical to its reference
but one resized JPEG (6e-8; 1e-6 is allowed wherever a resize sums in
double), the *_pil8 cases within 0.97/255.

bad/ holds damaged and oversized files that rnc must refuse, each with a
message naming the file.
"""
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "images")


def png_write(path, a, bits):
    """A PNG of uint array a ([H, W] grey or [H, W, 3] RGB) at 8 or 16 bits,
    written here so that 16-bit RGB does not depend on Pillow."""
    h, w = a.shape[:2]
    ctype = 0 if a.ndim == 2 else 2
    dt = ">u2" if bits == 16 else "u1"
    rows = b"".join(b"\0" + a[y].astype(dt).tobytes() for y in range(h))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bits, ctype, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(rows, 9)))
        f.write(chunk(b"IEND", b""))


def photo(h, w, seed):
    """Smooth colour gradients with edges and a little noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    a = np.stack([128 + 100 * np.sin(x / 3.1 + y / 5.3),
                  128 + 90 * np.cos(x / 2.3 - y / 4.1),
                  128 + 60 * np.sin((x + y) / 6.7)], -1)
    a[(x > w / 2) & (y < h / 3)] = [250, 20, 40]
    a += rng.normal(0, 6, a.shape)
    return np.clip(np.rint(a), 0, 255)


def make_images():
    imgs = {}
    rgb = photo(23, 31, 1).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(f"{OUT}/rgb8.png")
    imgs["rgb8.png"] = rgb / 255.0
    grey = photo(9, 11, 2)[..., 0].astype(np.uint8)
    Image.fromarray(grey, "L").save(f"{OUT}/grey8.png")
    imgs["grey8.png"] = grey / 255.0
    rgba = np.concatenate([photo(10, 12, 3), np.linspace(0, 255, 120).reshape(10, 12, 1)], -1)
    Image.fromarray(rgba.astype(np.uint8), "RGBA").save(f"{OUT}/rgba8.png")
    la = np.stack([photo(7, 7, 4)[..., 1], np.full((7, 7), 77.0)], -1)
    Image.fromarray(la.astype(np.uint8), "LA").save(f"{OUT}/la8.png")
    pal = Image.fromarray(photo(8, 8, 5).astype(np.uint8), "RGB").quantize(16)
    pal.info["transparency"] = 3
    pal.save(f"{OUT}/palette.png", transparency=3)
    bw = (photo(6, 6, 6)[..., 0] > 128)
    Image.fromarray(bw).save(f"{OUT}/bw1.png")
    rgb16 = np.clip(photo(11, 13, 7) * 257 + np.random.default_rng(8).integers(0, 257, (11, 13, 3)), 0, 65535).astype(np.uint16)
    png_write(f"{OUT}/rgb16.png", rgb16, 16)
    imgs["rgb16.png"] = rgb16 / 65535.0
    grey16 = rgb16[..., 1].copy()
    png_write(f"{OUT}/grey16.png", grey16, 16)
    imgs["grey16.png"] = grey16 / 65535.0
    one = np.array([[[200, 100, 50]]], np.uint8)
    Image.fromarray(one, "RGB").save(f"{OUT}/px1x1.png")
    Image.fromarray(photo(1, 17, 9).astype(np.uint8), "RGB").save(f"{OUT}/row1x17.png")
    Image.fromarray(photo(17, 1, 10).astype(np.uint8), "RGB").save(f"{OUT}/col17x1.png")
    big = photo(37, 45, 11).astype(np.uint8)
    Image.fromarray(big, "RGB").save(f"{OUT}/j444.jpg", quality=92, subsampling=0)
    Image.fromarray(big, "RGB").save(f"{OUT}/j420.jpg", quality=92, subsampling=2)
    Image.fromarray(big, "RGB").save(f"{OUT}/jprog.jpg", quality=92, subsampling=0, progressive=True)
    Image.fromarray(big[..., 0], "L").save(f"{OUT}/jgrey.jpg", quality=92)
    return imgs


def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))


def sof_size(jpg, h, w):
    """The JPEG with the height and width of its frame header changed."""
    at = jpg.index(b"\xff\xc0")
    return jpg[:at + 5] + struct.pack(">HH", h, w) + jpg[at + 9:]


def make_bad():
    """Files to refuse; tests/e2e/images.sh knows what each must say."""
    os.makedirs(f"{OUT}/bad", exist_ok=True)
    png = open(f"{OUT}/rgb8.png", "rb").read()
    jpg = open(f"{OUT}/j444.jpg", "rb").read()
    bad = {
        "truncated.png": png[:len(png) // 2],
        "no_iend.png": png[:-12],
        "crc.png": png[:100] + bytes([png[100] ^ 0x10]) + png[101:],
        "crc_only.png": png[:29] + bytes([png[29] ^ 1]) + png[30:],
        "truncated.jpg": jpg[:len(jpg) // 2],
        "garbage.png": bytes(range(256)) * 4,
        "empty.png": b"",
        "text.jpg": b"not an image at all\n",
        # headers of images too large to decode, with nothing after them
        "huge_side.png": b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 30, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""),
        "huge_bytes.png": b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16000, 16000, 16, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""),
        "huge.jpg": sof_size(jpg, 16000, 16000),
    }
    for name, data in bad.items():
        with open(f"{OUT}/bad/{name}", "wb") as f:
            f.write(data)


def decoded(name, known):
    """[H, W, 3 or 1] float64 in [0, 1] as the file's own channels."""
    if name in known:
        a = known[name]
        return a if a.ndim == 3 else a[..., None]
    im = Image.open(f"{OUT}/{name}")
    if im.mode in ("L", "1", "LA"):
        return (np.asarray(im.convert("L"), np.float64) / 255.0)[..., None]
    return np.asarray(im.convert("RGB"), np.float64) / 255.0


def channels(a, c):
    if c == 3:
        return np.repeat(a, 3, axis=2) if a.shape[2] == 1 else a
    if a.shape[2] == 1:
        return a
    return (0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2])[..., None]


def resize_f(a, h, w):
    """Pillow's bilinear resize of each channel as an 'F' image."""
    a = a.astype(np.float32)
    if a.shape[:2] == (h, w):
        return a
    return np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(a[..., k]), "F")
                                .resize((w, h), Image.BILINEAR)) for k in range(a.shape[2])], -1)


def normalize(x, flags):
    import torch
    import torchvision.transforms.functional as TF
    f = dict(zip(flags[::2], flags[1::2]))
    scale = float(f.get("--scale", 1))
    c = x.shape[2]
    mean = [float(v) for v in f.get("--mean", "0").split(",")]
    std = [float(v) for v in f.get("--std", "1").split(",")]
    mean, std = mean * (c // len(mean)), std * (c // len(std))
    t = torch.from_numpy(x).permute(2, 0, 1) * np.float32(scale)
    return TF.normalize(t, mean, std).permute(1, 2, 0).numpy()


def pil8(name, h, w, c):
    im = Image.open(f"{OUT}/{name}").convert("RGB" if c == 3 else "L")
    a = np.asarray(im.resize((w, h), Image.BILINEAR), np.float32) / 255.0
    return a if a.ndim == 3 else a[..., None]


# NAME IMAGE H W C TOLERANCE FLAGS
CASES = [
    ("rgb_same", "rgb8.png", 23, 31, 3, 0, []),
    ("rgb_down", "rgb8.png", 7, 9, 3, 1e-6, []),
    ("rgb_up", "rgb8.png", 40, 50, 3, 1e-6, []),
    ("rgb_across", "rgb8.png", 23, 10, 3, 1e-6, []),
    ("rgb_down_only", "rgb8.png", 5, 31, 3, 1e-6, []),
    ("rgb_grey", "rgb8.png", 7, 9, 1, 1e-6, []),
    ("grey_rgb", "grey8.png", 9, 11, 3, 0, []),
    ("grey_down", "grey8.png", 4, 5, 1, 1e-6, []),
    ("rgba_rgb", "rgba8.png", 10, 12, 3, 0, []),
    ("rgba_grey", "rgba8.png", 5, 6, 1, 1e-6, []),
    ("la_rgb", "la8.png", 7, 7, 3, 0, []),
    ("palette_rgb", "palette.png", 8, 8, 3, 0, []),
    ("bw_grey", "bw1.png", 6, 6, 1, 0, []),
    ("rgb16_same", "rgb16.png", 11, 13, 3, 0, []),
    ("rgb16_down", "rgb16.png", 6, 6, 3, 1e-6, []),
    ("grey16_grey", "grey16.png", 6, 6, 1, 1e-6, []),
    ("grey16_rgb", "grey16.png", 12, 14, 3, 1e-6, []),
    ("px1_up", "px1x1.png", 3, 3, 3, 1e-6, []),
    ("row_resize", "row1x17.png", 2, 5, 3, 1e-6, []),
    ("col_resize", "col17x1.png", 5, 2, 3, 1e-6, []),
    # JPEG: rnc and Pillow decode with the same libjpeg-turbo
    ("jpeg444", "j444.jpg", 37, 45, 3, 0, []),
    ("jpeg420", "j420.jpg", 37, 45, 3, 0, []),
    ("jpeg_prog", "jprog.jpg", 37, 45, 3, 0, []),
    ("jpeg_grey", "jgrey.jpg", 37, 45, 1, 0, []),
    ("jpeg444_down", "j444.jpg", 8, 8, 3, 1e-6, []),
    ("norm_imagenet", "rgb8.png", 7, 9, 3, 1e-5,
     ["--mean", "0.485,0.456,0.406", "--std", "0.229,0.224,0.225"]),
    ("norm_caffe", "rgb8.png", 7, 9, 3, 1e-4,
     ["--scale", "255", "--mean", "123.68,116.78,103.94"]),
    ("norm_grey", "grey8.png", 4, 5, 1, 1e-6,
     ["--scale", "2", "--mean", "1", "--std", "0.5"]),
    ("norm_one_value", "rgb8.png", 7, 9, 3, 1e-6, ["--mean", "0.5", "--std", "0.5"]),
    # Pillow's 8-bit path rounds after each pass: within 1/255 of rnc's
    # (0.004 = 1.02/255)
    ("rgb_down_pil8", "rgb8.png", 7, 9, 3, 0.004, []),
    ("rgb_up_pil8", "rgb8.png", 40, 50, 3, 0.004, []),
    ("grey_down_pil8", "grey8.png", 4, 5, 1, 0.004, []),
    ("rgba_down_pil8", "rgba8.png", 5, 7, 3, 0.004, []),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    known = make_images()
    make_bad()
    manifest = ["# made by tools/make_image_goldens.py (see there):",
                "# NAME IMAGE HxWxC TOLERANCE [FLAG VALUE]..."]
    for name, img, h, w, c, tol, flags in CASES:
        if name.endswith("_pil8"):
            ref = pil8(img, h, w, c)
        else:
            ref = resize_f(channels(decoded(img, known), c), h, w)
            if flags:
                ref = normalize(ref, flags)
        np.save(f"{OUT}/{name}.npy", ref.astype(np.float32)[None])  # [1, H, W, C]
        manifest.append(" ".join([name, img, f"{h}x{w}x{c}", f"{tol:.9g}"] + flags))
    with open(f"{OUT}/MANIFEST", "w") as f:
        f.write("\n".join(manifest) + "\n")
    print(f"{len(CASES)} cases in {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main())
