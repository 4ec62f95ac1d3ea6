/* onnx_map.c: the ONNX graph as .rn layers. First the patterns that the
 * language has one op for are recognised structurally (operands,
 * constants, single consumers; never names): x*sigmoid(x) -> silu,
 * x*HardSigmoid(x) -> hard_swish, the erf and tanh forms of GELU, the
 * decomposed LayerNorm, ShuffleNet's Reshape-Transpose-Reshape. Then each
 * live node becomes layers, in order: NCHW values become NHWC .rn tensors
 * (Layout says which ONNX axis is which .rn axis, so Transpose, Squeeze,
 * Unsqueeze and size-1 reshapes only move that map), weights are
 * transposed to Keras's layouts, and a flatten of [C, H, W] before a dense
 * permutes the dense kernel's rows so PyTorch's order is kept.
 *
 * Requires: onnx_infer without errors. Changes: the values' Layouts, the
 * nodes' pattern/done marks, the ImportModel. */
#include "onnx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- patterns */

typedef enum {
    PAT_SILU,
    PAT_HARD_SWISH,
    PAT_GELU,
    PAT_GELU_TANH,
    PAT_LAYERNORM,
    PAT_SHUFFLE,
} PatKind;

enum { MAX_TNODES = 10, MAX_PATTERNS_NODE = 4 };

typedef struct Pattern {
    PatKind kind;
    OValue *x;           /* its input */
    ONode *first, *root; /* the layer is named after first; root's output
                            is the result */
    ONode *nodes[MAX_TNODES];
    int nnodes;
    double eps;          /* layernorm */
    const Const *gamma, *beta;
    int groups;          /* shuffle */
} Pattern;

/* A node of a template: op and two operands, each the input X, the
 * output of an earlier template node (0, 1, ...), a scalar constant near
 * k, any scalar constant, or any constant (captured). */
enum { OP_X = -1, OP_K = -2, OP_ANYK = -3, OP_VEC = -4, OP_NONE = -5 };
typedef struct TNode {
    const char *op;
    int a, b;
    double ka, kb;
} TNode;

#define SQRT2 1.4142135623730951
#define SQRT_2_PI 0.7978845608028654

static const TNode t_silu[] = {{"Sigmoid", OP_X, OP_NONE, 0, 0},
                               {"Mul", OP_X, 0, 0, 0}};
static const TNode t_hswish[] = {{"HardSigmoid", OP_X, OP_NONE, 0, 0},
                                 {"Mul", OP_X, 0, 0, 0}};
/* 0.5 * x * (1 + erf(x / sqrt 2)), the 0.5 applied last or first */
static const TNode t_gelu_a[] = {{"Div", OP_X, OP_K, 0, SQRT2},
                                 {"Erf", 0, OP_NONE, 0, 0},
                                 {"Add", 1, OP_K, 0, 1},
                                 {"Mul", OP_X, 2, 0, 0},
                                 {"Mul", 3, OP_K, 0, 0.5}};
static const TNode t_gelu_b[] = {{"Div", OP_X, OP_K, 0, SQRT2},
                                 {"Erf", 0, OP_NONE, 0, 0},
                                 {"Add", 1, OP_K, 0, 1},
                                 {"Mul", OP_X, OP_K, 0, 0.5},
                                 {"Mul", 3, 2, 0, 0}};
static const TNode t_gelu_c[] = {{"Mul", OP_X, OP_K, 0, 1 / SQRT2},
                                 {"Erf", 0, OP_NONE, 0, 0},
                                 {"Add", 1, OP_K, 0, 1},
                                 {"Mul", OP_X, 2, 0, 0},
                                 {"Mul", 3, OP_K, 0, 0.5}};
/* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) as PyTorch writes it */
static const TNode t_gelu_tanh[] = {{"Mul", OP_X, OP_X, 0, 0},
                                    {"Mul", OP_X, 0, 0, 0},
                                    {"Mul", 1, OP_K, 0, 0.044715},
                                    {"Add", OP_X, 2, 0, 0},
                                    {"Mul", 3, OP_K, 0, SQRT_2_PI},
                                    {"Tanh", 4, OP_NONE, 0, 0},
                                    {"Add", 5, OP_K, 0, 1},
                                    {"Mul", OP_X, 6, 0, 0},
                                    {"Mul", 7, OP_K, 0, 0.5}};
/* (x - mean) / sqrt(var + eps) * gamma + beta over the last axis */
static const TNode t_layernorm[] = {{"ReduceMean", OP_X, OP_NONE, 0, 0},
                                    {"Sub", OP_X, 0, 0, 0},
                                    {"Pow", 1, OP_K, 0, 2},
                                    {"ReduceMean", 2, OP_NONE, 0, 0},
                                    {"Add", 3, OP_ANYK, 0, 0},
                                    {"Sqrt", 4, OP_NONE, 0, 0},
                                    {"Div", 1, 5, 0, 0},
                                    {"Mul", 6, OP_VEC, 0, 0},
                                    {"Add", 7, OP_VEC, 0, 0}};

typedef struct Template {
    PatKind kind;
    const TNode *t;
    int n;
} Template;

/* Longer forms first: a LayerNorm with its affine part before one
 * without. */
static const Template templates[] = {
    {PAT_GELU_TANH, t_gelu_tanh, 9},
    {PAT_LAYERNORM, t_layernorm, 9},
    {PAT_LAYERNORM, t_layernorm, 7},
    {PAT_GELU, t_gelu_a, 5},
    {PAT_GELU, t_gelu_b, 5},
    {PAT_GELU, t_gelu_c, 5},
    {PAT_SILU, t_silu, 2},
    {PAT_HARD_SWISH, t_hswish, 2},
};
enum { NTEMPLATES = sizeof templates / sizeof templates[0] };

typedef struct MapState {
    Onnx *o;
    Pattern *pats;
    int npats, cap;
} MapState;

static bool near(double v, double k) {
    return fabs(v - k) <= 1e-6 * fabs(k) + 1e-7;
}

static bool scalar_const(const OValue *v, double *out) {
    if (!v || !v->c || v->c->count != 1) return false;
    *out = const_get(v->c, 0);
    return true;
}

/* Does operand `want` of a template node accept value v? */
static bool operand_ok(int want, double k, const OValue *v, const OValue *x,
                       ONode *const *bound, const Const **cap) {
    double c;
    switch (want) {
    case OP_X: return v == x;
    case OP_K: return scalar_const(v, &c) && near(c, k);
    case OP_ANYK:
        if (!scalar_const(v, &c)) return false;
        *cap = v->c;
        return true;
    case OP_VEC:
        if (!v || !v->c) return false;
        *cap = v->c;
        return true;
    case OP_NONE: return v == NULL;
    default: return v && v == bound[want]->out[0];
    }
}

static bool node_free(const ONode *u) {
    return u->live && !u->done && u->pattern < 0 && u->out[0] &&
           u->out[0]->rank >= 0 && !u->out[0]->c;
}

/* Binds template t at input x (greedy: each template node takes the first
 * free consumer that fits; commutative ops try both operand orders).
 * Inner nodes must feed nothing outside the match. */
