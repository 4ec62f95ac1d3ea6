/* emit_c.c: the steps of lower.c as specialized C (model.c) and its API
 * (model.h): emit_c() writes the runtime-linked file (ahead of time, or
 * for the JIT), and here are the layers with windows or a split over
 * threads (convolutions, pools, dense). The simple layers are
 * emit_simple.c's; the instance half (model.h, the struct, load/run/free,
 * main) is emit_api.c's; the self-contained file is emit_standalone.c's.
 *
 * Requires a Lower (lower.c) of a planned graph. Changes nothing in it.
 *
 * The generated code has one static function per step, every dimension a
 * literal. Hot inner loops are calls into the runtime (rnrt.h: conv.c for
 * conv2d, kernels.c for the rest) with literal sizes, so the same C runs
 * fast whether gcc or tcc (the JIT) compiles it; a standalone file calls
 * the kernel headers' inline functions instead, so that its C compiler
 * specializes them. An instance struct owns the weights, the activation
 * arena and the thread pool; layers that split their output rows over the
 * pool get the instance as the task context. */
#include "emit_c.h"

#include <string.h>

/* Whether s's work items are spread over the instance's pool. */
static bool split(const Emitter *e, const Step *s) {
    return s->split && e->pool;
}

/* The comment heading each layer's function. */
static void layer_comment(Emitter *e, const Step *s) {
    Buf *c = e->c;
    const GNode *n = s->node;
    const char *src = e->o->src_path ? e->o->src_path : "model.rn";
    const char *slash = strrchr(src, '/');
    buf_printf(c, "\n/* %s: %s (%s), %s:%d:%d", emit_safe(e, n->path, false),
               op_info[n->op].op, op_info[n->op].klass,
               emit_safe(e, slash ? slash + 1 : src, false), n->loc.line,
               n->loc.col);
    if (n->site.line && n->site.line != n->loc.line)
        buf_printf(c, ", called at line %d", n->site.line);
    buf_printf(c, "\n * output [");
    for (int i = 0; i < n->out.rank; i++)
        buf_printf(c, "%s%lld", i ? ", " : "", (long long)n->out.d[i]);
    buf_printf(c, "], %s MACs", arena_thousands(e->g->arena, n->macs));
    if (n->op == OP_CONV2D || n->op == OP_DEPTHWISE_CONV2D ||
        n->op == OP_MAXPOOL || n->op == OP_AVGPOOL)
        buf_printf(c, "\n * window %dx%d, stride %dx%d, dilation %dx%d, "
                   "padding top %d bottom %d left %d right %d",
                   n->kh, n->kw, n->sh, n->sw, n->dh ? n->dh : 1,
                   n->dw ? n->dw : 1, n->pad_t, n->pad_b, n->pad_l, n->pad_r);
    if (s->pad_from)
        buf_printf(c, "\n * reads the input of %s: its zeros are this layer's padding "
                   "(top %d, left %d; bottom and right follow)",
                   emit_safe(e, s->pad_from->path, false), s->pad_t, s->pad_l);
    if (s->bn)
        buf_printf(c, "\n * batchnorm %s folded into the weights",
                   emit_safe(e, s->bn->path, false));
    if (s->res)
        buf_printf(c, "\n * adds %s (residual)", emit_safe(e, s->res->path, false));
    if (s->act != ACT_NONE && n->op != OP_ACTIVATION)
        buf_printf(c, "\n * fused activation: %s", act_names[s->act]);
    if (s->slice_of)
        buf_printf(c, "\n * writes channels %lld..%lld of %s (no copy)",
                   (long long)s->out.coff,
                   (long long)(s->out.coff + n->out.d[2] - 1),
                   emit_safe(e, s->slice_of->path, false));
    buf_printf(c, " */\n");
}

/* The call that runs work items [t0, t1) of one call of a conv step (a
 * super-group of a grouped conv), descriptor d at index in M_convs: the
 * runtime's rn_conv_run, which runs the algorithm of its descriptor; in a
 * standalone file, that algorithm's inline function. */
