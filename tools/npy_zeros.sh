#!/bin/sh
# npy_zeros.sh FILE H W C: writes a float32 .npy of zeros [H, W, C] (NumPy's
# version 1.0 header, padded to 64 bytes), without Python; for the
# benchmarks' inputs.
[ $# -eq 4 ] || { echo "usage: npy_zeros.sh FILE H W C" >&2; exit 2; }
dict="{'descr': '<f4', 'fortran_order': False, 'shape': ($2, $3, $4), }"
pad=$(( (64 - (10 + ${#dict} + 1) % 64) % 64 ))
hlen=$(( ${#dict} + pad + 1 ))
{
    printf '\223NUMPY\001\000'
    printf "\\$(printf %03o $((hlen % 256)))\\$(printf %03o $((hlen / 256)))"
    printf '%s%*s\n' "$dict" "$pad" ""
    head -c $(( $2 * $3 * $4 * 4 )) /dev/zero
} >"$1"
