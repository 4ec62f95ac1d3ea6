/* emit_api.c: the instance half of the generated code: model.h, the banner,
 * the instance struct and weight table, M_load / M_set_threads / M_run /
 * M_run_v / M_free, and the optional main(). The layers are in emit_c.c.
 *
 * Generated code may call only malloc, calloc, free, memcpy, memset,
 * expf, tanhf, sqrtf, fabsf and snprintf from libc (what the JIT hands
 * over), except in main(), which is never compiled by the JIT. */
#include "emit_c.h"

#include <string.h>

/* Text for inside a C comment: nothing unprintable, and '_' between the
 * characters of any comment start or end, trigraph or line splice, so
 * that a layer name holding one stays plain text. */
static const char *comment_text(Emitter *e, const char *s) {
    Buf b = {0};
    for (const char *p = s ? s : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 32 || c > 126 || c == '\\')
            buf_append(&b, "?", 1);
        else
            buf_append(&b, p, 1);
        if ((p[0] == '*' && p[1] == '/') || (p[0] == '/' && p[1] == '*') ||
            (p[0] == '?' && p[1] == '?'))
            buf_append(&b, "_", 1);
    }
    const char *r = arena_strdup(e->g->arena, b.data ? b.data : "");
    buf_free(&b);
    return r;
}

/* A C string literal of s (octal escapes for anything unusual). */
static const char *c_string(Emitter *e, const char *s) {
    Buf b = {0};
    buf_append(&b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 32 || *p > 126 || *p == '"' || *p == '\\' || *p == '?')
            buf_printf(&b, "\\%03o", *p);
        else
            buf_append(&b, (const char *)p, 1);
    }
    buf_append(&b, "\"", 1);
    const char *r = arena_strdup(e->g->arena, b.data);
    buf_free(&b);
    return r;
}

/* The two above, for emit_inspect.c. */
const char *emit_comment(Emitter *e, const char *s) { return comment_text(e, s); }
const char *emit_string(Emitter *e, const char *s) { return c_string(e, s); }

void emit_collect(Emitter *e) {
    Graph *g = e->g;
    int cap = MAX_WEIGHTS * g->nnodes + 1;
    e->tensors = arena_alloc(g->arena, sizeof *e->tensors * (size_t)cap);
    e->wfirst = arena_alloc(g->arena, sizeof *e->wfirst * (size_t)(g->nnodes + 1));
    e->bnidx = arena_alloc(g->arena, sizeof *e->bnidx * (size_t)(g->nnodes + 1));
    size_t nb = sizeof(int) * (size_t)(g->nnodes + 1);
    e->conv = arena_alloc(g->arena, nb);
    e->prep = arena_alloc(g->arena, nb);
    e->pk = arena_alloc(g->arena, nb);
    e->fb = arena_alloc(g->arena, nb);
    e->deconv = arena_alloc(g->arena, nb);
    for (int i = 0; i < g->nnodes; i++) {
        GNode *n = g->nodes[i];
        if (n->id != i) die("emit: node %s has id %d at position %d", n->name,
                            n->id, i);
        WeightSpec ws[MAX_WEIGHTS];
        int k = node_weights(n, ws);
        e->wfirst[i] = e->ntensors;
        for (int j = 0; j < k; j++) {
            EmitTensor *t = &e->tensors[e->ntensors++];
            t->node = n;
            t->suffix = ws[j].suffix;
            t->name = arena_printf(g->arena, "%s.%s", n->path, ws[j].suffix);
            t->rank = ws[j].rank;
            memcpy(t->dims, ws[j].dims, sizeof t->dims);
        }
        e->bnidx[i] = n->op == OP_BATCHNORM && !n->absorbed_by ? e->nbn++ : -1;
        /* packed at load: every conv2d; scaled: a depthwise with a
         * folded batchnorm */
        bool conv = n->op == OP_CONV2D && emit_has_code(n);
        bool prep = conv || (n->op == OP_DEPTHWISE_CONV2D && n->fold_bn);
        e->conv[i] = conv ? e->nconv++ : -1;
        e->prep[i] = prep ? e->nprep++ : -1;
        e->pk[i] = -1;
        if (conv) {
            e->pk[i] = e->npk;
            e->npk += n->groups > 1 ? n->groups : 1;
        }
        e->fb[i] = prep && n->fold_bn ? e->nfb++ : -1;
        e->deconv[i] = n->op == OP_CONV2D_TRANSPOSE ? e->ndeconv++ : -1;
    }
}

/* The sizes of input/output i as macros: PREFIX_SIZE, _H/_W/_C or _N. */
static void io_macros(Emitter *e, Buf *b, const char *what, int i,
                      const GNode *n) {
    const Shape *s = &n->out;
    buf_printf(b, "#define %s_%s%d_SIZE %lld\n", e->name, what, i,
               (long long)shape_count(s));
    if (s->rank == 3) {
        buf_printf(b, "#define %s_%s%d_H %lld\n", e->name, what, i, (long long)s->d[0]);
        buf_printf(b, "#define %s_%s%d_W %lld\n", e->name, what, i, (long long)s->d[1]);
        buf_printf(b, "#define %s_%s%d_C %lld\n", e->name, what, i, (long long)s->d[2]);
    } else {
        buf_printf(b, "#define %s_%s%d_N %lld\n", e->name, what, i, (long long)s->d[0]);
    }
}

