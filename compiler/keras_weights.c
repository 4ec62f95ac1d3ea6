/* keras_weights.c: the weights of a TF.js layers model: the manifest of
 * model.json, its binary shards, and which layer each weight belongs to.
 *
 * Requires: the parsed manifest and the layers of every model (Imp.all).
 * Produces: KTensors of float32 values, each matched to a layer and a
 * parameter (by name, "kernel", or by position, Keras 3's "dense/0").
 *
 * The format, as tfjs-core's io (weights_loader.ts, io_utils.ts) reads it:
 *  - the manifest is a list of groups {paths, weights}; a group's shards
 *    concatenated in order hold its weights back to back, each weight
 *    taking count * (bytes of its stored dtype);
 *  - dtypes: float32, int32 (a float here), float16 (Python's converter
 *    writes it unquantized: converted exactly);
 *  - `quantization` {dtype: uint8 | uint16, min, scale}: the value is
 *    v * scale + min in double precision, then rounded to float32 (to an
 *    integer, Math.round, for an int32 weight); {dtype: float16}: IEEE
 *    half to float. Python's converter adds original_dtype, ignored here.
 * Stricter than tfjs where tfjs would read garbage: a group's shards must
 * hold exactly its weights' bytes; shard paths must stay inside the model's
 * directory and be regular files.
 *
 * Names, as tfjs's Container.loadWeights matches them: "layer/param",
 * with older converters' ":0" suffix, possibly under the scope of the
 * models around the layer ("mobilenetv2/Conv1/kernel"; a suffix of the
 * chain of model names is enough when it leaves one layer). */
#define _POSIX_C_SOURCE 200809L
#include "import_keras.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The stored element types. */
typedef enum {
    DEC_F32,  /* float32 */
    DEC_I32,  /* int32, converted to float */
    DEC_F16,  /* float16, or float32 quantized to float16 */
    DEC_U8,   /* quantized uint8 with min and scale */
    DEC_U16,  /* quantized uint16 with min and scale */
} Dec;

static const int dec_bytes[] = {4, 4, 2, 1, 2};

typedef struct Entry {
    KTensor *t;
    Dec dec;
    bool to_int;        /* a quantized int32 weight: rounded */
    double scale, min;
    int64_t bytes;
} Entry;

