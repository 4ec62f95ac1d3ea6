/* test_emit.c: the code generator on hand-built graphs (structure of the
 * emitted C), and the runtime's kernels against naive loops on random data
 * (both the AVX2 and the portable path). Whole models are built, run and
 * checked in tests/e2e/aot.sh and against PyTorch by the numerics tests. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rnc.h"
#include "rnrt.h"
#include "unit.h"

/* ------------------------------------------------- hand-built graphs */

static GNode *add_node(Graph *g, OpKind op, GNode *a, GNode *b) {
    GNode *n = arena_alloc(g->arena, sizeof *n);
    n->id = g->nnodes;
    n->op = op;
    n->name = arena_printf(g->arena, "%s_%d", op_info[op].base, n->id);
    n->path = n->name;
    n->loc = (Loc){n->id + 1, 5};
    n->in = arena_alloc(g->arena, 2 * sizeof *n->in);
    if (a) n->in[n->nin++] = a;
    if (b) n->in[n->nin++] = b;
    n->kh = n->kw = n->sh = n->sw = n->dh = n->dw = 1;
    n->groups = n->multiplier = 1;
    n->epsilon = 1e-3;
    n->scale = 1;
    if (g->nnodes == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 16;
        GNode **nn = arena_alloc(g->arena, sizeof *nn * (size_t)g->cap);
        if (g->nnodes) memcpy(nn, g->nodes, sizeof *nn * (size_t)g->nnodes);
        g->nodes = nn;
    }
    g->nodes[g->nnodes++] = n;
    return n;
}

static void shape(GNode *n) {
    char err[256];
    if (!shape_infer(n, err, sizeof err)) CU_FAIL_FATAL(err);
}

static GNode *conv(Graph *g, GNode *x, int filters, int k, int s, PadMode p,
                   Act act) {
    GNode *n = add_node(g, OP_CONV2D, x, NULL);
    n->filters = filters;
    n->kh = n->kw = k;
    n->sh = n->sw = s;
    n->padding = p;
    n->bias = true;
    n->act = act;
    shape(n);
    return n;
}

/* input[8, 8, 3] -> rescale -> conv 3x3 same relu -> batchnorm -> maxpool 2
 * -> (+ 1x1 conv of the pool) -> global_avgpool -> dense 4 softmax */
/* A graph "tnet" of one input "image" of shape `image`. */
static Graph *image_graph(Arena *a, Shape image, GNode **in) {
    Graph *g = arena_alloc(a, sizeof *g);
    g->arena = a;
    g->name = "tnet";
    *in = add_node(g, OP_INPUT, NULL, NULL);
    (*in)->name = (*in)->path = "image";
    (*in)->out = image;
    shape(*in);
    return g;
}

/* g's input in and output out, its arena planned. */
static Graph *finish_graph(Graph *g, GNode *in, GNode *out) {
    g->inputs = arena_alloc(g->arena, sizeof *g->inputs);
    g->inputs[g->ninputs++] = in;
    g->outputs = arena_alloc(g->arena, sizeof *g->outputs);
    g->outputs[g->noutputs++] = out;
    plan_arena(g);
    return g;
}

static Graph *small_graph(Arena *a) {
    GNode *in;
    Graph *g = image_graph(a, (Shape){3, {8, 8, 3}}, &in);
    GNode *r = add_node(g, OP_RESCALE, in, NULL);
    r->scale = 1.0 / 255;
    shape(r);
    GNode *c = conv(g, r, 16, 3, 1, PAD_SAME, ACT_RELU);
    GNode *bn = add_node(g, OP_BATCHNORM, c, NULL);
    shape(bn);
    GNode *mp = add_node(g, OP_MAXPOOL, bn, NULL);
    mp->kh = mp->kw = 2;
    mp->sh = mp->sw = 0;
    shape(mp);
    GNode *c1 = conv(g, mp, 16, 1, 1, PAD_VALID, ACT_NONE);
    GNode *sum = add_node(g, OP_ADD, mp, c1);
    shape(sum);
    GNode *gp = add_node(g, OP_GLOBAL_AVGPOOL, sum, NULL);
    shape(gp);
    GNode *d = add_node(g, OP_DENSE, gp, NULL);
    d->filters = 4;
    d->bias = true;
    d->act = ACT_SOFTMAX;
    shape(d);
    return finish_graph(g, in, d);
}

