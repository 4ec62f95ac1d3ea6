#!/bin/bash
# atomic.sh: a command that fails leaves every file it would write as it
# was (rnc writes through a temporary file and rename(2): runtime/util.c's
# rn_write_files_atomic, for the compiler's files too), and no temporary
# file stays behind, for each kind of output: -o (C and header) when the
# source is bad and when the header cannot be written, --init-weights when
# the weights cannot be made and to an unwritable place, --run --output and
# a --main program's outputs with a bad input or bad weights. Then the same
# files are written when the command succeeds.
. "$(dirname "$0")/lib.sh"
D=$T/files
mkdir -p "$D"
printf 'input x[4, 4, 2]\nx = conv2d(x, 3, 3, padding=same)\noutput dense(flatten(x), 2)\n' >"$T/good.rn"
printf 'input x[4, 4, 2]\noutput conv2d(x, 3, 9)\n' >"$T/bad.rn"
# weights over --init-weights' 4 GiB: 9 kernels of 2^27 floats
{ echo 'input x[16384]'; for i in 1 2 3 4 5 6 7 8 9; do echo "y$i = dense(x, 8192)"; done
  echo 'output concat(y1, y2, y3, y4, y5, y6, y7, y8, y9)'; } >"$T/heavy.rn"

# sentinel FILE...: each file holds its own name, to be seen unchanged.
sentinel() { for f in "$@"; do echo "old $f" >"$f"; done; }
# untouched WHAT FILE...: each file still holds its sentinel.
untouched() {
    local what=$1 f; shift
    for f in "$@"; do
        if [ "$(cat "$f" 2>/dev/null)" = "old $f" ]; then ok; else bad "$what: $f was changed"; fi
    done
}
# fails WHAT CMD...: the command exits 1 with an error on stderr.
fails() {
    local what=$1; shift
    "$@" >"$T/stdout" 2>"$T/stderr"
    local rc=$?
    if [ $rc -eq 1 ] && [ -s "$T/stderr" ]; then ok; else
        bad "$what: exit $rc, stderr: $(head -3 "$T/stderr")"; fi
}
# no_temps WHAT: nothing but the expected names in $D.
no_temps() {
    if ls "$D" | grep -q 'tmp'; then bad "$1: temporary files left: $(ls "$D" | tr '\n' ' ')"; else ok; fi
}

# -o: bad source
sentinel "$D/m.c" "$D/m.h"
fails "-o with a bad source" "$RNC" "$T/bad.rn" -o "$D/m.c"
untouched "-o with a bad source" "$D/m.c" "$D/m.h"
no_temps "-o with a bad source"
# -o: the header cannot be written (a directory has its name): C untouched
rm -f "$D/m.h"; mkdir "$D/m.h"
fails "-o when the header cannot be written" "$RNC" "$T/good.rn" -o "$D/m.c"
untouched "-o when the header cannot be written" "$D/m.c"
no_temps "-o when the header cannot be written"
rmdir "$D/m.h"
# -o: the C cannot be written: the header, staged first, is not renamed
# into place either (the two are replaced together or not at all)
rm -f "$D/m.c"; mkdir "$D/m.c"; sentinel "$D/m.h"
fails "-o when the C cannot be written" "$RNC" "$T/good.rn" -o "$D/m.c"
untouched "-o when the C cannot be written" "$D/m.h"
no_temps "-o when the C cannot be written"
rmdir "$D/m.c"; sentinel "$D/m.c"
# -o: into a folder that does not exist
fails "-o into a missing folder" "$RNC" "$T/good.rn" -o "$D/none/m.c"
[ -e "$D/none" ] && bad "-o into a missing folder created it" || ok

