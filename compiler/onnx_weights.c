/* onnx_weights.c: the ONNX nodes that become .rn layers owning weights:
 * Conv (conv2d, depthwise_conv2d), ConvTranspose, BatchNormalization,
 * LayerNormalization (the op or its pattern), Gemm and MatMul (dense,
 * with the Add of a bias), PRelu. Their ONNX tensors are transposed to
 * Keras's layouts (the language's weights): conv kernels
 * [kh, kw, cin/groups, filters], depthwise [kh, kw, C, multiplier],
 * transposed [kh, kw, filters, cin], dense [in, units], the rows of a dense
 * after a flatten of [C, H, W] permuted so that PyTorch's order is kept.
 *
 * Requires: the node's inputs mapped (onnx_map.c walks the graph and calls
 * these). Changes: the ImportModel (one layer and its weights), the
 * Layout of the node's outputs. */
#include "onnx.h"

#include <string.h>

static float cf(const Const *c, int64_t i) { return (float)const_get(c, i); }

void map_conv(Onnx *o, ONode *n) {
    const char *x = lay_image_var(o, n, n->in[0]);
    if (!x) return;
    const OValue *w = n->in[1], *b = n->in[2 < n->nin ? 2 : 0];
    if (n->nin < 3) b = NULL;
    int64_t cin = n->in[0]->dims[1], g = n->a.group, kh = w->dims[2],
            kw = w->dims[3];
    int64_t cout = n->out[0]->dims[1], cg = cin / g;
    bool depthwise = g == cin && g > 1;
    Layout *l = lay_image(o, NULL, n->out[0]);
    n->out[0]->lay = l;
    /* the arguments in the order of the language's signatures */
    int64_t mult = cout / cin;
    const char *extra =
        depthwise && mult > 1
            ? arena_printf(o->a, ", multiplier=%lld", (long long)mult)
        : !depthwise && g > 1
            ? arena_printf(o->a, ", groups=%lld", (long long)g)
            : "";
    const char *rest =
        arena_printf(o->a, "%s%s%s", map_window_args(o, &n->a, false), extra,
                     b ? "" : ", bias=false");
    const char *y;
    float *k = map_floats(o, w->c->count);
    if (depthwise) {
        y = map_emit1(
            o, n, "depthwise_conv2d", x,
            arena_printf(o->a, "%s%s", map_pair(o, (int)kh, (int)kw), rest));
        /* W[c * mult + m][0][i][j] -> kernel[i][j][c][m] */
        for (int64_t oc = 0; oc < cout; oc++)
            for (int64_t i = 0; i < kh * kw; i++)
                k[i * cout + oc] = cf(w->c, oc * kh * kw + i);
        import_weight(o->m, "depthwise_kernel", 4,
                      (int64_t[]){kh, kw, cin, mult}, k);
    } else {
        y = map_emit1(o, n, "conv2d", x,
                      arena_printf(o->a, "%lld, %s%s", (long long)cout,
                                   map_pair(o, (int)kh, (int)kw), rest));
        /* W[m][c][i][j] -> kernel[i][j][c][m] */
        for (int64_t m = 0; m < cout; m++)
            for (int64_t c = 0; c < cg; c++)
                for (int64_t i = 0; i < kh * kw; i++)
                    k[(i * cg + c) * cout + m] =
                        cf(w->c, (m * cg + c) * kh * kw + i);
        import_weight(o->m, "kernel", 4, (int64_t[]){kh, kw, cg, cout}, k);
    }
    if (b) {
        float *bias = map_floats(o, cout);
        for (int64_t m = 0; m < cout; m++) bias[m] = cf(b->c, m);
        import_weight(o->m, "bias", 1, (int64_t[]){cout}, bias);
    }
    l->var = y;
}

