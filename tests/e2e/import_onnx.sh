#!/bin/bash
# import_onnx.sh: `rnc --import` of the ONNX files in tests/import/onnx/
# (made by tools/make_onnx_goldens.py from small torchvision-style modules
# exported by PyTorch at opsets 11, 13 and 17).
#
# 1. Each NAME.onnx: imported, then compiled ahead of time (cc) and run,
#    and run through the JIT (rnc --run); both outputs must match PyTorch's
#    (NAME.out.npy): |got - want| <= 1e-4 * max|want| + 1e-5 and the same
#    argmax (tests/tools/npycmp.c). The written .rn summarizes, and
#    importing again gives the same bytes.
# 2. NAME.rn.expected, where committed: the exact text of the import.
# 3. bad/NAME.onnx: exit 1, the exact stderr of bad/NAME.expected (every
#    problem of the file at once), and nothing written, not even over an
#    existing file.
# 4. trace/: a small PyTorch network (tools/make_import_trace_golden.py)
#    imported, traced by `rnc --run --trace` and compared with PyTorch's
#    own trace (tools/trace_torch.py, committed): every module of the
#    source is a layer of its own under its name, within tolerance, none
#    missing (an activation folded into its conv would hide both).
# 5. Bad usage exits 2.
# UPDATE=1 rewrites the .expected files from the current rnc (review the
# diffs by eye before committing).
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2
D=tests/import/onnx
need_npycmp

