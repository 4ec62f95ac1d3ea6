/* import_onnx.c: `rnc --import MODEL.onnx`, the ONNX front of the importer.
 * Reads the protobuf (protobuf-c, compiler/onnx.proto), checks the graph
 * (values defined once, inputs defined, no cycles, initializers decoded
 * with every length checked), names each node's layer after PyTorch's
 * module path, then hands over to onnx_fold.c (shapes, constants) and
 * onnx_map.c (the .rn layers). Reports every problem as
 *   MODEL.onnx: node NAME (OpType): reason
 * and returns NULL when there was any: nothing is written then.
 *
 * Requires: a model as torch.onnx.export writes it (opset 11 to 17, batch
 * 1). Changes: only the ImportModel it returns (in the caller's arena). */
#include "onnx.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_REPORTED = 200, /* error lines printed before "and N more" */
    OPSET_MIN = 11,
    OPSET_MAX = 17,
};

/* ---------------------------------------------------------- messages */

static bool report(Onnx *o) {
    if (o->nerrors++ < MAX_REPORTED) return true;
    return false;
}

void onnx_error(Onnx *o, const char *fmt, ...) {
    if (!report(o)) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(o->errs, "%s: ", o->path);
    vfprintf(o->errs, fmt, ap);
    fputc('\n', o->errs);
    va_end(ap);
}

void onnx_node_error(Onnx *o, const ONode *n, const char *fmt, ...) {
    if (!report(o)) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(o->errs, "%s: node %s (%s): ", o->path, n->label, n->op);
    vfprintf(o->errs, fmt, ap);
    fputc('\n', o->errs);
    va_end(ap);
}

/* A string from the file, made safe to print and to use in names:
 * control characters and non-ASCII bytes become '?', at most 200 long. */
static const char *printable(Arena *a, const char *s) {
    if (!s) return "";
    size_t n = strlen(s);
    if (n > 200) n = 200;
    char *p = arena_strndup(a, s, n);
    for (char *c = p; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) *c = '?';
    return p;
}

/* -------------------------------------------------------- attributes */

enum {
    AT_FLOAT = 1,
    AT_INT = 2,
    AT_STRING = 3,
    AT_TENSOR = 4,
    AT_FLOATS = 6,
    AT_INTS = 7
};

const Onnx__AttributeProto *onnx_attr(const ONode *n, const char *name) {
    for (size_t i = 0; i < n->p->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->p->attribute[i];
        if (a->name && !strcmp(a->name, name)) return a;
    }
    return NULL;
}

static const Onnx__AttributeProto *typed(Onnx *o, const ONode *n,
                                         const char *name, int type) {
    const Onnx__AttributeProto *a = onnx_attr(n, name);
    if (a && a->type != type) {
        onnx_node_error(o, n, "attribute %s has type %d, not %d", name, a->type,
                        type);
        return NULL;
    }
    return a;
}

int64_t attr_int(Onnx *o, const ONode *n, const char *name, int64_t def) {
    const Onnx__AttributeProto *a = typed(o, n, name, AT_INT);
    return a ? a->i : def;
}

double attr_float(Onnx *o, const ONode *n, const char *name, double def) {
    const Onnx__AttributeProto *a = typed(o, n, name, AT_FLOAT);
    return a ? a->f : def;
}

const char *attr_str(Onnx *o, const ONode *n, const char *name,
                     const char *def) {
    const Onnx__AttributeProto *a = typed(o, n, name, AT_STRING);
    if (!a) return def;
    size_t len = a->s.len > 64 ? 64 : a->s.len;
    if (len == 0) return ""; /* data may be NULL then */
    return printable(o->a, arena_strndup(o->a, (const char *)a->s.data, len));
}

int attr_ints(Onnx *o, const ONode *n, const char *name, int64_t *out,
              int max) {
    const Onnx__AttributeProto *a = typed(o, n, name, AT_INTS);
    if (!a) return -1;
    if (a->n_ints > (size_t)max) {
        onnx_node_error(o, n, "attribute %s has %zu values (at most %d)", name,
                        a->n_ints, max);
        return -1;
    }
    for (size_t i = 0; i < a->n_ints; i++) out[i] = a->ints[i];
    return (int)a->n_ints;
}