static void emit(Graph *g, bool jit, bool with_main, Buf *c, Buf *h) {
    EmitOptions o = {.cmdline = "rnc tnet.rn -o tnet.c", .src_path = "tnet.rn",
                     .header_name = "tnet.h", .with_main = with_main,
                     .for_jit = jit};
    emit_c(g, &o, c, h);
}

static void test_api_and_header(void) {
    Arena *a = arena_new();
    Graph *g = small_graph(a);
    Buf c = {0}, h = {0};
    emit(g, false, false, &c, &h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.data);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h.data);
    char want[128];
    snprintf(want, sizeof want, "#define tnet_ARENA_FLOATS %lld\n",
             (long long)g->arena_floats);
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, want));
    CU_ASSERT(g->arena_floats > 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "#define tnet_NUM_INPUTS 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "#define tnet_INPUT0_SIZE 192\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "#define tnet_INPUT0_C 3\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "#define tnet_OUTPUT0_N 4\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "typedef struct tnet tnet;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "tnet *tnet_load(const char *weights_path, char *err, size_t errlen);"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "int tnet_set_threads(tnet *m, int nthreads);"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "void tnet_run(tnet *m, const float *input0, float *output0);"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "void tnet_run_v(tnet *m, const float *const *inputs, float *const *outputs);"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "void tnet_free(tnet *m);"));
    /* model.c: banner, its header, weights by the spec's names */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "rnc tnet.rn -o tnet.c"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "#include \"tnet.h\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "\"conv2d_2.kernel\", 4, {3, 3, 3, 16}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "\"batch_normalization_3.moving_variance\", 1, {16}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "\"dense_8.kernel\", 2, {16, 4}"));
    CU_ASSERT_PTR_NULL(strstr(c.data, "int main("));
    /* snprintf (the load's messages) is declared without main() too */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "#include <stdio.h>\n"));
    buf_free(&c);
    buf_free(&h);
    arena_free(a);
}

