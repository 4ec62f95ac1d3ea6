/* keras_config.c: the configs of a Keras model (Keras's model.to_json()),
 * read into KModels and KLayers (import_keras.h).
 *
 * Requires: the parsed JSON. Produces: every model (nested ones too) with
 * its layers, what each layer reads (resolved), its inputs and outputs,
 * and a topological order of what reaches the outputs. Errors name the
 * layer (kerr); a model that cannot be read is NULL.
 *
 * The formats, as Keras writes them:
 *  - Keras 2.2 to 2.15: a layer is {class_name, config, name,
 *    inbound_nodes: [[[layer, node, tensor, kwargs], ...]]}; input_layers
 *    and output_layers list [layer, node, tensor]; a Sequential's config is
 *    {name, layers} (Keras 2.2: the bare list), its first layer carrying
 *    batch_input_shape or an InputLayer first (Keras adds "NAME_input");
 *    TensorFlow's SavedModel metadata wraps lists as {"class_name":
 *    "__tuple__" | "TensorShape", "items": [...]}.
 *  - Keras 3: module / registered_name fields, batch_shape, dtype policy
 *    objects, inbound_nodes [{args: [...], kwargs: {}}] whose tensors are
 *    {"class_name": "__keras_tensor__", "config": {"keras_history":
 *    [layer, node, tensor]}}, a single input_layers [layer, node, tensor].
 *  - TF.js: class "Model" for a functional model, node_index 1 for a
 *    nested model's call; node indices are not needed (a layer called more
 *    than once is refused anyway).
 * A layer name must be printable ASCII without '"' or '\\' (what the .rn
 * keeps); names are unique within their model. */
#include "import_keras.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- JSON helpers */

const rn_json *kj_get(const rn_json *obj, const char *key) {
    const rn_json *v =
        obj && obj->kind == RN_JSON_OBJECT ? rn_json_get(obj, key) : NULL;
    return v && v->kind != RN_JSON_NULL ? v : NULL;
}

const char *kj_str(const rn_json *v) {
    return v && v->kind == RN_JSON_STRING ? v->string : NULL;
}

/* A list, also as Keras 2's SavedModel metadata wraps tuples and shapes:
 * {"class_name": "__tuple__" | "TensorShape", "items": [...]}, or Keras
 * 3's {"class_name": "__tuple__", "config": {"value": [...]}}. */
const rn_json *kj_list(const rn_json *v) {
    if (v && v->kind == RN_JSON_OBJECT) {
        const rn_json *items = kj_get(v, "items");
        if (!items) items = kj_get(kj_get(v, "config"), "value");
        v = items;
    }
    return v && v->kind == RN_JSON_ARRAY ? v : NULL;
}

