#!/bin/bash
# limits.sh: the bounds of docs/limits.md that tests/errors/ cannot show
# (the front end's corpus runs `rnc --check` on small files): a source over
# 16 MiB, a weights header over 100 MB, an .npy of rank 9, and a model
# whose weights are over --init-weights' 4 GiB. Each is refused with a
# message naming the file, exit 1, quickly, and with no output written.
. "$(dirname "$0")/lib.sh"
printf 'input x[4, 4, 2]\noutput conv2d(x, 3, 3)\n' >"$T/m.rn"
check "--init-weights" "$RNC" --init-weights "$T/w.safetensors" "$T/m.rn"

# refused PATTERN WHAT CMD...: exit 1 within 20 s, PATTERN on stderr.
refused() {
    local pat=$1 what=$2; shift 2
    timeout 20 "$@" >"$T/stdout" 2>"$T/stderr"
    local rc=$?
    if [ $rc -eq 1 ] && grep -q -- "$pat" "$T/stderr"; then ok; else
        bad "$what: exit $rc, stderr: $(head -3 "$T/stderr")"; fi
}

# a source of 16 MiB + 1 byte (comments: valid but for the size)
{ echo 'input x[4]'; echo 'output x'; } >"$T/big.rn"
head -c $((16 * 1024 * 1024)) /dev/zero | tr '\0' '#' >>"$T/big.rn"
refused 'file too large (over 16 MiB)' "a source over 16 MiB" "$RNC" --check "$T/big.rn"
refused 'file too large' "a source over 16 MiB, -o" "$RNC" "$T/big.rn" -o "$T/big.c"
[ -e "$T/big.c" ] && bad "-o of a source over 16 MiB wrote big.c" || ok

refused 'exceeds the limit' "a weights header over 100 MB" \
    "$RNC" --run "$T/m.rn" --weights "$ROOT/tests/data/bad/length_huge.safetensors"
refused 'more than 8 dimensions' "an .npy of rank 9" \
    "$RNC" --run "$T/m.rn" --weights "$T/w.safetensors" \
    --input "$ROOT/tests/data/bad/shape_9d.npy" --output "$T/y.npy"
[ -e "$T/y.npy" ] && bad "--run with a bad input wrote its output" || ok

{ echo 'input x[16384]'; for i in 1 2 3 4 5 6 7 8 9; do echo "y$i = dense(x, 8192)"; done
  echo 'output concat(y1, y2, y3, y4, y5, y6, y7, y8, y9)'; } >"$T/heavy.rn"
refused 'weights are over 4 GiB' "weights over 4 GiB" \
    "$RNC" --init-weights "$T/heavy.safetensors" "$T/heavy.rn"
[ -e "$T/heavy.safetensors" ] && bad "--init-weights over the limit wrote a file" || ok

# Repeating an empty list by the largest int is the empty list, at once
# (it used to loop 2^63 times: tests/fuzz/regressions/frontend/).
printf 'xs = [] * 9223372036854775807\ninput x[2]\noutput dense(x, len(xs) + 1)\n' >"$T/rep.rn"
timeout 10 "$RNC" --summary "$T/rep.rn" >"$T/stdout" 2>"$T/stderr"
if [ $? -eq 0 ] && grep -q 'Total params: 3' "$T/stdout"; then ok; else
    bad "[] * 2^63-1: $(head -3 "$T/stderr")"; fi

# The bounds must also keep every command fast: 100,000 layers (the most
# there may be) compile in seconds (elaborate, plan, emit); a quadratic
# pass would take many (plan_arena once did: tests/fuzz/known/).
if [ "${SAN:-0}" = 1 ]; then
    echo "limits: the timing of 100,000 layers is skipped in the SAN=1 pass" >&2
else
    printf 'input x[8]\nfor i in range(99990) {\n    x = relu(x)\n}\noutput x\n' >"$T/chain.rn"
    for cmd in "-o $T/chain.c"; do
        start=$(date +%s%N)
        if timeout 60 "$RNC" $cmd "$T/chain.rn" >/dev/null 2>"$T/stderr"; then
            ms=$(( ($(date +%s%N) - start) / 1000000 ))
            limit=3000
            if [ $ms -le $limit ]; then ok; else
                bad "rnc $cmd of 100,000 layers took $ms ms (limit $limit ms)"
            fi
        else
            bad "rnc $cmd of 100,000 layers failed: $(head -3 "$T/stderr")"
        fi
    done
fi
finish
