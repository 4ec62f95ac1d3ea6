/* labels.c: class names out. A labels file (one name a line) is read and
 * checked, and the top 5 of a classifier's output is formatted as `rnc
 * --run` and the main() of `rnc --main` print it, with or without names.
 * Reentrant: everything lives in the caller's rn_labels and buffers. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rnrt.h"
#include "internal.h"

/* Bounds: the whole file, and one name (which keeps rn_top5_text's
 * output within RN_TOP5_TEXT bytes). */
enum { MAX_FILE = 16 << 20, MAX_NAME = RN_LABEL_MAX };

/* Length of the UTF-8 sequence at p (n bytes left), 0 when invalid:
 * overlong forms, surrogates and code points over U+10FFFF included. */
static int utf8_len(const unsigned char *p, size_t n) {
    unsigned c = p[0];
    int len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
            : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || (size_t)len > n) return 0;
    unsigned cp = len == 1 ? c : c & (0x7f >> len);
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Checks line `no` (its bytes without the newline): 0 or -1 with a
 * message. */
static int check_line(const char *path, int no, const char *s, size_t n,
                      char *err, size_t errlen) {
    if (n > MAX_NAME) {
        rn_set_err(err, errlen, "%s:%d: a name of %zu bytes (at most %d)", path,
                   no, n, MAX_NAME);
        return -1;
    }
    for (size_t i = 0; i < n;) {
        const unsigned char *p = (const unsigned char *)s + i;
        int k = utf8_len(p, n - i);
        if (k == 0) {
            rn_set_err(err, errlen, "%s:%d: not UTF-8 (byte 0x%02x)", path, no,
                       p[0]);
            return -1;
        }
        if ((p[0] < 0x20 && p[0] != '\t') || p[0] == 0x7f) {
            rn_set_err(err, errlen, "%s:%d: a control character (0x%02x) in a "
                       "name", path, no, p[0]);
            return -1;
        }
        i += (size_t)k;
    }
    return 0;
}

static bool blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t') return false;
    return true;
}

int rn_labels_read(const char *path, rn_labels *out, char *err,
                   size_t errlen) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        rn_set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    char *text = NULL;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        rn_set_err(err, errlen, "cannot read %s: not a regular file", path);
    } else if (st.st_size > MAX_FILE) {
        rn_set_err(err, errlen, "%s: over %d MiB: not a labels file", path,
                   MAX_FILE >> 20);
    } else if (!(text = malloc((size_t)st.st_size + 1))) {
        rn_set_err(err, errlen, "%s: out of memory", path);
    } else if (fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        rn_set_err(err, errlen, "cannot read %s: %s", path,
                   ferror(f) ? strerror(errno) : "file shrank while reading");
        free(text);
        text = NULL;
    }
    fclose(f);
    if (!text) return -1;
    size_t len = (size_t)st.st_size;
    text[len] = 0;
    char *s = text;
    if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) s += 3, len -= 3; /* BOM */

    /* lines; blank ones at the end are dropped, elsewhere refused */
    size_t nlines = 1;
    for (size_t i = 0; i < len; i++) nlines += s[i] == '\n';
    char **names = malloc(sizeof *names * nlines);
    if (!names) {
        rn_set_err(err, errlen, "%s: out of memory", path);
        free(text);
        return -1;
    }
    int count = 0, first_blank = 0;
    for (size_t at = 0, no = 1; at <= len; no++) {
        char *line = s + at, *nl = memchr(line, '\n', len - at);
        size_t end = nl ? (size_t)(nl - s) : len, n = end - at;
        at = end + 1;
        if (n && line[n - 1] == '\r') n--;
        line[n] = 0;
        if (blank(line, n)) {
            if (!first_blank) first_blank = (int)no;
            continue;
        }
        if (first_blank) {
            rn_set_err(err, errlen, "%s:%d: an empty line (one class name a "
                       "line)", path, first_blank);
            goto fail;
        }
        if (check_line(path, (int)no, line, n, err, errlen) != 0) goto fail;
        names[count++] = line;
    }
    if (count == 0) {
        rn_set_err(err, errlen, "%s: no class names in it", path);
        goto fail;
    }
    out->count = count;
    out->names = names;
    out->text = text;
    return 0;
fail:
    free(names);
    free(text);
    return -1;
}

void rn_labels_free(rn_labels *l) {
    if (!l) return;
    free(l->names);
    free(l->text);
    memset(l, 0, sizeof *l);
}

/* Characters, not bytes: what a terminal advances (wide scripts aside). */
static int width(const char *s) {
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

int rn_top5_text(const float *v, rn_i64 n, const rn_labels *l, char *out,
                 size_t outlen) {
    rn_i64 best[5];
    int k = 0;
    for (; k < 5 && k < n; k++) { /* the largest not taken; ties: first */
        rn_i64 b = -1;
        for (rn_i64 i = 0; i < n; i++) {
            bool taken = false;
            for (int t = 0; t < k; t++) taken |= best[t] == i;
            if (!taken && (b < 0 || v[i] > v[b])) b = i;
        }
        best[k] = b;
    }
    int wide = 0;
    for (int t = 0; l && t < k; t++) {
        int w = best[t] < l->count ? width(l->names[best[t]]) : 0;
        wide = w > wide ? w : wide;
    }
    size_t at = 0;
    if (outlen) out[0] = 0;
    for (int t = 0; t < k && at < outlen; t++) {
        rn_i64 c = best[t];
        int m;
        if (l && c < l->count)
            m = snprintf(out + at, outlen - at, "  #%d  %s%*s  %.6f  (class "
                         "%lld)\n", t + 1, l->names[c],
                         wide - width(l->names[c]), "", v[c], c);
        else
            m = snprintf(out + at, outlen - at, "  #%d  class %lld  %.6f\n",
                         t + 1, c, v[c]);
        if (m < 0) return -1;
        at += (size_t)m;
    }
    return at < outlen ? 0 : -1;
}