static void test_layer_functions(void) {
    Arena *a = arena_new();
    Graph *g = small_graph(a);
    Buf c = {0}, h = {0};
    emit(g, false, false, &c, &h);
    /* one function per layer, headed by its name, op, line, shape, MACs */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "/* conv2d_2: conv2d (Conv2D), tnet.rn:3:5\n"
                                          " * output [8, 8, 16], 27,648 MACs"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "static void L2_conv2d_2(tnet *m) {"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "static void L4_max_pooling2d_4(tnet *m);"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "/* dense_8: dense (Dense), tnet.rn:9:5"));
    /* the conv as a literal rn_conv (SAME padding resolved to numbers, its
     * relu in the epilogue), weights packed at load; the pool's literal
     * window */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "static const rn_conv tnet_convs[2] = {\n"
                                          "    {.ih = 8, .iw = 8, .cin = 3, .oh = 8, .ow = 8, .cout = 16, .kh = 3, .kw = 3,\n"
                                          "     .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 1, .pad_l = 1, .ldi = 3, .ldo = 16, .act = 1, .algo = RN_CONV_DIRECT}, /* conv2d_2 */\n"
                                          "    {.ih = 4, .iw = 4, .cin = 16, .oh = 4, .ow = 4, .cout = 16, .kh = 1, .kw = 1,\n"
                                          "     .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 0, .pad_l = 0, .ldi = 16, .ldo = 16, .act = 0, .algo = RN_CONV_DIRECT}, /* conv2d_5 */\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "rn_conv_run(&tnet_convs[0], "));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "rn_conv_pack(&c[g == p->groups - 1 && p->last], "
                                          "m->w[p->kernel] + g * c->cout"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "    static const rn_window d = {.ih = 8, .iw = 8, .c = 16, "
                                          ".oh = 4, .ow = 4,\n        .kh = 2, .kw = 2, .sh = 2, "
                                          ".sw = 2, .dh = 1, .dw = 1,\n        .pad_t = 0, .pad_l = 0, "
                                          ".pad_b = 0, .pad_r = 0, .ldi = 16, .ldo = 16,\n        "
                                          ".op = RN_POOL_MAX};\n    (void)w;\n    rn_k_pool(&d, "));
    /* the rescale constant is written losslessly */
    char want[64];
    snprintf(want, sizeof want, "%.9gf", (double)(float)(1.0 / 255));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, want));
    CU_ASSERT((float)strtod(want, NULL) == (float)(1.0 / 255));
    /* fused activations; batchnorm folded at load with its epsilon */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "rn_k_act(5, "));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "{16, 2, 3, 4, 5, 0.001"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "rn_k_bn_fold("));
    /* the layers run in order in run_v */
    const char *run = strstr(c.data, "void tnet_run_v(");
    CU_ASSERT_PTR_NOT_NULL_FATAL(run);
    const char *l2 = strstr(run, "L2_conv2d_2(m);"), *l8 = strstr(run, "L8_dense_8(m);");
    CU_ASSERT(l2 && l8 && l2 < l8);
    buf_free(&c);
    buf_free(&h);
    arena_free(a);
}

/* A global average pool right after a depthwise conv takes the means its
 * rows leave in the scratch (lower.c's fuse_row_means); after anything
 * else it reads its input. */
/* A conv whose algorithm changes with the thread count (rn_conv_algo_on):
 * 512 channels at 7x7 run Winograd on one thread, direct on more; both
 * descriptors and both packings, the branch on m->nthreads. Not with one
 * thread only (static memory). */
static void test_algo_by_threads(void) {
    Arena *a = arena_new();
    GNode *in;
    Graph *g = image_graph(a, (Shape){3, {7, 7, 512}}, &in);
    GNode *c = conv(g, in, 512, 3, 1, PAD_SAME, ACT_RELU);
    finish_graph(g, in, c);
    Lower *L = lower(g, true);
    const Step *s = &L->steps[L->step_of[c->id]];
    CU_ASSERT_EQUAL(s->conv.algo, RN_CONV_WINOGRAD);
    CU_ASSERT_EQUAL(s->conv_mt.algo, RN_CONV_DIRECT);
    CU_ASSERT_EQUAL(s->conv_mt_index, s->conv_index + 1);
    CU_ASSERT_EQUAL(L->npk, 2);
    Lower *one = lower(g, false); /* one thread only: static memory */
    CU_ASSERT_EQUAL(one->steps[one->step_of[c->id]].conv_mt_index, -1);
    CU_ASSERT_EQUAL(one->npk, 1);
    Buf cb = {0}, h = {0};
    emit(g, false, false, &cb, &h);
    CU_ASSERT_PTR_NOT_NULL(strstr(cb.data, "    if (m->nthreads > 1) /* direct convolution on more "
                                           "threads */\n        rn_conv_run(&tnet_convs[1], "));
    CU_ASSERT_PTR_NOT_NULL(strstr(cb.data, "    else\n        rn_conv_run(&tnet_convs[0], "));
    CU_ASSERT_PTR_NOT_NULL(strstr(cb.data, "m->nthreads > 1 ? rn_conv_tiles(&tnet_convs[1]) : "
                                           "rn_conv_tiles(&tnet_convs[0])"));
    CU_ASSERT_PTR_NOT_NULL(strstr(cb.data, ", 0, -1, 1}, /* conv2d_1 */"));
    buf_free(&cb);
    buf_free(&h);
    /* the runtime's rule: 256 channels at 14x14 stay Winograd */
    rn_conv d = {.ih = 14, .iw = 14, .cin = 256, .oh = 14, .ow = 14, .cout = 256, .kh = 3,
                 .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 1, .pad_l = 1,
                 .ldi = 256, .ldo = 256};
    CU_ASSERT_EQUAL(rn_conv_algo_on(&d, 1), RN_CONV_WINOGRAD);
    CU_ASSERT_EQUAL(rn_conv_algo_on(&d, 2), RN_CONV_WINOGRAD);
    d.ih = d.iw = d.oh = d.ow = 7, d.cin = d.cout = d.ldi = d.ldo = 512;
    CU_ASSERT_EQUAL(rn_conv_algo_on(&d, 1), RN_CONV_WINOGRAD);
    CU_ASSERT_EQUAL(rn_conv_algo(&d), RN_CONV_WINOGRAD);
    CU_ASSERT_EQUAL(rn_conv_algo_on(&d, 2), RN_CONV_DIRECT);
    CU_ASSERT_EQUAL(rn_conv_algo_on(&d, 8), RN_CONV_DIRECT);
    arena_free(a);
}

