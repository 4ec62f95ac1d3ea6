/* emit_c.h: what emit_c.c (layers) and emit_api.c (instance, API, main)
 * share. Private to the code generator; the stage's entry point, emit_c(),
 * is declared in rnc.h. */
#ifndef EMIT_C_H
#define EMIT_C_H
#include "rnc.h"

/* One weight tensor of the model: m->w[index] at run time. */
typedef struct EmitTensor {
    const GNode *node;
    const char *suffix; /* "kernel", "bias", ... */
    const char *name;   /* "PATH.suffix", as in the safetensors file */
    int rank;
    int64_t dims[4];
} EmitTensor;

typedef struct Emitter {
    Graph *g;
    const EmitOptions *o;
    Buf *c, *h;
    const char *name;     /* the model's C prefix */
    EmitTensor *tensors;  /* in node order, then node_weights order */
    int ntensors;
    int *wfirst;          /* by node id: its first tensor's index */
    int *bnidx;           /* by node id: batchnorm's folded slot, or -1 */
    int nbn;
    const char **fn;      /* by node position: its layer function or NULL */
    /* convolutions (rn_conv) and what the load prepares, by node id (-1:
     * none): the M_convs literal, the M_preps entry (packing, batchnorm
     * folding), the first packed-weights slot m->pk (one per group) and
     * the folded-bias slot m->fb */
    int *conv, *prep, *pk, *fb;
    int nconv, nprep, npk, nfb;
    struct EmitInspect *insp; /* emit_inspect.c's tables, made on first use */
    size_t lines_at;      /* emit_inspect.c: newlines of c counted up to */
    int lines;            /* lines_at */
    int *deconv;          /* by node id: its M_deconvs entry, or -1 */
    int ndeconv;
} Emitter;

/* emit_c.c */
const char *emit_float(Emitter *e, double v);
const char *emit_safe(Emitter *e, const char *s, bool ident);
GNode *emit_storage(GNode *n);
const char *emit_data(Emitter *e, GNode *n);
int emit_weight(Emitter *e, const GNode *n, const char *suffix);
bool emit_splits(const GNode *n); /* rows split over the instance's pool */
bool emit_has_code(const GNode *n); /* not an input, alias or fused node */
const Shape *emit_in_shape(const GNode *n); /* what n's code reads */
int emit_pad_t(const GNode *n);      /* conv/depthwise padding, with a */
int emit_pad_l(const GNode *n);      /* folded zeropad's (fold_zeropad.c) */
Act emit_act(const GNode *n);       /* the activation its code applies last */
const char *emit_bias(Emitter *e, const GNode *n); /* conv/depthwise bias */

/* emit_simple.c: the layer function of a node that emit_c.c does not
 * write itself (no windows, no row split). */
void emit_simple_layer(Emitter *e, GNode *n, const char *fn);

/* emit_api.c */
const char *emit_comment(Emitter *e, const char *s); /* safe inside a comment */
const char *emit_string(Emitter *e, const char *s);  /* a C string literal */
void emit_collect(Emitter *e);          /* the tensor table and bn slots */
void emit_header(Emitter *e, Buf *h);   /* model.h */
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
void emit_inspect_after(Emitter *e, GNode *n); /* run_v: the hook once n is done */
/* With o->line_directives: the text of c from `from` (node n's functions)
 * gets #line directives naming n's line of the .rn, then one back to
 * o->c_path. */
void emit_line_directives(Emitter *e, size_t from, const GNode *n);

#endif
