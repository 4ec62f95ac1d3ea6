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
 * sliced (no code). Otherwise the concat keeps its copy. */
#include "rnc.h"

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

void pass_concat_slices(Graph *g) {
    for (int i = 0; i < g->nnodes; i++) {
        GNode *cat = g->nodes[i];
        if (cat->op != OP_CONCAT || cat->out.rank != 3 || cat->absorbed_by)
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
