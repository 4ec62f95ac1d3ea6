#!/bin/sh
# bench_kernel.sh: the convolution kernels (runtime/conv.c, depthwise.c) on
# every distinct convolution shape of ResNet-34 at 224x224 and of the
# seed-000 net at 32x32, and on MobileNet v1's depthwise shapes at
# 224x224, batch 1: GFLOP/s and % of the FMA peak per layer at 1 and 2
# threads, and each network's conv time (sum over its layers). Figures
# only; asserts nothing.
#
#   tools/bench_kernel.sh [peak_gflops_per_core] [seconds_per_shape]
#
# BUILD picks the build folder (default build). The peak defaults to 102
# GFLOP/s (Zen 3 at 3.2 GHz: 2 FMA pipes x 8 floats x 2 flops). GFLOP/s
# are direct convolution's FLOPs per second: the 3x3 stride-1 layers run as
# Winograd (runtime/winograd.c), which multiplies less, and pass 100%.
# Timings are the fastest run of each shape, as other work on the machine
# only slows.
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
make --no-print-directory -s BUILD="$BUILD" "$BUILD/bench_kernel" >/dev/null || exit 1
grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: /cpu: /'
"$BUILD/bench_kernel" "${1:-102}" "${2:-0.3}"
