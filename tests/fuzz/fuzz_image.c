/* fuzz_image.c: libFuzzer harness for images in (rnimg.h): stb_image's PNG
 * and JPEG decoders, then the conversion to RGB or grey, the resize and the
 * normalization, through rn_img_decode.
 *
 * A PNG's chunk CRCs are made right first, so that mutations get past the
 * check (image.c's own) into the decoder. Each input is made three inputs
 * of a model: [5, 7, 3] (shrinking most images), [33, 2, 1] and [1, 40, 3]
 * with a mean and std. The decoded size is capped at 4 MiB, so that one
 * input never takes long.
 *
 * Invariants: never a crash, leak, hang or sanitizer report; a refused
 * image comes with a message naming it and an empty array; an accepted
 * one has the requested shape, and its values, before normalization, are
 * in [0, 1] (a bilinear resize only averages). */
#include "rnimg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

enum { MAX_BYTES = 4 << 20 };

static unsigned long crc32(const unsigned char *p, size_t n) {
    unsigned long c = 0xffffffffUL;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320UL ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffUL;
}

/* Rewrites the CRC of every whole chunk of a PNG. */
static void fix_crcs(unsigned char *p, size_t n) {
    if (n < 8 || memcmp(p, "\x89PNG\r\n\x1a\n", 8)) return;
    for (size_t at = 8; n - at >= 12;) {
        size_t len = (size_t)p[at] << 24 | (size_t)p[at + 1] << 16 |
                     (size_t)p[at + 2] << 8 | p[at + 3];
        if (len > n - at - 12) return;
        unsigned long c = crc32(p + at + 4, len + 4);
        unsigned char *q = p + at + 8 + len;
        q[0] = (unsigned char)(c >> 24);
        q[1] = (unsigned char)(c >> 16);
        q[2] = (unsigned char)(c >> 8);
        q[3] = (unsigned char)c;
        at += len + 12;
    }
}

static void one(const unsigned char *data, size_t size, int h, int w, int c,
                const rn_img_norm *n, int plain) {
    char err[512] = "";
    rn_array a;
    if (rn_img_decode(data, size, MAX_BYTES, "fuzz.img", h, w, c, n, &a, err,
                      sizeof err) != 0) {
        if (!strstr(err, "fuzz.img") || a.data || a.rank || a.count) abort();
        return;
    }
    if (a.rank != 3 || a.dims[0] != h || a.dims[1] != w || a.dims[2] != c ||
        a.count != (rn_i64)h * w * c || !a.data)
        abort();
    for (rn_i64 i = 0; i < a.count; i++) {
        float v = a.data[i];
        if (!isfinite(v) || (plain && (v < -1e-6f || v > 1 + 1e-6f))) abort();
    }
    rn_array_free(&a);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    unsigned char *p = malloc(size ? size : 1);
    if (!p) abort();
    memcpy(p, data, size);
    fix_crcs(p, size);
    rn_img_norm plain, norm;
    rn_img_norm_init(&plain);
    rn_img_norm_init(&norm);
    if (rn_img_norm_flag(&norm, "--mean", "0.485,0.456,0.406", NULL, 0) != 1 ||
        rn_img_norm_flag(&norm, "--std", "0.229,0.224,0.225", NULL, 0) != 1)
        abort();
    one(p, size, 5, 7, 3, &plain, 1);
    one(p, size, 33, 2, 1, &plain, 1);
    one(p, size, 1, 40, 3, &norm, 0);
    free(p);
    return 0;
}
