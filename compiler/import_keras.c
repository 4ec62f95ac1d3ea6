/* import_keras.c: `rnc --import model.json`, a Keras model in the TF.js
 * layers format, written as a readable .rn program and its weights.
 *
 * Requires: model.json (modelTopology: Keras's model.to_json() config,
 * directly or under model_config as Python's converter writes it; or a
 * bare config) and the shards of its weightsManifest (keras_weights.c).
 * Produces: OUT.rn and OUT.safetensors, written together atomically, or
 * every problem listed as "model.json: layer NAME (Class): reason" and
 * nothing written.
 *
 * The steps: read the configs of the model and of the models nested in it
 * (Keras 2.2 to 2.15: batch_input_shape, inbound_nodes as nested lists;
 * Keras 3: batch_shape, inbound_nodes as {args, kwargs} with
 * __keras_tensor__ references; Sequential, Functional/Model); order each
 * model's layers; write one .rn line per layer (a nested model becomes a
 * `layer` definition called once, so it shows as one summary row and its
 * weights are prefixed by its name); read that text back through the
 * front end (parse, elaborate: the shapes, parameter counts and weights of
 * rnc itself); match every manifest weight to a node's weight by name and
 * shape; write both files.
 *
 * Choices:
 *  - names: every op keeps its Keras name (name="..."); variables are the
 *    names made identifiers (other characters become '_', clashes with
 *    the language's words get '_', repeats get _2, _3, ...); the model's
 *    name is the output file's stem, Keras's name is in the header comment;
 *  - a layer called more than once (shared weights) and multi-output
 *    nested models are refused; the `training` argument of a call is
 *    ignored (inference);
 *  - Keras 3's hard_sigmoid is relu6(x + 3) / 6, Keras 2's and tfjs's
 *    0.2 x + 0.5: the format (keras_version, batch_shape, dict nodes)
 *    tells which;
 *  - GaussianNoise, GaussianDropout, AlphaDropout and SpatialDropout2D are
 *    the identity at inference: they become dropout rows (type Dropout).
 */
#define _POSIX_C_SOURCE 200809L
#include "elab.h" /* is_word: the enum words */
#include "import_keras.h"
#include "rnrt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REQUIRED INT64_MIN /* want_int: the field must be there */
enum { MAX_INT = 1 << 30 }; /* sizes written into the .rn; rnc checks more */

/* ------------------------------------------------------------- errors */

void kerr(Imp *im, const KLayer *l, const char *fmt, ...) {
    im->nerrs++;
    if (im->nerrs > KMAX_ERRORS) return;
    char msg[768], nb[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (l)
        fprintf(im->errs, "%s: layer %s (%s): %s\n", im->path,
                rn_json_printable(nb, sizeof nb, l->scoped), l->klass, msg);
    else
        fprintf(im->errs, "%s: %s\n", im->path, msg);
}

/* ---------------------------------------------------------- JSON helpers */

static const rn_json *get(const rn_json *obj, const char *key) {
    const rn_json *v = obj && obj->kind == RN_JSON_OBJECT ? rn_json_get(obj, key)
                                                          : NULL;
    return v && v->kind != RN_JSON_NULL ? v : NULL;
}

static const char *str_of(const rn_json *v) {
    return v && v->kind == RN_JSON_STRING ? v->string : NULL;
}

/* A list, also as Keras 2's SavedModel metadata wraps tuples and shapes:
 * {"class_name": "__tuple__" | "TensorShape", "items": [...]}, or Keras
 * 3's {"class_name": "__tuple__", "config": {"value": [...]}}. */
static const rn_json *as_list(const rn_json *v) {
    if (v && v->kind == RN_JSON_OBJECT) {
        const rn_json *items = get(v, "items");
        if (!items) items = get(get(v, "config"), "value");
        v = items;
    }
    return v && v->kind == RN_JSON_ARRAY ? v : NULL;
}

static bool as_int(const rn_json *v, int64_t *out) {
    if (v && v->kind == RN_JSON_INT) {
        *out = v->integer;
        return true;
    }
    if (v && v->kind == RN_JSON_NUMBER && fabs(v->number) < 9e15 &&
        v->number == floor(v->number)) {
        *out = (int64_t)v->number;
        return true;
    }
    return false;
}

static bool as_num(const rn_json *v, double *out) {
    if (!v || (v->kind != RN_JSON_INT && v->kind != RN_JSON_NUMBER) ||
        !isfinite(v->number))
        return false;
    *out = v->number;
    return true;
}

/* The shortest decimal that reads back as v (the .rn's numbers). */
static void fmt_num(char *out, size_t n, double v) {
    if (v == 0) {
        snprintf(out, n, "0");
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(out, n, "%.*g", p, v);
        if (strtod(out, NULL) == v) return;
    }
}

/* A scale such as 1/255 or 1/127.5 as that fraction, else the number. */
static void fmt_scale(char *out, size_t n, double v) {
    if (v > 0 && v < 1) {
        double r = 2 / v, k = floor(r + 0.5);
        if (k <= 2e6 && 1 / (k / 2) == v) {
            if (fmod(k, 2) == 0) snprintf(out, n, "1/%.0f", k / 2);
            else snprintf(out, n, "1/%.1f", k / 2);
            return;
        }
    }
    fmt_num(out, n, v);
}

/* ------------------------------------------------------------ the text */

/* .rn text, with the layer each line came from (for read-back errors). */
typedef struct Text {
    Buf b;
    KLayer **who;
    int nlines, cap;
} Text;

static void text_grow(Imp *im, Text *t, int n) {
    if (t->nlines + n <= t->cap) return;
    int cap = t->cap ? t->cap : 64;
    while (cap < t->nlines + n) cap *= 2;
    KLayer **who = arena_alloc(im->a, (size_t)cap * sizeof *who);
    if (t->nlines) memcpy(who, t->who, (size_t)t->nlines * sizeof *who);
    t->who = who;
    t->cap = cap;
}

static void text_line(Imp *im, Text *t, KLayer *l, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void text_line(Imp *im, Text *t, KLayer *l, const char *fmt, ...) {
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) die("text_line: bad format");
    if ((size_t)n < sizeof small) {
        buf_append(&t->b, small, (size_t)n);
    } else {
        char *big = malloc((size_t)n + 1);
        if (!big) die("out of memory");
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        buf_append(&t->b, big, (size_t)n);
        free(big);
    }
    buf_append(&t->b, "\n", 1);
    text_grow(im, t, 1);
    t->who[t->nlines++] = l;
}

static void text_cat(Imp *im, Text *dst, Text *src) {
    if (src->b.len) buf_append(&dst->b, src->b.data, src->b.len);
    text_grow(im, dst, src->nlines);
    if (src->nlines)
        memcpy(dst->who + dst->nlines, src->who,
               (size_t)src->nlines * sizeof *src->who);
    dst->nlines += src->nlines;
    buf_free(&src->b);
}

/* --------------------------------------------------------- identifiers */

/* The identifiers taken in one .rn scope (a set, open addressing). */
typedef struct Idents {
    const char **slot;
    size_t cap, n;
} Idents;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static bool idents_has(const Idents *s, const char *name) {
    if (!s->cap) return false;
    for (size_t i = hash_str(name) & (s->cap - 1); s->slot[i];
         i = (i + 1) & (s->cap - 1))
        if (!strcmp(s->slot[i], name)) return true;
    return false;
}

static void idents_add(Imp *im, Idents *s, const char *name) {
    if (2 * (s->n + 1) > s->cap) {
        const char **old = s->slot;
        size_t oldcap = s->cap;
        s->cap = oldcap ? 2 * oldcap : 64;
        s->slot = arena_alloc(im->a, s->cap * sizeof *s->slot);
        s->n = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i]) idents_add(im, s, old[i]);
    }
    size_t i = hash_str(name) & (s->cap - 1);
    while (s->slot[i]) i = (i + 1) & (s->cap - 1);
    s->slot[i] = name;
    s->n++;
}

/* The language's keywords; with its enum words (is_word), names a
 * variable must not take (a variable would hide `activation=relu`). */
static const char *const keywords[] = {
    "model", "input", "output", "block", "layer", "return", "for", "in",
    "if", "else", "true", "false", "and", "or", "not", NULL};

static bool reserved(const char *id) {
    for (int i = 0; keywords[i]; i++)
        if (!strcmp(keywords[i], id)) return true;
    return is_word(id);
}