/* ----------------------------------------------------------- tensors */

enum {
    TT_FLOAT = 1,
    TT_UINT8 = 2,
    TT_INT8 = 3,
    TT_UINT16 = 4,
    TT_INT16 = 5,
    TT_INT32 = 6,
    TT_INT64 = 7,
    TT_BOOL = 9,
    TT_FLOAT16 = 10,
    TT_DOUBLE = 11
};

static uint64_t le_bytes(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static float half_to_float(unsigned h) {
    unsigned sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0    ? m * 0x1p-24
               : e == 31 ? (m ? NAN : INFINITY)
                         : (1024 + m) * 0x1p-25 * (double)(1u << e);
    return (float)(sign ? -v : v);
}

int64_t dims_count(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) return -1;
        if (dims[i] && n > ONNX_MAX_ELEMS / dims[i]) return -1;
        n *= dims[i];
    }
    return n;
}

bool onnx_spend(Onnx *o, const ONode *n, int64_t count) {
    bool was_over = o->spent > o->budget;
    o->spent += count;
    if (o->spent <= o->budget) return true;
    if (!was_over && n)
        onnx_node_error(o, n,
                        "the constants and weights made from the model "
                        "pass %lld values (twice its initializers plus 2^26)",
                        (long long)o->budget);
    return false;
}

Const *const_new(Onnx *o, DType dt, int64_t count) {
    o->spent += count;
    Const *c = arena_alloc(o->a, sizeof *c);
    c->dt = dt;
    c->count = count;
    size_t n = (size_t)(count ? count : 1);
    if (dt == DT_FLOAT)
        c->f = arena_alloc(o->a, n * sizeof *c->f);
    else
        c->i = arena_alloc(o->a, n * sizeof *c->i);
    return c;
}

double const_get(const Const *c, int64_t i) {
    return c->dt == DT_FLOAT ? (double)c->f[i] : (double)c->i[i];
}

bool onnx_tensor(Onnx *o, const Onnx__TensorProto *t, Const **out, int *rank,
                 int64_t *dims, char *err, size_t errlen) {
    if ((t->has_data_location && t->data_location == 1) ||
        t->n_external_data > 0) {
        snprintf(err, errlen,
                 "its data is in an external file, which rnc "
                 "does not read (save the model with its weights inside)");
        return false;
    }
    if (t->n_dims > ONNX_MAX_RANK) {
        snprintf(err, errlen, "rank %zu is over %d", t->n_dims, ONNX_MAX_RANK);
        return false;
    }
    *rank = (int)t->n_dims;
    for (size_t i = 0; i < t->n_dims; i++) dims[i] = t->dims[i];
    int64_t count = dims_count(*rank, dims);
    if (count < 0) {
        snprintf(err, errlen, "its dims are negative or hold over 2^29 values");
        return false;
    }
    int type = t->has_data_type ? t->data_type : 0, size;
    switch (type) {
    case TT_FLOAT:
    case TT_INT32: size = 4; break;
    case TT_INT64:
    case TT_DOUBLE: size = 8; break;
    case TT_UINT16:
    case TT_INT16:
    case TT_FLOAT16: size = 2; break;
    case TT_UINT8:
    case TT_INT8:
    case TT_BOOL: size = 1; break;
    default:
        snprintf(err, errlen, "data type %d is not supported", type);
        return false;
    }
    bool is_float = type == TT_FLOAT || type == TT_DOUBLE || type == TT_FLOAT16;
    /* where the values are: raw bytes, or the typed field of the type */
    size_t typed_n = type == TT_FLOAT    ? t->n_float_data
                     : type == TT_DOUBLE ? t->n_double_data
                     : type == TT_INT64  ? t->n_int64_data
                                         : t->n_int32_data;
    if (t->has_raw_data) {
        if ((uint64_t)t->raw_data.len != (uint64_t)count * (uint64_t)size) {
            snprintf(err, errlen,
                     "raw data of %zu bytes for %lld values of "
                     "%d bytes",
                     t->raw_data.len, (long long)count, size);
            return false;
        }
    } else if (typed_n != (size_t)count) {
        snprintf(err, errlen, "%zu values for dims holding %lld", typed_n,
                 (long long)count);
        return false;
    }
    Const *c = const_new(o, is_float ? DT_FLOAT : DT_INT64, count);
    const uint8_t *raw = t->raw_data.data;
    for (int64_t i = 0; i < count; i++) {
        if (t->has_raw_data) {
            uint64_t v = le_bytes(raw + i * size, size);
            switch (type) {
            case TT_FLOAT: {
                uint32_t u = (uint32_t)v;
                memcpy(&c->f[i], &u, 4);
                break;
            }
            case TT_DOUBLE: {
                double d;
                memcpy(&d, &v, 8);
                c->f[i] = (float)d;
                break;
            }
            case TT_FLOAT16: c->f[i] = half_to_float((unsigned)v); break;
            case TT_INT64: c->i[i] = (int64_t)v; break;
            case TT_INT32: c->i[i] = (int32_t)(uint32_t)v; break;
            case TT_INT16: c->i[i] = (int16_t)(uint16_t)v; break;
            case TT_INT8: c->i[i] = (int8_t)(uint8_t)v; break;
            default: c->i[i] = (int64_t)v; break; /* unsigned, bool */
            }
        } else {
            switch (type) {
            case TT_FLOAT: c->f[i] = t->float_data[i]; break;
            case TT_DOUBLE: c->f[i] = (float)t->double_data[i]; break;
            case TT_FLOAT16:
                c->f[i] = half_to_float((unsigned)t->int32_data[i] & 0xffff);
                break;
            case TT_INT64: c->i[i] = t->int64_data[i]; break;
            default: c->i[i] = t->int32_data[i]; break;
            }
        }
    }
    *out = c;
    return true;
}