/* A dense layer over one vector in chunks of rows (lower.c's
 * DENSE_CHUNKS): 1280 -> 1000 in 8, their partial sums in the scratch,
 * added in order after; 1000 -> 10 in one. */
static void test_dense_chunks(void) {
    Arena *a = arena_new();
    GNode *in;
    Graph *g = image_graph(a, (Shape){1, {1280}}, &in);
    GNode *d = add_node(g, OP_DENSE, in, NULL);
    d->filters = 1000;
    d->bias = true;
    shape(d);
    GNode *d2 = add_node(g, OP_DENSE, d, NULL);
    d2->filters = 10;
    d2->bias = true;
    shape(d2);
    finish_graph(g, in, d2);
    Lower *L = lower(g, true);
    const Step *s = &L->steps[L->step_of[d->id]];
    CU_ASSERT(s->split);
    CU_ASSERT_EQUAL(s->chunks, 8);
    CU_ASSERT_EQUAL(s->items, 8);
    CU_ASSERT(L->ws_floats >= 8000);
    CU_ASSERT_EQUAL(L->steps[L->step_of[d2->id]].chunks, 0);
    Buf c = {0}, h = {0};
    emit(g, false, false, &c, &h);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "        int t0 = (int)(1280L * i / 8), t1 = "
                                          "(int)(1280L * (i + 1) / 8);\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "    tnet_par(m, L1_dense_1_rows, 8);\n"
                                          "    rn_k_fill_bias(1, 1000, m->w["));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "    for (int i = 0; i < 8; i++)\n"
                                          "        rn_k_add("));
    buf_free(&c);
    buf_free(&h);
    arena_free(a);
}

static void test_pool_of_row_means(void) {
    Arena *a = arena_new();
    GNode *in;
    Graph *g = image_graph(a, (Shape){3, {12, 10, 8}}, &in);
    GNode *dw = add_node(g, OP_DEPTHWISE_CONV2D, in, NULL);
    dw->kh = dw->kw = 3;
    dw->padding = PAD_SAME;
    dw->bias = true;
    shape(dw);
    GNode *gp = add_node(g, OP_GLOBAL_AVGPOOL, dw, NULL);
    shape(gp);
    finish_graph(g, in, gp);
    Buf c = {0}, h = {0};
    emit(g, false, false, &c, &h);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "for (int y = y0; y < y1; y++) /* the means of each row */\n"
                                          "        rn_k_global_pool(0, "));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, " + (long)y * 80, m->ws + (long)y * 8, 10, 8);"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "rn_k_global_pool(0, m->ws, "));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, ", 12, 8);"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "m->ws_floats = 96;"));
    buf_free(&c);
    buf_free(&h);
    /* small_graph's pool follows an add: it reads the image */
    Graph *sg = small_graph(a);
    emit(sg, false, false, &c, &h);
    CU_ASSERT_PTR_NULL(strstr(c.data, "the means of each row"));
    CU_ASSERT_PTR_NULL(strstr(c.data, "rn_k_global_pool(0, m->ws"));
    buf_free(&c);
    buf_free(&h);
    arena_free(a);
}