static const char *conv_call(Emitter *e, const Step *s, const rn_conv *d, int index,
                             const char *in, const char *pk, const char *bias,
                             const char *res, const char *out) {
    Arena *a = e->g->arena;
    const char *desc = arena_printf(a, "&%s_convs[%d]", e->name, index);
    const char *nl = s->groups > 1 ? ",\n                    " : ",\n                ";
    const char *mid = arena_printf(a, "%s%s%s, %s", pk, s->groups > 1 ? nl : ", ", bias, res);
    if (d->pre) { /* the prologue's scale and shift first */
        const char *pre = s->pre_slot >= 0
                              ? arena_printf(a, "m->bn[%d], m->bn[%d]", 2 * s->pre_slot,
                                             2 * s->pre_slot + 1)
                              : arena_printf(a, "%s, (const float *)0",
                                             emit_place(e, s->pre_scale_at));
        return arena_printf(a, "%s(%s, %s%s%s, %s%s%s, t0, t1, m->ws + w * m->ws_floats)",
                            e->o->standalone ? "rn_dc_run_pre" : "rn_conv_run_pre", desc,
                            pre, nl, in, mid, nl, out);
    }
    if (!e->o->standalone)
        return arena_printf(a, "rn_conv_run(%s, %s, %s%s%s, t0, t1, m->ws + w * m->ws_floats)",
                            desc, in, mid, nl, out);
    if (d->algo == RN_CONV_DIRECT || d->algo == RN_CONV_GROUPED)
        return arena_printf(a, "%s(%s, %s, %s%s%s, t0, t1)",
                            d->algo == RN_CONV_DIRECT ? "rn_dc_run" : "rn_gc_run", desc, in,
                            mid, nl, out);
    return arena_printf(a, "rn_wg_run(%s, %d, %s, %s%s%s, t0, t1, m->ws + w * m->ws_floats)",
                        desc, d->algo == RN_CONV_WINOGRAD4 ? 4 : 2, in, mid, nl, out);
}

/* Call g of a grouped conv step (its super-group's channels, G the C
 * expression of g). */
static const char *group_call(Emitter *e, const Step *s, const rn_conv *d, int index,
                              const char *G, const char *bias, bool has_bias,
                              const char *res) {
    Arena *a = e->g->arena;
    long long cig = s->gcin, cog = s->gcout;
    return conv_call(e, s, d, index,
                     arena_printf(a, "%s + %s * %lld", emit_place(e, s->in[0]), G, cig),
                     arena_printf(a, "m->pk[%d + %s]", s->pk, G),
                     arena_printf(a, "%s%s", bias,
                                  has_bias ? arena_printf(a, " + %s * %lld", G, cog) : ""),
                     arena_printf(a, "%s%s", res,
                                  s->res ? arena_printf(a, " + %s * %lld", G, cog) : ""),
                     arena_printf(a, "%s + %s * %lld", emit_place(e, s->out), G, cog));
}

/* A conv's work items: the kernel's count for descriptor d, at index in
 * M_convs. */
static const char *desc_tiles(Emitter *e, const rn_conv *d, int index) {
    int algo = d->algo;
    const char *f = !e->o->standalone       ? "rn_conv_tiles"
                    : algo == RN_CONV_DIRECT  ? "rn_dc_tiles"
                    : algo == RN_CONV_GROUPED ? "rn_gc_tiles"
                                              : "rn_wg_tiles";
    const char *m = !e->o->standalone || algo == RN_CONV_DIRECT || algo == RN_CONV_GROUPED
                        ? ""
                    : algo == RN_CONV_WINOGRAD4 ? ", 4" : ", 2";
    return arena_printf(e->g->arena, "%s(&%s_convs[%d]%s)", f, e->name, index, m);
}

/* A conv step's work items; with an algorithm of its own on more threads
 * (Step.conv_mt), that one's there. */
static const char *conv_tiles(Emitter *e, const Step *s) {
    const char *t = desc_tiles(e, &s->conv, s->conv_index);
    if (s->conv_mt_index < 0) return t;
    return arena_printf(e->g->arena, "m->nthreads > 1 ? %s : %s",
                        desc_tiles(e, &s->conv_mt, s->conv_mt_index), t);
}

/* A conv2d runs on weights packed at load, its rn_conv in M_convs: bias
 * (batchnorm folded), residual and the epilogue's activation on registers;
 * one call per group at channel offsets. The work items (tiles) are spread
 * over the pool. Other activations follow as a pass over the output
 * (never a slice: see concat_slices.c). */
