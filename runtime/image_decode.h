/* image_decode.h: what image.c (conversion, resize, the API) and
 * image_decode.c (libpng, libjpeg-turbo) share inside librnimg.a. */
#ifndef RN_IMAGE_DECODE_H
#define RN_IMAGE_DECODE_H

#include <stddef.h>

/* What a file's first bytes say it is. */
typedef enum rn_img_kind {
    RN_IMG_OTHER,
    RN_IMG_PNG,
    RN_IMG_JPEG,
    RN_IMG_NPY
} rn_img_kind;
rn_img_kind rn_img_kind_of(const unsigned char *p, size_t n);

/* Decoded samples: h rows of w pixels of comp channels (1 grey, 2 grey and
 * alpha, 3 RGB, 4 RGBA), one byte a sample, or two (big-endian) when
 * wide. data is malloc'd. */
typedef struct rn_img_samples {
    int w, h, comp;
    int wide;
    unsigned char *data;
} rn_img_samples;

/* Decodes a PNG or JPEG held in memory; refuses, before decoding, an
 * image over RN_IMG_MAX_SIDE a side or whose samples would take more than
 * max_bytes (counting four channels). 0, or -1 with a message naming the
 * file (`name`) and nothing allocated. */
int rn_img_decode_samples(const unsigned char *data, size_t len,
                          size_t max_bytes, const char *name,
                          rn_img_samples *s, char *err, size_t errlen);

/* Formats a message into err (nothing when err is NULL). */
void rn_img_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
