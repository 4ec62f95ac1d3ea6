/* onnx_infer.c: every live node's output shapes, in ONNX's own terms
 * (NCHW), with its inputs, outputs and attributes checked against a table
 * of the ops rnc maps, and its attributes decoded into ONode.a. The rules
 * of the layer ops are here, but those of the ops on H and W (windows,
 * Pad, Resize: onnx_window.c); the constant and view ops' are in
 * onnx_fold.c.
 *
 * Requires: the graph built and sorted (import_onnx.c). Changes: the
 * shapes and constants of the values, the nodes' Attrs. A node that cannot
 * be taken is reported and its outputs left unknown (rank -1); nodes that
 * read an unknown value are skipped without a second message. */
#include "onnx.h"

#include <math.h>
#include <string.h>

typedef bool (*InferFn)(Onnx *o, ONode *n);

typedef struct OpRule {
    const char *op;
    int min_in, max_in; /* inputs given (the first min_in required) */
    int max_out;        /* outputs that may be used */
    const char *attrs;  /* the attributes understood, space separated */
    InferFn infer;
} OpRule;

/* ------------------------------------------------------------ layers */

static bool vector_const(Onnx *o, ONode *n, int k, int64_t c,
                         const char *what) {
    OValue *v = fold_in(n, k);
    if (v && v->c && v->c->count == c) return true;
    onnx_node_error(o, n, "%s must be a constant of %lld values", what,
                    (long long)c);
    return false;
}

/* The node's "epsilon" (ONNX's default 1e-5) into n->a.eps; false, said,
 * unless positive. */
static bool positive_eps(Onnx *o, ONode *n) {
    n->a.eps = attr_float(o, n, "epsilon", 1e-5);
    if (n->a.eps > 0) return true;
    onnx_node_error(o, n, "epsilon %g (rnc takes a positive one)", n->a.eps);
    return false;
}

static bool infer_batchnorm(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    if (x->rank < 2) {
        onnx_node_error(o, n, "a rank-%d input", x->rank);
        return false;
    }
    int64_t c = x->dims[1];
    static const char *const what[4] = {"scale", "bias", "mean", "var"};
    for (int k = 1; k <= 4; k++)
        if (!vector_const(o, n, k, c, what[k - 1])) return false;
    if (attr_int(o, n, "training_mode", 0) != 0) {
        onnx_node_error(o, n,
                        "training_mode 1 (export the model in eval "
                        "mode)");
        return false;
    }
    (void)attr_float(o, n, "momentum", 0.9);
    if (!positive_eps(o, n)) return false;
    fold_same_shape(n);
    return true;
}

static bool infer_layernorm(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axis;
    if (!fold_axis(o, n, attr_int(o, n, "axis", -1), x->rank, &axis))
        return false;
    if (axis != x->rank - 1) {
        onnx_node_error(o, n,
                        "normalizes from axis %d (rnc normalizes the "
                        "last axis)",
                        axis);
        return false;
    }
    int64_t c = x->dims[axis];
    if (!vector_const(o, n, 1, c, "scale") ||
        (fold_in(n, 2) && !vector_const(o, n, 2, c, "bias")))
        return false;
    (void)attr_int(o, n, "stash_type", 1);
    n->a.axis = axis;
    if (!positive_eps(o, n)) return false;
    fold_same_shape(n);
    return true;
}

