/* import.h: what import.c (the model an importer builds, its reading
 * back and its files) and import_text.c (the program's text) share.
 * Private to the two; the importers see rnc.h's import_* functions. */
#ifndef IMPORT_H
#define IMPORT_H

#include "rnc.h"
#include "rnrt.h"

typedef struct ImpWeight {
    const char *suffix;
    int rank;
    int64_t dims[4];
    const float *data;
} ImpWeight;

typedef enum { LINE_INPUT, LINE_LAYER, LINE_OUTPUT } LineKind;

typedef struct Line {
    LineKind kind;
    const char *var;  /* INPUT, LAYER: the variable bound; OUTPUT: its value */
    const char *op;   /* LAYER: an op or a definition */
    const char *name; /* LAYER: the name="..." */
    const char **in;  /* LAYER: input variables */
    int nin;
    const char *args;  /* LAYER: the other arguments, or NULL */
    const char *note;  /* LAYER: a comment at the end of the line, or NULL */
    Shape shape;       /* INPUT */
    const char *who;   /* its source, for errors; NULL: rnc's own */
    void *src;         /* the importer's handle of its source */
    int def;           /* LAYER: the definition it calls, or -1 */
    const char *shown; /* INPUT, LAYER: the variable the text shows (set by
                          import_text.c; var is the importer's handle) */
    ImpWeight w[MAX_WEIGHTS];
    int nw;
    bool live; /* feeds an output (set by import_check) */
} Line;

/* A set of strings with an index each (open addressing, grows). */
typedef struct StrSet {
    const char **keys;
    int *vals;
    size_t cap, count;
} StrSet;

/* The top level, or one `layer` definition. */
typedef struct Scope {
    const char *def;     /* the definition's name; NULL at the top level */
    const char **params; /* its parameters' variables */
    int nparams;
    const char *who; /* the source of its header */
    Line *lines;
    int n, cap;
    StrSet vars;  /* variable -> its line */
    StrSet names; /* layer names given */
    int parent;   /* the scope it was opened in; -1 at the top */
    int call;     /* the line of its (one) call in `caller`, or -1 */
    int caller;
    bool closed, live;
    const char *prefix; /* its layers' paths start with this */
} Scope;

struct ImportModel {
    Arena *a;
    const char *name;
    const char *comment; /* the opening "# " lines */
    Scope *scopes;       /* [0] the top level; then definitions */
    int nscopes, cap;
    int cur;     /* the scope statements go to */
    int *closed; /* definitions in the order they closed (printed so) */
    int nclosed;
    StrSet defs; /* definition -> its scope */
    const char *who;
    void *src;
    ImportWeightFn wfn;
    void *wctx;
    rn_st_tensor *tensors; /* after import_check: the weights, by node */
    int ntensors;
};

/* A set of strings with an int each (import.c). */
int imp_set_get(const StrSet *s, const char *key); /* -1 when absent */
bool imp_set_has(const StrSet *s, const char *key);
void imp_set_put(Arena *a, StrSet *s, const char *key, int val);
/* An identifier from a name: runs of other characters become one '_', a
 * leading digit gets an 'x'; fallback when nothing is left. */
char *imp_identifier(Arena *a, const char *name, const char *fallback);
/* A keyword of the language or one of its words (relu, same, ...): an
 * identifier that would be one gets '_' appended. */
bool imp_reserved(const char *s);
/* A built-in op or compile-time function of the language (conv2d, add). */
bool imp_builtin(const char *s);

/* import_text.c: the lines of scope k (0: the top level) that feed its
 * outputs, and the definitions they call, with their weights' path
 * prefixes; then the program's text, each of its lines with its source. */
void imp_mark_live(ImportModel *m, int k);

/* The text with the source of each of its lines. */
typedef struct Text {
    Buf *b;
    const char **who;
    int nlines, cap;
    Arena *a;
} Text;
void imp_print(ImportModel *m, Text *t);

#endif
