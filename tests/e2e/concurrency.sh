#!/bin/bash
# concurrency.sh: a compiled model (examples/small_residual.rn) loaded as 4
# instances running on 4 threads at once, each with a pool of its own (1 or
# 2 threads), many runs each: every output bit-identical to a single run
# (tests/tools/concurrent.c against the generated model.h API). Built
# plainly (sanitized under SAN=1), then, outside the SAN=1 pass, with the
# model and the runtime under ThreadSanitizer: no data race.
. "$(dirname "$0")/lib.sh"
M=small_residual
cd "$T" || exit 2
check "compile $M" "$RNC" "$ROOT/examples/$M.rn" -o "$M.c"
check "weights" "$RNC" --init-weights w.safetensors --random --seed 7 "$ROOT/examples/$M.rn"
# -include stdio.h: model.c without --main calls snprintf without it (a
# code generator bug, reported); harmless once fixed.
DRIVER=(-std=c11 -DMODEL=$M -include stdio.h -include "$M.h" "$M.c" "$ROOT/tests/tools/concurrent.c")
if cc -O1 $SANFLAGS "${DRIVER[@]}" $("$RNC" --cflags) $("$RNC" --libs) -o conc 2>build.err; then
    ok
    check "4 instances x 200 runs on 4 threads" timeout 300 ./conc w.safetensors 4 200
else
    bad "build the driver: $(grep error build.err | head -3)"
fi

if [ "${SAN:-0}" = 1 ]; then
    echo "concurrency: ThreadSanitizer run skipped in the SAN=1 pass" >&2
elif echo 'int main(void){return 0;}' | cc -fsanitize=thread -x c - -o tsan_probe 2>/dev/null &&
    ./tsan_probe; then
    mkdir -p rt
    built=1
    # The runtime's portable build (RN_NO_SIMD: no per-ISA copies): the
    # pool, the tasks and the kernels' work split are the same at every
    # level, and the vector copies took minutes to compile under TSan.
    for f in "$ROOT"/runtime/*.c; do
        case $(basename "$f") in image*.c) continue ;; esac # librnimg's
        cc -O1 -g -std=c11 -fsanitize=thread -DRN_NO_SIMD -I"$ROOT/runtime" -c "$f" \
            -o "rt/$(basename "$f" .c).o" || built=0
    done
    if [ $built = 1 ] && cc -O1 -g -fsanitize=thread "${DRIVER[@]}" -I"$ROOT/runtime" \
        rt/*.o -lm -lpthread -o conc_tsan 2>build.err; then
        ok
        check "ThreadSanitizer: 4 instances x 20 runs" timeout 300 \
            env TSAN_OPTIONS=halt_on_error=1:exitcode=66 ./conc_tsan w.safetensors 4 20
    else
        bad "build the ThreadSanitizer driver: $(grep error build.err | head -3)"
    fi
else
    echo "concurrency: ThreadSanitizer unavailable, its run skipped" >&2
fi
finish