static bool match(Onnx *o, const Template *tp, OValue *x, ONode **bound,
                  const Const **caps) {
    for (int i = 0; i < tp->n; i++) {
        const TNode *t = &tp->t[i];
        const OValue *anchor = t->a == OP_X || t->b == OP_X ? x
                             : bound[t->a >= 0 ? t->a : t->b]->out[0];
        bool comm = !strcmp(t->op, "Mul") || !strcmp(t->op, "Add");
        bound[i] = NULL;
        for (int u = 0; u < anchor->nuses && !bound[i]; u++) {
            ONode *c = &o->nodes[anchor->uses[u]];
            bool taken = false;
            for (int j = 0; j < i; j++) taken |= bound[j] == c;
            if (taken || !node_free(c) || strcmp(c->op, t->op)) continue;
            OValue *p = c->nin > 0 ? c->in[0] : NULL;
            OValue *q = c->nin > 1 ? c->in[1] : NULL;
            const Const *ca = NULL, *cb = NULL;
            if (operand_ok(t->a, t->ka, p, x, bound, &ca) &&
                operand_ok(t->b, t->kb, q, x, bound, &cb)) {
                bound[i] = c;
            } else if (comm && operand_ok(t->a, t->ka, q, x, bound, &ca) &&
                       operand_ok(t->b, t->kb, p, x, bound, &cb)) {
                bound[i] = c;
            }
            if (bound[i]) caps[i] = ca ? ca : cb;
        }
        if (!bound[i]) return false;
    }
    for (int i = 0; i + 1 < tp->n; i++) {
        const OValue *v = bound[i]->out[0];
        if (v->is_output) return false;
        for (int u = 0; u < v->nuses; u++) {
            bool inside = false;
            for (int j = 0; j < tp->n; j++)
                inside |= &o->nodes[v->uses[u]] == bound[j];
            if (!inside) return false;
        }
    }
    return true;
}

/* A reduction over the last axis alone, kept (LayerNorm's means). */
static bool last_axis_mean(const ONode *n) {
    return n->a.keep && n->a.naxes == 1 && n->a.axes[0] == n->in[0]->rank - 1;
}

/* A constant that broadcasts along the last axis of a rank-r value with
 * c channels: [c], [1, c], ... */
static bool channel_vector(const OValue *v, int r, int64_t c) {
    if (!v->c || v->c->count != c || v->rank > r) return false;
    for (int i = 0; i + 1 < v->rank; i++)
        if (v->dims[i] != 1) return false;
    return v->rank >= 1 && v->dims[v->rank - 1] == c;
}

static Pattern *add_pattern(MapState *s) {
    if (s->npats == s->cap) {
        int cap = s->cap ? 2 * s->cap : 32;
        Pattern *p = arena_alloc(s->o->a, (size_t)cap * sizeof *p);
        if (s->npats) memcpy(p, s->pats, (size_t)s->npats * sizeof *p);
        s->pats = p;
        s->cap = cap;
    }
    Pattern *p = &s->pats[s->npats++];
    memset(p, 0, sizeof *p);
    return p;
}

static void claim(MapState *s, Pattern *p) {
    for (int i = 0; i < p->nnodes; i++) p->nodes[i]->pattern = s->npats - 1;
    p->first = p->nodes[0];
    p->root = p->nodes[p->nnodes - 1];
}

static void find_templates(MapState *s, OValue *x) {
    Onnx *o = s->o;
    for (int t = 0; t < NTEMPLATES; t++) {
        const Template *tp = &templates[t];
        ONode *bound[MAX_TNODES];
        const Const *caps[MAX_TNODES] = {NULL};
        if (!match(o, tp, x, bound, caps)) continue;
        if (tp->kind == PAT_HARD_SWISH &&
            !(near(bound[0]->a.alpha, 1.0 / 6) && near(bound[0]->a.beta, 0.5)))
            continue;
        int64_t c = x->rank > 0 ? x->dims[x->rank - 1] : 0;
        if (tp->kind == PAT_LAYERNORM &&
            (!last_axis_mean(bound[0]) || !last_axis_mean(bound[3]) ||
             (tp->n == 9 && (!channel_vector(bound[7]->in[0] == bound[6]->out[0]
                                                 ? bound[7]->in[1] : bound[7]->in[0],
                                             x->rank, c) ||
                             !channel_vector(bound[8]->in[0] == bound[7]->out[0]
                                                 ? bound[8]->in[1] : bound[8]->in[0],
                                             x->rank, c)))))
            continue;
        Pattern *p = add_pattern(s);
        p->kind = tp->kind;
        p->x = x;
        p->nnodes = tp->n;
        for (int i = 0; i < tp->n; i++) p->nodes[i] = bound[i];
        if (tp->kind == PAT_LAYERNORM) {
            p->eps = const_get(caps[4], 0);
            p->gamma = tp->n == 9 ? caps[7] : NULL;
            p->beta = tp->n == 9 ? caps[8] : NULL;
        }
        claim(s, p);
        return;
    }
}

/* ShuffleNet's channel shuffle: Reshape [1, C, H, W] -> [1, g, C/g, H, W],
 * Transpose (0, 2, 1, 3, 4), Reshape back to [1, C, H, W]. */
static void find_shuffle(MapState *s, ONode *r1) {
    Onnx *o = s->o;
    OValue *x = r1->in[0], *y = r1->out[0];
    if (strcmp(r1->op, "Reshape") || !node_free(r1) || x->rank != 4 ||
        y->rank != 5 || y->dims[0] != 1 || y->dims[1] * y->dims[2] != x->dims[1] ||
        y->dims[3] != x->dims[2] || y->dims[4] != x->dims[3] ||
        y->nuses != 1 || y->is_output)
        return;
    ONode *t = &o->nodes[y->uses[0]];
    static const int perm[5] = {0, 2, 1, 3, 4};
    if (strcmp(t->op, "Transpose") || !node_free(t) ||
        memcmp(t->a.perm, perm, sizeof perm) || t->out[0]->nuses != 1 ||
        t->out[0]->is_output)
        return;
    ONode *r2 = &o->nodes[t->out[0]->uses[0]];
    OValue *z = r2->out[0];
    if (strcmp(r2->op, "Reshape") || !node_free(r2) || z->rank != 4 ||
        memcmp(z->dims, x->dims, 4 * sizeof *z->dims))
        return;
    Pattern *p = add_pattern(s);
    p->kind = PAT_SHUFFLE;
    p->x = x;
    p->groups = (int)y->dims[1];
    p->nnodes = 3;
    p->nodes[0] = r1;
    p->nodes[1] = t;
    p->nodes[2] = r2;
    claim(s, p);
}

static void find_patterns(MapState *s) {
    Onnx *o = s->o;
    for (int i = 0; i < o->ninputs; i++)
        if (o->inputs[i]->rank >= 0) find_templates(s, o->inputs[i]);
    for (int j = 0; j < o->nnodes; j++) {
        ONode *n = &o->nodes[o->order[j]];
        if (!n->live || !n->out[0] || n->out[0]->rank < 0 || n->out[0]->c)
            continue;
        find_shuffle(s, n);
        for (int k = 0; k < n->nout; k++)
            if (n->out[k]) find_templates(s, n->out[k]);
    }
}

/* ------------------------------------------------------------ layouts */

static Layout *layout(Onnx *o, const char *var, Shape s) {
    Layout *l = arena_alloc(o->a, sizeof *l);
    l->var = var;
    l->shape = s;
    for (int i = 0; i < ONNX_MAX_RANK; i++) l->axis[i] = -1;
    return l;
}

/* ONNX [1, C, H, W] as .rn [H, W, C]. */
static Layout *image_layout(Onnx *o, const char *var, const OValue *v) {
    Layout *l = layout(o, var, (Shape){3, {v->dims[2], v->dims[3], v->dims[1]}});
    l->axis[1] = 2;
    l->axis[2] = 0;
    l->axis[3] = 1;
    return l;
}

