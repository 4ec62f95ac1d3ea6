/* image.c: images in (rnimg.h, librnimg.a). A PNG or JPEG file becomes a
 * model input [h, w, c]:
 *   1. read whole (at most RN_IMG_MAX_BYTES) and decoded to 8- or 16-bit
 *      samples of 1 to 4 channels by libpng or libjpeg-turbo
 *      (image_decode.c), the size checked from the header first;
 *   2. made c channels, as Pillow's convert('RGB') or convert('L') does:
 *      grey copied to R, G and B; alpha dropped (not composited); RGB to
 *      grey by ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B; computed in
 *      double on samples in [0, 1] (v / 255 or v / 65535);
 *   3. resized to h x w when the size differs, as Pillow's
 *      Image.resize((w, h), BILINEAR) does on a float ('F') image: the
 *      triangle filter widened by the scale when shrinking (so it
 *      averages, with no aliasing), normalized weights, a horizontal pass
 *      into float rows and a vertical pass, sums in double;
 *   4. normalized: x = (sample * scale - mean) / std, in float.
 * Reentrant: no state outside the caller's buffers. */
#define _POSIX_C_SOURCE 200809L
#include "rnimg.h"
#include "image_decode.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
            rn_img_set_err(err, errlen, "--scale takes one number, not '%s'", value);
            return -1;
        }
        n->scale = v[0];
    } else if (!strcmp(flag, "--mean") || !strcmp(flag, "--std")) {
        bool is_std = flag[2] == 's';
        if (parse_list(value, v, &count, is_std) != 0) {
            rn_img_set_err(err, errlen, "%s takes one number or three, comma-separated "
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
    rn_img_kind k = rn_img_kind_of(head, n);
    if (k == RN_IMG_PNG || k == RN_IMG_JPEG) return 1;
    return k == RN_IMG_OTHER && image_name(path);
}

/* The whole file, at most RN_IMG_MAX_BYTES; NULL with a message. */
static unsigned char *read_file(const char *path, size_t *len, char *err,
                                size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        rn_img_set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    unsigned char *buf = NULL;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rn_img_set_err(err, errlen, "cannot read %s: not a regular file", path);
    } else if ((unsigned long long)st.st_size > RN_IMG_MAX_BYTES) {
        rn_img_set_err(err, errlen, "%s: the file is %lld bytes, over the limit of "
                "%zu MiB for an image", path, (long long)st.st_size,
                RN_IMG_MAX_BYTES >> 20);
    } else if (!(buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
        rn_img_set_err(err, errlen, "%s: out of memory", path);
    } else if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        rn_img_set_err(err, errlen, "cannot read %s: %s", path,
                ferror(f) ? strerror(errno) : "file shrank while reading");
        free(buf);
        buf = NULL;
    }
    *len = buf ? (size_t)st.st_size : 0;
    fclose(f);
    return buf;
}

/* --------------------------------------------------------- conversion */

/* Row y as c floats a pixel: samples in [0, 1], grey or RGB (step 2). */
static void convert_row(const rn_img_samples *d, int y, int c, float *row) {
    size_t n = (size_t)d->w * (size_t)d->comp, at = (size_t)y * n;
    const unsigned char *p = d->data;
    double max = d->wide ? 65535.0 : 255.0;
    for (int x = 0; x < d->w; x++) {
        double v[3];
        int rgb = d->comp >= 3 ? 3 : 1; /* alpha (2nd or 4th) is dropped */
        for (int k = 0; k < rgb; k++) {
            size_t i = at + (size_t)x * (size_t)d->comp + (size_t)k;
            v[k] = (d->wide ? (unsigned)p[2 * i] << 8 | p[2 * i + 1] : p[i]) / max;
        }
        if (c == 1)
            row[x] = (float)(rgb == 1 ? v[0]
                                      : 0.299 * v[0] + 0.587 * v[1] + 0.114 * v[2]);
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

/* Steps 2 and 3 into out [h][w][c]. */
static int convert_resize(const rn_img_samples *d, int h, int w, int c,
                          float *out) {
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
            for (int ch3 = 0; ch3 < c; ch3++) {
                double s = 0;
                for (int j = 0; j < ch.count[x]; j++)
                    s += src[(size_t)(j * c + ch3)] * k[j];
                t[(size_t)(x * c + ch3)] = (float)s;
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
                for (int j = 0; j < cv.count[y]; j++)
                    s += src[(size_t)j * rowlen + i] * k[j];
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
        rn_img_set_err(err, errlen, "%s: an image fills an input of 3 channels "
                       "(RGB) or 1 (grey), not %d", name, c);
        return -1;
    }
    if ((n->nmean > 1 && n->nmean != c) || (n->nstd > 1 && n->nstd != c)) {
        rn_img_set_err(err, errlen, "%s: --%s has %d values, the input has %d "
                "channel%s", name, n->nmean > 1 && n->nmean != c ? "mean" : "std",
                n->nmean > 1 && n->nmean != c ? n->nmean : n->nstd, c,
                c == 1 ? "" : "s");
        return -1;
    }
    if (h < 1 || w < 1) {
        rn_img_set_err(err, errlen, "%s: an input of %d x %d pixels cannot take "
                       "an image", name, h, w);
        return -1;
    }
    rn_img_samples d;
    if (rn_img_decode_samples(data, len, max_bytes, name, &d, err, errlen) != 0)
        return -1;
    size_t count = (size_t)h * (size_t)w * (size_t)c;
    float *x = malloc(sizeof(float) * count);
    if (!x || convert_resize(&d, h, w, c, x) != 0) {
        free(d.data);
        free(x);
        rn_img_set_err(err, errlen, "%s: out of memory", name);
        return -1;
    }
    free(d.data);
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
