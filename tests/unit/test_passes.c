/* test_passes.c: the fusion passes (compiler/passes/) and the plan of the
 * fused graph, on the examples and on small programs: exactly which nodes
 * are absorbed and into what, what must not fuse, and that buffers live at
 * the same step never overlap (checked here from first principles, not
 * with plan.c's own bookkeeping). */
#include <stdlib.h>
#include <string.h>

#include "rnc.h"
#include "unit.h"

static Arena *A;

static Graph *build_text(const char *text) {
    static Source src;
    static Diag d;
    src = (Source){"t.rn", text, strlen(text)};
    diag_init(&d, &src, stderr);
    Ast *prog = parse_source(&src, A, &d);
    return prog ? elaborate(prog, "t", A, &d) : NULL;
}

static Graph *build_file(const char *path) {
    char *text = read_whole_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char *copy = arena_strdup(A, text);
    free(text);
    return build_text(copy);
}

/* What main.c runs, in its order. */
static void run_passes(Graph *g) {
    passes_run(g);
    plan_arena(g);
}

static GNode *find(Graph *g, const char *path) {
    for (int i = 0; i < g->nnodes; i++)
        if (!strcmp(g->nodes[i]->path, path)) return g->nodes[i];
    CU_FAIL(path);
    return NULL;
}

static int count_op(const Graph *g, OpKind op) {
    int n = 0;
    for (int i = 0; i < g->nnodes; i++) n += g->nodes[i]->op == op;
    return n;
}

/* ------------------------------------------- the plan, independently */

/* The node whose buffer holds v, and when v's code runs. */
static const GNode *buffer_of(const GNode *v) {
    for (;;) {
        if (v->op == OP_FLATTEN || v->op == OP_DROPOUT ||
            (v->op == OP_ZEROPAD && v->pad_folded))
            v = v->in[0];
        else if (v->absorbed_by) v = v->absorbed_by;
        else if (v->slice_of) v = v->slice_of;
        else if (v->view_of) v = v->view_of;
        else return v;
    }
}

static int step_of(const GNode *v) {
    while (v->absorbed_by) v = v->absorbed_by;
    return v->id;
}

/* Whether buffer a is a conv's output written over its residual's buffer
 * b (plan.c's in-place add): same place, b read last by that conv, the
 * step a is born at. */
static bool over_residual(const Graph *g, const GNode *a, const GNode *b, int born,
                          int b_last) {
    for (int i = 0; i < g->nnodes; i++) {
        const GNode *v = g->nodes[i];
        if (v->op == OP_CONV2D && v->residual && buffer_of(v) == a &&
            buffer_of(v->residual) == b && a->arena_off == b->arena_off &&
            step_of(v) == born && b_last == born)
            return true;
    }
    return false;
}

/* Every buffer inside the arena and aligned; any two buffers whose lives
 * (first write to last read, reads of fused nodes at their absorber's
 * step) meet are disjoint; fused nodes and slices share their owner's. */