/* A fresh identifier in scope `s` made from a Keras name. */
static const char *ident(Imp *im, Idents *s, const char *name) {
    size_t n = strlen(name);
    char *id = arena_alloc(im->a, n + 2);
    char *o = id;
    if (name[0] >= '0' && name[0] <= '9') *o++ = '_';
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_';
        *o++ = ok ? c : '_';
    }
    *o = 0;
    if (!id[0]) id = "x";
    if (reserved(id)) id = arena_printf(im->a, "%s_", id);
    const char *out = id;
    for (int k = 2; idents_has(s, out); k++)
        out = arena_printf(im->a, "%s_%d", id, k);
    idents_add(im, s, out);
    return out;
}

/* ---------------------------------------------------------- the configs */

/* Keras's own aliases of a class, and TF 1.13's names. */
static const char *canonical_class(const char *k) {
    static const char *const alias[][2] = {
        {"BatchNormalizationV1", "BatchNormalization"},
        {"BatchNormalizationV2", "BatchNormalization"},
        {"Convolution2D", "Conv2D"},
        {"Conv2DTranspose", "Conv2DTranspose"},
        {"Convolution2DTranspose", "Conv2DTranspose"},
        {"Deconvolution2D", "Conv2DTranspose"},
        {"SeparableConvolution2D", "SeparableConv2D"},
        {"MaxPool2D", "MaxPooling2D"},
        {"AvgPool2D", "AveragePooling2D"},
        {"GlobalAvgPool2D", "GlobalAveragePooling2D"},
        {"GlobalMaxPool2D", "GlobalMaxPooling2D"},
        {"Model", "Functional"},
    };
    for (size_t i = 0; i < sizeof alias / sizeof *alias; i++)
        if (!strcmp(k, alias[i][0])) return alias[i][1];
    return k;
}

static bool is_model_class(const char *k) {
    return !strcmp(k, "Functional") || !strcmp(k, "Sequential");
}

/* A layer name the .rn can keep: printable ASCII without '"' and '\'. */
static bool good_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > KMAX_NAME) return false;
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\') return false;
    return true;
}

static KModel *parse_model(Imp *im, const rn_json *entry, KModel *parent,
                           KLayer *self);

static void add_ref(Imp *im, KLayer *l, const char *name, int64_t tensor,
                    int *cap) {
    if (tensor != 0) {
        kerr(im, l, "reads output %lld of layer '%s': layers with several "
             "outputs are not supported", (long long)tensor, name);
        return;
    }
    if (l->nin == KMAX_INBOUND) {
        kerr(im, l, "more than %d inputs", KMAX_INBOUND);
        return;
    }
    if (l->nin == *cap) {
        *cap = *cap ? 2 * *cap : 4;
        const char **in = arena_alloc(im->a, (size_t)*cap * sizeof *in);
        if (l->nin) memcpy(in, l->in, (size_t)l->nin * sizeof *in);
        l->in = in;
    }
    l->in[l->nin++] = name;
}

/* A reference [name, node, tensor, ...] (Keras 2, input_layers). */
static bool ref_list(const rn_json *r, const char **name, int64_t *tensor) {
    int64_t node;
    if (!r || r->kind != RN_JSON_ARRAY || r->n < 3 || !str_of(r->items[0]) ||
        !as_int(r->items[1], &node) || !as_int(r->items[2], tensor))
        return false;
    *name = r->items[0]->string;
    return true;
}

/* Keras 3: every __keras_tensor__ in the node's args, in order. */
static void keras3_refs(Imp *im, KLayer *l, const rn_json *v, int *cap,
                        int depth) {
    if (!v || depth > 8) return;
    if (v->kind == RN_JSON_ARRAY) {
        for (int i = 0; i < v->n; i++) keras3_refs(im, l, v->items[i], cap, depth + 1);
        return;
    }
    if (v->kind != RN_JSON_OBJECT) return;
    const char *k = str_of(get(v, "class_name"));
    const char *name;
    int64_t tensor;
    if (k && !strcmp(k, "__keras_tensor__")) {
        if (ref_list(get(get(v, "config"), "keras_history"), &name, &tensor))
            add_ref(im, l, name, tensor, cap);
        else
            kerr(im, l, "inbound_nodes: a tensor without keras_history "
                 "[layer, node, tensor]");
    }
}

/* inbound_nodes of a functional model's layer: who it reads. */
static void parse_inbound(Imp *im, KLayer *l, const rn_json *nodes) {
    if (!nodes) return;
    if (nodes->kind != RN_JSON_ARRAY) {
        kerr(im, l, "inbound_nodes must be a list");
        return;
    }
    if (nodes->n == 0) return;
    if (nodes->n > 1) {
        kerr(im, l, "called %d times: shared layers (one layer's weights "
             "used at several places) are not supported", nodes->n);
        return;
    }
    const rn_json *node = nodes->items[0];
    int cap = 0;
    if (node->kind == RN_JSON_OBJECT) { /* Keras 3 */
        im->keras3 = true;
        keras3_refs(im, l, get(node, "args"), &cap, 0);
    } else if (node->kind == RN_JSON_ARRAY) { /* Keras 2 */
        for (int i = 0; i < node->n; i++) {
            const char *name;
            int64_t tensor;
            if (!ref_list(node->items[i], &name, &tensor)) {
                kerr(im, l, "inbound_nodes: expected [layer, node, tensor, "
                     "kwargs] entries");
                return;
            }
            add_ref(im, l, name, tensor, &cap);
        }
    } else {
        kerr(im, l, "inbound_nodes: a node must be a list or an object");
    }
}

static KLayer *parse_layer(Imp *im, KModel *m, const rn_json *e, int index) {
    KLayer *l = arena_alloc(im->a, sizeof *l);
    l->owner = m;
    l->trainable = true;
    const char *k = str_of(get(e, "class_name"));
    l->klass = k ? canonical_class(k) : "?";
    l->cfg = get(e, "config");
    const char *name = str_of(get(e, "name"));
    if (!name) name = str_of(get(l->cfg, "name"));
    l->name = name ? name : arena_printf(im->a, "#%d", index + 1);
    l->scoped = m->self ? arena_printf(im->a, "%s/%s", m->self->scoped, l->name)
                        : l->name;
    if (!k || !l->cfg || l->cfg->kind == RN_JSON_ARRAY) {
        /* a Sequential's config may be a bare list (Keras 2.2) */
        if (!(k && l->cfg && !strcmp(l->klass, "Sequential"))) {
            kerr(im, l, "a layer needs 'class_name' and a 'config' object");
            return l;
        }
    }
    if (!name) kerr(im, l, "the layer has no name");
    else if (!good_name(name))
        kerr(im, l, "the name must be 1 to %d printable ASCII characters "
             "without '\"' or '\\'", KMAX_NAME);
    const rn_json *tr = get(l->cfg, "trainable");
    if (tr && tr->kind == RN_JSON_BOOL) l->trainable = tr->boolean;
    if (is_model_class(l->klass)) l->sub = parse_model(im, e, m, l);
    if (!m->sequential) parse_inbound(im, l, get(e, "inbound_nodes"));
    return l;
}

/* Layers of a model by name (open addressing), to resolve references. */
typedef struct LayerMap {
    KLayer **slot;
    size_t cap;
} LayerMap;

static KLayer *map_find(const LayerMap *map, const char *name) {
    for (size_t i = hash_str(name) & (map->cap - 1); map->slot[i];
         i = (i + 1) & (map->cap - 1))
        if (!strcmp(map->slot[i]->name, name)) return map->slot[i];
    return NULL;
}

static void map_init(Imp *im, LayerMap *map, KModel *m) {
    map->cap = 16;
    while (map->cap < 2 * (size_t)m->n + 2) map->cap *= 2;
    map->slot = arena_alloc(im->a, map->cap * sizeof *map->slot);
    for (int i = 0; i < m->n; i++) {
        KLayer *l = m->layers[i];
        if (map_find(map, l->name)) {
            kerr(im, l, "two layers of model '%s' have this name", m->name);
            continue;
        }
        size_t s = hash_str(l->name) & (map->cap - 1);
        while (map->slot[s]) s = (s + 1) & (map->cap - 1);
        map->slot[s] = l;
    }
}

/* input_layers / output_layers: [[name, node, tensor], ...], or Keras 3's
 * single [name, node, tensor]. */
