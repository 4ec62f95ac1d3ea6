/* emit_inspect.c: what the generated code offers for looking inside it:
 * the table of its layers (rnrt.h's rn_layer: the summary's rows, the
 * nodes in graph order then one row per `layer` instance), the per-layer
 * hook that --trace and --profile set (M_set_hook), and the #line
 * directives that point a layer's C back into the .rn.
 *
 * Requires: the Emitter of emit_c.c (shapes, fusion marks, the plan).
 * Changes nothing in the graph.
 *
 * The hook is one pointer in the instance, NULL unless set: a run then
 * pays one test of it per row. When set, it is called with -1 as the run
 * starts and with row i once row i's value is complete: after its code,
 * or (no code of its own) at its place in the graph order. It is given
 * the row's own value only when this build keeps it whole: not for a node
 * whose code also runs a fused batch norm, add or activation (the buffer
 * then holds the last fused node's value), nor for a fused node before the
 * last of its chain, a conv writing a concat's slice or a folded zero
 * padding. `rnc --run --trace` compiles without the fusion passes, so that
 * every row has its own value there. */
#include "emit_c.h"

#include <stdlib.h>
#include <string.h>

/* The row of the node whose code computes n: n, its absorber, or -1 (an
 * input, an alias, a sliced concat, a folded zero padding). */
static int code_row(const GNode *n) {
    if (n->absorbed_by) {
        while (n->absorbed_by) n = n->absorbed_by;
        return n->id;
    }
    return emit_has_code(n) ? n->id : -1;
}

/* What the rows need, computed once in linear time: by node id, the last
 * node of the fused chain its code runs; the `layer` instances each node
 * ends (a list through next_group) and their MACs. */
typedef struct EmitInspect {
    int *last_fused;  /* by node id: the highest id its code runs */
    int *first_group; /* by node id: a group whose result it is, or -1 */
    int *next_group;  /* by group: the next with the same result, or -1 */
    int64_t *group_macs;
} EmitInspect;

typedef struct GroupAt {
    const Group *group;
    int index;
} GroupAt;

static int by_address(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const GroupAt *)a)->group;
    uintptr_t y = (uintptr_t)((const GroupAt *)b)->group;
    return (x > y) - (x < y);
}

static EmitInspect *inspect_info(Emitter *e) {
    if (e->insp) return e->insp;
    Graph *g = e->g;
    Arena *a = g->arena;
    EmitInspect *in = arena_alloc(a, sizeof *in);
    in->last_fused = arena_alloc(a, sizeof(int) * (size_t)(g->nnodes + 1));
    in->first_group = arena_alloc(a, sizeof(int) * (size_t)(g->nnodes + 1));
    in->next_group = arena_alloc(a, sizeof(int) * (size_t)(g->ngroups + 1));
    in->group_macs = arena_alloc(a, sizeof(int64_t) * (size_t)(g->ngroups + 1));
    for (int i = 0; i < g->nnodes; i++) {
        in->last_fused[i] = i;
        in->first_group[i] = -1;
    }
    for (int i = 0; i < g->nnodes; i++) {
        int exec = code_row(g->nodes[i]);
        if (exec >= 0 && i > in->last_fused[exec]) in->last_fused[exec] = i;
    }
    for (int k = g->ngroups - 1; k >= 0; k--) {
        int r = g->groups[k]->result->id;
        in->next_group[k] = in->first_group[r];
        in->first_group[r] = k;
    }
    /* each node's MACs count in every group around it: the groups sorted
     * by address, so that a node finds its groups' indices */
    GroupAt *by = arena_alloc(a, sizeof *by * (size_t)(g->ngroups + 1));
    for (int k = 0; k < g->ngroups; k++) by[k] = (GroupAt){g->groups[k], k};
    qsort(by, (size_t)g->ngroups, sizeof *by, by_address);
    for (int i = 0; i < g->nnodes; i++)
        for (const Group *q = g->nodes[i]->group; q; q = q->parent) {
            GroupAt key = {q, 0}, *hit = bsearch(&key, by, (size_t)g->ngroups,
                                                 sizeof *by, by_address);
            if (!hit) die("emit: a node's group is not in the graph");
            in->group_macs[hit->index] += g->nodes[i]->macs;
        }
    e->insp = in;
    return in;
}

/* Whether the buffer of n holds n's own value, whole, once n's row is
 * complete: the last node of a fused chain is the one with the highest id
 * among those its absorber's code runs. */
static bool own_value(Emitter *e, const GNode *n) {
    if (n->pad_folded || n->slice_of) return false;
    if (n->op == OP_FLATTEN || n->op == OP_DROPOUT) return own_value(e, n->in[0]);
    if (n->op == OP_INPUT) return true;
    int exec = code_row(n);
    if (exec < 0) return true; /* a sliced concat, complete after its operands */
    if (e->g->nodes[exec]->slice_of) return false;
    return inspect_info(e)->last_fused[exec] == n->id;
}