static void conv_layer(Emitter *e, const Step *s, const char *fn) {
    Buf *c = e->c;
    Arena *a = e->g->arena;
    const GNode *n = s->node;
    long long cout = n->out.d[2];
    const char *bias = emit_bias(e, s);
    bool has_bias = strcmp(bias, "(const float *)0") != 0;
    const char *res = s->res ? emit_place(e, s->res_at) : "(const float *)0";
    buf_printf(c, "static void %s_rows(%s *m, int t0, int t1, int w) {\n", fn, e->name);
    if (e->o->standalone) buf_printf(c, "    (void)w;\n");
    if (s->groups == 1) {
        const char *in = emit_place(e, s->in[0]), *out = emit_place(e, s->out);
        if (s->conv_mt_index >= 0) /* rn_conv_algo_on: another on more threads */
            buf_printf(c, "    if (m->nthreads > 1) /* %s on more threads */\n        %s;\n"
                       "    else\n    ",
                       s->conv_mt.algo == RN_CONV_DIRECT ? "direct convolution" : "Winograd",
                       conv_call(e, s, &s->conv_mt, s->conv_mt_index, in,
                                 arena_printf(a, "m->pk[%d]", s->pk + 1), bias, res, out));
        buf_printf(c, "    %s;\n", conv_call(e, s, &s->conv, s->conv_index, in,
                                            arena_printf(a, "m->pk[%d]", s->pk), bias, res,
                                            out));
    } else {
        int full = s->conv_last_index >= 0 ? s->groups - 1 : s->groups;
        buf_printf(c, "    int g;\n    for (g = 0; g < %d; g++)\n", full);
        buf_printf(c, "        %s;\n",
                   group_call(e, s, &s->conv, s->conv_index, "g", bias, has_bias, res));
        if (s->conv_last_index >= 0)
            buf_printf(c, "    %s;\n", group_call(e, s, &s->conv_last, s->conv_last_index,
                                                   arena_printf(a, "%d", full), bias,
                                                   has_bias, res));
    }
    buf_printf(c, "}\n");
    buf_printf(c, "static void %s(%s *m) {\n", fn, e->name);
    if (split(e, s))
        buf_printf(c, "    %s_par(m, %s_rows, %s);\n", e->name, fn, conv_tiles(e, s));
    else
        buf_printf(c, "    %s_rows(m, 0, %s, 0);\n", fn, conv_tiles(e, s));
    if (s->act_after != ACT_NONE)
        buf_printf(c, "    rn_k_act(%d, %s, %s, %lld, %lld);\n", (int)s->act_after,
                   emit_place(e, s->out), emit_place(e, s->out),
                   (long long)(n->out.d[0] * n->out.d[1]), cout);
    buf_printf(c, "}\n");
}

/* An rn_dw literal named d, inside a function. */
static void dw_literal(Emitter *e, const rn_dw *d) {
    buf_printf(e->c, "    static const rn_dw d = {.ih = %d, .iw = %d, .c = %d, .oh = %d, "
               ".ow = %d, .mult = %d,\n        .kh = %d, .kw = %d, .sh = %d, .sw = %d, "
               ".dh = %d, .dw = %d, .pad_t = %d, .pad_l = %d,\n        .ldi = %d, "
               ".ldo = %d, .act = %d};\n", d->ih, d->iw, d->c, d->oh, d->ow, d->mult,
               d->kh, d->kw, d->sh, d->sw, d->dh, d->dw, d->pad_t, d->pad_l, d->ldi,
               d->ldo, d->act);
}

/* The depthwise kernel: the runtime's rn_dw_run, or in a standalone file
 * the header's inline rn_dwk_run. */
static const char *dw_run(Emitter *e) {
    return e->o->standalone ? "rn_dwk_run" : "rn_dw_run";
}

/* The activation of a layer that applies it after its rows (not in a
 * kernel's epilogue), on output rows [y0, y1). */
static void rows_act(Emitter *e, const Step *s) {
    long long ow = s->node->out.d[1], oc = s->node->out.d[2];
    if (s->act_after == ACT_NONE) return;
    buf_printf(e->c, "    rn_k_act(%d, %s + (long)y0 * %lld, %s + (long)y0 * %lld, "
               "(y1 - y0) * %lld, %lld);\n", (int)s->act_after, emit_place(e, s->out),
               ow * oc, emit_place(e, s->out), ow * oc, ow, oc);
}