static void api_decls(Emitter *e, Buf *b) {
    const char *M = e->name;
    Graph *g = e->g;
    buf_printf(b, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n", M,
               g->ninputs, M, g->noutputs);
    for (int i = 0; i < g->ninputs; i++) {
        buf_printf(b, "/* input %d: %s */\n", i, comment_text(e, g->inputs[i]->name));
        io_macros(e, b, "INPUT", i, g->inputs[i]);
    }
    for (int i = 0; i < g->noutputs; i++) {
        buf_printf(b, "/* output %d: %s */\n", i, comment_text(e, g->outputs[i]->path));
        io_macros(e, b, "OUTPUT", i, g->outputs[i]);
    }
    buf_printf(b, "/* activation arena of one instance, in floats */\n"
               "#define %s_ARENA_FLOATS %lld\n\n", M,
               (long long)g->arena_floats);
    buf_printf(b, "typedef struct %s %s;\n", M, M);
    buf_printf(b, "/* Reads and checks the weights; NULL and a message naming "
               "the tensor on error. */\n"
               "%s *%s_load(const char *weights_path, char *err, size_t "
               "errlen);\n", M, M);
    buf_printf(b, "/* Threads of this instance's runs; 0 on success. */\n"
               "int %s_set_threads(%s *m, int nthreads);\n", M, M);
    buf_printf(b, "/* One inference: buffers of _SIZE floats, NHWC. */\n"
               "void %s_run(%s *m", M, M);
    for (int i = 0; i < g->ninputs; i++) buf_printf(b, ", const float *input%d", i);
    for (int i = 0; i < g->noutputs; i++) buf_printf(b, ", float *output%d", i);
    buf_printf(b, ");\nvoid %s_run_v(%s *m, const float *const *inputs, "
               "float *const *outputs);\n", M, M);
    buf_printf(b, "void %s_free(%s *m);\n", M, M);
    emit_inspect_decls(e, b);
}

void emit_header(Emitter *e, Buf *h) {
    const char *M = e->name;
    buf_printf(h, "/* %s.h: generated by rnc %s from %s; do not edit. */\n",
               M, RNC_VERSION, comment_text(e, e->o->src_path));
    buf_printf(h, "#ifndef %s_H\n#define %s_H\n", M, M);
    if (!e->o->for_jit) buf_printf(h, "#include <stddef.h>\n");
    buf_printf(h, "\n");
    api_decls(e, h);
    buf_printf(h, "\n#endif\n");
}

/* The helpers that split a layer's rows over the instance's pool (only
 * when some layer uses them: unused static functions draw warnings). */
static void emit_par_helpers(Emitter *e) {
    Buf *c = e->c;
    const char *M = e->name;
    bool splits = false;
    for (int i = 0; i < e->g->nnodes; i++)
        splits |= emit_has_code(e->g->nodes[i]) && emit_splits(e->g->nodes[i]);
    if (!splits) return;
    buf_printf(c, "\n/* Task t of par_k runs rows [t*n/k, (t+1)*n/k). Four tasks a thread,\n"
               " * handed out as threads come free, even out uneven rows and a\n"
               " * thread that the system holds back. */\n");
    buf_printf(c, "static void %s_task(void *ctx, int t, int w) {\n    %s *m = ctx;\n"
               "    rn_i64 n = m->par_n, k = m->par_k;\n"
               "    m->par_rows(m, (int)(t * n / k), (int)((t + 1) * n / k), w);\n"
               "}\n\n", M, M);
    buf_printf(c, "static void %s_par(%s *m, void (*rows)(%s *, int, int, int), "
               "int n) {\n", M, M, M);
    buf_printf(c, "    if (m->nthreads < 2 || !m->pool) {\n"
               "        rows(m, 0, n, 0);\n        return;\n    }\n"
               "    m->par_rows = rows;\n    m->par_n = n;\n"
               "    m->par_k = 4 * m->nthreads < n ? 4 * m->nthreads : n;\n"
               "    rn_pool_run(m->pool, m->par_k, %s_task, m);\n}\n", M);
}

/* The convolutions' literals (M_convs) and what the load prepares for
 * each (M_preps): conv2d weights packed for conv.c (the Keras kernel is
 * freed after), batchnorms folded into scale and bias in double. */
