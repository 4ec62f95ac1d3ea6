/* ast.c: the one constructor of Ast nodes (the grammar builds the rest). */
#include "rnc.h"

Ast *ast_new(Arena *a, AstKind kind, Loc loc) {
    Ast *n = arena_alloc(a, sizeof *n);
    n->kind = kind;
    n->loc = loc;
    return n;
}
