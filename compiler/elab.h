/* elab.h: what elaborate.c, eval.c and ops.c share (private to the three;
 * the rest of the compiler sees only elaborate() in rnc.h). */
#ifndef ELAB_H
#define ELAB_H

#include <setjmp.h>

#include "rnc.h"

/* The limits that keep a hostile program from crashing, hanging or
 * exhausting memory; each is a located error when passed. */
enum {
    MAX_CALL_DEPTH = 64,          /* nested block/layer calls */
    MAX_STEPS = 1000000,          /* statements executed + loop iterations */
    MAX_LIST = 1000000,           /* elements of one list */
    MAX_LIST_TOTAL = 4000000,     /* list elements built over the whole run */
    MAX_NODES = 100000,           /* layers in the graph */
    MAX_ARGS = 17,                /* parameters of one op/block/layer,
                                     with a layer's implicit name= and
                                     trainable= */
    MAX_NESTING = 4000,           /* expressions being evaluated at once
                                     (keeps the C stack safe) */
    MAX_NAME = 200,               /* characters of a name="..." */
};

/* A compile-time value. */
typedef enum {
    V_INT,    /* i */
    V_FLOAT,  /* f: a decimal */
    V_BOOL,   /* b */
    V_STRING, /* s */
    V_WORD,   /* s: an enum word such as same, valid, relu */
    V_LIST,   /* list */
    V_TENSOR, /* t: a node of the graph */
    V_FUNC,   /* fn: an AST_FUNC (block or layer definition) */
} ValKind;

typedef struct List List;
typedef struct Value {
    ValKind kind;
    union {
        int64_t i;
        double f;
        bool b;
        const char *s;
        List *list;
        GNode *t;
        Ast *fn;
    };
} Value;

struct List {
    int64_t n;
    Value *items;
};

typedef struct Binding Binding;
struct Binding {
    const char *name;
    Value val;
    Binding *next;
};

/* Where auto-generated layer names are counted: the top level, or one
 * `layer` instance (fresh counters each). A small hash set of the names
 * given so far catches duplicates. */
typedef struct Counter Counter;
typedef struct NameSlot {
    const char *name;
    Loc loc; /* where the layer with that name was made */
} NameSlot;
typedef struct Names {
    Counter *counters;
    NameSlot *used; /* open addressing, cap a power of two */
    size_t cap, count;
} Names;

/* One activation of the top level or of a block/layer call. */
typedef struct Frame Frame;
struct Frame {
    Frame *caller;  /* NULL at the top level */
    Binding *vars;
    const Ast *fn;  /* the definition being run; NULL at the top level */
    Loc call;       /* the call site in the caller */
    Group *group;   /* innermost `layer` instance, NULL outside any */
    Names *names;
    int depth;
    Value ret;      /* what `return` gave */
};

typedef struct Elab {
    Arena *arena;
    Diag *diag;
    Graph *g;
    Frame *frame;    /* the running one */
    Names paths;     /* the paths of the layers that own weights: two
                        with one path would share weight names */
    Ast **fns;       /* the top-level block/layer definitions */
    int nfns;
    int64_t steps, list_total;
    int nesting;     /* eval() calls under way */
    jmp_buf bail;    /* where fail() lands, as Lua's luaD_throw */
} Elab;

/* elaborate.c */
_Noreturn void fail(Elab *e, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
Ast *func_lookup(Elab *e, const char *name);
Value call_function(Elab *e, const Ast *call, const Ast *fn);
GNode *node_new(Elab *e, OpKind op, Loc loc);
GNode *node_finish(Elab *e, GNode *n, const char *explicit_name);

/* eval.c */
Value eval(Elab *e, const Ast *x);
List *list_new(Elab *e, int64_t n, Loc loc);
const char *describe(Elab *e, Value v);
const char *kind_name(ValKind k);
/* a + b, a - b, a * b of two tensors: an add/subtract/multiply node. */
Value tensor_merge(Elab *e, OpKind op, GNode *a, GNode *b, Loc loc);
bool is_word(const char *s);
extern const char *const enum_words[];

/* ops.c */
/* Calls a built-in op or compile-time function; false if `name` is none. */
bool call_builtin(Elab *e, const Ast *call, Value *out);
extern const char *const builtin_names[];
/* The i-th activation word (none, linear, relu, ..., aliases included),
 * NULL past the last. */
const char *act_word(int i);

/* Arguments bound to parameter names by position or keyword. */
typedef struct Args {
    Value v[MAX_ARGS];
    bool has[MAX_ARGS];
    Loc at[MAX_ARGS];
} Args;
void bind_args(Elab *e, const Ast *call, const char *fname,
               const char *const *names, int nnames, Args *out);
/* A name="..." value: 1 to MAX_NAME printable ASCII characters, no '"'
 * or '\\'. */
const char *want_name(Elab *e, Value v, const char *what, Loc loc);

#endif
