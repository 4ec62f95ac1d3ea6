/* onnx_patterns.c: the ONNX subgraphs the language has one op for,
 * recognised structurally (operands, constants, inner values read by
 * nothing else; never names): x*sigmoid(x) -> silu, x*HardSigmoid(x) with
 * alpha 1/6 -> hard_swish, the erf and tanh forms of GELU, the decomposed
 * LayerNorm (with or without its scale and shift), ShuffleNet's
 * Reshape-Transpose-Reshape -> channel_shuffle. Templates are small
 * tables of nodes; a match binds each to the first free consumer that
 * fits (commutative ops either way round).
 *
 * Requires: onnx_infer without errors. Changes: the nodes' `pattern`. */
#include "onnx.h"

#include <math.h>
#include <string.h>

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
static const TNode t_gelu_tanh[] = {
    {"Mul", OP_X, OP_X, 0, 0},      {"Mul", OP_X, 0, 0, 0},
    {"Mul", 1, OP_K, 0, 0.044715},  {"Add", OP_X, 2, 0, 0},
    {"Mul", 3, OP_K, 0, SQRT_2_PI}, {"Tanh", 4, OP_NONE, 0, 0},
    {"Add", 5, OP_K, 0, 1},         {"Mul", OP_X, 6, 0, 0},
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
    {PAT_GELU_TANH, t_gelu_tanh, 9}, {PAT_LAYERNORM, t_layernorm, 9},
    {PAT_LAYERNORM, t_layernorm, 8}, {PAT_LAYERNORM, t_layernorm, 7},
    {PAT_GELU, t_gelu_a, 5},         {PAT_GELU, t_gelu_b, 5},
    {PAT_GELU, t_gelu_c, 5},         {PAT_SILU, t_silu, 2},
    {PAT_HARD_SWISH, t_hswish, 2},
};
enum { NTEMPLATES = sizeof templates / sizeof templates[0] };

typedef struct Finder {
    Onnx *o;
    Patterns *ps;
} Finder;

bool onnx_near(double v, double k) {
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
    case OP_K: return scalar_const(v, &c) && onnx_near(c, k);
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

bool onnx_node_free(const ONode *u) {
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
        const OValue *anchor = t->a == OP_X || t->b == OP_X
                                   ? x
                                   : bound[t->a >= 0 ? t->a : t->b]->out[0];
        bool comm = !strcmp(t->op, "Mul") || !strcmp(t->op, "Add");
        bound[i] = NULL;
        for (int u = 0; u < anchor->nuses && !bound[i]; u++) {
            ONode *c = &o->nodes[anchor->uses[u]];
            bool taken = false;
            for (int j = 0; j < i; j++) taken |= bound[j] == c;
            if (taken || !onnx_node_free(c) || strcmp(c->op, t->op)) continue;
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
bool onnx_channel_vector(const OValue *v, int r, int64_t c) {
    if (!v->c || v->c->count != c || v->rank > r) return false;
    for (int i = 0; i + 1 < v->rank; i++)
        if (v->dims[i] != 1) return false;
    return v->rank >= 1 && v->dims[v->rank - 1] == c;
}

/* The operand of binary node n that is not value v. */
static const OValue *other(const ONode *n, const OValue *v) {
    return n->in[0] == v ? n->in[1] : n->in[0];
}

/* A matched LayerNorm: both means over the last axis alone, its scale
 * and shift one value per channel. */
static bool layernorm_ok(const Template *tp, const OValue *x, ONode *const *b) {
    int64_t c = x->rank > 0 ? x->dims[x->rank - 1] : 0;
    return last_axis_mean(b[0]) && last_axis_mean(b[3]) &&
           (tp->n < 8 ||
            onnx_channel_vector(other(b[7], b[6]->out[0]), x->rank, c)) &&
           (tp->n < 9 ||
            onnx_channel_vector(other(b[8], b[7]->out[0]), x->rank, c));
}

static Pattern *add_pattern(Finder *s) {
    Patterns *ps = s->ps;
    if (ps->n == ps->cap) {
        int cap = ps->cap ? 2 * ps->cap : 32;
        Pattern *p = arena_alloc(s->o->a, (size_t)cap * sizeof *p);
        if (ps->n) memcpy(p, ps->p, (size_t)ps->n * sizeof *p);
        ps->p = p;
        ps->cap = cap;
    }
    Pattern *p = &ps->p[ps->n++];
    memset(p, 0, sizeof *p);
    return p;
}

static void claim(Finder *s, Pattern *p) {
    for (int i = 0; i < p->nnodes; i++) p->nodes[i]->pattern = s->ps->n - 1;
    p->first = p->nodes[0];
    p->root = p->nodes[p->nnodes - 1];
}

static void find_templates(Finder *s, OValue *x) {
    Onnx *o = s->o;
    for (int t = 0; t < NTEMPLATES; t++) {
        const Template *tp = &templates[t];
        ONode *bound[MAX_TNODES];
        const Const *caps[MAX_TNODES] = {NULL};
        if (!match(o, tp, x, bound, caps)) continue;
        if (tp->kind == PAT_HARD_SWISH &&
            !(onnx_near(bound[0]->a.alpha, 1.0 / 6) &&
              onnx_near(bound[0]->a.beta, 0.5)))
            continue;
        if (tp->kind == PAT_LAYERNORM &&
            (!layernorm_ok(tp, x, bound) || !(const_get(caps[4], 0) > 0) ||
             !isfinite(const_get(caps[4], 0))))
            continue;
        Pattern *p = add_pattern(s);
        p->kind = tp->kind;
        p->x = x;
        p->nnodes = tp->n;
        for (int i = 0; i < tp->n; i++) p->nodes[i] = bound[i];
        if (tp->kind == PAT_LAYERNORM) {
            p->eps = const_get(caps[4], 0);
            p->gamma = tp->n >= 8 ? caps[7] : NULL;
            p->beta = tp->n == 9 ? caps[8] : NULL;
        }
        claim(s, p);
        return;
    }
}

/* ShuffleNet's channel shuffle: Reshape [1, C, H, W] -> [1, g, C/g, H, W],
 * Transpose (0, 2, 1, 3, 4), Reshape back to [1, C, H, W]. */
static void find_shuffle(Finder *s, ONode *r1) {
    Onnx *o = s->o;
    OValue *x = r1->in[0], *y = r1->out[0];
    if (strcmp(r1->op, "Reshape") || !onnx_node_free(r1) || x->rank != 4 ||
        y->rank != 5 || y->dims[0] != 1 ||
        y->dims[1] * y->dims[2] != x->dims[1] || y->dims[3] != x->dims[2] ||
        y->dims[4] != x->dims[3] || y->nuses != 1 || y->is_output)
        return;
    ONode *t = &o->nodes[y->uses[0]];
    static const int perm[5] = {0, 2, 1, 3, 4};
    if (strcmp(t->op, "Transpose") || !onnx_node_free(t) ||
        memcmp(t->a.perm, perm, sizeof perm) || t->out[0]->nuses != 1 ||
        t->out[0]->is_output)
        return;
    ONode *r2 = &o->nodes[t->out[0]->uses[0]];
    OValue *z = r2->out[0];
    if (strcmp(r2->op, "Reshape") || !onnx_node_free(r2) || z->rank != 4 ||
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

void onnx_patterns(Onnx *o, Patterns *ps) {
    Finder f = {o, ps}, *s = &f;
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
