/* emit_inspect.c: what the generated code offers for looking inside it:
 * the table of its layers (rnrt.h's rn_layer: the summary's rows, the
 * nodes in graph order then one row per `layer` instance), the per-layer
 * hook that --trace and --profile set (M_set_hook), and the #line
 * directives that point a layer's C back into the .rn.
 *
 * Requires: the Emitter of emit_c.c and its rows (lower.c: which step
 * computes each row, whether its own value is whole). Changes nothing in
 * the graph.
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

#include <string.h>

void emit_inspect_decls(Emitter *e, Buf *b) {
    const char *M = e->name;
    buf_printf(b, "\n/* Looking inside (rnrt.h: rn_layer, rn_hook): the summary's "
               "rows, the layers in\n * graph order then one row per `layer` "
               "instance; a hook called after each\n * row during a run "
               "(NULL: none). */\n");
    buf_printf(b, "#define %s_NUM_LAYERS %d\n", M, e->L->nrows);
    buf_printf(b, "struct rn_layer;\nconst struct rn_layer *%s_layers(void);\n", M);
    buf_printf(b, "void %s_set_hook(%s *m, void (*hook)(void *ctx, int layer, "
               "const float *value),\n    void *ctx);\n", M, M);
}

static void table_row(Emitter *e, const Row *r) {
    const Shape *s = &r->node->out;
    buf_printf(e->c, "    {%s, %s, %d, {", emit_string(e, r->name), emit_string(e, r->klass),
               s->rank);
    for (int i = 0; i < s->rank; i++)
        buf_printf(e->c, "%s%lld", i ? ", " : "", (long long)s->d[i]);
    buf_printf(e->c, "}, %lld, %d},\n", (long long)r->macs, r->code);
}

void emit_inspect_table(Emitter *e) {
    const char *M = e->name;
    buf_printf(e->c, "\n/* The rows of the summary: name, class, shape, MACs, the row "
               "whose code\n * computes it (-1: none of its own). */\n");
    buf_printf(e->c, "static const rn_layer %s_layer_table[%d] = {\n", M, e->L->nrows);
    for (int i = 0; i < e->L->nrows; i++) table_row(e, &e->L->rows[i]);
    buf_printf(e->c, "};\n\nconst struct rn_layer *%s_layers(void) {\n"
               "    return %s_layer_table;\n}\n", M, M);
    buf_printf(e->c, "\nvoid %s_set_hook(%s *m, rn_hook hook, void *ctx) {\n"
               "    m->hook = hook;\n    m->hook_ctx = ctx;\n}\n", M, M);
}

void emit_inspect_start(Emitter *e) {
    buf_printf(e->c, "    if (m->hook) m->hook(m->hook_ctx, -1, 0);\n");
}

/* The hook for the rows complete at node's place in the run: its own, then
 * the `layer` instances it is the result of. */
void emit_inspect_after(Emitter *e, int node) {
    const Lower *L = e->L;
    for (int i = node; i < L->nrows; i = i < L->g->nnodes ? L->g->nnodes : i + 1) {
        const Row *r = &L->rows[i];
        if (r->after != node) continue;
        const char *v = r->whole ? emit_place(e, r->value) : "0";
        if (r->kind == ROW_GROUP)
            buf_printf(e->c, "    if (m->hook) m->hook(m->hook_ctx, %d, %s); /* %s */\n", i,
                       v, emit_comment(e, r->name));
        else
            buf_printf(e->c, "    if (m->hook) m->hook(m->hook_ctx, %d, %s);\n", i, v);
    }
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
