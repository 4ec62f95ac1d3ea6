/* onnx_map.c: the ONNX graph as .rn layers. After the patterns are found
 * (onnx_patterns.c), each live node becomes layers, in order: NCHW values
 * become NHWC .rn tensors (Layout says which ONNX axis is which .rn axis,
 * so Transpose, Squeeze, Unsqueeze and size-1 reshapes only move that
 * map); the layers that own weights are onnx_weights.c's. Every node (or
 * pattern) that is a module of its own in the source is a layer of its own,
 * named after that module: an activation after a convolution is not folded into
 * its activation=, so that `rnc --trace` shows both values as PyTorch does (the
 * compiler's passes fuse them again in the code).
 *
 * Requires: onnx_infer without errors. Changes: the values' Layouts, the
 * nodes' done marks, the ImportModel. */
#include "onnx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct MapState {
    Onnx *o;
    Patterns pats;
} MapState;

static const char *emit(Onnx *o, const ONode *n, const char *op,
                        const char *const *in, int nin, const char *args) {
    return import_layer(o->m, op, n->name, in, nin, args);
}

const char *map_emit1(Onnx *o, const ONode *n, const char *op, const char *x,
                      const char *args) {
    return emit(o, n, op, &x, 1, args);
}

/* ------------------------------------------------------------ numbers */

/* The shortest decimal that reads back as the same float32 (ONNX's
 * attributes are float32): 1e-05 rather than 9.99999975e-06. The text
 * has no infinity or NaN: such a number is flagged for the node. */
const char *map_num(Onnx *o, double v) {
    char buf[48];
    if (!import_number(buf, sizeof buf, v)) {
        o->bad_number = true;
        return "0";
    }
    return arena_strdup(o->a, buf);
}

/* "3" or "[3, 1]" */
const char *map_pair(Onnx *o, int a, int b) {
    return a == b ? arena_printf(o->a, "%d", a)
                  : arena_printf(o->a, "[%d, %d]", a, b);
}

/* padding=... of t, b, l, r; "" when none */
static const char *pad_arg(Onnx *o, const int *p) {
    if (!p[0] && !p[1] && !p[2] && !p[3]) return "";
    if (p[0] == p[1] && p[2] == p[3])
        return arena_printf(o->a, ", padding=%s", map_pair(o, p[0], p[2]));
    return arena_printf(o->a, ", padding=[%d, %d, %d, %d]", p[0], p[1], p[2],
                        p[3]);
}

const char *map_window_args(Onnx *o, const Attrs *a, bool pool) {
    const char *s = "";
    if (pool ? a->s[0] != a->k[0] || a->s[1] != a->k[1]
             : a->s[0] != 1 || a->s[1] != 1)
        s = arena_printf(o->a, ", stride=%s", map_pair(o, a->s[0], a->s[1]));
    s = arena_printf(o->a, "%s%s", s, pad_arg(o, a->pads));
    if (a->d[0] != 1 || a->d[1] != 1)
        s = arena_printf(o->a, "%s, dilation=%s", s,
                         map_pair(o, a->d[0], a->d[1]));
    return s;
}

float *map_floats(Onnx *o, int64_t n) {
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
    if (!strcmp(op, "Selu") && onnx_near(a->alpha, 1.6732632423543772) &&
        onnx_near(a->beta, 1.0507009873554805))
        return "selu";
    if (!strcmp(op, "Elu") && a->alpha == 1) return "elu";
    if (!strcmp(op, "Clip") && a->has_lo && a->lo == 0 && a->has_hi &&
        a->hi == 6)
        return "relu6";
    if (!strcmp(op, "Clip") && a->has_lo && a->lo == 0 && !a->has_hi)
        return "relu";
    if (!strcmp(op, "Softmax") && lay_is_channel(n->in[0], n->a.axis))
        return "softmax";
    (void)o;
    return NULL;
}

/* --------------------------------------------------------------- ops */