float kw_half(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 0x1f,
             m = h & 0x3ff, bits;
    if (e == 0 && m == 0) {
        bits = sign;
    } else if (e == 0) { /* subnormal: m * 2^-24, normalized */
        e = 127 - 15 + 1;
        while (!(m & 0x400)) {
            m <<= 1;
            e--;
        }
        bits = sign | e << 23 | (m & 0x3ff) << 13;
    } else if (e == 31) { /* inf and NaN, payload kept */
        bits = sign | 0x7f800000u | m << 13;
    } else {
        bits = sign | (e + 127 - 15) << 23 | m << 13;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* JavaScript's Math.round (halves toward +infinity), then Int32Array's
 * store (modulo 2^32), as tfjs dequantizes an int32 weight. */
static float js_round_int32(double x) {
    if (!isfinite(x)) return 0;
    double r = floor(x);
    if (x - r >= 0.5) r += 1;
    double m = fmod(r, 4294967296.0);
    if (m < 0) m += 4294967296.0;
    if (m >= 2147483648.0) m -= 4294967296.0;
    return (float)(int32_t)m;
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void decode(const Entry *e, const unsigned char *p) {
    float *out = e->t->data;
    for (int64_t i = 0; i < e->t->count; i++) {
        switch (e->dec) {
        case DEC_F32: {
            uint32_t b = le32(p + 4 * i);
            memcpy(&out[i], &b, 4);
            break;
        }
        case DEC_I32:
            out[i] = (float)(int32_t)le32(p + 4 * i);
            break;
        case DEC_F16:
            out[i] = kw_half((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
            break;
        case DEC_U8:
        case DEC_U16: {
            unsigned v = e->dec == DEC_U8
                             ? p[i]
                             : (unsigned)(p[2 * i] | p[2 * i + 1] << 8);
            /* two statements: no fused multiply-add, as JavaScript */
            double x = (double)v * e->scale;
            x = x + e->min;
            out[i] = e->to_int ? js_round_int32(x) : (float)x;
            break;
        }
        }
    }
}

/* ---- the manifest */

static const char *printable(Imp *im, const char *s) {
    char buf[160];
    return arena_strdup(im->a, rn_json_printable(buf, sizeof buf, s));
}

/* Reads one weight entry's name, shape and types. */
static bool read_entry(Imp *im, const rn_json *j, int group, Entry *e) {
    KTensor *t = e->t;
    const rn_json *name = rn_json_get(j, "name");
    const rn_json *shape = rn_json_get(j, "shape");
    const rn_json *dtype = rn_json_get(j, "dtype");
    const rn_json *q = rn_json_get(j, "quantization");
    if (j->kind != RN_JSON_OBJECT || !name || name->kind != RN_JSON_STRING ||
        !name->string[0]) {
        kerr(im, NULL, "weightsManifest group %d: a weight without a name",
             group);
        return false;
    }
    t->name = name->string;
    t->index = -1;
    const char *pn = printable(im, t->name);
    if (!shape || shape->kind != RN_JSON_ARRAY || shape->n > KMAX_RANK) {
        kerr(im, NULL, "weight '%s': 'shape' must be a list of at most %d "
             "sizes", pn, KMAX_RANK);
        return false;
    }
    t->rank = shape->n;
    t->count = 1;
    for (int i = 0; i < shape->n; i++) {
        const rn_json *d = shape->items[i];
        if (d->kind != RN_JSON_INT || d->integer < 0) {
            kerr(im, NULL, "weight '%s': shape has a bad size", pn);
            return false;
        }
        /* capped so that the product cannot overflow; told below */
        t->dims[i] = d->integer > KMAX_TENSOR ? KMAX_TENSOR + 1 : d->integer;
        t->count *= t->dims[i];
        if (t->count > KMAX_TENSOR) {
            kerr(im, NULL, "weight '%s' is too large (over %lld values)", pn,
                 (long long)KMAX_TENSOR);
            return false;
        }
    }
    const char *dt =
        dtype && dtype->kind == RN_JSON_STRING ? dtype->string : "";
    bool is_int = !strcmp(dt, "int32");
    if (!strcmp(dt, "float32")) e->dec = DEC_F32;
    else if (is_int) e->dec = DEC_I32;
    else if (!strcmp(dt, "float16")) e->dec = DEC_F16;
    else {
        kerr(im, NULL, "weight '%s': dtype '%s' is not supported (float32, "
             "float16, int32)", pn, printable(im, dt));
        return false;
    }
    if (q) {
        const rn_json *qd = rn_json_get(q, "dtype");
        const rn_json *mn = rn_json_get(q, "min");
        const rn_json *sc = rn_json_get(q, "scale");
        const char *qt = qd && qd->kind == RN_JSON_STRING ? qd->string : "";
        if (q->kind != RN_JSON_OBJECT) qt = "";
        if (!strcmp(qt, "float16") && e->dec == DEC_F32) {
            e->dec = DEC_F16;
        } else if ((!strcmp(qt, "uint8") || !strcmp(qt, "uint16")) &&
                   e->dec != DEC_F16) {
            bool num = mn && sc &&
                       (mn->kind == RN_JSON_INT ||
                        mn->kind == RN_JSON_NUMBER) &&
                       (sc->kind == RN_JSON_INT ||
                        sc->kind == RN_JSON_NUMBER);
            if (!num || !isfinite(mn->number) || !isfinite(sc->number)) {
                kerr(im, NULL, "weight '%s': %s quantization needs numbers "
                     "'min' and 'scale'", pn, qt);
                return false;
            }
            e->to_int = is_int;
            e->dec = qt[4] == '8' ? DEC_U8 : DEC_U16;
            e->min = mn->number;
            e->scale = sc->number;
        } else {
            kerr(im, NULL, "weight '%s': quantization '%s' of a %s weight is "
                 "not supported (uint8, uint16, float16 of float32)", pn,
                 printable(im, qt), dt);
            return false;
        }
    }
    e->bytes = t->count * dec_bytes[e->dec];
    return true;
}

/* A shard path: relative, inside the model's directory. */
static bool safe_path(const char *p) {
    if (!p[0] || p[0] == '/' || strlen(p) > 4096) return false;
    for (const char *c = p; *c;) {
        const char *end = strchr(c, '/');
        size_t n = end ? (size_t)(end - c) : strlen(c);
        if (n == 2 && c[0] == '.' && c[1] == '.') return false;
        c += n + (end != NULL);
    }
    return true;
}

/* Reads the group's shards, in order, into buf (exactly `need` bytes). */
static bool read_group(Imp *im, const rn_json *paths, int g, int64_t need,
                       unsigned char **buf) {
    *buf = NULL;
    int64_t have = 0, cap = 4 * KMAX_FLOATS;
    bool ok = true;
    const char **full = arena_alloc(im->a, (size_t)paths->n * sizeof *full);
    int64_t *size = arena_alloc(im->a, (size_t)paths->n * sizeof *size);
    for (int i = 0; i < paths->n; i++) {
        const rn_json *p = paths->items[i];
        if (p->kind != RN_JSON_STRING || !safe_path(p->string)) {
            kerr(im, NULL, "weightsManifest group %d: shard path %s must be "
                 "a file name relative to the model's directory (no '..')",
                 g, p->kind == RN_JSON_STRING ? printable(im, p->string)
                                              : "(not a string)");
            return false;
        }
        full[i] = arena_printf(im->a, "%s/%s", im->dir, p->string);
        struct stat st;
        if (stat(full[i], &st) != 0) {
            kerr(im, NULL, "weight shard %s: %s", printable(im, p->string),
                 strerror(errno));
            ok = false;
        } else if (!S_ISREG(st.st_mode)) {
            kerr(im, NULL, "weight shard %s: not a regular file",
                 printable(im, p->string));
            ok = false;
        } else {
            size[i] = st.st_size;
            /* capped, so the sum cannot overflow */
            have = st.st_size > cap - have ? cap + 1 : have + st.st_size;
        }
    }
    if (!ok) return false;
    if (have != need) {
        kerr(im, NULL, "weightsManifest group %d: its shards hold %lld "
             "bytes, its weights take %lld (a truncated or wrong shard?)", g,
             (long long)have, (long long)need);
        return false;
    }
    unsigned char *b = malloc(need ? (size_t)need : 1);
    if (!b) {
        kerr(im, NULL, "weightsManifest group %d: out of memory", g);
        return false;
    }
    int64_t at = 0;
    for (int i = 0; i < paths->n && ok; i++) {
        FILE *f = fopen(full[i], "rb");
        size_t got = f ? fread(b + at, 1, (size_t)size[i], f) : 0;
        if (!f || (int64_t)got != size[i]) {
            kerr(im, NULL, "weight shard %s: %s", printable(im, full[i]),
                 f ? "cannot read it whole" : strerror(errno));
            ok = false;
        }
        if (f) fclose(f);
        at += size[i];
    }
    if (!ok) {
        free(b);
        return false;
    }
    *buf = b;
    return true;
}

bool kw_read(Imp *im, const rn_json *man, KWeights *w) {
    memset(w, 0, sizeof *w);
    if (!man) return true;
    if (man->kind != RN_JSON_ARRAY || man->n > KMAX_GROUPS) {
        kerr(im, NULL, "'weightsManifest' must be a list of at most %d "
             "groups", KMAX_GROUPS);
        return false;
    }
    /* First the names, shapes and sizes of everything, then the bytes. */
    int total = 0, shards = 0;
    for (int g = 0; g < man->n; g++) {
        const rn_json *grp = man->items[g];
        const rn_json *ws = rn_json_get(grp, "weights"),
                      *ps = rn_json_get(grp, "paths");
        if (grp->kind != RN_JSON_OBJECT || !ws || ws->kind != RN_JSON_ARRAY ||
            !ps || ps->kind != RN_JSON_ARRAY) {
            kerr(im, NULL, "weightsManifest group %d: needs 'paths' and "
                 "'weights' lists", g + 1);
            return false;
        }
        total += ws->n;
        shards += ps->n;
        if (total > KMAX_TENSORS || shards > KMAX_SHARDS) {
            kerr(im, NULL, "weightsManifest: too many weights or shards "
                 "(the limits are %d and %d)", KMAX_TENSORS, KMAX_SHARDS);
            return false;
        }
    }
    w->t = calloc(total ? (size_t)total : 1, sizeof *w->t);
    Entry *e = calloc(total ? (size_t)total : 1, sizeof *e);
    if (!w->t || !e) die("out of memory");
    bool ok = true;
    int64_t floats = 0;
    for (int g = 0, k = 0; g < man->n; g++) {
        const rn_json *ws = rn_json_get(man->items[g], "weights");
        for (int i = 0; i < ws->n; i++, k++) {
            e[k].t = &w->t[k];
            if (!read_entry(im, ws->items[i], g + 1, &e[k])) ok = false;
            else floats += w->t[k].count;
        }
    }
    if (ok && floats > KMAX_FLOATS) {
        kerr(im, NULL, "weightsManifest: the weights hold over %lld values "
             "(4 GiB as float32), more than rnc imports",
             (long long)KMAX_FLOATS);
        ok = false;
    }
    w->n = total;
    for (int g = 0, k = 0; ok && g < man->n; g++) {
        const rn_json *grp = man->items[g];
        const rn_json *ws = rn_json_get(grp, "weights");
        int64_t need = 0;
        for (int i = 0; i < ws->n; i++) need += e[k + i].bytes;
        unsigned char *buf;
        if (!read_group(im, rn_json_get(grp, "paths"), g + 1, need, &buf)) {
            ok = false;
            break;
        }
        int64_t at = 0;
        for (int i = 0; i < ws->n; i++, k++) {
            KTensor *t = &w->t[k];
            t->data = malloc(t->count ? (size_t)t->count * sizeof(float) : 1);
            if (!t->data) {
                kerr(im, NULL, "weight '%s': out of memory",
                     printable(im, t->name));
                ok = false;
                break;
            }
            decode(&e[k], buf + at);
            at += e[k].bytes;
        }
        free(buf);
    }
    free(e);
    return ok;
}

void kw_free(KWeights *w) {
    for (int i = 0; i < w->n; i++) free(w->t[i].data);
    free(w->t);
    w->t = NULL;
    w->n = 0;
}

/* ---- names */

/* Layers by Keras name, over every model (names repeat across models). */
typedef struct NameMap {
    KLayer ***lists; /* per bucket: NULL-terminated list of layers */
    int *counts;
    size_t cap;
} NameMap;


static void map_build(Imp *im, NameMap *m) {
    m->cap = 16;
    while (m->cap < 2 * (size_t)im->nall) m->cap *= 2;
    m->counts = arena_alloc(im->a, m->cap * sizeof *m->counts);
    m->lists = arena_alloc(im->a, m->cap * sizeof *m->lists);
    for (int i = 0; i < im->nall; i++) {
        const char *s = im->all[i]->name;
        m->counts[kj_hash(s) & (m->cap - 1)]++;
    }
    for (size_t b = 0; b < m->cap; b++) {
        m->lists[b] = arena_alloc(im->a, (size_t)(m->counts[b] + 1) *
                                             sizeof **m->lists);
        m->counts[b] = 0;
    }
    for (int i = 0; i < im->nall; i++) {
        const char *s = im->all[i]->name;
        size_t b = kj_hash(s) & (m->cap - 1);
        m->lists[b][m->counts[b]++] = im->all[i];
    }
}

/* Does `scope` (tokens) end the chain of model names around layer l? */
static bool scope_fits(const KLayer *l, char **scope, int n, bool *whole) {
    const KModel *m = l->owner;
    int i = n - 1;
    for (; i >= 0 && m; i--, m = m->parent)
        if (strcmp(scope[i], m->name)) return false;
    /* the scope named every nested model (the top's name may be left out) */
    *whole = i < 0 && (!m || !m->parent);
    return i < 0;
}

static bool all_digits(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return false;
    return true;
}

void kw_match(Imp *im, KWeights *w) {
    NameMap map;
    map_build(im, &map);
    for (int k = 0; k < w->n; k++) {
        KTensor *t = &w->t[k];
        const char *pn = printable(im, t->name);
        char *s = arena_strdup(im->a, t->name);
        /* Python TensorFlow's output slot */
        char *colon = strrchr(s, ':');
        if (colon && all_digits(colon + 1)) *colon = 0;
        enum { MAXTOK = 64 };
        char *tok[MAXTOK];
        int n = 0;
        for (char *p = s; n < MAXTOK;) {
            tok[n++] = p;
            char *slash = strchr(p, '/');
            if (!slash) break;
            *slash = 0;
            p = slash + 1;
        }
        if (n >= 2 && all_digits(tok[n - 1])) {
            /* Keras 3's "_layer_checkpoint_dependencies/dense/vars/0", as
             * tfjs's parseWeights reads it: "dense/0" */
            int m = 0;
            for (int i = 0; i < n; i++) {
                char *x = tok[i][0] == '_' ? tok[i] + 1 : tok[i];
                if (strcmp(x, "vars") && strcmp(x, "layers") &&
                    strcmp(x, "layer_checkpoint_dependencies"))
                    tok[m++] = x;
            }
            n = m;
        }
        if (n < 2 || n == MAXTOK) {
            kerr(im, NULL, "weight '%s': not a Keras weight name "
                 "(LAYER/PARAM)", pn);
            continue;
        }
        /* The layer's own name may hold '/' (Keras's MobileNetV3 has
         * "Conv/BatchNorm"): the longest name that is a layer's, with the
         * tokens before it the scope, wins. */
        const char *param = tok[n - 1], *lname = NULL;
        KLayer *best = NULL;
        int nfit = 0;
        for (int from = 0; from <= n - 2 && !nfit; from++) {
            Buf nb = {0};
            for (int i = from; i <= n - 2; i++)
                buf_printf(&nb, "%s%s", i > from ? "/" : "", tok[i]);
            lname = printable(im, nb.data);
            size_t b = kj_hash(nb.data) & (map.cap - 1);
            int nwhole = 0;
            KLayer *whole_one = NULL;
            for (KLayer **c = map.lists[b]; *c; c++) {
                bool whole;
                if (strcmp((*c)->name, nb.data) ||
                    !scope_fits(*c, tok, from, &whole))
                    continue;
                nfit++;
                best = *c;
                if (whole) {
                    nwhole++;
                    whole_one = *c;
                }
            }
            if (nfit > 1 && nwhole == 1) {
                best = whole_one;
                nfit = 1;
            }
            buf_free(&nb);
        }
        if (nfit > 1) {
            kerr(im, NULL, "weight '%s': several layers are named '%s' (in "
                 "nested models); the name must give the model's scope", pn,
                 lname);
            continue;
        }
        if (!best) {
            kerr(im, NULL, "weight '%s': the model has no layer '%s'%s", pn,
                 printable(im, tok[n - 2]), n > 2 ? " in that scope" : "");
            continue;
        }
        t->layer = best;
        if (all_digits(param) && strlen(param) < 6)
            t->index = atoi(param);
        else
            t->param = arena_strdup(im->a, param);
        t->next = best->tensors;
        best->tensors = k + 1;
    }
}