/* A depthwise conv, its rn_dw literal in the rows function: bias
 * (batchnorm folded into kernel and bias at load) and the epilogue's
 * activation on registers, other activations as a pass over the rows
 * after. */
static void dw_layer(Emitter *e, const Step *s, const char *fn) {
    buf_printf(e->c, "static void %s_rows(%s *m, int y0, int y1, int w) {\n", fn, e->name);
    dw_literal(e, &s->dw);
    buf_printf(e->c, "    (void)w;\n    %s(&d, %s, %s, %s, %s, y0, y1);\n", dw_run(e),
               emit_place(e, s->in[0]),
               emit_tensor(e, lower_weight(e->L, s->node, "depthwise_kernel")),
               emit_bias(e, s), emit_place(e, s->out));
    rows_act(e, s);
    if (s->row_means) { /* the pool after it reads these (fuse_row_means) */
        long long ow = s->node->out.d[1], oc = s->node->out.d[2];
        buf_printf(e->c, "    for (int y = y0; y < y1; y++) /* the means of each row */\n"
                   "        rn_k_global_pool(0, %s + (long)y * %lld, m->ws + (long)y * %lld, "
                   "%lld, %lld);\n", emit_place(e, s->out), ow * oc, oc, ow, oc);
    }
    buf_printf(e->c, "}\n");
}

/* A pooling layer: its rn_window literal and one call of the runtime's
 * rn_k_pool on the rows (each output pixel's taps on registers). Pixels
 * ldi and ldo floats apart: a pool writing a concat's slice
 * (concat_slices.c) has its channels the first of each of its pixels. */
static void pool_rows(Emitter *e, const Step *s, const char *fn) {
    const GNode *n = s->node;
    const Shape *is = s->in_shape, *os = &n->out;
    const char *op = n->op == OP_MAXPOOL    ? "RN_POOL_MAX"
                     : n->count_include_pad ? "RN_POOL_AVG_PAD"
                                            : "RN_POOL_AVG";
    buf_printf(e->c, "static void %s_rows(%s *m, int y0, int y1, int w) {\n", fn, e->name);
    buf_printf(e->c, "    static const rn_window d = {.ih = %lld, .iw = %lld, .c = %lld, "
               ".oh = %lld, .ow = %lld,\n        .kh = %d, .kw = %d, .sh = %d, "
               ".sw = %d, .dh = %d, .dw = %d,\n        .pad_t = %d, .pad_l = %d, "
               ".pad_b = %d, .pad_r = %d, .ldi = %lld, .ldo = %lld,\n        "
               ".op = %s};\n", (long long)is->d[0], (long long)is->d[1],
               (long long)os->d[2], (long long)os->d[0], (long long)os->d[1], n->kh,
               n->kw, n->sh, n->sw, n->dh ? n->dh : 1, n->dw ? n->dw : 1, n->pad_t,
               n->pad_l, n->pad_b, n->pad_r, (long long)is->d[2], (long long)s->ldo, op);
    buf_printf(e->c, "    (void)w;\n    rn_k_pool(&d, %s, %s, y0, y1);\n}\n",
               emit_place(e, s->in[0]), emit_place(e, s->out));
}

/* A step whose rows may be split over the pool: its _rows function, then
 * the layer function that runs it. */
static void rows_layer(Emitter *e, const Step *s, const char *fn) {
    const GNode *n = s->node;
    buf_printf(e->c, "static void %s(%s *m) {\n", fn, e->name);
    if (split(e, s))
        buf_printf(e->c, "    %s_par(m, %s_rows, %lld);\n", e->name, fn,
                   (long long)s->items);
    else
        buf_printf(e->c, "    %s_rows(m, 0, %lld, 0);\n", fn, (long long)s->items);
    if (s->chunks) { /* the bias, then the chunks' partial sums in order */
        long long u = n->filters;
        buf_printf(e->c, "    rn_k_fill_bias(1, %lld, %s, %s, %lld);\n"
                   "    for (int i = 0; i < %d; i++)\n"
                   "        rn_k_add(%s, m->ws + (long)i * %lld, %s, %lld);\n", u,
                   emit_tensor(e, lower_weight(e->L, n, "bias")), emit_place(e, s->out), u,
                   s->chunks, emit_place(e, s->out), u, emit_place(e, s->out), u);
    }
    if (s->kind == STEP_DENSE && s->act_after != ACT_NONE)
        buf_printf(e->c, "    rn_k_act(%d, %s, %s, %lld, %lld);\n", (int)s->act_after,
                   emit_place(e, s->out), emit_place(e, s->out),
                   (long long)(shape_count(&n->out) / n->filters),
                   (long long)n->filters);
    buf_printf(e->c, "}\n");
}