static void test_for_jit(void) {
    Arena *a = arena_new();
    Graph *g = small_graph(a);
    Buf c = {0}, h = {0};
    emit(g, true, true, &c, &h); /* with_main is ignored for the JIT */
    CU_ASSERT_PTR_NULL(strstr(c.data, "#include"));
    CU_ASSERT_PTR_NULL(strstr(c.data, "main("));
    /* the API is declared inline, since no header is included */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "typedef struct tnet tnet;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "void tnet_run_v(tnet *m, const float *const *inputs"));
    /* libc beyond what the JIT hands over is not used */
    CU_ASSERT_PTR_NULL(strstr(c.data, "printf(stderr"));
    CU_ASSERT_PTR_NULL(strstr(c.data, "INFINITY"));
    CU_ASSERT_PTR_NULL(strstr(c.data, "strcmp"));
    buf_free(&c);
    buf_free(&h);
    arena_free(a);
}

static void test_with_main(void) {
    Arena *a = arena_new();
    Graph *g = small_graph(a);
    Buf c = {0}, h = {0};
    emit(g, false, true, &c, &h);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "int main(int argc, char **argv) {"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "tnet_load(argv[a], err, sizeof err)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "static const rn_i64 tnet_in_dims[1][3] = {{8, 8, 3}};"));
    CU_ASSERT_PTR_NULL(strstr(c.data, " M_")); /* every template name replaced */
    buf_free(&c);
    buf_free(&h);
    arena_free(a);
}

/* A layer name given with name="..." may hold any text: the C stays valid. */
static void test_hostile_names(void) {
    Arena *a = arena_new();
    Graph *g = small_graph(a);
    g->nodes[2]->name = "x */ y\"\\?";
    g->nodes[2]->path = g->nodes[2]->name;
    Buf c = {0}, h = {0};
    emit(g, false, false, &c, &h);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "/* x____y___: conv2d (Conv2D)"));
    CU_ASSERT_PTR_NULL(strstr(c.data, "/* x */"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "\"x */ y\\042\\134\\077.kernel\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "static void L2_x____y___(tnet *m)"));
    buf_free(&c);
    buf_free(&h);
    arena_free(a);
}

/* Through the real front end: a `layer` instance prefixes its weights'
 * names, as the spec's "Weights" section says, and a depthwise conv reads
 * its depthwise_kernel. */
static void test_parsed_layer_names(void) {
    static const char text[] =
        "model pnet\n"
        "layer unit(x, f) {\n"
        "    y = relu(batchnorm(conv2d(x, f, 3, padding=same, bias=false)))\n"
        "    return depthwise_conv2d(y, 3, padding=same) + x\n"
        "}\n"
        "input img[6, 6, 4]\n"
        "x = unit(img, 4)\n"
        "output flatten(unit(x, 4))\n";
    Source src = {"p.rn", text, sizeof text - 1};
    Diag d;
    diag_init(&d, &src, stderr);
    Arena *a = arena_new();
    Ast *prog = parse_source(&src, a, &d);
    Graph *g = prog ? elaborate(prog, "p", a, &d) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    plan_arena(g);
    Buf c = {0}, h = {0};
    emit(g, false, false, &c, &h);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "\"unit.conv2d.kernel\", 4, {3, 3, 4, 4}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "\"unit_1.batch_normalization.moving_mean\", 1, {4}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "\"unit_1.depthwise_conv2d.depthwise_kernel\", 4, {3, 3, 4, 1}"));
    CU_ASSERT_PTR_NULL(strstr(c.data, "unit.conv2d.bias"));
    /* the flatten output is its input's buffer: no copy, no function */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "flatten, no copy */"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "#define pnet_OUTPUT0_N 144\n"));
    buf_free(&c);
    buf_free(&h);
    arena_free(a);
}