static void emit_conv_tables(Emitter *e) {
    Buf *c = e->c;
    const char *M = e->name;
    Graph *g = e->g;
    if (e->nconv) {
        buf_printf(c, "\n/* Convolutions, one rn_conv per layer (of one group). */\n");
        buf_printf(c, "static const rn_conv %s_convs[%d] = {\n", M, e->nconv);
        for (int i = 0; i < g->nnodes; i++) {
            GNode *n = g->nodes[i];
            if (e->conv[i] < 0) continue;
            const Shape *is = emit_in_shape(n);
            int groups = n->groups > 1 ? n->groups : 1;
            Act act = emit_act(n);
            int ldo = (int)(n->slice_of ? n->slice_of->out.d[2] : n->out.d[2]);
            /* designated: fields conv.c may add at the end stay zero
             * without -Wmissing-field-initializers */
            buf_printf(c, "    {.ih = %d, .iw = %d, .cin = %d, .oh = %d, .ow = %d, "
                       ".cout = %d, .kh = %d, .kw = %d,\n     .sh = %d, .sw = %d, "
                       ".dh = %d, .dw = %d, .pad_t = %d, .pad_l = %d, .ldi = %d, "
                       ".ldo = %d, .act = %d}, /* %s */\n",
                       (int)is->d[0], (int)is->d[1], (int)is->d[2] / groups,
                       (int)n->out.d[0], (int)n->out.d[1],
                       (int)n->out.d[2] / groups, n->kh, n->kw, n->sh, n->sw,
                       n->dh ? n->dh : 1, n->dw ? n->dw : 1, emit_pad_t(n), emit_pad_l(n),
                       (int)is->d[2], ldo,
                       act == ACT_RELU || act == ACT_RELU6 ? (int)act : 0,
                       comment_text(e, n->path));
        }
        buf_printf(c, "};\n");
    }
    if (e->ndeconv) {
        buf_printf(c, "\n/* Transposed convolutions, and their kernels' tensors (packed at "
                   "load). */\n");
        buf_printf(c, "static const rn_deconv %s_deconvs[%d] = {\n", M, e->ndeconv);
        for (int i = 0; i < g->nnodes; i++) {
            GNode *n = g->nodes[i];
            if (e->deconv[i] < 0) continue;
            const Shape *is = emit_in_shape(n);
            buf_printf(c, "    {.ih = %d, .iw = %d, .cin = %d, .oh = %d, .ow = %d, "
                       ".cout = %d, .kh = %d, .kw = %d,\n     .sh = %d, .sw = %d, "
                       ".dh = %d, .dw = %d, .pad_t = %d, .pad_l = %d}, /* %s */\n",
                       (int)is->d[0], (int)is->d[1], (int)is->d[2], (int)n->out.d[0],
                       (int)n->out.d[1], (int)n->out.d[2], n->kh, n->kw, n->sh, n->sw,
                       n->dh, n->dw, n->pad_t, n->pad_l, comment_text(e, n->path));
        }
        buf_printf(c, "};\nstatic const int %s_deconv_kernels[%d] = {", M, e->ndeconv);
        for (int i = 0, k = 0; i < g->nnodes; i++)
            if (e->deconv[i] >= 0)
                buf_printf(c, "%s%d", k++ ? ", " : "", emit_weight(e, g->nodes[i], "kernel"));
        buf_printf(c, "};\n");
    }
    if (!e->nprep) return;
    buf_printf(c, "\n/* Prepared at load: conv = index in the convs above (-1: a depthwise "
               "kernel,\n * scaled in place); tensor indices (-1: none); first m->pk "
               "slot; m->fb slot (-1: none). */\n");
    buf_printf(c, "typedef struct %s_prep {\n    int conv, groups, cout;\n"
               "    int kernel, bias, gamma, beta, mean, var;\n    double eps;\n"
               "    int pk, fb;\n} %s_prep;\n", M, M);
    buf_printf(c, "static const %s_prep %s_preps[%d] = {\n", M, M, e->nprep);
    for (int i = 0; i < g->nnodes; i++) {
        GNode *n = g->nodes[i], *b = n->fold_bn;
        if (e->prep[i] < 0) continue;
        int kernel = emit_weight(e, n, n->op == OP_CONV2D ? "kernel"
                                                          : "depthwise_kernel");
        if (kernel < 0) die("emit: %s has no kernel", n->name);
        buf_printf(c, "    {%d, %d, %lld, %d, %d, %d, %d, %d, %d, %.17g, %d, %d}, /* %s */\n",
                   e->conv[i], n->groups > 1 ? n->groups : 1,
                   (long long)n->out.d[2], kernel, emit_weight(e, n, "bias"),
                   b ? emit_weight(e, b, "gamma") : -1,
                   b ? emit_weight(e, b, "beta") : -1,
                   b ? emit_weight(e, b, "moving_mean") : -1,
                   b ? emit_weight(e, b, "moving_variance") : -1,
                   b ? b->epsilon : 0.0, e->pk[i], e->fb[i],
                   comment_text(e, n->path));
    }
    buf_printf(c, "};\n");
}