/* ------------------------------------------------------------ values */

/* Values by name: open addressing over o->values (grows). */
typedef struct Names {
    OValue **slot;
    size_t cap;
} Names;

static uint64_t hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

static OValue **lookup(Names *t, const char *name) {
    size_t i = (size_t)hash(name) & (t->cap - 1);
    while (t->slot[i] && strcmp(t->slot[i]->name, name))
        i = (i + 1) & (t->cap - 1);
    return &t->slot[i];
}

OValue *onnx_new_value(Onnx *o, const char *name) {
    OValue *v = arena_alloc(o->a, sizeof *v);
    v->name = name;
    v->producer = -1;
    v->rank = -1;
    o->values[o->nvalues++] = v;
    return v;
}

/* ------------------------------------------------------------- names */

enum { MAX_SCOPED = 1000 }; /* longer node names are taken as unscoped */

/* PyTorch's module path from a scoped node name:
 * "/layer2/layer2.0/downsample/downsample.0/Conv" -> the components before
 * the op, each replacing the previous one when it starts with it plus "."
 * (a child of a Sequential) and appended with "." otherwise:
 * "layer2.0.downsample.0". "" for a name without scopes. */
static const char *module_path(Arena *a, const char *name) {
    if (name[0] != '/' || strlen(name) > MAX_SCOPED) return "";
    const char *last = strrchr(name, '/');
    Buf b = {0};
    size_t prev_at = 0, prev_len = 0; /* the last component in b */
    for (const char *c = name + 1; c < last;) {
        const char *e = strchr(c, '/');
        size_t n = (size_t)(e - c);
        if (n == 0) {
            c = e + 1;
            continue;
        }
        if (prev_len && n > prev_len && c[prev_len] == '.' &&
            !strncmp(c, b.data + prev_at, prev_len)) {
            b.len = prev_at; /* replace the previous component */
        } else if (b.len) {
            buf_append(&b, ".", 1);
        }
        prev_at = b.len;
        buf_append(&b, c, n);
        prev_len = n;
        c = e + 1;
    }
    const char *s = b.len ? arena_strndup(a, b.data, b.len) : "";
    buf_free(&b);
    return s;
}

/* The scope part of a node name ("/layer1/layer1.0" of
 * "/layer1/layer1.0/Add", "" of "/Add"), or NULL when the name is not
 * scoped (or past MAX_SCOPED long: a hostile name must not cost time
 * quadratic in its length). */