static void check_fused_plan(const Graph *g) {
    int n = g->nnodes;
    int *first = malloc(sizeof(int) * (size_t)n), *last = malloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++) first[i] = n + 1, last[i] = -1;
    for (int i = 0; i < n; i++) {
        const GNode *v = g->nodes[i];
        bool code = v->op != OP_INPUT && v->op != OP_FLATTEN &&
                    v->op != OP_DROPOUT && !v->absorbed_by &&
                    !(v->op == OP_ZEROPAD && v->pad_folded) &&
                    !(v->op == OP_CONCAT && (v->sliced || v->view_of));
        int b = buffer_of(v)->id;
        if (code && step_of(v) < first[b]) first[b] = step_of(v);
        if (code && step_of(v) > last[b]) last[b] = step_of(v);
        for (int j = 0; j < v->nin; j++) {
            int u = buffer_of(v->in[j])->id;
            if (step_of(v) > last[u]) last[u] = step_of(v);
        }
    }
    for (int i = 0; i < g->noutputs; i++) last[buffer_of(g->outputs[i])->id] = n;
    for (int i = 0; i < n; i++) { /* a residual is read while the conv runs */
        const GNode *v = g->nodes[i];
        if (v->residual && buffer_of(v->residual)->op != OP_INPUT)
            CU_ASSERT(last[buffer_of(v->residual)->id] >= v->id);
    }
    for (int i = 0; i < n; i++) {
        const GNode *a = g->nodes[i], *o = buffer_of(a);
        if (o != a) {
            CU_ASSERT_EQUAL(a->arena_off, o->op == OP_INPUT ? -1 : o->arena_off);
            continue;
        }
        if (a->op == OP_INPUT) continue;
        CU_ASSERT(a->arena_off >= 0 && a->arena_off % 16 == 0);
        CU_ASSERT(a->arena_off + shape_count(&a->out) <= g->arena_floats);
        for (int j = 0; j < n; j++) {
            const GNode *b = g->nodes[j];
            if (j == i || buffer_of(b) != b || b->op == OP_INPUT) continue;
            bool meet = first[i] <= last[j] && first[j] <= last[i];
            bool overlap = a->arena_off < b->arena_off + shape_count(&b->out) &&
                           b->arena_off < a->arena_off + shape_count(&a->out);
            if (meet && overlap && (over_residual(g, a, b, first[i], last[j]) ||
                                    over_residual(g, b, a, first[j], last[i])))
                continue;
            if (meet && overlap) {
                CU_FAIL("buffers live at the same time overlap");
                fprintf(stderr, "\n  %s [%d, %d] and %s [%d, %d] overlap\n",
                        a->path, first[i], last[i], b->path, first[j], last[j]);
            }
        }
    }
    free(first);
    free(last);
}

/* ------------------------------------------------------------ tests */

/* ResNet-34: every batchnorm folded into the conv before it, every add
 * fused into a conv with its relu, every relu fused; nothing else. */
static void test_resnet34_body(void) {
    Graph *g = build_file("../../examples/resnet34.rn");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    int64_t unfused = (plan_arena(g), g->arena_floats);
    run_passes(g);
    CU_ASSERT_EQUAL(count_op(g, OP_BATCHNORM), 36);
    CU_ASSERT_EQUAL(count_op(g, OP_ADD), 16);
    CU_ASSERT_EQUAL(count_op(g, OP_ACTIVATION), 33);
    int adds = 0, residuals = 0;
    for (int i = 0; i < g->nnodes; i++) {
        GNode *v = g->nodes[i];
        switch (v->op) {
        case OP_BATCHNORM:
            CU_ASSERT_PTR_EQUAL(v->absorbed_by, v->in[0]);
            CU_ASSERT_EQUAL(v->in[0]->op, OP_CONV2D);
            CU_ASSERT_PTR_EQUAL(v->in[0]->fold_bn, v);
            break;
        case OP_ADD: {
            adds++;
            GNode *c = v->absorbed_by;
            CU_ASSERT_PTR_NOT_NULL_FATAL(c);
            CU_ASSERT_EQUAL(c->op, OP_CONV2D);
            /* the operand computed last is the conv (through its bn) */
            GNode *mine = v->in[0]->absorbed_by == c ? v->in[0] : v->in[1];
            GNode *other = mine == v->in[0] ? v->in[1] : v->in[0];
            CU_ASSERT_PTR_EQUAL(mine->absorbed_by, c);
            CU_ASSERT_PTR_EQUAL(c->residual, other);
            CU_ASSERT(step_of(other) < c->id);
            /* and the relu after the add is the conv's epilogue */
            CU_ASSERT_EQUAL(c->epi_act, ACT_RELU);
            break;
        }
        case OP_ACTIVATION:
            CU_ASSERT_EQUAL(v->act, ACT_RELU);
            CU_ASSERT_PTR_NOT_NULL(v->absorbed_by);
            if (v->absorbed_by) CU_ASSERT_EQUAL(v->absorbed_by->op, OP_CONV2D);
            break;
        default:
            CU_ASSERT_PTR_NULL(v->absorbed_by);
            CU_ASSERT_PTR_NULL(v->slice_of);
            break;
        }
        residuals += v->residual != NULL;
    }
    CU_ASSERT_EQUAL(adds, 16);
    CU_ASSERT_EQUAL(residuals, 16);
    /* an identity block: the add and its relu go into the second conv,
     * whose residual is the block's input */
    GNode *c1 = find(g, "residual_unit.conv2d_1");
    CU_ASSERT_PTR_EQUAL(find(g, "residual_unit.add")->absorbed_by, c1);
    CU_ASSERT_PTR_EQUAL(find(g, "residual_unit.activation_1")->absorbed_by, c1);
    CU_ASSERT_PTR_EQUAL(c1->residual, find(g, "max_pooling2d"));
    CU_ASSERT_PTR_EQUAL(c1->fold_bn, find(g, "residual_unit.batch_normalization_1"));
    /* a projection block: the add goes into the shortcut conv (it runs
     * after the main path), whose residual is the main path's bn */
    GNode *add = find(g, "residual_unit_3.add");
    GNode *sc = find(g, "residual_unit_3.conv2d_2");
    if (add && sc) {
        CU_ASSERT_PTR_EQUAL(add->absorbed_by, sc);
        CU_ASSERT_PTR_EQUAL(sc->residual, find(g, "residual_unit_3.batch_normalization_1"));
    }
    check_fused_plan(g);
    CU_ASSERT(g->arena_floats < unfused);
}

