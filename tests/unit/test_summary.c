/* test_summary.c: the Keras row layout (cutting, wrapping, nesting),
 * number formatting, whole summaries of hand-built graphs, and dot.
 * Expected lines are copied from real Keras 2.11 output (the project's
 * seed summaries) or worked out from its print_row by hand. */
#include <stdlib.h>
#include <string.h>

#include "rnc.h"
#include "unit.h"

static Arena *A;
static char err[256];

static int setup(void) {
    A = arena_new();
    return 0;
}
static int teardown(void) {
    arena_free(A);
    return 0;
}

/* Splits b into lines; returns line i (without the newline) or NULL. */
static const char *line_of(const char *text, int i, char *out, size_t n) {
    const char *p = text;
    for (; i > 0 && p; i--) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    if (!p || !*p) return NULL;
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len >= n) len = n - 1;
    memcpy(out, p, len);
    out[len] = 0;
    return out;
}

/* Where needle starts in text, or -1. */
static long offset_of(const char *text, const char *needle) {
    const char *p = strstr(text, needle);
    return p ? (long)(p - text) : -1;
}

static void test_row_functional(void) {
    static const int pos[4] = {32, 53, 65, 98};
    Buf b = {0};
    const char *f[4] = {"conv2d_77 (Conv2D)", "(None, 32, 32, 32)", "896",
                        "['rescaling_6[0][0]']"};
    summary_row(&b, f, pos, 4, 0);
    /* seed 000, padded by Keras to the line length */
    CU_ASSERT_STRING_EQUAL(b.data,
        " conv2d_77 (Conv2D)             (None, 32, 32, 32)   896         "
        "['rescaling_6[0][0]']            \n");
    buf_free(&b);
    b = (Buf){0};
    /* two inputs: the list breaks after "'," and wraps */
    const char *g[4] = {"add (Add)", "(None, 16, 16, 64)", "0",
                        "['conv2d_77[0][0]', 'max_pooling2d[0][0]']"};
    summary_row(&b, g, pos, 4, 0);
    CU_ASSERT_STRING_EQUAL(b.data,
        " add (Add)                      (None, 16, 16, 64)   0           "
        "['conv2d_77[0][0]',              \n"
        "                                                                 "
        " 'max_pooling2d[0][0]']          \n");
    buf_free(&b);
    b = (Buf){0};
    /* an InputLayer's shape is a list of one tuple */
    const char *h[4] = {"input_15 (InputLayer)", "[(None, 32, 32, 3)]", "0",
                        "[]"};
    summary_row(&b, h, pos, 4, 0);
    CU_ASSERT_STRING_EQUAL(b.data,
        " input_15 (InputLayer)          [(None, 32, 32, 3)]  0           "
        "[]                               \n");
    buf_free(&b);
    b = (Buf){0};
    /* the last column holds all 33 characters (no gutter) before it wraps;
     * the name column 30 (32 - 2), and a shape cut inside its tuple */
    const char *k[4] = {"global_average_pooling2d (GlobalAveragePooling2D)",
                        "(None, 112, 112, 64)", "129",
                        "['global_average_pooling2d[0][0]']"};
    summary_row(&b, k, pos, 4, 0);
    CU_ASSERT_STRING_EQUAL(b.data,
        " global_average_pooling2d (Glob  (None, 112, 112, 64  129        "
        "['global_average_pooling2d[0][0]'\n"
        " alAveragePooling2D)            )                                "
        "]                                \n");
    buf_free(&b);
}

static void test_row_sequential_wrap(void) {
    static const int pos[3] = {29, 55, 65};
    Buf b = {0};
    /* seed 001: a name longer than its column (27 = 29 - 2) wraps */
    const char *f[3] = {"batch_normalization (BatchNormalization)",
                        "(None, 112, 112, 64)", "256"};
    summary_row(&b, f, pos, 3, 0);
    CU_ASSERT_STRING_EQUAL(b.data,
        " batch_normalization (BatchN  (None, 112, 112, 64)     256       \n"
        " ormalization)                                                   \n");
    buf_free(&b);
    b = (Buf){0};
    const char *g[3] = {"residual_unit (ResidualUnit)", "(None, 56, 56, 64)",
                        "74240"};
    summary_row(&b, g, pos, 3, 0);
    CU_ASSERT_STRING_EQUAL(b.data,
        " residual_unit (ResidualUnit  (None, 56, 56, 64)       74240     \n"
        " )                                                               \n");
    buf_free(&b);
    b = (Buf){0};
    /* nested one level: framed by '|', columns kept */
    const char *h[3] = {"conv2d (Conv2D)", "(None, 56, 56, 64)", "36864"};
    summary_row(&b, h, pos, 3, 1);
    CU_ASSERT_STRING_EQUAL(b.data,
        "| conv2d (Conv2D)           (None, 56, 56, 64)        36864     |\n");
    CU_ASSERT_EQUAL(strlen(b.data), 66);
    buf_free(&b);
}

