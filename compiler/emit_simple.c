/* emit_simple.c: the code of the layers that are one runtime call or a
 * short loop, with no split over threads: batchnorm, layernorm,
 * normalization, activations, rescale, the merges (broadcasting), global
 * pools, concat, zeropad, crop, upsample and the channel ops.
 *
 * Requires a STEP_SIMPLE step of lower.c; writes its static function into
 * e->c. */
#include "emit_c.h"

#include <string.h>

static int64_t chans(const Shape *s) { return s->d[s->rank - 1]; }

/* "h, w, c" of a shape for the runtime: a flat [N] is 1 x 1 x N. */
static const char *hwc(Emitter *e, const Shape *s) {
    if (s->rank == 1) return arena_printf(e->g->arena, "1, 1, %lld", (long long)s->d[0]);
    return arena_printf(e->g->arena, "%lld, %lld, %lld", (long long)s->d[0],
                        (long long)s->d[1], (long long)s->d[2]);
}

/* The merges: out = in0 OP in1, then out = out OP in_k; an average sums
 * and scales. Operands broadcast (rn_k_merge). */
static void merge_code(Emitter *e, const Step *s) {
    const GNode *n = s->node;
    static const struct {
        OpKind op;
        const char *code;
    } codes[] = {{OP_ADD, "RN_MERGE_ADD"}, {OP_SUBTRACT, "RN_MERGE_SUB"},
                 {OP_MULTIPLY, "RN_MERGE_MUL"}, {OP_MAXIMUM, "RN_MERGE_MAX"},
                 {OP_MINIMUM, "RN_MERGE_MIN"}, {OP_AVERAGE, "RN_MERGE_ADD"}};
    const char *code = NULL;
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
        if (codes[k].op == n->op) code = codes[k].code;
    if (!code) die("emit: %s is not a merge", n->name);
    const char *y = emit_place(e, s->out), *out = hwc(e, &n->out);
    for (int i = 1; i < n->nin; i++)
        buf_printf(e->c, "    rn_k_merge(%s, %s, %s, %s, %s, %s, %s);\n", code,
                   i == 1 ? emit_place(e, s->in[0]) : y,
                   i == 1 ? hwc(e, &n->in[0]->out) : out,
                   emit_place(e, s->in[i]), hwc(e, &n->in[i]->out), y, out);
    if (n->op == OP_AVERAGE)
        buf_printf(e->c, "    rn_k_scale(%s, %lld, %s);\n", y,
                   (long long)shape_count(&n->out),
                   emit_float(e, 1.0 / n->nin));
}

