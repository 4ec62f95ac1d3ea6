/* emit_c.c: the graph as specialized C (model.c) and its API (model.h):
 * the entry point and the layers. The instance half (model.h, the struct,
 * load/run/free, main) is in emit_api.c.
 *
 * Requires: shapes, paddings and counts (shape.c), the fusion marks of
 * compiler/passes/ (or none) and the arena plan (plan.c) on every node.
 * Changes nothing in the graph.
 *
 * The generated code has one static function per layer that has code of
 * its own (a batchnorm, add or relu absorbed into a conv's epilogue and a
 * concat whose operands wrote into its slices have none), every dimension
 * a literal. Hot inner loops are calls into the runtime (rnrt.h: conv.c
 * for conv2d, kernels.c for the rest) with literal sizes, so the same C
 * runs fast whether gcc or tcc (the JIT) compiles it. An instance struct owns the weights, the activation
 * arena and the thread pool; layers that split their output rows over the
 * pool get the instance as the task context. */
#include "emit_c.h"

#include <math.h>
#include <string.h>

/* A float literal that reads back to the same float: %.9g, kept a floating
 * constant ("1" -> "1.0f"). */
const char *emit_float(Emitter *e, double v) {
    char s[48];
    if (!isfinite((float)v)) /* a value beyond float: the largest float */
        return v < 0 ? "-3.402823466e+38f" : "3.402823466e+38f";
    snprintf(s, sizeof s, "%.9g", (double)(float)v);
    if (!strpbrk(s, ".e")) strcat(s, ".0");
    return arena_printf(e->g->arena, "%sf", s);
}

/* A name safe inside a comment or an identifier: anything but [A-Za-z0-9_.]
 * becomes '_' (layer names given with name="..." may hold any text). */
const char *emit_safe(Emitter *e, const char *s, bool ident) {
    char *t = arena_strdup(e->g->arena, s ? s : "");
    for (char *p = t; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' ||
                  (*p == '.' && !ident) || (*p == '-' && !ident);
        if (!ok) *p = '_';
    }
    return t;
}

/* "12,345,678" */
static const char *thousands(Emitter *e, int64_t v) {
    char raw[32], out[48];
    snprintf(raw, sizeof raw, "%lld", (long long)v);
    size_t n = strlen(raw), j = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0 && raw[i - 1] != '-') out[j++] = ',';
        out[j++] = raw[i];
    }
    out[j] = 0;
    return arena_strdup(e->g->arena, out);
}

/* Flatten, dropout and reshape alias their input, and a fused node's
 * value is its absorber's: the node whose code computes n's floats (same
 * count). A folded zeropad's floats are its input's, unpadded (see
 * emit_pad_t). */
GNode *emit_storage(GNode *n) {
    for (;;) {
        if (node_is_alias(n)) n = n->in[0];
        else if (n->absorbed_by) n = n->absorbed_by;
        else return n;
    }
}

/* The node that owns the buffer holding n: a concat slice's concat. */
static GNode *owner(GNode *n) {
    n = emit_storage(n);
    return n->slice_of ? n->slice_of : n;
}

bool emit_has_code(const GNode *n) {
    return n->op != OP_INPUT && !node_is_alias(n) && !n->absorbed_by &&
           !(n->op == OP_CONCAT && n->sliced);
}

/* The shape of the input n's code reads: its first input's, or for a
 * conv reading a folded zeropad, that zeropad's input's. (An alias's
 * storage may be another shape: a reshape's source.) */
const Shape *emit_in_shape(const GNode *n) {
    const GNode *in = n->in[0];
    return in->pad_folded ? &in->in[0]->out : &in->out;
}

/* A conv's top and left padding over the storage it reads: its own, plus
 * a folded zeropad's (fold_zeropad.c). */
int emit_pad_t(const GNode *n) {
    return n->pad_t + (n->in[0]->pad_folded ? n->in[0]->pad_t : 0);
}

int emit_pad_l(const GNode *n) {
    return n->pad_l + (n->in[0]->pad_folded ? n->in[0]->pad_l : 0);
}

Act emit_act(const GNode *n) {
    return n->epi_act != ACT_NONE ? n->epi_act : n->act;
}

/* The C expression of n's data: the caller's input buffer or the arena;
 * a concat slice starts at its channel offset. */