/* ONNX [1, N] as .rn [N]. */
static Layout *flat_layout(Onnx *o, const char *var, const OValue *v) {
    Layout *l = layout(o, var, (Shape){1, {v->dims[v->rank - 1]}});
    l->axis[v->rank - 1] = 0;
    return l;
}

/* Is ONNX axis k of v .rn axis want (or a size-1 axis where the .rn has
 * size 1 too)? */
static bool axis_is(const OValue *v, int k, int want) {
    const Layout *l = v->lay;
    return l->axis[k] == want ||
           (l->axis[k] < 0 && v->dims[k] == 1 && want < l->shape.rank &&
            l->shape.d[want] == 1);
}

static bool is_image(const OValue *v) {
    return v->lay && v->rank == 4 && v->lay->shape.rank == 3 &&
           v->dims[0] == 1 && v->lay->axis[0] < 0 && axis_is(v, 1, 2) &&
           axis_is(v, 2, 0) && axis_is(v, 3, 1);
}

/* Is ONNX axis k of v the .rn channel (last) axis? */
static bool is_channel_axis(const OValue *v, int k) {
    return v->lay && axis_is(v, k, v->lay->shape.rank - 1);
}

static const char *emit(Onnx *o, const ONode *n, const char *op,
                        const char *const *in, int nin, const char *args) {
    return import_layer(o->m, op, n->name, in, nin, args);
}

static const char *emit1(Onnx *o, const ONode *n, const char *op,
                         const char *x, const char *args) {
    return emit(o, n, op, &x, 1, args);
}

static void weight(Onnx *o, const char *suffix, int rank, const int64_t *dims,
                   const float *data) {
    import_weight(o->m, suffix, rank, dims, data);
}

/* A copy of v's layout under a new variable (or the same). */
static Layout *relabel(Onnx *o, const OValue *v, const char *var) {
    Layout *l = arena_alloc(o->a, sizeof *l);
    *l = *v->lay;
    l->var = var;
    return l;
}

/* The .rn variable of an NCHW value an image op reads; a [1, C, 1, 1]
 * held flat is reshaped to [1, 1, C] first. NULL after an error. */
static const char *image_var(Onnx *o, ONode *n, OValue *v) {
    if (is_image(v)) return v->lay->var;
    if (v->rank == 4 && v->lay && v->lay->shape.rank == 1 && v->dims[0] == 1 &&
        v->dims[2] == 1 && v->dims[3] == 1 && v->lay->shape.d[0] == v->dims[1]) {
        const char *r = import_layer(o->m, "reshape",
                                     arena_printf(o->a, "%s.reshape", n->name),
                                     &v->lay->var, 1,
                                     arena_printf(o->a, "[1, 1, %lld]",
                                                  (long long)v->dims[1]));
        v->lay = image_layout(o, r, v);
        return r;
    }
    onnx_node_error(o, n, "reads a tensor that is not an NCHW image in rnc's "
                    "layout (after a Transpose or Reshape rnc cannot follow)");
    return NULL;
}

/* ------------------------------------------------------------ numbers */

/* The shortest decimal that reads back as the same float32 (ONNX's
 * attributes are float32): 1e-05 rather than 9.99999975e-06. */
static const char *fnum(Onnx *o, double v) {
    char buf[40];
    float f = (float)v;
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)f);
        if ((float)strtod(buf, NULL) == f) break;
    }
    return arena_strdup(o->a, buf);
}

/* "3" or "[3, 1]" */
static const char *pair(Onnx *o, int a, int b) {
    return a == b ? arena_printf(o->a, "%d", a)
                  : arena_printf(o->a, "[%d, %d]", a, b);
}

/* padding=... of t, b, l, r; "" when none */
static const char *pad_arg(Onnx *o, const int *p) {
    if (!p[0] && !p[1] && !p[2] && !p[3]) return "";
    if (p[0] == p[1] && p[2] == p[3])
        return arena_printf(o->a, ", padding=%s", pair(o, p[0], p[2]));
    return arena_printf(o->a, ", padding=[%d, %d, %d, %d]", p[0], p[1], p[2],
                        p[3]);
}

static const char *window_args(Onnx *o, const Attrs *a, bool pool) {
    const char *s = "";
    if (pool ? a->s[0] != a->k[0] || a->s[1] != a->k[1]
             : a->s[0] != 1 || a->s[1] != 1)
        s = arena_printf(o->a, ", stride=%s", pair(o, a->s[0], a->s[1]));
    s = arena_printf(o->a, "%s%s", s, pad_arg(o, a->pads));
    if (a->d[0] != 1 || a->d[1] != 1)
        s = arena_printf(o->a, "%s, dilation=%s", s, pair(o, a->d[0], a->d[1]));
    return s;
}

static float *floats(Onnx *o, int64_t n) {
    o->spent += n;
    return arena_alloc(o->a, (size_t)(n ? n : 1) * sizeof(float));
}

static float cf(const Const *c, int64_t i) { return (float)const_get(c, i); }

/* -------------------------------------------------------- activations */

/* The word an activation node (or pattern) is in `activation=` and as a
 * standalone op of its own, or NULL when it needs arguments. */
static const char *act_word(Onnx *o, const ONode *n, const Pattern *p) {
    if (p) {
        switch (p->kind) {
        case PAT_SILU: return "silu";
        case PAT_HARD_SWISH: return "hard_swish";
        case PAT_GELU: return "gelu";
        case PAT_GELU_TANH: return "gelu_tanh";
        default: return NULL;
        }
    }
    const char *op = n->op;
    const Attrs *a = &n->a;
    if (!strcmp(op, "Relu")) return "relu";
    if (!strcmp(op, "Sigmoid")) return "sigmoid";
    if (!strcmp(op, "Tanh")) return "tanh";
    if (!strcmp(op, "HardSwish")) return "hard_swish";
    if (!strcmp(op, "Softplus")) return "softplus";
    if (!strcmp(op, "Softsign")) return "softsign";
    if (!strcmp(op, "Exp")) return "exponential";
    if (!strcmp(op, "Selu") && near(a->alpha, 1.6732632423543772) &&
        near(a->beta, 1.0507009873554805))
        return "selu";
    if (!strcmp(op, "Elu") && a->alpha == 1) return "elu";
    if (!strcmp(op, "Clip") && a->has_lo && a->lo == 0 && a->has_hi &&
        a->hi == 6)
        return "relu6";
    if (!strcmp(op, "Clip") && a->has_lo && a->lo == 0 && !a->has_hi)
        return "relu";
    if (!strcmp(op, "Softmax") && is_channel_axis(n->in[0], n->a.axis))
        return "softmax";
    (void)o;
    return NULL;
}

/* After a layer that takes activation=: the activation that alone reads
 * its output v (a node, or a pattern whose input is v), which the layer
 * can apply itself; its result then takes the layer's layout (v->lay must
 * be set). Returns the word and marks what it absorbs, or NULL. */
static const char *fuse_act(MapState *s, OValue *v, OValue **result) {
    Onnx *o = s->o;
    if (v->is_output || v->nuses < 1) return NULL;
    ONode *u = &o->nodes[v->uses[0]];
    if (u->pattern >= 0) {
        Pattern *p = &s->pats[u->pattern];
        const char *w = p->x == v ? act_word(o, p->root, p) : NULL;
        if (!w || p->root->out[0]->is_output) return NULL;
        for (int k = 0; k < v->nuses; k++)
            if (o->nodes[v->uses[k]].pattern != u->pattern) return NULL;
        for (int i = 0; i < p->nnodes; i++) p->nodes[i]->done = true;
        *result = p->root->out[0];
        return w;
    }
    if (v->nuses != 1 || !node_free(u)) return NULL;
    const char *w = act_word(o, u, NULL);
    if (!w) return NULL;
    u->done = true;
    *result = u->out[0];
    return w;
}