# --init-weights: the weights cannot be made, or not written there
sentinel "$D/w.safetensors"
fails "--init-weights of weights over the limit" "$RNC" --init-weights "$D/w.safetensors" "$T/heavy.rn"
untouched "--init-weights of weights over the limit" "$D/w.safetensors"
fails "--init-weights with a bad source" "$RNC" --init-weights "$D/w.safetensors" "$T/bad.rn"
untouched "--init-weights with a bad source" "$D/w.safetensors"
mkdir "$D/wdir"
fails "--init-weights onto a folder" "$RNC" --init-weights "$D/wdir" "$T/good.rn"
[ -d "$D/wdir" ] && [ -z "$(ls "$D/wdir")" ] && ok || bad "--init-weights onto a folder changed it"
fails "--init-weights into a missing folder" "$RNC" --init-weights "$D/none/w.safetensors" "$T/good.rn"
no_temps "--init-weights failures"

# --run --output: bad input (wrong shape, damaged), bad weights
check "--init-weights" "$RNC" --init-weights "$T/w.safetensors" --seed 3 "$T/good.rn"
sentinel "$D/y.npy"
fails "--run with an input of the wrong shape" "$RNC" --run "$T/good.rn" --weights "$T/w.safetensors" \
    --input "$ROOT/tests/data/ok/a2x3.npy" --output "$D/y.npy"
untouched "--run with an input of the wrong shape" "$D/y.npy"
fails "--run with a damaged input" "$RNC" --run "$T/good.rn" --weights "$T/w.safetensors" \
    --input "$ROOT/tests/data/bad/truncated_data.npy" --output "$D/y.npy"
untouched "--run with a damaged input" "$D/y.npy"
fails "--run with damaged weights" "$RNC" --run "$T/good.rn" \
    --weights "$ROOT/tests/data/bad/gap.safetensors" --output "$D/y.npy"
untouched "--run with damaged weights" "$D/y.npy"
no_temps "--run failures"

# a --main program: bad input, bad weights
if "$RNC" "$T/good.rn" -o "$T/m.c" --main &&
    cc -O1 -std=c11 $SANFLAGS "$T/m.c" $("$RNC" --cflags) $("$RNC" --libs) -o "$T/m"; then
    ok
    fails "a --main program with a damaged input" "$T/m" "$T/w.safetensors" \
        "$ROOT/tests/data/bad/truncated_data.npy" "$D/y.npy"
    untouched "a --main program with a damaged input" "$D/y.npy"
    fails "a --main program with damaged weights" "$T/m" "$ROOT/tests/data/bad/gap.safetensors" \
        "$ROOT/tests/data/ok/a2x3.npy" "$D/y.npy"
    untouched "a --main program with damaged weights" "$D/y.npy"
    no_temps "--main program failures"
    # and when it works, the output is replaced whole: an input [4, 4, 2]
    # of zeros as NumPy writes it (header padded to 128 bytes)
    h="{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4, 2), }"
    { printf '\223NUMPY\001\000\166\000%s' "$h"; printf '%*s\n' $((117 - ${#h})) '';
      head -c 128 /dev/zero; } >"$T/zeros.npy"
    check "a --main program runs" "$T/m" "$T/w.safetensors" "$T/zeros.npy" "$D/y.npy"
    "$RNC" --run "$T/good.rn" --weights "$T/w.safetensors" --input "$T/zeros.npy" \
        --output "$T/want.npy" >/dev/null 2>&1
    same_file "a --main program replaced its output whole" "$T/want.npy" "$D/y.npy"
else
    bad "build the --main program"
fi

# success: the files appear, complete, and no temporary stays
check "-o succeeds" "$RNC" "$T/good.rn" -o "$D/m.c"
grep -q 'm.h' "$D/m.c" && grep -q 'good_load' "$D/m.h" && ok || bad "-o wrote complete files"
check "--init-weights succeeds" "$RNC" --init-weights "$D/w.safetensors" "$T/good.rn"
[ "$(head -c 3 "$D/w.safetensors" | tr -d '\0')" != old ] && ok || bad "--init-weights replaced the file"
no_temps "successful writes"
finish