/* small_residual: the 1x1 convs absorb the adds (they run after the main
 * path); the 3x3 convs have their own relu, so nothing folds into them. */
static void test_small_residual_body(void) {
    Graph *g = build_file("../../examples/small_residual.rn");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    run_passes(g);
    GNode *add0 = NULL;
    int absorbed = 0;
    for (int i = 0; i < g->nnodes; i++) {
        GNode *v = g->nodes[i];
        if (!v->absorbed_by) continue;
        absorbed++;
        CU_ASSERT_EQUAL(v->op, OP_ADD);
        CU_ASSERT_EQUAL(v->absorbed_by->op, OP_CONV2D);
        CU_ASSERT_EQUAL(v->absorbed_by->kh, 1);
        if (!add0) add0 = v;
    }
    CU_ASSERT_EQUAL(absorbed, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(add0);
    /* the first block's add: in its 1x1 stride-2 conv, whose residual is
     * the block's maxpool */
    GNode *c = add0->absorbed_by;
    CU_ASSERT_EQUAL(c->sh, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c->residual);
    CU_ASSERT_EQUAL(c->residual->op, OP_MAXPOOL);
    CU_ASSERT_EQUAL(c->epi_act, ACT_NONE);
    for (int i = 0; i < g->nnodes; i++) {
        GNode *v = g->nodes[i];
        if (v->op == OP_CONV2D && v->act == ACT_RELU) {
            CU_ASSERT_PTR_NULL(v->fold_bn);
            CU_ASSERT_PTR_NULL(v->residual);
        }
    }
    check_fused_plan(g);
}

static void test_other_examples_body(void) {
    const char *names[] = {"resnet18", "resnet50", "mobilenet_v1", "vgg16"};
    for (int k = 0; k < 4; k++) {
        char path[64];
        snprintf(path, sizeof path, "../../examples/%s.rn", names[k]);
        Graph *g = build_file(path);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        run_passes(g);
        check_fused_plan(g);
        for (int i = 0; i < g->nnodes; i++) /* every batchnorm follows a conv */
            if (g->nodes[i]->op == OP_BATCHNORM)
                CU_ASSERT_PTR_NOT_NULL(g->nodes[i]->absorbed_by);
    }
}

/* MobileNet: depthwise + batchnorm + relu6 fused as well. */
static void test_depthwise_relu6_body(void) {
    Graph *g = build_file("../../examples/mobilenet_v1.rn");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    run_passes(g);
    int dw = 0;
    for (int i = 0; i < g->nnodes; i++) {
        GNode *v = g->nodes[i];
        if (v->op != OP_DEPTHWISE_CONV2D) continue;
        dw++;
        CU_ASSERT_PTR_NOT_NULL(v->fold_bn);
        CU_ASSERT_EQUAL(v->epi_act, ACT_RELU6);
    }
    CU_ASSERT_EQUAL(dw, 13);
}

/* A conv whose output has two readers is not fused with either; the same
 * for a conv that is a graph output, and a batchnorm after a conv that
 * has its own activation. */
static void test_two_readers_body(void) {
    Graph *g = build_text(
        "input x[8, 8, 4]\n"
        "y = conv2d(x, 8, 3, padding=same)\n"
        "output batchnorm(y)\n"
        "output relu(y)\n"
        "z = conv2d(x, 8, 3, padding=same)\n"
        "output z\n"
        "output relu(batchnorm(z))\n"
        "w = conv2d(x, 8, 3, padding=same, activation=relu)\n"
        "output relu6(batchnorm(w))\n"
        "v = conv2d(x, 4, 3, padding=same)\n"
        "output add(v, x, x)\n"
        "u = conv2d(x, 4, 1)\n"
        "output u + u\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    run_passes(g);
    for (int i = 0; i < g->nnodes; i++) {
        GNode *v = g->nodes[i];
        CU_ASSERT_PTR_NULL(v->absorbed_by);
        CU_ASSERT_PTR_NULL(v->fold_bn);
        CU_ASSERT_PTR_NULL(v->residual);
        CU_ASSERT_EQUAL(v->epi_act, ACT_NONE);
    }
    check_fused_plan(g);
}

/* The residual operand may be a graph input; the add then sits in the
 * conv's epilogue and the input stays in the caller's buffer. */
static void test_residual_of_input_body(void) {
    Graph *g = build_text(
        "input x[8, 8, 4]\n"
        "output relu(batchnorm(conv2d(x, 4, 3, padding=same, bias=false)) + x)\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    run_passes(g);
    GNode *c = find(g, "conv2d");
    CU_ASSERT_PTR_EQUAL(c->residual, g->inputs[0]);
    CU_ASSERT_PTR_EQUAL(c->fold_bn, find(g, "batch_normalization"));
    CU_ASSERT_EQUAL(c->epi_act, ACT_RELU);
    CU_ASSERT_PTR_EQUAL(find(g, "add")->absorbed_by, c);
    CU_ASSERT_PTR_EQUAL(find(g, "activation")->absorbed_by, c);
    /* the output (the relu) is the conv's buffer */
    CU_ASSERT_EQUAL(g->outputs[0]->arena_off, c->arena_off);
    check_fused_plan(g);
}

/* Concat: operands computed by convs read only by it write straight into
 * their slices; one operand read elsewhere (or an input) keeps the copy. */
static void test_concat_body(void) {
    Graph *g = build_text(
        "input x[8, 8, 4]\n"
        "a = relu6(batchnorm(conv2d(x, 3, 1, bias=false)))\n"
        "b = conv2d(x, 5, 3, padding=same, activation=relu)\n"
        "c = conv2d(x, 2, 3, padding=same)\n"
        "k = concat(a, b, c)\n"
        "output conv2d(k, 4, 1)\n"
        "d = conv2d(x, 3, 1)\n"
        "e = conv2d(x, 3, 1)\n"
        "output concat(d, e)\n"
        "output maxpool(e, 2)\n"
        "output concat(conv2d(x, 2, 1), x)\n"
        "f = conv2d(x, 3, 1)\n"
        "output concat(f, f)\n"
        "output concat(conv2d(x, 4, 3, padding=same) + x, conv2d(x, 2, 1))\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    run_passes(g);
    GNode *k = find(g, "concatenate");
    CU_ASSERT_TRUE(k->sliced);
    GNode *ca = find(g, "conv2d"), *cb = find(g, "conv2d_1"), *cc = find(g, "conv2d_2");
    CU_ASSERT_PTR_EQUAL(ca->slice_of, k);
    CU_ASSERT_PTR_EQUAL(cb->slice_of, k);
    CU_ASSERT_PTR_EQUAL(cc->slice_of, k);
    CU_ASSERT_EQUAL(ca->slice_off, 0);
    CU_ASSERT_EQUAL(cb->slice_off, 3);
    CU_ASSERT_EQUAL(cc->slice_off, 8);
    CU_ASSERT_EQUAL(ca->epi_act, ACT_RELU6);
    CU_ASSERT_PTR_EQUAL(find(g, "batch_normalization")->absorbed_by, ca);
    /* a slice lives in the concat's buffer, born with its first writer */
    CU_ASSERT_EQUAL(ca->arena_off, k->arena_off);
    CU_ASSERT_EQUAL(cc->arena_off, k->arena_off);
    const char *kept[4] = {"concatenate_1", "concatenate_2", "concatenate_3",
                           "concatenate_4"};
    for (int i = 0; i < 4; i++) {
        GNode *v = find(g, kept[i]);
        CU_ASSERT_FALSE(v->sliced);
        for (int j = 0; j < v->nin; j++)
            CU_ASSERT_PTR_NULL(node_exec(v->in[j])->slice_of);
    }
    check_fused_plan(g);
}

/* DenseNet's blocks (tests/numerics/dense_chain.rn): each block's feature
 * maps (a maxpool's, an avgpool's, the convs') are slices of its last
 * concat, the earlier concats views of it, read by the 1x1 convs'
 * prologues at its stride, the block's input too; nothing copies. With
 * one of the earlier concats read by something else (an output), the
 * block keeps its copies. */
static void test_concat_chain_body(void) {
    Graph *g = build_file("../../tests/numerics/dense_chain.rn");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    run_passes(g);
    GNode *k4 = find(g, "concatenate_2"), *m3 = find(g, "concatenate_4");
    CU_ASSERT_TRUE(k4->sliced);
    CU_ASSERT_TRUE(m3->sliced);
    CU_ASSERT_PTR_EQUAL(find(g, "concatenate")->view_of, k4);
    CU_ASSERT_PTR_EQUAL(find(g, "concatenate_1")->view_of, k4);
    CU_ASSERT_PTR_EQUAL(find(g, "concatenate_3")->view_of, m3);
    CU_ASSERT_PTR_NULL(k4->view_of);
    GNode *pool = find(g, "max_pooling2d"), *avg = find(g, "average_pooling2d");
    CU_ASSERT_PTR_EQUAL(pool->slice_of, k4);
    CU_ASSERT_EQUAL(pool->slice_off, 0);
    CU_ASSERT_PTR_EQUAL(avg->slice_of, m3);
    CU_ASSERT_EQUAL(find(g, "conv2d_6")->slice_off, 16);
    CU_ASSERT_PTR_EQUAL(find(g, "conv2d_6")->slice_of, k4);
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i]->op == OP_CONCAT) CU_ASSERT_FALSE(node_has_code(g->nodes[i]));
    Lower *L = lower(g, true);
    const Step *s = &L->steps[L->step_of[find(g, "conv2d_3")->id]]; /* reads k2 */
    CU_ASSERT_PTR_EQUAL(node_read(s->node, 0), find(g, "concatenate"));
    CU_ASSERT_EQUAL(s->conv.cin, 12);
    CU_ASSERT_EQUAL(s->conv.ldi, 20);
    s = &L->steps[L->step_of[find(g, "conv2d_1")->id]]; /* reads the maxpool */
    CU_ASSERT_EQUAL(s->conv.cin, 8);
    CU_ASSERT_EQUAL(s->conv.ldi, 20);
    s = &L->steps[L->step_of[find(g, "conv2d_7")->id]]; /* reads k4 itself */
    CU_ASSERT_EQUAL(s->conv.ldi, 20);
    s = &L->steps[L->step_of[pool->id]];
    CU_ASSERT_EQUAL(s->ldo, 20);
    CU_ASSERT(s->out.slice && s->out.coff == 0);
    check_fused_plan(g);

    g = build_text(
        "input x[8, 8, 4]\n"
        "f = maxpool(x, 2)\n"
        "c1 = conv2d(relu(batchnorm(f)), 4, 1)\n"
        "k2 = concat(f, c1)\n"
        "c2 = conv2d(relu(batchnorm(k2)), 4, 1)\n"
        "k3 = concat(f, c1, c2)\n"
        "output conv2d(relu(batchnorm(k3)), 4, 1)\n"
        "output k2\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    run_passes(g);
    for (int i = 0; i < g->nnodes; i++) {
        CU_ASSERT_PTR_NULL(g->nodes[i]->view_of);
        CU_ASSERT_PTR_NULL(g->nodes[i]->slice_of);
        CU_ASSERT_FALSE(g->nodes[i]->sliced);
    }
    check_fused_plan(g);
}

/* Swish and hard-swish run in the epilogue too (act_in_epilogue): after a
 * conv (a slice of a concat even), a depthwise conv and a dense layer;
 * gelu does not. The lowering chooses each conv's algorithm with the
 * runtime's own rule: F(4x4) for 64 channels of 3x3, direct for 1x1. */
static void test_swish_body(void) {
    Graph *g = build_text(
        "input x[16, 16, 64]\n"
        "a = swish(conv2d(x, 64, 3, padding=same))\n"
        "b = hard_swish(depthwise_conv2d(a, 3, padding=same))\n"
        "output gelu(conv2d(b, 8, 1))\n"
        "k = concat(silu(conv2d(b, 8, 1)), relu(conv2d(b, 8, 1)))\n"
        "output hard_swish(dense(flatten(k), 3))\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    run_passes(g);
    CU_ASSERT_EQUAL(find(g, "conv2d")->epi_act, ACT_SILU);
    CU_ASSERT_EQUAL(find(g, "depthwise_conv2d")->epi_act, ACT_HARD_SWISH);
    CU_ASSERT_EQUAL(find(g, "conv2d_1")->epi_act, ACT_NONE); /* gelu */
    CU_ASSERT_EQUAL(find(g, "conv2d_2")->epi_act, ACT_SILU);
    CU_ASSERT_PTR_EQUAL(find(g, "conv2d_2")->slice_of, find(g, "concatenate"));
    CU_ASSERT_EQUAL(find(g, "dense")->epi_act, ACT_HARD_SWISH);
    Lower *L = lower(g, true);
    const Step *s = &L->steps[L->step_of[find(g, "conv2d")->id]];
    CU_ASSERT_EQUAL(s->conv.act, RN_ACT_SWISH);
    CU_ASSERT_EQUAL(s->act_after, ACT_NONE);
    CU_ASSERT_EQUAL(s->conv.algo, RN_CONV_WINOGRAD4);
    s = &L->steps[L->step_of[find(g, "conv2d_2")->id]];
    CU_ASSERT_EQUAL(s->conv.algo, RN_CONV_DIRECT);
    CU_ASSERT_EQUAL(s->ldo, 16);
    CU_ASSERT(s->out.slice && s->out.coff == 0);
    s = &L->steps[L->step_of[find(g, "depthwise_conv2d")->id]];
    CU_ASSERT_EQUAL(s->dw.act, RN_ACT_HARD_SWISH);
    s = &L->steps[L->step_of[find(g, "dense")->id]];
    CU_ASSERT_EQUAL(s->act_after, ACT_HARD_SWISH); /* dense: a pass after */
    check_fused_plan(g);
}

/* A batchnorm and activation before a 1x1 conv become its prologue
 * (DenseNet), unless the batchnorm's value has another reader or the conv
 * is not 1x1; the conv reads the batchnorm's input, which lives until the
 * conv has run. Grouped convs of 8 and 4 channels a group run several
 * groups a call, the last call with the groups left. */
static void test_prologue_groups_body(void) {
    Graph *g = build_text(
        "input x[8, 8, 20]\n"
        "c = concat(x, conv2d(x, 12, 3, padding=same))\n"
        "output conv2d(relu(batchnorm(c)), 12, 1)\n"
        "b = batchnorm(c)\n"
        "output conv2d(relu(b), 3, 1)\n"
        "output b\n"
        "output conv2d(hard_swish(batchnorm(x)), 5, 3, padding=same)\n"
        "output conv2d(x, 40, 3, padding=same, groups=5)\n"
        "output conv2d(c, 32, 3, padding=same, groups=4)\n"
        "d = conv2d(x, 24, 1)\n"
        "s = hard_sigmoid(conv2d(global_avgpool(d, keepdims=true), 24, 1))\n"
        "output conv2d(multiply(s, d), 8, 1)\n"
        "e = multiply(d, s)\n"
        "output conv2d(e, 8, 1)\n"
        "output e\n"
        "output conv2d(multiply(d, d), 8, 1)\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    run_passes(g);
    pass_fold_zeropad(g);
    pass_fuse_prologue(g);
    GNode *c1 = find(g, "conv2d_1"), *bn = find(g, "batch_normalization");
    CU_ASSERT_PTR_EQUAL(c1->pre_bn, bn);
    CU_ASSERT_EQUAL(c1->pre_act, ACT_RELU);
    CU_ASSERT_PTR_EQUAL(bn->absorbed_by, c1);
    CU_ASSERT_PTR_EQUAL(find(g, "activation")->absorbed_by, c1);
    CU_ASSERT_PTR_EQUAL(node_read(c1, 0), find(g, "concatenate"));
    CU_ASSERT_PTR_NULL(find(g, "conv2d_2")->pre_bn); /* b is an output too */
    CU_ASSERT_PTR_NULL(find(g, "batch_normalization_1")->absorbed_by);
    CU_ASSERT_PTR_NULL(find(g, "conv2d_3")->pre_bn); /* 3x3 */
    CU_ASSERT_PTR_NULL(find(g, "batch_normalization_2")->absorbed_by);
    /* a squeeze-excite's scale: the conv reads the image, the scale is
     * the prologue's; not when the product has another reader, nor for
     * an image times an image */
    GNode *se = find(g, "conv2d_8"), *mul = find(g, "multiply");
    CU_ASSERT_PTR_EQUAL(se->pre_mul, mul);
    CU_ASSERT_PTR_EQUAL(mul->absorbed_by, se);
    CU_ASSERT_PTR_EQUAL(node_read(se, 0), find(g, "conv2d_6"));
    CU_ASSERT_PTR_EQUAL(node_pre_scale(se), find(g, "activation_3"));
    CU_ASSERT_PTR_NULL(find(g, "conv2d_9")->pre_mul);
    CU_ASSERT_PTR_NULL(find(g, "conv2d_10")->pre_mul);
    plan_arena(g);
    check_fused_plan(g);
    Lower *L = lower(g, true);
    const Step *s = &L->steps[L->step_of[c1->id]];
    CU_ASSERT(s->conv.pre == 1 && s->conv.pre_act == RN_ACT_RELU);
    CU_ASSERT_EQUAL(s->conv.algo, RN_CONV_DIRECT);
    CU_ASSERT(s->pre_slot >= 0 && s->in[0].off == find(g, "concatenate")->arena_off);
    CU_ASSERT_EQUAL(s->conv.cin, 32);
    CU_ASSERT_EQUAL(L->step_of[bn->id], -1);
    s = &L->steps[L->step_of[se->id]];
    CU_ASSERT(s->conv.pre == 1 && s->conv.pre_act == RN_ACT_NONE && s->pre_slot == -1);
    CU_ASSERT_EQUAL(s->pre_scale_at.off, find(g, "activation_3")->arena_off);
    CU_ASSERT_EQUAL(s->in[0].off, find(g, "conv2d_6")->arena_off);
    /* 5 groups of 4 -> 8: two a call, then one */
    s = &L->steps[L->step_of[find(g, "conv2d_4")->id]];
    CU_ASSERT_EQUAL(s->groups, 3);
    CU_ASSERT(s->conv.groups == 2 && s->conv.cin == 8 && s->conv.cout == 16);
    CU_ASSERT(s->gcin == 8 && s->gcout == 16);
    CU_ASSERT(s->conv_last_index == s->conv_index + 1);
    CU_ASSERT(s->conv_last.groups == 0 && s->conv_last.cin == 4 && s->conv_last.cout == 8);
    /* 4 groups of 8 -> 8: the grouped kernel, one call of all four */
    s = &L->steps[L->step_of[find(g, "conv2d_5")->id]];
    CU_ASSERT(s->groups == 1 && s->conv.groups == 4 && s->conv_last_index == -1);
    CU_ASSERT(s->conv.algo == RN_CONV_GROUPED && s->gcin == 32 && s->gcout == 32);
}

/* The code of a fused graph: slices write with the concat's stride, the
 * residual is the conv's epilogue operand, batchnorms fold at load, and
 * absorbed nodes have no function of their own. */
static void test_emitted_code_body(void) {
    Graph *g = build_text(
        "input x[8, 8, 4]\n"
        "a = relu6(batchnorm(conv2d(x, 3, 1, bias=false)))\n"
        "b = conv2d(x, 5, 3, padding=same, activation=relu)\n"
        "k = concat(a, b)\n"
        "output relu(conv2d(k, 4, 1) + x)\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    run_passes(g);
    EmitOptions o = {.cmdline = "rnc t.rn -o t.c", .src_path = "t.rn",
                     .header_name = "t.h"};
    Buf c = {0}, h = {0};
    emit_c(g, &o, &c, &h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.data);
    /* the slices: ldo is the concat's 8 channels */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "    {.ih = 8, .iw = 8, .cin = 4, .oh = 8, .ow = 8, .cout = 3, .kh = 1, .kw = 1,\n"
        "     .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 0, .pad_l = 0, .ldi = 4, .ldo = 8, .act = 2, .algo = RN_CONV_DIRECT}, /* conv2d */\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "    {.ih = 8, .iw = 8, .cin = 4, .oh = 8, .ow = 8, .cout = 5, .kh = 3, .kw = 3,\n"
        "     .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 1, .pad_l = 1, .ldi = 4, .ldo = 8, .act = 1, .algo = RN_CONV_DIRECT}, /* conv2d_1 */\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "    {.ih = 8, .iw = 8, .cin = 8, .oh = 8, .ow = 8, .cout = 4, .kh = 1, .kw = 1,\n"
        "     .sh = 1, .sw = 1, .dh = 1, .dw = 1, .pad_t = 0, .pad_l = 0, .ldi = 8, .ldo = 4, .act = 1, .algo = RN_CONV_DIRECT}, /* conv2d_2 */\n"));
    char want[128];
    snprintf(want, sizeof want, "(m->arena + %lld + 3), t0, t1, m->ws + w * m->ws_floats);",
             (long long)find(g, "concatenate")->arena_off);
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, want)); /* b's slice */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, ", m->in[0],\n")); /* the residual */
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "rn_k_bn_fold_bias("));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "/* add: add, fused into conv2d_2 */"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c.data, "/* concatenate: concat, no copy */"));
    CU_ASSERT_PTR_NULL(strstr(c.data, "memcpy(y + p")); /* no concat copy */
    CU_ASSERT_PTR_NULL(strstr(c.data, "rn_k_add("));
    CU_ASSERT_PTR_NULL(strstr(c.data, "rn_k_scale_shift("));
    CU_ASSERT_PTR_NULL(strstr(c.data, "rn_k_act("));
    buf_free(&c);
    buf_free(&h);
}