const char *emit_data(Emitter *e, GNode *n) {
    n = emit_storage(n);
    if (n->slice_of)
        return arena_printf(e->g->arena, "(m->arena + %lld + %lld)",
                            (long long)n->slice_of->arena_off,
                            (long long)n->slice_off);
    if (n->op == OP_INPUT) {
        for (int i = 0; i < e->g->ninputs; i++)
            if (e->g->inputs[i] == n)
                return arena_printf(e->g->arena, "m->in[%d]", i);
        die("emit: input node %s is not a graph input", n->name);
    }
    if (n->arena_off < 0) die("emit: %s has no arena offset", n->name);
    return arena_printf(e->g->arena, "(m->arena + %lld)",
                        (long long)n->arena_off);
}

/* The index in the tensor table of n's weight `suffix`, or -1. */
int emit_weight(Emitter *e, const GNode *n, const char *suffix) {
    for (int i = e->wfirst[n->id]; i < e->ntensors; i++) {
        if (e->tensors[i].node != n) break;
        if (!strcmp(e->tensors[i].suffix, suffix)) return i;
    }
    return -1;
}

static const char *weight_or_null(Emitter *e, const GNode *n,
                                  const char *suffix) {
    int i = emit_weight(e, n, suffix);
    return i < 0 ? "(const float *)0" : arena_printf(e->g->arena, "m->w[%d]", i);
}

/* A conv's bias: folded with its batchnorm at load, or its own tensor. */
const char *emit_bias(Emitter *e, const GNode *n) {
    if (e->fb[n->id] >= 0)
        return arena_printf(e->g->arena, "m->fb[%d]", e->fb[n->id]);
    return weight_or_null(e, n, "bias");
}

static int64_t chans(const Shape *s) { return s->d[s->rank - 1]; }

/* Checks what the plan promises (internal bugs if broken): the output's
 * buffer fits in the arena and overlaps no input's (nor a fused residual),
 * except an elementwise op writing in place over an input of the same
 * size. */
static void check_input(GNode *n, GNode *in, bool in_place_ok) {
    GNode *o = owner(n), *s = owner(in);
    if (s->op == OP_INPUT) return;
    int64_t cnt = shape_count(&o->out), scnt = shape_count(&s->out);
    bool overlap = s->arena_off < o->arena_off + cnt &&
                   o->arena_off < s->arena_off + scnt;
    if (overlap && !(in_place_ok && s->arena_off == o->arena_off))
        die("emit: %s: arena slot overlaps its input %s", n->name, s->name);
}

static void check_plan(Emitter *e, GNode *n, bool in_place_ok) {
    GNode *o = owner(n);
    int64_t cnt = shape_count(&o->out);
    if (o->arena_off < 0 || o->arena_off + cnt > e->g->arena_floats)
        die("emit: %s: arena slot [%lld, +%lld) outside the arena (%lld)",
            n->name, (long long)o->arena_off, (long long)cnt,
            (long long)e->g->arena_floats);
    for (int i = 0; i < n->nin; i++) check_input(n, n->in[i], in_place_ok);
    if (n->residual) check_input(n, n->residual, false);
}

/* The comment heading each layer's function. */
static void layer_comment(Emitter *e, GNode *n) {
    Buf *c = e->c;
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
    buf_printf(c, "], %s MACs", thousands(e, n->macs));
    if (n->op == OP_CONV2D || n->op == OP_DEPTHWISE_CONV2D ||
        n->op == OP_MAXPOOL || n->op == OP_AVGPOOL)
        buf_printf(c, "\n * window %dx%d, stride %dx%d, dilation %dx%d, "
                   "padding top %d bottom %d left %d right %d",
                   n->kh, n->kw, n->sh, n->sw, n->dh ? n->dh : 1,
                   n->dw ? n->dw : 1, n->pad_t, n->pad_b, n->pad_l, n->pad_r);
    if ((n->op == OP_CONV2D || n->op == OP_DEPTHWISE_CONV2D) && n->in[0]->pad_folded)
        buf_printf(c, "\n * reads the input of %s: its zeros are this layer's padding "
                   "(top %d, left %d; bottom and right follow)",
                   emit_safe(e, n->in[0]->path, false), emit_pad_t(n), emit_pad_l(n));
    if (n->fold_bn)
        buf_printf(c, "\n * batchnorm %s folded into the weights",
                   emit_safe(e, n->fold_bn->path, false));
    if (n->residual)
        buf_printf(c, "\n * adds %s (residual)",
                   emit_safe(e, emit_storage(n->residual)->path, false));
    if (emit_act(n) != ACT_NONE && n->op != OP_ACTIVATION)
        buf_printf(c, "\n * fused activation: %s", act_names[emit_act(n)]);
    if (n->slice_of)
        buf_printf(c, "\n * writes channels %lld..%lld of %s (no copy)",
                   (long long)n->slice_off,
                   (long long)(n->slice_off + n->out.d[2] - 1),
                   emit_safe(e, n->slice_of->path, false));
    buf_printf(c, " */\n");
}

