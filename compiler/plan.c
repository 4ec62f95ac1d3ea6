/* plan.c: one activation arena for the whole model, planned by liveness.
 *
 * Requires: a shaped graph in topological order. Changes: every node's
 * arena_off and last_use, and g->arena_floats.
 *
 * A buffer is born when its node runs and dies after its last reader ran;
 * while a node runs its inputs are still live, so no op ever writes over
 * its own input. Flatten and dropout own no buffer: they alias their
 * input's (the generated code reads the same floats), which stretches that
 * buffer's life to the alias's last reader. Graph inputs stay in the
 * caller's buffer (arena_off = -1), and so do their aliases. Graph outputs
 * live to the end. Placement is first-fit by offset, each buffer aligned
 * to 16 floats (64 bytes) for vector loads. */
#include "rnc.h"

#include <stdlib.h>

enum { ALIGN_FLOATS = 16 };

typedef struct Interval {
    int64_t off, size;
    int end; /* the last step the buffer must survive */
} Interval;

static bool is_alias(const GNode *n) {
    return n->op == OP_FLATTEN || n->op == OP_DROPOUT;
}

/* The node whose buffer n's output lives in. */
static const GNode *owner(const GNode *n) {
    while (is_alias(n)) n = n->in[0];
    return n;
}

static int cmp_off(const void *a, const void *b) {
    const Interval *x = *(Interval *const *)a, *y = *(Interval *const *)b;
    return (x->off > y->off) - (x->off < y->off);
}

void plan_arena(Graph *g) {
    int n = g->nnodes;
    g->arena_floats = 0;
    if (n == 0) return;
    /* end[i]: the last step buffer i (by owner id) must stay live. */
    int *end = calloc((size_t)n, sizeof *end);
    Interval *iv = calloc((size_t)n, sizeof *iv);
    Interval **live = calloc((size_t)n, sizeof *live);
    if (!end || !iv || !live) die("out of memory");

    for (int i = 0; i < n; i++) {
        GNode *v = g->nodes[i];
        if (v->id != i) die("plan_arena: node %d has id %d", i, v->id);
        v->last_use = i;
        end[i] = i;
    }
    for (int i = 0; i < n; i++) {
        GNode *v = g->nodes[i];
        for (int j = 0; j < v->nin; j++) {
            GNode *u = v->in[j];
            if (u->id >= i) die("plan_arena: graph not in topological order");
            if (u->last_use < i) u->last_use = i;
        }
    }
    for (int i = 0; i < g->noutputs; i++) g->outputs[i]->last_use = n;
    for (int i = 0; i < n; i++) {
        const GNode *v = g->nodes[i], *o = owner(v);
        if (end[o->id] < v->last_use) end[o->id] = v->last_use;
    }

    int nlive = 0;
    for (int i = 0; i < n; i++) {
        GNode *v = g->nodes[i];
        const GNode *o = owner(v);
        if (o != v || v->op == OP_INPUT) {
            v->arena_off = o->op == OP_INPUT ? -1 : o->arena_off;
            continue;
        }
        /* Drop buffers that died before this step; inputs of v are live
         * (their end is at least i), so they stay in the list. */
        int k = 0;
        for (int j = 0; j < nlive; j++)
            if (live[j]->end >= i) live[k++] = live[j];
        nlive = k;
        qsort(live, (size_t)nlive, sizeof *live, cmp_off);
        int64_t size = shape_count(&v->out);
        size = (size + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
        int64_t off = 0;
        for (int j = 0; j < nlive; j++) {
            if (live[j]->off - off >= size) break; /* fits in the gap */
            int64_t top = live[j]->off + live[j]->size;
            if (top > off) off = top;
        }
        iv[i] = (Interval){off, size, end[i]};
        live[nlive++] = &iv[i];
        v->arena_off = off;
        if (off + size > g->arena_floats) g->arena_floats = off + size;
    }
    free(live);
    free(iv);
    free(end);
}
