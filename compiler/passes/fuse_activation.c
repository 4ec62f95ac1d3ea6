/* fuse_activation.c: an activation applied in the epilogue of the layer
 * that computes its input.
 *
 * Requires: shapes; runs after fold_batchnorm and fuse_residual. Changes:
 * for a standalone activation that an epilogue applies on registers (relu,
 * relu6, swish, hard-swish: act_in_epilogue) whose input is computed by a conv2d,
 * depthwise_conv2d or dense (possibly with a folded batchnorm and a fused
 * residual add) that has no activation yet, and whose input value nothing
 * else reads: the activation is absorbed and becomes that layer's epi_act,
 * applied after bias, batchnorm and residual. */
#include "rnc.h"

void pass_fuse_activation(Graph *g) {
    for (int i = 0; i < g->nnodes; i++) {
        GNode *a = g->nodes[i];
        if (a->op != OP_ACTIVATION || a->nin != 1 || a->absorbed_by) continue;
        if (a->act == ACT_NONE || !act_in_epilogue(a->act)) continue;
        GNode *v = a->in[0], *c = node_exec(v);
        if (c->op != OP_CONV2D && c->op != OP_DEPTHWISE_CONV2D &&
            c->op != OP_DENSE)
            continue;
        if (c->act != ACT_NONE || c->epi_act != ACT_NONE || c->slice_of)
            continue;
        if (pass_readers(g, v) != 1) continue;
        a->absorbed_by = c;
        c->epi_act = a->act;
    }
}