void emit_prologue(Emitter *e) {
    Buf *c = e->c;
    const char *M = e->name;
    Graph *g = e->g;
    buf_printf(c, "/* Generated by rnc %s: the network of %s, every dimension "
               "fixed.\n *   %s\n * Do not edit: change the model and run rnc "
               "again. */\n", RNC_VERSION, comment_text(e, e->o->src_path),
               comment_text(e, e->o->cmdline));
    if (e->o->for_jit) {
        buf_printf(c, "\n");
        api_decls(e, c); /* the JIT has handed over rnrt.h and libc */
    } else {
        /* stdio.h for snprintf (the load's messages), with or without main */
        buf_printf(c, "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n");
        buf_printf(c, "\n#include \"rnrt.h\"\n#include \"%s\"\n",
                   e->o->header_name ? e->o->header_name : "model.h");
    }

    buf_printf(c, "\n/* The weights, as the safetensors file names them. */\n");
    buf_printf(c, "typedef struct %s_tensor {\n    const char *name;\n    int "
               "rank;\n    rn_i64 dims[4];\n    rn_i64 count;\n} %s_tensor;\n",
               M, M);
    buf_printf(c, "static const %s_tensor %s_tensors[%d] = {\n", M, M,
               e->ntensors ? e->ntensors : 1);
    for (int i = 0; i < e->ntensors; i++) {
        EmitTensor *t = &e->tensors[i];
        int64_t cnt = 1;
        buf_printf(c, "    /* %d */ {%s, %d, {", i, c_string(e, t->name), t->rank);
        for (int j = 0; j < t->rank; j++) {
            buf_printf(c, "%s%lld", j ? ", " : "", (long long)t->dims[j]);
            cnt *= t->dims[j];
        }
        if (t->rank == 0) buf_printf(c, "0"); /* a scalar; C has no {} */
        buf_printf(c, "}, %lld},\n", (long long)cnt);
    }
    if (!e->ntensors) buf_printf(c, "    {\"\", 0, {0}, 0},\n");
    buf_printf(c, "};\n");

    if (e->nbn) {
        buf_printf(c, "\n/* Batchnorms, folded at load into scale and shift: "
                   "channels, tensors, epsilon. */\n");
        buf_printf(c, "typedef struct %s_bn {\n    int c, gamma, beta, mean, "
                   "var;\n    double eps;\n} %s_bn;\n", M, M);
        buf_printf(c, "static const %s_bn %s_bns[%d] = {\n", M, M, e->nbn);
        for (int i = 0; i < g->nnodes; i++) {
            GNode *n = g->nodes[i];
            if (e->bnidx[i] < 0) continue;
            int gm = emit_weight(e, n, "gamma"), bt = emit_weight(e, n, "beta"),
                mn = emit_weight(e, n, "moving_mean"),
                vr = emit_weight(e, n, "moving_variance");
            if (mn < 0 || vr < 0) /* gamma, beta: -1 when dropped */
                die("emit: batchnorm %s lacks a tensor", n->name);
            buf_printf(c, "    {%lld, %d, %d, %d, %d, %.17g}, /* %s */\n",
                       (long long)n->out.d[n->out.rank - 1], gm, bt, mn, vr,
                       n->epsilon, comment_text(e, n->path));
        }
        buf_printf(c, "};\n");
    }

    emit_conv_tables(e);

    buf_printf(c, "\n/* One instance: its weights, arena and threads. During a "
                  "run, in[] holds\n * the caller's inputs and par_* the "
                  "layer being split over the pool. */\n");
    buf_printf(c, "struct %s {\n    float *w[%d];\n", M,
               e->ntensors ? e->ntensors : 1);
    if (e->nbn) buf_printf(c, "    float *bn[%d]; /* scale, shift */\n", 2 * e->nbn);
    if (e->nprep) /* the load's loop names both */
        buf_printf(c, "    float *pk[%d]; /* packed conv weights */\n"
                   "    float *fb[%d]; /* biases with batchnorm folded in */\n",
                   e->npk ? e->npk : 1, e->nfb ? e->nfb : 1);
    buf_printf(c, "    float *arena;\n    const float *in[%d];\n",
               g->ninputs ? g->ninputs : 1);
    buf_printf(c, "    rn_pool *pool;\n    int nthreads;\n");
    buf_printf(c, "    float *ws; /* nthreads x ws_floats: the convs' scratch, "
               "a slice per worker */\n    rn_i64 ws_floats;\n");
    buf_printf(c, "    void (*par_rows)(%s *m, int y0, int y1, int w);\n", M);
    buf_printf(c, "    int par_n, par_k;\n");
    buf_printf(c, "    rn_hook hook; /* per-layer hook (M_set_hook), NULL: none */\n"
               "    void *hook_ctx;\n};\n");

    emit_par_helpers(e);

    buf_printf(c, "\n/* The layers, in order. */\n");
    for (int i = 0; i < g->nnodes; i++)
        if (e->fn[i]) buf_printf(c, "static void %s(%s *m);\n", e->fn[i], M);
}

