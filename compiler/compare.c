/* compare.c: `rnc --compare REF_DIR DIR [--tol T]`: two traces (folders of
 * NAME.npy, one per layer, as `rnc --run --trace` or tools/trace_torch.py
 * and tools/trace_tfjs.js write them) compared layer by layer.
 *
 * Requires nothing of the other stages: it reads files only. Writes the
 * table to `out`.
 *
 * A folder's layers are the rows of its index trace.json that have a file
 * (in the index's order: the model's graph order), or else its *.npy
 * files sorted by name. Layers are matched by file name and walked in
 * DIR's order; those on one side only are listed apart. For each pair:
 * the largest |got - ref|, that over max|ref|, the cosine similarity, and
 * how many elements are out of tolerance: |got - ref| > T max|ref| + T/10
 * (T = 1e-4 by default: the project's tolerance). Shapes must agree up
 * to leading 1s. The first layer out of tolerance is marked: the layers
 * after it usually inherit its error. Exit 0 when every common layer is
 * within tolerance, 1 otherwise (or when nothing could be compared). */
#define _POSIX_C_SOURCE 200809L
#include "rnc.h"
#include "rnrt.h"
#include "json.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct Layer {
    const char *name; /* as the index names it, or the file's stem */
    const char *file; /* inside the folder */
    bool matched;
} Layer;

typedef struct Side {
    const char *dir;
    Layer *layers;
    int n;
} Side;

static int by_file(const void *a, const void *b) {
    return strcmp(((const Layer *)a)->file, ((const Layer *)b)->file);
}

/* The rows of dir/trace.json that have a file. 1 when read, 0 when there
 * is no index, -1 on a damaged one (message in err). */
static int read_index(Side *s, Arena *a, char *err, size_t errlen) {
    char *path = arena_printf(a, "%s/trace.json", s->dir);
    size_t len;
    char *text = read_whole_file(path, &len);
    if (!text) return 0;
    rn_json_doc *doc = rn_json_parse(text, len, err, errlen);
    free(text);
    if (!doc) return -1;
    const rn_json *root = rn_json_root(doc);
    const rn_json *layers = root->kind == RN_JSON_OBJECT ? rn_json_get(root, "layers") : NULL;
    int rc = 1;
    if (!layers || layers->kind != RN_JSON_ARRAY) {
        snprintf(err, errlen, "%s: no \"layers\" list", path);
        rc = -1;
    } else {
        s->layers = arena_alloc(a, sizeof *s->layers * (size_t)(layers->n + 1));
        for (int i = 0; i < layers->n && rc > 0; i++) {
            const rn_json *l = layers->items[i];
            const rn_json *name = l->kind == RN_JSON_OBJECT ? rn_json_get(l, "name") : NULL;
            const rn_json *file = l->kind == RN_JSON_OBJECT ? rn_json_get(l, "file") : NULL;
            if (!name || name->kind != RN_JSON_STRING || !file ||
                (file->kind != RN_JSON_STRING && file->kind != RN_JSON_NULL)) {
                snprintf(err, errlen, "%s: layer %d has no \"name\" and \"file\"", path, i);
                rc = -1;
            } else if (file->kind == RN_JSON_STRING) {
                if (strchr(file->string, '/')) {
                    snprintf(err, errlen, "%s: layer %d: a file outside the folder", path, i);
                    rc = -1;
                }
                s->layers[s->n++] = (Layer){arena_strdup(a, name->string),
                                            arena_strdup(a, file->string), false};
            }
        }
    }
    rn_json_free(doc);
    return rc;
}

/* Without an index: the folder's *.npy, sorted. 0, or -1 (err). */
static int list_npy(Side *s, Arena *a, char *err, size_t errlen) {
    DIR *d = opendir(s->dir);
    if (!d) {
        snprintf(err, errlen, "cannot read %s: %s", s->dir, strerror(errno));
        return -1;
    }
    int cap = 64;
    s->layers = arena_alloc(a, sizeof *s->layers * (size_t)cap);
    for (struct dirent *e; (e = readdir(d));) {
        size_t k = strlen(e->d_name);
        if (k <= 4 || strcmp(e->d_name + k - 4, ".npy") != 0 || e->d_name[0] == '.') continue;
        if (s->n == cap) {
            Layer *more = arena_alloc(a, sizeof *more * (size_t)cap * 2);
            memcpy(more, s->layers, sizeof *more * (size_t)cap);
            s->layers = more;
            cap *= 2;
        }
        s->layers[s->n++] = (Layer){arena_strndup(a, e->d_name, k - 4),
                                    arena_strdup(a, e->d_name), false};
    }
    closedir(d);
    qsort(s->layers, (size_t)s->n, sizeof *s->layers, by_file);
    return 0;
}

