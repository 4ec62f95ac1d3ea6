/* image_decode.c: PNG and JPEG files, held in memory, decoded to samples
 * (image_decode.h) by the libraries that Pillow uses, as Debian ships and
 * patches them: libpng 1.6 and libjpeg-turbo.
 *
 * PNG: a palette becomes RGB, grey of 1, 2 or 4 bits becomes 8 bits, 16
 * bits stay 16; transparency (tRNS), gamma and colour profiles are left
 * alone, as Pillow's convert('RGB') leaves them. Every chunk's CRC is
 * checked (a bad one is an error), and the file must reach its IEND.
 * JPEG: libjpeg's defaults, which are Pillow's (integer IDCT, smooth
 * chroma upsampling): grey stays grey, colour becomes RGB, CMYK is
 * refused. Data that ends early or is corrupt, which libjpeg only warns
 * of (and shows grey), is refused too.
 *
 * The size is checked from the header, before any pixel is allocated.
 * Messages are the library's, after the file's name. Both libraries report
 * errors by longjmp, so each decoder keeps whatever changes after its
 * setjmp in a context that the caller owns. No global state. */
#define _POSIX_C_SOURCE 200809L
#include "rnimg.h"
#include "image_decode.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

/* A decoded pixel has at most this many channels (RGBA). */
enum { MAX_CHANNELS = 4 };

void rn_img_set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

rn_img_kind rn_img_kind_of(const unsigned char *p, size_t n) {
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && !memcmp(p, png, 8)) return RN_IMG_PNG;
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return RN_IMG_JPEG;
    if (n >= 6 && !memcmp(p, "\x93NUMPY", 6)) return RN_IMG_NPY;
    return RN_IMG_OTHER;
}

/* Over RN_IMG_MAX_SIDE a side, or max_bytes of samples counting every
 * channel a PNG may have (RGBA): 1 with a message. */
static int too_large(unsigned long w, unsigned long h, int wide,
                     size_t max_bytes, const char *name, const char *what,
                     char *err, size_t errlen) {
    if (w >= 1 && h >= 1 && w <= RN_IMG_MAX_SIDE && h <= RN_IMG_MAX_SIDE &&
        (size_t)w * h * MAX_CHANNELS * (wide ? 2 : 1) <= max_bytes)
        return 0;
    rn_img_set_err(err, errlen, "%s: a %s of %lu x %lu pixels is over the limit "
            "(%d pixels a side, %zu MiB decoded)", name, what, w, h,
            RN_IMG_MAX_SIDE, max_bytes >> 20);
    return 1;
}

/* ----------------------------------------------------------------- PNG */

typedef struct PngCtx {
    const unsigned char *p;
    size_t n, at;             /* the file, and how far libpng has read */
    size_t max_bytes;
    const char *name;
    char *err;
    size_t errlen;
    rn_img_samples *s;
    png_bytep *rows;
} PngCtx;

static void png_on_error(png_structp png, png_const_charp msg) {
    PngCtx *c = png_get_error_ptr(png);
    rn_img_set_err(c->err, c->errlen, "%s: damaged or unsupported PNG (libpng: %s)",
            c->name, msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png; /* only benign things are warnings once CRCs are errors */
    (void)msg;
}

static void png_read_mem(png_structp png, png_bytep out, size_t n) {
    PngCtx *c = png_get_io_ptr(png);
    if (n > c->n - c->at) png_error(png, "the file ends early (truncated)");
    memcpy(out, c->p + c->at, n);
    c->at += n;
}

static int png_decode(PngCtx *c) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c,
                                             png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        rn_img_set_err(c->err, c->errlen, "%s: out of memory", c->name);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(c->rows);
        free(c->s->data);
        c->rows = NULL;
        c->s->data = NULL;
        return -1;
    }
    png_set_read_fn(png, c, png_read_mem);
    png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), type = png_get_color_type(png, info);
    if (too_large(w, h, depth == 16, c->max_bytes, c->name, "PNG", c->err, c->errlen))
        png_longjmp(png, 1);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    rn_img_samples *s = c->s;
    s->w = (int)w;
    s->h = (int)h;
    s->comp = png_get_channels(png, info);
    s->wide = png_get_bit_depth(png, info) == 16;
    size_t rowbytes = (size_t)w * (size_t)s->comp * (s->wide ? 2 : 1);
    if (s->comp < 1 || s->comp > MAX_CHANNELS || png_get_rowbytes(png, info) != rowbytes)
        png_error(png, "an unexpected row layout");
    s->data = malloc(rowbytes * h);
    c->rows = malloc(sizeof *c->rows * h);
    if (!s->data || !c->rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++) c->rows[y] = s->data + y * rowbytes;
    png_read_image(png, c->rows);
    png_read_end(png, NULL); /* the chunks after the pixels, to IEND */
    png_destroy_read_struct(&png, &info, NULL);
    free(c->rows);
    c->rows = NULL;
    return 0;
}