static int64_t nrows(const Graph *g) { return g->nnodes + g->ngroups; }

void emit_inspect_decls(Emitter *e, Buf *b) {
    const char *M = e->name;
    buf_printf(b, "\n/* Looking inside (rnrt.h: rn_layer, rn_hook): the summary's "
               "rows, the layers in\n * graph order then one row per `layer` "
               "instance; a hook called after each\n * row during a run "
               "(NULL: none). */\n");
    buf_printf(b, "#define %s_NUM_LAYERS %lld\n", M, (long long)nrows(e->g));
    buf_printf(b, "struct rn_layer;\nconst struct rn_layer *%s_layers(void);\n", M);
    buf_printf(b, "void %s_set_hook(%s *m, void (*hook)(void *ctx, int layer, "
               "const float *value),\n    void *ctx);\n", M, M);
}

static void table_row(Emitter *e, const GNode *shape_of, const char *path,
                      const char *klass, int64_t macs, int code) {
    const Shape *s = &shape_of->out;
    buf_printf(e->c, "    {%s, %s, %d, {", emit_string(e, path), emit_string(e, klass),
               s->rank);
    for (int i = 0; i < s->rank; i++)
        buf_printf(e->c, "%s%lld", i ? ", " : "", (long long)s->d[i]);
    buf_printf(e->c, "}, %lld, %d},\n", (long long)macs, code);
}

void emit_inspect_table(Emitter *e) {
    const char *M = e->name;
    Graph *g = e->g;
    buf_printf(e->c, "\n/* The rows of the summary: name, class, shape, MACs, the row "
               "whose code\n * computes it (-1: none of its own). */\n");
    buf_printf(e->c, "static const rn_layer %s_layer_table[%lld] = {\n", M,
               (long long)nrows(g));
    for (int i = 0; i < g->nnodes; i++) {
        const GNode *n = g->nodes[i];
        table_row(e, n, n->path, op_info[n->op].klass, n->macs, code_row(n));
    }
    for (int k = 0; k < g->ngroups; k++)
        table_row(e, g->groups[k]->result, g->groups[k]->path, g->groups[k]->klass,
                  inspect_info(e)->group_macs[k], -1);
    buf_printf(e->c, "};\n\nconst struct rn_layer *%s_layers(void) {\n"
               "    return %s_layer_table;\n}\n", M, M);
    buf_printf(e->c, "\nvoid %s_set_hook(%s *m, rn_hook hook, void *ctx) {\n"
               "    m->hook = hook;\n    m->hook_ctx = ctx;\n}\n", M, M);
}

void emit_inspect_start(Emitter *e) {
    buf_printf(e->c, "    if (m->hook) m->hook(m->hook_ctx, -1, 0);\n");
}

void emit_inspect_after(Emitter *e, GNode *n) {
    Graph *g = e->g;
    const char *v = own_value(e, n) ? emit_data(e, n) : "0";
    buf_printf(e->c, "    if (m->hook) m->hook(m->hook_ctx, %d, %s);\n", n->id, v);
    for (int k = inspect_info(e)->first_group[n->id]; k >= 0;
         k = inspect_info(e)->next_group[k])
        buf_printf(e->c, "    if (m->hook) m->hook(m->hook_ctx, %d, %s); /* %s */\n",
                   g->nnodes + k, v, emit_comment(e, g->groups[k]->path));
}

/* Newlines of e->c before pos, counted on from where the last call
 * stopped (pos never goes back past it). */
static int lines_before(Emitter *e, size_t pos) {
    for (; e->lines_at < pos; e->lines_at++) e->lines += e->c->data[e->lines_at] == '\n';
    return e->lines;
}

void emit_line_directives(Emitter *e, size_t from, const GNode *n) {
    Buf *c = e->c;
    if (!e->o->line_directives || n->loc.line <= 0 || from >= c->len) return;
    lines_before(e, from); /* the layer's text is about to change */
    size_t len = c->len - from;
    char *text = arena_strndup(e->g->arena, c->data + from, len);
    const char *src = emit_string(e, e->o->src_path ? e->o->src_path : "model.rn");
    c->len = from;
    /* every line of the layer's functions is the layer's line in the .rn;
     * comment lines stay as they are */
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t k = nl ? (size_t)(nl - p) + 1 : strlen(p);
        const char *q = p;
        while (*q == ' ') q++;
        bool comment = q[0] == '/' || q[0] == '*' || q[0] == '\n';
        if (!comment) buf_printf(c, "#line %d %s\n", n->loc.line, src);
        buf_append(c, p, k);
        p += k;
    }
    /* back to the generated file for what follows */
    /* the directive is on line L + 1, so the line after it is L + 2 */
    buf_printf(c, "#line %d %s\n", lines_before(e, c->len) + 2,
               emit_string(e, e->o->c_path ? e->o->c_path : "model.c"));
}