static void test_thousands(void) {
    char s[32];
    format_thousands(0, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "0");
    format_thousands(999, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "999");
    format_thousands(1000, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "1,000");
    format_thousands(297697, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "297,697");
    format_thousands(25636712, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "25,636,712");
    format_thousands(-1234567, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "-1,234,567");
    format_thousands(INT64_MAX, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "9,223,372,036,854,775,807");
}

/* ------------------------------------------- hand-built graphs, as elaborate
 * would hand them over */

static Graph *G;

static void new_graph(const char *name) {
    G = arena_alloc(A, sizeof *G);
    G->name = name;
    G->cap = 128;
    G->nodes = arena_alloc(A, (size_t)G->cap * sizeof *G->nodes);
    G->inputs = arena_alloc(A, 4 * sizeof *G->inputs);
    G->outputs = arena_alloc(A, 4 * sizeof *G->outputs);
    G->groups = arena_alloc(A, 32 * sizeof *G->groups);
    G->arena = A;
}

static GNode *mk(OpKind op, const char *name, Group *grp, GNode *a,
                 GNode *b) {
    GNode *n = arena_alloc(A, sizeof *n);
    n->op = op;
    n->name = name;
    n->group = grp;
    n->path = grp ? arena_printf(A, "%s.%s", grp->path, name) : name;
    n->in = arena_alloc(A, 2 * sizeof *n->in);
    if (a) n->in[n->nin++] = a;
    if (b) n->in[n->nin++] = b;
    n->bias = true;
    n->id = G->nnodes;
    return n;
}

static GNode *done(GNode *n) {
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    G->nodes[G->nnodes++] = n;
    if (n->op == OP_INPUT) G->inputs[G->ninputs++] = n;
    return n;
}

static GNode *conv(const char *name, Group *grp, GNode *in, int filters,
                   int k, int s, PadMode pad, bool bias) {
    GNode *n = mk(OP_CONV2D, name, grp, in, NULL);
    n->filters = filters;
    n->kh = n->kw = k;
    n->sh = n->sw = s;
    n->padding = pad;
    n->bias = bias;
    return done(n);
}

static GNode *image(const char *name, int h, int w, int c) {
    GNode *n = mk(OP_INPUT, name, NULL, NULL, NULL);
    n->out = (Shape){3, {h, w, c}};
    return done(n);
}

/* The whole text written to a temporary file, as a malloc'd string. */
static char *slurp(FILE *f) {
    long n = ftell(f);
    char *text = malloc((size_t)n + 1);
    rewind(f);
    size_t got = fread(text, 1, (size_t)n, f);
    text[got] = 0;
    fclose(f);
    return text;
}

static char *summary_text(bool expand) {
    plan_arena(G);
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    summary_print(f, G, expand);
    return slurp(f);
}

/* The network of seed 000 (language.md's first program). */
static void build_small_residual(void) {
    new_graph("small_residual");
    GNode *x = image("image", 32, 32, 3);
    GNode *r = mk(OP_RESCALE, "rescaling", NULL, x, NULL);
    r->scale = 1.0 / 255;
    x = done(r);
    static const char *names[][4] = {
        {"conv2d", "conv2d_1", "max_pooling2d", "conv2d_2"},
        {"conv2d_3", "conv2d_4", "max_pooling2d_1", "conv2d_5"},
        {"conv2d_6", "conv2d_7", "", "conv2d_8"}};
    static const char *adds[] = {"add", "add_1", "add_2"};
    int filters[] = {32, 64, 128};
    for (int b = 0; b < 3; b++) {
        GNode *res = x;
        x = conv(names[b][0], NULL, x, filters[b], 3, 1, PAD_SAME, true);
        x->act = ACT_RELU;
        x = conv(names[b][1], NULL, x, filters[b], 3, 1, PAD_SAME, true);
        x->act = ACT_RELU;
        if (b < 2) {
            GNode *p = mk(OP_MAXPOOL, names[b][2], NULL, x, NULL);
            p->kh = p->kw = 2;
            p->padding = PAD_SAME;
            x = done(p);
            res = conv(names[b][3], NULL, res, filters[b], 1, 2, PAD_VALID,
                       true);
        } else {
            res = conv(names[b][3], NULL, res, filters[b], 1, 1, PAD_VALID,
                       true);
        }
        x = done(mk(OP_ADD, adds[b], NULL, x, res));
    }
    x = done(mk(OP_GLOBAL_AVGPOOL, "global_average_pooling2d", NULL, x,
                NULL));
    GNode *d = mk(OP_DENSE, "dense", NULL, x, NULL);
    d->filters = 1;
    d->act = ACT_SIGMOID;
    G->outputs[G->noutputs++] = done(d);
}