static char *scope_of(Arena *a, const char *name) {
    const char *last = strrchr(name, '/');
    if (name[0] != '/' || strlen(name) > MAX_SCOPED) return NULL;
    return arena_strndup(a, name, (size_t)(last - name));
}

/* Does the node only move or relabel values (no computation)? */
static bool is_view(const ONode *n) {
    static const char *const ops[] = {"Identity",  "Dropout", "Cast",
                                      "Transpose", "Squeeze", "Unsqueeze",
                                      "Reshape",   "Flatten", NULL};
    for (int i = 0; ops[i]; i++)
        if (!strcmp(n->op, ops[i])) return true;
    return false;
}

/* An open-addressing table of scope strings, cap a power of two. */
typedef struct Scopes {
    const char **key;
    int *owner, *last; /* per leaf scope: its owning node, its last node */
    size_t cap, used;
} Scopes;

/* Finds s (adds it when `add`) and its slot in *at; false when it is not
 * there (or the table is full). */
static bool scope_slot(Scopes *t, const char *s, bool add, size_t *at) {
    size_t k = (size_t)hash(s) & (t->cap - 1);
    while (t->key[k] && strcmp(t->key[k], s)) k = (k + 1) & (t->cap - 1);
    if (!t->key[k] && (!add || t->used >= t->cap / 2)) return false;
    if (!t->key[k]) {
        t->key[k] = s;
        t->owner[k] = t->last[k] = -1;
        t->used++;
    }
    *at = k;
    return true;
}

/* Layer names. A node alone in its innermost module (a leaf such as
 * conv1, relu_1) takes the module path. A leaf module of several nodes
 * (LayerNorm, GELU, SiLU as their patterns; Pad and AveragePool; MatMul
 * and Add) gives its name to the node that computes its value: its last
 * node (in order) with a value of its own at run time (not a view, not a
 * constant); its other nodes are named like those of a module that holds
 * others: the path plus their own op component lower-cased
 * ("layer1.0.add", "add_1" at the top). A node without scopes keeps its
 * node name. Runs after onnx_infer, which finds the constants. */
void onnx_name_layers(Onnx *o) {
    Scopes inner = {0}, leaf = {0}; /* scopes that hold others; leaves */
    inner.cap = leaf.cap = 64;
    while (inner.cap < 4 * (size_t)o->nnodes) inner.cap *= 2;
    leaf.cap = inner.cap;
    for (Scopes *t = &inner; t; t = t == &inner ? &leaf : NULL) {
        t->key = arena_alloc(o->a, t->cap * sizeof *t->key);
        t->owner = arena_alloc(o->a, t->cap * sizeof *t->owner);
        t->last = arena_alloc(o->a, t->cap * sizeof *t->last);
    }
    size_t at;
    for (int i = 0; i < o->nnodes; i++) {
        ONode *n = &o->nodes[i];
        if (!n->live) continue;
        char *s = scope_of(o->a, n->p->name ? n->p->name : "");
        /* every proper prefix of a scope holds another module */
        for (char *c = s ? strrchr(s, '/') : NULL; c && c > s;
             c = strrchr(s, '/')) {
            *c = 0;
            scope_slot(&inner, arena_strdup(o->a, s), true, &at);
        }
    }
    for (int j = 0; j < o->nnodes; j++) {
        ONode *n = &o->nodes[o->order[j]];
        const char *s =
            n->live ? scope_of(o->a, n->p->name ? n->p->name : "") : NULL;
        if (!s || !*s || scope_slot(&inner, s, false, &at)) continue;
        if (!scope_slot(&leaf, s, true, &at)) continue;
        leaf.last[at] = n->index;
        if (!is_view(n) && n->nout && n->out[0] && !n->out[0]->c)
            leaf.owner[at] = n->index;
    }
    for (int i = 0; i < o->nnodes; i++) {
        ONode *n = &o->nodes[i];
        if (!n->live) continue;
        const char *full = n->p->name ? n->p->name : "";
        char *s = scope_of(o->a, full);
        n->scope = printable(o->a, module_path(o->a, full));
        if (!s) {
            n->name = *full ? printable(o->a, full) : n->op;
            continue;
        }
        if (*n->scope && scope_slot(&leaf, s, false, &at) &&
            (leaf.owner[at] >= 0 ? leaf.owner[at] : leaf.last[at]) == i) {
            n->name = n->scope;
            n->owner = true;
            continue;
        }
        char *opc = arena_strdup(o->a, strrchr(full, '/') + 1);
        for (char *c = opc; *c; c++)
            if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        if (!*opc) opc = arena_strdup(o->a, n->op);
        n->name = *n->scope ? arena_printf(o->a, "%s.%s", n->scope,
                                           printable(o->a, opc))
                            : printable(o->a, opc);
    }
}

