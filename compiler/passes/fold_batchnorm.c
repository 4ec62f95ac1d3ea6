/* fold_batchnorm.c: a batchnorm folded into the convolution before it.
 *
 * Requires: a shaped graph, no other pass run. Changes: for each batchnorm
 * whose input is a conv2d or depthwise_conv2d without an activation of its
 * own and read by nothing else (not a graph output either), sets the
 * batchnorm's absorbed_by and the conv's fold_bn. The generated code then
 * computes at load, in double, scale = gamma / sqrt(var + eps) and
 * bias' = beta + (bias - mean) * scale, and multiplies the kernel's output
 * channels by scale: inference runs no batchnorm at all. */
#include "rnc.h"

void pass_fold_batchnorm(Graph *g) {
    for (int i = 0; i < g->nnodes; i++) {
        GNode *bn = g->nodes[i];
        if (bn->op != OP_BATCHNORM || bn->nin != 1 || bn->absorbed_by) continue;
        GNode *c = bn->in[0];
        if (c->op != OP_CONV2D && c->op != OP_DEPTHWISE_CONV2D) continue;
        /* conv(act=relu) then batchnorm: the scale cannot cross the relu */
        if (c->act != ACT_NONE || c->fold_bn || c->residual ||
            c->epi_act != ACT_NONE || c->absorbed_by)
            continue;
        if (bn->out.rank != 3 || pass_readers(g, c) != 1) continue;
        bn->absorbed_by = c;
        c->fold_bn = bn;
    }
}
