/* image.c: images in (rnimg.h, librnimg.a). A PNG or JPEG file becomes a
 * model input [h, w, c]:
 *   1. read whole (at most RN_IMG_MAX_BYTES), its header checked by
 *      stb_image for the size before anything is decoded;
 *   2. decoded by stb_image to 8- or 16-bit samples, 1 to 4 channels;
 *   3. made c channels, as PIL's convert('RGB') or convert('L') does:
 *      grey copied to R, G and B; alpha dropped (not composited); RGB to
 *      grey by ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B; computed in
 *      double on samples in [0, 1] (v / 255 or v / 65535);
 *   4. resized to h x w when the size differs, as Pillow's
 *      Image.resize((w, h), BILINEAR) does on a float ('F') image: the
 *      triangle filter widened by the scale when shrinking (so it
 *      averages, with no aliasing), normalized weights, a horizontal pass
 *      into float rows and a vertical pass, sums in double;
 *   5. normalized: x = (sample * scale - mean) / std, in float.
 * Requires nothing else of the runtime than rn_array; stb's only state is
 * its thread-local failure reason (C11), read right after a call fails. */
#define _POSIX_C_SOURCE 200809L
#include "rnimg.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* stb_image (Debian's libstb-dev) compiled into this object only, PNG and
 * JPEG only, static so that its names cannot meet another copy's. Its
 * header then declares one static function it never defines (gcc warns at
 * the end of the file, past any pop): the warning is off for this file. */
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_NO_GIF
#define STBI_MAX_DIMENSIONS RN_IMG_MAX_SIDE
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>

/* A decoded pixel has at most this many channels (RGBA). */
enum { MAX_CHANNELS = 4 };

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------- normalization */

void rn_img_norm_init(rn_img_norm *n) {
    memset(n, 0, sizeof *n);
    n->scale = 1;
    for (int i = 0; i < 3; i++) n->std[i] = 1;
}

/* "A" or "A,B,C": finite numbers, nonzero when `nonzero`. */
static int parse_list(const char *s, float *v, int *count, bool nonzero) {
    int k = 0;
    for (;;) {
        char *end;
        errno = 0;
        double d = strtod(s, &end);
        if (end == s || errno || !isfinite(d) || fabs(d) > 3.4e38 ||
            (nonzero && (float)d == 0) || k == 3)
            return -1;
        v[k++] = (float)d;
        if (*end == 0) break;
        if (*end != ',') return -1;
        s = end + 1;
    }
    if (k == 2) return -1;
    *count = k;
    return 0;
}

int rn_img_norm_flag(rn_img_norm *n, const char *flag, const char *value,
                     char *err, size_t errlen) {
    int count;
    float v[3];
    if (!strcmp(flag, "--scale")) {
        if (parse_list(value, v, &count, false) != 0 || count != 1) {
            set_err(err, errlen, "--scale takes one number, not '%s'", value);
            return -1;
        }
        n->scale = v[0];
    } else if (!strcmp(flag, "--mean") || !strcmp(flag, "--std")) {
        bool is_std = flag[2] == 's';
        if (parse_list(value, v, &count, is_std) != 0) {
            set_err(err, errlen, "%s takes one number or three, comma-separated "
                    "(R,G,B)%s, not '%s'", flag, is_std ? ", none 0" : "", value);
            return -1;
        }
        memcpy(is_std ? n->std : n->mean, v, sizeof(float) * (size_t)count);
        *(is_std ? &n->nstd : &n->nmean) = count;
    } else {
        return 0;
    }
    return 1;
}

/* ----------------------------------------------------------- the file */

enum Kind { K_OTHER, K_PNG, K_JPEG, K_NPY };

static enum Kind kind_of(const unsigned char *p, size_t n) {
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && !memcmp(p, png, 8)) return K_PNG;
    if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return K_JPEG;
    if (n >= 6 && !memcmp(p, "\x93NUMPY", 6)) return K_NPY;
    return K_OTHER;
}