/* Layers with one call or a short loop: no row split. */
void emit_simple_layer(Emitter *e, const Step *s, const char *fn) {
    Buf *c = e->c;
    const GNode *n = s->node;
    long long cnt = shape_count(&n->out), ch = chans(&n->out);
    const char *y = emit_place(e, s->out), *x = emit_place(e, s->in[0]);
    buf_printf(c, "static void %s(%s *m) {\n", fn, e->name);
    switch (n->op) {
    case OP_BATCHNORM:
        buf_printf(c, "    rn_k_scale_shift(%s, %s, %lld, %lld, m->bn[%d], "
                   "m->bn[%d]);\n", x, y, cnt / ch, ch, 2 * s->bn_slot, 2 * s->bn_slot + 1);
        break;
    case OP_LAYERNORM: {
        buf_printf(c, "    rn_k_layernorm(%s, %s, %lld, %lld, %.17g, %s, %s);\n", x, y,
                   cnt / ch, ch, n->epsilon,
                   emit_tensor(e, lower_weight(e->L, n, "gamma")),
                   emit_tensor(e, lower_weight(e->L, n, "beta")));
        break;
    }
    case OP_NORMALIZATION:
        if (n->norm_mean) { /* constants, one per channel */
            buf_printf(c, "    static const float mean[%lld] = {", ch);
            for (int64_t k = 0; k < ch; k++)
                buf_printf(c, "%s%s", k ? ", " : "",
                           emit_float(e, n->norm_mean[n->norm_n > 1 ? k : 0]));
            buf_printf(c, "};\n    static const float var[%lld] = {", ch);
            for (int64_t k = 0; k < ch; k++)
                buf_printf(c, "%s%s", k ? ", " : "",
                           emit_float(e, n->norm_var[n->norm_n > 1 ? k : 0]));
            buf_printf(c, "};\n    rn_k_normalize(%s, %s, %lld, %lld, mean, var);\n",
                       x, y, cnt / ch, ch);
        } else {
            buf_printf(c, "    rn_k_normalize(%s, %s, %lld, %lld, m->w[%d], m->w[%d]);\n",
                       x, y, cnt / ch, ch, lower_weight(e->L, n, "mean"),
                       lower_weight(e->L, n, "variance"));
        }
        break;
    case OP_ACTIVATION:
        if (n->act == ACT_HARD_SIGMOID)
            buf_printf(c, "    rn_k_hard_sigmoid(%s, %s, %lld, %s, %s);\n", x, y,
                       cnt, emit_float(e, n->alpha), emit_float(e, n->beta));
        else
            buf_printf(c, "    rn_k_act(%d, %s, %s, %lld, %lld);\n", (int)n->act,
                       x, y, cnt / ch, ch);
        break;
    case OP_SOFTMAX:
        buf_printf(c, "    rn_k_act(%d, %s, %s, %lld, %lld);\n", (int)ACT_SOFTMAX,
                   x, y, cnt / ch, ch);
        break;
    case OP_RELU:
        buf_printf(c, "    rn_k_relu_layer(%s, %s, %lld, %d, %s, %s, %s);\n", x, y,
                   cnt, n->has_max, emit_float(e, n->has_max ? n->max_value : 0),
                   emit_float(e, n->negative_slope), emit_float(e, n->threshold));
        break;
    case OP_ELU:
    case OP_LEAKY_RELU:
        buf_printf(c, "    rn_k_%s(%s, %s, %lld, %s);\n",
                   n->op == OP_ELU ? "elu" : "leaky_relu", x, y, cnt,
                   emit_float(e, n->alpha));
        break;
    case OP_PRELU: {
        int a = lower_weight(e->L, n, "alpha");
        const int64_t *d = e->L->tensors[a].dims;
        if (n->out.rank == 3)
            buf_printf(c, "    rn_k_prelu(%s, %s, %lld, %lld, %lld, m->w[%d], %lld, "
                       "%lld, %lld);\n", x, y, (long long)n->out.d[0],
                       (long long)n->out.d[1], ch, a, (long long)d[0],
                       (long long)d[1], (long long)d[2]);
        else
            buf_printf(c, "    rn_k_prelu(%s, %s, 1, 1, %lld, m->w[%d], 1, 1, %lld);\n",
                       x, y, ch, a, (long long)d[0]);
        break;
    }
    case OP_RESCALE:
        buf_printf(c, "    rn_k_affine(%s, %s, %lld, %s, %s);\n", x, y, cnt,
                   emit_float(e, n->scale), emit_float(e, n->offset));
        break;
    case OP_ADD:
    case OP_SUBTRACT:
    case OP_MULTIPLY:
    case OP_MAXIMUM:
    case OP_MINIMUM:
    case OP_AVERAGE:
        merge_code(e, s);
        break;
    case OP_GLOBAL_AVGPOOL:
    case OP_GLOBAL_MAXPOOL: {
        const Shape *is = s->in_shape;
        if (s->from_row_means) /* the depthwise conv's rows' means (lower.c) */
            buf_printf(c, "    rn_k_global_pool(0, m->ws, %s, %lld, %lld);\n", y,
                       (long long)is->d[0], ch);
        else
            buf_printf(c, "    rn_k_global_pool(%d, %s, %s, %lld, %lld);\n",
                       n->op == OP_GLOBAL_MAXPOOL, x, y,
                       (long long)(is->d[0] * is->d[1]), ch);
        break;
    }
    case OP_CONCAT: {
        long long pix = cnt / ch, off = 0;
        buf_printf(c, "    float *y = %s;\n", y);
        buf_printf(c, "    for (long p = 0; p < %lld; p++) {\n", pix);
        for (int i = 0; i < n->nin; i++) {
            /* the operand's own shape: a flatten aliases its source's
             * storage, but contributes its flat size */
            long long ci = chans(&n->in[i]->out);
            buf_printf(c, "        memcpy(y + p * %lld + %lld, %s + p * %lld, "
                       "%lld * sizeof(float));\n", ch, off,
                       emit_place(e, s->in[i]), ci, ci);
            off += ci;
        }
        buf_printf(c, "    }\n");
        break;
    }
    case OP_ZEROPAD: {
        const Shape *is = s->in_shape;
        long long w = is->d[1], ow = n->out.d[1];
        buf_printf(c, "    memset(%s, 0, %lld * sizeof(float));\n", y, cnt);
        buf_printf(c, "    for (int iy = 0; iy < %lld; iy++)\n",
                   (long long)is->d[0]);
        buf_printf(c, "        memcpy(%s + ((long)(iy + %d) * %lld + %d) * %lld, "
                   "%s + (long)iy * %lld, %lld * sizeof(float));\n", y,
                   n->pad_t, ow, n->pad_l, ch, x, w * ch, w * ch);
        break;
    }
    case OP_CROP: {
        const Shape *is = s->in_shape;
        long long w = is->d[1], ow = n->out.d[1];
        buf_printf(c, "    for (int oy = 0; oy < %lld; oy++)\n", (long long)n->out.d[0]);
        buf_printf(c, "        memcpy(%s + (long)oy * %lld, %s + ((long)(oy + %d) * %lld "
                   "+ %d) * %lld, %lld * sizeof(float));\n", y, ow * ch, x, n->pad_t, w,
                   n->pad_l, ch, ow * ch);
        break;
    }
    case OP_UPSAMPLE: {
        const Shape *is = s->in_shape;
        if (n->interp == INTERP_NEAREST)
            buf_printf(c, "    rn_k_upsample_nearest(%s, %lld, %lld, %lld, %d, %d, %s);\n",
                       x, (long long)is->d[0], (long long)is->d[1], ch, n->kh, n->kw, y);
        else
            buf_printf(c, "    rn_k_resize_bilinear(%s, %lld, %lld, %lld, %lld, %lld, %d, "
                       "%s);\n", x, (long long)is->d[0], (long long)is->d[1], ch,
                       (long long)n->out.d[0], (long long)n->out.d[1],
                       n->align_corners, y);
        break;
    }
    case OP_CHANNEL_SHUFFLE:
        buf_printf(c, "    rn_k_channel_shuffle(%s, %s, %lld, %lld, %d);\n", x, y,
                   cnt / ch, ch, n->groups);
        break;
    case OP_CHANNEL_SLICE: {
        long long cin = chans(&n->in[0]->out);
        buf_printf(c, "    rn_k_copy_channels(%s + %lld, %lld, %s, %lld, %lld, %lld);\n",
                   x, (long long)n->start, cin, y, ch, cnt / ch, ch);
        break;
    }
    default:
        die("emit: no code for %s", op_info[n->op].op);
    }
    buf_printf(c, "}\n");
}