/* Dense: a one-pixel convolution, its units split over the pool; on an
 * image, a 1x1 convolution, its rows split. */
static void dense_rows(Emitter *e, const Step *s, const char *fn) {
    Buf *c = e->c;
    const GNode *n = s->node;
    long long u = n->filters;
    int k = lower_weight(e->L, n, "kernel");
    const char *bias = emit_tensor(e, lower_weight(e->L, n, "bias"));
    bool has_bias = lower_weight(e->L, n, "bias") >= 0;
    const char *x = emit_place(e, s->in[0]), *y = emit_place(e, s->out);
    if (n->out.rank == 3) {
        long long w = n->out.d[1], cin = n->in[0]->out.d[2];
        buf_printf(c, "static void %s_rows(%s *m, int y0, int y1, int w) {\n", fn, e->name);
        buf_printf(c, "    float *y = %s + (long)y0 * %lld;\n    (void)w;\n", y, w * u);
        buf_printf(c, "    rn_k_fill_bias((y1 - y0) * %lld, %lld, %s, y, %lld);\n", w, u,
                   bias, u);
        buf_printf(c, "    rn_k_conv_tap((y1 - y0) * %lld, %lld, %lld, %s + (long)y0 * %lld, "
                   "%lld, m->w[%d], %lld, y, %lld);\n}\n", w, cin, u, x, w * cin, cin, k,
                   u, u);
        return;
    }
    long long in = shape_count(s->in_shape);
    if (s->chunks) { /* chunk i: rows [in i / chunks, in (i + 1) / chunks) */
        buf_printf(c, "static void %s_rows(%s *m, int o0, int o1, int w) {\n"
                   "    (void)w;\n    for (int i = o0; i < o1; i++) {\n"
                   "        int t0 = (int)(%lldL * i / %d), t1 = (int)(%lldL * (i + 1) / %d);\n"
                   "        float *p = m->ws + (long)i * %lld; /* its partial sums */\n"
                   "        rn_k_fill(p, %lld, 0.0f);\n"
                   "        rn_k_conv_tap(1, t1 - t0, %lld, %s + t0, %lld, m->w[%d] + (long)t0 * "
                   "%lld, %lld, p, %lld);\n    }\n}\n", fn, e->name, in, s->chunks, in,
                   s->chunks, u, u, u, x, in, k, u, u, u);
        return;
    }
    buf_printf(c, "static void %s_rows(%s *m, int o0, int o1, int w) {\n", fn, e->name);
    buf_printf(c, "    float *y = %s + o0;\n    (void)w;\n", y);
    buf_printf(c, "    rn_k_fill_bias(1, o1 - o0, %s%s, y, %lld);\n", bias,
               has_bias ? " + o0" : "", u);
    buf_printf(c, "    rn_k_conv_tap(1, %lld, o1 - o0, %s, %lld, m->w[%d] + o0, "
               "%lld, y, %lld);\n}\n", in, x, in, k, u, u);
}

/* SeparableConv2D: per block of rows, the depthwise conv into the step's
 * scratch, then the 1x1 conv with the bias. */
