#!/usr/bin/python3
"""reference_selftest.py: checks tools/reference.py against plain loops.

The goldens are only as good as the reference, so its torch formulation of
each windowed op (padding, groups, the depthwise channel order, pooling
counts) is compared here with the definition written out element by element
in numpy. Exit 0 when all agree to 1e-12.
"""
import math
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import reference  # noqa: E402

rng = np.random.default_rng(7)
failures = 0


def same_out_pads(size, k, s, d):
    # Written the other way round from reference.same_pads: TensorFlow's
    # SAME output is ceil(in / s); the padding is what that needs.
    out = -(-size // s)
    need = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return need // 2, need - need // 2


def padded(x, t, b, l, r, fill):
    h, w, c = x.shape
    p = np.full((h + t + b, w + l + r, c), fill)
    p[t:t + h, l:l + w] = x
    real = np.zeros((h + t + b, w + l + r), bool)
    real[t:t + h, l:l + w] = True
    return p, real


def loop_conv(x, k, s, d, pads, groups, depthwise=False):
    kh, kw, kc, kf = k.shape
    xp, _ = padded(x, *pads, 0.0)
    oh = (xp.shape[0] - (kh - 1) * d[0] - 1) // s[0] + 1
    ow = (xp.shape[1] - (kw - 1) * d[1] - 1) // s[1] + 1
    cout = kc * kf if depthwise else kf
    y = np.zeros((oh, ow, cout))
    for i in range(oh):
        for j in range(ow):
            for o in range(cout):
                acc = 0.0
                for a in range(kh):
                    for b in range(kw):
                        px = xp[i * s[0] + a * d[0], j * s[1] + b * d[1]]
                        if depthwise:  # channel o = c * mult + m
                            acc += px[o // kf] * k[a, b, o // kf, o % kf]
                        else:
                            g = o // (kf // groups)
                            for c in range(kc):
                                acc += px[g * kc + c] * k[a, b, c, o]
                y[i, j, o] = acc
    return y


def loop_pool(x, size, s, pads, kind):
    xp, real = padded(x, *pads, 0.0)
    oh = (xp.shape[0] - size[0]) // s[0] + 1
    ow = (xp.shape[1] - size[1]) // s[1] + 1
    y = np.zeros((oh, ow, x.shape[2]))
    for i in range(oh):
        for j in range(ow):
            win = xp[i * s[0]:i * s[0] + size[0], j * s[1]:j * s[1] + size[1]]
            m = real[i * s[0]:i * s[0] + size[0], j * s[1]:j * s[1] + size[1]]
            vals = win[m]  # real pixels only, [n, C]
            y[i, j] = vals.max(axis=0) if kind == "max" else vals.mean(axis=0)
    return y


def loop_pool_ext(x, k, s, pads, kind, ceil, with_pad):
    """PyTorch's pools as windows: window o starts at o*s - lo; without
    ceil_mode it must end inside the padded input, with ceil_mode it may
    pass the end by less than a stride but must start inside the input."""
    h, w, _ = x.shape
    t, b, l, r = pads

    def starts(n, k, s, lo, hi):
        out = []
        for o in range(n + lo + hi + 1):
            st = o * s - lo
            ok = (st < n and st + k - n - hi < s) if ceil else st + k <= n + hi
            if ok:
                out.append(st)
        return out

    ys, xs = starts(h, k[0], s[0], t, b), starts(w, k[1], s[1], l, r)
    y = np.zeros((len(ys), len(xs), x.shape[2]))
    for i, y0 in enumerate(ys):
        for j, x0 in enumerate(xs):
            rows = [a for a in range(y0, y0 + k[0]) if 0 <= a < h]
            cols = [c for c in range(x0, x0 + k[1]) if 0 <= c < w]
            vals = np.array([x[a, c] for a in rows for c in cols])
            if kind == "max":
                y[i, j] = vals.max(axis=0)
                continue
            if with_pad:
                n = (len([a for a in range(y0, y0 + k[0]) if -t <= a < h + b]) *
                     len([c for c in range(x0, x0 + k[1]) if -l <= c < w + r]))
            else:
                n = len(vals)
            y[i, j] = vals.sum(axis=0) / n
    return y


def check(what, got, want):
    global failures
    got = np.asarray(got)
    if got.shape != want.shape or not np.allclose(got, want, rtol=0, atol=1e-12):
        failures += 1
        err = (np.abs(got - want).max() if got.shape == want.shape
               else f"shape {got.shape} vs {want.shape}")
        print(f"FAIL {what}: {err}")


def run(op, attrs, x, weights, shape):
    node = {"id": 1, "op": op, "name": op, "path": "n", "inputs": [0],
            "shape": list(shape), "attrs": attrs, "weights": []}
    graph = {"inputs": [0], "outputs": [1],
             "nodes": [{"id": 0, "op": "input", "name": "x", "path": "x",
                        "inputs": [], "shape": list(x.shape), "attrs": {},
                        "weights": []}, node]}
    w = {f"n.{k}": torch.from_numpy(v) for k, v in weights.items()}
    (y,) = reference.evaluate(graph, w, [torch.from_numpy(x)[None]])
    return y[0].numpy()


def window_cases():
    # (H, W, kernel, stride, dilation, padding) over odd/even sizes
    for h, w in [(7, 7), (8, 8), (9, 5), (2, 3)]:
        for k in [(3, 3), (1, 3), (3, 1), (2, 2), (4, 2)]:
            for s in [(1, 1), (2, 2), (3, 3), (1, 2)]:
                for d in [(1, 1), (2, 2)]:
                    for mode in ["same", "valid", "explicit"]:
                        yield h, w, k, s, d, mode


def pads_of(mode, h, w, k, s, d):
    if mode == "same":
        return [*same_out_pads(h, k[0], s[0], d[0]),
                *same_out_pads(w, k[1], s[1], d[1])]
    if mode == "explicit":
        return [1, 2, 0, 1]
    return [0, 0, 0, 0]


def main():
    n = 0
    for h, w, k, s, d, mode in window_cases():
        pads = pads_of(mode, h, w, k, s, d)
        eh = h + pads[0] + pads[1] - (k[0] - 1) * d[0]
        ew = w + pads[2] + pads[3] - (k[1] - 1) * d[1]
        if eh < 1 or ew < 1 or rng.random() > 0.35:
            continue  # too small for the window, or not sampled
        n += 1
        x = rng.uniform(-1, 1, (h, w, 4))
        groups = 2 if n % 2 else 1
        kern = rng.uniform(-1, 1, (k[0], k[1], 4 // groups, 6))
        bias = rng.uniform(-1, 1, 6)
        want = loop_conv(x, kern, s, d, pads, groups) + bias
        attrs = {"filters": 6, "groups": groups, "kernel": list(k),
                 "stride": list(s), "dilation": list(d), "padding": mode,
                 "pads": pads, "bias": True, "act": "none"}
        check(f"conv2d {h}x{w} k{k} s{s} d{d} {mode} g{groups}",
              run("conv2d", attrs, x, {"kernel": kern, "bias": bias},
                  want.shape), want)

        dk = rng.uniform(-1, 1, (k[0], k[1], 4, 2))
        want = loop_conv(x, dk, s, d, pads, 4, depthwise=True)
        attrs = {"multiplier": 2, "kernel": list(k), "stride": list(s),
                 "dilation": list(d), "padding": mode, "pads": pads,
                 "bias": False, "act": "none"}
        check(f"depthwise {h}x{w} k{k} s{s} d{d} {mode}",
              run("depthwise_conv2d", attrs, x, {"depthwise_kernel": dk},
                  want.shape), want)

        if d != (1, 1) or pads[0] + pads[1] >= k[0] or pads[2] + pads[3] >= k[1]:
            continue  # pools have no dilation; every window needs a pixel
        for kind in ["max", "avg"]:
            want = loop_pool(x, k, s, pads, kind)
            attrs = {"kernel": list(k), "stride": list(s), "padding": mode,
                     "pads": pads}
            check(f"{kind}pool {h}x{w} k{k} s{s} {mode}",
                  run(f"{kind}pool", attrs, x, {}, want.shape), want)

    # ceil_mode and count_include_pad, symmetric pads (PyTorch's own pools)
    # and asymmetric ones (the reference's padded windows)
    m = 0
    for h, w in [(7, 7), (8, 6), (5, 9), (3, 4)]:
        for k, s in [((3, 3), (2, 2)), ((2, 2), (2, 2)), ((3, 2), (2, 3)),
                     ((4, 4), (3, 3)), ((2, 3), (1, 2))]:
            for pads in [[0, 0, 0, 0], [1, 1, 1, 1], [1, 0, 0, 1], [0, 1, 1, 1]]:
                if pads[0] + pads[1] >= k[0] or pads[2] + pads[3] >= k[1]:
                    continue
                if h + pads[0] + pads[1] < k[0] or w + pads[2] + pads[3] < k[1]:
                    continue
                x = rng.uniform(-1, 1, (h, w, 3))
                for ceil in [False, True]:
                    for kind, with_pad in [("max", False), ("avg", False),
                                           ("avg", True)]:
                        want = loop_pool_ext(x, k, s, pads, kind, ceil, with_pad)
                        attrs = {"kernel": list(k), "stride": list(s),
                                 "padding": "explicit", "pads": pads,
                                 "ceil_mode": ceil}
                        if kind == "avg":
                            attrs["count_include_pad"] = with_pad
                        m += 1
                        check(f"{kind}pool {h}x{w} k{k} s{s} {pads} ceil {ceil} "
                              f"count_include_pad {with_pad}",
                              run(f"{kind}pool", attrs, x, {}, want.shape), want)

    # upsample: TensorFlow's resize written out (half-pixel centers, or
    # aligned corners), nearest as index // factor; channel_shuffle
    for h, w, f in [(5, 7, (2, 2)), (3, 4, (3, 2)), (1, 3, (2, 3)), (4, 1, (3, 3))]:
        x = rng.uniform(-1, 1, (h, w, 3))
        oh, ow = h * f[0], w * f[1]
        want = np.array([[x[i // f[0], j // f[1]] for j in range(ow)]
                         for i in range(oh)])
        attrs = {"size": list(f), "interpolation": "nearest",
                 "align_corners": False}
        check(f"upsample nearest {h}x{w} {f}",
              run("upsample", attrs, x, {}, want.shape), want)
        for aligned in [False, True]:
            def src(d, n, m):
                v = (d * (n - 1) / (m - 1) if m > 1 else 0) if aligned \
                    else (d + 0.5) * n / m - 0.5
                lo = math.floor(v)
                return max(lo, 0), min(math.ceil(v), n - 1), v - lo
            want = np.zeros((oh, ow, 3))
            for i in range(oh):
                y0, y1, ty = src(i, h, oh)
                for j in range(ow):
                    x0, x1, tx = src(j, w, ow)
                    top = x[y0, x0] * (1 - tx) + x[y0, x1] * tx
                    bot = x[y1, x0] * (1 - tx) + x[y1, x1] * tx
                    want[i, j] = top * (1 - ty) + bot * ty
            attrs = {"size": list(f), "interpolation": "bilinear",
                     "align_corners": aligned}
            check(f"upsample bilinear {h}x{w} {f} aligned {aligned}",
                  run("upsample", attrs, x, {}, want.shape), want)
    x = rng.uniform(-1, 1, (2, 3, 12))
    for g in [2, 3, 4]:
        want = x[:, :, [(o % g) * (12 // g) + o // g for o in range(12)]]
        check(f"channel_shuffle {g}",
              run("channel_shuffle", {"groups": g}, x, {}, want.shape), want)

    # dense with its [in, units] kernel, flatten in NHWC order, softmax
    x = rng.uniform(-1, 1, (3, 2, 5))
    flat = np.array([x[i, j, c] for i in range(3) for j in range(2)
                     for c in range(5)])
    check("flatten", run("flatten", {}, x, {}, [30]), flat)
    kern = rng.uniform(-1, 1, (30, 4))
    want = np.array([sum(flat[i] * kern[i, u] for i in range(30))
                     for u in range(4)])
    e = np.exp(want - want.max())
    check("dense softmax", run("dense", {"units": 4, "bias": False,
                                         "act": "softmax"},
                               flat, {"kernel": kern}, [4]), e / e.sum())
    mean, var = rng.uniform(-1, 1, 5), rng.uniform(0.5, 1.5, 5)
    gamma, beta = rng.uniform(0.5, 1.5, 5), rng.uniform(-1, 1, 5)
    want = np.array([[[(x[i, j, c] - mean[c]) / math.sqrt(var[c] + 0.01)
                       * gamma[c] + beta[c] for c in range(5)]
                      for j in range(2)] for i in range(3)])
    check("batchnorm", run("batchnorm", {"epsilon": 0.01, "center": True,
                                         "scale": True}, x,
                           {"moving_mean": mean, "moving_variance": var,
                            "gamma": gamma, "beta": beta}, [3, 2, 5]), want)
    mu = x.mean(axis=2, keepdims=True)
    sd = np.sqrt(((x - mu) ** 2).mean(axis=2, keepdims=True) + 0.001)
    check("layernorm", run("layernorm", {"epsilon": 0.001, "center": True,
                                         "scale": False}, x, {"beta": beta},
                           [3, 2, 5]), (x - mu) / sd + beta)
    print(f"reference_selftest: {n} window cases, {m} pooling option cases, "
          f"{failures} failures")
    return 1 if failures or n < 40 or m < 100 else 0


if __name__ == "__main__":
    sys.exit(main())