/* The valid output columns [lo, hi) of each kernel column kx: those whose
 * input column ox*sw - pad_l + kx*dw is inside [0, w). Literal tables. */
static void tap_tables(Emitter *e, int kw, int sw, int dw, int pad_l, int w,
                       int ow) {
    Buf *c = e->c;
    int *lo = arena_alloc(e->g->arena, sizeof *lo * (size_t)kw);
    int *hi = arena_alloc(e->g->arena, sizeof *hi * (size_t)kw);
    for (int kx = 0; kx < kw; kx++) {
        lo[kx] = ow;
        hi[kx] = 0;
        for (int ox = 0; ox < ow; ox++) {
            int ix = ox * sw - pad_l + kx * dw;
            if (ix < 0 || ix >= w) continue;
            if (ox < lo[kx]) lo[kx] = ox;
            hi[kx] = ox + 1;
        }
        if (hi[kx] <= lo[kx]) lo[kx] = hi[kx] = 0;
    }
    buf_printf(c, "    static const int lo[%d] = {", kw);
    for (int kx = 0; kx < kw; kx++) buf_printf(c, "%s%d", kx ? ", " : "", lo[kx]);
    buf_printf(c, "}, hi[%d] = {", kw);
    for (int kx = 0; kx < kw; kx++) buf_printf(c, "%s%d", kx ? ", " : "", hi[kx]);
    buf_printf(c, "};\n");
}

/* Windowed layers (conv, depthwise, pools) share one loop nest: for each
 * output row, each kernel row whose input row is inside the image, each
 * kernel column with its literal range of valid output columns, one kernel
 * call over those pixels. `tap` prints that call given the names
 * iy/kx/yr. */
static void window_rows(Emitter *e, GNode *n, const char *fn,
                        void (*init)(Emitter *, GNode *),
                        void (*tap)(Emitter *, GNode *),
                        void (*fini)(Emitter *, GNode *)) {
    Buf *c = e->c;
    const Shape *is = emit_in_shape(n), *os = &n->out;
    int dh = n->dh ? n->dh : 1, dw = n->dw ? n->dw : 1;
    long long ow = os->d[1], oc = os->d[2];
    buf_printf(c, "static void %s_rows(%s *m, int y0, int y1, int w) {\n", fn,
               e->name);
    buf_printf(c, "    (void)w;\n");
    tap_tables(e, n->kw, n->sw, dw, n->pad_l, (int)is->d[1], (int)ow);
    buf_printf(c, "    const float *x = %s;\n", emit_data(e, n->in[0]));
    buf_printf(c, "    float *y = %s;\n", emit_data(e, n));
    buf_printf(c, "    for (int oy = y0; oy < y1; oy++) {\n");
    buf_printf(c, "        float *yr = y + (long)oy * %lld;\n", ow * oc);
    init(e, n);
    buf_printf(c, "        for (int ky = 0; ky < %d; ky++) {\n", n->kh);
    buf_printf(c, "            int iy = oy * %d - %d + ky * %d;\n", n->sh,
               n->pad_t, dh);
    buf_printf(c, "            if (iy < 0 || iy >= %lld) continue;\n",
               (long long)is->d[0]);
    buf_printf(c, "            for (int kx = 0; kx < %d; kx++) {\n", n->kw);
    buf_printf(c, "                if (hi[kx] == lo[kx]) continue;\n");
    tap(e, n);
    buf_printf(c, "            } /* kx */\n        } /* ky */\n");
    fini(e, n);
    buf_printf(c, "    } /* oy */\n}\n");
}