static void separable_rows(Emitter *e, const Step *s, const char *fn) {
    Buf *c = e->c;
    const GNode *n = s->node;
    long long ow = n->out.d[1], f = n->filters, cm = s->dw.ldo;
    const char *tmp = arena_printf(e->g->arena, "(m->arena + %lld)",
                                   (long long)s->scratch_off);
    buf_printf(c, "static void %s_rows(%s *m, int y0, int y1, int w) {\n", fn, e->name);
    dw_literal(e, &s->dw);
    buf_printf(c, "    float *y = %s + (long)y0 * %lld;\n    (void)w;\n",
               emit_place(e, s->out), ow * f);
    buf_printf(c, "    %s(&d, %s, m->w[%d], (const float *)0, %s, y0, y1);\n", dw_run(e),
               emit_place(e, s->in[0]), lower_weight(e->L, n, "depthwise_kernel"), tmp);
    buf_printf(c, "    rn_k_fill_bias((y1 - y0) * %lld, %lld, %s, y, %lld);\n", ow, f,
               emit_tensor(e, lower_weight(e->L, n, "bias")), f);
    buf_printf(c, "    rn_k_conv_tap((y1 - y0) * %lld, %lld, %lld, %s + (long)y0 * %lld, "
               "%lld, m->w[%d], %lld, y, %lld);\n", ow, cm, f, tmp, ow * cm, cm,
               lower_weight(e->L, n, "pointwise_kernel"), f, f);
    rows_act(e, s);
    buf_printf(c, "}\n");
}

/* Conv2DTranspose: runtime/deconv.c on its rn_deconv literal, the kernel
 * packed at load. */
static void deconv_rows(Emitter *e, const Step *s, const char *fn) {
    Buf *c = e->c;
    const GNode *n = s->node;
    buf_printf(c, "static void %s_rows(%s *m, int y0, int y1, int w) {\n", fn, e->name);
    buf_printf(c, "    (void)w;\n    rn_deconv_run(&%s_deconvs[%d], %s, m->w[%d], %s, %s, "
               "y0, y1);\n", e->name, s->deconv_index, emit_place(e, s->in[0]),
               lower_weight(e->L, n, "kernel"),
               emit_tensor(e, lower_weight(e->L, n, "bias")), emit_place(e, s->out));
    rows_act(e, s);
    buf_printf(c, "}\n");
}

/* Writes one step's function(s). */
static void emit_layer(Emitter *e, const Step *s, const char *fn) {
    layer_comment(e, s);
    switch (s->kind) {
    case STEP_CONV:
        conv_layer(e, s, fn);
        break;
    case STEP_DEPTHWISE:
        dw_layer(e, s, fn);
        rows_layer(e, s, fn);
        break;
    case STEP_POOL:
        pool_rows(e, s, fn);
        rows_layer(e, s, fn);
        break;
    case STEP_DENSE:
        dense_rows(e, s, fn);
        rows_layer(e, s, fn);
        break;
    case STEP_SEPARABLE:
        separable_rows(e, s, fn);
        rows_layer(e, s, fn);
        break;
    case STEP_DECONV:
        deconv_rows(e, s, fn);
        rows_layer(e, s, fn);
        break;
    case STEP_SIMPLE:
        emit_simple_layer(e, s, fn);
        break;
    }
}

void emit_layers(Emitter *e) {
    for (int i = 0; i < e->L->nsteps; i++) {
        const Step *s = &e->L->steps[i];
        size_t at = e->c->len;
        emit_layer(e, s, e->fn[i]);
        emit_line_directives(e, at, s->node);
    }
}

/* The steps' function names: L<node id>_<name>. */
static void name_steps(Emitter *e) {
    e->fn = arena_alloc(e->g->arena, sizeof *e->fn * (size_t)(e->L->nsteps + 1));
    for (int i = 0; i < e->L->nsteps; i++) {
        const GNode *n = e->L->steps[i].node;
        e->fn[i] = arena_printf(e->g->arena, "L%d_%s", n->id, emit_safe(e, n->name, true));
    }
}

void emit_init(Emitter *e, Graph *g, const EmitOptions *o, Buf *c, Buf *h) {
    *e = (Emitter){.g = g, .o = o, .c = c, .h = h};
    e->L = lower(g, !o->static_memory);
    e->pool = lower_splits(e->L) && !o->static_memory;
    e->name = emit_safe(e, g->name, true);
    name_steps(e);
}

void emit_c(Graph *g, const EmitOptions *o, Buf *c, Buf *h) {
    Emitter e;
    emit_init(&e, g, o, c, h);
    emit_header(&e, h);
    emit_prologue(&e);
    emit_layers(&e);
    emit_api(&e);
}
