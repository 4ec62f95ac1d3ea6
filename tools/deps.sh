#!/bin/sh
# deps.sh [bench | trained]: installs the Debian packages rnc needs that this machine
# lacks. Build: gcc, make, flex, bison; JIT: libtcc-dev and tcc
# (libtcc1.a); rnc --import of ONNX files: libprotobuf-c-dev (the protobuf
# parser library) and protobuf-c-compiler (protoc-c turns compiler/onnx.proto
# into its C at build time); images in (librnimg.a): libpng-dev and
# libjpeg62-turbo-dev; tests: libcunit1-dev, clang (the warning check and
# sanitizers' second compiler), libclang-rt-14-dev (clang's libFuzzer
# runtime, make fuzz), python3-numpy (a few e2e checks read .npy and JSON
# with it); install: graphviz (--dot checked by dot, make pictures),
# man-db (the manual page rendered), pkg-config (rnrt.pc used), lintian
# (make deb's check); cross: gcc-aarch64-linux-gnu with
# libc6-dev-arm64-cross and qemu-user (the NEON kernels, built for aarch64
# and run under qemu: tests/e2e/cross.sh). With `bench` (make bench), also what the comparison needs:
# python3-torch (PyTorch, and the ONNX export), python3-torchvision and
# python3-onnx (make check-import, tools/make_onnx_goldens.py), and Node.js
# with npm where there is no node (onnxruntime-node comes from npm,
# tools/compare/).
# With `trained` (make demo-trained): python3-torch, python3-sklearn,
# python3-pil.
# Needs root for apt-get; otherwise says what is missing.
set -e
need="make gcc clang flex bison libtcc-dev tcc libprotobuf-c-dev protobuf-c-compiler libpng-dev libjpeg62-turbo-dev libcunit1-dev libclang-rt-14-dev python3-numpy
      graphviz man-db pkg-config lintian"
need="$need gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"
if [ "${1:-}" = bench ]; then
    need="$need python3-torch python3-torchvision python3-onnx"
    command -v node >/dev/null 2>&1 || need="$need nodejs npm"
fi
if [ "${1:-}" = trained ]; then # make demo-trained: tools/train_digits.py
    need="$need python3-torch python3-sklearn python3-pil"
fi
missing=""
for p in $need; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing Debian packages:$missing (run as root, or apt-get install them)" >&2
    exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