void map_conv_transpose(Onnx *o, ONode *n) {
    const char *x = lay_image_var(o, n, n->in[0]);
    if (!x) return;
    const OValue *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL;
    int64_t cin = w->dims[0], cout = w->dims[1], kh = w->dims[2],
            kw = w->dims[3];
    Layout *l = lay_image(o, NULL, n->out[0]);
    n->out[0]->lay = l;
    const int *op = n->a.out_pad;
    const char *y = map_emit1(
        o, n, "conv2d_transpose", x,
        arena_printf(o->a, "%lld, %s%s%s%s", (long long)cout,
                     map_pair(o, (int)kh, (int)kw),
                     map_window_args(o, &n->a, false),
                     op[0] || op[1] ? arena_printf(o->a, ", output_padding=%s",
                                                   map_pair(o, op[0], op[1]))
                                    : "",
                     b ? "" : ", bias=false"));
    /* W[c][m][i][j] -> kernel[i][j][m][c] */
    float *k = map_floats(o, w->c->count);
    for (int64_t c = 0; c < cin; c++)
        for (int64_t m = 0; m < cout; m++)
            for (int64_t i = 0; i < kh * kw; i++)
                k[(i * cout + m) * cin + c] =
                    cf(w->c, (c * cout + m) * kh * kw + i);
    import_weight(o->m, "kernel", 4, (int64_t[]){kh, kw, cout, cin}, k);
    if (b) {
        float *bias = map_floats(o, cout);
        for (int64_t m = 0; m < cout; m++) bias[m] = cf(b->c, m);
        import_weight(o->m, "bias", 1, (int64_t[]){cout}, bias);
    }
    l->var = y;
}

void map_batchnorm(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    if (!lay_is_channel(x, 1)) {
        onnx_node_error(o, n,
                        "normalizes an axis that is not rnc's channel "
                        "axis");
        return;
    }
    int64_t c = x->dims[1];
    const char *y =
        map_emit1(o, n, "batchnorm", x->lay->var,
                  arena_printf(o->a, "epsilon=%s", map_num(o, n->a.eps)));
    static const char *const names[4] = {"gamma", "beta", "moving_mean",
                                         "moving_variance"};
    for (int k = 0; k < 4; k++) {
        float *v = map_floats(o, c);
        for (int64_t i = 0; i < c; i++) v[i] = cf(n->in[k + 1]->c, i);
        import_weight(o->m, names[k], 1, &c, v);
    }
    n->out[0]->lay = lay_relabel(o, x, y);
}

void map_layernorm(Onnx *o, ONode *n, OValue *x, OValue *out, double eps,
                   const Const *gamma, const Const *beta) {
    if (!lay_is_channel(x, x->rank - 1)) {
        onnx_node_error(o, n,
                        "normalizes an axis that is not rnc's channel "
                        "axis");
        return;
    }
    int64_t c = x->dims[x->rank - 1];
    const char *y =
        map_emit1(o, n, "layernorm", x->lay->var,
                  arena_printf(o->a, "epsilon=%s%s%s", map_num(o, eps),
                               beta ? "" : ", center=false",
                               gamma ? "" : ", scale=false"));
    if (gamma) {
        float *g = map_floats(o, c);
        for (int64_t i = 0; i < c; i++) g[i] = cf(gamma, i);
        import_weight(o->m, "gamma", 1, &c, g);
    }
    if (beta) {
        float *b = map_floats(o, c);
        for (int64_t i = 0; i < c; i++) b[i] = cf(beta, i);
        import_weight(o->m, "beta", 1, &c, b);
    }
    out->lay = lay_relabel(o, x, y);
}

