#!/usr/bin/python3
"""torch_bench.py: times an exported model (tools/compare/to_torch.py) with
PyTorch: TorchScript, frozen, torch.jit.optimize_for_inference.

    /usr/bin/python3 tools/compare/torch_bench.py DIR [--threads N]
        [--repeat R] [--warmup W] [--check | --first]

DIR holds model.pt, meta.json and input*.npy (NHWC, as rnc takes them;
transposed here to the export's NCHW before any timing).
  default   W warm-up runs (3), then R timed runs (20); prints one line
            "median_ms=... min_ms=... runs=R threads=N maxrss_kb=..."
  --check   one run; each output must equal DIR/ref*.npy (reference.py)
            within 1e-4 relative (as tools/compare/to_torch.py checks)
  --first   one run, prints "first_result", exits at once: the shell times
            the process from start to that line
"""
import json
import os
import resource
import sys
import time

RTOL = 1e-4


def fail(msg):
    print(f"torch_bench.py: error: {msg}", file=sys.stderr)
    sys.exit(1)


def parse_args(argv):
    o = {"dir": None, "threads": 1, "repeat": 20, "warmup": 3, "mode": "time"}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--threads", "--repeat", "--warmup"):
            i += 1
            try:
                v = int(argv[i])
            except (IndexError, ValueError):
                v = 0
            if v < 1:
                fail(f"{a} wants a positive integer")
            o[a[2:]] = v
        elif a == "--check":
            o["mode"] = "check"
        elif a == "--first":
            o["mode"] = "first"
        elif not a.startswith("--") and o["dir"] is None:
            o["dir"] = a
        else:
            fail(f"unknown argument '{a}'")
        i += 1
    if o["dir"] is None:
        fail("usage: torch_bench.py DIR [--threads N] ...")
    return o


def main(argv):
    o = parse_args(argv[1:])
    import numpy as np
    import torch
    # before any parallel work, or torch refuses to change them
    torch.set_num_threads(o["threads"])
    torch.set_num_interop_threads(1)
    torch.set_grad_enabled(False)
    with open(os.path.join(o["dir"], "meta.json")) as f:
        meta = json.load(f)
    model = torch.jit.load(os.path.join(o["dir"], "model.pt"))
    model = torch.jit.optimize_for_inference(model)
    xs = []
    for i, inp in enumerate(meta["inputs"]):
        t = torch.from_numpy(np.load(os.path.join(o["dir"],
                                                  f"input{i}.npy")))
        if t.dim() == 3:
            t = t.permute(2, 0, 1).unsqueeze(0)
        xs.append(t.reshape(inp["shape"]).contiguous())

    if o["mode"] == "first":
        y = model(*xs)
        y = y[0] if isinstance(y, tuple) else y
        print(f"first_result {float(y.reshape(-1)[0])}", flush=True)
        os._exit(0)  # no interpreter teardown in the measured time
    if o["mode"] == "check":
        ys = model(*xs)
        ys = ys if isinstance(ys, tuple) else (ys,)
        worst = 0.0
        for i, y in enumerate(ys):
            if y.dim() == 4:
                y = y.permute(0, 2, 3, 1)
            got = y.numpy().astype(np.float64).reshape(-1)
            want = np.load(os.path.join(o["dir"], f"ref{i}.npy")).astype(
                np.float64).reshape(-1)
            if got.shape != want.shape or not np.all(np.isfinite(got)):
                fail(f"output {i}: wrong size or non-finite")
            if meta.get("tolerance") == "max":
                # export_torchvision.py: 1e-4 max|ref| + 1e-5, same argmax
                err = np.max(np.abs(got - want))
                tol = RTOL * np.max(np.abs(want)) + 0.1 * RTOL
                if not err <= tol or got.argmax() != want.argmax():
                    fail(f"{meta['model']}: PyTorch output {i}: max error "
                         f"{err:.2e} > {tol:.2e} or argmax differs")
                worst = max(worst, err / max(np.max(np.abs(want)), 1e-30))
                continue
            floor = max(0.01 * np.max(np.abs(want)), 1e-30)
            err = np.max(np.abs(got - want) / np.maximum(np.abs(want), floor))
            if err > RTOL:
                fail(f"{meta['model']}: PyTorch output {i}: relative error "
                     f"{err:.2e} > {RTOL}")
            worst = max(worst, err)
        print(f"torch_bench: {meta['model']}: PyTorch output matches "
              f"the reference (relative error {worst:.2e})")
        return 0

    for _ in range(o["warmup"]):
        model(*xs)
    ms = []
    for _ in range(o["repeat"]):
        t0 = time.perf_counter()
        model(*xs)
        ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    n = len(ms)
    median = ms[n // 2] if n % 2 else (ms[n // 2 - 1] + ms[n // 2]) / 2
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes
    print(f"median_ms={median:.3f} min_ms={ms[0]:.3f} runs={n} "
          f"threads={o['threads']} maxrss_kb={rss}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
