/* emit_c.h: what the code generator's files share (emit_c.c: the layers;
 * emit_simple.c: the simple layers; emit_api.c: the instance, API and
 * main; emit_inspect.c: the layer table and hook; emit_standalone.c: the
 * self-contained file). They print the steps of lower.c and read no fusion
 * mark. Private to the code generator; its entry point, emit_c(), is
 * declared in rnc.h. */
#ifndef EMIT_C_H
#define EMIT_C_H
#include "rnc.h"

typedef struct Emitter {
    Graph *g;
    const Lower *L;
    const EmitOptions *o;
    Buf *c, *h;
    const char *name;     /* the model's C prefix */
    const char **fn;      /* by step: its layer function */
    bool pool;            /* a thread pool: some step splits (not in a
                             static-memory build: one thread) */
    size_t lines_at;      /* emit_inspect.c: newlines of c counted up to */
    int lines;            /* lines_at */
} Emitter;

/* emit_c.c: the Emitter of a graph (its Lower and names), and the steps'
 * functions */
void emit_init(Emitter *e, Graph *g, const EmitOptions *o, Buf *c, Buf *h);
void emit_layers(Emitter *e);

/* emit_text.c: pieces of text */
const char *emit_float(Emitter *e, double v);
const char *emit_safe(Emitter *e, const char *s, bool ident);
const char *emit_comment(Emitter *e, const char *s); /* safe inside a comment */
const char *emit_string(Emitter *e, const char *s);  /* a C string literal */
const char *emit_place(Emitter *e, Place p);       /* its C expression */
const char *emit_tensor(Emitter *e, int t);        /* m->w[t] or a null pointer */
const char *emit_bias(Emitter *e, const Step *s);  /* folded or its own */

/* emit_simple.c: the layer function of a STEP_SIMPLE step. */
void emit_simple_layer(Emitter *e, const Step *s, const char *fn);

/* emit_api.c */
void emit_header(Emitter *e, Buf *h);   /* model.h */
void emit_banner(Emitter *e);          /* the comment that opens model.c */
void emit_prologue(Emitter *e);         /* banner, includes, struct, tables */
void emit_api(Emitter *e);              /* load, run, free, main */
void emit_text(Emitter *e, const char *text); /* "M_" made the prefix */

/* emit_io.c */
void emit_io(Emitter *e);               /* main()'s images and labels */
bool emit_image_input(const GNode *n);  /* [H, W, 3] or [H, W, 1] */

/* emit_inspect.c: the layer table and per-layer hook (see there), and
 * #line directives */
void emit_inspect_decls(Emitter *e, Buf *b);   /* M_NUM_LAYERS, M_layers, M_set_hook */
void emit_inspect_table(Emitter *e);           /* their definitions */
void emit_inspect_start(Emitter *e);           /* run_v: the hook as a run starts */
void emit_inspect_after(Emitter *e, int node); /* run_v: the hook once node is done */
/* With o->line_directives: the text of c from `from` (node n's functions)
 * gets #line directives naming n's line of the .rn, then one back to
 * o->c_path. */
void emit_line_directives(Emitter *e, size_t from, const GNode *n);

#endif
