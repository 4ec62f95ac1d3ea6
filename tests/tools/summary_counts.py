"""summary_counts.py: compares the parameter counts of `rnc --summary` (read
on stdin) with the framework's (a summary.json of tests/import/: "total",
"trainable", "non_trainable" and "layers": [{name, class, params}]).

    rnc --summary M.rn | python3 tests/tools/summary_counts.py summary.json

Every layer of the JSON (InputLayers aside) must be a row of the summary
with the same class and parameter count, every row must be one of the
layers, and the three totals must agree. Classes rnc shows otherwise, on
purpose: a functional model nested is "Functional" (TF.js says "Model"),
the layers that are the identity at inference are "Dropout", and a
TensorFlow op (TFOpLambda) or a Keras 3 op ("keras.ops.Add", which Keras's
own summary leaves out) with a constant is a "Rescaling" or, per channel,
a "Normalization"; with two tensors, the merge layer of the same sum,
difference or product; a Rescaling per channel is a "Normalization". The table is read by its columns, as Keras's
print_row lays it out: a field that does not fit its column continues on
the next lines of the same row, rows are separated by blank lines.
Prints each disagreement; exit 1 if any.
"""
import json
import re
import sys


def rows(text):
    lines = text.splitlines()
    head = next(i for i, l in enumerate(lines) if "Layer (type)" in l)
    h = lines[head]
    cols = [0, h.index("Output Shape"), h.index("Param #")]
    cols.append(h.index("Connected to") if "Connected to" in h else 10 ** 6)
    body_start = next(i for i in range(head + 1, len(lines)) if lines[i].startswith("="))
    body_end = next(i for i in range(body_start + 1, len(lines)) if lines[i].startswith("="))
    block = []
    for line in lines[body_start + 1:body_end] + [""]:
        if line.strip():
            block.append(line)
            continue
        if block:
            name = "".join(l[cols[0]:cols[1]].strip() for l in block)
            params = "".join(l[cols[2]:cols[3]].strip() for l in block)
            m = re.match(r"^(.*?)\s*\(([A-Za-z0-9_]+)\)$", name)
            yield (m.group(1), m.group(2)) if m else (name, "?"), int(params.replace(",", ""))
            block = []
    totals = {}
    for line in lines[body_end:]:
        m = re.match(r"^(Total|Trainable|Non-trainable) params: ([0-9,]+)", line)
        if m:
            totals[m.group(1)] = int(m.group(2).replace(",", ""))
    yield "totals", totals


SAME_CLASS = {"Model": "Functional", "GaussianNoise": "Dropout",
              "GaussianDropout": "Dropout", "AlphaDropout": "Dropout",
              "SpatialDropout2D": "Dropout", "BatchNormalizationV1": "BatchNormalization"}
OPS = {"Rescaling", "Normalization", "Add", "Subtract", "Multiply"}


def same_class(got, want):
    if want == "TFOpLambda" or want.startswith("keras.ops."):
        return got in OPS
    if want == "Rescaling":
        return got in ("Rescaling", "Normalization")
    return got == SAME_CLASS.get(want, want)


def main():
    want = json.load(open(sys.argv[1]))
    got, totals = {}, {}
    for key, value in rows(sys.stdin.read()):
        if key == "totals":
            totals = value
        else:
            got[key[0]] = (key[1], value)
    bad = []
    names = set()
    for layer in want["layers"]:
        if layer["class"] == "InputLayer":
            continue
        names.add(layer["name"])
        if layer["name"] not in got:
            bad.append(f"layer {layer['name']}: no row in rnc's summary")
        elif got[layer["name"]][1] != layer["params"]:
            bad.append(f"layer {layer['name']}: {got[layer['name']][1]} params, "
                       f"the framework counts {layer['params']}")
        elif not same_class(got[layer["name"]][0], layer["class"]):
            bad.append(f"layer {layer['name']}: class {got[layer['name']][0]}, "
                       f"the framework's is {layer['class']}")
    for name, (cls, _) in got.items():
        if cls != "InputLayer" and name not in names:
            bad.append(f"row {name} ({cls}): not a layer of the framework's model")
    for key, field in (("Total", "total"), ("Trainable", "trainable"),
                       ("Non-trainable", "non_trainable")):
        if totals.get(key) != want[field]:
            bad.append(f"{key} params: {totals.get(key)}, the framework counts {want[field]}")
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