static void activation(MapState *s, ONode *n) {
    Onnx *o = s->o;
    OValue *x = n->in[0];
    const Attrs *a = &n->a;
    const char *w = act_word(o, n, NULL), *y;
    if (w) {
        y = map_emit1(o, n, w, x->lay->var, NULL);
    } else if (!strcmp(n->op, "Clip")) {
        if (!a->has_lo || a->lo != 0 || !(a->hi >= 0)) {
            onnx_node_error(o, n,
                            "clips to [%g, %g] (rnc clips from 0 to a "
                            "maximum of at least 0)",
                            a->lo, a->hi);
            return;
        }
        y = map_emit1(o, n, "relu", x->lay->var,
                      arena_printf(o->a, "max_value=%s", map_num(o, a->hi)));
    } else if (!strcmp(n->op, "LeakyRelu")) {
        y = map_emit1(o, n, "leaky_relu", x->lay->var,
                      arena_printf(o->a, "alpha=%s", map_num(o, a->alpha)));
    } else if (!strcmp(n->op, "Elu")) {
        y = map_emit1(o, n, "elu", x->lay->var,
                      arena_printf(o->a, "alpha=%s", map_num(o, a->alpha)));
    } else if (!strcmp(n->op, "HardSigmoid")) {
        y = map_emit1(o, n, "hard_sigmoid", x->lay->var,
                      arena_printf(o->a, "alpha=%s, beta=%s",
                                   map_num(o, a->alpha), map_num(o, a->beta)));
    } else if (!strcmp(n->op, "Neg")) {
        y = map_emit1(o, n, "rescale", x->lay->var, "-1");
    } else if (!strcmp(n->op, "Softmax")) {
        onnx_node_error(o, n,
                        "a softmax over an axis that is not rnc's "
                        "channel axis");
        return;
    } else if (!strcmp(n->op, "Selu")) {
        onnx_node_error(o, n, "alpha and gamma other than Keras's selu");
        return;
    } else {
        onnx_node_error(o, n,
                        "appears outside the patterns rnc recognises "
                        "(GELU, LayerNorm)");
        return;
    }
    n->out[0]->lay = lay_relabel(o, x, y);
}

/* A pattern's layer, named after its root when that gives a module's
 * value (nn.GELU, nn.SiLU), else after its first node. */
static void pattern(MapState *s, Pattern *p) {
    Onnx *o = s->o;
    OValue *out = p->root->out[0];
    ONode *n = p->root->owner ? p->root : p->first;
    for (int i = 0; i < p->nnodes; i++) p->nodes[i]->done = true;
    if (p->kind == PAT_LAYERNORM) {
        map_layernorm(o, n, p->x, out, p->eps, p->gamma, p->beta);
    } else if (p->kind == PAT_SHUFFLE) {
        const char *x = lay_image_var(o, n, p->x);
        if (!x) return;
        const char *y = map_emit1(o, n, "channel_shuffle", x,
                                  arena_printf(o->a, "%d", p->groups));
        out->lay = lay_image(o, y, out);
    } else {
        const char *y =
            map_emit1(o, n, act_word(o, p->root, p), p->x->lay->var, NULL);
        out->lay = lay_relabel(o, p->x, y);
    }
}

static void pool(Onnx *o, ONode *n) {
    const char *x = lay_image_var(o, n, n->in[0]);
    if (!x) return;
    bool avg = !strcmp(n->op, "AveragePool");
    const Attrs *a = &n->a;
    bool padded = a->pads[0] || a->pads[1] || a->pads[2] || a->pads[3];
    const char *y = map_emit1(
        o, n, avg ? "avgpool" : "maxpool", x,
        arena_printf(
            o->a, "%s%s%s%s", map_pair(o, a->k[0], a->k[1]),
            map_window_args(o, a, true), a->ceil ? ", ceil_mode=true" : "",
            avg && a->count_pad && padded ? ", count_include_pad=true" : ""));
    n->out[0]->lay = lay_image(o, y, n->out[0]);
}

/* Only views read it: Flatten, Reshape, Squeeze (a global pooling can
 * then give a flat [C]). */
static bool only_views(Onnx *o, const OValue *v) {
    if (v->is_output) return false;
    for (int u = 0; u < v->nuses; u++) {
        const char *op = o->nodes[v->uses[u]].op;
        if (strcmp(op, "Flatten") && strcmp(op, "Reshape") &&
            strcmp(op, "Squeeze"))
            return false;
    }
    return true;
}