/* The input pixel of output column lo[kx] in row iy, as a float offset. */
static const char *tap_src(Emitter *e, GNode *n) {
    const Shape *is = emit_in_shape(n);
    return arena_printf(e->g->arena,
                        "((long)iy * %lld + lo[kx] * %d - %d + kx * %d) * %lld",
                        (long long)is->d[1], n->sw, n->pad_l,
                        n->dw ? n->dw : 1, (long long)is->d[2]);
}

/* A conv2d is the runtime's direct convolution (conv.c) on weights packed
 * at load, its rn_conv in M_convs: bias (batchnorm folded), residual and
 * relu/relu6 in its epilogue; one call per group at channel offsets. The
 * work items (tiles) are spread over the pool. Other activations follow
 * as a pass over the output (never a slice: see concat_slices.c). */
static void conv_layer(Emitter *e, GNode *n, const char *fn) {
    Buf *c = e->c;
    int k = e->conv[n->id], groups = n->groups > 1 ? n->groups : 1;
    long long cin = chans(emit_in_shape(n)), cout = n->out.d[2];
    long long cig = cin / groups, cog = cout / groups;
    const char *bias = emit_bias(e, n);
    bool has_bias = strcmp(bias, "(const float *)0") != 0;
    const char *res = n->residual ? emit_data(e, n->residual) : "(const float *)0";
    buf_printf(c, "static void %s_rows(%s *m, int t0, int t1, int w) {\n", fn, e->name);
    if (groups == 1) {
        buf_printf(c, "    rn_conv_run(&%s_convs[%d], %s, m->pk[%d], %s, %s,\n"
                   "                %s, t0, t1, m->ws + w * m->ws_floats);\n", e->name, k,
                   emit_data(e, n->in[0]), e->pk[n->id], bias, res,
                   emit_data(e, n));
    } else {
        buf_printf(c, "    int g;\n    for (g = 0; g < %d; g++)\n", groups);
        buf_printf(c, "        rn_conv_run(&%s_convs[%d], %s + g * %lld, "
                   "m->pk[%d + g],\n                    %s%s, %s%s,\n"
                   "                    %s + g * %lld, t0, t1, m->ws + w * m->ws_floats);\n",
                   e->name, k,
                   emit_data(e, n->in[0]), cig, e->pk[n->id], bias,
                   has_bias ? arena_printf(e->g->arena, " + g * %lld", cog) : "",
                   res, n->residual ? arena_printf(e->g->arena, " + g * %lld", cog) : "",
                   emit_data(e, n), cog);
    }
    buf_printf(c, "}\n");
    buf_printf(c, "static void %s(%s *m) {\n", fn, e->name);
    if (emit_splits(n))
        buf_printf(c, "    %s_par(m, %s_rows, rn_conv_tiles(&%s_convs[%d]));\n",
                   e->name, fn, e->name, k);
    else
        buf_printf(c, "    %s_rows(m, 0, rn_conv_tiles(&%s_convs[%d]), 0);\n", fn,
                   e->name, k);
    Act act = emit_act(n);
    if (act != ACT_NONE && act != ACT_RELU && act != ACT_RELU6)
        buf_printf(c, "    rn_k_act(%d, %s, %s, %lld, %lld);\n", (int)act,
                   emit_data(e, n), emit_data(e, n),
                   (long long)(n->out.d[0] * n->out.d[1]), cout);
    buf_printf(c, "}\n");
}

/* A depthwise conv is the runtime's (depthwise.c), its rn_dw literal in
 * the rows function: bias (batchnorm folded into kernel and bias at load)
 * and relu/relu6 in its epilogue, other activations as a pass over the
 * rows after. */
