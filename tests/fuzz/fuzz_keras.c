/* fuzz_keras.c: libFuzzer harness for `rnc --import` of Keras models: the
 * configs (Keras 2 and 3, nested models), the translation of every layer,
 * the manifest and its shard, dequantization, weight matching, the read
 * back of the .rn text and the safetensors encoding (keras_convert: all of
 * the import but the writing of the two files).
 *
 * An input is model.json's text, then a NUL byte, then the bytes of the
 * shard "w.bin" beside it (tests/fuzz/keras_seeds.py makes such files from
 * tests/import/keras/). Invariants: never a crash, leak, hang or sanitizer
 * report; a refused model always comes with a message; an accepted one
 * always gives a program and a weights file. Also built with replay.c to
 * replay tests/fuzz/regressions/keras/ in every suite run. */
#define _POSIX_C_SOURCE 200809L
#include "rnc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64]; /* harness-only: one directory per process */

static void cleanup(void) {
    static const char *const files[] = {"model.json", "w.bin", NULL};
    char p[128];
    for (int i = 0; files[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void put(const char *name, const uint8_t *data, size_t size) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) return 0;
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "%s/rnc-fuzz-keras-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir)) abort();
        atexit(cleanup);
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    put("model.json", data, jlen);
    put("w.bin", nul ? nul + 1 : data, nul ? size - jlen - 1 : 0);

    char *msg = NULL;
    size_t msglen = 0;
    FILE *errs = open_memstream(&msg, &msglen);
    if (!errs) abort();
    char rn_path[128], st_path[128];
    snprintf(rn_path, sizeof rn_path, "%s/out.rn", dir);
    snprintf(st_path, sizeof st_path, "%s/out.safetensors", dir);
    Buf rn = {0};
    unsigned char *st = NULL;
    size_t stlen = 0;
    ImportOptions opt = {{size % 7 + 1, size % 5 + 1, 3}}; /* for None sizes */
    int rc = keras_convert(dir, rn_path, st_path, "fuzz", &opt, errs, &rn,
                           &st, &stlen);
    fclose(errs);
    if (rc != 0 && msglen == 0) abort(); /* refused without a word */
    if (rc == 0 && (rn.len == 0 || !st || stlen < 8)) abort();
    free(msg);
    buf_free(&rn);
    free(st);
    return 0;
}
