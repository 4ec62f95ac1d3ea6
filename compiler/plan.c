/* plan.c: one activation arena for the whole model, planned by liveness.
 *
 * Requires: a shaped graph in topological order, after the fusion passes
 * (or none). Changes: every node's arena_off and last_use, and
 * g->arena_floats.
 *
 * The plan works on buffers and steps. A node's value lives in its
 * owner's buffer (node_owner, passes/uses.c: flatten, dropout, reshape and
 * a folded zeropad alias their input's, a node absorbed by a fusion is
 * computed by (and lives in) its absorber's, and a conv that writes a
 * concat slice lives in the concat's). A node's step is when its code runs
 * (node_exec): an absorbed node runs at its absorber's step, so a fused
 * residual operand is live while the conv runs. A buffer is born at the
 * first step that writes it (for a sliced concat, its first producer) and
 * dies after the last step that reads it; while a step runs its inputs are
 * live, so no code ever writes over its own input. Graph inputs stay in the
 * caller's buffer (arena_off = -1), and so do their aliases. Graph outputs
 * live to the end. A slice's arena_off is its concat's (the code adds the
 * channel offset). A node with scratch (a separable conv's depthwise
 * result) has it after its output, in the same buffer. Placement is
 * first-fit by offset, each buffer aligned to 16 floats (64 bytes) for
 * vector loads; but a conv whose fused residual add reads a buffer of its
 * size for the last time writes over it (over_residual: ResNet-50's
 * bottlenecks 10% faster than with a third stream of memory). */
#include "rnc.h"

#include <limits.h>
#include <stdlib.h>

enum { ALIGN_FLOATS = 16 };

typedef struct Interval {
    int64_t off, size;
    int end; /* the last step the buffer must survive */
} Interval;

static int64_t aligned(int64_t floats) {
    return (floats + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
}

int64_t plan_floats(const GNode *n) {
    return aligned(shape_count(&n->out)) + aligned(n->scratch);
}

int64_t plan_scratch_offset(const GNode *n) {
    return n->arena_off + aligned(shape_count(&n->out));
}

/* Whether conv v, whose code runs at step t, writes its output over its
 * fused residual's buffer r (an in-place add: the kernels read each
 * residual value just before they write the output value over it): r
 * dies at this step, has v's size, and is not what v reads otherwise. */
static bool over_residual(const GNode *v, const GNode *r, int t, const int *birth,
                          const int *end, const Interval *iv) {
    if (!r || r == v || r->op == OP_INPUT || birth[r->id] >= t || end[r->id] != t ||
        iv[r->id].size != plan_floats(v))
        return false;
    for (int j = 0; j < v->nin; j++)
        if (node_owner(node_read(v, j)) == r) return false;
    const GNode *s = node_pre_scale(v);
    return !s || node_owner(s) != r;
}

static int cmp_off(const void *a, const void *b) {
    const Interval *x = *(Interval *const *)a, *y = *(Interval *const *)b;
    return (x->off > y->off) - (x->off < y->off);
}

void plan_arena(Graph *g) {
    int n = g->nnodes;
    g->arena_floats = 0;
    g->bufs = NULL;
    g->nbufs = 0;
    if (n == 0) return;
    /* by owner id: the first step that writes it, the last that reads it */
    int *birth = calloc((size_t)n, sizeof *birth);
    int *end = calloc((size_t)n, sizeof *end);
    Interval *iv = calloc((size_t)n, sizeof *iv);
    Interval **live = calloc((size_t)n, sizeof *live);
    if (!birth || !end || !iv || !live) die("out of memory");

    for (int i = 0; i < n; i++) {
        GNode *v = g->nodes[i];
        if (v->id != i) die("plan_arena: node %d has id %d", i, v->id);
        v->last_use = i;
        birth[i] = INT_MAX;
        end[i] = i;
    }
    for (int i = 0; i < n; i++) {
        GNode *v = g->nodes[i];
        for (int j = 0; j < v->nin; j++) {
            GNode *u = v->in[j];
            if (u->id >= i) die("plan_arena: graph not in topological order");
            if (u->last_use < i) u->last_use = i;
            int o = node_owner(u)->id, s = node_exec(v)->id;
            if (end[o] < s) end[o] = s;
        }
        if (node_has_code(v)) {
            int o = node_owner(v)->id;
            if (birth[o] > node_exec(v)->id) birth[o] = node_exec(v)->id;
        }
    }
    for (int i = 0; i < g->noutputs; i++) {
        g->outputs[i]->last_use = n;
        end[node_owner(g->outputs[i])->id] = n;
    }

    /* Buffers are placed in the order they are born (then by id): a
     * counting sort by birth step keeps this linear in the graph's size. */
    int *first = calloc((size_t)n + 1, sizeof *first);
    int *order = calloc((size_t)n, sizeof *order);
    if (!first || !order) die("out of memory");
    int nborn = 0;
    for (int i = 0; i < n; i++)
        if (birth[i] < n && node_owner(g->nodes[i]) == g->nodes[i] &&
            g->nodes[i]->op != OP_INPUT)
            first[birth[i] + 1]++, nborn++;
    for (int t = 0; t < n; t++) first[t + 1] += first[t];
    for (int i = 0; i < n; i++)
        if (birth[i] < n && node_owner(g->nodes[i]) == g->nodes[i] &&
            g->nodes[i]->op != OP_INPUT)
            order[first[birth[i]]++] = i;
    /* the placed buffers, kept for the memory table (memory.c) */
    g->bufs = arena_alloc(g->arena, sizeof *g->bufs * (size_t)(nborn + 1));
    g->nbufs = nborn;
    int nlive = 0;
    for (int b = 0; b < nborn; b++) {
        int i = order[b], t = birth[i];
        GNode *v = g->nodes[i];
        /* Drop buffers that died before this step; inputs of the step
         * are live (their end is at least t), so they stay. */
        int k = 0;
        for (int j = 0; j < nlive; j++)
            if (live[j]->end >= t) live[k++] = live[j];
        nlive = k;
        qsort(live, (size_t)nlive, sizeof *live, cmp_off);
        int64_t size = plan_floats(v);
        int64_t off = 0;
        const GNode *r = v->residual ? node_owner(v->residual) : NULL;
        if (over_residual(v, r, t, birth, end, iv))
            off = iv[r->id].off;
        else
            for (int j = 0; j < nlive; j++) {
                if (live[j]->off - off >= size) break; /* fits in the gap */
                int64_t top = live[j]->off + live[j]->size;
                if (top > off) off = top;
            }
        iv[i] = (Interval){off, size, end[i]};
        live[nlive++] = &iv[i];
        v->arena_off = off;
        g->bufs[b] = (PlanBuf){v, off, size, t, end[i]};
        if (off + size > g->arena_floats) g->arena_floats = off + size;
    }
    for (int i = 0; i < n; i++) {
        GNode *v = g->nodes[i];
        const GNode *o = node_owner(v);
        if (o->op == OP_INPUT) v->arena_off = -1;
        else if (o != v) v->arena_off = o->arena_off;
    }
    free(order);
    free(first);
    free(live);
    free(iv);
    free(end);
    free(birth);
}