static bool infer_unary(Onnx *o, ONode *n) {
    Attrs *a = &n->a;
    if (n->in[0]->c) {
        onnx_node_error(o, n, "an activation of a constant");
        return false;
    }
    if (!strcmp(n->op, "LeakyRelu")) a->alpha = attr_float(o, n, "alpha", 0.01);
    if (!strcmp(n->op, "Elu")) a->alpha = attr_float(o, n, "alpha", 1.0);
    if (!strcmp(n->op, "Selu")) {
        a->alpha = attr_float(o, n, "alpha", 1.67326319217681884765625);
        a->beta = attr_float(o, n, "gamma", 1.05070102214813232421875);
    }
    if (!strcmp(n->op, "HardSigmoid")) {
        a->alpha = attr_float(o, n, "alpha", 0.2);
        a->beta = attr_float(o, n, "beta", 0.5);
    }
    if (!strcmp(n->op, "Softmax")) {
        OValue *x = n->in[0];
        int axis;
        if (!fold_axis(o, n, attr_int(o, n, "axis", o->opset >= 13 ? -1 : 1),
                       x->rank, &axis))
            return false;
        /* before opset 13 the input is seen as 2-D, [:axis] x [axis:] */
        for (int i = axis; o->opset < 13 && i < x->rank - 1; i++)
            if (x->dims[i] != 1) {
                onnx_node_error(o, n, "a softmax over several axes");
                return false;
            }
        a->axis = o->opset < 13 ? x->rank - 1 : axis;
    }
    if (!strcmp(n->op, "Clip")) {
        double lo, hi;
        if (!fold_scalar(o, n, 1, "min", -INFINITY, &lo, &a->has_lo) ||
            !fold_scalar(o, n, 2, "max", INFINITY, &hi, &a->has_hi))
            return false;
        a->lo = lo;
        a->hi = hi;
    }
    fold_same_shape(n);
    return true;
}

static bool infer_prelu(Onnx *o, ONode *n) {
    if (!fold_need_const(o, n, 1, "the slope")) return false;
    int r;
    int64_t dims[ONNX_MAX_RANK];
    if (!fold_broadcast(o, n, n->in[0], n->in[1], &r, dims)) return false;
    if (r != n->in[0]->rank) {
        onnx_node_error(o, n, "the slope has a higher rank than the input");
        return false;
    }
    fold_same_shape(n);
    return true;
}

static bool infer_gemm(Onnx *o, ONode *n) {
    OValue *a = n->in[0], *b = n->in[1], *c = fold_in(n, 2);
    Attrs *at = &n->a;
    at->trans_a = attr_int(o, n, "transA", 0) != 0;
    at->trans_b = attr_int(o, n, "transB", 0) != 0;
    at->alpha = attr_float(o, n, "alpha", 1);
    at->beta = attr_float(o, n, "beta", 1);
    if (a->rank != 2 || at->trans_a || a->c) {
        onnx_node_error(o, n,
                        "the first input must be a [1, K] tensor "
                        "computed at run time, not transposed");
        return false;
    }
    if (!fold_need_const(o, n, 1, "the second input")) return false;
    if (b->rank != 2) {
        onnx_node_error(o, n, "the second input must be a matrix (rank 2)");
        return false;
    }
    int64_t k = at->trans_b ? b->dims[1] : b->dims[0];
    int64_t units = at->trans_b ? b->dims[0] : b->dims[1];
    if (k != a->dims[1] || units < 1) {
        onnx_node_error(o, n,
                        "shapes [%lld, %lld] and [%lld, %lld] do not "
                        "multiply",
                        (long long)a->dims[0], (long long)a->dims[1],
                        (long long)b->dims[0], (long long)b->dims[1]);
        return false;
    }
    if (c && (!c->c || (c->c->count != units && c->c->count != 1))) {
        onnx_node_error(o, n, "C must be a constant of %lld values or one",
                        (long long)units);
        return false;
    }
    int64_t dims[2] = {a->dims[0], units};
    if (!fold_runtime_ok(o, n, 2, dims)) return false;
    fold_set_shape(n->out[0], 2, dims, DT_FLOAT);
    return true;
}

static bool infer_matmul(Onnx *o, ONode *n) {
    OValue *a = n->in[0], *b = n->in[1];
    if (a->c || !b->c || b->rank != 2 || a->rank < 2) {
        onnx_node_error(o, n,
                        "multiplies a tensor computed at run time by a "
                        "constant matrix only");
        return false;
    }
    if (a->dims[a->rank - 1] != b->dims[0]) {
        onnx_node_error(o, n, "inner dimensions %lld and %lld differ",
                        (long long)a->dims[a->rank - 1], (long long)b->dims[0]);
        return false;
    }
    int64_t dims[ONNX_MAX_RANK];
    for (int i = 0; i < a->rank; i++) dims[i] = a->dims[i];
    dims[a->rank - 1] = b->dims[1];
    if (!fold_runtime_ok(o, n, a->rank, dims)) return false;
    fold_set_shape(n->out[0], a->rank, dims, DT_FLOAT);
    return true;
}