static void dw_layer(Emitter *e, GNode *n, const char *fn) {
    Buf *c = e->c;
    const Shape *is = emit_in_shape(n);
    long long ow = n->out.d[1], cout = n->out.d[2];
    int mult = n->multiplier > 0 ? n->multiplier : 1;
    Act act = emit_act(n);
    buf_printf(c, "static void %s_rows(%s *m, int y0, int y1, int w) {\n", fn, e->name);
    buf_printf(c, "    static const rn_dw d = {.ih = %d, .iw = %d, .c = %d, .oh = %d, "
               ".ow = %d, .mult = %d,\n        .kh = %d, .kw = %d, .sh = %d, .sw = %d, "
               ".dh = %d, .dw = %d, .pad_t = %d, .pad_l = %d,\n        .ldi = %d, "
               ".ldo = %d, .act = %d};\n",
               (int)is->d[0], (int)is->d[1], (int)is->d[2], (int)n->out.d[0],
               (int)ow, mult, n->kh, n->kw, n->sh, n->sw, n->dh ? n->dh : 1,
               n->dw ? n->dw : 1, emit_pad_t(n), emit_pad_l(n), (int)is->d[2], (int)cout,
               act == ACT_RELU || act == ACT_RELU6 ? (int)act : 0);
    buf_printf(c, "    (void)w;\n    rn_dw_run(&d, %s, m->w[%d], %s, %s, y0, y1);\n",
               emit_data(e, n->in[0]), emit_weight(e, n, "depthwise_kernel"),
               emit_bias(e, n), emit_data(e, n));
    if (act != ACT_NONE && act != ACT_RELU && act != ACT_RELU6)
        buf_printf(c, "    rn_k_act(%d, %s + (long)y0 * %lld, %s + (long)y0 * %lld, "
                   "(y1 - y0) * %lld, %lld);\n", (int)act, emit_data(e, n),
                   ow * cout, emit_data(e, n), ow * cout, ow, cout);
    buf_printf(c, "}\n");
}

static void pool_init(Emitter *e, GNode *n) {
    buf_printf(e->c, "        rn_k_fill(yr, %lld, %s);\n",
               (long long)(n->out.d[1] * n->out.d[2]),
               n->op == OP_MAXPOOL ? "-3.402823466e+38f" : "0.0f");
}

static void pool_tap(Emitter *e, GNode *n) {
    long long ch = n->out.d[2];
    buf_printf(e->c,
               "                rn_k_%s_tap(hi[kx] - lo[kx], %lld, x + %s, "
               "%lld, yr + lo[kx] * %lld, %lld);\n",
               n->op == OP_MAXPOOL ? "max" : "sum", ch, tap_src(e, n),
               (long long)n->sw * ch, ch, ch);
}

/* Average pooling divides by the real pixels of each window (TensorFlow's
 * rule), or with count_include_pad by its positions inside the padded
 * input [-pad, size + pad) (PyTorch's): rows counted for oy times columns
 * counted for ox. */
static void avg_counts(Emitter *e, const char *name, int nout, int k, int s,
                       int lo, int hi, int64_t size, bool with_pad) {
    buf_printf(e->c, "%s[%d] = {", name, nout);
    for (int o = 0; o < nout; o++) {
        int count = 0;
        for (int t = 0; t < k; t++) {
            int64_t i = (int64_t)o * s - lo + t;
            count += with_pad ? i >= -lo && i < size + hi : i >= 0 && i < size;
        }
        buf_printf(e->c, "%s%d", o ? ", " : "", count);
    }
    buf_printf(e->c, "}");
}

static void avg_fini(Emitter *e, GNode *n) {
    Buf *c = e->c;
    const Shape *is = emit_in_shape(n);
    int oh = (int)n->out.d[0], ow = (int)n->out.d[1];
    buf_printf(c, "        static const int ");
    avg_counts(e, "cy", oh, n->kh, n->sh, n->pad_t, n->pad_b, is->d[0],
               n->count_include_pad);
    buf_printf(c, ", ");
    avg_counts(e, "cx", ow, n->kw, n->sw, n->pad_l, n->pad_r, is->d[1],
               n->count_include_pad);
    buf_printf(c, ";\n");
    buf_printf(c, "        for (int ox = 0; ox < %d; ox++)\n", ow);
    buf_printf(c, "            if (cy[oy] * cx[ox] > 0) rn_k_scale(yr + ox * "
               "%lld, %lld, 1.0f / (float)(cy[oy] * cx[ox]));\n",
               (long long)n->out.d[2], (long long)n->out.d[2]);
}

static void no_fini(Emitter *e, GNode *n) { (void)e; (void)n; }

/* Whether n's rows (a conv's tiles) are split over the pool: only when
 * there are several and the work is worth a handoff to other threads. */