for model in "$D"/*.onnx; do
    name=$(basename "$model" .onnx)
    d=$T/$name
    mkdir -p "$d"
    if ! "$RNC" --import "$model" -o "$d/net.rn" --weights "$d/net.safetensors" \
        2>"$d/err"; then
        bad "$name: import failed"
        sed 's/^/    /' "$d/err" | head -10 >&2
        continue
    fi
    ok
    exp=$D/$name.rn.expected
    [ "${UPDATE:-0}" = 1 ] && [ -f "$exp" ] && cp "$d/net.rn" "$exp"
    [ -f "$exp" ] && same_file "$name: the imported text" "$exp" "$d/net.rn"
    check "$name: --summary" "$RNC" --summary "$d/net.rn"
    grep -q '^Total params: ' "$T/out" && ok || bad "$name: summary has no total"
    mkdir -p "$d/again"
    "$RNC" --import "$model" -o "$d/again/net.rn" --weights "$d/again/net.safetensors" &&
        cmp -s "$d/net.rn" "$d/again/net.rn" &&
        cmp -s "$d/net.safetensors" "$d/again/net.safetensors" && ok ||
        bad "$name: a second import differs"

    # ahead of time
    if "$RNC" "$d/net.rn" -o "$d/net.c" --main &&
        cc -O1 -std=c11 $SANFLAGS "$d/net.c" $("$RNC" --cflags) $("$RNC" --libs) \
            -o "$d/net" && timeout 300 "$d/net" "$d/net.safetensors" "$D/$name.in.npy" \
            "$d/aot.npy"; then
        check "$name (aot)" "$NPYCMP" --argmax "$d/aot.npy" "$D/$name.out.npy"
    else
        bad "$name (aot): did not build or run"
    fi
    # through the JIT
    if timeout 300 "$RNC" --run "$d/net.rn" --weights "$d/net.safetensors" \
        --input "$D/$name.in.npy" --output "$d/jit.npy" >/dev/null \
        2>"$d/jit.err"; then
        check "$name (jit)" "$NPYCMP" --argmax "$d/jit.npy" "$D/$name.out.npy"
    else
        bad "$name (jit): did not run"; head -5 "$d/jit.err" >&2
    fi
done

for model in "$D"/bad/*.onnx; do
    want=${model%.onnx}.expected
    [ "${UPDATE:-0}" = 1 ] &&
        "$RNC" --import "$model" -o "$T/b.rn" --weights "$T/b.st" 2>"$want"
    echo "old" >"$T/b.rn"
    rm -f "$T/b.st"
    "$RNC" --import "$model" -o "$T/b.rn" --weights "$T/b.st" 2>"$T/err"
    rc=$?
    [ $rc -eq 1 ] && ok || bad "$model: exit $rc, not 1"
    same_file "$model: stderr" "$want" "$T/err"
    if [ "$(cat "$T/b.rn")" = old ] && [ ! -e "$T/b.st" ] &&
        [ -z "$(ls "$T" | grep '\.tmp')" ]; then ok; else
        bad "$model: a file was written"; fi
done
# the listing names several nodes at once
n=$(grep -c ': node ' "$D/bad/unsupported.expected")
[ "$n" -ge 4 ] && ok || bad "bad/unsupported lists $n nodes, not >= 4"

# a symbolic height is fine once --input-shape gives it
check "--input-shape" "$RNC" --import "$D/bad/symbolic.onnx" -o "$T/s.rn" \
    --weights "$T/s.st" --input-shape 8,8,3
grep -q '^input x\[8, 8, 3\]$' "$T/s.rn" && ok || bad "--input-shape: not [8, 8, 3]"

# every PyTorch module a layer of its own, traced as PyTorch traces it
TR=tests/import/trace
if "$RNC" --import "$TR/model.onnx" -o "$T/tr.rn" --weights "$T/tr.safetensors" &&
    "$RNC" --run "$T/tr.rn" --weights "$T/tr.safetensors" --input "$TR/x.npy" \
        --trace "$T/tr" >/dev/null 2>&1; then ok; else bad "trace/: import and trace"; fi
"$RNC" --compare "$TR/torch" "$T/tr" >"$T/cmp" 2>&1
rc=$?
n=$(grep -c '"name"' "$TR/torch/trace.json")
if [ $rc -eq 0 ] && [ "$n" -ge 18 ] && grep -q "^All $n layers within tolerance$" "$T/cmp" &&
    ! grep -q "^Only in $TR/torch" "$T/cmp"; then ok; else
    bad "trace/: rnc's layers against PyTorch's modules (exit $rc)"
    sed 's/^/    /' "$T/cmp" | tail -12 >&2
fi

# imported as m.rn: `m` is a name the generated C uses, so the model is
# m_model, and it builds
mkdir -p "$T/stem"
if "$RNC" --import "$D/flatten_op13.onnx" -o "$T/stem/m.rn" --weights "$T/stem/m.st" &&
    grep -q '^model m_model$' "$T/stem/m.rn" &&
    "$RNC" "$T/stem/m.rn" -o "$T/stem/m.c" --main &&
    cc -std=c11 -Wall -Wextra -pedantic -Werror $SANFLAGS "$T/stem/m.c" \
        $("$RNC" --cflags) $("$RNC" --libs) -o "$T/stem/m" &&
    "$T/stem/m" "$T/stem/m.st" "$D/flatten_op13.in.npy" "$T/stem/y.npy" &&
    "$NPYCMP" "$T/stem/y.npy" "$D/flatten_op13.out.npy" >/dev/null; then ok; else
    bad "import to m.rn: model m_model, built and run"; fi

# bad usage
"$RNC" --import "$D/convs_op13.onnx" -o "$T/u.rn" 2>/dev/null
[ $? -eq 2 ] && ok || bad "--import without --weights: not exit 2"
"$RNC" --import "$D/convs_op13.onnx" -o "$T/u.rn" --weights "$T/u.st" \
    --input-shape 3,4 2>/dev/null
[ $? -eq 2 ] && ok || bad "--input-shape 3,4: not exit 2"
"$RNC" --import "$T/none.onnx" -o "$T/u.rn" --weights "$T/u.st" 2>"$T/err"
[ $? -eq 1 ] && grep -q 'No such file' "$T/err" && ok ||
    bad "a missing model: not exit 1 with the reason"
finish
