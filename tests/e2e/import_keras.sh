#!/bin/bash
# import_keras.sh: `rnc --import` of Keras models in the TF.js layers format.
#
# 1. Every model of tests/import/keras/ (made by tfjs with
#    tools/make_keras_goldens.js, or written by hand in Keras 2 and Keras 3
#    formats by tools/make_keras_fixtures.py with a NumPy reference):
#    imported, then compiled ahead of time and run, and run by `rnc --run`;
#    every output within 1e-4 * max|want| + 1e-5 of the framework's with the
#    same argmax (npycmp --argmax); the summary's totals and each layer's
#    parameters equal the framework's (tests/tools/summary_counts.py); the
#    .rn text equal to the reviewed import.rn beside the model.
# 2. Models that cannot be imported (tests/import/keras_bad/): exit 1, the
#    exact listing of expected.err (every problem in one pass), nothing
#    written, files already there untouched.
# 3. Damaged and hostile files made here from a good model: truncated or
#    longer shards, missing or escaping paths, bad JSON, absurd shapes and
#    counts, cycles: exit 1 with a clear message, never a crash or a hang.
# UPDATE=1 rewrites import.rn and expected.err (review the diffs by eye).
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2
need_npycmp
K=tests/import/keras

# import DIR OUT: rnc --import DIR -o OUT.rn --weights OUT.safetensors
import() {
    timeout 120 "$RNC" --import "$1" -o "$2.rn" --weights "$2.safetensors"
}