bool emit_splits(const GNode *n) {
    int64_t rows = n->out.d[0], work;
    switch (n->op) {
    case OP_CONV2D: /* conv.c's tiles also split the channels */
        return n->macs >= 100000;
    case OP_DEPTHWISE_CONV2D:
    case OP_DENSE:
        work = n->macs;
        break;
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        work = shape_count(&n->out) * n->kh * n->kw;
        break;
    default:
        return false;
    }
    return rows > 1 && work >= 100000;
}

/* A layer whose rows may be split over the pool: its _rows function, then
 * the layer function that runs it. */
static void rows_layer(Emitter *e, GNode *n, const char *fn) {
    int64_t rows = n->out.d[0];
    buf_printf(e->c, "static void %s(%s *m) {\n", fn, e->name);
    if (emit_splits(n))
        buf_printf(e->c, "    %s_par(m, %s_rows, %lld);\n", e->name, fn,
                   (long long)rows);
    else
        buf_printf(e->c, "    %s_rows(m, 0, %lld, 0);\n", fn, (long long)rows);
    if (n->op == OP_DENSE && emit_act(n) != ACT_NONE)
        buf_printf(e->c, "    rn_k_act(%d, %s, %s, 1, %lld);\n", (int)emit_act(n),
                   emit_data(e, n), emit_data(e, n), (long long)n->out.d[0]);
    buf_printf(e->c, "}\n");
}

/* Dense: a one-pixel convolution, its units split over the pool. */
static void dense_rows(Emitter *e, GNode *n, const char *fn) {
    Buf *c = e->c;
    long long in = shape_count(emit_in_shape(n)), u = n->out.d[0];
    int b = emit_weight(e, n, "bias");
    buf_printf(c, "static void %s_rows(%s *m, int o0, int o1, int w) {\n", fn, e->name);
    buf_printf(c, "    float *y = %s + o0;\n    (void)w;\n", emit_data(e, n));
    buf_printf(c, "    rn_k_fill_bias(1, o1 - o0, %s, y, %lld);\n",
               b < 0 ? "(const float *)0"
                     : arena_printf(e->g->arena, "m->w[%d] + o0", b), u);
    buf_printf(c, "    rn_k_conv_tap(1, %lld, o1 - o0, %s, %lld, m->w[%d] + o0, "
               "%lld, y, %lld);\n}\n", in, emit_data(e, n->in[0]), in,
               emit_weight(e, n, "kernel"), u, u);
}

/* "h, w, c" of a shape for the runtime: a flat [N] is 1 x 1 x N. */
static const char *hwc(Emitter *e, const Shape *s) {
    if (s->rank == 1) return arena_printf(e->g->arena, "1, 1, %lld", (long long)s->d[0]);
    return arena_printf(e->g->arena, "%lld, %lld, %lld", (long long)s->d[0],
                        (long long)s->d[1], (long long)s->d[2]);
}

/* The merges: out = in0 OP in1, then out = out OP in_k; an average sums
 * and scales. Operands broadcast (rn_k_merge). */
static void merge_code(Emitter *e, GNode *n) {
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
    const char *y = emit_data(e, n), *out = hwc(e, &n->out);
    for (int i = 1; i < n->nin; i++)
        buf_printf(e->c, "    rn_k_merge(%s, %s, %s, %s, %s, %s, %s);\n", code,
                   i == 1 ? emit_data(e, n->in[0]) : y,
                   i == 1 ? hwc(e, &n->in[0]->out) : out,
                   emit_data(e, n->in[i]), hwc(e, &n->in[i]->out), y, out);
    if (n->op == OP_AVERAGE)
        buf_printf(e->c, "    rn_k_scale(%s, %lld, %s);\n", y,
                   (long long)shape_count(&n->out),
                   emit_float(e, 1.0 / n->nin));
}