static void emit_load(Emitter *e) {
    Buf *c = e->c;
    const char *M = e->name;
    buf_printf(c, "\nstatic void %s_oom(char *err, size_t errlen) {\n"
               "    if (err && errlen) snprintf(err, errlen, \"out of memory\");\n"
               "}\n", M);
    buf_printf(c, "\n%s *%s_load(const char *weights_path, char *err, size_t "
               "errlen) {\n", M, M);
    buf_printf(c, "    %s *m = calloc(1, sizeof *m);\n    rn_safetensors *st;\n"
               "    int i;\n", M);
    buf_printf(c, "    if (!m) {\n        %s_oom(err, errlen);\n        return 0;\n"
               "    }\n    m->nthreads = 1;\n", M);
    buf_printf(c, "    st = rn_st_open(weights_path, err, errlen);\n"
               "    if (!st) goto fail;\n");
    buf_printf(c, "    for (i = 0; i < %d; i++) {\n"
               "        const %s_tensor *t = &%s_tensors[i];\n"
               "        m->w[i] = malloc((size_t)t->count * sizeof(float));\n"
               "        if (!m->w[i]) {\n            %s_oom(err, errlen);\n"
               "            goto fail;\n        }\n"
               "        if (rn_st_read_f32(st, t->name, t->rank, t->dims, m->w[i], "
               "err, errlen) != 0)\n            goto fail;\n    }\n",
               e->ntensors, M, M, M);
    buf_printf(c, "    if (rn_st_check_all_used(st, err, errlen) != 0) goto fail;\n"
               "    rn_st_close(st);\n    st = 0;\n");
    /* Without any conv2d there is no M_convs table (C has no empty
     * arrays); the branch that would use it is then never taken. */
    char convref[160];
    snprintf(convref, sizeof convref, e->nconv ? "&%s_convs[p->conv]"
                                                : "(const rn_conv *)0%.0s", M);
    if (e->nprep)
        buf_printf(c, "    for (i = 0; i < %d; i++) {\n"
                   "        const %s_prep *p = &%s_preps[i];\n"
                   "        float *scale = 0;\n        int g;\n"
                   "        if (p->mean >= 0) {\n"
                   "            scale = malloc((size_t)p->cout * sizeof(float));\n"
                   "            m->fb[p->fb] = malloc((size_t)p->cout * sizeof(float));\n"
                   "            if (!scale || !m->fb[p->fb]) {\n"
                   "                free(scale);\n                %s_oom(err, errlen);\n"
                   "                goto fail;\n            }\n"
                   "            rn_k_bn_fold_bias(p->cout, p->gamma >= 0 ? m->w[p->gamma] : 0,\n"
                   "                              p->beta >= 0 ? m->w[p->beta] : 0, "
                   "m->w[p->mean],\n                              m->w[p->var], p->eps, "
                   "p->bias >= 0 ? m->w[p->bias] : 0,\n"
                   "                              scale, m->fb[p->fb]);\n"
                   "        }\n"
                   "        if (p->conv >= 0) {\n"
                   "            const rn_conv *c = %s;\n"
                   "            for (g = 0; g < p->groups; g++) {\n"
                   "                m->pk[p->pk + g] = malloc((size_t)rn_conv_packed_floats(c) "
                   "* sizeof(float));\n"
                   "                if (!m->pk[p->pk + g]) {\n"
                   "                    free(scale);\n"
                   "                    %s_oom(err, errlen);\n"
                   "                    goto fail;\n                }\n"
                   "                rn_conv_pack(c, m->w[p->kernel] + g * c->cout, p->cout,\n"
                   "                             scale ? scale + g * c->cout : 0, "
                   "m->pk[p->pk + g]);\n"
                   "            }\n"
                   "            free(m->w[p->kernel]);\n            m->w[p->kernel] = 0;\n"
                   "        } else if (scale) {\n"
                   "            rn_k_scale_channels(m->w[p->kernel], "
                   "%s_tensors[p->kernel].count / p->cout,\n"
                   "                                p->cout, scale);\n"
                   "        }\n"
                   "        free(scale);\n"
                   "        if (p->mean >= 0) { /* folded: the statistics are not needed */\n"
                   "            int t[5];\n            int j;\n"
                   "            t[0] = p->gamma, t[1] = p->beta, t[2] = p->mean, "
                   "t[3] = p->var, t[4] = p->bias;\n"
                   "            for (j = 0; j < 5; j++)\n"
                   "                if (t[j] >= 0) {\n"
                   "                    free(m->w[t[j]]);\n"
                   "                    m->w[t[j]] = 0;\n                }\n"
                   "        }\n    }\n", e->nprep, M, M, M, convref, M, M);
    if (e->ndeconv)
        buf_printf(c, "    for (i = 0; i < %d; i++) { /* Keras's kernels, packed */\n"
                   "        int k = %s_deconv_kernels[i];\n"
                   "        float *p = malloc((size_t)%s_tensors[k].count * sizeof(float));\n"
                   "        if (!p) {\n            %s_oom(err, errlen);\n"
                   "            goto fail;\n        }\n"
                   "        rn_deconv_pack(&%s_deconvs[i], m->w[k], p);\n"
                   "        free(m->w[k]);\n        m->w[k] = p;\n    }\n",
                   e->ndeconv, M, M, M, M);
    if (e->nbn)
        buf_printf(c, "    for (i = 0; i < %d; i++) {\n"
                   "        const %s_bn *b = &%s_bns[i];\n"
                   "        m->bn[2 * i] = malloc((size_t)b->c * sizeof(float));\n"
                   "        m->bn[2 * i + 1] = malloc((size_t)b->c * sizeof(float));\n"
                   "        if (!m->bn[2 * i] || !m->bn[2 * i + 1]) {\n"
                   "            %s_oom(err, errlen);\n            goto fail;\n"
                   "        }\n"
                   "        rn_k_bn_fold(b->c, b->gamma >= 0 ? m->w[b->gamma] : 0,\n"
                   "                     b->beta >= 0 ? m->w[b->beta] : 0, "
                   "m->w[b->mean], m->w[b->var],\n"
                   "                     b->eps, m->bn[2 * i], m->bn[2 * i + 1]);\n"
                   "    }\n", e->nbn, M, M, M);
    if (e->nconv)
        buf_printf(c, "    for (i = 0; i < %d; i++)\n"
                   "        if (rn_conv_scratch_floats(&%s_convs[i]) > m->ws_floats)\n"
                   "            m->ws_floats = rn_conv_scratch_floats(&%s_convs[i]);\n",
                   e->nconv, M, M);
    buf_printf(c, "    m->arena = malloc(%lld * sizeof(float));\n"
               "    m->ws = m->ws_floats ? malloc((size_t)m->ws_floats * sizeof(float)) : 0;\n"
               "    if (!m->arena || (m->ws_floats && !m->ws)) {\n        %s_oom(err, errlen);\n"
               "        goto fail;\n    }\n    return m;\nfail:\n"
               "    if (st) rn_st_close(st);\n    %s_free(m);\n    return 0;\n}\n",
               (long long)(e->g->arena_floats > 0 ? e->g->arena_floats : 1), M, M);
}