static void test_small_residual(void) {
    build_small_residual();
    char *t = summary_text(false);
    char l[256];
    CU_ASSERT_STRING_EQUAL(line_of(t, 0, l, sizeof l),
                           "Model: \"small_residual\"");
    CU_ASSERT_EQUAL(strlen(line_of(t, 1, l, sizeof l)), 98);
    CU_ASSERT_STRING_EQUAL(line_of(t, 2, l, sizeof l),
        " Layer (type)                   Output Shape         Param #     "
        "Connected to                     ");
    CU_ASSERT_STRING_EQUAL(line_of(t, 4, l, sizeof l),
        " image (InputLayer)             [(None, 32, 32, 3)]  0           "
        "[]                               ");
    CU_ASSERT_EQUAL(strspn(line_of(t, 5, l, sizeof l), " "), 98);
    CU_ASSERT_STRING_EQUAL(line_of(t, 8, l, sizeof l),
        " conv2d (Conv2D)                (None, 32, 32, 32)   896         "
        "['rescaling[0][0]']              ");
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "Total params: 297,697\n"
                                     "Trainable params: 297,697\n"
                                     "Non-trainable params: 0\n"));
    /* Keras's order: by depth; the 1x1 skip conv of the first block sits
     * at the maxpool's depth, after it; add rows wrap their inputs. */
    long mp = offset_of(t, " max_pooling2d (MaxPooling2D)");
    long sk = offset_of(t, " conv2d_2 (Conv2D)");
    long c1 = offset_of(t, " conv2d_1 (Conv2D)");
    CU_ASSERT(c1 >= 0 && c1 < mp && mp < sk);
    CU_ASSERT_PTR_NOT_NULL(strstr(t,
        "['max_pooling2d[0][0]',          \n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "  'conv2d_2[0][0]']"));
    /* every line of the Keras part is 98 wide */
    int i = 1;
    for (; line_of(t, i, l, sizeof l) && strncmp(l, "Total", 5); i++)
        CU_ASSERT_EQUAL(strlen(l), 98);
    CU_ASSERT(i > 40);
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "Multiply-accumulates: "));
    char arena[64];
    snprintf(arena, sizeof arena, "Activation arena: ");
    CU_ASSERT_PTR_NOT_NULL(strstr(t, arena));
    free(t);
}

/* A chain with a `layer` group: sequential layout, the group as one row,
 * and its inner rows with --expand. */
static void build_chain_with_group(void) {
    new_graph("chain");
    GNode *x = image("image", 8, 8, 4);
    x = conv("conv2d", NULL, x, 4, 3, 1, PAD_SAME, false);
    Group *q = arena_alloc(A, sizeof *q);
    q->name = "residual_unit";
    q->path = "residual_unit";
    q->klass = "ResidualUnit";
    G->groups[G->ngroups++] = q;
    GNode *y = conv("conv2d", q, x, 4, 3, 1, PAD_SAME, false);
    y = done(mk(OP_BATCHNORM, "batch_normalization", q, y, NULL));
    GNode *s = done(mk(OP_ADD, "add", q, y, x));
    GNode *a = mk(OP_ACTIVATION, "activation", q, s, NULL);
    a->act = ACT_RELU;
    q->result = done(a);
    GNode *p = done(mk(OP_GLOBAL_AVGPOOL, "global_average_pooling2d", NULL,
                       q->result, NULL));
    GNode *d = mk(OP_DENSE, "dense", NULL, p, NULL);
    d->filters = 10;
    G->outputs[G->noutputs++] = done(d);
}