/* --------------------------------------------------------------- kernels */

static float frand(rn_rng *r) { return rn_rng_uniform(r) * 2 - 1; }

static void fill_rand(rn_rng *r, float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = frand(r);
}

typedef void ConvTap(int, int, int, const float *, int, const float *, int,
                     float *, int);

/* Random sizes around the register blocks (4 pixels x 16/8 channels),
 * strides wider than the rows, compared with a double-precision loop. */
static void check_conv_tap(ConvTap *k) {
    rn_rng r;
    rn_rng_seed(&r, 7);
    static const int couts[] = {1, 3, 8, 15, 16, 17, 24, 33, 64};
    for (int trial = 0; trial < 60; trial++) {
        int npix = 1 + (int)(rn_rng_next(&r) % 11);
        int cin = 1 + (int)(rn_rng_next(&r) % 37);
        int cout = couts[trial % 9];
        int ldi = cin + (int)(rn_rng_next(&r) % 5);
        int ldw = cout + (int)(rn_rng_next(&r) % 9);
        int ldo = cout + (int)(rn_rng_next(&r) % 6);
        size_t ni = (size_t)npix * ldi, nw = (size_t)cin * ldw, no = (size_t)npix * ldo;
        float *in = malloc(ni * 4), *w = malloc(nw * 4), *out = malloc(no * 4);
        double *ref = malloc(no * sizeof *ref);
        fill_rand(&r, in, ni);
        fill_rand(&r, w, nw);
        fill_rand(&r, out, no);
        for (size_t i = 0; i < no; i++) ref[i] = out[i];
        for (int p = 0; p < npix; p++)
            for (int o = 0; o < cout; o++)
                for (int i = 0; i < cin; i++)
                    ref[p * ldo + o] += (double)in[p * ldi + i] * w[i * ldw + o];
        k(npix, cin, cout, in, ldi, w, ldw, out, ldo);
        int bad = 0;
        for (int p = 0; p < npix; p++)
            for (int o = 0; o < ldo; o++) {
                double want = ref[p * ldo + o];
                /* columns past cout are padding and must stay untouched */
                if (fabs(out[p * ldo + o] - want) > 1e-5 * (1 + cin)) bad++;
            }
        CU_ASSERT_EQUAL(bad, 0);
        free(in), free(w), free(out), free(ref);
    }
}

static void test_conv_tap_portable(void) { check_conv_tap(rn_k_conv_tap_portable); }
static void test_conv_tap_dispatch(void) { check_conv_tap(rn_k_conv_tap); }

static void test_conv_tap_avx2(void) {
    if (!rn_k_have_avx2()) return; /* nothing to test on this CPU */
    check_conv_tap(rn_k_conv_tap_avx2);
}