/* ------------------------------------------------------------- graph */

/* Values, nodes and their links; false on a problem that leaves no
 * graph to look at. */
static bool build_graph(Onnx *o, const Onnx__GraphProto *g) {
    size_t nv = g->n_initializer + g->n_input;
    for (size_t i = 0; i < g->n_node && nv <= 4 * (size_t)ONNX_MAX_NODES; i++)
        nv += g->node[i]->n_output;
    if (g->n_node > ONNX_MAX_NODES || nv > 4 * (size_t)ONNX_MAX_NODES) {
        onnx_error(o,
                   "the graph has %zu nodes and %zu values or more; rnc "
                   "reads at most %d nodes",
                   g->n_node, nv, ONNX_MAX_NODES);
        return false;
    }
    o->values = arena_alloc(o->a, (nv + 1) * sizeof *o->values);
    Names t = {0};
    t.cap = 64;
    while (t.cap < 2 * nv + 2) t.cap *= 2;
    t.slot = arena_alloc(o->a, t.cap * sizeof *t.slot);
    char err[256];

    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *tp = g->initializer[i];
        const char *name = tp->name ? tp->name : "";
        OValue **s = lookup(&t, name);
        if (*s) {
            onnx_error(o, "initializer '%s' is given twice",
                       printable(o->a, name));
            continue;
        }
        OValue *v = onnx_new_value(o, name);
        if (!onnx_tensor(o, tp, &v->c, &v->rank, v->dims, err, sizeof err)) {
            onnx_error(o, "initializer '%s': %s", printable(o->a, name), err);
            v->rank = -1;
        }
        if (v->c) {
            v->dt = v->c->dt;
            o->budget += 2 * v->c->count;
        }
        *s = v;
    }
    o->budget += ONNX_BUDGET_BASE;
    o->spent = 0;
    o->inputs = arena_alloc(o->a, (g->n_input + 1) * sizeof *o->inputs);
    for (size_t i = 0; i < g->n_input; i++) {
        const char *name = g->input[i]->name ? g->input[i]->name : "";
        OValue **s = lookup(&t, name);
        if (*s && (*s)->producer == -1 && (*s)->c)
            continue; /* an initializer */
        if (*s) {
            onnx_error(o, "input '%s' is given twice", printable(o->a, name));
            continue;
        }
        *s = onnx_new_value(o, name);
        o->inputs[o->ninputs++] = *s;
    }
    o->nodes = arena_alloc(o->a, (g->n_node + 1) * sizeof *o->nodes);
    o->nnodes = (int)g->n_node;
    for (int i = 0; i < o->nnodes; i++) {
        ONode *n = &o->nodes[i];
        const Onnx__NodeProto *p = g->node[i];
        n->index = i;
        n->p = p;
        n->pattern = -1;
        n->op = printable(o->a, p->op_type ? p->op_type : "");
        n->label = p->name && *p->name ? printable(o->a, p->name)
                                       : arena_printf(o->a, "#%d", i);
        n->nout = (int)p->n_output;
        n->out = arena_alloc(o->a, (p->n_output + 1) * sizeof *n->out);
        for (size_t k = 0; k < p->n_output; k++) {
            const char *name = p->output[k];
            if (!*name) continue; /* an optional output left out */
            OValue **s = lookup(&t, name);
            if (*s) {
                onnx_node_error(o, n, "output '%s' is already defined",
                                printable(o->a, name));
                continue;
            }
            *s = onnx_new_value(o, name);
            (*s)->producer = i;
            n->out[k] = *s;
        }
    }
    for (int i = 0; i < o->nnodes; i++) {
        ONode *n = &o->nodes[i];
        const Onnx__NodeProto *p = n->p;
        n->nin = (int)p->n_input;
        n->in = arena_alloc(o->a, (p->n_input + 1) * sizeof *n->in);
        for (size_t k = 0; k < p->n_input; k++) {
            if (!*p->input[k]) continue;
            OValue *v = *lookup(&t, p->input[k]);
            if (!v)
                onnx_node_error(o, n,
                                "input '%s' is not defined (a missing "
                                "initializer?)",
                                printable(o->a, p->input[k]));
            n->in[k] = v;
            if (v) v->nuses++;
        }
    }
    for (int i = 0; i < o->nvalues; i++) {
        OValue *v = o->values[i];
        v->uses = arena_alloc(o->a, (size_t)(v->nuses + 1) * sizeof *v->uses);
        v->nuses = 0;
    }
    for (int i = 0; i < o->nnodes; i++)
        for (int k = 0; k < o->nodes[i].nin; k++)
            if (o->nodes[i].in[k])
                o->nodes[i].in[k]->uses[o->nodes[i].in[k]->nuses++] = i;
    o->outputs = arena_alloc(o->a, (g->n_output + 1) * sizeof *o->outputs);
    for (size_t i = 0; i < g->n_output; i++) {
        const char *name = g->output[i]->name ? g->output[i]->name : "";
        OValue *v = *lookup(&t, name);
        if (!v) {
            onnx_error(o, "output '%s' is not defined", printable(o->a, name));
            continue;
        }
        v->is_output = true;
        o->outputs[o->noutputs++] = v;
    }
    if (o->noutputs == 0 && o->nerrors == 0)
        onnx_error(o, "the graph has no output");
    return o->nerrors == 0;
}