bool kj_int(const rn_json *v, int64_t *out) {
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

bool kj_num(const rn_json *v, double *out) {
    if (!v || (v->kind != RN_JSON_INT && v->kind != RN_JSON_NUMBER) ||
        !isfinite(v->number))
        return false;
    *out = v->number;
    return true;
}


uint64_t kj_hash(const char *s) {
    uint64_t h = 1469598103934665603u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
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

bool kc_is_model(const char *k) {
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
    if (!r || r->kind != RN_JSON_ARRAY || r->n < 3 || !kj_str(r->items[0]) ||
        !kj_int(r->items[1], &node) || !kj_int(r->items[2], tensor))
        return false;
    *name = r->items[0]->string;
    return true;
}

/* Keras 3: every __keras_tensor__ in the node's args, in order. */
static void keras3_refs(Imp *im, KLayer *l, const rn_json *v, int *cap,
                        int depth) {
    if (!v || depth > 8) return;
    if (v->kind == RN_JSON_ARRAY) {
        for (int i = 0; i < v->n; i++)
            keras3_refs(im, l, v->items[i], cap, depth + 1);
        return;
    }
    if (v->kind != RN_JSON_OBJECT) return;
    const char *k = kj_str(kj_get(v, "class_name"));
    const char *name;
    int64_t tensor;
    if (k && !strcmp(k, "__keras_tensor__")) {
        const rn_json *h = kj_get(kj_get(v, "config"), "keras_history");
        if (ref_list(h, &name, &tensor))
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
    if (nodes->n > 1) /* told, then read as its first call */
        kerr(im, l, "called %d times: shared layers (one layer's weights "
             "used at several places) are not supported", nodes->n);
    const rn_json *node = nodes->items[0];
    int cap = 0;
    if (node->kind == RN_JSON_OBJECT) { /* Keras 3 */
        im->keras3 = true;
        l->args = kj_get(node, "args");
        l->kwargs = kj_get(node, "kwargs");
        keras3_refs(im, l, l->args, &cap, 0);
    } else if (node->kind == RN_JSON_ARRAY) { /* Keras 2 */
        /* a TFOpLambda's node is one reference [layer, node, tensor,
         * kwargs] rather than a list of them */
        bool one = node->n > 0 && node->items[0]->kind == RN_JSON_STRING;
        for (int i = 0; i < (one ? 1 : node->n); i++) {
            const rn_json *r = one ? node : node->items[i];
            const char *name;
            int64_t tensor;
            if (!ref_list(r, &name, &tensor)) {
                kerr(im, l, "inbound_nodes: expected [layer, node, tensor, "
                     "kwargs] entries");
                return;
            }
            add_ref(im, l, name, tensor, &cap);
            if (i == 0 && r->n > 3 && r->items[3]->kind == RN_JSON_OBJECT)
                l->kwargs = r->items[3];
        }
        /* a TF op's second operand may be a tensor: kwargs {"y": [layer,
         * node, tensor]} */
        const rn_json *y = kj_get(l->kwargs, "y");
        const char *name;
        int64_t tensor;
        if (ref_list(y, &name, &tensor)) add_ref(im, l, name, tensor, &cap);
    } else {
        kerr(im, l, "inbound_nodes: a node must be a list or an object");
    }
}

static KLayer *parse_layer(Imp *im, KModel *m, const rn_json *e, int index) {
    KLayer *l = arena_alloc(im->a, sizeof *l);
    l->owner = m;
    l->trainable = true;
    const char *k = kj_str(kj_get(e, "class_name"));
    l->klass = k ? canonical_class(k) : "?";
    l->cfg = kj_get(e, "config");
    l->module = kj_str(kj_get(e, "module"));
    const char *name = kj_str(kj_get(e, "name"));
    if (!name) name = kj_str(kj_get(l->cfg, "name"));
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
    const rn_json *tr = kj_get(l->cfg, "trainable");
    if (tr && tr->kind == RN_JSON_BOOL) l->trainable = tr->boolean;
    if (kc_is_model(l->klass)) l->sub = parse_model(im, e, m, l);
    if (!m->sequential) parse_inbound(im, l, kj_get(e, "inbound_nodes"));
    return l;
}

/* Layers of a model by name (open addressing), to resolve references. */
typedef struct LayerMap {
    KLayer **slot;
    size_t cap;
} LayerMap;

static KLayer *map_find(const LayerMap *map, const char *name) {
    for (size_t i = kj_hash(name) & (map->cap - 1); map->slot[i];
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
        size_t s = kj_hash(l->name) & (map->cap - 1);
        while (map->slot[s]) s = (s + 1) & (map->cap - 1);
        map->slot[s] = l;
    }
}

static int by_key(const void *a, const void *b) {
    return strcmp(**(const char *const *const *)a,
                  **(const char *const *const *)b);
}

/* input_layers / output_layers: [[name, node, tensor], ...], Keras 3's
 * single [name, node, tensor], or its {key: [name, node, tensor]} (taken
 * in sorted key order, as Keras flattens a dict). */
static KLayer **model_refs(Imp *im, KModel *m, const LayerMap *map,
                           const rn_json *v, const char *what, int *n) {
    *n = 0;
    const rn_json *list = kj_list(v);
    const rn_json **refs = NULL;
    int count = 0;
    if (list && list->n > 0 && list->items[0]->kind == RN_JSON_STRING) {
        refs = arena_alloc(im->a, sizeof *refs);
        refs[count++] = list;
    } else if (list) {
        refs = arena_alloc(im->a, (size_t)(list->n + 1) * sizeof *refs);
        for (int i = 0; i < list->n; i++) refs[count++] = list->items[i];
    } else if (v && v->kind == RN_JSON_OBJECT) {
        const char ***keys =
            arena_alloc(im->a, (size_t)(v->n + 1) * sizeof *keys);
        for (int i = 0; i < v->n; i++) keys[i] = &v->keys[i];
        qsort(keys, (size_t)v->n, sizeof *keys, by_key);
        refs = arena_alloc(im->a, (size_t)(v->n + 1) * sizeof *refs);
        for (int i = 0; i < v->n; i++)
            refs[count++] = v->items[keys[i] - v->keys];
    } else {
        kerr(im, m->self, "model '%s' has no %s", m->name, what);
        return NULL;
    }
    KLayer **out =
        arena_alloc(im->a, (size_t)(count ? count : 1) * sizeof *out);
    for (int i = 0; i < count; i++) {
        const char *name;
        int64_t tensor;
        if (!ref_list(refs[i], &name, &tensor)) {
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
        out[i] = l;
    }
    *n = count; /* only when every entry is good */
    return out;
}

bool kc_is_input(const KLayer *l) { return !strcmp(l->klass, "InputLayer"); }

/* A Sequential: a chain, after its InputLayer (given, or made from the
 * first layer's batch_input_shape as Keras does: "NAME_input"). */
static void chain_sequential(Imp *im, KModel *m) {
    if (m->n == 0) {
        kerr(im, m->self, "the Sequential model '%s' has no layers", m->name);
        return;
    }
    if (!kc_is_input(m->layers[0])) {
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
    LayerMap map; /* only to find repeated names */
    map_init(im, &map, m);
    for (int i = 1; i < m->n; i++) {
        KLayer *l = m->layers[i];
        if (kc_is_input(l)) {
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
        l->src = arena_alloc(im->a,
                             (size_t)(l->nin ? l->nin : 1) * sizeof *l->src);
        for (int k = 0; k < l->nin; k++) {
            l->src[k] = map_find(&map, l->in[k]);
            if (!l->src[k]) {
                kerr(im, l, "reads layer '%s', which the model does not have",
                     l->in[k]);
                l->nin = 0;
            }
        }
    }
    m->inputs = model_refs(im, m, &map, kj_get(cfg, "input_layers"),
                           "input_layers", &m->nin);
    m->outputs = model_refs(im, m, &map, kj_get(cfg, "output_layers"),
                            "output_layers", &m->nout);
    for (int i = 0; i < m->nin; i++)
        if (!kc_is_input(m->inputs[i]))
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
    const char *k = kj_str(kj_get(entry, "class_name"));
    m->klass = k ? canonical_class(k) : "?";
    m->sequential = !strcmp(m->klass, "Sequential");
    const rn_json *cfg = kj_get(entry, "config");
    m->cfg = cfg;
    const rn_json *layers = cfg && cfg->kind == RN_JSON_ARRAY && m->sequential
                                ? cfg : kj_get(cfg, "layers");
    const char *name = kj_str(kj_get(cfg, "name"));
    m->name = name ? name : self ? self->name : m->sequential ? "sequential"
                                                             : "model";
    const rn_json *tr = kj_get(cfg, "trainable");
    if (tr && tr->kind == RN_JSON_BOOL) m->trainable = tr->boolean;
    if (!kc_is_model(m->klass) || !layers || layers->kind != RN_JSON_ARRAY) {
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
    m->layers =
        arena_alloc(im->a, (size_t)(m->n ? m->n : 1) * sizeof *m->layers);
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
int kc_order(Imp *im, KModel *m, KLayer **order) {
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

KModel *kc_parse(Imp *im, const rn_json *topology) {
    return parse_model(im, topology, NULL, NULL);
}