static int load_side(Side *s, Arena *a, char *err, size_t errlen) {
    DIR *d = opendir(s->dir);
    if (!d) {
        snprintf(err, errlen, "cannot read %s: %s", s->dir, strerror(errno));
        return -1;
    }
    closedir(d);
    int rc = read_index(s, a, err, errlen);
    if (rc < 0) return -1;
    return rc > 0 ? 0 : list_npy(s, a, err, errlen);
}

/* The dims without leading 1s. */
static int squeeze(const rn_array *x, const rn_i64 **dims) {
    int lead = 0;
    while (lead < x->rank && x->dims[lead] == 1) lead++;
    *dims = x->dims + lead;
    return x->rank - lead;
}

static const char *dims_text(Arena *a, const rn_array *x) {
    Buf b = {0};
    buf_printf(&b, "[");
    for (int i = 0; i < x->rank; i++) buf_printf(&b, "%s%lld", i ? ", " : "", x->dims[i]);
    buf_printf(&b, "]");
    const char *s = arena_strdup(a, b.data);
    buf_free(&b);
    return s;
}

/* One compared pair. */
typedef struct Stats {
    double max_diff, max_ref, rel, cosine;
    int64_t bad; /* elements out of tolerance (or all, when shapes differ) */
    const char *note;
} Stats;

static bool same_shape(const rn_array *got, const rn_array *ref) {
    const rn_i64 *g, *r;
    int ng = squeeze(got, &g), nr = squeeze(ref, &r);
    if (ng != nr) return false;
    for (int i = 0; i < ng; i++)
        if (g[i] != r[i]) return false;
    return true;
}

static Stats compare_arrays(Arena *a, const rn_array *got, const rn_array *ref,
                            double tol) {
    Stats s = {0};
    if (!same_shape(got, ref)) {
        s.bad = got->count > ref->count ? got->count : ref->count;
        s.rel = s.max_diff = INFINITY;
        bool nchw = got->rank == 4 && ref->rank == 4 && got->dims[1] == ref->dims[2] &&
                    got->dims[2] == ref->dims[3] && got->dims[3] == ref->dims[1];
        s.note = arena_printf(a, "shape %s, reference %s%s", dims_text(a, got),
                              dims_text(a, ref), nchw ? " (NCHW? traces are NHWC)" : "");
        return s;
    }
    double dot = 0, gg = 0, rr = 0;
    for (int64_t i = 0; i < ref->count; i++) {
        double r = ref->data[i];
        if (fabs(r) > s.max_ref) s.max_ref = fabs(r);
    }
    double bound = tol * s.max_ref + tol / 10;
    for (int64_t i = 0; i < ref->count; i++) {
        double g = got->data[i], r = ref->data[i], d = fabs(g - r);
        if (!(d <= bound)) s.bad++; /* NaN too */
        if (!(d <= s.max_diff)) s.max_diff = d;
        dot += g * r;
        gg += g * g;
        rr += r * r;
    }
    s.rel = s.max_ref > 0 ? s.max_diff / s.max_ref : s.max_diff > 0 ? INFINITY : 0;
    s.cosine = gg == 0 && rr == 0 ? 1 : gg == 0 || rr == 0 ? 0 : dot / sqrt(gg * rr);
    return s;
}

static const char *only_list(Arena *a, const Side *s) {
    Buf b = {0};
    for (int i = 0; i < s->n; i++)
        if (!s->layers[i].matched)
            buf_printf(&b, "%s%s", b.len ? ", " : "", s->layers[i].name);
    const char *t = b.data ? arena_strdup(a, b.data) : NULL;
    buf_free(&b);
    return t;
}

