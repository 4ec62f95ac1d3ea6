/* uses.c: what the fusion passes ask of the graph: who reads a value, and
 * which node's code computes it. Quadratic scans: graphs have hundreds of
 * nodes, and the passes run once. */
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

/* The node whose code computes v's value: v, or the node that absorbed it. */
GNode *pass_exec(GNode *v) {
    while (v->absorbed_by) v = v->absorbed_by;
    return v;
}