/* activation=WORD, fused from what reads out; the final value in *last. */
static const char *act_arg(MapState *s, OValue *out, OValue **last) {
    *last = out;
    const char *w = fuse_act(s, out, last);
    return w ? arena_printf(s->o->a, ", activation=%s", w) : "";
}

/* --------------------------------------------------------------- ops */

static void conv(MapState *s, ONode *n) {
    Onnx *o = s->o;
    const char *x = image_var(o, n, n->in[0]);
    if (!x) return;
    const OValue *w = n->in[1], *b = n->in[2 < n->nin ? 2 : 0];
    if (n->nin < 3) b = NULL;
    int64_t cin = n->in[0]->dims[1], g = n->a.group, kh = w->dims[2],
            kw = w->dims[3];
    int64_t cout = n->out[0]->dims[1], cg = cin / g;
    bool depthwise = g == cin && g > 1;
    Layout *l = image_layout(o, NULL, n->out[0]);
    n->out[0]->lay = l;
    OValue *last;
    const char *act = act_arg(s, n->out[0], &last);
    /* the arguments in the order of the language's signatures */
    int64_t mult = cout / cin;
    const char *extra = depthwise && mult > 1
        ? arena_printf(o->a, ", multiplier=%lld", (long long)mult)
        : !depthwise && g > 1 ? arena_printf(o->a, ", groups=%lld", (long long)g)
                              : "";
    const char *rest = arena_printf(o->a, "%s%s%s%s", window_args(o, &n->a, false),
                                    extra, b ? "" : ", bias=false", act);
    const char *y;
    float *k = floats(o, w->c->count);
    if (depthwise) {
        y = emit1(o, n, "depthwise_conv2d", x,
                  arena_printf(o->a, "%s%s", pair(o, (int)kh, (int)kw), rest));
        /* W[c * mult + m][0][i][j] -> kernel[i][j][c][m] */
        for (int64_t oc = 0; oc < cout; oc++)
            for (int64_t i = 0; i < kh * kw; i++)
                k[i * cout + oc] = cf(w->c, oc * kh * kw + i);
        weight(o, "depthwise_kernel", 4, (int64_t[]){kh, kw, cin, mult}, k);
    } else {
        y = emit1(o, n, "conv2d", x,
                  arena_printf(o->a, "%lld, %s%s", (long long)cout,
                               pair(o, (int)kh, (int)kw), rest));
        /* W[m][c][i][j] -> kernel[i][j][c][m] */
        for (int64_t m = 0; m < cout; m++)
            for (int64_t c = 0; c < cg; c++)
                for (int64_t i = 0; i < kh * kw; i++)
                    k[(i * cg + c) * cout + m] = cf(w->c, (m * cg + c) * kh * kw + i);
        weight(o, "kernel", 4, (int64_t[]){kh, kw, cg, cout}, k);
    }
    if (b) {
        float *bias = floats(o, cout);
        for (int64_t m = 0; m < cout; m++) bias[m] = cf(b->c, m);
        weight(o, "bias", 1, (int64_t[]){cout}, bias);
    }
    l->var = y;
    last->lay = l;
}

static void conv_transpose(MapState *s, ONode *n) {
    Onnx *o = s->o;
    const char *x = image_var(o, n, n->in[0]);
    if (!x) return;
    const OValue *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL;
    int64_t cin = w->dims[0], cout = w->dims[1], kh = w->dims[2], kw = w->dims[3];
    Layout *l = image_layout(o, NULL, n->out[0]);
    n->out[0]->lay = l;
    OValue *last;
    const char *act = act_arg(s, n->out[0], &last);
    const int *op = n->a.out_pad;
    const char *y = emit1(o, n, "conv2d_transpose", x,
        arena_printf(o->a, "%lld, %s%s%s%s%s", (long long)cout,
                     pair(o, (int)kh, (int)kw), window_args(o, &n->a, false),
                     op[0] || op[1] ? arena_printf(o->a, ", output_padding=%s",
                                                   pair(o, op[0], op[1])) : "",
                     b ? "" : ", bias=false", act));
    /* W[c][m][i][j] -> kernel[i][j][m][c] */
    float *k = floats(o, w->c->count);
    for (int64_t c = 0; c < cin; c++)
        for (int64_t m = 0; m < cout; m++)
            for (int64_t i = 0; i < kh * kw; i++)
                k[(i * cout + m) * cin + c] = cf(w->c, (c * cout + m) * kh * kw + i);
    weight(o, "kernel", 4, (int64_t[]){kh, kw, cout, cin}, k);
    if (b) {
        float *bias = floats(o, cout);
        for (int64_t m = 0; m < cout; m++) bias[m] = cf(b->c, m);
        weight(o, "bias", 1, (int64_t[]){cout}, bias);
    }
    l->var = y;
    last->lay = l;
}

static void batchnorm(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    if (!is_channel_axis(x, 1)) {
        onnx_node_error(o, n, "normalizes an axis that is not rnc's channel "
                        "axis");
        return;
    }
    int64_t c = x->dims[1];
    const char *y = emit1(o, n, "batchnorm", x->lay->var,
                          arena_printf(o->a, "epsilon=%s", fnum(o, n->a.eps)));
    static const char *const names[4] = {"gamma", "beta", "moving_mean",
                                         "moving_variance"};
    for (int k = 0; k < 4; k++) {
        float *v = floats(o, c);
        for (int64_t i = 0; i < c; i++) v[i] = cf(n->in[k + 1]->c, i);
        weight(o, names[k], 1, &c, v);
    }
    n->out[0]->lay = relabel(o, x, y);
}

static void layernorm_op(Onnx *o, ONode *n, OValue *x, OValue *out, double eps,
                         const Const *gamma, const Const *beta) {
    if (!is_channel_axis(x, x->rank - 1)) {
        onnx_node_error(o, n, "normalizes an axis that is not rnc's channel "
                        "axis");
        return;
    }
    int64_t c = x->dims[x->rank - 1];
    const char *y = emit1(o, n, "layernorm", x->lay->var,
                          arena_printf(o->a, "epsilon=%s%s%s", fnum(o, eps),
                                       beta ? "" : ", center=false",
                                       gamma ? "" : ", scale=false"));
    if (gamma) {
        float *g = floats(o, c);
        for (int64_t i = 0; i < c; i++) g[i] = cf(gamma, i);
        weight(o, "gamma", 1, &c, g);
    }
    if (beta) {
        float *b = floats(o, c);
        for (int64_t i = 0; i < c; i++) b[i] = cf(beta, i);
        weight(o, "beta", 1, &c, b);
    }
    out->lay = relabel(o, x, y);
}

