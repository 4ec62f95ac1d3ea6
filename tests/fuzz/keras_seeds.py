"""keras_seeds.py: fuzz_keras's seeds from the models of tests/import/:
model.json (its groups joined into one whose shard is "w.bin", compact),
a NUL byte, then the shard's bytes. Models over LIMIT bytes are left out.

    python3 tests/fuzz/keras_seeds.py OUT_DIR [LIMIT]
"""
import glob
import json
import os
import sys


def main():
    out = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 65536
    os.makedirs(out, exist_ok=True)
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "import")
    for path in sorted(glob.glob(os.path.join(root, "keras*", "*", "model.json"))):
        d = os.path.dirname(path)
        doc = json.load(open(path))
        data = b""
        groups = doc.get("weightsManifest") if isinstance(doc, dict) else None
        if isinstance(groups, list) and groups:
            try:
                for g in groups:
                    for p in g["paths"]:
                        data += open(os.path.join(d, p), "rb").read()
                weights = [w for g in groups for w in g["weights"]]
                doc["weightsManifest"] = [{"paths": ["w.bin"], "weights": weights}]
            except (OSError, KeyError, TypeError):
                pass
        blob = json.dumps(doc, separators=(",", ":")).encode() + b"\0" + data
        if len(blob) <= limit:
            name = os.path.basename(os.path.dirname(d)) + "_" + os.path.basename(d)
            open(os.path.join(out, name + ".keras"), "wb").write(blob)


if __name__ == "__main__":
    main()
