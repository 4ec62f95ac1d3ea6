/* npy.c: float32 arrays in NumPy's .npy format.
 *
 * Layout: "\x93NUMPY", version major.minor, a little-endian header length
 * (2 bytes in 1.0, 4 in 2.0 and 3.0), then the header: a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
 * spaces and a newline, then the data. The header is parsed as the small
 * subset of Python literals NumPy writes, strictly; only little-endian
 * float32 in C order is accepted, and the data length must match exactly. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rnrt.h"
#include "internal.h"

enum { MAX_RANK = 8, MAX_NPY_HEADER = 1 << 20 };

/* The parsed header. */
typedef struct Header {
    char descr[16];
    int fortran;
    int rank;
    rn_i64 dims[MAX_RANK];
    int seen_descr, seen_fortran, seen_shape;
} Header;

typedef struct Lit {
    const char *s;
    size_t len, pos;
    int failed;
    char problem[96]; /* the first error; pos is where it happened */
} Lit;

static void lit_fail(Lit *l, const char *problem) {
    if (l->failed) return;
    l->failed = 1;
    snprintf(l->problem, sizeof l->problem, "%s", problem);
}

static void lit_ws(Lit *l) {
    while (l->pos < l->len && (l->s[l->pos] == ' ' || l->s[l->pos] == '\t' ||
                               l->s[l->pos] == '\n' || l->s[l->pos] == '\r'))
        l->pos++;
}

static int lit_peek(Lit *l) {
    return l->pos < l->len ? (unsigned char)l->s[l->pos] : -1;
}

static int lit_accept(Lit *l, char c) {
    lit_ws(l);
    if (lit_peek(l) != c) return 0;
    l->pos++;
    return 1;
}

/* A quoted string without escapes into out[0..size). */
static int lit_string(Lit *l, char *out, size_t size) {
    lit_ws(l);
    int q = lit_peek(l);
    if (q != '\'' && q != '"') {
        lit_fail(l, "expected a string");
        return -1;
    }
    size_t start = ++l->pos;
    while (l->pos < l->len && l->s[l->pos] != q) {
        unsigned char c = (unsigned char)l->s[l->pos];
        if (c == '\\' || c < 0x20 || c >= 0x7f) {
            lit_fail(l, "unsupported character in a string");
            return -1;
        }
        l->pos++;
    }
    if (l->pos >= l->len) {
        lit_fail(l, "unterminated string");
        return -1;
    }
    size_t n = l->pos - start;
    l->pos++;
    if (n >= size) {
        lit_fail(l, "string too long");
        return -1;
    }
    memcpy(out, l->s + start, n);
    out[n] = 0;
    return 0;
}

static int lit_word(Lit *l, const char *w) {
    size_t n = strlen(w);
    lit_ws(l);
    if (l->len - l->pos < n || memcmp(l->s + l->pos, w, n) != 0) return 0;
    int next = l->pos + n < l->len ? (unsigned char)l->s[l->pos + n] : ' ';
    if (next == '_' || (next >= 'a' && next <= 'z') ||
        (next >= 'A' && next <= 'Z') || (next >= '0' && next <= '9'))
        return 0;
    l->pos += n;
    return 1;
}

/* A tuple of non-negative integers: (), (3,), (2, 3) or (2, 3,). */
static int lit_shape(Lit *l, Header *h) {
    if (!lit_accept(l, '(')) {
        lit_fail(l, "'shape' is not a tuple");
        return -1;
    }
    h->rank = 0;
    int trailing_comma = 0;
    while (!lit_accept(l, ')')) {
        lit_ws(l);
        int c = lit_peek(l);
        if (c < '0' || c > '9') {
            lit_fail(l, "'shape' must hold non-negative integers");
            return -1;
        }
        rn_i64 v = 0;
        while ((c = lit_peek(l)) >= '0' && c <= '9') {
            if (v > (0x7fffffffffffffffLL - (c - '0')) / 10) {
                lit_fail(l, "dimension too large");
                return -1;
            }
            v = v * 10 + (c - '0');
            l->pos++;
        }
        if (h->rank == MAX_RANK) {
            lit_fail(l, "more than 8 dimensions");
            return -1;
        }
        h->dims[h->rank++] = v;
        trailing_comma = lit_accept(l, ',');
        if (!trailing_comma) {
            if (lit_accept(l, ')')) break;
            lit_fail(l, "expected ',' or ')' in 'shape'");
            return -1;
        }
    }
    /* (3) is the integer 3 in Python, not a tuple. */
    if (h->rank == 1 && !trailing_comma) {
        lit_fail(l, "'shape' is not a tuple");
        return -1;
    }
    return 0;
}