static bool image_name(const char *path) {
    static const char *const ext[] = {".png", ".jpg", ".jpeg"};
    size_t n = strlen(path);
    for (int i = 0; i < 3; i++) {
        size_t k = strlen(ext[i]);
        if (n < k) continue;
        bool same = true;
        for (size_t j = 0; j < k; j++) {
            char c = path[n - k + j];
            same &= (c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) == ext[i][j];
        }
        if (same) return true;
    }
    return false;
}

int rn_img_sniff(const char *path) {
    unsigned char head[8];
    size_t n = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        n = fread(head, 1, sizeof head, f);
        fclose(f);
    }
    enum Kind k = kind_of(head, n);
    if (k == K_PNG || k == K_JPEG) return 1;
    return k == K_OTHER && image_name(path);
}

/* The whole file, at most RN_IMG_MAX_BYTES; NULL with a message. */
static unsigned char *read_file(const char *path, size_t *len, char *err,
                                size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    unsigned char *buf = NULL;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, errlen, "cannot read %s: not a regular file", path);
    } else if ((unsigned long long)st.st_size > RN_IMG_MAX_BYTES) {
        set_err(err, errlen, "%s: the file is %lld bytes, over the limit of "
                "%zu MiB for an image", path, (long long)st.st_size,
                RN_IMG_MAX_BYTES >> 20);
    } else if (!(buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
        set_err(err, errlen, "%s: out of memory", path);
    } else if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        set_err(err, errlen, "cannot read %s: %s", path,
                ferror(f) ? strerror(errno) : "file shrank while reading");
        free(buf);
        buf = NULL;
    }
    *len = buf ? (size_t)st.st_size : 0;
    fclose(f);
    return buf;
}

/* ------------------------------------------------------------ decoding */

/* stb_image reads no PNG checksum, so a flipped bit would decode to wrong
 * pixels: every chunk's CRC-32 is checked first, and the file must end
 * with IEND. 0, or -1 with a message. */
static int png_check(const unsigned char *p, size_t n, const char *name,
                     char *err, size_t errlen) {
    unsigned long table[256];
    for (unsigned long i = 0; i < 256; i++) {
        unsigned long c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320UL ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    for (size_t at = 8;;) {
        if (n - at < 12) {
            set_err(err, errlen, "%s: damaged PNG: it ends before its IEND "
                    "chunk (truncated)", name);
            return -1;
        }
        size_t len = (size_t)p[at] << 24 | (size_t)p[at + 1] << 16 |
                     (size_t)p[at + 2] << 8 | p[at + 3];
        const unsigned char *type = p + at + 4;
        char tname[5];
        for (int k = 0; k < 4; k++)
            tname[k] = ((type[k] | 32) >= 'a' && (type[k] | 32) <= 'z') ? (char)type[k] : '?';
        tname[4] = 0;
        if (len > n - at - 12) {
            set_err(err, errlen, "%s: damaged PNG: chunk '%s' runs past the end "
                    "of the file (truncated)", name, tname);
            return -1;
        }
        unsigned long crc = 0xffffffffUL;
        for (size_t i = 0; i < len + 4; i++)
            crc = table[(crc ^ type[i]) & 0xff] ^ (crc >> 8);
        crc ^= 0xffffffffUL;
        const unsigned char *c = type + 4 + len;
        unsigned long want = (unsigned long)c[0] << 24 | (unsigned long)c[1] << 16 |
                             (unsigned long)c[2] << 8 | c[3];
        if (crc != want) {
            set_err(err, errlen, "%s: damaged PNG: chunk '%s' fails its CRC "
                    "check", name, tname);
            return -1;
        }
        at += len + 12;
        if (!memcmp(type, "IEND", 4)) return 0;
    }
}

/* Decoded samples: w x h pixels of `comp` channels, 8 or 16 bits. */
typedef struct Decoded {
    int w, h, comp;
    bool wide; /* 16-bit samples */
    void *data;
} Decoded;

/* Over RN_IMG_MAX_SIDE a side, or max_bytes of samples counting every
 * channel stb may expand to (a palette to RGBA): 1 with a message. */
static bool too_large(unsigned long w, unsigned long h, bool wide,
                      size_t max_bytes, const char *name, const char *what,
                      char *err, size_t errlen) {
    if (w >= 1 && h >= 1 && w <= RN_IMG_MAX_SIDE && h <= RN_IMG_MAX_SIDE &&
        (size_t)w * h * MAX_CHANNELS * (wide ? 2 : 1) <= max_bytes)
        return false;
    set_err(err, errlen, "%s: a %s of %lu x %lu pixels is over the limit "
            "(%d pixels a side, %zu MiB decoded)", name, what, w, h,
            RN_IMG_MAX_SIDE, max_bytes >> 20);
    return true;
}

static unsigned be16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }

/* The width and height the file declares (PNG: IHDR; JPEG: the first
 * start-of-frame), so that an image over the limit gets that message and
 * not stb's; 0 when there is none to read (then stb says what is wrong). */
static int declared_size(enum Kind k, const unsigned char *p, size_t n,
                         unsigned long *w, unsigned long *h) {
    if (k == K_PNG) {
        if (n < 24 || memcmp(p + 12, "IHDR", 4)) return 0;
        *w = (unsigned long)be16(p + 16) << 16 | be16(p + 18);
        *h = (unsigned long)be16(p + 20) << 16 | be16(p + 22);
        return 1;
    }
    for (size_t at = 2; at + 4 <= n;) { /* JPEG segments after SOI */
        if (p[at] != 0xff) return 0;
        unsigned m = p[at + 1];
        if (m == 0xff) { /* fill byte */
            at++;
            continue;
        }
        if (m == 0x01 || (m >= 0xd0 && m <= 0xd8)) { /* no length */
            at += 2;
            continue;
        }
        if (m == 0xda || m == 0xd9) return 0; /* scan or end before a frame */
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            if (at + 9 > n) return 0;
            *h = be16(p + at + 5);
            *w = be16(p + at + 7);
            return 1;
        }
        at += 2 + be16(p + at + 2);
    }
    return 0;
}

static int decode(const unsigned char *data, size_t len, size_t max_bytes,
                  const char *name, Decoded *d, char *err, size_t errlen) {
    enum Kind k = kind_of(data, len);
    const char *what = k == K_PNG ? "PNG" : "JPEG";
    if (k == K_NPY) {
        set_err(err, errlen, "%s: a .npy array, not an image (give it with "
                "--input)", name);
        return -1;
    }
    if (k == K_OTHER) {
        set_err(err, errlen, "%s: not a PNG or JPEG image", name);
        return -1;
    }
    if (len > INT_MAX) { /* stb takes an int (read_file caps it lower) */
        set_err(err, errlen, "%s: the file is too large", name);
        return -1;
    }
    if (k == K_PNG && png_check(data, len, name, err, errlen) != 0) return -1;
    /* the limits first by the header's word, then by stb's reading */
    if (max_bytes == 0 || max_bytes > RN_IMG_MAX_BYTES) max_bytes = RN_IMG_MAX_BYTES;
    unsigned long dw = 0, dh = 0;
    bool wide = k == K_PNG && len > 24 && data[24] == 16;
    if (declared_size(k, data, len, &dw, &dh) &&
        too_large(dw, dh, wide, max_bytes, name, what, err, errlen))
        return -1;
    if (!stbi_info_from_memory(data, (int)len, &d->w, &d->h, &d->comp)) {
        set_err(err, errlen, "%s: damaged or unsupported %s (stb_image: %s)",
                name, what, stbi_failure_reason());
        return -1;
    }
    d->wide = stbi_is_16_bit_from_memory(data, (int)len) != 0;
    if (too_large((unsigned long)d->w, (unsigned long)d->h, d->wide, max_bytes,
                  name, what, err, errlen))
        return -1;
    int w, h, comp;
    d->data = d->wide ? (void *)stbi_load_16_from_memory(data, (int)len, &w, &h, &comp, 0)
                      : (void *)stbi_load_from_memory(data, (int)len, &w, &h, &comp, 0);
    if (!d->data) {
        set_err(err, errlen, "%s: damaged or unsupported %s (stb_image: %s)",
                name, what, stbi_failure_reason());
        return -1;
    }
    if (w != d->w || h != d->h || comp < 1 || comp > MAX_CHANNELS) {
        stbi_image_free(d->data);
        set_err(err, errlen, "%s: damaged %s (its size changed while decoding)",
                name, what);
        return -1;
    }
    d->comp = comp;
    return 0;
}

