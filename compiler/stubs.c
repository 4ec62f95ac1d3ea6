/* stubs.c: placeholders for stages not written yet. Each helper deletes the
 * stub of the function it implements. */
#include "rnc.h"

const OpInfo op_info[OP__COUNT] = {
#define X(id, op, base, cls) {op, base, cls},
    RN_OPS(X)
#undef X
};
const char *const act_names[] = {"none", "relu", "relu6", "sigmoid", "tanh", "softmax"};

void diag_init(Diag *d, const Source *src, FILE *out) { d->src = src; d->out = out; d->nerrors = 0; d->max_errors = 20; }
void diag_error(Diag *d, Loc loc, const char *fmt, ...) {
    va_list ap; va_start(ap, fmt);
    fprintf(d->out, "%s:%d:%d: error: ", d->src->path, loc.line, loc.col);
    vfprintf(d->out, fmt, ap); fputc('\n', d->out); va_end(ap); d->nerrors++;
}
void diag_note(Diag *d, Loc loc, const char *fmt, ...) { (void)d; (void)loc; (void)fmt; }
const char *did_you_mean(const char *w, const char *const *c) { (void)w; (void)c; return NULL; }
Ast *ast_new(Arena *a, AstKind kind, Loc loc) { Ast *n = arena_alloc(a, sizeof *n); n->kind = kind; n->loc = loc; return n; }
Graph *elaborate(Ast *p, const char *n, Arena *a, Diag *d) { (void)p; (void)n; (void)a; (void)d; return NULL; }
bool shape_infer(GNode *n, char *e, size_t l) { (void)n; (void)e; (void)l; return false; }
void shape_format(const Shape *s, char *o, size_t l) { (void)s; (void)o; (void)l; }
int64_t shape_count(const Shape *s) { (void)s; return 0; }
int node_weights(const GNode *n, WeightSpec o[4]) { (void)n; (void)o; return 0; }
Totals graph_totals(const Graph *g) { (void)g; Totals t = {0}; return t; }
void plan_arena(Graph *g) { (void)g; }
void summary_print(FILE *o, Graph *g, bool e) { (void)o; (void)g; (void)e; }
void dot_print(FILE *o, const Graph *g) { (void)o; (void)g; }
void emit_c(Graph *g, const EmitOptions *o, Buf *c, Buf *h) { (void)g; (void)o; (void)c; (void)h; }
int weights_init(const Graph *g, const char *p, uint64_t s, bool r, char *e, size_t l) { (void)g; (void)p; (void)s; (void)r; (void)e; (void)l; return -1; }
int jit_run(Graph *g, const JitOptions *o, const char *s) { (void)g; (void)o; (void)s; return 1; }