static int parse_header(const char *s, size_t len, Header *h, char *problem,
                        size_t problem_size, size_t *errpos) {
    Lit l = {s, len, 0, 0, ""};
    memset(h, 0, sizeof *h);
    if (!lit_accept(&l, '{')) lit_fail(&l, "expected '{'");
    while (!l.failed && !lit_accept(&l, '}')) {
        char key[32];
        if (lit_string(&l, key, sizeof key) != 0) break;
        if (!lit_accept(&l, ':')) {
            lit_fail(&l, "expected ':'");
            break;
        }
        int *seen = !strcmp(key, "descr")           ? &h->seen_descr
                    : !strcmp(key, "fortran_order") ? &h->seen_fortran
                    : !strcmp(key, "shape")         ? &h->seen_shape
                                                    : NULL;
        if (!seen || *seen) {
            char msg[64];
            snprintf(msg, sizeof msg, "%s key '%s'",
                     seen ? "duplicate" : "unexpected", key);
            lit_fail(&l, msg);
            break;
        }
        *seen = 1;
        if (seen == &h->seen_descr) {
            if (lit_accept(&l, '[')) {
                lit_fail(&l, "structured dtypes are not supported");
                break;
            }
            if (lit_string(&l, h->descr, sizeof h->descr) != 0) break;
        } else if (seen == &h->seen_fortran) {
            if (lit_word(&l, "True")) h->fortran = 1;
            else if (lit_word(&l, "False")) h->fortran = 0;
            else {
                lit_fail(&l, "'fortran_order' is not True or False");
                break;
            }
        } else if (lit_shape(&l, h) != 0) {
            break;
        }
        if (!lit_accept(&l, ',')) {
            if (!lit_accept(&l, '}')) lit_fail(&l, "expected ',' or '}'");
            break;
        }
    }
    lit_ws(&l);
    if (!l.failed && l.pos != l.len) lit_fail(&l, "trailing characters");
    if (!l.failed && !(h->seen_descr && h->seen_fortran && h->seen_shape))
        lit_fail(&l, !h->seen_descr     ? "'descr' is missing"
                     : !h->seen_fortran ? "'fortran_order' is missing"
                                        : "'shape' is missing");
    *errpos = l.pos;
    snprintf(problem, problem_size, "%s", l.problem);
    return l.failed ? -1 : 0;
}

static int read_exact(FILE *f, void *buf, size_t n) {
    return fread(buf, 1, n, f) == n ? 0 : -1;
}

static const char *shape_str(char *buf, size_t size, int rank,
                             const rn_i64 *dims) {
    size_t o = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%lld", i ? ", " : "",
                              dims[i]);
    if (o < size) snprintf(buf + o, size - o, rank == 1 ? ",)" : ")");
    return buf;
}

/* Checks the header of an open file and leaves f at the data. */
static int read_header(FILE *f, const char *path, long long fsize, Header *h,
                       long long *data_at, char *err, size_t errlen) {
    unsigned char pre[12];
    size_t got = fread(pre, 1, 10, f);
    if (got < 6 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        rn_set_err(err, errlen, "%s: not a .npy file (bad magic)", path);
        return -1;
    }
    if (got < 10) {
        rn_set_err(err, errlen, "%s: truncated header", path);
        return -1;
    }
    int major = pre[6], minor = pre[7];
    unsigned long hlen;
    long long at;
    if (major == 1 && minor == 0) {
        hlen = pre[8] | (unsigned long)pre[9] << 8;
        at = 10;
    } else if ((major == 2 || major == 3) && minor == 0) {
        if (read_exact(f, pre + 10, 2) != 0) {
            rn_set_err(err, errlen, "%s: truncated header", path);
            return -1;
        }
        hlen = pre[8] | (unsigned long)pre[9] << 8 |
               (unsigned long)pre[10] << 16 | (unsigned long)pre[11] << 24;
        at = 12;
    } else {
        rn_set_err(err, errlen, "%s: unsupported .npy version %d.%d", path, major,
                minor);
        return -1;
    }
    if (hlen > MAX_NPY_HEADER) {
        rn_set_err(err, errlen, "%s: header length %lu is too large", path, hlen);
        return -1;
    }
    if ((long long)hlen > fsize - at) {
        rn_set_err(err, errlen, "%s: truncated header (%lu bytes announced, %lld "
                "in the file)", path, hlen, fsize - at);
        return -1;
    }
    char *text = malloc(hlen + 1);
    if (!text || read_exact(f, text, hlen) != 0) {
        rn_set_err(err, errlen, "%s: cannot read the header", path);
        free(text);
        return -1;
    }
    size_t pos;
    char problem[96];
    int r = parse_header(text, hlen, h, problem, sizeof problem, &pos);
    free(text);
    if (r != 0) {
        rn_set_err(err, errlen, "%s: header is not the dict NumPy writes: %s at "
                "byte %zu", path, problem, pos);
        return -1;
    }
    *data_at = at + (long long)hlen;
    return 0;
}

