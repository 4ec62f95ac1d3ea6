/* stubs_front.c: placeholders until the front end lands (delete then). */
#include "rnc.h"

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