static KLayer **model_refs(Imp *im, KModel *m, const LayerMap *map,
                           const rn_json *v, const char *what, int *n) {
    *n = 0;
    const rn_json *list = as_list(v);
    if (!list) {
        kerr(im, m->self, "model '%s' has no %s", m->name, what);
        return NULL;
    }
    bool single = list->n > 0 && list->items[0]->kind == RN_JSON_STRING;
    int count = single ? 1 : list->n;
    KLayer **out = arena_alloc(im->a, (size_t)(count ? count : 1) * sizeof *out);
    for (int i = 0; i < count; i++) {
        const char *name;
        int64_t tensor;
        if (!ref_list(single ? list : list->items[i], &name, &tensor)) {
            kerr(im, m->self, "model '%s': bad entry in %s", m->name, what);
            return NULL;
        }
        KLayer *l = map_find(map, name);
        if (!l) {
            kerr(im, m->self, "model '%s': %s names '%s', which is not one "
                 "of its layers", m->name, what, name);
            return NULL;
        }
        if (tensor != 0) {
            kerr(im, l, "output %lld of a layer with several outputs is not "
                 "supported", (long long)tensor);
            return NULL;
        }
        out[(*n)++] = l;
    }
    return out;
}

static bool is_input(const KLayer *l) { return !strcmp(l->klass, "InputLayer"); }

/* A Sequential: a chain, after its InputLayer (given, or made from the
 * first layer's batch_input_shape as Keras does: "NAME_input"). */
static void chain_sequential(Imp *im, KModel *m) {
    if (m->n == 0) {
        kerr(im, m->self, "the Sequential model '%s' has no layers", m->name);
        return;
    }
    if (!is_input(m->layers[0])) {
        KLayer *in = arena_alloc(im->a, sizeof *in);
        *in = (KLayer){0};
        in->owner = m;
        in->klass = "InputLayer";
        in->name = arena_printf(im->a, "%s_input", m->layers[0]->name);
        in->scoped = in->name;
        /* the shape is on the first layer, or on a nested model's input */
        KLayer *first = m->layers[0];
        while (first->sub && first->sub->nin > 0) first = first->sub->inputs[0];
        in->cfg = first->cfg;
        in->trainable = true;
        KLayer **ls = arena_alloc(im->a, (size_t)(m->n + 1) * sizeof *ls);
        ls[0] = in;
        memcpy(ls + 1, m->layers, (size_t)m->n * sizeof *ls);
        m->layers = ls;
        m->n++;
    }
    for (int i = 1; i < m->n; i++) {
        KLayer *l = m->layers[i];
        if (is_input(l)) {
            kerr(im, l, "an InputLayer inside a Sequential model");
            continue;
        }
        l->src = arena_alloc(im->a, sizeof *l->src);
        l->src[0] = m->layers[i - 1];
        l->nin = 1;
    }
    m->inputs = m->layers;
    m->nin = 1;
    m->outputs = &m->layers[m->n - 1];
    m->nout = 1;
}

static void link_functional(Imp *im, KModel *m, const rn_json *cfg) {
    LayerMap map;
    map_init(im, &map, m);
    for (int i = 0; i < m->n; i++) {
        KLayer *l = m->layers[i];
        l->src = arena_alloc(im->a, (size_t)(l->nin ? l->nin : 1) * sizeof *l->src);
        for (int k = 0; k < l->nin; k++) {
            l->src[k] = map_find(&map, l->in[k]);
            if (!l->src[k]) {
                kerr(im, l, "reads layer '%s', which the model does not have",
                     l->in[k]);
                l->nin = 0;
            }
        }
    }
    m->inputs = model_refs(im, m, &map, get(cfg, "input_layers"),
                           "input_layers", &m->nin);
    m->outputs = model_refs(im, m, &map, get(cfg, "output_layers"),
                            "output_layers", &m->nout);
    for (int i = 0; i < m->nin; i++)
        if (!is_input(m->inputs[i]))
            kerr(im, m->inputs[i], "input_layers names it, but it is not an "
                 "InputLayer");
}

static KModel *parse_model(Imp *im, const rn_json *entry, KModel *parent,
                           KLayer *self) {
    KModel *m = arena_alloc(im->a, sizeof *m);
    m->parent = parent;
    m->self = self;
    m->depth = parent ? parent->depth + 1 : 0;
    m->trainable = true;
    const char *k = str_of(get(entry, "class_name"));
    m->klass = k ? canonical_class(k) : "?";
    m->sequential = !strcmp(m->klass, "Sequential");
    const rn_json *cfg = get(entry, "config");
    m->cfg = cfg;
    const rn_json *layers = cfg && cfg->kind == RN_JSON_ARRAY && m->sequential
                                ? cfg : get(cfg, "layers");
    const char *name = str_of(get(cfg, "name"));
    m->name = name ? name : self ? self->name : m->sequential ? "sequential"
                                                             : "model";
    const rn_json *tr = get(cfg, "trainable");
    if (tr && tr->kind == RN_JSON_BOOL) m->trainable = tr->boolean;
    if (!is_model_class(m->klass) || !layers || layers->kind != RN_JSON_ARRAY) {
        kerr(im, self, "expected a Functional, Model or Sequential config "
             "with a list of layers%s%s", k ? ", got class " : "", k ? k : "");
        return NULL;
    }
    if (m->depth > KMAX_DEPTH) {
        kerr(im, self, "models nest deeper than %d levels", KMAX_DEPTH);
        return NULL;
    }
    if (layers->n > KMAX_LAYERS - im->nlayers) {
        kerr(im, self, "the model has more than %d layers", KMAX_LAYERS);
        return NULL;
    }
    im->nlayers += layers->n;
    m->n = layers->n;
    m->layers = arena_alloc(im->a, (size_t)(m->n ? m->n : 1) * sizeof *m->layers);
    for (int i = 0; i < m->n; i++) {
        m->layers[i] = parse_layer(im, m, layers->items[i], i);
        if (im->nall == im->capall) {
            im->capall = im->capall ? 2 * im->capall : 256;
            KLayer **all = arena_alloc(im->a, (size_t)im->capall * sizeof *all);
            if (im->nall) memcpy(all, im->all, (size_t)im->nall * sizeof *all);
            im->all = all;
        }
        im->all[im->nall++] = m->layers[i];
    }
    if (m->sequential) chain_sequential(im, m);
    else link_functional(im, m, cfg);
    return m;
}

/* The layers that reach an output, inputs first (config order where it is
 * already topological); a cycle is an error. Returns how many. */
static int order_layers(Imp *im, KModel *m, KLayer **order) {
    /* reachability from the outputs */
    KLayer **stack = arena_alloc(im->a, (size_t)(m->n + 1) * sizeof *stack);
    int sp = 0;
    for (int i = 0; i < m->nout; i++)
        if (!m->outputs[i]->mark) {
            m->outputs[i]->mark = 3;
            stack[sp++] = m->outputs[i];
        }
    while (sp) {
        KLayer *l = stack[--sp];
        for (int k = 0; k < l->nin; k++)
            if (!l->src[k]->mark) {
                l->src[k]->mark = 3;
                stack[sp++] = l->src[k];
            }
    }
    /* depth-first from each reachable layer in config order: 3 reachable,
     * 1 on the stack, 2 done */
    int *next = arena_alloc(im->a, (size_t)(m->n + 1) * sizeof *next);
    int n = 0;
    for (int i = 0; i < m->n; i++) {
        if (m->layers[i]->mark != 3) continue;
        sp = 0;
        stack[sp] = m->layers[i];
        next[sp++] = 0;
        m->layers[i]->mark = 1;
        while (sp) {
            KLayer *l = stack[sp - 1];
            if (next[sp - 1] < l->nin) {
                KLayer *s = l->src[next[sp - 1]++];
                if (s->mark == 1) {
                    kerr(im, l, "inbound_nodes form a cycle through layer "
                         "'%s'", s->name);
                    return -1;
                }
                if (s->mark == 3) {
                    s->mark = 1;
                    stack[sp] = s;
                    next[sp++] = 0;
                }
                continue;
            }
            l->mark = 2;
            order[n++] = l;
            sp--;
        }
    }
    return n;
}

/* --------------------------------------------------------- translation */

/* One layer's .rn call being built. */
typedef struct Call {
    Imp *im;
    KLayer *l;
    Buf args;          /* ", 16, 3, stride=2, ..." after the inputs */
    const char *op;    /* the op, or the nested model's definition */
    bool weights;      /* it owns weights (trainable=false may apply) */
    const char *note;  /* a comment at the end of the line */
    int nin;           /* inputs wanted: 1, 2, or -2 (two or more) */
} Call;