/* Layers with one call or a short loop: no row split. */
static void simple_layer(Emitter *e, GNode *n, const char *fn) {
    Buf *c = e->c;
    long long cnt = shape_count(&n->out), ch = chans(&n->out);
    const char *y = emit_data(e, n), *x = emit_data(e, n->in[0]);
    buf_printf(c, "static void %s(%s *m) {\n", fn, e->name);
    switch (n->op) {
    case OP_BATCHNORM:
        buf_printf(c, "    rn_k_scale_shift(%s, %s, %lld, %lld, m->bn[%d], "
                   "m->bn[%d]);\n", x, y, cnt / ch, ch, 2 * e->bnidx[n->id],
                   2 * e->bnidx[n->id] + 1);
        break;
    case OP_LAYERNORM: {
        int g = emit_weight(e, n, "gamma"), b = emit_weight(e, n, "beta");
        buf_printf(c, "    rn_k_layernorm(%s, %s, %lld, %lld, %.17g, %s, %s);\n", x, y,
                   cnt / ch, ch, n->epsilon,
                   g < 0 ? "(const float *)0" : arena_printf(e->g->arena, "m->w[%d]", g),
                   b < 0 ? "(const float *)0" : arena_printf(e->g->arena, "m->w[%d]", b));
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
                       x, y, cnt / ch, ch, emit_weight(e, n, "mean"),
                       emit_weight(e, n, "variance"));
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
        int a = emit_weight(e, n, "alpha");
        const int64_t *d = e->tensors[a].dims;
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
        merge_code(e, n);
        break;
    case OP_GLOBAL_AVGPOOL:
    case OP_GLOBAL_MAXPOOL: {
        const Shape *is = emit_in_shape(n);
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
                       emit_data(e, n->in[i]), ci, ci);
            off += ci;
        }
        buf_printf(c, "    }\n");
        break;
    }
    case OP_ZEROPAD: {
        const Shape *is = emit_in_shape(n);
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
        const Shape *is = emit_in_shape(n);
        long long w = is->d[1], ow = n->out.d[1];
        buf_printf(c, "    for (int oy = 0; oy < %lld; oy++)\n", (long long)n->out.d[0]);
        buf_printf(c, "        memcpy(%s + (long)oy * %lld, %s + ((long)(oy + %d) * %lld "
                   "+ %d) * %lld, %lld * sizeof(float));\n", y, ow * ch, x, n->pad_t, w,
                   n->pad_l, ch, ow * ch);
        break;
    }
    case OP_UPSAMPLE: {
        const Shape *is = emit_in_shape(n);
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

/* Writes one layer's function(s): all but inputs and aliases have one. */
static void emit_layer(Emitter *e, GNode *n, const char *fn) {
    bool elementwise = n->op == OP_BATCHNORM || n->op == OP_ACTIVATION ||
                       n->op == OP_RESCALE || node_is_merge(n) ||
                       n->op == OP_RELU || n->op == OP_ELU ||
                       n->op == OP_LEAKY_RELU || n->op == OP_SOFTMAX ||
                       n->op == OP_PRELU || n->op == OP_LAYERNORM ||
                       n->op == OP_NORMALIZATION;
    check_plan(e, n, elementwise);
    layer_comment(e, n);
    switch (n->op) {
    case OP_CONV2D:
        conv_layer(e, n, fn);
        break;
    case OP_DEPTHWISE_CONV2D:
        dw_layer(e, n, fn);
        rows_layer(e, n, fn);
        break;
    case OP_MAXPOOL:
        window_rows(e, n, fn, pool_init, pool_tap, no_fini);
        rows_layer(e, n, fn);
        break;
    case OP_AVGPOOL:
        window_rows(e, n, fn, pool_init, pool_tap, avg_fini);
        rows_layer(e, n, fn);
        break;
    case OP_DENSE:
        dense_rows(e, n, fn);
        rows_layer(e, n, fn);
        break;
    default:
        simple_layer(e, n, fn);
        break;
    }
}

void emit_c(Graph *g, const EmitOptions *o, Buf *c, Buf *h) {
    Emitter e = {.g = g, .o = o, .c = c, .h = h};
    e.name = emit_safe(&e, g->name, true);
    emit_collect(&e);
    /* names first: the prologue declares them */
    e.fn = arena_alloc(g->arena, sizeof *e.fn * (size_t)(g->nnodes + 1));
    for (int i = 0; i < g->nnodes; i++) {
        GNode *n = g->nodes[i];
        if (emit_has_code(n))
            e.fn[i] = arena_printf(g->arena, "L%d_%s", n->id,
                                   emit_safe(&e, n->name, true));
    }
    emit_header(&e, h);
    emit_prologue(&e);
    for (int i = 0; i < g->nnodes; i++)
        if (e.fn[i]) emit_layer(&e, g->nodes[i], e.fn[i]);
    emit_api(&e);
}
