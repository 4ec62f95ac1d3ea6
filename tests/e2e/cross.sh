#!/bin/bash
# cross.sh: the convolution kernels on the paths this machine does not run
# by itself, each checked against float64 definitions on random shapes
# (direct, Winograd F(2x2) and F(4x4), depthwise, every epilogue) by
# tests/tools/kernel_check.c:
#
# 1. The plain C path (x86-64 baseline, RN_NO_SIMD: no vectors, no AVX2
#    chosen at run time), built into $BUILD-portable.
# 2. aarch64 NEON: the runtime built by aarch64-linux-gnu-gcc with -Werror
#    into build-aarch64, run under qemu-aarch64 on a quarter of the cases
#    (qemu is slow); and its kernels compiled by clang for aarch64 with
#    -Werror. Skipped, saying so, when the cross compiler or qemu is
#    missing (tools/deps.sh installs them).
# 3. The kernel headers as a standalone model uses them, without librnrt
#    (tests/tools/kernel_const.c: literal descriptors, libm alone): gcc
#    and clang, -Werror, plain C, AVX2 + FMA and AVX-512 (run where the CPU has them),
#    and aarch64 under qemu (with 2.'s conditions).
# Not in the SAN=1 pass: the unit tests run the kernels sanitized at every
# level this machine has, plain C too; the rest is other targets' (its
# sanitized copies took minutes to compile).
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2
JOBS=-j2
if [ "${SAN:-0}" = 1 ]; then
    echo "cross.sh: skipped in the sanitizer pass (the unit tests check the kernels sanitized)" >&2
    finish
    exit
fi

# 1. plain C
march=
[ "$(uname -m)" = x86_64 ] && march=-march=x86-64
P=$BUILD-portable
if make -s $JOBS BUILD="$P" OPT="-O2 -Werror -DRN_NO_SIMD $march" \
    "$P/kernel_check" >"$T/make.out" 2>&1; then
    ok
    check "plain C kernels against float64" "$P/kernel_check"
    grep -q 'plain C' "$T/out" || bad "kernel_check did not run the plain C path: $(head -1 "$T/out")"
else
    bad "build of the plain C runtime"; head -20 "$T/make.out" | sed 's/^/    /' >&2
fi

# 2. aarch64
QEMU_LD=/usr/aarch64-linux-gnu
if ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v qemu-aarch64 >/dev/null ||
     [ ! -d "$QEMU_LD" ]; then
    echo "cross.sh: aarch64 skipped: aarch64-linux-gnu-gcc, qemu-aarch64 or $QEMU_LD missing (tools/deps.sh installs them)"
else
    A=$ROOT/build-aarch64
    if make -s $JOBS BUILD="$A" CC=aarch64-linux-gnu-gcc OPT="-O2 -Werror" \
        "$A/kernel_check" >"$T/make.out" 2>&1; then
        ok
        check "NEON kernels against float64 under qemu" \
            timeout 600 qemu-aarch64 -L "$QEMU_LD" "$A/kernel_check" 25
        grep -q 'NEON' "$T/out" || bad "kernel_check did not run the NEON path: $(head -1 "$T/out")"
    else
        bad "aarch64 build of the runtime"; head -20 "$T/make.out" | sed 's/^/    /' >&2
    fi
    if command -v clang >/dev/null; then
        for f in runtime/direct.c runtime/winograd.c runtime/depthwise.c runtime/conv.c; do
            check "clang for aarch64, warning-free: $f" \
                clang --target=aarch64-linux-gnu -isystem "$QEMU_LD/include" -std=c11 \
                -Wall -Wextra -pedantic -Werror -O2 -fsyntax-only -Iruntime "$f"
        done
    fi
fi

# 3. standalone use of the headers
CFLAGS_K="-std=c11 -Wall -Wextra -pedantic -Werror -O2 -Iruntime"
avx2=0 avx512=0
grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && avx2=1
[ $avx2 = 1 ] && grep -qw avx512f /proc/cpuinfo && avx512=1
for cc in gcc clang; do
    command -v $cc >/dev/null || { echo "cross.sh: $cc missing, its kernel_const skipped"; continue; }
    check "kernel headers with constants, $cc, plain C" \
        $cc $CFLAGS_K tests/tools/kernel_const.c -lm -o "$T/kc_$cc"
    check "kernel_const, $cc, plain C" "$T/kc_$cc"
    if [ "$(uname -m)" = x86_64 ]; then
        check "kernel headers with constants, $cc, AVX2" \
            $cc $CFLAGS_K -mavx2 -mfma tests/tools/kernel_const.c -lm -o "$T/kc_${cc}_avx2"
        [ $avx2 = 1 ] && check "kernel_const, $cc, AVX2" "$T/kc_${cc}_avx2"
        check "kernel headers with constants, $cc, AVX-512" \
            $cc $CFLAGS_K -mavx512f -mavx2 -mfma tests/tools/kernel_const.c -lm \
            -o "$T/kc_${cc}_avx512"
        [ $avx512 = 1 ] && check "kernel_const, $cc, AVX-512" "$T/kc_${cc}_avx512"
    fi
done
if command -v aarch64-linux-gnu-gcc >/dev/null &&
    command -v qemu-aarch64 >/dev/null && [ -d "$QEMU_LD" ]; then
    check "kernel headers with constants, aarch64" \
        aarch64-linux-gnu-gcc $CFLAGS_K tests/tools/kernel_const.c -lm -o "$T/kc_a64"
    check "kernel_const, NEON under qemu" qemu-aarch64 -L "$QEMU_LD" "$T/kc_a64"
fi

finish
