/* trace.c: a model's layer values written as .npy files, one per row of
 * the summary, and their index trace.json (rnrt.h: rn_trace_*).
 *
 * Used by `rnc --run --trace DIR` and by --main programs' --trace DIR,
 * through the generated code's per-layer hook. Every file is written
 * atomically (rn_npy_write, rn_write_file_atomic); nothing is deleted.
 * The index lists the rows in the model's order, so that rnc --compare
 * can walk them layer by layer:
 *   {"model": "NAME", "layers": [
 *     {"name": "conv2d", "type": "Conv2D", "shape": [1, 32, 32, 32],
 *      "file": "conv2d.npy"}, ...]}
 * with "file": null (and "fused": true) for a row whose value the build
 * does not keep. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rnrt.h"
#include "internal.h"

struct rn_trace {
    char *dir;
    char *model;
    const rn_layer *layers;
    int n;
    char *seen;  /* by row: 1 once written, 2 when given no value */
    int failed;  /* the first error is in err */
    char err[1024];
};

void rn_trace_file_name(const char *name, char *out, size_t outlen) {
    size_t k = 0;
    if (outlen == 0) return;
    for (const char *p = name; *p && k + 2 < outlen; p++) {
        if (*p == '/') {
            out[k++] = '_';
            out[k++] = '_';
        } else {
            out[k++] = *p;
        }
    }
    out[k] = 0;
    if (k + 5 <= outlen) memcpy(out + k, ".npy", 5);
}

/* mkdir -p: each component of path in turn; fine when it exists as a
 * directory. */