int rn_npy_read(const char *path, rn_array *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        rn_set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rn_set_err(err, errlen, "cannot read %s: not a regular file", path);
        fclose(f);
        return -1;
    }
    Header h;
    long long data_at;
    char sb[256];
    if (read_header(f, path, (long long)st.st_size, &h, &data_at, err,
                    errlen) != 0)
        goto fail;
    if (strcmp(h.descr, "<f4") != 0) {
        if (strcmp(h.descr, ">f4") == 0)
            rn_set_err(err, errlen, "%s: dtype '>f4' is big-endian float32; save "
                    "with x.astype('<f4')", path);
        else
            rn_set_err(err, errlen, "%s: dtype '%s' is not float32; save with "
                    "x.astype(np.float32)", path, h.descr);
        goto fail;
    }
    if (h.fortran) {
        rn_set_err(err, errlen, "%s: Fortran-order arrays are not supported; save "
                "with np.ascontiguousarray(x)", path);
        goto fail;
    }
    shape_str(sb, sizeof sb, h.rank, h.dims);
    rn_i64 count = 1;
    for (int i = 0; i < h.rank; i++) {
        if (h.dims[i] && count > 0x7fffffffffffffffLL / 4 / h.dims[i]) {
            rn_set_err(err, errlen, "%s: shape %s is too large", path, sb);
            goto fail;
        }
        count *= h.dims[i];
    }
    long long have = (long long)st.st_size - data_at, want = count * 4;
    if (have != want) {
        rn_set_err(err, errlen, "%s: %s: shape %s of float32 needs %lld bytes of "
                "data, the file has %lld", path,
                have < want ? "data is truncated" : "trailing bytes after the "
                "data", sb, want, have);
        goto fail;
    }
    if ((unsigned long long)want > (size_t)-1 ||
        !(out->data = malloc(want ? (size_t)want : 1))) {
        rn_set_err(err, errlen, "%s: out of memory for %lld bytes", path, want);
        goto fail;
    }
    if (read_exact(f, out->data, (size_t)want) != 0) {
        rn_set_err(err, errlen, "cannot read %s: %s", path,
                ferror(f) ? strerror(errno) : "file shrank while reading");
        goto fail;
    }
    fclose(f);
    out->rank = h.rank;
    memcpy(out->dims, h.dims, sizeof h.dims);
    out->count = count;
    return 0;
fail:
    fclose(f);
    rn_array_free(out);
    return -1;
}

void rn_array_free(rn_array *a) {
    if (!a) return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* "[2, 3]" into buf (cut short if it does not fit). */
static void dims_text(char *buf, size_t size, int rank, const rn_i64 *dims) {
    size_t o = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%lld", i ? ", " : "", dims[i]);
    if (o < size) snprintf(buf + o, size - o, "]");
}

int rn_input_fits(const rn_array *a, int rank, const rn_i64 *dims,
                  const char *path, const char *name, char *err, size_t errlen) {
    int lead = a->rank - rank, i, fits = lead == 0 || (lead == 1 && a->dims[0] == 1);
    for (i = 0; fits && i < rank; i++) fits = a->dims[lead + i] == dims[i];
    if (fits) return 1;
    char got[160], want[160];
    dims_text(got, sizeof got, a->rank, a->dims);
    dims_text(want, sizeof want, rank, dims);
    /* PyTorch's [1, C, H, W] of an [H, W, C] input */
    int nchw = rank == 3 && a->rank == 4 && a->dims[0] == 1 && a->dims[1] == dims[2] &&
               a->dims[2] == dims[0] && a->dims[3] == dims[1];
    rn_set_err(err, errlen,
               "%s: an array of shape %s does not fit input '%s': expected %s or "
               "[1, %s%s", path, got, name, want, want + 1,
               nchw ? " (this one is NCHW, as PyTorch's: rnc takes NHWC, "
                      "x.transpose(0, 2, 3, 1))" : "");
    return 0;
}

int rn_npy_write(const char *path, int rank, const rn_i64 *dims,
                 const float *data, char *err, size_t errlen) {
    if (rank < 0 || rank > MAX_RANK) {
        rn_set_err(err, errlen, "%s: cannot write %d dimensions", path, rank);
        return -1;
    }
    rn_i64 count = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 ||
            (dims[i] && count > 0x7fffffffffffffffLL / 4 / dims[i])) {
            rn_set_err(err, errlen, "%s: cannot write a bad shape", path);
            return -1;
        }
        count *= dims[i];
    }
    /* NumPy 1.24's exact bytes: the dict, 21 - len(str(dims[0])) spaces
     * of room for growth, then spaces and '\n' up to a multiple of 64. */
    char head[512], sb[256];
    int n = snprintf(head, sizeof head,
                     "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
                     shape_str(sb, sizeof sb, rank, dims));
    if (rank > 0) {
        int digits = snprintf(sb, sizeof sb, "%lld", dims[0]);
        for (int i = digits; i < 21; i++) head[n++] = ' ';
    }
    int padlen = 64 - (10 + n + 1) % 64;
    for (int i = 0; i < padlen; i++) head[n++] = ' ';
    head[n++] = '\n';
    if ((unsigned long long)count * 4 > (size_t)-1 - 1024) {
        rn_set_err(err, errlen, "%s: array too large", path);
        return -1;
    }
    size_t total = 10 + (size_t)n + (size_t)count * 4;
    unsigned char *file = malloc(total);
    if (!file) {
        rn_set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = (unsigned char)(n & 0xff);
    file[9] = (unsigned char)(n >> 8);
    memcpy(file + 10, head, (size_t)n);
    if (count) memcpy(file + 10 + n, data, (size_t)count * 4);
    int r = rn_write_file_atomic(path, file, total, err, errlen);
    free(file);
    return r;
}