static void dense(Onnx *o, ONode *n, OValue *x, OValue *out, int64_t K,
                  int64_t units, const Const *w, bool trans, double alpha,
                  const float *bias) {
    if (!lay_is_channel(x, x->rank - 1)) {
        onnx_node_error(o, n,
                        "multiplies along an axis that is not rnc's "
                        "channel axis");
        return;
    }
    Layout *l = lay_relabel(o, x, NULL);
    l->from.rank = 0;
    l->shape.d[l->shape.rank - 1] = units;
    out->lay = l;
    const char *y = map_emit1(o, n, "dense", x->lay->var,
                              arena_printf(o->a, "%lld%s", (long long)units,
                                           bias ? "" : ", bias=false"));
    float *k = map_floats(o, K * units);
    for (int64_t f = 0; f < K; f++) {
        int64_t r = x->lay->shape.rank == 1 ? lay_flat_row(x->lay, f) : f;
        for (int64_t u = 0; u < units; u++)
            k[r * units + u] =
                (float)(alpha *
                        const_get(w, trans ? u * K + f : f * units + u));
    }
    import_weight(o->m, "kernel", 2, (int64_t[]){K, units}, k);
    if (bias) import_weight(o->m, "bias", 1, &units, bias);
    l->var = y;
}

/* A flat view of x for a Gemm: .rn [K] (flattened here if needed). */
static bool flat_input(Onnx *o, ONode *n, OValue *x) {
    if (x->lay->shape.rank == 1) return true;
    OValue tmp = *x;
    lay_flatten(o, x, &tmp, 0, arena_printf(o->a, "%s.flatten", n->name));
    x->lay = tmp.lay;
    return true;
}

void map_gemm(Onnx *o, ONode *n) {
    OValue *x = n->in[0], *b = n->in[1], *c = n->nin > 2 ? n->in[2] : NULL;
    if (!flat_input(o, n, x)) return;
    int64_t K = x->dims[1], units = n->out[0]->dims[1];
    float *bias = NULL;
    if (c) {
        bias = map_floats(o, units);
        for (int64_t u = 0; u < units; u++)
            bias[u] =
                (float)(n->a.beta * const_get(c->c, c->c->count == 1 ? 0 : u));
    }
    dense(o, n, x, n->out[0], K, units, b->c, n->a.trans_b, n->a.alpha, bias);
}

/* MatMul by a constant, with the Add of a bias that alone reads it. */
void map_matmul(Onnx *o, ONode *n) {
    OValue *x = n->in[0], *w = n->in[1], *out = n->out[0];
    int64_t K = w->dims[0], units = w->dims[1];
    float *bias = NULL;
    if (!out->is_output && out->nuses == 1) {
        ONode *u = &o->nodes[out->uses[0]];
        OValue *c =
            u->nin == 2 ? (u->in[0] == out ? u->in[1] : u->in[0]) : NULL;
        if (!strcmp(u->op, "Add") && onnx_node_free(u) && c &&
            onnx_channel_vector(c, out->rank, units)) {
            bias = map_floats(o, units);
            for (int64_t i = 0; i < units; i++) bias[i] = cf(c->c, i);
            u->done = true;
            /* named after the Add when it gives nn.Linear's value */
            dense(o, u->owner ? u : n, x, u->out[0], K, units, w->c, false, 1,
                  bias);
            out->lay = u->out[0]->lay;
            return;
        }
    }
    dense(o, n, x, out, K, units, w->c, false, 1, NULL);
}

void map_prelu(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int64_t nch;
    float *v = map_channel_values(o, x, n->in[1], &nch);
    if (!v) {
        onnx_node_error(o, n,
                        "a slope that is neither one value nor one "
                        "value per channel");
        return;
    }
    bool image = x->lay->shape.rank == 3;
    const char *shared =
        image ? (nch > 1 ? "shared_axes=[1, 2]" : "shared_axes=[1, 2, 3]")
              : (nch > 1 ? NULL : "shared_axes=[1]");
    const char *y = map_emit1(o, n, "prelu", x->lay->var, shared);
    if (image)
        import_weight(o->m, "alpha", 3, (int64_t[]){1, 1, nch}, v);
    else
        import_weight(o->m, "alpha", 1, &nch, v);
    n->out[0]->lay = lay_relabel(o, x, y);
}