static void emit_entry_points(Emitter *e) {
    Buf *c = e->c;
    const char *M = e->name;
    Graph *g = e->g;
    buf_printf(c, "\nint %s_set_threads(%s *m, int nthreads) {\n"
               "    if (nthreads < 1) return -1;\n"
               "    if (m->ws_floats) { /* a slice of scratch per thread */\n"
               "        float *ws = realloc(m->ws, (size_t)nthreads * (size_t)m->ws_floats "
               "* sizeof(float));\n"
               "        if (!ws) return -1;\n        m->ws = ws;\n    }\n"
               "    if (m->pool) rn_pool_free(m->pool);\n    m->pool = 0;\n"
               "    m->nthreads = 1;\n"
               "    if (nthreads > 1) {\n        m->pool = rn_pool_new(nthreads);\n"
               "        if (!m->pool) return -1;\n    }\n"
               "    m->nthreads = nthreads;\n    return 0;\n}\n", M, M);

    buf_printf(c, "\nvoid %s_run_v(%s *m, const float *const *inputs, float "
               "*const *outputs) {\n", M, M);
    for (int i = 0; i < g->ninputs; i++)
        buf_printf(c, "    m->in[%d] = inputs[%d];\n", i, i);
    emit_inspect_start(e);
    for (int i = 0; i < g->nnodes; i++) {
        GNode *n = g->nodes[i];
        if (e->fn[i])
            buf_printf(c, "    %s(m);\n", e->fn[i]);
        else if (n->absorbed_by)
            buf_printf(c, "    /* %s: %s, fused into %s */\n",
                       comment_text(e, n->path), op_info[n->op].op,
                       comment_text(e, n->absorbed_by->path));
        else if (n->pad_folded)
            buf_printf(c, "    /* %s: %s, folded into the next layer's padding */\n",
                       comment_text(e, n->path), op_info[n->op].op);
        else if (n->op != OP_INPUT)
            buf_printf(c, "    /* %s: %s, no copy */\n",
                       comment_text(e, n->path), op_info[n->op].op);
        emit_inspect_after(e, n);
    }
    for (int i = 0; i < g->noutputs; i++)
        buf_printf(c, "    memcpy(outputs[%d], %s, %lld * sizeof(float));\n", i,
                   emit_data(e, g->outputs[i]),
                   (long long)shape_count(&g->outputs[i]->out));
    buf_printf(c, "}\n");

    buf_printf(c, "\nvoid %s_run(%s *m", M, M);
    for (int i = 0; i < g->ninputs; i++) buf_printf(c, ", const float *input%d", i);
    for (int i = 0; i < g->noutputs; i++) buf_printf(c, ", float *output%d", i);
    buf_printf(c, ") {\n    const float *inputs[%d];\n    float *outputs[%d];\n",
               g->ninputs ? g->ninputs : 1, g->noutputs ? g->noutputs : 1);
    for (int i = 0; i < g->ninputs; i++)
        buf_printf(c, "    inputs[%d] = input%d;\n", i, i);
    for (int i = 0; i < g->noutputs; i++)
        buf_printf(c, "    outputs[%d] = output%d;\n", i, i);
    buf_printf(c, "    %s_run_v(m, inputs, outputs);\n}\n", M);

    buf_printf(c, "\nvoid %s_free(%s *m) {\n    int i;\n    if (!m) return;\n"
               "    for (i = 0; i < %d; i++) free(m->w[i]);\n", M, M,
               e->ntensors ? e->ntensors : 1);
    if (e->nbn)
        buf_printf(c, "    for (i = 0; i < %d; i++) free(m->bn[i]);\n", 2 * e->nbn);
    if (e->npk)
        buf_printf(c, "    for (i = 0; i < %d; i++) free(m->pk[i]);\n", e->npk);
    if (e->nfb)
        buf_printf(c, "    for (i = 0; i < %d; i++) free(m->fb[i]);\n", e->nfb);
    buf_printf(c, "    free(m->arena);\n    free(m->ws);\n"
               "    if (m->pool) rn_pool_free(m->pool);\n    free(m);\n}\n");
}

/* Expected dims of each input and output, for main(). */
static void shape_table(Emitter *e, const char *what, GNode **nodes, int n) {
    buf_printf(e->c, "\nstatic const int %s_%s_rank[%d] = {", e->name, what,
               n ? n : 1);
    for (int i = 0; i < n; i++) buf_printf(e->c, "%s%d", i ? ", " : "", nodes[i]->out.rank);
    buf_printf(e->c, "};\nstatic const rn_i64 %s_%s_dims[%d][3] = {", e->name,
               what, n ? n : 1);
    for (int i = 0; i < n; i++) {
        const Shape *s = &nodes[i]->out;
        buf_printf(e->c, "%s{", i ? ", " : "");
        for (int j = 0; j < s->rank; j++)
            buf_printf(e->c, "%s%lld", j ? ", " : "", (long long)s->d[j]);
        buf_printf(e->c, "}");
    }
    buf_printf(e->c, "};\n");
}