/* GlobalAveragePool, GlobalMaxPool, ReduceMean/ReduceMax over H and W. */
static void global_pool(Onnx *o, ONode *n) {
    OValue *x = n->in[0], *out = n->out[0];
    const Attrs *a = &n->a;
    /* the reduced axes cover .rn's H and W (where over 1), the one axis
     * left over 1 is the channel */
    bool ok = x->lay->shape.rank == 3;
    bool covered[2] = {x->lay->shape.d[0] == 1, x->lay->shape.d[1] == 1};
    int rest = -1;
    for (int i = 0; ok && i < x->rank; i++) {
        bool red = false;
        for (int k = 0; k < a->naxes; k++) red |= a->axes[k] == i;
        int ax = x->lay->axis[i];
        if (red && ax == 2 && x->dims[i] > 1)
            ok = false;
        else if (red && ax >= 0 && ax < 2)
            covered[ax] = true;
        else if (!red && ax == 2)
            rest = i;
        else if (!red && ax >= 0 && x->dims[i] > 1)
            ok = false;
    }
    if (!ok || rest < 0 || !covered[0] || !covered[1]) {
        onnx_node_error(o, n,
                        "reduces axes other than the height and width "
                        "of an image");
        return;
    }
    bool max = !strcmp(n->op, "GlobalMaxPool") || !strcmp(n->op, "ReduceMax");
    bool keep = a->keep && !only_views(o, out);
    const char *y = map_emit1(o, n, max ? "global_maxpool" : "global_avgpool",
                              x->lay->var, keep ? "keepdims=true" : NULL);
    int64_t c = x->lay->shape.d[2];
    Layout *l = lay_new(o, y, keep ? (Shape){3, {1, 1, c}} : (Shape){1, {c}});
    /* the channel keeps its place among the output's axes */
    for (int i = 0, k = 0; i < x->rank; i++) {
        bool red = false;
        for (int j = 0; j < a->naxes; j++) red |= a->axes[j] == i;
        if (red && !a->keep) continue;
        l->axis[k++] = i == rest ? (keep ? 2 : 0) : -1;
    }
    out->lay = l;
}

/* ---------------------------------------------------------- arithmetic */

/* The values of constant c along the channel of runtime value x (the
 * constant broadcast against x's ONNX shape); NULL when c varies along
 * another axis or broadcasts x itself. *per_channel false for a scalar. */
float *map_channel_values(Onnx *o, const OValue *x, const OValue *c,
                          int64_t *nch) {
    if (c->rank > x->rank) return NULL;
    int ch = -1;
    for (int k = 0; k < c->rank; k++) {
        int i = k + (x->rank - c->rank);
        if (c->dims[k] == 1) continue;
        if (c->dims[k] != x->dims[i] || ch >= 0 || !lay_is_channel(x, i))
            return NULL;
        ch = k;
    }
    *nch = ch < 0 ? 1 : c->dims[ch];
    float *v = map_floats(o, *nch);
    for (int64_t i = 0; i < *nch; i++) v[i] = cf(c->c, i);
    return v;
}

