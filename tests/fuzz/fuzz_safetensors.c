/* fuzz_safetensors.c: libFuzzer harness for the safetensors reader and the
 * name mapping of a generated model: each input is handed, as a file, to
 * the load function rnc generated for tests/fuzz/fixed.rn (fixed_load:
 * rn_st_open, rn_st_read_f32 of every weight by its Keras name and shape,
 * rn_st_check_all_used), and to the reader's other entry points.
 *
 * Invariants: never a crash, leak or sanitizer report; a refused file
 * always comes with a message. */
#define _POSIX_C_SOURCE 200809L
#include "rnrt.h"
#include "fixed.h"
#include "tmpfile.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Names and shapes a caller might ask for, right and wrong. */
static const struct {
    const char *name;
    int rank;
    rn_i64 dims[4];
} asks[] = {
    {"conv2d.kernel", 4, {3, 3, 2, 3}},
    {"conv2d.bias", 1, {3}},
    {"depthwise_conv2d.depthwise_kernel", 4, {3, 3, 3, 2}},
    {"unit.conv2d.kernel", 4, {3, 3, 6, 4}},
    {"unit.batch_normalization.gamma", 1, {4}},
    {"dense.kernel", 2, {4, 2}},
    {"dense.kernel", 2, {2, 4}},
    {"a", 0, {0}},
    {"", 1, {1}},
};

static void check_err(int failed, const char *err) {
    if (failed && err[0] == 0) abort(); /* refused without saying why */
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    const char *path = fuzz_write_tmp(".safetensors", data, size);
    char err[512] = "";
    fixed *m = fixed_load(path, err, sizeof err);
    check_err(!m, err);
    fixed_free(m);

    err[0] = 0;
    rn_safetensors *st = rn_st_open(path, err, sizeof err);
    check_err(!st, err);
    if (st) {
        float buf[256];
        int n = rn_st_count(st);
        for (int i = 0; i < n; i++)
            if (!rn_st_name(st, i)) abort();
        if (rn_st_name(st, n) || rn_st_name(st, -1)) abort();
        for (size_t i = 0; i < sizeof asks / sizeof *asks; i++) {
            err[0] = 0;
            int rc = rn_st_read_f32(st, asks[i].name, asks[i].rank,
                                    asks[i].rank ? asks[i].dims : NULL, buf,
                                    err, sizeof err);
            check_err(rc != 0, err);
        }
        err[0] = 0;
        check_err(rn_st_check_all_used(st, err, sizeof err) != 0, err);
        rn_st_close(st);
    }
    unlink(path);
    return 0;
}