/* A topological order of the nodes (Kahn); the nodes on a cycle are
 * reported. */
static bool sort_nodes(Onnx *o) {
    int *pending = arena_alloc(o->a, (size_t)(o->nnodes + 1) * sizeof *pending);
    o->order = arena_alloc(o->a, (size_t)(o->nnodes + 1) * sizeof *o->order);
    int head = 0, tail = 0;
    for (int i = 0; i < o->nnodes; i++) {
        for (int k = 0; k < o->nodes[i].nin; k++) {
            OValue *v = o->nodes[i].in[k];
            pending[i] += v && v->producer >= 0;
        }
        if (!pending[i]) o->order[tail++] = i;
    }
    while (head < tail) {
        ONode *n = &o->nodes[o->order[head++]];
        for (int k = 0; k < n->nout; k++) {
            OValue *v = n->out[k];
            for (int u = 0; v && u < v->nuses; u++)
                if (--pending[v->uses[u]] == 0) o->order[tail++] = v->uses[u];
        }
    }
    if (tail == o->nnodes) return true;
    /* Left are the cycles and what they feed: peel off, from the far
     * end, every node none of whose outputs reaches another one left. */
    int *feeds = arena_alloc(o->a, (size_t)(o->nnodes + 1) * sizeof *feeds);
    head = tail = 0;
    for (int i = 0; i < o->nnodes; i++) {
        if (!pending[i]) continue;
        for (int k = 0; k < o->nodes[i].nout; k++) {
            OValue *v = o->nodes[i].out[k];
            for (int u = 0; v && u < v->nuses; u++)
                feeds[i] += pending[v->uses[u]] > 0;
        }
        if (!feeds[i]) o->order[tail++] = i;
    }
    while (head < tail) {
        ONode *n = &o->nodes[o->order[head++]];
        pending[n->index] = 0;
        for (int k = 0; k < n->nin; k++) {
            OValue *v = n->in[k];
            if (v && v->producer >= 0 && pending[v->producer] &&
                --feeds[v->producer] == 0)
                o->order[tail++] = v->producer;
        }
    }
    for (int i = 0; i < o->nnodes; i++)
        if (pending[i])
            onnx_node_error(o, &o->nodes[i],
                            "is on a cycle (its inputs "
                            "depend on its own output)");
    return false;
}