static void activation(MapState *s, ONode *n) {
    Onnx *o = s->o;
    OValue *x = n->in[0];
    const Attrs *a = &n->a;
    const char *w = act_word(o, n, NULL), *y;
    if (w) {
        y = emit1(o, n, w, x->lay->var, NULL);
    } else if (!strcmp(n->op, "Clip")) {
        if (!a->has_lo || a->lo != 0) {
            onnx_node_error(o, n, "a minimum of %g (rnc clips at 0 only)", a->lo);
            return;
        }
        y = emit1(o, n, "relu", x->lay->var,
                  arena_printf(o->a, "max_value=%s", fnum(o, a->hi)));
    } else if (!strcmp(n->op, "LeakyRelu")) {
        y = emit1(o, n, "leaky_relu", x->lay->var,
                  arena_printf(o->a, "alpha=%s", fnum(o, a->alpha)));
    } else if (!strcmp(n->op, "Elu")) {
        y = emit1(o, n, "elu", x->lay->var,
                  arena_printf(o->a, "alpha=%s", fnum(o, a->alpha)));
    } else if (!strcmp(n->op, "HardSigmoid")) {
        y = emit1(o, n, "hard_sigmoid", x->lay->var,
                  arena_printf(o->a, "alpha=%s, beta=%s", fnum(o, a->alpha),
                               fnum(o, a->beta)));
    } else if (!strcmp(n->op, "Neg")) {
        y = emit1(o, n, "rescale", x->lay->var, "-1");
    } else if (!strcmp(n->op, "Softmax")) {
        onnx_node_error(o, n, "a softmax over an axis that is not rnc's "
                        "channel axis");
        return;
    } else if (!strcmp(n->op, "Selu")) {
        onnx_node_error(o, n, "alpha and gamma other than Keras's selu");
        return;
    } else {
        onnx_node_error(o, n, "appears outside the patterns rnc recognises "
                        "(GELU, LayerNorm)");
        return;
    }
    n->out[0]->lay = relabel(o, x, y);
}

static void pattern(MapState *s, Pattern *p) {
    Onnx *o = s->o;
    OValue *out = p->root->out[0];
    for (int i = 0; i < p->nnodes; i++) p->nodes[i]->done = true;
    if (p->kind == PAT_LAYERNORM) {
        layernorm_op(o, p->first, p->x, out, p->eps, p->gamma, p->beta);
    } else if (p->kind == PAT_SHUFFLE) {
        const char *x = image_var(o, p->first, p->x);
        if (!x) return;
        const char *y = emit1(o, p->first, "channel_shuffle", x,
                              arena_printf(o->a, "%d", p->groups));
        out->lay = image_layout(o, y, out);
    } else {
        const char *y = emit1(o, p->first, act_word(o, p->root, p),
                              p->x->lay->var, NULL);
        out->lay = relabel(o, p->x, y);
    }
}

static void pool(Onnx *o, ONode *n) {
    const char *x = image_var(o, n, n->in[0]);
    if (!x) return;
    bool avg = !strcmp(n->op, "AveragePool");
    const Attrs *a = &n->a;
    bool padded = a->pads[0] || a->pads[1] || a->pads[2] || a->pads[3];
    const char *y = emit1(o, n, avg ? "avgpool" : "maxpool", x,
        arena_printf(o->a, "%s%s%s%s", pair(o, a->k[0], a->k[1]),
                     window_args(o, a, true), a->ceil ? ", ceil_mode=true" : "",
                     avg && a->count_pad && padded ? ", count_include_pad=true"
                                                   : ""));
    n->out[0]->lay = image_layout(o, y, n->out[0]);
}

/* Only views read it: Flatten, Reshape, Squeeze (a global pooling can
 * then give a flat [C]). */
static bool only_views(Onnx *o, const OValue *v) {
    if (v->is_output) return false;
    for (int u = 0; u < v->nuses; u++) {
        const char *op = o->nodes[v->uses[u]].op;
        if (strcmp(op, "Flatten") && strcmp(op, "Reshape") && strcmp(op, "Squeeze"))
            return false;
    }
    return true;
}

/* GlobalAveragePool, GlobalMaxPool, ReduceMean/ReduceMax over H and W. */
static void global_pool(Onnx *o, ONode *n) {
    OValue *x = n->in[0], *out = n->out[0];
    const Attrs *a = &n->a;
    bool spatial = x->lay && x->lay->shape.rank == 3 && a->naxes == 2;
    int rest = -1;
    for (int i = 0; spatial && i < x->rank; i++) {
        bool red = i == a->axes[0] || i == a->axes[1];
        int ax = x->lay->axis[i];
        if (red && ax != 0 && ax != 1 && x->dims[i] != 1) spatial = false;
        if (!red && ax == 2) rest = i;
        if (!red && ax >= 0 && ax != 2) spatial = false;
    }
    if (!spatial || rest < 0 || !axis_is(x, a->axes[0], x->lay->axis[a->axes[0]]) ||
        x->lay->axis[a->axes[0]] + x->lay->axis[a->axes[1]] != 1) {
        onnx_node_error(o, n, "reduces axes other than the height and width "
                        "of an image");
        return;
    }
    bool max = !strcmp(n->op, "GlobalMaxPool") || !strcmp(n->op, "ReduceMax");
    bool keep = a->keep && !only_views(o, out);
    const char *y = emit1(o, n, max ? "global_maxpool" : "global_avgpool",
                          x->lay->var, keep ? "keepdims=true" : NULL);
    int64_t c = x->lay->shape.d[2];
    Layout *l = layout(o, y, keep ? (Shape){3, {1, 1, c}} : (Shape){1, {c}});
    /* the channel keeps its place among the output's axes */
    for (int i = 0, k = 0; i < x->rank; i++) {
        bool red = i == a->axes[0] || i == a->axes[1];
        if (red && !a->keep) continue;
        l->axis[k++] = i == rest ? (keep ? 2 : 0) : -1;
    }
    out->lay = l;
}

/* ------------------------------------------------------- views (no layer) */

static const char *dims_text(Onnx *o, const OValue *v) {
    const char *s = "";
    for (int i = 0; i < v->rank; i++)
        s = arena_printf(o->a, "%s%s%lld", s, i ? ", " : "", (long long)v->dims[i]);
    return s;
}


/* The order in which ONNX flattens the .rn axes of v (ONNX axes from
 * `from` on); false when they do not form a flat order rnc can follow. */
static void flat_order(const OValue *v, int from, int8_t *order) {
    bool seen[3] = {false};
    int k = 0;
    for (int i = from; i < v->rank; i++) {
        int ax = v->lay->axis[i];
        if (ax >= 0 && !seen[ax]) {
            order[k++] = (int8_t)ax;
            seen[ax] = true;
        }
    }
    for (int ax = 0; ax < 3; ax++)
        if (!seen[ax]) order[k++] = (int8_t)ax;
}

/* The layout of out, a flatten of x at ONNX axis `from`, emitting the
 * flatten layer when x is an image. */
static void flatten(Onnx *o, OValue *x, OValue *out, int from,
                    const char *name) {
    const Layout *l = x->lay;
    if (l->shape.rank == 1) {
        Layout *f = relabel(o, x, l->var);
        for (int i = 0; i < ONNX_MAX_RANK; i++) f->axis[i] = -1;
        f->axis[out->rank - 1] = 0;
        out->lay = f;
        return;
    }
    int8_t order[3];
    flat_order(x, from, order);
    int64_t big[3];
    int nb = 0;
    for (int i = 0; i < 3; i++)
        if (l->shape.d[order[i]] > 1) big[nb++] = order[i];
    bool same = true;
    for (int i = 1; i < nb; i++) same = same && big[i - 1] < big[i];
    const char *y = import_layer(o->m, "flatten", name, &l->var, 1, NULL);
    Layout *f = layout(o, y, (Shape){1, {shape_count(&l->shape)}});
    f->axis[out->rank - 1] = 0;
    if (!same) {
        f->from = l->shape;
        memcpy(f->order, order, sizeof order);
    }
    out->lay = f;
}

/* out has x's dims with size-1 axes put in or taken out: the same .rn
 * tensor. False when the other dims differ. */
