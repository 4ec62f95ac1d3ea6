/* uses.c: what the fusion marks mean, for every stage after the passes.
 * The passes (compiler/passes/) set the marks of GNode; these functions
 * are the only place that reads them to say where a value lives and which
 * code computes it: the passes themselves, the plan (plan.c), the memory
 * table (memory.c) and the lowering (lower.c) ask here, and the emitters
 * see only the steps that lower.c derives.
 *
 * Requires the marks (all zero when no pass ran); changes nothing.
 * pass_readers is a quadratic scan: graphs have hundreds of nodes, and the
 * passes run once. */
#include "rnc.h"

/* Input slots that read v (add(x, x) counts twice), plus one for each time
 * v is a graph output: a value read more than once must stay in memory. */
int pass_readers(const Graph *g, const GNode *v) {
    int n = 0;
    for (int i = v->id + 1; i < g->nnodes; i++)
        for (int j = 0; j < g->nodes[i]->nin; j++) n += g->nodes[i]->in[j] == v;
    for (int i = 0; i < g->noutputs; i++) n += g->outputs[i] == v;
    return n;
}

/* The node whose code computes v's value: v, or the node that absorbed it
 * (a batchnorm, add or activation run in a conv's epilogue). */
GNode *node_exec(const GNode *v) {
    while (v->absorbed_by) v = v->absorbed_by;
    return (GNode *)v;
}

/* The node whose code computes v's floats, in v's order and count:
 * flatten, dropout, reshape and a folded zeropad are their input's floats
 * (node_is_alias), a fused node's are its absorber's; a concat view's
 * (view_of) are its sliced concat's first channels, at that concat's
 * pixel stride (its readers are convs that read strided input). */
GNode *node_storage(const GNode *v) {
    for (;;) {
        if (node_is_alias(v)) v = v->in[0];
        else if (v->absorbed_by) v = v->absorbed_by;
        else if (v->view_of) v = v->view_of; /* its floats, strided */
        else return (GNode *)v;
    }
}

/* The node whose buffer holds v's value: its storage, or the concat whose
 * channel slice its storage writes. */
const GNode *node_owner(const GNode *v) {
    const GNode *s = node_storage(v);
    return s->slice_of ? s->slice_of : s;
}

/* Whether v has code of its own that writes its owner's buffer: not an
 * input, an alias, a fused node or a concat whose operands wrote into its
 * slices. */
bool node_has_code(const GNode *v) {
    return v->op != OP_INPUT && !node_is_alias(v) && !v->absorbed_by &&
           !(v->op == OP_CONCAT && (v->sliced || v->view_of));
}

/* pre_mul's operand of one pixel: 0 or 1. */
static int scale_slot(const GNode *m) {
    return m->in[0]->out.d[0] == 1 && m->in[0]->out.d[1] == 1 ? 0 : 1;
}

const GNode *node_read(const GNode *n, int i) {
    if (i == 0 && n->pre_bn) return n->pre_bn->in[0];
    if (i == 0 && n->pre_mul) return n->pre_mul->in[1 - scale_slot(n->pre_mul)];
    return n->in[i];
}

const GNode *node_pre_scale(const GNode *n) {
    return n->pre_mul ? n->pre_mul->in[scale_slot(n->pre_mul)] : NULL;
}

/* The activation v's code applies last: an absorbed activation's, else
 * its own. */
Act node_act(const GNode *v) {
    return v->epi_act != ACT_NONE ? v->epi_act : v->act;
}

/* The activations a convolution's epilogue applies on registers (the
 * runtime's RN_ACT_* codes, which are these Act values): others run as a
 * pass over the output after it. */
bool act_in_epilogue(Act a) {
    return a == ACT_NONE || a == ACT_RELU || a == ACT_RELU6 || a == ACT_SILU ||
           a == ACT_HARD_SWISH;
}