static bool infer_split(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axis;
    if (!fold_axis(o, n, attr_int(o, n, "axis", 0), x->rank, &axis))
        return false;
    n->a.axis = axis;
    int64_t sizes[ONNX_MAX_SMALL < 4096 ? ONNX_MAX_SMALL : 4096];
    int cnt = -1, nout = n->nout;
    if (nout < 1 || nout > 4096) {
        onnx_node_error(o, n, "%d outputs", nout);
        return false;
    }
    if (o->opset >= 13) {
        if (fold_in(n, 1) && !fold_ints(o, n, 1, "split", sizes, nout, &cnt))
            return false;
    } else if (onnx_attr(n, "split")) {
        cnt = attr_ints(o, n, "split", sizes, nout);
        if (cnt < 0) return false;
    }
    int64_t total = 0;
    if (cnt < 0) {
        if (x->dims[axis] % nout) {
            onnx_node_error(o, n, "splits %lld in %d equal parts",
                            (long long)x->dims[axis], nout);
            return false;
        }
        cnt = nout;
        for (int i = 0; i < nout; i++) sizes[i] = x->dims[axis] / nout;
    }
    if (cnt != nout) {
        onnx_node_error(o, n, "%d sizes for %d outputs", cnt, nout);
        return false;
    }
    n->a.split = arena_alloc(o->a, (size_t)nout * sizeof *n->a.split);
    for (int i = 0; i < nout; i++) {
        if (sizes[i] < 1 || sizes[i] > x->dims[axis] - total) {
            onnx_node_error(o, n, "split sizes do not add up to %lld",
                            (long long)x->dims[axis]);
            return false;
        }
        total += sizes[i];
        n->a.split[i] = sizes[i];
    }
    if (total != x->dims[axis]) {
        onnx_node_error(o, n, "split sizes do not add up to %lld",
                        (long long)x->dims[axis]);
        return false;
    }
    if (x->c) {
        onnx_node_error(o, n, "splits a constant");
        return false;
    }
    for (int i = 0; i < nout; i++) {
        int64_t dims[ONNX_MAX_RANK];
        for (int d = 0; d < x->rank; d++) dims[d] = x->dims[d];
        dims[axis] = sizes[i];
        fold_set_shape(n->out[i], x->rank, dims, DT_FLOAT);
    }
    return true;
}

/* ------------------------------------------------------------- table */