/* Row y as c floats a pixel: samples in [0, 1], grey or RGB (step 3). */
static void convert_row(const Decoded *d, int y, int c, float *row) {
    size_t n = (size_t)d->w * (size_t)d->comp, at = (size_t)y * n;
    const unsigned char *p8 = d->data;
    const unsigned short *p16 = d->data;
    double max = d->wide ? 65535.0 : 255.0;
    for (int x = 0; x < d->w; x++) {
        double v[3];
        int rgb = d->comp >= 3 ? 3 : 1; /* alpha (2nd or 4th) is dropped */
        for (int k = 0; k < rgb; k++) {
            size_t i = at + (size_t)x * (size_t)d->comp + (size_t)k;
            v[k] = (d->wide ? p16[i] : p8[i]) / max;
        }
        if (c == 1)
            row[x] = (float)(rgb == 1 ? v[0] : 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2]);
        else
            for (int k = 0; k < 3; k++) row[3 * x + k] = (float)v[rgb == 1 ? 0 : k];
    }
}

/* ------------------------------------------------------------ resizing */

/* Pillow's weights for in_size -> out_size: output i reads inputs
 * [first[i], first[i] + count[i]) with weights k[i * ksize + j]. */
typedef struct Coeffs {
    int ksize;
    int *first, *count;
    double *k;
} Coeffs;

static double triangle(double x) {
    x = x < 0 ? -x : x;
    return x < 1 ? 1 - x : 0;
}

static int coeffs_make(Coeffs *c, int in_size, int out_size) {
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1 ? 1 : scale; /* widen only to shrink */
    double support = 1.0 * filterscale;         /* the triangle's is 1 */
    c->ksize = (int)ceil(support) * 2 + 1;
    c->first = malloc(sizeof(int) * (size_t)out_size);
    c->count = malloc(sizeof(int) * (size_t)out_size);
    c->k = calloc((size_t)out_size * (size_t)c->ksize, sizeof(double));
    if (!c->first || !c->count || !c->k) return -1;
    for (int i = 0; i < out_size; i++) {
        double center = (i + 0.5) * scale, sum = 0;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        lo = lo < 0 ? 0 : lo;
        hi = hi > in_size ? in_size : hi;
        double *k = &c->k[(size_t)i * (size_t)c->ksize];
        for (int j = 0; j < hi - lo; j++) {
            k[j] = triangle((j + lo - center + 0.5) / filterscale);
            sum += k[j];
        }
        for (int j = 0; j < hi - lo; j++)
            if (sum != 0) k[j] /= sum;
        c->first[i] = lo;
        c->count[i] = hi - lo;
    }
    return 0;
}

static void coeffs_free(Coeffs *c) {
    free(c->first);
    free(c->count);
    free(c->k);
}

