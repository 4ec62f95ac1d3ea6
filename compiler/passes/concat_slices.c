/* concat_slices.c: a concat without a copy, its operands written straight
 * into their channel slices of its buffer.
 *
 * Requires: shapes; runs after the fusions (an operand's code is final).
 * Changes: for a channel concat of rank-3 values where every operand is
 * computed by a conv2d that can write strided output (no residual: that
 * would need the same stride; an activation its epilogue applies, not a
 * pass over the whole output after it: act_in_epilogue), read by
 * this concat alone and only once: each such conv gets slice_of = the
 * concat and slice_off = its first channel, and the concat is marked
 * sliced (no code). Otherwise the concat keeps its copy.
 *
 * Chains first (DenseNet: each layer's concat takes every earlier feature
 * map of its block, the first operands of the block's last concat): a
 * concat whose operands are the first operands of a longer one, B, read
 * only by convs (directly or through a prologue's batchnorm), becomes a
 * view of B (view_of: B's first channels, read at B's pixel stride), when
 * B can be sliced with the views as its operands' other readers, each
 * operand a conv as above or a pooling (which writes strided output too).
 * Then each feature map is written once, into B, and nothing is copied. */
#include "rnc.h"

#include <stdlib.h>

static bool can_slice(const Graph *g, GNode *v) {
    GNode *c = node_exec(v);
    if (c->op != OP_CONV2D || c->residual || c->slice_of || c->sliced ||
        !act_in_epilogue(node_act(c)))
        return false;
    /* the whole chain conv -> ... -> v is read by its next node alone */
    for (GNode *u = v; u != c; u = u->in[0])
        if (pass_readers(g, u) != 1) return false;
    return pass_readers(g, c) == 1;
}

/* Whether concat a's operands are the first of concat b's (fewer). */
static bool is_prefix(const GNode *a, const GNode *b) {
    if (a == b || a->op != OP_CONCAT || a->out.rank != 3 || a->absorbed_by ||
        a->nin >= b->nin || a->nin == 0 || a->sliced || a->view_of)
        return false;
    for (int j = 0; j < a->nin; j++)
        if (a->in[j] != b->in[j]) return false;
    return true;
}

/* Whether node r's input slot j reads a (its image) as a conv that
 * takes a strided input: an ungrouped conv2d, directly or through its
 * prologue's batchnorm. */
static bool conv_reads(const GNode *r, int j, const GNode *a) {
    const GNode *c = node_exec(r);
    return c->op == OP_CONV2D && c->groups <= 1 && !c->pre_mul && j == 0 &&
           node_read(c, 0) == a && (r == c || r == c->pre_bn) && c->residual != a;
}

/* Whether every reader of view a is a conv reading its image (conv_reads)
 * or, when b is given, b or a view of b (views[i]: node i is one). */
static bool strided_readers(const Graph *g, const GNode *a, const GNode *b,
                            const bool *views) {
    for (int i = 0; i < g->noutputs; i++)
        if (g->outputs[i] == a) return false;
    for (int i = a->id + 1; i < g->nnodes; i++) {
        const GNode *r = g->nodes[i];
        for (int j = 0; j < r->nin; j++)
            if (r->in[j] == a && !conv_reads(r, j, a) && !(b && (r == b || views[i])))
                return false;
    }
    return true;
}

/* Whether operand v of b (its producer's output) can be written into b's
 * slice: a conv as can_slice says, or a pooling, each of its readers b,
 * a view of b or a conv that reads it strided (DenseNet's first layer of
 * a block reads the block's input alone). */
static bool can_slice_chain(const Graph *g, GNode *v, const GNode *b,
                            const bool *views) {
    GNode *c = node_exec(v);
    bool pool = (c->op == OP_MAXPOOL || c->op == OP_AVGPOOL) && c == v && c->out.rank == 3;
    if (c->slice_of || c->sliced) return false;
    if (!pool && (c->op != OP_CONV2D || c->residual || !act_in_epilogue(node_act(c))))
        return false;
    for (GNode *u = v; u != c; u = u->in[0])
        if (pass_readers(g, u->in[0]) != 1) return false;
    return strided_readers(g, v, b, views);
}

/* Concat b and the concats whose operands are its first ones, as one
 * buffer (see the top); false, and nothing marked, when they cannot. */
static bool slice_chain(Graph *g, GNode *b, bool *views) {
    int nviews = 0;
    for (int i = 0; i < g->nnodes; i++) {
        views[i] = is_prefix(g->nodes[i], b) && strided_readers(g, g->nodes[i], NULL, views);
        nviews += views[i];
    }
    bool ok = nviews > 0;
    for (int j = 0; j < b->nin && ok; j++) {
        ok = can_slice_chain(g, b->in[j], b, views);
        for (int k = 0; k < j && ok; k++) ok = node_exec(b->in[k]) != node_exec(b->in[j]);
    }
    if (!ok) return false;
    int64_t off = 0;
    for (int j = 0; j < b->nin; j++) {
        GNode *c = node_exec(b->in[j]);
        c->slice_of = b;
        c->slice_off = off;
        off += b->in[j]->out.d[2];
    }
    if (off != b->out.d[2])
        die("concat_slices: %s: channels %lld != %lld", b->name, (long long)off,
            (long long)b->out.d[2]);
    b->sliced = true;
    for (int i = 0; i < g->nnodes; i++)
        if (views[i]) g->nodes[i]->view_of = b;
    return true;
}

void pass_concat_slices(Graph *g) {
    bool *views = calloc((size_t)g->nnodes + 1, sizeof *views);
    if (!views) die("out of memory");
    for (int i = g->nnodes - 1; i >= 0; i--) { /* the longest concats first */
        GNode *b = g->nodes[i];
        if (b->op == OP_CONCAT && b->out.rank == 3 && !b->absorbed_by && !b->sliced &&
            !b->view_of)
            slice_chain(g, b, views);
    }
    free(views);
    for (int i = 0; i < g->nnodes; i++) {
        GNode *cat = g->nodes[i];
        if (cat->op != OP_CONCAT || cat->out.rank != 3 || cat->absorbed_by ||
            cat->sliced || cat->view_of)
            continue;
        bool ok = cat->nin > 0;
        for (int j = 0; j < cat->nin && ok; j++) {
            ok = can_slice(g, cat->in[j]);
            for (int k = 0; k < j && ok; k++)
                ok = node_exec(cat->in[k]) != node_exec(cat->in[j]);
        }
        if (!ok) continue;
        int64_t off = 0;
        for (int j = 0; j < cat->nin; j++) {
            GNode *c = node_exec(cat->in[j]);
            c->slice_of = cat;
            c->slice_off = off;
            off += cat->in[j]->out.d[2];
        }
        if (off != cat->out.d[2]) die("concat_slices: %s: channels %lld != %lld",
                                      cat->name, (long long)off,
                                      (long long)cat->out.d[2]);
        cat->sliced = true;
    }
}
