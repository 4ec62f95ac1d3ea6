/* stubs_emit.c: placeholder until the code generator lands. */
#include "rnc.h"

void emit_c(Graph *g, const EmitOptions *o, Buf *c, Buf *h) { (void)g; (void)o; (void)c; (void)h; }
