#!/usr/bin/python3
"""Writes the runtime's test files: tests/data/ok/ (small valid safetensors
and .npy files) and tests/data/bad/ (damaged ones) with tests/data/bad/MANIFEST.

Run with Debian's /usr/bin/python3 (it has numpy) from the repository root:
    /usr/bin/python3 tools/make_bad_files.py

The valid .npy files come from NumPy itself, so the reader and the
byte-exact writer are checked against an independent implementation. The
safetensors files are built here byte by byte following the format's
description (8-byte little-endian header length, JSON header padded with
spaces to a multiple of 8, data), since the safetensors package is not
installed.

MANIFEST lines are tab-separated: FILE, READER (st or npy), a substring the
error message must contain, and for st an optional list of reads
"name=d0,d1;name2=d0" to perform after opening (a file that opens must then
fail one of these reads, or rn_st_check_all_used)."""

import io
import json
import os
import struct

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OK = os.path.join(ROOT, "tests", "data", "ok")
BAD = os.path.join(ROOT, "tests", "data", "bad")


def values(n):
    """The values every valid file holds: exact in float32."""
    return np.arange(n, dtype=np.float32) * np.float32(0.5) - np.float32(3)


def st_bytes(header, data=b"", pad=True, raw=False):
    """A safetensors file: header is a dict (dumped as JSON) or raw bytes."""
    h = header if raw else json.dumps(header).encode()
    if pad:
        h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(shape, offsets):
    return {"dtype": "F32", "shape": list(shape), "data_offsets": list(offsets)}


def write(folder, name, content):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(content)