static void test_group_rows(void) {
    build_chain_with_group();
    char *t = summary_text(false);
    char l[256];
    CU_ASSERT_EQUAL(strlen(line_of(t, 1, l, sizeof l)), 65);
    CU_ASSERT_STRING_EQUAL(line_of(t, 2, l, sizeof l),
        " Layer (type)                Output Shape              Param #   ");
    CU_ASSERT_PTR_NOT_NULL(strstr(t, " image (InputLayer)          "
                                     "[(None, 8, 8, 4)]         0         \n"));
    /* 144 + 16 of batchnorm, one row, wrapped as Keras wraps it */
    CU_ASSERT_PTR_NOT_NULL(strstr(t,
        " residual_unit (ResidualUnit  (None, 8, 8, 4)          160       \n"
        " )                                                               \n"));
    CU_ASSERT_PTR_NULL(strstr(t, "batch_normalization"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "Total params: 354\n"
                                     "Trainable params: 346\n"
                                     "Non-trainable params: 8\n"));
    free(t);
    t = summary_text(true);
    CU_ASSERT_PTR_NOT_NULL(strstr(t,
        "| batch_normalization (BatchN  (None, 8, 8, 4)        16        |\n"
        "| ormalization)                                                 |\n"));
    /* framed by a line of '¯' (two bytes in UTF-8) under the group row */
    CU_ASSERT_PTR_NOT_NULL(strstr(t, " )                                 "
                                     "                              \n"
                                     "|\xc2\xaf\xc2\xaf"));
    free(t);
}

/* Keras orders rows by depth, then by a depth-first walk from the
 * outputs: a skip branch listed first in the add comes before the longer
 * branch's layer of the same depth, although created after it. */
static void test_row_order(void) {
    new_graph("order");
    GNode *x = image("image", 8, 8, 4);
    GNode *a = conv("conv2d", NULL, x, 4, 3, 1, PAD_SAME, true);
    GNode *p = mk(OP_MAXPOOL, "max_pooling2d", NULL, a, NULL);
    p->kh = p->kw = 2;
    p = done(p);
    GNode *s = conv("conv2d_1", NULL, x, 4, 1, 2, PAD_VALID, true);
    G->outputs[G->noutputs++] = done(mk(OP_ADD, "add", NULL, s, p));
    char *t = summary_text(false);
    long ls = offset_of(t, " conv2d_1 (Conv2D)");
    long lp = offset_of(t, " max_pooling2d (MaxPooling2D)");
    long la = offset_of(t, " conv2d (Conv2D)");
    long lx = offset_of(t, " image (InputLayer)");
    CU_ASSERT(lx >= 0 && lx < la && la < ls && ls < lp);
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "['conv2d_1[0][0]',"));
    free(t);
}

static void test_dot(void) {
    build_chain_with_group();
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    dot_print(f, G);
    char *text = slurp(f);
    int depth = 0, nodes = 0, edges = 0;
    bool ok = true;
    for (char *p = text; *p; p++) {
        depth += *p == '{';
        depth -= *p == '}';
        ok &= depth >= 0;
    }
    CU_ASSERT(ok && depth == 0);
    for (char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        const char *q = p + strspn(p, " ");
        int id, at = 0, from, to;
        if (sscanf(q, "n%d [label=%n", &id, &at) == 1 && at > 0) nodes++;
        if (sscanf(q, "n%d -> n%d;", &from, &to) == 2) edges++;
    }
    CU_ASSERT_EQUAL(nodes, G->nnodes);
    CU_ASSERT_EQUAL(edges, 8);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "subgraph \"cluster_residual_unit\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "label=\"residual_unit: ResidualUnit\""));
    /* Keras's box: name: Type, then input (a list for an add) and output */
    CU_ASSERT_PTR_NOT_NULL(strstr(text,
        ">add: Add</td><td>input:</td><td>[(None, 8, 8, 4), (None, 8, 8, 4)]"
        "</td></tr><tr><td>output:</td><td>(None, 8, 8, 4)</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text,
        ">image: InputLayer</td><td>input:</td><td>[(None, 8, 8, 4)]"
        "</td></tr><tr><td>output:</td><td>[(None, 8, 8, 4)]</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, ">activation: Activation (relu)<"));
    free(text);
}

void register_summary_tests(void) {
    CU_pSuite s = CU_add_suite("summary", setup, teardown);
    if (!s) exit(2);
    CU_add_test(s, "functional rows", test_row_functional);
    CU_add_test(s, "sequential rows, wrapping, nesting",
                test_row_sequential_wrap);
    CU_add_test(s, "thousands", test_thousands);
    CU_add_test(s, "small_residual by hand", test_small_residual);
    CU_add_test(s, "layer groups and --expand", test_group_rows);
    CU_add_test(s, "row order", test_row_order);
    CU_add_test(s, "dot", test_dot);
}