# ---- 1. the models and their framework's outputs
for dir in "$K"/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    d=$T/$name
    mkdir -p "$d"
    if ! import "$dir" "$d/model" >"$d/import.out" 2>&1; then
        bad "$name: rnc --import failed"
        sed 's/^/    /' "$d/import.out" | head -10 >&2
        continue
    fi
    ok
    [ "${UPDATE:-0}" = 1 ] && cp "$d/model.rn" "$dir/import.rn"
    same_file "$name: the .rn text" "$dir/import.rn" "$d/model.rn"

    ins=() wants=() aot=() jit=() jargs=()
    for f in "$dir"/input*.npy; do ins+=("$f"); jargs+=(--input "$f"); done
    for f in "$dir"/expected*.npy; do
        wants+=("$f")
        b=$(basename "$f" .npy)
        aot+=("$d/aot.$b.npy")
        jit+=("$d/jit.$b.npy")
        jargs+=(--output "$d/jit.$b.npy")
    done
    check "$name: compile ahead of time" "$RNC" "$d/model.rn" -o "$d/model.c" --main
    check "$name: cc" cc -O1 -std=c11 $SANFLAGS "$d/model.c" $("$RNC" --cflags) \
        $("$RNC" --libs) -o "$d/model"
    check "$name: run ahead of time" timeout 120 "$d/model" "$d/model.safetensors" \
        "${ins[@]}" "${aot[@]}"
    check "$name: rnc --run" timeout 120 "$RNC" --run "$d/model.rn" \
        --weights "$d/model.safetensors" "${jargs[@]}"
    for ((i = 0; i < ${#wants[@]}; i++)); do
        for got in "${aot[$i]}" "${jit[$i]}"; do
            if [ ! -f "$got" ]; then continue; fi
            if "$NPYCMP" --argmax "$got" "${wants[$i]}" >"$d/cmp" 2>&1; then ok; else
                bad "$name: $(basename "$got") against $(basename "${wants[$i]}"): $(cat "$d/cmp")"
            fi
        done
    done
    if "$RNC" --summary "$d/model.rn" >"$d/summary.txt" 2>&1 &&
        /usr/bin/python3 tests/tools/summary_counts.py "$dir/summary.json" \
            <"$d/summary.txt" >"$d/counts" 2>&1; then ok; else
        bad "$name: the summary's parameters differ from the framework's"
        sed 's/^/    /' "$d/counts" | head -10 >&2
    fi
done
n=$(ls -d "$K"/*/ | wc -l)
if [ "$n" -ge 15 ]; then ok; else bad "only $n models in $K"; fi

# ---- 2. models that cannot be imported: every problem listed at once
for dir in tests/import/keras_bad/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    echo keep >"$T/keep.rn"
    cp "$T/keep.rn" "$T/keep.safetensors"
    "$RNC" --import "$dir" -o "$T/keep.rn" --weights "$T/keep.safetensors" \
        >"$T/stdout" 2>"$T/stderr"
    rc=$?
    [ "${UPDATE:-0}" = 1 ] && cp "$T/stderr" "$dir/expected.err"
    if [ $rc -eq 1 ]; then ok; else bad "$name: exit $rc, not 1"; fi
    same_file "$name: the listing" "$dir/expected.err" "$T/stderr"
    if [ "$(cat "$T/keep.rn" "$T/keep.safetensors")" = "$(printf 'keep\nkeep')" ] &&
        [ -z "$(ls "$T" | grep '\.tmp')" ]; then ok; else
        bad "$name: an output file was written or changed"; fi
done

# ---- 3. damaged and hostile files, made from a good model
good=$K/seq_basic
# damaged NAME WANT: imports $T/dmg (prepared by the caller); exit 1, a
# message holding WANT, no output.
damaged() {
    rm -f "$T/out.rn" "$T/out.safetensors"
    timeout 60 "$RNC" --import "$T/dmg" -o "$T/out.rn" --weights "$T/out.safetensors" \
        >"$T/stdout" 2>"$T/stderr"
    local rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$2" "$T/stderr" && [ ! -e "$T/out.rn" ] &&
        [ ! -e "$T/out.safetensors" ]; then ok; else
        bad "damaged $1: exit $rc, want 1 and '$2'"
        sed 's/^/    /' "$T/stderr" | head -5 >&2
    fi
}
fresh() { rm -rf "$T/dmg"; cp -r "$good" "$T/dmg"; }
# edit PYTHON: runs the code with `j` the parsed model.json, then writes it
edit() {
    /usr/bin/python3 -c "
import json, sys
p = sys.argv[1] + '/model.json'
j = json.load(open(p))
$1
json.dump(j, open(p, 'w'))" "$T/dmg"
}
shard=group1-shard1of1.bin

fresh; head -c -10 "$good/$shard" >"$T/dmg/$shard"
damaged "truncated shard" "its shards hold"
fresh; printf x >>"$T/dmg/$shard"
damaged "shard one byte long" "its shards hold"
fresh; rm "$T/dmg/$shard"
damaged "missing shard" "No such file"
fresh; edit "j['weightsManifest'][0]['paths'] = ['../seq_basic/$shard']"
damaged "shard outside the directory" "relative to the model's directory"
fresh; edit "j['weightsManifest'][0]['paths'] = ['/etc/passwd']"
damaged "absolute shard path" "relative to the model's directory"
fresh; rm "$T/dmg/$shard"; mkdir "$T/dmg/$shard"
damaged "shard is a directory" "not a regular file"
fresh; rm "$T/dmg/$shard"; mkfifo "$T/dmg/$shard"
damaged "shard is a FIFO" "not a regular file"
fresh; head -c 300 "$good/model.json" >"$T/dmg/model.json"
damaged "truncated model.json" "not valid JSON"
fresh; : >"$T/dmg/model.json"
damaged "empty model.json" "not valid JSON"
fresh; echo '[1, 2]' >"$T/dmg/model.json"
damaged "model.json is a list" "no Keras model"
fresh; echo '{"format": "graph-model", "modelTopology": {"node": []}}' >"$T/dmg/model.json"
damaged "a TF.js graph model" "a TF.js graph model"
fresh; /usr/bin/python3 -c "print('[' * 100000 + ']' * 100000)" >"$T/dmg/model.json"
damaged "deep JSON" "not valid JSON"
fresh; edit "j['weightsManifest'][0]['weights'][0]['shape'] = [1000000000, 1000000000]"
damaged "absurd shape" "too large"
fresh; edit "j['weightsManifest'][0]['weights'][0]['shape'] = [3, -3, 2, 6]"
damaged "negative size" "bad size"
fresh; edit "j['weightsManifest'][0]['weights'][0]['shape'] = [1] * 100"
damaged "rank 100" "at most 8 sizes"
fresh; edit "j['weightsManifest'][0]['weights'][0]['dtype'] = 'bool'"
damaged "bool weights" "dtype 'bool' is not supported"
fresh; edit "j['weightsManifest'][0]['weights'][0]['quantization'] = {'dtype': 'uint8'}"
damaged "quantization without min" "needs numbers 'min' and 'scale'"
fresh; edit "j['weightsManifest'][0]['weights'][0]['quantization'] = {'dtype': 'int4', 'min': 0, 'scale': 1}"
damaged "unknown quantization" "quantization 'int4'"
fresh; edit "j['weightsManifest'][0]['weights'] += [{'name': 'x%d/k' % i, 'shape': [], 'dtype': 'float32'} for i in range(250000)]"
damaged "huge weight count" "too many weights"
fresh; edit "j['modelTopology']['config']['layers'] += [{'class_name': 'Flatten', 'config': {'name': 'f%d' % i}} for i in range(60000)]"
damaged "huge layer count" "more than 50000 layers"
fresh; edit "L = j['modelTopology']['config']['layers']; L[0]['config']['batch_input_shape'] = [None, None, 12, 2]"
damaged "input size None" "not fixed"
if timeout 60 "$RNC" --import "$T/dmg" -o "$T/shape.rn" --weights "$T/shape.safetensors" \
    --input-shape 12,12,2 >/dev/null 2>&1 && grep -q '^input .*\[12, 12, 2\]' "$T/shape.rn"; then
    ok; else bad "--input-shape does not give the None sizes"; fi
fresh; edit "L = j['modelTopology']['config']['layers']; L[0]['config']['batch_input_shape'] = [None, 100000000, 12, 2]"
damaged "huge input" "too large"
fresh; edit "L = j['modelTopology']['config']['layers']; L[1]['config']['name'] = L[0]['config']['name']"
damaged "a repeated name" "have this name"
fresh; edit "L = j['modelTopology']['config']['layers']; L[1]['config']['name'] = 'a\"b'"
damaged "a quote in a name" "printable ASCII"
fresh; edit "j['modelTopology']['config']['layers'][0]['config']['filters'] = 1e300"
damaged "absurd filters" "'filters' must be an integer"
fresh; edit "j['modelTopology']['config']['layers'][0]['config']['kernel_size'] = [30, 30]"
damaged "kernel larger than the input" "layer conv2d_Conv2D1 (Conv2D)"
fresh; edit "del j['weightsManifest']"
damaged "no weights at all" "has no weight 'kernel'"
cp -r tests/import/keras_bad/cycle "$T/dmg2"; rm -rf "$T/dmg"; mv "$T/dmg2" "$T/dmg"
damaged "a cycle" "cycle"

# Keras 3 may give input_layers as a dict: taken in sorted key order
rm -rf "$T/dmg"; cp -r "$K/two_inputs" "$T/dmg"
edit "j['modelTopology']['config']['input_layers'] = {'b': ['right', 0, 0], 'a': ['left', 0, 0]}"
if import "$T/dmg" "$T/dict" >/dev/null 2>&1 &&
    cmp -s "$T/dict.safetensors" "$T/two_inputs/model.safetensors" &&
    [ "$(grep '^input' "$T/dict.rn")" = "$(grep '^input' "$T/two_inputs/model.rn")" ]; then
    ok; else bad "input_layers as a dict"; fi

# the two files are written together: a weights file that cannot be
# written leaves the .rn unwritten too
rm -f "$T/pair.rn"
"$RNC" --import "$good" -o "$T/pair.rn" --weights "$T/no/such/dir/w.safetensors" \
    >/dev/null 2>"$T/stderr"
rc=$?
if [ $rc -eq 1 ] && [ ! -e "$T/pair.rn" ] && [ -s "$T/stderr" ]; then ok; else
    bad "a weights file that cannot be written: exit $rc, or the .rn was written"; fi

# ---- the command line
"$RNC" --import "$good" -o "$T/x.rn" >/dev/null 2>&1
if [ $? -eq 2 ]; then ok; else bad "--import without --weights: not exit 2"; fi
if import "$good/model.json" "$T/byfile" >/dev/null 2>&1 && cmp -s "$T/byfile.safetensors" \
    "$T/seq_basic/model.safetensors"; then ok; else bad "--import model.json (a file) differs"; fi
finish
