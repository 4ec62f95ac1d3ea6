/* fold_zeropad.c: a zeropad folded into the padding of the convolution
 * that reads it (MobileNet's stride-2 layers, ResNet-50's stem).
 *
 * Requires: shapes; runs after the fusions. Changes: for a zeropad read by
 * one conv2d or depthwise_conv2d alone (as its input, and not a graph
 * output), sets the zeropad's pad_folded: it has no code and no buffer of
 * its own (its value is its input's, as a flatten's), and the conv reads
 * that input with the zeropad's padding added to its own (lower.c: the
 * step's pad_t and pad_l).
 * Zeros either way: a padded input pixel and a tap in the padding both add
 * nothing. Pools keep their zeropad: a max over padding is not a max over
 * zeros. */
#include "rnc.h"

void pass_fold_zeropad(Graph *g) {
    for (int i = 0; i < g->nnodes; i++) {
        GNode *c = g->nodes[i];
        if (c->op != OP_CONV2D && c->op != OP_DEPTHWISE_CONV2D) continue;
        GNode *z = c->in[0];
        if (z->op != OP_ZEROPAD || z->pad_folded || z->absorbed_by ||
            z->out.rank != 3 || pass_readers(g, z) != 1)
            continue;
        z->pad_folded = true;
    }
}