static bool unit_view(Onnx *o, const OValue *x, OValue *out) {
    Layout *l = relabel(o, x, x->lay->var);
    int i = 0;
    for (int k = 0; k < out->rank; k++) {
        l->axis[k] = -1;
        if (out->dims[k] == 1) continue;
        while (i < x->rank && x->dims[i] == 1) i++;
        if (i == x->rank || x->dims[i] != out->dims[k]) return false;
        l->axis[k] = x->lay->axis[i++];
    }
    while (i < x->rank && x->dims[i] == 1) i++;
    if (i != x->rank) return false;
    for (int k = out->rank; k < ONNX_MAX_RANK; k++) l->axis[k] = -1;
    if (l->shape.rank == 1 && out->rank >= 1 && out->dims[out->rank - 1] ==
        l->shape.d[0] && l->axis[out->rank - 1] < 0)
        l->axis[out->rank - 1] = 0;
    out->lay = l;
    return true;
}

static void view(Onnx *o, ONode *n) {
    OValue *x = n->in[0], *out = n->out[0];
    if (!strcmp(n->op, "Transpose")) {
        Layout *l = relabel(o, x, x->lay->var);
        for (int i = 0; i < out->rank; i++) l->axis[i] = x->lay->axis[n->a.perm[i]];
        out->lay = l;
        return;
    }
    if (unit_view(o, x, out)) return;
    /* a flatten behind the batch: [1, ...] -> [1, N] */
    if ((out->rank == 2 && out->dims[0] == 1) || out->rank == 1) {
        flatten(o, x, out, 0, n->name);
        return;
    }
    onnx_node_error(o, n, "reshapes [%s] into [%s], which moves elements in "
                    "a way rnc cannot follow", dims_text(o, x),
                    dims_text(o, out));
}

/* ---------------------------------------------------------- arithmetic */

/* The values of constant c along the channel of runtime value x (the
 * constant broadcast against x's ONNX shape); NULL when c varies along
 * another axis or broadcasts x itself. *per_channel false for a scalar. */
static float *channel_values(Onnx *o, const OValue *x, const OValue *c,
                             int64_t *nch) {
    if (c->rank > x->rank) return NULL;
    int ch = -1;
    for (int k = 0; k < c->rank; k++) {
        int i = k + (x->rank - c->rank);
        if (c->dims[k] == 1) continue;
        if (c->dims[k] != x->dims[i] || ch >= 0 || !is_channel_axis(x, i))
            return NULL;
        ch = k;
    }
    *nch = ch < 0 ? 1 : c->dims[ch];
    float *v = floats(o, *nch);
    for (int64_t i = 0; i < *nch; i++) v[i] = cf(c->c, i);
    return v;
}

/* An op of a runtime value x and a constant c (c first when c_first). */
static void with_const(Onnx *o, ONode *n, OValue *x, OValue *c, bool c_first) {
    const char *op = n->op;
    int64_t nch;
    float *v = channel_values(o, x, c, &nch);
    if (!v) {
        onnx_node_error(o, n, "a constant that is neither one value nor one "
                        "value per channel");
        return;
    }
    bool sub = !strcmp(op, "Sub"), add = !strcmp(op, "Add"),
         mul = !strcmp(op, "Mul"), div = !strcmp(op, "Div");
    if (div && c_first) {
        onnx_node_error(o, n, "divides a constant by a tensor");
        return;
    }
    const char *y;
    if (nch == 1) {
        const char *k = fnum(o, v[0]), *args;
        if (mul) args = k;
        else if (div) args = arena_printf(o->a, "1/%s", k);
        else if (add) args = arena_printf(o->a, "1, offset=%s", k);
        else if (sub && !c_first) args = arena_printf(o->a, "1, offset=%s",
                                                      fnum(o, -v[0]));
        else if (sub) args = arena_printf(o->a, "-1, offset=%s", k);
        else if (!strcmp(op, "Max") && v[0] == 0) {
            y = emit1(o, n, "relu", x->lay->var, NULL);
            n->out[0]->lay = relabel(o, x, y);
            return;
        } else {
            onnx_node_error(o, n, "with a constant of %g", v[0]);
            return;
        }
        y = emit1(o, n, "rescale", x->lay->var, args);
        n->out[0]->lay = relabel(o, x, y);
        return;
    }
    if (!add && !sub && !mul && !div) {
        onnx_node_error(o, n, "with a constant per channel");
        return;
    }
    if (x->lay->shape.rank != 3) {
        onnx_node_error(o, n, "a constant per feature of a flat tensor");
        return;
    }
    /* one depthwise 1x1: kernel k[c], bias b[c] */
    float *k = floats(o, nch), *b = floats(o, nch);
    for (int64_t i = 0; i < nch; i++) {
        k[i] = mul ? v[i] : div ? 1 / v[i] : sub && c_first ? -1 : 1;
        b[i] = add ? v[i] : sub ? (c_first ? v[i] : -v[i]) : 0;
    }
    y = emit1(o, n, "depthwise_conv2d", x->lay->var,
              (add || sub) ? "1" : "1, bias=false");
    weight(o, "depthwise_kernel", 4, (int64_t[]){1, 1, nch, 1}, k);
    if (add || sub) weight(o, "bias", 1, &nch, b);
    n->out[0]->lay = relabel(o, x, y);
}

/* Do two runtime values line up axis by axis in rnc (broadcasting where
 * one has size 1)? Returns the operand whose layout the result takes. */
static OValue *aligned(const OValue *out, OValue *a, OValue *b) {
    if (a->rank != b->rank || a->lay->shape.rank != b->lay->shape.rank)
        return NULL;
    for (int i = 0; i < a->rank; i++) {
        if (a->dims[i] == 1 && b->dims[i] == 1) continue;
        const OValue *big = a->dims[i] > 1 ? a : b, *small = big == a ? b : a;
        int ax = big->lay->axis[i];
        if (ax < 0 || !axis_is(small, i, ax)) return NULL;
    }
    bool a_full = !memcmp(a->dims, out->dims, (size_t)out->rank * sizeof *a->dims);
    bool b_full = !memcmp(b->dims, out->dims, (size_t)out->rank * sizeof *b->dims);
    return a_full ? a : b_full ? b : NULL;
}

static void binary(Onnx *o, ONode *n) {
    OValue *a = n->in[0], *b = n->in[1];
    if (a->c || b->c) {
        with_const(o, n, a->c ? b : a, a->c ? a : b, a->c != NULL);
        return;
    }
    static const char *const ops[][2] = {{"Add", "add"}, {"Sub", "subtract"},
        {"Mul", "multiply"}, {"Max", "maximum"}, {"Min", "minimum"}};
    const char *word = NULL;
    for (int i = 0; i < 5; i++)
        if (!strcmp(n->op, ops[i][0])) word = ops[i][1];
    if (!word) {
        onnx_node_error(o, n, "of two tensors computed at run time");
        return;
    }
    /* a [1, C, 1, 1] held flat meets an image: make it an image */
    if (a->rank == 4 && b->rank == 4 && is_image(a) != is_image(b)) {
        ONode *dummy = n;
        if (!is_image(a) && !image_var(o, dummy, a)) return;
        if (!is_image(b) && !image_var(o, dummy, b)) return;
    }
    OValue *full = aligned(n->out[0], a, b);
    if (!full) {
        onnx_node_error(o, n, "operands whose layouts rnc cannot line up");
        return;
    }
    const char *in[2] = {a->lay->var, b->lay->var};
    const char *y = emit(o, n, word, in, 2, NULL);
    n->out[0]->lay = relabel(o, full, y);
}

/* ------------------------------------------------------------- dense */

/* The rows of a dense kernel for a flat input held in `l`: ONNX feature f
 * is .rn element row(f). */
