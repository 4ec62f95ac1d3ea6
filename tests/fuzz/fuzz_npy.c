/* fuzz_npy.c: libFuzzer harness for the .npy reader (rn_npy_read), with a
 * write and read back of whatever it accepts.
 *
 * Invariants: never a crash, leak or sanitizer report; a refused file
 * comes with a message and a zeroed array; an accepted one has a count
 * that is the product of its dims and survives rn_npy_write unchanged. */
#define _POSIX_C_SOURCE 200809L
#include "rnrt.h"
#include "tmpfile.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    const char *path = fuzz_write_tmp(".npy", data, size);
    char err[512] = "";
    rn_array a;
    if (rn_npy_read(path, &a, err, sizeof err) != 0) {
        if (err[0] == 0 || a.data || a.rank || a.count) abort();
        unlink(path);
        return 0;
    }
    rn_i64 count = 1;
    for (int i = 0; i < a.rank; i++) count *= a.dims[i];
    if (a.rank < 0 || a.rank > 8 || count != a.count) abort();
    /* write it back over the input and read it again: the same array */
    if (rn_npy_write(path, a.rank, a.dims, a.data, err, sizeof err) != 0)
        abort();
    rn_array b;
    if (rn_npy_read(path, &b, err, sizeof err) != 0 || b.rank != a.rank ||
        b.count != a.count ||
        memcmp(b.dims, a.dims, sizeof a.dims[0] * (size_t)a.rank) != 0 ||
        (a.count && memcmp(a.data, b.data, sizeof(float) * (size_t)a.count)))
        abort();
    rn_array_free(&a);
    rn_array_free(&b);
    unlink(path);
    return 0;
}