static const OpRule rules[] = {
    {"Constant", 0, 0, 1, "value value_float value_int value_floats value_ints",
     fold_constant},
    {"Identity", 1, 1, 1, "", fold_identity},
    {"Dropout", 1, 3, 1, "seed", fold_dropout},
    {"Shape", 1, 1, 1, "start end", fold_shape},
    {"Gather", 2, 2, 1, "axis", fold_gather},
    {"Unsqueeze", 1, 2, 1, "axes", fold_unsqueeze},
    {"Squeeze", 1, 2, 1, "axes", fold_squeeze},
    {"Concat", 1, 4096, 1, "axis", fold_concat},
    {"Slice", 3, 5, 1, "", fold_slice},
    {"Cast", 1, 1, 1, "to saturate", fold_cast},
    {"Add", 2, 2, 1, "", fold_binary},
    {"Sub", 2, 2, 1, "", fold_binary},
    {"Mul", 2, 2, 1, "", fold_binary},
    {"Div", 2, 2, 1, "", fold_binary},
    {"Pow", 2, 2, 1, "", fold_binary},
    {"Max", 1, 2, 1, "", fold_binary},
    {"Min", 1, 2, 1, "", fold_binary},
    {"ConstantOfShape", 1, 1, 1, "value", fold_constant_of_shape},
    {"Range", 3, 3, 1, "", fold_range},
    {"Reshape", 2, 2, 1, "allowzero", fold_reshape},
    {"Flatten", 1, 1, 1, "axis", fold_flatten},
    {"Transpose", 1, 1, 1, "perm", fold_transpose},
    {"Conv", 2, 3, 1, "auto_pad dilations group kernel_shape pads strides",
     infer_conv},
    {"ConvTranspose", 2, 3, 1,
     "auto_pad dilations group kernel_shape pads "
     "strides output_padding output_shape",
     infer_conv},
    {"MaxPool", 1, 1, 1,
     "auto_pad ceil_mode dilations kernel_shape pads "
     "storage_order strides",
     infer_pool},
    {"AveragePool", 1, 1, 1,
     "auto_pad ceil_mode count_include_pad "
     "kernel_shape pads strides",
     infer_pool},
    {"GlobalAveragePool", 1, 1, 1, "", infer_global_pool},
    {"GlobalMaxPool", 1, 1, 1, "", infer_global_pool},
    {"ReduceMean", 1, 2, 1, "axes keepdims", infer_reduce},
    {"ReduceMax", 1, 2, 1, "axes keepdims", infer_reduce},
    {"BatchNormalization", 5, 5, 1, "epsilon momentum training_mode",
     infer_batchnorm},
    {"LayerNormalization", 2, 3, 1, "axis epsilon stash_type", infer_layernorm},
    {"Relu", 1, 1, 1, "", infer_unary},
    {"LeakyRelu", 1, 1, 1, "alpha", infer_unary},
    {"Elu", 1, 1, 1, "alpha", infer_unary},
    {"Selu", 1, 1, 1, "alpha gamma", infer_unary},
    {"Sigmoid", 1, 1, 1, "", infer_unary},
    {"Tanh", 1, 1, 1, "", infer_unary},
    {"Softmax", 1, 1, 1, "axis", infer_unary},
    {"HardSigmoid", 1, 1, 1, "alpha beta", infer_unary},
    {"HardSwish", 1, 1, 1, "", infer_unary},
    {"Softplus", 1, 1, 1, "", infer_unary},
    {"Softsign", 1, 1, 1, "", infer_unary},
    {"Exp", 1, 1, 1, "", infer_unary},
    {"Neg", 1, 1, 1, "", infer_unary},
    {"Erf", 1, 1, 1, "", infer_unary},
    {"Sqrt", 1, 1, 1, "", infer_unary},
    {"Clip", 1, 3, 1, "", infer_unary},
    {"PRelu", 2, 2, 1, "", infer_prelu},
    {"Gemm", 2, 3, 1, "alpha beta transA transB", infer_gemm},
    {"MatMul", 2, 2, 1, "", infer_matmul},
    {"Pad", 2, 3, 1, "mode", infer_pad},
    {"Resize", 1, 4, 1,
     "coordinate_transformation_mode cubic_coeff_a "
     "exclude_outside extrapolation_value mode nearest_mode",
     infer_resize},
    {"Upsample", 2, 2, 1, "mode", infer_resize},
    {"Split", 1, 2, 4096, "axis split", infer_split},
};
enum { NRULES = sizeof rules / sizeof rules[0] };

/* Is word one of the space-separated words of list? */
static bool in_list(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, word, n)) return true;
        p += len + (e != NULL);
    }
    return false;
}

/* The checks every op shares: domain, counts of inputs and used outputs,
 * attributes known. */
static bool check_node(Onnx *o, ONode *n, const OpRule *r) {
    bool ok = true;
    const char *d = n->p->domain;
    if (d && *d && strcmp(d, "ai.onnx")) {
        onnx_node_error(o, n, "operator of domain '%s'", d);
        return false;
    }
    if (n->nin < r->min_in || n->nin > r->max_in) {
        onnx_node_error(o, n, "%d inputs (takes %d to %d)", n->nin, r->min_in,
                        r->max_in);
        return false;
    }
    for (int k = 0; k < r->min_in; k++)
        if (!n->in[k]) {
            onnx_node_error(o, n, "input %d is left out", k);
            return false;
        }
    if (n->nout < 1 || !n->out[0]) {
        onnx_node_error(o, n, "has no output");
        return false;
    }
    for (int k = r->max_out; k < n->nout; k++)
        if (n->out[k] && (n->out[k]->nuses || n->out[k]->is_output)) {
            onnx_node_error(o, n,
                            "output %d is used (rnc computes only the "
                            "first %d)",
                            k, r->max_out);
            ok = false;
        }
    for (size_t i = 0; i < n->p->n_attribute; i++) {
        const char *name =
            n->p->attribute[i]->name ? n->p->attribute[i]->name : "";
        if (!in_list(r->attrs, name)) {
            onnx_node_error(o, n, "attribute '%s' is not supported",
                            name[0] ? name : "(no name)");
            ok = false;
        }
    }
    return ok;
}

/* The runtime graph inputs: float, NCHW images or [N, F] vectors, batch
 * 1 (a symbolic batch is taken as 1; --input-shape gives symbolic H, W). */