def make_ok():
    os.makedirs(OK, exist_ok=True)
    # Header order differs from data order; metadata present.
    k = values(12).reshape(2, 2, 1, 3)
    b = values(3)
    header = {
        "__metadata__": {"format": "pt", "note": "rnc test"},
        "conv2d.bias": f32((3,), (48, 60)),
        "conv2d.kernel": f32((2, 2, 1, 3), (0, 48)),
    }
    write(OK, "small.safetensors", st_bytes(header, k.tobytes() + b.tobytes()))

    # Other dtypes beside F32, a scalar, an empty tensor, a \u-escaped name.
    f16 = np.arange(4, dtype=np.float16)
    i64 = np.arange(3, dtype=np.int64)
    boo = np.array([1, 0, 1], dtype=np.uint8)
    sc = values(1)
    header = {
        "half": {"dtype": "F16", "shape": [4], "data_offsets": [0, 8]},
        "long": {"dtype": "I64", "shape": [3], "data_offsets": [8, 32]},
        "flags": {"dtype": "BOOL", "shape": [3], "data_offsets": [32, 35]},
        "caf\u00e9.scalar": f32((), (35, 39)),
        "empty": f32((0, 3), (39, 39)),
    }
    data = f16.tobytes() + i64.tobytes() + boo.tobytes() + sc.tobytes()
    write(OK, "mixed.safetensors", st_bytes(header, data))

    # .npy from NumPy: version 1.0 through np.save, 2.0 and 3.0 explicitly.
    for name, shape in [("a2x3", (2, 3)), ("a5", (5,)), ("scalar", ()),
                        ("img", (1, 4, 4, 3)), ("empty", (0, 4))]:
        n = int(np.prod(shape)) if shape else 1
        np.save(os.path.join(OK, name + ".npy"), values(n).reshape(shape))
    for version in [(2, 0), (3, 0)]:
        with open(os.path.join(OK, "a2x3_v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, values(6).reshape(2, 3),
                                      version=version)


def npy_bytes(header_text, data=b"", version=(1, 0)):
    h = header_text.encode()
    if version == (1, 0):
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + data
    return (b"\x93NUMPY" + bytes(version) + struct.pack("<I", len(h)) + h
            + data)


def npy_header(descr="'<f4'", fortran="False", shape="(2, 3)", extra=""):
    return ("{'descr': %s, 'fortran_order': %s, 'shape': %s, %s}"
            % (descr, fortran, shape, extra)).ljust(117) + "\n"


def make_bad():
    os.makedirs(BAD, exist_ok=True)
    manifest = []

    def st(name, content, message, reads=""):
        write(BAD, name, content)
        manifest.append((name, "st", message, reads))

    def npy(name, content, message):
        write(BAD, name, content)
        manifest.append((name, "npy", message, ""))

    d24 = values(6).tobytes()
    w = {"w": f32((2, 3), (0, 24))}
    st("empty.safetensors", b"", "file too short")
    st("short_length.safetensors", b"\x10\x00\x00", "file too short")
    st("length_past_end.safetensors",
       struct.pack("<Q", 1000) + b"{}      ", "runs past the end of the file")
    st("length_huge.safetensors", struct.pack("<Q", 1 << 63) + b"{}      ",
       "exceeds the limit")
    st("not_json.safetensors", st_bytes(b"hello", raw=True),
       "header is not valid JSON")
    st("json_array.safetensors", st_bytes([1, 2]),
       "header is not a JSON object")
    st("json_trailing.safetensors", st_bytes(b'{"w":' + json.dumps(w["w"]).encode() + b"} x", d24, raw=True),
       "trailing characters")
    st("nul_padding.safetensors",
       st_bytes(json.dumps(w).encode() + b"\0\0\0", d24, raw=True),
       "trailing characters")
    st("duplicate_key.safetensors",
       st_bytes(b'{"w":' + json.dumps(w["w"]).encode() + b',"w":'
                + json.dumps(f32((2, 3), (24, 48))).encode() + b"}",
                d24 + d24, raw=True),
       "duplicate key 'w'")
    st("duplicate_key_inner.safetensors",
       st_bytes(b'{"w":{"dtype":"F32","dtype":"F32","shape":[2,3],'
                b'"data_offsets":[0,24]}}', d24, raw=True),
       "duplicate key 'dtype'")
    st("unknown_dtype.safetensors",
       st_bytes({"w": {"dtype": "F17", "shape": [2, 3],
                       "data_offsets": [0, 24]}}, d24),
       "unknown dtype 'F17'")
    st("dtype_not_string.safetensors",
       st_bytes({"w": {"dtype": 32, "shape": [2, 3], "data_offsets": [0, 24]}},
                d24), "\"dtype\" is not a string")
    for key in ["dtype", "shape", "data_offsets"]:
        entry = dict(f32((2, 3), (0, 24)))
        del entry[key]
        st("missing_%s.safetensors" % key, st_bytes({"w": entry}, d24),
           "tensor 'w': missing \"%s\"" % key)
    entry = dict(f32((2, 3), (0, 24)), foo=1)
    st("extra_key.safetensors", st_bytes({"w": entry}, d24),
       "tensor 'w': unexpected key 'foo'")
    st("entry_not_object.safetensors", st_bytes({"w": 5}, d24),
       "tensor 'w': entry is not an object")
    st("negative_shape.safetensors", st_bytes({"w": f32((-1, 3), (0, 24))}, d24),
       "\"shape\" must be an array of non-negative integers")
    st("float_shape.safetensors",
       st_bytes(b'{"w":{"dtype":"F32","shape":[2.0,3],"data_offsets":[0,24]}}',
                d24, raw=True),
       "\"shape\" must be an array of non-negative integers")
    st("shape_not_array.safetensors",
       st_bytes({"w": {"dtype": "F32", "shape": 6, "data_offsets": [0, 24]}},
                d24), "\"shape\" must be an array")
    st("offsets_three.safetensors", st_bytes({"w": f32((2, 3), (0, 12, 24))}, d24),
       "\"data_offsets\" must be [begin, end]")
    st("offsets_negative.safetensors", st_bytes({"w": f32((2, 3), (-24, 0))}, d24),
       "\"data_offsets\" must be [begin, end]")
    st("offsets_reversed.safetensors", st_bytes({"w": f32((2, 3), (24, 0))}, d24),
       "data_offsets [24, 0] are reversed")
    st("offsets_past_end.safetensors", st_bytes({"w": f32((2, 3), (400, 424))}, d24),
       "data_offsets [400, 424] run past the end of the data (24 bytes)")
    st("offsets_mismatch.safetensors", st_bytes({"w": f32((2, 3), (0, 20))}, d24),
       "tensor 'w': data_offsets [0, 20] do not match shape [2, 3] of F32 (24 bytes)")
    st("overlap.safetensors",
       st_bytes({"a": f32((2, 3), (0, 24)), "b": f32((2, 3), (16, 40))},
                d24 + d24[:16]), "overlaps tensor 'a'")
    st("gap.safetensors",
       st_bytes({"a": f32((2, 3), (0, 24)), "b": f32((2, 3), (32, 56))},
                d24 + bytes(8) + d24), "belong to no tensor")
    st("trailing_bytes.safetensors", st_bytes(w, d24 + bytes(8)),
       "8 trailing bytes after the last tensor")
    st("size_overflow.safetensors",
       st_bytes({"w": f32((1 << 32, 1 << 32, 4), (0, 24))}, d24),
       "overflows 64 bits")
    st("sub_byte.safetensors",
       st_bytes({"w": {"dtype": "F4", "shape": [3], "data_offsets": [0, 1]}},
                b"\0"), "not a whole number of bytes")
    st("metadata_not_string.safetensors",
       st_bytes({"__metadata__": {"k": 1}, "w": f32((2, 3), (0, 24))}, d24),
       "__metadata__ value 'k' is not a string")
    st("metadata_not_object.safetensors",
       st_bytes({"__metadata__": "x", "w": f32((2, 3), (0, 24))}, d24),
       "__metadata__ is not an object")
    st("deep_nesting.safetensors",
       st_bytes(b'{"__metadata__":' + b"[" * 200 + b"]" * 200 + b"}",
                raw=True), "nesting deeper")
    body = json.dumps(f32((2, 3), (0, 24))).encode()
    st("key_not_utf8.safetensors", st_bytes(b'{"w\xff":' + body + b"}", d24, raw=True),
       "invalid UTF-8")
    st("key_overlong_utf8.safetensors",
       st_bytes(b'{"w\xc0\xaf":' + body + b"}", d24, raw=True), "invalid UTF-8")
    st("key_raw_control.safetensors",
       st_bytes(b'{"w\x01":' + body + b"}", d24, raw=True), "control character")
    st("key_escaped_control.safetensors",
       st_bytes(b'{"w\\u0001":' + body + b"}", d24, raw=True),
       "contains control characters")
    st("key_lone_surrogate.safetensors",
       st_bytes(b'{"w\\ud800":' + body + b"}", d24, raw=True), "surrogate")
    st("key_escaped_nul.safetensors",
       st_bytes(b'{"w\\u0000":' + body + b"}", d24, raw=True), "\\u0000")
    st("leading_zero.safetensors",
       st_bytes(b'{"w":{"dtype":"F32","shape":[02,3],"data_offsets":[0,24]}}',
                d24, raw=True), "header is not valid JSON")
    st("unterminated.safetensors", st_bytes(b'{"w":{"dtype":"F32', raw=True),
       "header is not valid JSON")
    # Valid files that the reader must still refuse for a model.
    half = np.arange(6, dtype=np.float16).tobytes()
    st("wrong_dtype.safetensors",
       st_bytes({"w": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 12]}},
                half), "tensor 'w' has dtype F16, expected F32", "w=2,3")
    st("wrong_shape.safetensors", st_bytes(w, d24),
       "tensor 'w' has shape [2, 3], expected [3, 2]", "w=3,2")
    st("wrong_rank.safetensors", st_bytes(w, d24),
       "tensor 'w' has shape [2, 3], expected [1, 2, 3]", "w=1,2,3")
    st("missing_tensor.safetensors", st_bytes(w, d24),
       "no tensor 'b' in", "w=2,3;b=3")
    st("extra_tensor.safetensors",
       st_bytes({"w": f32((2, 3), (0, 24)), "foo.kernel": f32((1,), (24, 28))},
                d24 + d24[:4]), "unexpected tensor 'foo.kernel' in", "w=2,3")

    data = values(6).tobytes()
    npy("bad_magic.npy", b"\x93NUMPX\x01\x00" + npy_bytes(npy_header(), data)[8:],
        "bad magic")
    npy("empty.npy", b"", "bad magic")
    npy("version4.npy", npy_bytes(npy_header(), data, version=(4, 0)),
        "unsupported .npy version 4.0")
    npy("version1_1.npy", b"\x93NUMPY\x01\x01" + npy_bytes(npy_header(), data)[8:],
        "unsupported .npy version 1.1")
    npy("truncated_header.npy", npy_bytes(npy_header())[:60], "truncated header")
    npy("truncated_version.npy", b"\x93NUMPY\x01", "truncated header")
    npy("structured.npy",
        npy_bytes(npy_header(descr="[('a', '<f4'), ('b', '<f4')]"), data),
        "structured dtypes are not supported")
    npy("truncated_length_v2.npy", b"\x93NUMPY\x02\x00\x10\x00",
        "truncated header")
    npy("not_dict.npy", npy_bytes("[1, 2]".ljust(117) + "\n", data),
        "header is not the dict NumPy writes")
    f = io.BytesIO()
    np.save(f, values(6).astype(np.float64).reshape(2, 3))
    npy("f8.npy", f.getvalue(),
        "dtype '<f8' is not float32; save with x.astype(np.float32)")
    f = io.BytesIO()
    np.save(f, np.arange(6, dtype=np.int32).reshape(2, 3))
    npy("i4.npy", f.getvalue(), "dtype '<i4' is not float32")
    f = io.BytesIO()
    np.save(f, values(6).astype(">f4").reshape(2, 3))
    npy("big_endian.npy", f.getvalue(), "dtype '>f4' is big-endian")
    npy("pipe_f4.npy", npy_bytes(npy_header(descr="'|f4'"), data),
        "dtype '|f4' is not float32")
    f = io.BytesIO()
    np.save(f, np.asfortranarray(values(6).reshape(2, 3)))
    npy("fortran.npy", f.getvalue(), "Fortran-order")
    npy("shape_negative.npy", npy_bytes(npy_header(shape="(-2, 3)"), data),
        "non-negative integers")
    npy("shape_not_tuple.npy", npy_bytes(npy_header(shape="6"), data),
        "not a tuple")
    npy("shape_parenthesized.npy", npy_bytes(npy_header(shape="(6)"), data),
        "not a tuple")
    npy("shape_list.npy", npy_bytes(npy_header(shape="[2, 3]"), data),
        "not a tuple")
    npy("shape_9d.npy", npy_bytes(npy_header(shape="(1,1,1,1,1,1,1,1,6)"), data),
        "more than 8 dimensions")
    npy("shape_overflow.npy",
        npy_bytes(npy_header(shape="(%d, %d)" % (1 << 40, 1 << 40)), data),
        "too large")
    npy("shape_float.npy", npy_bytes(npy_header(shape="(2.0, 3)"), data),
        "expected ',' or ')'")
    npy("missing_shape.npy",
        npy_bytes("{'descr': '<f4', 'fortran_order': False, }".ljust(117) + "\n",
                  data), "'shape' is missing")
    npy("unknown_key.npy", npy_bytes(npy_header(extra="'foo': 1, "), data),
        "unexpected key 'foo'")
    npy("duplicate_key.npy",
        npy_bytes(npy_header(extra="'shape': (2, 3), "), data),
        "duplicate key 'shape'")
    npy("header_trailing.npy",
        npy_bytes(npy_header().rstrip("\n").rstrip() + " x\n", data),
        "trailing characters")
    npy("truncated_data.npy", npy_bytes(npy_header(), data[:20]),
        "data is truncated")
    npy("trailing_data.npy", npy_bytes(npy_header(), data + b"\0\0\0\0"),
        "trailing bytes after the data")
    npy("truncated_data_v2.npy", npy_bytes(npy_header(), data[:4], version=(2, 0)),
        "data is truncated")

    with open(os.path.join(BAD, "MANIFEST"), "w") as f:
        f.write("# made by tools/make_bad_files.py: file, reader, message"
                " substring, reads (st)\n")
        for row in manifest:
            assert "\t" not in "".join(row)
            f.write("\t".join(row).rstrip("\t") + "\n")


if __name__ == "__main__":
    make_ok()
    make_bad()