static const char main_text[] =
    "\n/* ./PROG [--threads N] [--repeat N] [--trace DIR] [--profile] [M_io's flags]\n"
    " *        WEIGHTS.safetensors IN.npy... OUT.npy... */\n"
    "static int M_usage(const char *prog) {\n"
    "    fprintf(stderr, \"usage: %s [--threads N] [--repeat N] [--trace DIR] "
    "[--profile]%s WEIGHTS.safetensors%s\\n\", prog, M_flags, M_files);\n"
    "    return 2;\n}\n\n"
    "static int M_number(const char *s, int lo, int hi, int *out) {\n"
    "    char *end;\n    long v = strtol(s, &end, 10);\n"
    "    if (*s == 0 || *end || v < lo || v > hi) return 0;\n"
    "    *out = (int)v;\n    return 1;\n}\n\n"
    "/* [dims] or [1, dims]; anything else is refused. */\n"
    "static int M_shape_ok(const rn_array *a, int rank, const rn_i64 *dims) {\n"
    "    int lead = a->rank - rank, i;\n"
    "    if (lead != 0 && !(lead == 1 && a->dims[0] == 1)) return 0;\n"
    "    for (i = 0; i < rank; i++)\n"
    "        if (a->dims[lead + i] != dims[i]) return 0;\n"
    "    return 1;\n}\n\n"
    "static void M_dims_text(char *s, size_t n, int rank, const rn_i64 *d) {\n"
    "    if (rank == 3)\n"
    "        snprintf(s, n, \"[%lld, %lld, %lld] or [1, %lld, %lld, %lld]\", d[0], "
    "d[1], d[2], d[0], d[1], d[2]);\n"
    "    else\n        snprintf(s, n, \"[%lld] or [1, %lld]\", d[0], d[0]);\n}\n\n";

/* main() itself (a second string: C99 compilers need only take 4095
 * characters in one literal). */
static const char main_body[] =
    "int main(int argc, char **argv) {\n"
    "    int threads = rn_threads_from_env(), repeat = 0, profile = 0, a = 1, i, rc = 1;\n"
    "    const char *trace = 0;\n"
    "    rn_profile *prof = 0;\n"
    "    char err[1024];\n"
    "    rn_array in[M_NI];\n    const float *inputs[M_NI];\n"
    "    float *outputs[M_NO];\n    M *m;\n    M_io io;\n"
    "    memset(in, 0, sizeof in);\n    memset(outputs, 0, sizeof outputs);\n"
    "    M_io_init(&io);\n"
    "    for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; a++) {\n"
    "        if (a + 1 < argc && !strcmp(argv[a], \"--threads\")) {\n"
    "            if (!M_number(argv[++a], 1, 64, &threads)) return M_usage(argv[0]);\n"
    "        } else if (a + 1 < argc && !strcmp(argv[a], \"--repeat\")) {\n"
    "            if (!M_number(argv[++a], 1, 1000000, &repeat)) return M_usage(argv[0]);\n"
    "        } else if (a + 1 < argc && !strcmp(argv[a], \"--trace\")) {\n"
    "            trace = argv[++a];\n"
    "        } else if (!strcmp(argv[a], \"--profile\")) {\n"
    "            profile = 1;\n"
    "        } else if (a + 1 < argc && M_io_flag(&io, argv[0], argv[a], argv[a + 1])) {\n"
    "            a++;\n"
    "        } else {\n            return M_usage(argv[0]);\n        }\n    }\n"
    "    /* with --labels, the outputs may be left out: the top 5 is printed */\n"
    "    if (argc - a != 1 + M_NUM_INPUTS + M_NUM_OUTPUTS &&\n"
    "        !(io.labels_path && argc - a == 1 + M_NUM_INPUTS))\n"
    "        return M_usage(argv[0]);\n"
    "    m = M_load(argv[a], err, sizeof err);\n"
    "    if (!m) {\n        fprintf(stderr, \"%s: %s\\n\", argv[0], err);\n"
    "        return 1;\n    }\n"
    "    if (M_set_threads(m, threads) != 0) {\n"
    "        fprintf(stderr, \"%s: cannot start %d threads\\n\", argv[0], threads);\n"
    "        goto done;\n    }\n"
    "    if (M_io_load(&io, argv[0], argv + a + 1) != 0) goto done;\n"
    "    for (i = 0; i < M_NUM_INPUTS; i++) {\n"
    "        const char *path = argv[a + 1 + i];\n"
    "        if (M_read_input(&io, i, path, &in[i], err, sizeof err) != 0) {\n"
    "            fprintf(stderr, \"%s: %s\\n\", argv[0], err);\n            goto done;\n"
    "        }\n"
    "        if (!M_shape_ok(&in[i], M_in_rank[i], M_in_dims[i])) {\n"
    "            char want[128];\n"
    "            M_dims_text(want, sizeof want, M_in_rank[i], M_in_dims[i]);\n"
    "            fprintf(stderr, \"%s: %s: input %d must have shape %s\\n\", "
    "argv[0], path, i, want);\n"
    "            goto done;\n        }\n        inputs[i] = in[i].data;\n    }\n"
    "    for (i = 0; i < M_NUM_OUTPUTS; i++) {\n"
    "        rn_i64 n = 1;\n        int j;\n"
    "        for (j = 0; j < M_out_rank[i]; j++) n *= M_out_dims[i][j];\n"
    "        outputs[i] = malloc((size_t)n * sizeof(float));\n"
    "        if (!outputs[i]) {\n"
    "            fprintf(stderr, \"%s: out of memory\\n\", argv[0]);\n"
    "            goto done;\n        }\n    }\n"
    "";

