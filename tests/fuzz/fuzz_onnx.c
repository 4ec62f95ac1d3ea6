/* fuzz_onnx.c: libFuzzer harness for the ONNX importer: the bytes as an
 * ONNX file -> import_onnx (protobuf, graph checks, shapes and constants,
 * patterns, layers) -> import_check (the .rn text read back through parse,
 * elaborate and shape checks, its weights checked against the program).
 * No file is written.
 *
 * Invariants: never a crash, hang, leak or sanitizer report; a refused
 * model says why (at least one message); an accepted one gives a program
 * that compiles with exactly its weights (import_check dies otherwise).
 * Also built with tests/fuzz/replay.c to replay tests/fuzz/regressions/onnx/
 * and the import tests' files in every suite run. */
#include "rnc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *msgs = NULL;
    size_t msglen = 0;
    FILE *errs = open_memstream(&msgs, &msglen);
    if (!errs) abort();
    Arena *a = arena_new();
    ImportOptions io = {{0}};
    ImportModel *m = import_onnx("fuzz.onnx", data, size, "fuzz", &io, a, errs);
    fflush(errs);
    if (!m && msglen == 0) abort(); /* refused without saying why */
    if (m) {
        Buf text = {0};
        char err[256] = "";
        if (import_check(m, "fuzz.rn", &text, err, sizeof err) != 0 && !err[0])
            abort();
        buf_free(&text);
    }
    arena_free(a);
    fclose(errs);
    free(msgs);
    return 0;
}