static void bad(Call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(Call *c, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kerr(c->im, c->l, "%s", msg);
}

static void arg(Call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(Call *c, const char *fmt, ...) {
    char s[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    buf_printf(&c->args, ", %s", s);
}

static const rn_json *field(Call *c, const char *key) { return get(c->l->cfg, key); }

static int64_t want_int(Call *c, const char *key, int64_t def, int64_t lo,
                        int64_t hi) {
    const rn_json *v = field(c, key);
    int64_t x;
    if (!v && def != REQUIRED) return def;
    if (!v) {
        bad(c, "the config has no '%s'", key);
        return lo;
    }
    if (!as_int(v, &x) || x < lo || x > hi) {
        bad(c, "'%s' must be an integer from %lld to %lld", key,
            (long long)lo, (long long)hi);
        return lo;
    }
    return x;
}

/* An integer or a list of two (kernel_size, strides, ...). */
static void want_pair(Call *c, const char *key, int64_t def, int64_t lo,
                      int64_t hi, int64_t out[2]) {
    const rn_json *v = field(c, key), *l = as_list(v);
    out[0] = out[1] = def;
    if (!v && def != REQUIRED) return;
    bool ok = v != NULL;
    if (l && (l->n == 1 || l->n == 2)) {
        for (int i = 0; i < 2 && ok; i++)
            ok = as_int(l->items[l->n == 2 ? i : 0], &out[i]);
    } else if (ok) {
        ok = as_int(v, &out[0]);
        out[1] = out[0];
    }
    if (!ok || out[0] < lo || out[0] > hi || out[1] < lo || out[1] > hi) {
        bad(c, "'%s' must be an integer or two, from %lld to %lld", key,
            (long long)lo, (long long)hi);
        out[0] = out[1] = lo;
    }
}

static double want_num(Call *c, const char *key, double def) {
    const rn_json *v = field(c, key);
    double x;
    if (!v) return def;
    if (!as_num(v, &x)) {
        bad(c, "'%s' must be a number", key);
        return def;
    }
    return x;
}

static bool want_bool(Call *c, const char *key, bool def) {
    const rn_json *v = field(c, key);
    if (!v) return def;
    if (v->kind != RN_JSON_BOOL) {
        bad(c, "'%s' must be true or false", key);
        return def;
    }
    return v->boolean;
}

static void channels_last(Call *c) {
    const char *f = str_of(field(c, "data_format"));
    if (f && strcmp(f, "channels_last"))
        bad(c, "data_format '%s' is not supported: rnc computes in NHWC "
            "(channels_last) only", f);
}

/* Fields of Keras 3 that change a layer beyond what rnc computes. */
static void no_extras(Call *c) {
    static const char *const keys[] = {"lora_rank", "quantization_config",
                                       NULL};
    for (int i = 0; keys[i]; i++)
        if (field(c, keys[i])) bad(c, "'%s' is not supported", keys[i]);
    const rn_json *dt = field(c, "dtype");
    const char *policy = str_of(dt) ? str_of(dt)
                                    : str_of(get(get(dt, "config"), "name"));
    if (policy && !strncmp(policy, "int", 3))
        bad(c, "quantized layers (dtype policy '%s') are not supported",
            policy);
}

static bool want_same(Call *c) {
    const char *p = str_of(field(c, "padding"));
    if (!p || !strcmp(p, "valid")) return false;
    if (!strcmp(p, "same")) return true;
    bad(c, "padding '%s' is not supported (valid, same)", p);
    return false;
}

static void arg_pair(Call *c, const char *key, const int64_t v[2]) {
    const char *eq = key ? "=" : "";
    if (!key) key = "";
    if (v[0] == v[1]) arg(c, "%s%s%lld", key, eq, (long long)v[0]);
    else arg(c, "%s%s[%lld, %lld]", key, eq, (long long)v[0], (long long)v[1]);
}

static void arg_num(Call *c, const char *key, double v) {
    char s[40];
    fmt_num(s, sizeof s, v);
    arg(c, "%s=%s", key, s);
}

/* An activation name of Keras or tfjs as the .rn's word; NULL for the
 * identity. */
static const char *keras_act(Call *c, const char *name) {
    static const char *const same[] = {
        "relu", "relu6", "sigmoid", "tanh", "softmax", "silu", "swish",
        "gelu", "hard_swish", "hard_silu", "elu", "selu", "softplus",
        "softsign", "exponential", "mish", "leaky_relu", NULL};
    if (!strcmp(name, "linear")) return NULL;
    for (int i = 0; same[i]; i++)
        if (!strcmp(name, same[i])) return same[i];
    if (!strcmp(name, "gelu_new")) return "gelu_tanh"; /* tfjs */
    if (!strcmp(name, "hard_sigmoid") || !strcmp(name, "hardSigmoid"))
        return "hard_sigmoid";
    bad(c, "activation '%s' is not supported", name);
    return NULL;
}

static const char *want_act(Call *c) {
    const rn_json *v = field(c, "activation");
    if (!v) return NULL;
    const char *name = str_of(v);
    if (!name) name = str_of(get(v, "config")); /* {"class_name": ...} */
    if (!name) name = str_of(get(v, "class_name"));
    if (!name) {
        bad(c, "'activation' must name an activation");
        return NULL;
    }
    const char *w = keras_act(c, name);
    if (w && !strcmp(w, "hard_sigmoid") && c->im->keras3) {
        bad(c, "activation 'hard_sigmoid' of Keras 3 (relu6(x + 3) / 6) "
            "on this layer is not supported; it is as an Activation layer");
        return NULL;
    }
    return w;
}

/* An axis that must be the last one: -1, or the rank (Keras counts the
 * batch axis); a list of one such axis is fine too. */
static void want_last_axis(Call *c, const char *key, bool list_ok) {
    const rn_json *v = field(c, key), *l = as_list(v);
    int64_t a = -1;
    if (!v) return;
    if (l && l->n == 1 && list_ok) v = l->items[0];
    if (!as_int(v, &a) || (a != -1 && (c->l->rank == 0 || a != c->l->rank)))
        bad(c, "'%s' must be the last axis (-1): rnc works on the channels",
            key);
}

static void tr_conv(Call *c, bool transpose) {
    int64_t f = want_int(c, "filters", REQUIRED, 1, MAX_INT), k[2], s[2], d[2];
    want_pair(c, "kernel_size", REQUIRED, 1, MAX_INT, k);
    want_pair(c, "strides", 1, 1, MAX_INT, s);
    bool same = want_same(c);
    want_pair(c, "dilation_rate", 1, 1, MAX_INT, d);
    int64_t g = transpose ? 1 : want_int(c, "groups", 1, 1, MAX_INT);
    bool bias = want_bool(c, "use_bias", true);
    const char *act = want_act(c);
    channels_last(c);
    no_extras(c);
    c->op = transpose ? "conv2d_transpose" : "conv2d";
    c->weights = true;
    arg(c, "%lld", (long long)f);
    arg_pair(c, NULL, k);
    if (s[0] != 1 || s[1] != 1) arg_pair(c, "stride", s);
    if (same) arg(c, "padding=same");
    if (transpose && field(c, "output_padding")) {
        int64_t op[2];
        want_pair(c, "output_padding", 0, 0, MAX_INT, op);
        arg_pair(c, "output_padding", op);
    }
    if (d[0] != 1 || d[1] != 1) arg_pair(c, "dilation", d);
    if (g != 1) arg(c, "groups=%lld", (long long)g);
    if (!bias) arg(c, "bias=false");
    if (act) arg(c, "activation=%s", act);
}

static void tr_conv2d(Call *c) { tr_conv(c, false); }
static void tr_conv2d_transpose(Call *c) { tr_conv(c, true); }

static void tr_depthwise(Call *c, bool separable) {
    int64_t f = separable ? want_int(c, "filters", REQUIRED, 1, MAX_INT) : 0;
    int64_t k[2], s[2], d[2];
    want_pair(c, "kernel_size", REQUIRED, 1, MAX_INT, k);
    want_pair(c, "strides", 1, 1, MAX_INT, s);
    bool same = want_same(c);
    int64_t mult = want_int(c, "depth_multiplier", 1, 1, MAX_INT);
    want_pair(c, "dilation_rate", 1, 1, MAX_INT, d);
    bool bias = want_bool(c, "use_bias", true);
    const char *act = want_act(c);
    channels_last(c);
    no_extras(c);
    c->op = separable ? "separable_conv2d" : "depthwise_conv2d";
    c->weights = true;
    if (separable) arg(c, "%lld", (long long)f);
    arg_pair(c, NULL, k);
    if (s[0] != 1 || s[1] != 1) arg_pair(c, "stride", s);
    if (same) arg(c, "padding=same");
    if (d[0] != 1 || d[1] != 1) arg_pair(c, "dilation", d);
    if (mult != 1) arg(c, "multiplier=%lld", (long long)mult);
    if (!bias) arg(c, "bias=false");
    if (act) arg(c, "activation=%s", act);
}

static void tr_depthwise_conv2d(Call *c) { tr_depthwise(c, false); }
static void tr_separable_conv2d(Call *c) { tr_depthwise(c, true); }

static void tr_dense(Call *c) {
    int64_t u = want_int(c, "units", REQUIRED, 1, MAX_INT);
    bool bias = want_bool(c, "use_bias", true);
    const char *act = want_act(c);
    no_extras(c);
    c->op = "dense";
    c->weights = true;
    arg(c, "%lld", (long long)u);
    if (!bias) arg(c, "bias=false");
    if (act) arg(c, "activation=%s", act);
}

static void tr_norm(Call *c, bool layer) {
    want_last_axis(c, "axis", true);
    double eps = want_num(c, "epsilon", 0.001);
    bool center = want_bool(c, "center", true), scale = want_bool(c, "scale", true);
    if (layer && want_bool(c, "rms_scaling", false))
        bad(c, "rms_scaling is not supported");
    if (eps <= 0) bad(c, "'epsilon' must be positive");
    no_extras(c);
    c->op = layer ? "layernorm" : "batchnorm";
    c->weights = true;
    if (eps != 0.001) arg_num(c, "epsilon", eps);
    if (!center) arg(c, "center=false");
    if (!scale) arg(c, "scale=false");
}

static void tr_batchnorm(Call *c) { tr_norm(c, false); }
static void tr_layernorm(Call *c) { tr_norm(c, true); }

static void tr_relu(Call *c) {
    const rn_json *mv = field(c, "max_value");
    double max = want_num(c, "max_value", 0);
    double slope = want_num(c, "negative_slope", 0);
    double th = want_num(c, "threshold", 0);
    if (mv && max < 0) bad(c, "'max_value' must not be negative");
    if (slope < 0) bad(c, "'negative_slope' must not be negative");
    c->op = "relu";
    if (mv) arg_num(c, "max_value", max);
    if (slope != 0) arg_num(c, "negative_slope", slope);
    if (th != 0) arg_num(c, "threshold", th);
    if (!mv && slope == 0 && th == 0) arg(c, "max_value=none"); /* a ReLU layer */
}

static void tr_leaky_relu(Call *c) {
    double a = want_num(c, field(c, "negative_slope") ? "negative_slope"
                                                      : "alpha", 0.3);
    c->op = "leaky_relu";
    if (a != 0.3) arg_num(c, "alpha", a);
}

static void tr_elu(Call *c) {
    c->op = "elu";
    arg_num(c, "alpha", want_num(c, "alpha", 1.0)); /* an ELU layer */
}

static void tr_prelu(Call *c) {
    const rn_json *v = field(c, "shared_axes"), *l = as_list(v);
    c->op = "prelu";
    c->weights = true;
    no_extras(c);
    if (!v) return;
    Buf b = {0};
    int n = l ? l->n : 1;
    for (int i = 0; i < n; i++) {
        int64_t a;
        if (!as_int(l ? l->items[i] : v, &a) || a < 1 ||
            (c->l->rank && a > c->l->rank)) {
            bad(c, "'shared_axes' must list axes from 1 to the rank");
            break;
        }
        buf_printf(&b, "%s%lld", i ? ", " : "", (long long)a);
    }
    arg(c, "shared_axes=[%s]", b.data ? b.data : "");
    buf_free(&b);
}

static void tr_softmax(Call *c) {
    want_last_axis(c, "axis", true);
    c->op = "softmax";
    arg(c, "axis=-1"); /* a Softmax layer */
}

static void tr_activation(Call *c) {
    const char *name = str_of(field(c, "activation"));
    if (!name) name = str_of(get(field(c, "activation"), "config"));
    if (!name) {
        bad(c, "'activation' must name an activation");
        return;
    }
    const char *w = keras_act(c, name);
    c->op = w ? w : "linear";
    if (w && !strcmp(w, "hard_sigmoid") && c->im->keras3)
        arg(c, "alpha=1/6"); /* Keras 3: relu6(x + 3) / 6 */
}

static void tr_merge(Call *c) {
    static const char *const ops[][2] = {
        {"Add", "add"}, {"Subtract", "subtract"}, {"Multiply", "multiply"},
        {"Maximum", "maximum"}, {"Minimum", "minimum"},
        {"Average", "average"}, {"Concatenate", "concat"}};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(c->l->klass, ops[i][0])) c->op = ops[i][1];
    c->nin = strcmp(c->op, "subtract") ? -2 : 2;
    if (!strcmp(c->op, "concat")) want_last_axis(c, "axis", false);
}

static void tr_pool(Call *c) {
    int64_t k[2], s[2];
    want_pair(c, "pool_size", 2, 1, MAX_INT, k);
    if (field(c, "strides")) want_pair(c, "strides", 1, 1, MAX_INT, s);
    else s[0] = k[0], s[1] = k[1];
    bool same = want_same(c);
    channels_last(c);
    c->op = strcmp(c->l->klass, "MaxPooling2D") ? "avgpool" : "maxpool";
    arg_pair(c, NULL, k);
    if (s[0] != k[0] || s[1] != k[1]) arg_pair(c, "stride", s);
    if (same) arg(c, "padding=same");
}

static void tr_global_pool(Call *c) {
    bool keep = want_bool(c, "keepdims", false);
    channels_last(c);
    c->op = strcmp(c->l->klass, "GlobalMaxPooling2D") ? "global_avgpool"
                                                      : "global_maxpool";
    if (keep) arg(c, "keepdims=true");
    c->l->rank = keep ? 3 : 1;
}

static void tr_flatten(Call *c) {
    channels_last(c);
    c->op = "flatten";
    c->l->rank = 1;
}

static void tr_reshape(Call *c) {
    const rn_json *l = as_list(field(c, "target_shape"));
    c->op = "reshape";
    if (!l || (l->n != 1 && l->n != 3)) {
        bad(c, "'target_shape' must have 1 or 3 sizes (rnc's tensors are "
            "[N] or [H, W, C])");
        return;
    }
    Buf b = {0};
    for (int i = 0; i < l->n; i++) {
        int64_t d;
        if (!as_int(l->items[i], &d) || d < -1 || d == 0 || d > MAX_INT) {
            bad(c, "'target_shape' must hold positive sizes (or one -1)");
            break;
        }
        buf_printf(&b, "%s%lld", i ? ", " : "", (long long)d);
    }
    arg(c, "[%s]", b.data ? b.data : "");
    buf_free(&b);
    c->l->rank = l->n;
}

static void tr_dropout(Call *c) {
    const char *k = c->l->klass;
    c->op = "dropout";
    if (!strcmp(k, "GaussianNoise")) {
        double sd = want_num(c, "stddev", 0);
        char s[40];
        fmt_num(s, sizeof s, sd);
        arg(c, "0");
        c->note = arena_printf(c->im->a, "GaussianNoise(stddev=%s): the "
                               "identity at inference", s);
        return;
    }
    double r = want_num(c, "rate", 0);
    if (r < 0 || r >= 1) {
        bad(c, "'rate' must be from 0 to below 1");
        r = 0;
    }
    char s[40];
    fmt_num(s, sizeof s, r);
    arg(c, "%s", s);
    if (strcmp(k, "Dropout"))
        c->note = arena_printf(c->im->a, "%s: the identity at inference", k);
}

/* [t, b, l, r] from an int, [h, w] or [[t, b], [l, r]]. */
static void want_sides(Call *c, const char *key, int64_t def, int64_t out[4]) {
    const rn_json *v = field(c, key), *l = as_list(v);
    bool ok = true;
    for (int i = 0; i < 4; i++) out[i] = def;
    if (!v) return;
    if (l && l->n == 2 && as_list(l->items[0])) {
        for (int i = 0; i < 2 && ok; i++) {
            const rn_json *p = as_list(l->items[i]);
            ok = p && p->n == 2 && as_int(p->items[0], &out[2 * i]) &&
                 as_int(p->items[1], &out[2 * i + 1]);
        }
    } else if (l && l->n == 2) {
        ok = as_int(l->items[0], &out[0]) && as_int(l->items[1], &out[2]);
        out[1] = out[0];
        out[3] = out[2];
    } else {
        ok = as_int(v, &out[0]);
        out[1] = out[2] = out[3] = out[0];
    }
    for (int i = 0; i < 4; i++) ok = ok && out[i] >= 0 && out[i] <= MAX_INT;
    if (!ok) {
        bad(c, "'%s' must be n, [h, w] or [[top, bottom], [left, right]] of "
            "sizes", key);
        for (int i = 0; i < 4; i++) out[i] = 0;
    }
}

static void tr_sides(Call *c, const char *op, const char *key) {
    int64_t p[4];
    want_sides(c, key, 1, p);
    channels_last(c);
    c->op = op;
    if (p[0] == p[1] && p[1] == p[2] && p[2] == p[3]) arg(c, "%lld", (long long)p[0]);
    else arg(c, "[%lld, %lld, %lld, %lld]", (long long)p[0], (long long)p[1],
             (long long)p[2], (long long)p[3]);
}

static void tr_zeropad(Call *c) { tr_sides(c, "zeropad", "padding"); }
static void tr_crop(Call *c) { tr_sides(c, "crop", "cropping"); }

static void tr_upsample(Call *c) {
    int64_t s[2];
    want_pair(c, "size", 2, 1, MAX_INT, s);
    const char *ip = str_of(field(c, "interpolation"));
    channels_last(c);
    c->op = "upsample";
    if (s[0] != 2 || s[1] != 2) arg_pair(c, "size", s);
    if (ip && !strcmp(ip, "bilinear")) arg(c, "interpolation=bilinear");
    else if (ip && strcmp(ip, "nearest"))
        bad(c, "interpolation '%s' is not supported (nearest, bilinear)", ip);
}

static void tr_rescale(Call *c) {
    double s = want_num(c, "scale", 1), o = want_num(c, "offset", 0);
    char b[48];
    c->op = "rescale";
    fmt_scale(b, sizeof b, s);
    arg(c, "%s", b);
    if (o != 0) arg_num(c, "offset", o);
}

/* The numbers of a value, nested lists flattened (Keras may keep the
 * broadcast shape, [[[m0, m1, m2]]]); false on anything else. */
static bool flat_numbers(const rn_json *v, Buf *out, int *count, int depth) {
    const rn_json *l = as_list(v);
    double x;
    if (l && depth < 8) {
        for (int i = 0; i < l->n; i++)
            if (!flat_numbers(l->items[i], out, count, depth + 1)) return false;
        return true;
    }
    if (!as_num(v, &x) || *count >= MAX_INT) return false;
    char s[40];
    fmt_num(s, sizeof s, x);
    buf_printf(out, "%s%s", (*count)++ ? ", " : "", s);
    return true;
}

/* Normalization's mean or variance given in the config: a number or a
 * list in out; false when absent. */
static bool const_list(Call *c, const char *key, Buf *out) {
    const rn_json *v = field(c, key);
    if (!v) return false;
    int n = 0;
    Buf nums = {0};
    if (!flat_numbers(v, &nums, &n, 0) || n == 0) bad(c, "'%s' must be numbers", key);
    if (as_list(v)) buf_printf(out, "[%s]", nums.data ? nums.data : "");
    else buf_printf(out, "%s", nums.data ? nums.data : "0");
    buf_free(&nums);
    return true;
}

static void tr_normalization(Call *c) {
    want_last_axis(c, "axis", true);
    if (!field(c, "axis")) bad(c, "axis None (one statistic per element) is "
                               "not supported; only the last axis");
    if (want_bool(c, "invert", false)) bad(c, "invert=true is not supported");
    c->op = "normalization";
    Buf m = {0}, v = {0};
    bool hm = const_list(c, "mean", &m), hv = const_list(c, "variance", &v);
    if (hm != hv) bad(c, "'mean' and 'variance' must be given together");
    if (hm && hv) {
        arg(c, "mean=%s", m.data);
        arg(c, "variance=%s", v.data);
    } else {
        c->weights = true;
    }
    buf_free(&m);
    buf_free(&v);
}

typedef void (*TrFn)(Call *c);
static const struct {
    const char *klass;
    TrFn fn;
} classes[] = {
    {"Conv2D", tr_conv2d},
    {"Conv2DTranspose", tr_conv2d_transpose},
    {"DepthwiseConv2D", tr_depthwise_conv2d},
    {"SeparableConv2D", tr_separable_conv2d},
    {"Dense", tr_dense},
    {"BatchNormalization", tr_batchnorm},
    {"LayerNormalization", tr_layernorm},
    {"ReLU", tr_relu},
    {"LeakyReLU", tr_leaky_relu},
    {"ELU", tr_elu},
    {"PReLU", tr_prelu},
    {"Softmax", tr_softmax},
    {"Activation", tr_activation},
    {"Add", tr_merge},
    {"Subtract", tr_merge},
    {"Multiply", tr_merge},
    {"Maximum", tr_merge},
    {"Minimum", tr_merge},
    {"Average", tr_merge},
    {"Concatenate", tr_merge},
    {"MaxPooling2D", tr_pool},
    {"AveragePooling2D", tr_pool},
    {"GlobalAveragePooling2D", tr_global_pool},
    {"GlobalMaxPooling2D", tr_global_pool},
    {"Flatten", tr_flatten},
    {"Reshape", tr_reshape},
    {"Dropout", tr_dropout},
    {"SpatialDropout2D", tr_dropout},
    {"GaussianDropout", tr_dropout},
    {"GaussianNoise", tr_dropout},
    {"AlphaDropout", tr_dropout},
    {"ZeroPadding2D", tr_zeropad},
    {"Cropping2D", tr_crop},
    {"UpSampling2D", tr_upsample},
    {"Rescaling", tr_rescale},
    {"Normalization", tr_normalization},
};

/* ------------------------------------------------------------ emission */

static bool chain_trainable(const KModel *m) {
    for (; m; m = m->parent)
        if (!m->trainable) return false;
    return true;
}

/* Definition names over the whole file. */
typedef struct Emit {
    Imp *im;
    Idents defs;
    Text defs_text;
} Emit;

static bool emit_model(Emit *em, KModel *m, Text *out);

/* The input's shape from batch_input_shape / batch_shape (batch first) or
 * input_shape; "[224, 224, 3]" in out. */
static bool input_shape(Imp *im, KLayer *l, const rn_json *cfg2, Buf *out) {
    const rn_json *s = as_list(get(l->cfg, "batch_input_shape"));
    int skip = 1;
    if (!s) s = as_list(get(l->cfg, "batch_shape"));
    if (!s) s = as_list(get(cfg2, "build_input_shape"));
    if (!s) {
        s = as_list(get(l->cfg, "input_shape"));
        skip = 0;
    }
    if (!s) {
        kerr(im, l, "the input has no shape (batch_input_shape or "
             "batch_shape)");
        return false;
    }
    int rank = s->n - skip;
    if (rank != 1 && rank != 3) {
        kerr(im, l, "inputs of rank %d are not supported: rnc's tensors are "
             "[N] or [H, W, C]", rank > 0 ? rank : 0);
        return false;
    }
    buf_printf(out, "[");
    for (int i = skip; i < s->n; i++) {
        int64_t d;
        if (s->items[i]->kind == RN_JSON_NULL) {
            kerr(im, l, "the input's size is not fixed (None in its shape): "
                 "rnc needs every size; give the model a fixed input shape");
            return false;
        }
        if (!as_int(s->items[i], &d) || d < 1 || d > MAX_INT) {
            kerr(im, l, "the input's shape has a bad size");
            return false;
        }
        buf_printf(out, "%s%lld", i > skip ? ", " : "", (long long)d);
    }
    buf_printf(out, "]");
    l->rank = rank;
    if (get(l->cfg, "sparse") && get(l->cfg, "sparse")->kind == RN_JSON_BOOL &&
        get(l->cfg, "sparse")->boolean)
        kerr(im, l, "sparse inputs are not supported");
    return true;
}

/* A nested model: its definition, then a call of it. */
static void emit_nested(Emit *em, KLayer *l, Call *c) {
    Imp *im = em->im;
    KModel *m = l->sub;
    if (!m) return;
    if (m->nout != 1) {
        kerr(im, l, "a nested model with %d outputs is not supported: it "
             "must have one", m->nout);
        return;
    }
    if (l->nin != m->nin) {
        kerr(im, l, "the nested model takes %d inputs, the call gives %d",
             m->nin, l->nin);
        return;
    }
    m->def = ident(im, &em->defs, m->sequential ? "sequential" : "functional");
    for (int i = 0; i < m->nin; i++) m->inputs[i]->rank = l->src[i]->rank;
    Text body = {0};
    if (emit_model(em, m, &body)) {
        text_cat(im, &em->defs_text, &body);
        text_line(im, &em->defs_text, NULL, "%s", "");
    } else {
        buf_free(&body.b);
    }
    c->op = m->def;
    l->rank = m->outputs[0]->rank;
    if (!m->trainable && chain_trainable(l->owner)) arg(c, "trainable=false");
}

/* One layer's line. */
static void emit_layer(Emit *em, KLayer *l, Idents *vars, Text *out,
                       const char *indent) {
    Imp *im = em->im;
    Call c = {.im = im, .l = l, .nin = 1};
    int before = im->nerrs;
    if (l->nin > 0) l->rank = l->src[0]->rank;
    if (is_model_class(l->klass)) {
        c.nin = l->nin;
        emit_nested(em, l, &c); /* a bad nested model was told already */
    } else {
        size_t i = 0;
        while (i < sizeof classes / sizeof *classes &&
               strcmp(classes[i].klass, l->klass))
            i++;
        if (i == sizeof classes / sizeof *classes) {
            const char *why = "this layer type is not supported";
            if (!strcmp(l->klass, "Lambda") || !strcmp(l->klass, "TFOpLambda") ||
                !strcmp(l->klass, "SlicingOpLambda"))
                why = "Lambda and TensorFlow-op layers hold code, which "
                      "cannot be imported";
            kerr(im, l, "%s", why);
        } else {
            classes[i].fn(&c);
        }
    }
    if (c.nin > 0 && l->nin != c.nin)
        kerr(im, l, "takes %d input%s, the model gives it %d", c.nin,
             c.nin == 1 ? "" : "s", l->nin);
    else if (c.nin == -2 && l->nin < 2)
        kerr(im, l, "takes two inputs or more, the model gives it %d", l->nin);
    if (c.weights && !l->trainable && chain_trainable(l->owner))
        arg(&c, "trainable=false");
    l->var = ident(im, vars, l->name);
    if (im->nerrs == before && c.op) {
        Buf ins = {0};
        for (int k = 0; k < l->nin; k++)
            buf_printf(&ins, "%s%s", k ? ", " : "", l->src[k]->var);
        text_line(im, out, l, "%s%s = %s(%s%s, name=\"%s\")%s%s", indent,
                  l->var, c.op, ins.data ? ins.data : "",
                  c.args.data ? c.args.data : "", l->name,
                  c.note ? "  # " : "", c.note ? c.note : "");
        buf_free(&ins);
        l->emitted = true;
    }
    buf_free(&c.args);
}

/* A model's statements: `input`s and `output`s at the top, a `layer`
 * definition for a nested model. */
static bool emit_model(Emit *em, KModel *m, Text *out) {
    Imp *im = em->im;
    if (!m || m->nin == 0 || m->nout == 0 || !m->inputs || !m->outputs)
        return false;
    KLayer **order = arena_alloc(im->a, (size_t)(m->n + 1) * sizeof *order);
    int n = order_layers(im, m, order);
    if (n < 0) return false;
    Idents vars = {0};
    const char *indent = m->self ? "    " : "";
    m->path = m->self ? (m->parent->path[0]
                             ? arena_printf(im->a, "%s.%s", m->parent->path,
                                            m->self->name)
                             : m->self->name)
                      : "";
    Buf params = {0};
    for (int i = 0; i < m->nin; i++) {
        KLayer *in = m->inputs[i];
        in->var = ident(im, &vars, in->name);
        in->emitted = true;
        if (m->self) {
            buf_printf(&params, "%s%s", i ? ", " : "", in->var);
            continue;
        }
        Buf shape = {0};
        if (input_shape(im, in, m->cfg, &shape))
            text_line(im, out, in, "input %s%s", in->var, shape.data);
        buf_free(&shape);
    }
    if (m->self)
        text_line(im, out, m->self, "layer %s(%s) {", m->def,
                  params.data ? params.data : "");
    else
        text_line(im, out, NULL, "%s", "");
    buf_free(&params);
    for (int i = 0; i < n; i++) {
        KLayer *l = order[i];
        if (is_input(l)) {
            bool listed = false;
            for (int k = 0; k < m->nin; k++) listed |= m->inputs[k] == l;
            if (!listed)
                kerr(im, l, "an InputLayer that is not among the model's "
                     "inputs");
            continue;
        }
        l->path = m->path[0] ? arena_printf(im->a, "%s.%s", m->path, l->name)
                             : l->name;
        emit_layer(em, l, &vars, out, indent);
    }
    if (!m->self) text_line(im, out, NULL, "%s", "");
    for (int i = 0; i < m->nout; i++) {
        KLayer *o = m->outputs[i];
        if (!o->var) continue;
        if (m->self) text_line(im, out, o, "    return %s", o->var);
        else text_line(im, out, o, "output %s", o->var);
    }
    if (m->self) text_line(im, out, m->self, "}");
    return true;
}

/* ------------------------------------------------------ reading back */

/* The program through the front end, errors caught and told by layer. */
static Graph *read_back(Imp *im, Text *t, const char *rn_path,
                        const char *stem, Arena *a) {
    char *msg = NULL;
    size_t msglen = 0;
    FILE *mem = open_memstream(&msg, &msglen);
    if (!mem) die("out of memory");
    Source src = {rn_path, t->b.data, t->b.len};
    Diag d;
    diag_init(&d, &src, mem);
    d.max_errors = 1;
    Ast *prog = parse_source(&src, a, &d);
    Graph *g = prog ? elaborate(prog, stem, a, &d) : NULL;
    fclose(mem);
    if (!g) {
        /* "OUT.rn:LINE:COL: error: MESSAGE" -> the layer of that line */
        size_t plen = strlen(rn_path);
        int line = 0, col = 0, at = 0;
        KLayer *who = NULL;
        const char *body = msg;
        if (msg && !strncmp(msg, rn_path, plen) &&
            sscanf(msg + plen, ":%d:%d: error: %n", &line, &col, &at) == 2 &&
            at > 0) {
            body = msg + plen + at;
            if (line >= 1 && line <= t->nlines) who = t->who[line - 1];
        }
        char *nl = body ? strchr(body, '\n') : NULL;
        if (nl) *nl = 0;
        if (who)
            kerr(im, who, "%s", body);
        else
            kerr(im, NULL, "the imported program does not compile: %s",
                 body && *body ? body : "(no message)");
    }
    free(msg);
    return g;
}

/* ------------------------------------------------------------- weights */

static void fmt_dims(char *out, size_t n, int rank, const int64_t *d) {
    size_t at = 0;
    at += (size_t)snprintf(out, n, "[");
    for (int i = 0; i < rank && at < n; i++)
        at += (size_t)snprintf(out + at, n - at, "%s%lld", i ? ", " : "",
                               (long long)d[i]);
    if (at < n) snprintf(out + at, n - at, "]");
}

/* Every weight of every node from its manifest tensor; the safetensors
 * list in t (names in the arena). Errors by layer. */
static int gather_weights(Imp *im, Graph *g, KWeights *w, rn_st_tensor **out) {
    int cap = 0;
    for (int i = 0; i < g->nnodes; i++) {
        WeightSpec ws[4];
        cap += node_weights(g->nodes[i], ws);
    }
    rn_st_tensor *t = arena_alloc(im->a, (size_t)(cap ? cap : 1) * sizeof *t);
    int n = 0;
    /* the layer of each node, through a table of paths */
    size_t mcap = 16;
    while (mcap < 2 * (size_t)im->nall + 2) mcap *= 2;
    KLayer **slot = arena_alloc(im->a, mcap * sizeof *slot);
    for (int i = 0; i < im->nall; i++) {
        KLayer *l = im->all[i];
        if (!l->path) continue;
        size_t s = hash_str(l->path) & (mcap - 1);
        while (slot[s]) s = (s + 1) & (mcap - 1);
        slot[s] = l;
    }
    for (int i = 0; i < g->nnodes; i++) {
        GNode *node = g->nodes[i];
        WeightSpec ws[4];
        int k = node_weights(node, ws);
        if (!k) continue;
        KLayer *l = NULL;
        for (size_t s = hash_str(node->path) & (mcap - 1); slot[s];
             s = (s + 1) & (mcap - 1))
            if (!strcmp(slot[s]->path, node->path)) {
                l = slot[s];
                break;
            }
        if (!l) die("import: node '%s' has no Keras layer", node->path);
        l->in_graph = true;
        for (int j = 0; j < k; j++) {
            KTensor *found = NULL;
            bool twice = false;
            for (int x = l->tensors; x; x = w->t[x - 1].next) {
                KTensor *kt = &w->t[x - 1];
                if (!(kt->param ? !strcmp(kt->param, ws[j].suffix)
                                : kt->index == j))
                    continue;
                twice |= found != NULL;
                found = kt;
            }
            char want[96], have[96];
            fmt_dims(want, sizeof want, ws[j].rank, ws[j].dims);
            if (twice) {
                kerr(im, l, "the manifest has two weights '%s'", ws[j].suffix);
                continue;
            }
            if (!found) {
                kerr(im, l, "the manifest has no weight '%s' %s", ws[j].suffix,
                     want);
                continue;
            }
            found->used = true;
            bool same = found->rank == ws[j].rank;
            for (int d = 0; same && d < found->rank; d++)
                same = found->dims[d] == ws[j].dims[d];
            if (!same) {
                fmt_dims(have, sizeof have, found->rank, found->dims);
                kerr(im, l, "weight '%s' has shape %s, the layer needs %s",
                     ws[j].suffix, have, want);
                continue;
            }
            rn_st_tensor *st = &t[n++];
            st->name = arena_printf(im->a, "%s.%s", node->path, ws[j].suffix);
            st->rank = ws[j].rank;
            for (int d = 0; d < ws[j].rank; d++) st->dims[d] = ws[j].dims[d];
            st->data = found->data;
        }
    }
    /* what the manifest has beyond that, for layers in the graph (a
     * layer rnc dropped, reaching no output, may keep its weights) */
    for (int x = 0; x < w->n; x++) {
        KTensor *kt = &w->t[x];
        if (kt->used || !kt->layer || !(kt->layer->in_graph || kt->layer->emitted))
            continue;
        char nb[160];
        kerr(im, kt->layer, "the manifest's weight '%s' is not one of this "
             "layer's", rn_json_printable(nb, sizeof nb, kt->name));
    }
    *out = t;
    return n;
}

/* --------------------------------------------------------- entry points */

/* model.json, or the model.json inside a directory. */
static bool find_model(Imp *im, const char *model, const char **json) {
    struct stat st;
    if (stat(model, &st) != 0) {
        fprintf(im->errs, "rnc: error: %s: %s\n", model, strerror(errno));
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        size_t n = strlen(model);
        while (n > 1 && model[n - 1] == '/') n--;
        im->dir = arena_strndup(im->a, model, n);
        *json = arena_printf(im->a, "%s%smodel.json", im->dir,
                             n == 1 && im->dir[0] == '/' ? "" : "/");
        if (stat(*json, &st) != 0) {
            fprintf(im->errs, "rnc: error: %s: %s\n", *json, strerror(errno));
            return false;
        }
    } else {
        *json = model;
        const char *slash = strrchr(model, '/');
        im->dir = slash ? arena_strndup(im->a, model, (size_t)(slash - model))
                        : ".";
        if (slash == model) im->dir = "/";
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(im->errs, "rnc: error: %s: not a regular file\n", *json);
        return false;
    }
    im->path = *json;
    return true;
}

/* The topology object ({class_name, config}) and the manifest. */
static const rn_json *find_topology(Imp *im, const rn_json *root,
                                    const rn_json **manifest) {
    *manifest = get(root, "weightsManifest");
    const rn_json *topo = get(root, "modelTopology");
    if (!topo && get(root, "class_name")) topo = root; /* a bare config */
    const rn_json *version = get(topo, "keras_version");
    if (topo && get(topo, "model_config")) topo = get(topo, "model_config");
    if (!topo || !get(topo, "class_name")) {
        kerr(im, NULL, "no Keras model: expected 'modelTopology' with "
             "'class_name' and 'config' (the TF.js layers format)");
        return NULL;
    }
    const char *v = str_of(version);
    if (v && v[0] == '3') im->keras3 = true;
    return topo;
}

/* Keras 3 writes batch_shape where Keras 2 wrote batch_input_shape. */
static void detect_keras3(Imp *im) {
    for (int i = 0; i < im->nall; i++)
        if (get(im->all[i]->cfg, "batch_shape")) im->keras3 = true;
}

int keras_convert(const char *model, const char *rn_path,
                  const char *weights_path, const char *stem, FILE *errs,
                  Buf *rn, unsigned char **st, size_t *stlen) {
    Arena *a = arena_new();
    Imp im = {.a = a, .errs = errs, .path = model};
    KWeights w = {0};
    rn_json_doc *doc = NULL;
    char *text = NULL;
    int rc = 1;
    *st = NULL;
    *stlen = 0;
    *rn = (Buf){0};
    const char *json;
    if (!find_model(&im, model, &json)) goto done;
    size_t len;
    text = read_whole_file(json, &len);
    if (!text) {
        fprintf(errs, "rnc: error: %s: %s\n", json,
                errno == EFBIG ? "file too large (over 16 MiB)" : strerror(errno));
        goto done;
    }
    char jerr[256];
    doc = rn_json_parse(text, len, jerr, sizeof jerr);
    if (!doc) {
        kerr(&im, NULL, "not valid JSON: %s", jerr);
        goto done;
    }
    const rn_json *manifest;
    const rn_json *topo = find_topology(&im, rn_json_root(doc), &manifest);
    if (!topo) goto done;
    im.top = parse_model(&im, topo, NULL, NULL);
    detect_keras3(&im);
    Emit em = {.im = &im};
    Text body = {0};
    bool emitted = im.top && im.nerrs == 0 && emit_model(&em, im.top, &body);
    bool read = kw_read(&im, manifest, &w);
    if (read && im.nerrs == 0) kw_match(&im, &w);
    if (!emitted || im.nerrs) {
        buf_free(&body.b);
        buf_free(&em.defs_text.b);
        goto done;
    }
    /* the file: a header, the definitions, the model */
    Text all = {0};
    const char *base = strrchr(weights_path, '/');
    base = base ? base + 1 : weights_path;
    char nb[240];
    text_line(&im, &all, NULL, "# Imported by rnc --import from the Keras "
              "model \"%s\" (%s, %s); its weights are %s.",
              rn_json_printable(nb, sizeof nb, im.top->name), im.top->klass,
              im.keras3 ? "Keras 3" : "Keras 2 / TF.js", base);
    text_line(&im, &all, NULL, "%s", "");
    text_cat(&im, &all, &em.defs_text);
    text_cat(&im, &all, &body);
    Arena *ga = arena_new();
    Graph *g = read_back(&im, &all, rn_path, stem, ga);
    rn_st_tensor *t = NULL;
    int nt = g ? gather_weights(&im, g, &w, &t) : 0;
    char err[512];
    if (g && im.nerrs == 0 &&
        !(*st = rn_st_encode(weights_path, t, nt, stlen, err, sizeof err))) {
        fprintf(errs, "rnc: error: %s\n", err);
        im.nerrs++;
    }
    arena_free(ga);
    if (im.nerrs == 0) {
        *rn = all.b;
        rc = 0;
    } else {
        buf_free(&all.b);
        free(*st);
        *st = NULL;
    }
done:
    if (im.nerrs > KMAX_ERRORS)
        fprintf(errs, "%s: ... and %d more errors\n", im.path,
                im.nerrs - KMAX_ERRORS);
    kw_free(&w);
    rn_json_free(doc);
    free(text);
    arena_free(a);
    return rc;
}

int keras_import(const char *model, const char *rn_path,
                 const char *weights_path, const char *stem, FILE *errs) {
    Buf rn;
    unsigned char *st;
    size_t stlen;
    int rc = keras_convert(model, rn_path, weights_path, stem, errs, &rn, &st,
                           &stlen);
    if (rc != 0) return rc;
    char err[512];
    const char *paths[2] = {rn_path, weights_path};
    const void *data[2] = {rn.data, st};
    size_t lens[2] = {rn.len, stlen};
    if (write_files_atomic(2, paths, data, lens, err, sizeof err) != 0) {
        fprintf(errs, "rnc: error: %s\n", err);
        rc = 1;
    }
    buf_free(&rn);
    free(st);
    return rc;
}