static int make_dirs(const char *path, char *err, size_t errlen) {
    size_t len = strlen(path);
    char *p = malloc(len + 1);
    if (!p) {
        rn_set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(p, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char c = p[i];
        p[i] = 0;
        struct stat st;
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            rn_set_err(err, errlen, "cannot create %s: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            rn_set_err(err, errlen, "%s is not a directory", p);
            free(p);
            return -1;
        }
        p[i] = c;
    }
    free(p);
    return 0;
}

enum { NAME_MAX_LEN = 4096 }; /* a file name's bytes, with ".npy" */

static int by_string(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

rn_trace *rn_trace_open(const char *dir, const char *model,
                        const rn_layer *layers, int n, char *err,
                        size_t errlen) {
    /* two names that map to one file (a/b and a__b) would overwrite:
     * sorted, equal names are neighbours */
    char **files = calloc((size_t)n + 1, sizeof *files);
    int bad = !files;
    for (int i = 0; i < n && !bad; i++) {
        size_t len = 2 * strlen(layers[i].name) + 5; /* each '/' -> "__" */
        files[i] = malloc(len);
        if (!files[i]) bad = 1;
        else rn_trace_file_name(layers[i].name, files[i], len);
    }
    if (!bad) qsort(files, (size_t)n, sizeof *files, by_string);
    for (int i = 1; i < n && !bad; i++)
        if (!strcmp(files[i - 1], files[i])) {
            rn_set_err(err, errlen, "two layers would be traced as %s", files[i]);
            bad = 2;
        }
    if (bad == 1) rn_set_err(err, errlen, "out of memory");
    for (int i = 0; files && i < n; i++) free(files[i]);
    free(files);
    if (bad) return NULL;
    if (make_dirs(dir, err, errlen) != 0) return NULL;
    rn_trace *t = calloc(1, sizeof *t);
    if (t) {
        t->dir = malloc(strlen(dir) + 1);
        t->model = malloc(strlen(model) + 1);
        t->seen = calloc((size_t)n + 1, 1);
    }
    if (!t || !t->dir || !t->model || !t->seen) {
        if (t) {
            free(t->dir);
            free(t->model);
            free(t->seen);
            free(t);
        }
        rn_set_err(err, errlen, "out of memory");
        return NULL;
    }
    strcpy(t->dir, dir);
    strcpy(t->model, model);
    t->layers = layers;
    t->n = n;
    return t;
}

/* DIR/FILE into out; -1 when too long. */
static int file_path(const rn_trace *t, const char *name, char *out,
                     size_t outlen) {
    char file[NAME_MAX_LEN];
    rn_trace_file_name(name, file, sizeof file);
    int k = snprintf(out, outlen, "%s/%s", t->dir, file);
    return k < 0 || (size_t)k >= outlen ? -1 : 0;
}

void rn_trace_hook(void *ctx, int layer, const float *value) {
    rn_trace *t = ctx;
    if (layer < 0 || layer >= t->n || t->seen[layer] || t->failed) return;
    const rn_layer *l = &t->layers[layer];
    if (!value) {
        t->seen[layer] = 2;
        return;
    }
    char path[4096];
    rn_i64 dims[4] = {1};
    for (int i = 0; i < l->rank && i < 3; i++) dims[i + 1] = l->dims[i];
    if (file_path(t, l->name, path, sizeof path) != 0) {
        rn_set_err(t->err, sizeof t->err, "%s: path too long", l->name);
        t->failed = 1;
        return;
    }
    if (rn_npy_write(path, l->rank + 1, dims, value, t->err, sizeof t->err) != 0)
        t->failed = 1;
    else
        t->seen[layer] = 1;
}

/* A growable text (the index); oom set once an allocation failed. */
typedef struct Text {
    char *data;
    size_t len, cap;
    int oom;
} Text;

static void put(Text *b, const char *s) {
    size_t n = strlen(s);
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 4096;
        while (c < b->len + n + 1) c *= 2;
        char *d = realloc(b->data, c);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = c;
    }
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

/* s as a JSON string: quotes, backslashes and control characters escaped. */
static void put_string(Text *b, const char *s) {
    put(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char e[8];
        if (*p == '"' || *p == '\\') snprintf(e, sizeof e, "\\%c", *p);
        else if (*p < 0x20) snprintf(e, sizeof e, "\\u%04x", *p);
        else snprintf(e, sizeof e, "%c", *p);
        put(b, e);
    }
    put(b, "\"");
}

int rn_trace_close(rn_trace *t, char *err, size_t errlen) {
    int missing = 0, rc = 0;
    if (t->failed) {
        rn_set_err(err, errlen, "%s", t->err);
        rc = -1;
    }
    Text b = {0};
    put(&b, "{\"model\": ");
    put_string(&b, t->model);
    put(&b, ", \"layers\": [\n");
    for (int i = 0; i < t->n; i++) {
        const rn_layer *l = &t->layers[i];
        char num[64], file[NAME_MAX_LEN];
        put(&b, "  {\"name\": ");
        put_string(&b, l->name);
        put(&b, ", \"type\": ");
        put_string(&b, l->type);
        put(&b, ", \"shape\": [1");
        for (int k = 0; k < l->rank && k < 3; k++) {
            snprintf(num, sizeof num, ", %lld", l->dims[k]);
            put(&b, num);
        }
        put(&b, "], \"file\": ");
        if (t->seen[i] == 1) {
            rn_trace_file_name(l->name, file, sizeof file);
            put_string(&b, file);
        } else {
            put(&b, "null, \"fused\": true");
            missing++;
        }
        put(&b, i + 1 < t->n ? "},\n" : "}\n");
    }
    put(&b, "]}\n");
    if (rc == 0) {
        char path[4096];
        int k = snprintf(path, sizeof path, "%s/trace.json", t->dir);
        if (b.oom) {
            rn_set_err(err, errlen, "out of memory");
            rc = -1;
        } else if (k < 0 || (size_t)k >= sizeof path) {
            rn_set_err(err, errlen, "%s: path too long", t->dir);
            rc = -1;
        } else if (rn_write_file_atomic(path, b.data, b.len, err, errlen) != 0) {
            rc = -1;
        }
    }
    free(b.data);
    free(t->dir);
    free(t->model);
    free(t->seen);
    free(t);
    return rc < 0 ? -1 : missing;
}