static void infer_inputs(Onnx *o) {
    const Onnx__GraphProto *g = o->model->graph;
    for (int i = 0; i < o->ninputs; i++) {
        OValue *v = o->inputs[i];
        const Onnx__ValueInfoProto *vi = NULL;
        for (size_t k = 0; k < g->n_input && !vi; k++)
            if (g->input[k]->name && !strcmp(g->input[k]->name, v->name))
                vi = g->input[k];
        const Onnx__TypeProto__Tensor *t =
            vi && vi->type ? vi->type->tensor_type : NULL;
        const char *nm = v->name;
        if (!t || !t->shape || (t->has_elem_type && t->elem_type != 1)) {
            onnx_error(o, "input '%s' is not a float tensor with a shape", nm);
            continue;
        }
        size_t r = t->shape->n_dim;
        if (r != 2 && r != 4) {
            onnx_error(o,
                       "input '%s' has rank %zu (rnc takes [N, C, H, W] "
                       "images and [N, F] vectors)",
                       nm, r);
            continue;
        }
        bool ok = true;
        for (size_t k = 0; k < r && ok; k++) {
            const Onnx__TensorShapeProto__Dimension *d = t->shape->dim[k];
            bool sym = d->value_case !=
                       ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            int64_t val = sym ? 0 : d->dim_value;
            if (k == 0) {
                if (!sym && val != 1) {
                    onnx_error(o,
                               "input '%s' has batch %lld (rnc compiles "
                               "batch 1)",
                               nm, (long long)val);
                    ok = false;
                }
                val = 1;
            } else if (r == 4 && o->opt && o->opt->input_hwc[0] > 0) {
                static const int from[4] = {0, 2, 0, 1};
                int64_t given = o->opt->input_hwc[from[k]];
                if (!sym && val != given) {
                    onnx_error(o,
                               "input '%s' has %s %lld, not %lld as "
                               "--input-shape says",
                               nm,
                               k == 1   ? "channels"
                               : k == 2 ? "height"
                                        : "width",
                               (long long)val, (long long)given);
                    ok = false;
                }
                val = given;
            } else if (sym) {
                onnx_error(o,
                           "input '%s' has a symbolic %s; give the size "
                           "with --input-shape H,W,C",
                           nm,
                           r == 2   ? "width"
                           : k == 1 ? "channel count"
                           : k == 2 ? "height"
                                    : "width");
                ok = false;
            }
            if (ok && (val < 1 || val > (1 << 24))) {
                onnx_error(o, "input '%s' has a dimension of %lld", nm,
                           (long long)val);
                ok = false;
            }
            v->dims[k] = val;
        }
        if (ok && dims_count((int)r, v->dims) < 0) {
            onnx_error(o, "input '%s' holds over 2^29 values", nm);
            ok = false;
        }
        if (ok) {
            v->rank = (int)r;
            v->dt = DT_FLOAT;
        }
    }
}

void onnx_infer(Onnx *o) {
    infer_inputs(o);
    for (int j = 0; j < o->nnodes; j++) {
        ONode *n = &o->nodes[o->order[j]];
        if (!n->live) continue;
        bool known = true;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] && n->in[k]->rank < 0) known = false;
        if (!known) continue; /* reported where it went unknown */
        const OpRule *r = NULL;
        for (int i = 0; i < NRULES && !r; i++)
            if (!strcmp(rules[i].op, n->op)) r = &rules[i];
        if (!r) {
            onnx_node_error(o, n, "operator %s is not supported", n->op);
            continue;
        }
        if (!check_node(o, n, r)) continue;
        int errors = o->nerrors;
        if (!r->infer(o, n) || !onnx_spend(o, n, 0)) {
            /* every rule says why it fails; this is for one that would not */
            if (o->nerrors == errors)
                onnx_node_error(o, n, "cannot be imported");
            for (int k = 0; k < n->nout; k++)
                if (n->out[k]) n->out[k]->rank = -1;
        } else if (fold_all_const(n) && strcmp(n->op, "Shape") &&
                   !n->out[0]->c) {
            onnx_node_error(o, n,
                            "computes on constants only, which rnc "
                            "does not fold for this operator");
            n->out[0]->rank = -1;
        }
    }
}
