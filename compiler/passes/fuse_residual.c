/* fuse_residual.c: a residual add done in the epilogue of a convolution.
 *
 * Requires: shapes; runs after fold_batchnorm. Changes: for an add of two
 * operands, takes the operand computed last; if its code is a conv2d (with
 * or without a folded batchnorm) whose value only this add reads and which
 * has no activation yet, the add is absorbed by that conv and the conv's
 * residual is the other operand, which is already computed when the conv
 * runs: out = conv(x) + bias + residual. Adds of three or more operands,
 * and adds that broadcast an operand, keep their own code. */
#include "rnc.h"

void pass_fuse_residual(Graph *g) {
    for (int i = 0; i < g->nnodes; i++) {
        GNode *add = g->nodes[i];
        if (add->op != OP_ADD || add->nin != 2 || add->absorbed_by) continue;
        GNode *a = add->in[0], *b = add->in[1];
        if (a == b) continue;
        /* the operand whose code runs last; the other must run before it */
        GNode *last = node_exec(a)->id > node_exec(b)->id ? a : b;
        GNode *other = last == a ? b : a;
        GNode *c = node_exec(last);
        if (c->op != OP_CONV2D || c->act != ACT_NONE || c->residual ||
            c->epi_act != ACT_NONE || c->slice_of)
            continue;
        if (node_exec(other)->id >= c->id) continue;
        if (pass_readers(g, last) != 1) continue;
        /* the chain conv -> (batchnorm) -> add has one reader at each step */
        if (last != c && pass_readers(g, c) != 1) continue;
        /* a broadcasting add (x + se with se [1, 1, C]) keeps its code */
        if (!shape_equal(&other->out, &add->out) ||
            !shape_equal(&last->out, &add->out))
            continue;
        add->absorbed_by = c;
        c->residual = other;
    }
}
