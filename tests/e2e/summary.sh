#!/bin/bash
# summary.sh: `rnc --summary` of every example equals its golden in
# tests/summary/ (goldens that tools/keras_check/check.js has checked
# against TF.js); the --expand golden of resnet34; shape errors of
# shape.c reach the user with a location; and `--dot` is well formed:
# balanced braces, one node line per layer with its input and output
# shapes, edges between known nodes (and `dot` accepts it, where graphviz
# is installed); residual edges and `layer` clusters are drawn. Where TF.js is
# installed, tools/keras_check/check.js runs on the goldens as well.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2

n=0
for want in tests/summary/*.txt; do
    name=$(basename "$want" .txt)
    case $name in *_expand) continue ;; esac
    n=$((n + 1))
    check "$name: --summary runs" "$RNC" --summary "examples/$name.rn"
    "$RNC" --summary "examples/$name.rn" >"$T/got" 2>/dev/null
    same_file "$name: --summary equals tests/summary/$name.txt" "$want" "$T/got"
done
if [ "$n" -ge 6 ]; then ok; else bad "only $n summary goldens"; fi

"$RNC" --summary --expand examples/resnet34.rn >"$T/got" 2>/dev/null
same_file "resnet34 --expand" tests/summary/resnet34_expand.txt "$T/got"

# Where TF.js is installed (cd tools/keras_check && npm install), the
# goldens are checked against it again (half a second).
if command -v node >/dev/null 2>&1 &&
   [ -d tools/keras_check/node_modules/@tensorflow/tfjs ]; then
    check "TF.js agrees with every golden" node tools/keras_check/check.js
fi

# Shape errors: the user's words, the call's location, exit 1, stdout empty.
cat >"$T/bad_add.rn" <<'RN'
input image[32, 32, 64]
a = conv2d(image, 64, 3, stride=2, padding=same)
output a + image
RN
"$RNC" --summary "$T/bad_add.rn" >"$T/stdout" 2>"$T/stderr"
rc=$?
if [ $rc -eq 1 ]; then ok; else bad "bad add: exit $rc, not 1"; fi
if grep -q "bad_add.rn:3:[0-9]*: error: add: shapes (None, 16, 16, 64) and (None, 32, 32, 64) differ" "$T/stderr"
then ok; else bad "bad add: message"; sed 's/^/    /' "$T/stderr" >&2; fi
if [ -s "$T/stdout" ]; then bad "bad add: printed a summary"; else ok; fi

cat >"$T/big_kernel.rn" <<'RN'
input image[5, 5, 3]
output conv2d(image, 8, 7)
RN
"$RNC" --check "$T/big_kernel.rn" >"$T/stdout" 2>"$T/stderr"
rc=$?
if [ $rc -eq 1 ]; then ok; else bad "big kernel: exit $rc, not 1"; fi
if grep -q "big_kernel.rn:2:[0-9]*: error: conv2d: kernel 7x7 is larger than the input 5x5" "$T/stderr"
then ok; else bad "big kernel: message"; sed 's/^/    /' "$T/stderr" >&2; fi

cat >"$T/huge.rn" <<'RN'
input image[4096, 4096, 3]
output conv2d(image, 512, 3, padding=same)
RN
"$RNC" --check "$T/huge.rn" >"$T/stdout" 2>"$T/stderr"
rc=$?
if [ $rc -eq 1 ]; then ok; else bad "huge tensor: exit $rc, not 1"; fi
if grep -q "huge.rn:2:[0-9]*: error: conv2d: output (None, 4096, 4096, 512) is over 2 GiB" "$T/stderr"
then ok; else bad "huge tensor: message"; sed 's/^/    /' "$T/stderr" >&2; fi

# The extra lines below Keras's part.
"$RNC" --summary examples/resnet50.rn >"$T/got" 2>/dev/null
for w in "Multiply-accumulates: 3,8" "Weights (float32): 102,546,848 bytes" \
         "Activation arena: "; do
    if grep -qF "$w" "$T/got"; then ok; else bad "resnet50: no '$w'"; fi
done

# --dot: count node lines, check ids and edges, balance the braces.
for src in examples/*.rn; do
    name=$(basename "$src" .rn)
    if ! "$RNC" --dot "$src" >"$T/g.dot" 2>"$T/stderr"; then
        bad "$name: --dot failed"; continue
    fi
    ok
    # layers = rows of the expanded summary minus the group rows
    "$RNC" --summary --expand "$src" | sed 's/^|*//; s/|*$//' | awk '
        /^=/ { sec++; sep = 1; next }
        /\xc2\xaf/ { frames++; sep = 1; next }   # a group opens and closes
        sec != 1 { next }
        /^ *$/ { sep = 1; next }
        { if (sep) rows++; sep = 0 }
        END { print rows - frames / 2 }' >"$T/layers"
    awk -v want="$(cat "$T/layers")" '
        { for (i = 1; i <= length($0); i++) {
              c = substr($0, i, 1)
              if (c == "{") depth++
              if (c == "}") { depth--; if (depth < 0) neg = 1 } } }
        /^ *n[0-9]+ \[label=</ { id = $1; sub(/^n/, "", id)
              if (id in seen) dup = 1; seen[id] = 1; nodes++
              if ($0 !~ /<td>input:<\/td><td>[[(].*<td>output:<\/td><td>[[(]/)
                  noshape = 1 }
        /^ *n[0-9]+ -> n[0-9]+;$/ { a = $1; b = $3; sub(/^n/, "", a)
              sub(/^n/, "", b); sub(/;$/, "", b); ea[++edges] = a; eb[edges] = b }
        END {
            if (depth != 0 || neg) { print "unbalanced braces"; exit 1 }
            if (dup) { print "a node twice"; exit 1 }
            if (noshape) { print "a node without input and output shapes"; exit 1 }
            if (nodes != want) { print nodes " node lines, " want " layers"; exit 1 }
            for (i = 1; i <= edges; i++)
                if (!(ea[i] in seen) || !(eb[i] in seen)) { print "edge to nowhere"; exit 1 }
            if (edges < nodes - 1) { print "too few edges"; exit 1 }
        }' "$T/g.dot" >"$T/why"
    if [ $? -eq 0 ]; then ok; else bad "$name: --dot: $(cat "$T/why")"; fi
    if command -v dot >/dev/null 2>&1; then
        check "$name: dot accepts it" dot -Tcanon -o /dev/null "$T/g.dot"
    fi
done

# Keras's plot: an Add lists both input shapes, and both edges reach it,
# one of them the residual edge from rescaling (n1) past conv2d..max_pool.
"$RNC" --dot examples/small_residual.rn >"$T/g.dot"
if grep -q '^ *n6 \[label=<.*>add: Add</td><td>input:</td><td>\[(None, 16, 16, 32), (None, 16, 16, 32)\]</td>.*<td>output:</td><td>(None, 16, 16, 32)</td>' "$T/g.dot"
then ok; else bad "small_residual --dot: the add's box"; fi
if grep -q '^ *n4 -> n6;$' "$T/g.dot" && grep -q '^ *n5 -> n6;$' "$T/g.dot" &&
   grep -q '^ *n1 -> n5;$' "$T/g.dot"
then ok; else bad "small_residual --dot: the residual edges"; fi
# Each of ResNet-34's 16 residual units is a cluster.
"$RNC" --dot examples/resnet34.rn >"$T/g.dot"
n=$(grep -c '^ *label="residual_unit[_0-9]*: ResidualUnit";$' "$T/g.dot")
if [ "$n" -eq 16 ]; then ok; else bad "resnet34 --dot: $n clusters, not 16"; fi

# The README's pictures (docs/*.svg, from `make pictures`) show what --dot
# draws now: the same boxes and clusters, by their "name: Type" texts.
for m in small_residual resnet34; do
    "$RNC" --dot "examples/$m.rn" |
        sed -n 's/.*<td rowspan="2">\([^<]*\)<.*/\1/p; s/^ *label="\(.*\)";$/\1/p' |
        LC_ALL=C sort >"$T/want"
    sed -n 's/.*<text[^>]*>\([^<]*\)<\/text>.*/\1/p' "docs/$m.svg" |
        grep -v -e '^input:$' -e '^output:$' -e '^[[(]' | LC_ALL=C sort >"$T/got"
    if cmp -s "$T/want" "$T/got"; then ok; else
        bad "docs/$m.svg is not what rnc --dot draws: run make pictures"
        diff "$T/want" "$T/got" | head -5 | sed 's/^/    /' >&2
    fi
done
finish