/* An op of a runtime value x and a constant c (c first when c_first). */
static void with_const(Onnx *o, ONode *n, OValue *x, OValue *c, bool c_first) {
    const char *op = n->op;
    int64_t nch;
    float *v = map_channel_values(o, x, c, &nch);
    if (!v) {
        onnx_node_error(o, n,
                        "a constant that is neither one value nor one "
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
        const char *k = map_num(o, v[0]), *args;
        if (div && v[0] == 0) {
            onnx_node_error(o, n, "divides by zero");
            return;
        }
        if (mul)
            args = k;
        else if (div)
            args = arena_printf(o->a, "1/%s", k);
        else if (add)
            args = arena_printf(o->a, "1, offset=%s", k);
        else if (sub && !c_first)
            args = arena_printf(o->a, "1, offset=%s", map_num(o, -v[0]));
        else if (sub)
            args = arena_printf(o->a, "-1, offset=%s", k);
        else if (!strcmp(op, "Max") && v[0] == 0) {
            y = map_emit1(o, n, "relu", x->lay->var, NULL);
            n->out[0]->lay = lay_relabel(o, x, y);
            return;
        } else {
            onnx_node_error(o, n, "with a constant of %g", v[0]);
            return;
        }
        y = map_emit1(o, n, "rescale", x->lay->var, args);
        n->out[0]->lay = lay_relabel(o, x, y);
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
    float *k = map_floats(o, nch), *b = map_floats(o, nch);
    for (int64_t i = 0; i < nch; i++) {
        k[i] = mul ? v[i] : div ? 1 / v[i] : sub && c_first ? -1 : 1;
        b[i] = add ? v[i] : sub ? (c_first ? v[i] : -v[i]) : 0;
    }
    y = map_emit1(o, n, "depthwise_conv2d", x->lay->var,
                  (add || sub) ? "1" : "1, bias=false");
    import_note(o->m,
                arena_printf(o->a, "%s by a constant per channel", n->op));
    import_weight(o->m, "depthwise_kernel", 4, (int64_t[]){1, 1, nch, 1}, k);
    if (add || sub) import_weight(o->m, "bias", 1, &nch, b);
    n->out[0]->lay = lay_relabel(o, x, y);
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
        if (ax < 0 || !lay_axis_is(small, i, ax)) return NULL;
    }
    for (int r = 0; r < a->lay->shape.rank; r++) {
        int64_t x = a->lay->shape.d[r], y = b->lay->shape.d[r];
        if (x != y && x != 1 && y != 1) return NULL;
    }
    bool a_full =
        !memcmp(a->dims, out->dims, (size_t)out->rank * sizeof *a->dims);
    bool b_full =
        !memcmp(b->dims, out->dims, (size_t)out->rank * sizeof *b->dims);
    return a_full ? a : b_full ? b : NULL;
}

static void binary(Onnx *o, ONode *n) {
    OValue *a = n->in[0], *b = n->in[1];
    if (a->c || b->c) {
        with_const(o, n, a->c ? b : a, a->c ? a : b, a->c != NULL);
        return;
    }
    static const char *const ops[][2] = {{"Add", "add"},
                                         {"Sub", "subtract"},
                                         {"Mul", "multiply"},
                                         {"Max", "maximum"},
                                         {"Min", "minimum"}};
    const char *word = NULL;
    for (int i = 0; i < 5; i++)
        if (!strcmp(n->op, ops[i][0])) word = ops[i][1];
    if (!word) {
        onnx_node_error(o, n,
                        "divides two tensors computed at run time "
                        "(rnc has no op for that)");
        return;
    }
    /* a [1, C, 1, 1] held flat meets an image: make it an image */
    if (a->rank == 4 && b->rank == 4 && lay_is_image(a) != lay_is_image(b) &&
        !lay_image_var(o, n, lay_is_image(a) ? b : a))
        return;
    OValue *full = aligned(n->out[0], a, b);
    if (!full) {
        onnx_node_error(o, n, "operands whose layouts rnc cannot line up");
        return;
    }
    const char *in[2] = {a->lay->var, b->lay->var};
    const char *y = emit(o, n, word, in, 2, NULL);
    n->out[0]->lay = lay_relabel(o, full, y);
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
        if (v->c || !lay_is_channel(v, n->a.axis) ||
            v->lay->shape.rank != x->lay->shape.rank) {
            onnx_node_error(o, n,
                            "joins along an axis that is not rnc's "
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
    Layout *l = lay_relabel(o, x, y);
    l->shape.d[l->shape.rank - 1] = n->out[0]->dims[n->a.axis];
    n->out[0]->lay = l;
}

static void channel_slice(Onnx *o, ONode *n, OValue *x, OValue *out, int axis,
                          int64_t start, int64_t stop) {
    if (!lay_is_channel(x, axis)) {
        onnx_node_error(o, n, "slices an axis that is not rnc's channel axis");
        return;
    }
    const char *y = map_emit1(
        o, n, "channel_slice", x->lay->var,
        arena_printf(o->a, "%lld, %lld", (long long)start, (long long)stop));
    Layout *l = lay_relabel(o, x, y);
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
    if (lay_is_channel(x, axis)) {
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
    const char *y = map_emit1(
        o, n, "crop", x->lay->var,
        arena_printf(o->a, "[%lld, %lld, %lld, %lld]", (long long)cut[0],
                     (long long)cut[1], (long long)cut[2], (long long)cut[3]));
    Layout *l = lay_relabel(o, x, y);
    l->shape.d[ax] = out->dims[axis];
    out->lay = l;
}

/* A Pad whose zeros an AveragePool (its only reader, without pads of its
 * own) takes into its window: the pool's padding with
 * count_include_pad=true computes the same when the pads are smaller than
 * the window (the language's rule) and ceil_mode adds no window (the
 * padded size minus the window a multiple of the stride). PyTorch's
 * AvgPool2d(padding=p) exports so. The pool then reads the Pad's input. */
static bool pad_into_pool(Onnx *o, ONode *n) {
    OValue *v = n->out[0];
    if (v->is_output || v->nuses != 1) return false;
    ONode *u = &o->nodes[v->uses[0]];
    const int *p = n->a.pads, *q = u->a.pads;
    if (strcmp(u->op, "AveragePool") || u->done || q[0] || q[1] || q[2] || q[3])
        return false;
    for (int ax = 0; ax < 2; ax++) {
        int64_t padded = v->dims[2 + ax];
        if (p[2 * ax] >= u->a.k[ax] || p[2 * ax + 1] >= u->a.k[ax] ||
            (u->a.ceil && (padded - u->a.k[ax]) % u->a.s[ax] != 0))
            return false;
    }
    memcpy(u->a.pads, p, sizeof u->a.pads);
    u->a.count_pad = true;
    u->a.ceil = false; /* it adds no window here */
    v->lay = lay_relabel(o, n->in[0], n->in[0]->lay->var); /* unpadded */
    return true;
}

static void zeropad(Onnx *o, ONode *n) {
    const int *p = n->a.pads;
    if (!p[0] && !p[1] && !p[2] && !p[3]) { /* no padding at all */
        n->out[0]->lay = n->in[0]->lay;
        return;
    }
    if (lay_is_image(n->in[0]) && pad_into_pool(o, n)) return;
    const char *x = lay_image_var(o, n, n->in[0]);
    if (!x) return;
    const char *y = map_emit1(
        o, n, "zeropad", x,
        p[0] == p[1] && p[1] == p[2] && p[2] == p[3]
            ? arena_printf(o->a, "%d", p[0])
            : arena_printf(o->a, "[%d, %d, %d, %d]", p[0], p[1], p[2], p[3]));
    n->out[0]->lay = lay_image(o, y, n->out[0]);
}

static void upsample(Onnx *o, ONode *n) {
    const char *x = lay_image_var(o, n, n->in[0]);
    if (!x) return;
    const Attrs *a = &n->a;
    bool bilinear = !strcmp(a->mode, "bilinear");
    const char *y = map_emit1(
        o, n, "upsample", x,
        arena_printf(o->a, "%s%s%s",
                     a->scale[0] == 2 && a->scale[1] == 2
                         ? ""
                         : arena_printf(o->a, "size=%s",
                                        map_pair(o, a->scale[0], a->scale[1])),
                     bilinear ? (a->scale[0] == 2 && a->scale[1] == 2
                                     ? "interpolation=bilinear"
                                     : ", interpolation=bilinear")
                              : "",
                     a->align ? ", align_corners=true" : ""));
    n->out[0]->lay = lay_image(o, y, n->out[0]);
}

/* ----------------------------------------------------------- the walk */

static const char *shape_text(Onnx *o, const Shape *s) {
    return s->rank == 3
               ? arena_printf(o->a, "%lld, %lld, %lld", (long long)s->d[0],
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
        v->lay = image ? lay_image(o, var, v) : lay_flat(o, var, v);
        import_comment(o->m, "Input %s: %s [%s] -> %s %s[%s]", v->name,
                       image ? "NCHW" : "ONNX", lay_dims_text(o, v),
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
        if (v->rank == 4 && !lay_is_image(v) && v->lay->shape.rank == 1 &&
            !(var = lay_image_var(o, &fake, v)))
            continue;
        if (v->lay->from.rank == 3) {
            onnx_error(o,
                       "output '%s' is an image flattened in C, H, W order, "
                       "which rnc's NHWC flatten does not give",
                       v->name);
            continue;
        }
        import_output(o->m, var);
        import_comment(o->m, "Output %s: [%s] -> layer %s [%s]%s", v->name,
                       lay_dims_text(o, v), import_name_of(o->m, var),
                       shape_text(o, &v->lay->shape),
                       lay_is_image(v) ? " (NHWC)" : "");
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
    if (!strcmp(op, "Conv"))
        map_conv(o, n);
    else if (!strcmp(op, "ConvTranspose"))
        map_conv_transpose(o, n);
    else if (!strcmp(op, "BatchNormalization"))
        map_batchnorm(o, n);
    else if (!strcmp(op, "LayerNormalization"))
        map_layernorm(o, n, n->in[0], n->out[0], n->a.eps, n->in[1]->c,
                      n->nin > 2 && n->in[2] ? n->in[2]->c : NULL);
    else if (!strcmp(op, "PRelu"))
        map_prelu(o, n);
    else if (!strcmp(op, "Add") || !strcmp(op, "Sub") || !strcmp(op, "Mul") ||
             !strcmp(op, "Div") || !strcmp(op, "Max") || !strcmp(op, "Min")) {
        if (n->nin == 1)
            n->out[0]->lay = n->in[0]->lay;
        else
            binary(o, n);
    } else if (!strcmp(op, "MaxPool") || !strcmp(op, "AveragePool"))
        pool(o, n);
    else if (!strcmp(op, "GlobalAveragePool") || !strcmp(op, "GlobalMaxPool") ||
             !strcmp(op, "ReduceMean") || !strcmp(op, "ReduceMax"))
        global_pool(o, n);
    else if (!strcmp(op, "Flatten") || !strcmp(op, "Reshape") ||
             !strcmp(op, "Squeeze") || !strcmp(op, "Unsqueeze") ||
             !strcmp(op, "Transpose"))
        lay_view(o, n);
    else if (!strcmp(op, "Identity") || !strcmp(op, "Dropout") ||
             !strcmp(op, "Cast"))
        n->out[0]->lay = n->in[0]->lay;
    else if (!strcmp(op, "Concat"))
        concat(o, n);
    else if (!strcmp(op, "Split"))
        split(o, n);
    else if (!strcmp(op, "Slice"))
        slice(o, n);
    else if (!strcmp(op, "Gemm"))
        map_gemm(o, n);
    else if (!strcmp(op, "MatMul"))
        map_matmul(o, n);
    else if (!strcmp(op, "Pad"))
        zeropad(o, n);
    else if (!strcmp(op, "Resize") || !strcmp(op, "Upsample"))
        upsample(o, n);
    else if (!strcmp(op, "Pow"))
        onnx_node_error(o, n,
                        "appears outside the patterns rnc recognises "
                        "(LayerNorm)");
    else
        activation(s, n);
}

void onnx_map(Onnx *o) {
    MapState s = {.o = o};
    onnx_patterns(o, &s.pats);
    inputs(o);
    for (int j = 0; j < o->nnodes; j++) {
        ONode *n = &o->nodes[o->order[j]];
        if (!n->live || n->done || !n->out[0] || n->out[0]->c) continue;
        if (n->pattern >= 0) { /* the pattern's layer comes at its root */
            Pattern *p = &s.pats.p[n->pattern];
            if (n == p->root && p->x->lay) pattern(&s, p);
            continue;
        }
        if (!inputs_known(n)) continue;
        if (!onnx_spend(o, n, 0)) break;
        int errors = o->nerrors;
        o->bad_number = false;
        node(&s, n);
        n->done = true;
        if (o->bad_number)
            onnx_node_error(o, n,
                            "an attribute or constant that is not a "
                            "finite number (as float32)");
        if (o->nerrors == errors && !n->out[0]->lay &&
            (n->out[0]->nuses || n->out[0]->is_output))
            die("onnx_map: node %s (%s) gave no value", n->label, n->op);
    }
    outputs(o);
}
