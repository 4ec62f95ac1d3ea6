/* fuse_prologue.c: a batchnorm and activation before a 1x1 convolution,
 * applied by the convolution as it reads its input (DenseNet's BN-ReLU
 * before each bottleneck and transition: its batchnorm follows a concat,
 * so no convolution's weights can absorb it); or a squeeze-excite's
 * channel scale (an image times a pixel of channels) before one.
 *
 * Requires: shapes; runs after the other fusions. Changes: for a conv2d
 * (1x1, stride 1, not grouped, no prologue yet) whose input is an
 * activation that an epilogue applies on registers (act_in_epilogue),
 * whose input is a batchnorm over the channels of an image, each value
 * read by the next alone: the batchnorm and the activation are absorbed
 * (no code, no buffer) and become the conv's pre_bn and pre_act; the conv
 * reads the batchnorm's input (node_read). Likewise a multiply of an
 * image (in[0]) by a [1, 1, C] value, read by the conv alone: absorbed as
 * its pre_mul, the conv reads the image. Its kernel runs the prologue
 * (rn_conv.pre: the runtime's direct convolution) on each input value it
 * reads; a 1x1 conv reads each once per block of output channels. */
#include "rnc.h"

/* m = multiply(x, s) (or (s, x)), x an image and s one pixel of its
 * channels, read by one node alone. */
static bool channel_scale(const Graph *g, GNode *m) {
    if (m->op != OP_MULTIPLY || m->nin != 2 || m->absorbed_by || m->out.rank != 3 ||
        pass_readers(g, m) != 1)
        return false;
    for (int k = 0; k < 2; k++) {
        const Shape *x = &m->in[k]->out, *s = &m->in[1 - k]->out;
        if (x->rank == 3 && shape_equal(x, &m->out) && s->rank == 3 && s->d[0] == 1 &&
            s->d[1] == 1 && s->d[2] == x->d[2] && (x->d[0] > 1 || x->d[1] > 1))
            return true;
    }
    return false;
}

void pass_fuse_prologue(Graph *g) {
    for (int i = 0; i < g->nnodes; i++) {
        GNode *c = g->nodes[i];
        if (c->op != OP_CONV2D || c->pre_bn || c->pre_mul || c->groups > 1 || c->kh != 1 ||
            c->kw != 1 || c->sh != 1 || c->sw != 1 || c->nin != 1 || c->absorbed_by)
            continue;
        GNode *a = c->in[0];
        if (channel_scale(g, a)) {
            a->absorbed_by = c;
            c->pre_mul = a;
            continue;
        }
        if (a->op != OP_ACTIVATION || a->nin != 1 || a->absorbed_by ||
            a->act == ACT_NONE || !act_in_epilogue(a->act) || pass_readers(g, a) != 1)
            continue;
        GNode *b = a->in[0];
        if (b->op != OP_BATCHNORM || b->nin != 1 || b->absorbed_by || b->out.rank != 3 ||
            pass_readers(g, b) != 1)
            continue;
        a->absorbed_by = c;
        b->absorbed_by = c;
        c->pre_bn = b;
        c->pre_act = a->act;
    }
}