/* main(), continued: the runs, the trace and the profile. */
static const char main_runs[] =
    "    if (trace) { /* every layer's value in the first run */\n"
    "        rn_trace *tr = rn_trace_open(trace, M_name, M_layers(), M_NUM_LAYERS, err, sizeof err);\n"
    "        int missing;\n"
    "        if (!tr) {\n            fprintf(stderr, \"%s: %s\\n\", argv[0], err);\n"
    "            goto done;\n        }\n"
    "        M_set_hook(m, rn_trace_hook, tr);\n"
    "        M_run_v(m, inputs, outputs);\n"
    "        M_set_hook(m, 0, 0);\n"
    "        missing = rn_trace_close(tr, err, sizeof err);\n"
    "        if (missing < 0) {\n            fprintf(stderr, \"%s: %s\\n\", argv[0], err);\n"
    "            goto done;\n        }\n"
    "        if (missing > 0)\n"
    "            fprintf(stderr, \"%s: %d layers are fused into others in this build and "
    "were not traced (rnc --no-fuse compiles every layer on its own)\\n\", argv[0], "
    "missing);\n"
    "    } else {\n        M_run_v(m, inputs, outputs);\n    }\n"
    "    if (profile && repeat == 0) repeat = 1;\n"
    "    if (profile && !(prof = rn_profile_new(M_layers(), M_NUM_LAYERS, repeat))) {\n"
    "        fprintf(stderr, \"%s: out of memory\\n\", argv[0]);\n        goto done;\n    }\n"
    "    if (prof) M_set_hook(m, rn_profile_hook, prof);\n"
    "    if (repeat > 0) {\n"
    "        double *t = malloc((size_t)repeat * sizeof *t), med, min;\n"
    "        if (!t) goto done;\n"
    "        for (i = 0; i < repeat; i++) {\n"
    "            double t0 = rn_now_ms();\n"
    "            M_run_v(m, inputs, outputs);\n"
    "            t[i] = rn_now_ms() - t0;\n"
    "            if (prof) rn_profile_run_done(prof, t[i]);\n        }\n"
    "        rn_median_min(t, repeat, &med, &min);\n"
    "        fprintf(stderr, \"%s: median %.3f ms, min %.3f ms per run (%d runs, "
    "%d threads)\\n\", argv[0], med, min, repeat, threads);\n"
    "        free(t);\n    }\n"
    "    M_set_hook(m, 0, 0);\n"
    "    for (i = 0; i < M_NUM_OUTPUTS && a + 1 + M_NUM_INPUTS + i < argc; i++) {\n"
    "        rn_i64 dims[4];\n        int j;\n        dims[0] = 1;\n"
    "        for (j = 0; j < M_out_rank[i]; j++) dims[j + 1] = M_out_dims[i][j];\n"
    "        if (rn_npy_write(argv[a + 1 + M_NUM_INPUTS + i], M_out_rank[i] + 1, "
    "dims, outputs[i], err, sizeof err) != 0) {\n"
    "            fprintf(stderr, \"%s: %s\\n\", argv[0], err);\n"
    "            goto done;\n        }\n    }\n"
    "    M_io_print(&io, outputs);\n"
    "    if (prof) rn_profile_print(prof, M_name, threads);\n"
    "    rc = 0;\ndone:\n"
    "    rn_profile_free(prof);\n"
    "    M_io_free(&io);\n"
    "    for (i = 0; i < M_NUM_INPUTS; i++) rn_array_free(&in[i]);\n"
    "    for (i = 0; i < M_NUM_OUTPUTS; i++) free(outputs[i]);\n"
    "    M_free(m);\n    return rc;\n}\n";

/* text with every "M_" made "NAME_" and M_NI/M_NO the array sizes. */
void emit_text(Emitter *e, const char *text) {
    Graph *g = e->g;
    const char *ni = arena_printf(g->arena, "%d", g->ninputs ? g->ninputs : 1);
    const char *no = arena_printf(g->arena, "%d", g->noutputs ? g->noutputs : 1);
    for (const char *p = text; *p;) {
        if (!strncmp(p, "M_NI", 4) || !strncmp(p, "M_NO", 4)) {
            buf_printf(e->c, "%s", p[3] == 'I' ? ni : no);
            p += 4;
        } else if ((p[0] == 'M' && (p[1] == '_' || p[1] == ' ' || p[1] == '*')) &&
                   (p == text || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
                                   (p[-1] >= 'A' && p[-1] <= 'Z')))) {
            buf_printf(e->c, "%s", e->name);
            p += 1;
        } else {
            buf_append(e->c, p, 1);
            p++;
        }
    }
}

static void emit_main(Emitter *e) {
    Graph *g = e->g;
    shape_table(e, "in", g->inputs, g->ninputs);
    shape_table(e, "out", g->outputs, g->noutputs);
    buf_printf(e->c, "static const char %s_name[] = %s;\n", e->name,
               c_string(e, g->name));
    buf_printf(e->c, "static const char %s_files[] = \"", e->name);
    for (int i = 0; i < g->ninputs; i++)
        buf_printf(e->c, emit_image_input(g->inputs[i]) ? " IN%d.{npy,png,jpg}"
                                                          : " IN%d.npy", i);
    for (int i = 0; i < g->noutputs; i++) buf_printf(e->c, " OUT%d.npy", i);
    buf_printf(e->c, "\";\n");
    emit_io(e);
    emit_text(e, main_text);
    emit_text(e, main_body);
    emit_text(e, main_runs);
}

void emit_api(Emitter *e) {
    emit_load(e);
    emit_entry_points(e);
    emit_inspect_table(e);
    if (e->o->with_main && !e->o->for_jit) emit_main(e);
}