/* Steps 3 and 4 into out [h][w][c]. */
static int convert_resize(const Decoded *d, int h, int w, int c, float *out) {
    Coeffs ch = {0}, cv = {0};
    float *row = malloc(sizeof(float) * (size_t)d->w * (size_t)c), *tmp = NULL;
    int rc = -1;
    if (!row || coeffs_make(&cv, d->h, h) != 0 || coeffs_make(&ch, d->w, w) != 0)
        goto done;
    bool across = w != d->w, down = h != d->h;
    /* the rows the vertical pass reads */
    int y0 = cv.first[0], y1 = cv.first[h - 1] + cv.count[h - 1];
    size_t rowlen = (size_t)w * (size_t)c;
    tmp = malloc(sizeof(float) * rowlen * (size_t)(y1 - y0));
    if (!tmp) goto done;
    for (int y = y0; y < y1; y++) {
        float *t = tmp + (size_t)(y - y0) * rowlen;
        convert_row(d, y, c, row);
        if (!across) {
            memcpy(t, row, sizeof(float) * rowlen);
            continue;
        }
        for (int x = 0; x < w; x++) {
            const double *k = &ch.k[(size_t)x * (size_t)ch.ksize];
            const float *src = row + (size_t)ch.first[x] * (size_t)c;
            for (int k3 = 0; k3 < c; k3++) {
                double s = 0;
                for (int j = 0; j < ch.count[x]; j++) s += src[(size_t)j * (size_t)c + (size_t)k3] * k[j];
                t[(size_t)x * (size_t)c + (size_t)k3] = (float)s;
            }
        }
    }
    if (!down) {
        memcpy(out, tmp, sizeof(float) * rowlen * (size_t)h);
    } else {
        for (int y = 0; y < h; y++) {
            const double *k = &cv.k[(size_t)y * (size_t)cv.ksize];
            const float *src = tmp + (size_t)(cv.first[y] - y0) * rowlen;
            float *o = out + (size_t)y * rowlen;
            for (size_t i = 0; i < rowlen; i++) {
                double s = 0;
                for (int j = 0; j < cv.count[y]; j++) s += src[(size_t)j * rowlen + i] * k[j];
                o[i] = (float)s;
            }
        }
    }
    rc = 0;
done:
    free(row);
    free(tmp);
    coeffs_free(&ch);
    coeffs_free(&cv);
    return rc;
}

/* ------------------------------------------------------------- the API */

int rn_img_decode(const unsigned char *data, size_t len, size_t max_bytes,
                  const char *name, int h, int w, int c,
                  const rn_img_norm *n, rn_array *out, char *err,
                  size_t errlen) {
    memset(out, 0, sizeof *out);
    if (c != 1 && c != 3) {
        set_err(err, errlen, "%s: an image fills an input of 3 channels (RGB) "
                "or 1 (grey), not %d", name, c);
        return -1;
    }
    if ((n->nmean > 1 && n->nmean != c) || (n->nstd > 1 && n->nstd != c)) {
        set_err(err, errlen, "%s: --%s has %d values, the input has %d "
                "channel%s", name, n->nmean > 1 && n->nmean != c ? "mean" : "std",
                n->nmean > 1 && n->nmean != c ? n->nmean : n->nstd, c,
                c == 1 ? "" : "s");
        return -1;
    }
    if (h < 1 || w < 1 || (size_t)h * (size_t)w > ((size_t)1 << 40) / sizeof(float)) {
        set_err(err, errlen, "%s: an input of %d x %d pixels cannot take an image",
                name, h, w);
        return -1;
    }
    Decoded d = {0};
    if (decode(data, len, max_bytes, name, &d, err, errlen) != 0) return -1;
    size_t count = (size_t)h * (size_t)w * (size_t)c;
    float *x = malloc(sizeof(float) * count);
    if (!x || convert_resize(&d, h, w, c, x) != 0) {
        stbi_image_free(d.data);
        free(x);
        set_err(err, errlen, "%s: out of memory", name);
        return -1;
    }
    stbi_image_free(d.data);
    for (size_t i = 0; i < count; i++) {
        int k = (int)(i % (size_t)c);
        float mean = n->nmean ? n->mean[n->nmean == 1 ? 0 : k] : 0;
        float std = n->nstd ? n->std[n->nstd == 1 ? 0 : k] : 1;
        x[i] = (x[i] * n->scale - mean) / std;
    }
    out->rank = 3;
    out->dims[0] = h;
    out->dims[1] = w;
    out->dims[2] = c;
    out->count = (rn_i64)count;
    out->data = x;
    return 0;
}

int rn_img_read(const char *path, int h, int w, int c, const rn_img_norm *n,
                rn_array *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    size_t len;
    unsigned char *data = read_file(path, &len, err, errlen);
    if (!data) return -1;
    int rc = rn_img_decode(data, len, RN_IMG_MAX_BYTES, path, h, w, c, n, out,
                           err, errlen);
    free(data);
    return rc;
}