static int64_t dense_row(const Layout *l, int64_t f) {
    if (l->from.rank != 3) return f;
    int64_t d[3], coord[3];
    for (int j = 2; j >= 0; j--) {
        int64_t size = l->from.d[l->order[j]];
        d[j] = f % size;
        f /= size;
    }
    for (int j = 0; j < 3; j++) coord[l->order[j]] = d[j];
    return (coord[0] * l->from.d[1] + coord[1]) * l->from.d[2] + coord[2];
}

/* A dense layer from x (K features on its last ONNX axis) with kernel
 * rows k(f, u) and an optional bias; result into `out`. */
static void dense(MapState *s, ONode *n, OValue *x, OValue *out, int64_t K,
                  int64_t units, const Const *w, bool trans, double alpha,
                  const float *bias) {
    Onnx *o = s->o;
    if (!is_channel_axis(x, x->rank - 1)) {
        onnx_node_error(o, n, "multiplies along an axis that is not rnc's "
                        "channel axis");
        return;
    }
    Layout *l = relabel(o, x, NULL);
    l->from.rank = 0;
    l->shape.d[l->shape.rank - 1] = units;
    out->lay = l;
    OValue *last;
    const char *act = act_arg(s, out, &last);
    const char *y = emit1(o, n, "dense", x->lay->var,
                          arena_printf(o->a, "%lld%s%s", (long long)units,
                                       bias ? "" : ", bias=false", act));
    float *k = floats(o, K * units);
    for (int64_t f = 0; f < K; f++) {
        int64_t r = x->lay->shape.rank == 1 ? dense_row(x->lay, f) : f;
        for (int64_t u = 0; u < units; u++)
            k[r * units + u] = (float)(alpha * const_get(w, trans ? u * K + f
                                                                  : f * units + u));
    }
    weight(o, "kernel", 2, (int64_t[]){K, units}, k);
    if (bias) weight(o, "bias", 1, &units, bias);
    l->var = y;
    last->lay = l;
}

/* A flat view of x for a Gemm: .rn [K] (flattened here if needed). */
static bool flat_input(Onnx *o, ONode *n, OValue *x) {
    if (x->lay->shape.rank == 1) return true;
    OValue tmp = *x;
    flatten(o, x, &tmp, 0, arena_printf(o->a, "%s.flatten", n->name));
    x->lay = tmp.lay;
    return true;
}

static void gemm(MapState *s, ONode *n) {
    Onnx *o = s->o;
    OValue *x = n->in[0], *b = n->in[1], *c = n->nin > 2 ? n->in[2] : NULL;
    if (!flat_input(o, n, x)) return;
    int64_t K = x->dims[1], units = n->out[0]->dims[1];
    float *bias = NULL;
    if (c) {
        bias = floats(o, units);
        for (int64_t u = 0; u < units; u++)
            bias[u] = (float)(n->a.beta * const_get(c->c, c->c->count == 1 ? 0 : u));
    }
    dense(s, n, x, n->out[0], K, units, b->c, n->a.trans_b, n->a.alpha, bias);
}

/* MatMul by a constant, with the Add of a bias that alone reads it. */
static void matmul(MapState *s, ONode *n) {
    Onnx *o = s->o;
    OValue *x = n->in[0], *w = n->in[1], *out = n->out[0];
    int64_t K = w->dims[0], units = w->dims[1];
    float *bias = NULL;
    if (!out->is_output && out->nuses == 1) {
        ONode *u = &o->nodes[out->uses[0]];
        OValue *c = u->nin == 2 ? (u->in[0] == out ? u->in[1] : u->in[0]) : NULL;
        if (!strcmp(u->op, "Add") && node_free(u) && c &&
            channel_vector(c, out->rank, units)) {
            bias = floats(o, units);
            for (int64_t i = 0; i < units; i++) bias[i] = cf(c->c, i);
            u->done = true;
            dense(s, n, x, u->out[0], K, units, w->c, false, 1, bias);
            out->lay = u->out[0]->lay;
            return;
        }
    }
    dense(s, n, x, out, K, units, w->c, false, 1, NULL);
}

/* ------------------------------------------------------------- the rest */

static void concat(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    if (n->nin == 1) {
        n->out[0]->lay = x->lay;
        return;
    }
    const char **in = arena_alloc(o->a, (size_t)n->nin * sizeof *in);
    for (int k = 0; k < n->nin; k++) {
        OValue *v = n->in[k];
        if (v->c || !is_channel_axis(v, n->a.axis) ||
            v->lay->shape.rank != x->lay->shape.rank) {
            onnx_node_error(o, n, "joins along an axis that is not rnc's "
                            "channel axis");
            return;
        }
        for (int i = 0; i < v->rank; i++)
            if (i != n->a.axis && v->lay->axis[i] != x->lay->axis[i] &&
                v->dims[i] != 1) {
                onnx_node_error(o, n, "operands in different layouts");
                return;
            }
        in[k] = v->lay->var;
    }
    const char *y = emit(o, n, "concat", in, n->nin, NULL);
    Layout *l = relabel(o, x, y);
    l->shape.d[l->shape.rank - 1] = n->out[0]->dims[n->a.axis];
    n->out[0]->lay = l;
}

static void channel_slice(Onnx *o, ONode *n, OValue *x, OValue *out,
                          int axis, int64_t start, int64_t stop) {
    if (!is_channel_axis(x, axis)) {
        onnx_node_error(o, n, "slices an axis that is not rnc's channel axis");
        return;
    }
    const char *y = emit1(o, n, "channel_slice", x->lay->var,
                          arena_printf(o->a, "%lld, %lld", (long long)start,
                                       (long long)stop));
    Layout *l = relabel(o, x, y);
    l->shape.d[l->shape.rank - 1] = stop - start;
    out->lay = l;
}

static void split(Onnx *o, ONode *n) {
    int64_t at = 0;
    for (int k = 0; k < n->nout; k++) {
        int64_t len = n->a.split[k];
        OValue *v = n->out[k];
        if (v && (v->nuses || v->is_output))
            channel_slice(o, n, n->in[0], v, n->a.axis, at, at + len);
        at += len;
    }
}

static void slice(Onnx *o, ONode *n) {
    OValue *x = n->in[0], *out = n->out[0];
    int axis = n->a.axis;
    if (axis < 0) { /* the whole tensor */
        out->lay = x->lay;
        return;
    }
    if (is_channel_axis(x, axis)) {
        channel_slice(o, n, x, out, axis, n->a.start, n->a.stop);
        return;
    }
    int ax = x->lay->axis[axis];
    if (x->lay->shape.rank != 3 || (ax != 0 && ax != 1)) {
        onnx_node_error(o, n, "slices an axis rnc cannot cut");
        return;
    }
    int64_t cut[4] = {0, 0, 0, 0};
    cut[2 * ax] = n->a.start;
    cut[2 * ax + 1] = x->dims[axis] - n->a.stop;
    const char *y = emit1(o, n, "crop", x->lay->var,
                          arena_printf(o->a, "[%lld, %lld, %lld, %lld]",
                                       (long long)cut[0], (long long)cut[1],
                                       (long long)cut[2], (long long)cut[3]));
    Layout *l = relabel(o, x, y);
    l->shape.d[ax] = out->dims[axis];
    out->lay = l;
}