/* ---------------------------------------------------------------- JPEG */

typedef struct JpegCtx {
    struct jpeg_decompress_struct ci;
    struct jpeg_error_mgr jerr;
    jmp_buf jb;
    size_t max_bytes;
    const char *name;
    char *err;
    size_t errlen;
    rn_img_samples *s;
} JpegCtx;

static void jpeg_on_error(j_common_ptr ci) {
    JpegCtx *c = ci->client_data;
    char msg[JMSG_LENGTH_MAX];
    (*ci->err->format_message)(ci, msg);
    rn_img_set_err(c->err, c->errlen, "%s: damaged or unsupported JPEG (libjpeg: %s)",
            c->name, msg);
    longjmp(c->jb, 1);
}

/* Warnings (level -1) that mean missing or corrupt pixels are errors. */
static void jpeg_on_message(j_common_ptr ci, int level) {
    int code = ci->err->msg_code;
    if (level < 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER ||
                      code == JWRN_HUFF_BAD_CODE || code == JWRN_MUST_RESYNC))
        jpeg_on_error(ci);
}

static int jpeg_decode(JpegCtx *c, const unsigned char *p, size_t n) {
    c->ci.err = jpeg_std_error(&c->jerr);
    c->jerr.error_exit = jpeg_on_error;
    c->jerr.emit_message = jpeg_on_message;
    c->ci.client_data = c; /* kept by jpeg_create_decompress */
    if (setjmp(c->jb)) {
        jpeg_destroy_decompress(&c->ci);
        free(c->s->data);
        c->s->data = NULL;
        return -1;
    }
    jpeg_create_decompress(&c->ci);
    /* what a progressive image's coefficients may take; over it is an
     * error, as libjpeg-turbo has no backing store */
    c->ci.mem->max_memory_to_use = (long)(2 * c->max_bytes);
    jpeg_mem_src(&c->ci, p, (unsigned long)n);
    jpeg_read_header(&c->ci, TRUE);
    if (too_large(c->ci.image_width, c->ci.image_height, 0, c->max_bytes,
                  c->name, "JPEG", c->err, c->errlen))
        longjmp(c->jb, 1);
    rn_img_samples *s = c->s;
    if (c->ci.jpeg_color_space == JCS_CMYK || c->ci.jpeg_color_space == JCS_YCCK) {
        rn_img_set_err(c->err, c->errlen, "%s: a CMYK JPEG, which rnc does not read "
                "(convert it to RGB)", c->name);
        longjmp(c->jb, 1);
    }
    s->comp = c->ci.jpeg_color_space == JCS_GRAYSCALE ? 1 : 3;
    c->ci.out_color_space = s->comp == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&c->ci);
    s->w = (int)c->ci.output_width;
    s->h = (int)c->ci.output_height;
    s->wide = 0;
    if (c->ci.output_components != s->comp || c->ci.output_width != c->ci.image_width ||
        c->ci.output_height != c->ci.image_height)
        ERREXIT(&c->ci, JERR_CONVERSION_NOTIMPL);
    size_t rowbytes = (size_t)s->w * (size_t)s->comp;
    s->data = malloc(rowbytes * (size_t)s->h);
    if (!s->data) ERREXIT1(&c->ci, JERR_OUT_OF_MEMORY, 0);
    while (c->ci.output_scanline < c->ci.output_height) {
        JSAMPROW row = s->data + (size_t)c->ci.output_scanline * rowbytes;
        jpeg_read_scanlines(&c->ci, &row, 1);
    }
    jpeg_finish_decompress(&c->ci);
    jpeg_destroy_decompress(&c->ci);
    return 0;
}

/* ------------------------------------------------------------------ API */

int rn_img_decode_samples(const unsigned char *data, size_t len,
                          size_t max_bytes, const char *name,
                          rn_img_samples *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    if (max_bytes == 0 || max_bytes > RN_IMG_MAX_BYTES) max_bytes = RN_IMG_MAX_BYTES;
    switch (rn_img_kind_of(data, len)) {
    case RN_IMG_PNG: {
        PngCtx c = {data, len, 0, max_bytes, name, err, errlen, s, NULL};
        return png_decode(&c);
    }
    case RN_IMG_JPEG: {
        JpegCtx *c = calloc(1, sizeof *c); /* libjpeg's state is large */
        if (!c) {
            rn_img_set_err(err, errlen, "%s: out of memory", name);
            return -1;
        }
        c->max_bytes = max_bytes;
        c->name = name;
        c->err = err;
        c->errlen = errlen;
        c->s = s;
        int rc = jpeg_decode(c, data, len);
        free(c);
        return rc;
    }
    case RN_IMG_NPY:
        rn_img_set_err(err, errlen, "%s: a .npy array, not an image (give it with "
                "--input)", name);
        return -1;
    case RN_IMG_OTHER:
        break;
    }
    rn_img_set_err(err, errlen, "%s: not a PNG or JPEG image", name);
    return -1;
}