/* Marks the nodes that feed a graph output. */
static void mark_live(Onnx *o) {
    for (int i = 0; i < o->noutputs; i++)
        if (o->outputs[i]->producer >= 0)
            o->nodes[o->outputs[i]->producer].live = true;
    for (int j = o->nnodes - 1; j >= 0; j--) {
        ONode *n = &o->nodes[o->order[j]];
        if (!n->live) continue;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] && n->in[k]->producer >= 0)
                o->nodes[n->in[k]->producer].live = true;
    }
}

/* The default opset's version; 0 when the model names none. */
static int64_t opset_of(const Onnx__ModelProto *m) {
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = m->opset_import[i]->domain;
        if (!d || !*d || !strcmp(d, "ai.onnx"))
            return m->opset_import[i]->version;
    }
    return 0;
}

static const char *base_name(const char *path) {
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

bool import_is_onnx(const char *path) {
    size_t n = strlen(path);
    if (n > 5 && !strcmp(path + n - 5, ".onnx")) return true;
    /* or what torch.onnx.export writes first: ir_version (field 1, a
     * small varint), then another ModelProto field */
    unsigned char b[3] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(b, 1, 3, f) : 0;
    if (f) fclose(f);
    return got == 3 && b[0] == 0x08 && b[1] < 0x80 &&
           (b[2] == 0x12 || b[2] == 0x1a || b[2] == 0x3a || b[2] == 0x42);
}

ImportModel *import_onnx(const char *path, const void *data, size_t len,
                         const char *model_name, const ImportOptions *opt,
                         Arena *a, FILE *errs) {
    Onnx *o = arena_alloc(a, sizeof *o);
    o->a = a;
    o->path = path;
    o->errs = errs;
    o->opt = opt;
    Onnx__ModelProto *mp = NULL;
    if (len > ONNX_MAX_FILE) {
        onnx_error(o, "the file is over 2 GiB, protobuf's limit");
    } else if (!(mp = onnx__model_proto__unpack(NULL, len, data))) {
        onnx_error(o, "not an ONNX model: the protobuf is damaged or "
                      "truncated");
    } else if (!mp->graph) {
        onnx_error(o, "the model has no graph");
    } else {
        o->model = mp;
        o->opset = opset_of(mp);
        if (o->opset < OPSET_MIN || o->opset > OPSET_MAX)
            onnx_error(o,
                       "opset %lld: rnc reads opset %d to %d (export with "
                       "torch.onnx.export(..., opset_version=%d))",
                       (long long)o->opset, OPSET_MIN, OPSET_MAX, OPSET_MAX);
        else if (build_graph(o, mp->graph) && sort_nodes(o)) {
            mark_live(o);
            o->m = import_new(a, model_name);
            const char *who = printable(a, mp->producer_name);
            const char *ver = printable(a, mp->producer_version);
            import_comment(o->m,
                           "Imported by rnc from %s (ONNX opset %lld, "
                           "producer %s%s%s).",
                           printable(a, base_name(path)), (long long)o->opset,
                           *who ? who : "unnamed", *ver ? " " : "", ver);
            onnx_infer(o);
            if (o->nerrors == 0) {
                onnx_name_layers(o);
                onnx_map(o);
            }
        }
    }
    if (mp) onnx__model_proto__free_unpacked(mp, NULL);
    if (o->nerrors > MAX_REPORTED)
        fprintf(errs, "%s: ... and %d more\n", path, o->nerrors - MAX_REPORTED);
    if (o->nerrors) {
        fprintf(errs, "rnc: error: %s: %d problem%s; nothing written\n", path,
                o->nerrors, o->nerrors == 1 ? "" : "s");
        return NULL;
    }
    return o->m;
}

ImportModel *import_onnx_file(const char *path, const char *model_name,
                              const ImportOptions *opt, Arena *a, FILE *errs) {
    size_t len;
    char *data = read_file_max(path, ONNX_MAX_FILE, &len);
    if (!data) {
        fprintf(errs, "rnc: error: %s: %s\n", path,
                errno == EFBIG ? "file too large (over 2 GiB)"
                               : strerror(errno));
        return NULL;
    }
    ImportModel *m = import_onnx(path, data, len, model_name, opt, a, errs);
    free(data);
    return m;
}
