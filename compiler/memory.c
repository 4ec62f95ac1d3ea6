/* memory.c: `rnc --memory`, the activation arena step by step, and the
 * --max-arena / --max-weights limits.
 *
 * Requires: a shaped and planned graph (plan.c). Changes nothing.
 *
 * Nothing here recomputes liveness: the table reads the buffers that
 * plan_arena placed (g->bufs: owner, offset, size, the steps from its
 * birth to its end), so the bytes are those of the arena the generated
 * code allocates. A step is a node whose code runs (node_has_code); during
 * step t the live buffers are those with birth <= t <= end, and the arena's
 * top is the highest byte any of them reaches. The peak is the first step
 * whose top is the whole arena. */
#include "rnc.h"

#include <string.h>

/* The bytes of n's weights in the safetensors file (float32). */
static int64_t weight_bytes(const GNode *n) {
    WeightSpec ws[4];
    int k = node_weights(n, ws);
    int64_t bytes = 0;
    for (int i = 0; i < k; i++) {
        int64_t c = 1;
        for (int j = 0; j < ws[i].rank; j++) c *= ws[i].dims[j];
        bytes += 4 * c;
    }
    return bytes;
}

/* A walk over the steps in order, keeping the buffers live at the
 * current one: g->bufs are in birth order, so each buffer is added once
 * and dropped once (linear in the graph, times the buffers live at once). */
typedef struct Sweep {
    const Graph *g;
    int next;       /* the next buffer of g->bufs to be born */
    int *live;      /* indices into g->bufs */
    int nlive;
    int64_t sum, top; /* floats of the live buffers; the highest they reach */
} Sweep;

static void sweep_init(Sweep *s, const Graph *g, Arena *a) {
    *s = (Sweep){.g = g};
    s->live = arena_alloc(a, sizeof *s->live * (size_t)(g->nbufs + 1));
}

/* Moves to step t (never back). */
static void sweep_to(Sweep *s, int t) {
    const PlanBuf *b = s->g->bufs;
    while (s->next < s->g->nbufs && b[s->next].birth <= t) s->live[s->nlive++] = s->next++;
    int k = 0;
    s->sum = s->top = 0;
    for (int j = 0; j < s->nlive; j++) {
        const PlanBuf *p = &b[s->live[j]];
        if (p->end < t) continue;
        s->live[k++] = s->live[j];
        s->sum += p->size;
        if (p->off + p->size > s->top) s->top = p->off + p->size;
    }
    s->nlive = k;
}

/* The live buffers as "NAME, ..." or "NAME (BYTES bytes at OFFSET), ...". */
static const char *live_list(const Sweep *s, Arena *a, bool bytes) {
    Buf b = {0};
    for (int k = 0; k < s->nlive; k++) {
        const PlanBuf *p = &s->g->bufs[s->live[k]];
        if (bytes)
            buf_printf(&b, "%s%s (%s bytes at %s)", b.len ? ", " : "",
                       p->owner->path, arena_thousands(a, 4 * p->size),
                       arena_thousands(a, 4 * p->off));
        else
            buf_printf(&b, "%s%s", b.len ? ", " : "", p->owner->path);
    }
    const char *r = arena_strdup(a, b.data ? b.data : "");
    buf_free(&b);
    return r;
}

/* The step at the peak: the first whose top is the whole arena (-1 when
 * the arena is empty), with the live buffers there in *at. */
static int peak_step(const Graph *g, Arena *a, Sweep *at) {
    sweep_init(at, g, a);
    for (int i = 0; i < g->nnodes; i++) {
        if (!node_has_code(g->nodes[i])) continue;
        sweep_to(at, i);
        if (at->top == g->arena_floats && at->top > 0) return i;
    }
    return -1;
}

/* Where a node without a buffer of its own keeps its value. */
static const char *where(const Graph *g, Arena *a, const GNode *n) {
    const GNode *o = node_owner(n);
    if (o->op == OP_INPUT) return "caller's input";
    if (n->absorbed_by) return arena_printf(a, "fused into %s", n->absorbed_by->path);
    if (n->slice_of)
        return arena_printf(a, "slice of %s", n->slice_of->path);
    if (n->view_of) /* concat_slices.c: its first channels, strided */
        return arena_printf(a, "first channels of %s", n->view_of->path);
    if (o != n) return arena_printf(a, "alias of %s", o->path);
    (void)g;
    return "";
}

/* One row of the table, its fields as text. */
typedef struct MemRow {
    const char *title, *buf, *weights, *live, *top, *names;
    bool peak;
} MemRow;

static void rule(Buf *b, char c, int n) {
    for (int i = 0; i < n; i++) buf_append(b, &c, 1);
    buf_append(b, "\n", 1);
}