static void test_activations(void) {
    float x[6] = {-7, -0.5f, 0, 0.5f, 6.5f, 100};
    float y[6];
    rn_k_act(1, x, y, 1, 6);
    CU_ASSERT(y[0] == 0 && y[1] == 0 && y[3] == 0.5f && y[5] == 100);
    rn_k_act(2, x, y, 1, 6);
    CU_ASSERT(y[0] == 0 && y[3] == 0.5f && y[4] == 6 && y[5] == 6);
    rn_k_act(3, x, y, 1, 6);
    for (int i = 0; i < 6; i++) CU_ASSERT_DOUBLE_EQUAL(y[i], 1 / (1 + exp(-x[i])), 1e-6);
    float big[2] = {-100, -1000};
    rn_k_act(3, big, y, 1, 2); /* no overflow into NaN */
    CU_ASSERT(y[0] >= 0 && y[0] < 1e-30 && y[1] == 0);
    rn_k_act(4, x, y, 1, 6);
    for (int i = 0; i < 6; i++) CU_ASSERT_DOUBLE_EQUAL(y[i], tanh(x[i]), 1e-6);
    /* softmax per pixel, in place, with logits that would overflow expf */
    float s[6] = {1000, 1001, 1002, 1, 2, 3};
    rn_k_act(5, s, s, 2, 3);
    double e0 = exp(-2), e1 = exp(-1), sum = e0 + e1 + 1;
    for (int p = 0; p < 2; p++) {
        CU_ASSERT_DOUBLE_EQUAL(s[p * 3 + 0], e0 / sum, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(s[p * 3 + 2], 1 / sum, 1e-6);
    }
    rn_k_act(0, x, y, 2, 3);
    CU_ASSERT(memcmp(x, y, sizeof x) == 0);
}

static void test_pool_and_elementwise(void) {
    float in[3 * 4] = {1, -2, 3, 4, 5, -6, 7, 8, -9, 10, 11, 12};
    float out[4], g[4];
    /* a 1x3 window over a 1x3 image: one pixel, the max of three */
    rn_window d = {.ih = 1, .iw = 3, .c = 4, .oh = 1, .ow = 1, .kh = 1, .kw = 3,
                   .sh = 1, .sw = 1, .dh = 1, .dw = 1, .ldi = 4, .ldo = 4,
                   .op = RN_POOL_MAX};
    rn_k_pool(&d, in, out, 0, 1);
    CU_ASSERT(out[0] == 5 && out[1] == 10 && out[2] == 11 && out[3] == 12);
    rn_k_global_pool(1, in, g, 3, 4);
    CU_ASSERT(memcmp(out, g, sizeof g) == 0);
    rn_k_global_pool(0, in, g, 3, 4);
    CU_ASSERT_DOUBLE_EQUAL(g[0], -1.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(g[1], 2.0 / 3, 1e-6);
    d.op = RN_POOL_AVG;
    rn_k_pool(&d, in, out, 0, 1);
    CU_ASSERT(memcmp(out, g, sizeof g) == 0 || fabs(out[1] - g[1]) < 1e-6);
    /* padded by one each side, 3 wide: the mean of the two real pixels,
     * or with count_include_pad of three positions */
    d.iw = 2, d.pad_l = d.pad_r = 1, d.op = RN_POOL_AVG;
    rn_k_pool(&d, in, out, 0, 1);
    CU_ASSERT(out[0] == 3 && out[3] == 6);
    d.op = RN_POOL_AVG_PAD;
    rn_k_pool(&d, in, out, 0, 1);
    CU_ASSERT(out[0] == 2 && out[3] == 4);
    /* batchnorm folded in double matches the formula */
    float gamma[2] = {2, 0.5f}, beta[2] = {1, -1}, mean[2] = {3, -3}, var[2] = {4, 0.25f};
    float sc[2], sh[2], x[4] = {1, 2, 3, 4}, y[4];
    rn_k_bn_fold(2, gamma, beta, mean, var, 1e-3, sc, sh);
    rn_k_scale_shift(x, y, 2, 2, sc, sh);
    for (int i = 0; i < 4; i++) {
        int ch = i % 2;
        double want = (x[i] - mean[ch]) / sqrt(var[ch] + 1e-3) * gamma[ch] + beta[ch];
        CU_ASSERT_DOUBLE_EQUAL(y[i], want, 1e-5);
    }
    rn_k_affine(x, y, 4, 0.5f, 1);
    CU_ASSERT(y[0] == 1.5f && y[3] == 3);
    rn_k_add(x, y, y, 4);
    CU_ASSERT(y[0] == 2.5f && y[3] == 7);
    float b[3] = {1, 2, 3}, o[6];
    rn_k_fill_bias(2, 3, b, o, 3);
    CU_ASSERT(o[0] == 1 && o[5] == 3);
    rn_k_fill_bias(2, 3, NULL, o, 3);
    CU_ASSERT(o[0] == 0 && o[5] == 0);
}

/* ------------------------------------------------------------ paste.c */

/* The runtime's parts a standalone file pastes: what the code reaches and
 * nothing else, private names prefixed, every function static. */
static void test_paste(void) {
    Arena *a = arena_new();
    Buf head = {0}, body = {0};
    const char *kernels[] = {"/rn_simd.h", NULL};
    paste_runtime(a, "void f(float *x) { rn_k_act(5, x, x, 1, 10); }", kernels, &head,
                  &body);
    CU_ASSERT_PTR_NOT_NULL_FATAL(body.data);
    CU_ASSERT_PTR_NOT_NULL(strstr(head.data, "#include <math.h>"));
    CU_ASSERT_PTR_NULL(strstr(head.data, "pthread"));
    /* the function, made static by its header's declaration */
    CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "static void rn_k_act(int act,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "\nvoid rn_k_act(int act,"));
    /* what it calls, kernels.c's private names prefixed */
    CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "static void rn_kernels_softmax1("));
    CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "void rn_k_elu("));
    CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "rn_kernels_ACT_SILU"));
    CU_ASSERT_PTR_NULL(strstr(body.data, " softmax1("));
    /* the kernel header, whole, its own include dropped, its types pasted */
    CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "---- runtime/kernel/rn_simd.h"));
    CU_ASSERT_PTR_NULL(strstr(body.data, "#include \"rnrt.h\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(body.data, "typedef long long rn_i64;"));
    /* nothing it does not reach */
    CU_ASSERT_PTR_NULL(strstr(body.data, "rn_npy_read"));
    CU_ASSERT_PTR_NULL(strstr(body.data, "rn_k_merge"));
    CU_ASSERT_PTR_NULL(strstr(body.data, "rn_pool"));
    CU_ASSERT_PTR_NULL(strstr(body.data, "rn_dc_run"));
    /* a name the model's code uses that is private to a runtime file is
     * not the runtime's: nothing is taken for it */
    Buf h2 = {0}, b2 = {0};
    paste_runtime(a, "int softmax1, take, Header;", NULL, &h2, &b2);
    CU_ASSERT(b2.len == 0 || !strstr(b2.data, "softmax1"));
    buf_free(&head);
    buf_free(&body);
    buf_free(&h2);
    buf_free(&b2);
    arena_free(a);
}

void register_emit_tests(void) {
    CU_pSuite s = unit_suite("emit");
    CU_add_test(s, "header and API names", test_api_and_header);
    CU_add_test(s, "one function per layer, literal bounds", test_layer_functions);
    CU_add_test(s, "a pool of a depthwise conv's row means", test_pool_of_row_means);
    CU_add_test(s, "an algorithm by the thread count", test_algo_by_threads);
    CU_add_test(s, "a dense layer in chunks of rows", test_dense_chunks);
    CU_add_test(s, "for_jit: no #include, no main", test_for_jit);
    CU_add_test(s, "--main", test_with_main);
    CU_add_test(s, "hostile layer names", test_hostile_names);
    CU_add_test(s, "parsed: layer-prefixed weight names", test_parsed_layer_names);
    CU_add_test(s, "conv tap, portable", test_conv_tap_portable);
    CU_add_test(s, "conv tap, AVX2+FMA", test_conv_tap_avx2);
    CU_add_test(s, "conv tap, dispatch", test_conv_tap_dispatch);
    CU_add_test(s, "activations and softmax", test_activations);
    CU_add_test(s, "pools, batchnorm, elementwise", test_pool_and_elementwise);
    CU_add_test(s, "the runtime pasted into a standalone file", test_paste);
}
