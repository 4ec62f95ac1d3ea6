#!/bin/bash
# images.sh: images in and class names out (docs/images.md).
#
# 1. Every case of tests/images/MANIFEST through `rnc --run --image`, into
#    a model that passes its input through: within the case's tolerance of
#    the golden that Pillow (decoding, bilinear resize), NumPy and
#    torchvision (normalization) made (tools/make_image_goldens.py).
# 2. The same through ahead-of-time --main programs: the same bytes; an
#    --input that is a PNG is read as one.
# 3. Damaged, oversized and wrong images, and wrong flags: refused with a
#    message naming the file, the output file not written.
# 4. --labels: names in the top 5, as --run and --main print them; a wrong
#    count or a bad labels file refused.
# 5. What links the decoders: a --main program of a model with an image
#    input, and nothing else.
. "$(dirname "$0")/lib.sh"
I=$ROOT/tests/images
CFLAGS_RT=$("$RNC" --cflags)
LIBS_RT=$("$RNC" --libs)
need_npycmp

# ident H W C: a model whose output is its [H, W, C] input, as $T/ident_HxWxC.rn
ident() {
    local f=$T/ident_$1x$2x$3.rn
    printf 'model ident\ninput image[%s, %s, %s]\noutput rescale(image, 1.0)\n' \
        "$1" "$2" "$3" >"$f"
    echo "$f"
}

# aot MODEL.rn: its --main program beside it (MODEL without .rn), and
# empty weights for it when it has none.
aot() {
    local m=${1%.rn}
    "$RNC" "$1" -o "$m.c" --main &&
        cc -O1 -std=c11 $SANFLAGS "$m.c" $CFLAGS_RT $LIBS_RT -o "$m" &&
        "$RNC" --init-weights "$m.safetensors" "$1"
}

# 1. The goldens.
while read -r name img shape tol flags; do
    case $name in '#'*|'') continue ;; esac
    read -r h w c <<<"$(echo "$shape" | tr x ' ')"
    m=$(ident "$h" "$w" "$c")
    # shellcheck disable=SC2086 # flags are words
    if "$RNC" --run "$m" --image "$I/$img" $flags --output "$T/$name.npy" \
        >"$T/out" 2>"$T/err"; then
        check "$name: within $tol of the golden" \
            "$NPYCMP" "$T/$name.npy" "$I/$name.npy" 0 "$tol"
    else
        bad "$name: rnc --run failed"; cat "$T/err" >&2
    fi
done <"$I/MANIFEST"

# 2. Ahead of time: the same bytes as --run; PNG given where a .npy goes.
m=$(ident 7 9 3)
if aot "$m"; then
    check "aot rgb_down" "${m%.rn}" "${m%.rn}.safetensors" "$I/rgb8.png" "$T/a1.npy"
    same_file "aot rgb_down = --run" "$T/rgb_down.npy" "$T/a1.npy"
    check "aot imagenet normalization" "${m%.rn}" --mean 0.485,0.456,0.406 \
        --std 0.229,0.224,0.225 "${m%.rn}.safetensors" "$I/rgb8.png" "$T/a2.npy"
    same_file "aot norm_imagenet = --run" "$T/norm_imagenet.npy" "$T/a2.npy"
    check "aot JPEG" "${m%.rn}" "${m%.rn}.safetensors" "$I/j420.jpg" "$T/a3.npy"
    check "--run JPEG" "$RNC" --run "$m" --image "$I/j420.jpg" --output "$T/r3.npy"
    same_file "aot JPEG = --run" "$T/r3.npy" "$T/a3.npy"
    # main() refuses what it should, writing nothing
    for f in truncated.png huge_side.png truncated.jpg; do
        rm -f "$T/x.npy"
        if "${m%.rn}" "${m%.rn}.safetensors" "$I/bad/$f" "$T/x.npy" 2>"$T/err"; then
            bad "aot: bad/$f accepted"
        elif grep -q "bad/$f: " "$T/err" && [ ! -e "$T/x.npy" ]; then ok
        else bad "aot: bad/$f: no message naming it, or output written"; cat "$T/err" >&2; fi
    done
    if "${m%.rn}" --mean 1,2 "${m%.rn}.safetensors" "$I/rgb8.png" "$T/x.npy" 2>"$T/err"; then
        bad "aot: --mean 1,2 accepted"
    else
        [ $? -eq 2 ] && grep -q -- '--mean takes one number or three' "$T/err" && ok ||
            { bad "aot: --mean 1,2: exit 2 and a message"; cat "$T/err" >&2; }
    fi
else
    bad "aot build of $m"
fi
m=$(ident 4 5 1)
check "--input PNG read as an image" "$RNC" --run "$m" --input "$I/grey8.png" \
    --output "$T/i1.npy"
check "--input PNG = golden" "$NPYCMP" "$T/i1.npy" "$I/grey_down.npy" 0 1e-6