int compare_traces(FILE *out, const char *ref_dir, const char *dir, double tol) {
    Arena *a = arena_new();
    Side ref = {ref_dir, NULL, 0}, got = {dir, NULL, 0};
    char err[1024];
    if (load_side(&got, a, err, sizeof err) != 0 || load_side(&ref, a, err, sizeof err) != 0) {
        fprintf(stderr, "rnc: error: %s\n", err);
        arena_free(a);
        return 1;
    }
    /* the widest name sets the first column */
    int width = 24;
    for (int i = 0; i < got.n; i++)
        if ((int)strlen(got.layers[i].name) > width) width = (int)strlen(got.layers[i].name);
    if (width > 48) width = 48;
    int line = width + 84;
    Buf b = {0};
    buf_printf(&b, "Comparing %s with the reference %s, layer by layer\n"
               "(within tolerance: |got - ref| <= %g * max|ref| + %g everywhere)\n",
               dir, ref_dir, tol, tol / 10);
    for (int i = 0; i < line; i++) buf_append(&b, "_", 1);
    buf_printf(&b, "\n   %-*s %-20s %10s %10s %11s %9s\n", width, "Layer", "Shape",
               "Max |diff|", "Max rel", "Cosine", "Bad");
    for (int i = 0; i < line; i++) buf_append(&b, "=", 1);
    buf_append(&b, "\n", 1);
    int compared = 0, failed = 0;
    const char *first = NULL;
    for (int i = 0; i < got.n; i++) {
        Layer *gl = &got.layers[i];
        Layer *rl = NULL;
        for (int j = 0; j < ref.n && !rl; j++)
            if (!ref.layers[j].matched && !strcmp(ref.layers[j].file, gl->file)) rl = &ref.layers[j];
        if (!rl) continue;
        gl->matched = rl->matched = true;
        rn_array ga, ra;
        char e1[512] = "", e2[512] = "";
        int rg = rn_npy_read(arena_printf(a, "%s/%s", dir, gl->file), &ga, e1, sizeof e1);
        int rr = rn_npy_read(arena_printf(a, "%s/%s", ref_dir, rl->file), &ra, e2, sizeof e2);
        Stats s = {0};
        if (rg != 0 || rr != 0) {
            s.bad = 1;
            s.note = arena_strdup(a, rg != 0 ? e1 : e2);
        } else {
            s = compare_arrays(a, &ga, &ra, tol);
        }
        compared++;
        bool bad = s.bad > 0;
        const char *mark = "   ";
        if (bad && !first) {
            first = gl->name;
            mark = ">> ";
        } else if (bad) {
            mark = " x ";
        }
        failed += bad;
        if (s.note) {
            buf_printf(&b, "%s%-*s %s\n", mark, width, gl->name, s.note);
        } else {
            buf_printf(&b, "%s%-*s %-20s %10.3e %10.3e %11.8f %9lld%s\n", mark, width,
                       gl->name, dims_text(a, &ga), s.max_diff, s.rel, s.cosine,
                       (long long)s.bad, bad && first == gl->name
                                              ? "  <- first out of tolerance" : "");
        }
        if (rg == 0) rn_array_free(&ga);
        if (rr == 0) rn_array_free(&ra);
    }
    for (int i = 0; i < line; i++) buf_append(&b, "=", 1);
    buf_append(&b, "\n", 1);
    const char *only_got = only_list(a, &got), *only_ref = only_list(a, &ref);
    if (only_got) buf_printf(&b, "Only in %s: %s\n", dir, only_got);
    if (only_ref) buf_printf(&b, "Only in %s: %s\n", ref_dir, only_ref);
    if (compared == 0)
        buf_printf(&b, "No layer in common: nothing compared\n");
    else if (failed)
        buf_printf(&b, "%d of %d layers out of tolerance; the first is %s\n", failed,
                   compared, first);
    else
        buf_printf(&b, "All %d layers within tolerance\n", compared);
    fwrite(b.data, 1, b.len, out);
    buf_free(&b);
    arena_free(a);
    return compared > 0 && failed == 0 ? 0 : 1;
}