void memory_print(FILE *out, const Graph *g) {
    Arena *a = arena_new();
    Buf b = {0};
    Sweep at_peak, sw;
    int peak = peak_step(g, a, &at_peak);
    sweep_init(&sw, g, a);
    MemRow *rows = arena_alloc(a, sizeof *rows * (size_t)(g->nnodes + 1));
    int wt = (int)strlen("Layer (type)"), wb = (int)strlen("Buffer");
    int64_t peak_live = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const GNode *n = g->nodes[i];
        MemRow *r = &rows[i];
        r->title = arena_printf(a, "%s (%s)", n->path, op_info[n->op].klass);
        r->buf = node_owner(n) == n && n->op != OP_INPUT
                     ? arena_thousands(a, 4 * shape_count(&n->out)) : where(g, a, n);
        r->weights = arena_thousands(a, weight_bytes(n));
        r->live = r->top = "-";
        r->names = "";
        if (node_has_code(n)) {
            sweep_to(&sw, i);
            if (sw.sum > peak_live) peak_live = sw.sum;
            r->live = arena_thousands(a, 4 * sw.sum);
            r->top = arena_thousands(a, 4 * sw.top);
            r->names = live_list(&sw, a, false);
            r->peak = i == peak;
        }
        if ((int)strlen(r->title) > wt) wt = (int)strlen(r->title);
        if ((int)strlen(r->buf) > wb) wb = (int)strlen(r->buf);
    }
    if (wt > 60) wt = 60;
    int line = wt + wb + 44;
    buf_printf(&b, "Memory plan of \"%s\": the activation arena step by step, in bytes.\n"
               "Buffer: the layer's output in the arena; Live: the buffers kept "
               "while it runs;\nTop: the highest arena byte they reach; "
               "*: the peak.\n", g->name);
    rule(&b, '_', line);
    buf_printf(&b, " %-*s  %-*s %10s %12s %12s  %s\n", wt, "Layer (type)", wb,
               "Buffer", "Weights", "Live", "Top", "Live buffers");
    rule(&b, '=', line);
    for (int i = 0; i < g->nnodes; i++) {
        const MemRow *r = &rows[i];
        buf_printf(&b, "%c%-*s  %-*s %10s %12s %12s  %s\n", r->peak ? '*' : ' ', wt,
                   r->title, wb, r->buf, r->weights, r->live, r->top, r->names);
    }
    rule(&b, '=', line);
    Totals t = graph_totals(g);
    if (peak >= 0)
        buf_printf(&b, "Peak: while %s (%s) runs: %s\n", g->nodes[peak]->path,
                   op_info[g->nodes[peak]->op].klass, live_list(&at_peak, a, true));
    buf_printf(&b, "Most bytes live at once: %s (buffers start on 64-byte "
               "boundaries)\n", arena_thousands(a, 4 * peak_live));
    int64_t in = 0, outb = 0;
    for (int i = 0; i < g->ninputs; i++) in += 4 * shape_count(&g->inputs[i]->out);
    for (int i = 0; i < g->noutputs; i++) outb += 4 * shape_count(&g->outputs[i]->out);
    buf_printf(&b, "Inputs and outputs (the caller's buffers): %s and %s bytes\n",
               arena_thousands(a, in), arena_thousands(a, outb));
    buf_printf(&b, "Weights (float32): %s bytes (%.2f MiB)\n", arena_thousands(a, t.weight_bytes),
               (double)t.weight_bytes / (1024.0 * 1024.0));
    buf_printf(&b, "Activation arena: %s bytes (%.2f MiB)\n",
               arena_thousands(a, 4 * g->arena_floats),
               (double)g->arena_floats * 4 / (1024.0 * 1024.0));
    fwrite(b.data, 1, b.len, out);
    buf_free(&b);
    arena_free(a);
}

bool memory_parse_bytes(const char *s, int64_t *out) {
    int64_t v = 0;
    const char *p = s;
    if (!s || *s < '0' || *s > '9') return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - 9) / 10) return false;
        v = v * 10 + (*p - '0');
    }
    int shift = 0;
    switch (*p) {
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    default: break;
    }
    if (*p || v > (INT64_MAX >> shift)) return false;
    *out = v << shift;
    return true;
}

/* A layer inside a block or `layer`: where the model calls it. */
static void call_site(Diag *d, const GNode *n) {
    if (n->site.line && n->site.line != n->loc.line)
        diag_note(d, n->site, "%s is made by this call", n->path);
}

bool memory_check_limits(const Graph *g, int64_t max_arena,
                         int64_t max_weights, Diag *d) {
    Arena *a = arena_new();
    bool ok = true;
    int64_t arena = 4 * g->arena_floats;
    if (max_arena >= 0 && arena > max_arena) {
        Sweep at;
        int peak = peak_step(g, a, &at);
        const GNode *n = g->nodes[peak < 0 ? 0 : peak];
        diag_error(d, n->loc, "the activation arena needs %s bytes, over "
                   "--max-arena %s; its peak is at layer %s (%s)",
                   arena_thousands(a, arena), arena_thousands(a, max_arena), n->path,
                   op_info[n->op].klass);
        call_site(d, n);
        if (peak >= 0)
            diag_note(d, (Loc){0, 0}, "alive while %s runs: %s", n->path,
                      live_list(&at, a, true));
        ok = false;
    }
    Totals t = graph_totals(g);
    if (max_weights >= 0 && t.weight_bytes > max_weights) {
        /* the heaviest layer carries the location */
        const GNode *big = NULL;
        for (int i = 0; i < g->nnodes; i++)
            if (!big || weight_bytes(g->nodes[i]) > weight_bytes(big)) big = g->nodes[i];
        diag_error(d, big->loc, "the weights need %s bytes, over --max-weights "
                   "%s; the largest are %s's (%s bytes)",
                   arena_thousands(a, t.weight_bytes), arena_thousands(a, max_weights),
                   big->path, arena_thousands(a, weight_bytes(big)));
        call_site(d, big);
        ok = false;
    }
    arena_free(a);
    return ok;
}