/* Each test's graphs live in its own arena. */
static void test_emitted_code(void) {
    A = arena_new();
    test_emitted_code_body();
    arena_free(A);
}
static void test_prologue_groups(void) {
    A = arena_new();
    test_prologue_groups_body();
    arena_free(A);
}
static void test_swish(void) {
    A = arena_new();
    test_swish_body();
    arena_free(A);
}

static void test_resnet34(void) {
    A = arena_new();
    test_resnet34_body();
    arena_free(A);
}

static void test_small_residual(void) {
    A = arena_new();
    test_small_residual_body();
    arena_free(A);
}

static void test_other_examples(void) {
    A = arena_new();
    test_other_examples_body();
    arena_free(A);
}

static void test_depthwise_relu6(void) {
    A = arena_new();
    test_depthwise_relu6_body();
    arena_free(A);
}

static void test_two_readers(void) {
    A = arena_new();
    test_two_readers_body();
    arena_free(A);
}

static void test_residual_of_input(void) {
    A = arena_new();
    test_residual_of_input_body();
    arena_free(A);
}

static void test_concat(void) {
    A = arena_new();
    test_concat_body();
    arena_free(A);
}

static void test_concat_chain(void) {
    A = arena_new();
    test_concat_chain_body();
    arena_free(A);
}

void register_passes_tests(void) {
    CU_pSuite s = unit_suite("passes");
    CU_add_test(s, "resnet34: bn, add and relu fused", test_resnet34);
    CU_add_test(s, "small_residual: adds into the 1x1 convs", test_small_residual);
    CU_add_test(s, "other examples: fused plans", test_other_examples);
    CU_add_test(s, "mobilenet: depthwise + bn + relu6", test_depthwise_relu6);
    CU_add_test(s, "two readers: no fusion", test_two_readers);
    CU_add_test(s, "residual of a graph input", test_residual_of_input);
    CU_add_test(s, "concat slices", test_concat);
    CU_add_test(s, "concat chains (DenseNet): views of one buffer", test_concat_chain);
    CU_add_test(s, "emitted code of a fused graph", test_emitted_code);
    CU_add_test(s, "swish in the epilogue, the algorithm chosen", test_swish);
    CU_add_test(s, "BN-act prologue of a 1x1 conv; groups a call", test_prologue_groups);
}