# 3. Refused, with the file named; --output not written.
m=$(ident 7 9 3)
refuse() { # refuse WHAT STATUS TEXT ARGS...: fails with STATUS, says TEXT
    local what=$1 status=$2 text=$3; shift 3
    rm -f "$T/x.npy"
    "$RNC" --run "$@" --output "$T/x.npy" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc -eq "$status" ] && grep -qF -- "$text" "$T/err" && [ ! -e "$T/x.npy" ]; then
        ok
    else
        bad "$what: want exit $status and '$text', got exit $rc"; cat "$T/err" >&2
    fi
}
refuse "truncated PNG" 1 "bad/truncated.png: damaged or unsupported PNG (libpng: the file ends early (truncated))" "$m" --image "$I/bad/truncated.png"
refuse "PNG without IEND" 1 "bad/no_iend.png: damaged or unsupported PNG (libpng: the file ends early (truncated))" "$m" --image "$I/bad/no_iend.png"
refuse "PNG bit flipped" 1 "bad/crc.png: damaged or unsupported PNG (libpng: " "$m" --image "$I/bad/crc.png"
refuse "PNG CRC" 1 "bad/crc_only.png: damaged or unsupported PNG (libpng: IHDR: CRC error)" "$m" --image "$I/bad/crc_only.png"
refuse "truncated JPEG" 1 "bad/truncated.jpg: damaged or unsupported JPEG (libjpeg: Premature end of JPEG file)" "$m" --image "$I/bad/truncated.jpg"
refuse "garbage" 1 "bad/garbage.png: not a PNG or JPEG image" "$m" --image "$I/bad/garbage.png"
refuse "garbage by --input" 1 "bad/garbage.png: not a PNG or JPEG image" "$m" --input "$I/bad/garbage.png"
refuse "empty file" 1 "bad/empty.png: not a PNG or JPEG image" "$m" --image "$I/bad/empty.png"
refuse "text" 1 "bad/text.jpg: not a PNG or JPEG image" "$m" --image "$I/bad/text.jpg"
refuse "huge side" 1 "bad/huge_side.png: a PNG of 20000 x 30 pixels is over the limit" "$m" --image "$I/bad/huge_side.png"
refuse "huge PNG" 1 "bad/huge_bytes.png: a PNG of 16000 x 16000 pixels is over the limit" "$m" --image "$I/bad/huge_bytes.png"
refuse "huge JPEG" 1 "bad/huge.jpg: a JPEG of 16000 x 16000 pixels is over the limit" "$m" --image "$I/bad/huge.jpg"
refuse "missing file" 1 "cannot open $T/none.png" "$m" --image "$T/none.png"
refuse ".npy to --image" 1 "a .npy array, not an image" "$m" --image "$I/rgb_down.npy"
printf 'model flat\ninput v[20]\noutput dense(v, 3)\n' >"$T/flat.rn"
refuse "image for a flat input" 1 "rgb8.png: an image, but input 'v' takes (None, 20)" "$T/flat.rn" --image "$I/rgb8.png"
printf 'model four\ninput x[5, 5, 4]\noutput flatten(x)\n' >"$T/four.rn"
refuse "image for 4 channels" 1 "an image fills [H, W, 3] or [H, W, 1]" "$T/four.rn" --image "$I/rgb8.png"
refuse "3 means, grey input" 1 "--mean has 3 values, the input has 1 channel" "$(ident 4 5 1)" --image "$I/grey8.png" --mean 1,2,3
refuse "--std 0" 2 "--std takes one number or three" "$m" --image "$I/rgb8.png" --std 0.2,0,0.2
refuse "--scale x" 2 "--scale takes one number" "$m" --image "$I/rgb8.png" --scale x
refuse "--mean, no image" 2 "--scale, --mean and --std apply to images" "$m" --input "$I/rgb_down.npy" --mean 0.5

# 4. Labels: the top 5 named; --main prints the same.
cat >"$T/sm.rn" <<'EOF'
model sm
input v[4]
output softmax(v)
EOF
/usr/bin/python3 -c 'import numpy as np, sys; np.save(sys.argv[1], np.array([1, 2, 4, 3], np.float32))' "$T/v.npy"
printf 'cat\ndog\nbird\nfish\n' >"$T/l4.txt"
# softmax([1, 2, 4, 3]) by NumPy in float64: .032059 .087144 .643914 .236883
cat >"$T/want" <<'EOF'
output activation (None, 4), softmax, top 4:
  #1  bird  0.643914  (class 2)
  #2  fish  0.236883  (class 3)
  #3  dog   0.087144  (class 1)
  #4  cat   0.032059  (class 0)