static void zeropad(Onnx *o, ONode *n) {
    const char *x = image_var(o, n, n->in[0]);
    if (!x) return;
    const int *p = n->a.pads;
    const char *y = emit1(o, n, "zeropad", x,
        p[0] == p[1] && p[1] == p[2] && p[2] == p[3]
            ? arena_printf(o->a, "%d", p[0])
            : arena_printf(o->a, "[%d, %d, %d, %d]", p[0], p[1], p[2], p[3]));
    n->out[0]->lay = image_layout(o, y, n->out[0]);
}

static void upsample(Onnx *o, ONode *n) {
    const char *x = image_var(o, n, n->in[0]);
    if (!x) return;
    const Attrs *a = &n->a;
    bool bilinear = !strcmp(a->mode, "bilinear");
    const char *y = emit1(o, n, "upsample", x,
        arena_printf(o->a, "%s%s%s",
                     a->scale[0] == 2 && a->scale[1] == 2
                         ? "" : arena_printf(o->a, "size=%s",
                                             pair(o, a->scale[0], a->scale[1])),
                     bilinear ? (a->scale[0] == 2 && a->scale[1] == 2
                                     ? "interpolation=bilinear"
                                     : ", interpolation=bilinear") : "",
                     a->align ? ", align_corners=true" : ""));
    n->out[0]->lay = image_layout(o, y, n->out[0]);
}

static void prelu(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int64_t nch;
    float *v = channel_values(o, x, n->in[1], &nch);
    if (!v) {
        onnx_node_error(o, n, "a slope that is neither one value nor one "
                        "value per channel");
        return;
    }
    bool image = x->lay->shape.rank == 3;
    const char *shared = image ? (nch > 1 ? "shared_axes=[1, 2]"
                                          : "shared_axes=[1, 2, 3]")
                               : (nch > 1 ? NULL : "shared_axes=[1]");
    const char *y = emit1(o, n, "prelu", x->lay->var, shared);
    if (image) weight(o, "alpha", 3, (int64_t[]){1, 1, nch}, v);
    else weight(o, "alpha", 1, &nch, v);
    n->out[0]->lay = relabel(o, x, y);
}

/* ----------------------------------------------------------- the walk */

static const char *shape_text(Onnx *o, const Shape *s) {
    return s->rank == 3 ? arena_printf(o->a, "%lld, %lld, %lld", (long long)s->d[0],
                                       (long long)s->d[1], (long long)s->d[2])
                        : arena_printf(o->a, "%lld", (long long)s->d[0]);
}

static void inputs(Onnx *o) {
    for (int i = 0; i < o->ninputs; i++) {
        OValue *v = o->inputs[i];
        if (v->rank < 0) continue;
        bool image = v->rank == 4;
        Shape s = image ? (Shape){3, {v->dims[2], v->dims[3], v->dims[1]}}
                        : (Shape){1, {v->dims[1]}};
        const char *var = import_input(o->m, v->name, &s);
        v->lay = image ? image_layout(o, var, v) : flat_layout(o, var, v);
        import_comment(o->m, "Input %s: %s [%s] -> %s %s[%s]", v->name,
                       image ? "NCHW" : "ONNX", dims_text(o, v),
                       image ? "NHWC" : "rnc", var, shape_text(o, &s));
    }
}

static void outputs(Onnx *o) {
    for (int i = 0; i < o->noutputs; i++) {
        OValue *v = o->outputs[i];
        if (v->c) {
            onnx_error(o, "output '%s' is a constant", v->name);
            continue;
        }
        if (!v->lay) continue; /* its producer was reported */
        ONode fake = {.label = "(output)", .op = "Output", .name = v->name};
        const char *var = v->lay->var;
        if (v->rank == 4 && !is_image(v) && v->lay->shape.rank == 1 &&
            !(var = image_var(o, &fake, v)))
            continue;
        if (v->lay->from.rank == 3) {
            onnx_error(o, "output '%s' is an image flattened in C, H, W order, "
                       "which rnc's NHWC flatten does not give", v->name);
            continue;
        }
        import_output(o->m, var);
        import_comment(o->m, "Output %s: [%s] -> %s[%s]%s", v->name,
                       dims_text(o, v), var, shape_text(o, &v->lay->shape),
                       is_image(v) ? " (NHWC)" : "");
    }
}

static bool inputs_known(const ONode *n) {
    for (int k = 0; k < n->nin; k++)
        if (n->in[k] && !n->in[k]->c && !n->in[k]->lay) return false;
    return true;
}

static void node(MapState *s, ONode *n) {
    Onnx *o = s->o;
    const char *op = n->op;
    if (!strcmp(op, "Conv")) conv(s, n);
    else if (!strcmp(op, "ConvTranspose")) conv_transpose(s, n);
    else if (!strcmp(op, "BatchNormalization")) batchnorm(o, n);
    else if (!strcmp(op, "LayerNormalization"))
        layernorm_op(o, n, n->in[0], n->out[0], n->a.eps, n->in[1]->c,
                     n->nin > 2 && n->in[2] ? n->in[2]->c : NULL);
    else if (!strcmp(op, "PRelu")) prelu(o, n);
    else if (!strcmp(op, "Add") || !strcmp(op, "Sub") || !strcmp(op, "Mul") ||
             !strcmp(op, "Div") || !strcmp(op, "Max") || !strcmp(op, "Min")) {
        if (n->nin == 1) n->out[0]->lay = n->in[0]->lay;
        else binary(o, n);
    } else if (!strcmp(op, "MaxPool") || !strcmp(op, "AveragePool")) pool(o, n);
    else if (!strcmp(op, "GlobalAveragePool") || !strcmp(op, "GlobalMaxPool") ||
             !strcmp(op, "ReduceMean") || !strcmp(op, "ReduceMax"))
        global_pool(o, n);
    else if (!strcmp(op, "Flatten") || !strcmp(op, "Reshape") ||
             !strcmp(op, "Squeeze") || !strcmp(op, "Unsqueeze") ||
             !strcmp(op, "Transpose"))
        view(o, n);
    else if (!strcmp(op, "Identity") || !strcmp(op, "Dropout") ||
             !strcmp(op, "Cast"))
        n->out[0]->lay = n->in[0]->lay;
    else if (!strcmp(op, "Concat")) concat(o, n);
    else if (!strcmp(op, "Split")) split(o, n);
    else if (!strcmp(op, "Slice")) slice(o, n);
    else if (!strcmp(op, "Gemm")) gemm(s, n);
    else if (!strcmp(op, "MatMul")) matmul(s, n);
    else if (!strcmp(op, "Pad")) zeropad(o, n);
    else if (!strcmp(op, "Resize") || !strcmp(op, "Upsample")) upsample(o, n);
    else if (!strcmp(op, "Pow"))
        onnx_node_error(o, n, "appears outside the patterns rnc recognises "
                        "(LayerNorm)");
    else activation(s, n);
}

void onnx_map(Onnx *o) {
    MapState s = {.o = o};
    find_patterns(&s);
    inputs(o);
    for (int j = 0; j < o->nnodes; j++) {
        ONode *n = &o->nodes[o->order[j]];
        if (!n->live || n->done || !n->out[0] || n->out[0]->c) continue;
        if (n->pattern >= 0) { /* the pattern's layer comes at its root */
            Pattern *p = &s.pats[n->pattern];
            if (n == p->root && p->x->lay) pattern(&s, p);
            continue;
        }
        if (!inputs_known(n)) continue;
        if (!onnx_spend(o, n, 0)) break;
        int errors = o->nerrors;
        node(&s, n);
        n->done = true;
        if (o->nerrors == errors && !n->out[0]->lay &&
            (n->out[0]->nuses || n->out[0]->is_output))
            die("onnx_map: node %s (%s) gave no value", n->label, n->op);
    }
    outputs(o);
}