EOF
check "--labels" "$RNC" --run "$T/sm.rn" --input "$T/v.npy" --labels "$T/l4.txt"
sed 1d "$T/out" >"$T/got"
same_file "--run: the top 4, named" "$T/want" "$T/got"
# UTF-8 names padded by characters; CRLF, a BOM and blank lines at the end
printf '\xef\xbb\xbfchat\r\nHund\r\nl\xc3\xa9zard\r\n\xe9\xad\x9a\r\n\r\n\r\n' >"$T/utf8.txt"
check "--labels UTF-8, CRLF, BOM" "$RNC" --run "$T/sm.rn" --input "$T/v.npy" --labels "$T/utf8.txt"
printf '  #1  lézard  0.643914  (class 2)\n  #2  魚       0.236883  (class 3)\n' >"$T/want2"
sed -n 3,4p "$T/out" >"$T/got2"
same_file "UTF-8 names aligned" "$T/want2" "$T/got2"
if aot "$T/sm.rn"; then
    check "aot --labels, no output file" "$T/sm" --labels "$T/l4.txt" "$T/sm.safetensors" "$T/v.npy"
    same_file "--main prints what --run prints" "$T/want" "$T/out"
    check "aot --labels with an output file" "$T/sm" --labels "$T/l4.txt" \
        "$T/sm.safetensors" "$T/v.npy" "$T/p.npy"
    check "aot: output written" test -s "$T/p.npy"
    check "aot without --labels prints nothing" "$T/sm" "$T/sm.safetensors" "$T/v.npy" "$T/p2.npy"
    check "aot: stdout empty" test ! -s "$T/out"
    printf 'a\nb\nc\n' >"$T/l3.txt"
    if "$T/sm" --labels "$T/l3.txt" "$T/sm.safetensors" "$T/v.npy" 2>"$T/err"; then
        bad "aot: 3 labels for 4 classes accepted"
    else
        grep -qF "l3.txt has 3 class names, output 'activation' has 4 classes" "$T/err" && ok ||
            { bad "aot: wrong label count message"; cat "$T/err" >&2; }
    fi
else
    bad "aot build of sm.rn"
fi
printf 'a\nb\nc\n' >"$T/l3.txt"
refuse "3 labels, 4 classes" 1 "l3.txt has 3 class names, output 'activation' has 4 classes" "$T/sm.rn" --input "$T/v.npy" --labels "$T/l3.txt"
printf 'a\nb\nc\nd\ne\n' >"$T/l5.txt"
refuse "5 labels, 4 classes" 1 "l5.txt has 5 class names, output 'activation' has 4 classes" "$T/sm.rn" --input "$T/v.npy" --labels "$T/l5.txt"
printf 'a\n\nc\nd\n' >"$T/gap.txt"
refuse "empty line inside" 1 "gap.txt:2: an empty line" "$T/sm.rn" --input "$T/v.npy" --labels "$T/gap.txt"
printf 'a\nb\xff\nc\nd\n' >"$T/latin.txt"
refuse "not UTF-8" 1 "latin.txt:2: not UTF-8 (byte 0xff)" "$T/sm.rn" --input "$T/v.npy" --labels "$T/latin.txt"
printf 'a\nb\x1b[31m\nc\nd\n' >"$T/esc.txt"
refuse "control character" 1 "esc.txt:2: a control character (0x1b)" "$T/sm.rn" --input "$T/v.npy" --labels "$T/esc.txt"
: >"$T/none.txt"
refuse "empty labels file" 1 "none.txt: no class names in it" "$T/sm.rn" --input "$T/v.npy" --labels "$T/none.txt"
refuse "missing labels file" 1 "cannot open $T/nolabels.txt" "$T/sm.rn" --input "$T/v.npy" --labels "$T/nolabels.txt"
refuse "no class output" 1 "has no class output" "$(ident 7 9 3)" --image "$I/rgb8.png" --labels "$T/l4.txt"

# 5. The decoders are linked only where an image can come in: the
# program's code calls libpng and libjpeg, and it needs their .so files.
decoders_in() {
    nm "$1" 2>/dev/null | grep -q ' U \(png_create_read_struct\|jpeg_read_header\)' ||
        readelf -d "$1" 2>/dev/null | grep -q 'NEEDED.*lib\(png\|jpeg\)'
}
m=$(ident 7 9 3)
if decoders_in "${m%.rn}"; then ok; else bad "an image model's --main lacks the decoders"; fi
if decoders_in "$T/sm"; then bad "a model without image input links the decoders"; else ok; fi
cat >"$T/api.c" <<'EOF'
#include <stdio.h>
#include "ident_7x9x3.h"
int main(int argc, char **argv) {
    char err[256];
    ident *m = argc > 1 ? ident_load(argv[1], err, sizeof err) : NULL;
    ident_free(m);
    return 0;
}
EOF
"$RNC" "$m" -o "$T/ident_7x9x3.c"
if cc -O1 -std=c11 $SANFLAGS -I"$T" "$T/api.c" "$T/ident_7x9x3.c" $CFLAGS_RT $LIBS_RT -o "$T/api"; then
    if decoders_in "$T/api"; then bad "the API alone links the decoders"; else ok; fi
else
    bad "API program build"
fi
if nm "$BUILD/librnrt.a" | grep -q ' U \(png\|jpeg\)_'; then bad "librnrt.a calls the decoders"; else ok; fi
finish
