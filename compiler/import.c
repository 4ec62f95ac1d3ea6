/* import.c: the writer both importers share. An importer describes the
 * model it read as .rn statements (an opening comment, `layer`
 * definitions, inputs, one layer a line, outputs) plus the weights of its
 * layers; this file turns that into the program text, reads the text back
 * like any .rn (parse, elaborate, shape checks) and checks that the
 * weights are exactly those the program expects, by name and shape. Only
 * then are the text and a safetensors file written, together and
 * atomically.
 *
 * Names: a layer keeps the source's name, made printable (ASCII 0x20..0x7e
 * but '"' and '\', at most 200 characters) and unique in its scope (a
 * repeat gets _1, _2, ...). Its variable is a readable identifier derived
 * from the name ("layer1.0.conv1" -> layer1_0_conv1), unique in its scope,
 * never a keyword or an enum word such as `relu` (a variable would hide
 * the word).
 *
 * Definitions: a nested model of the source is a `layer` definition with
 * parameters, called once; its layers' weights are prefixed by the call's
 * name, as the language prefixes them.
 *
 * Errors: a statement may carry its source ("layer conv1 (Conv2D)"). An
 * importer that leaves checks to the language (Keras: rnc's shape rules)
 * gives one: a reading-back error at that statement is then the source
 * model's, returned as "SOURCE: message". A statement without a source
 * comes from an importer that checked it fully (ONNX): its failure is
 * rnc's own bug, an internal error (die).
 *
 * Requires: layer inputs are variables of the same scope returned before.
 * Changes: only the model; files only in import_write. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
/* elab.h: is_word, builtin_names, MAX_NODES, MAX_NAME */
#include "elab.h"
#include "rnrt.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAX_VAR = 64,     /* a variable's length before its _N suffix */
    LINE_WIDTH = 100, /* a layer's line wraps past this column */
};

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
    const char *args; /* LAYER: the other arguments, or NULL */
    const char *note; /* LAYER: a comment at the end of the line, or NULL */
    Shape shape;      /* INPUT */
    const char *who;  /* its source, for errors; NULL: rnc's own */
    void *src;        /* the importer's handle of its source */
    int def;          /* LAYER: the definition it calls, or -1 */
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

static uint64_t str_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* The slot of key, or of the empty place it would take. */
static size_t set_slot(const StrSet *s, const char *key) {
    size_t i = (size_t)str_hash(key) & (s->cap - 1);
    while (s->keys[i] && strcmp(s->keys[i], key)) i = (i + 1) & (s->cap - 1);
    return i;
}

static int set_get(const StrSet *s, const char *key) {
    if (!s->cap) return -1;
    size_t i = set_slot(s, key);
    return s->keys[i] ? s->vals[i] : -1;
}

static bool set_has(const StrSet *s, const char *key) {
    return s->cap && s->keys[set_slot(s, key)];
}

static void set_put(Arena *a, StrSet *s, const char *key, int val) {
    if (2 * (s->count + 1) > s->cap) {
        StrSet bigger = {.cap = s->cap ? 2 * s->cap : 64};
        bigger.keys = arena_alloc(a, bigger.cap * sizeof *bigger.keys);
        bigger.vals = arena_alloc(a, bigger.cap * sizeof *bigger.vals);
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[i]) {
                size_t j = set_slot(&bigger, s->keys[i]);
                bigger.keys[j] = s->keys[i];
                bigger.vals[j] = s->vals[i];
                bigger.count++;
            }
        *s = bigger;
    }
    size_t i = set_slot(s, key);
    if (!s->keys[i]) s->count++;
    s->keys[i] = key;
    s->vals[i] = val;
}

/* key, or key_1, key_2, ... : the first that the set does not hold. */
static const char *fresh(Arena *a, const StrSet *s, const char *key) {
    if (!set_has(s, key)) return key;
    for (long i = 1;; i++) {
        const char *k = arena_printf(a, "%s_%ld", key, i);
        if (!set_has(s, k)) return k;
    }
}

static bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* The words of the grammar (grammar/lexer.l): never a variable. */
static bool is_keyword(const char *s) {
    static const char *const kw[] = {"model", "input", "output", "block",
                                     "layer", "return", "for", "in", "if",
                                     "else", "true", "false", "and", "or",
                                     "not", NULL};
    for (int i = 0; kw[i]; i++)
        if (!strcmp(kw[i], s)) return true;
    return false;
}

static bool is_builtin(const char *s) {
    for (int i = 0; builtin_names[i]; i++)
        if (!strcmp(builtin_names[i], s)) return true;
    return false;
}

/* An identifier from a name: runs of other characters become one '_'. */
static char *identifier(Arena *a, const char *name, const char *fallback) {
    char *v = arena_alloc(a, MAX_VAR + 3);
    size_t n = 0;
    for (const char *c = name; *c && n < MAX_VAR; c++) {
        if (is_alnum(*c))
            v[n++] = *c;
        else if (n && v[n - 1] != '_')
            v[n++] = '_';
    }
    while (n && v[n - 1] == '_') n--;
    v[n] = 0;
    if (n == 0) return arena_strdup(a, fallback);
    if (v[0] >= '0' && v[0] <= '9') return arena_printf(a, "x%s", v);
    return v;
}

static Scope *cur(ImportModel *m) { return &m->scopes[m->cur]; }

/* A fresh variable of scope s derived from name, bound to line `at`. */
static const char *new_var(ImportModel *m, Scope *s, const char *name,
                           int at) {
    char *v = identifier(m->a, name, "x");
    if (is_keyword(v) || is_word(v)) v = arena_printf(m->a, "%s_", v);
    const char *var = fresh(m->a, &s->vars, v);
    set_put(m->a, &s->vars, var, at);
    return var;
}

static Line *new_line(ImportModel *m, LineKind kind) {
    Scope *s = cur(m);
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        Line *l = arena_alloc(m->a, (size_t)cap * sizeof *l);
        if (s->n) memcpy(l, s->lines, (size_t)s->n * sizeof *l);
        s->lines = l;
        s->cap = cap;
    }
    Line *l = &s->lines[s->n];
    l->kind = kind;
    l->who = m->who;
    l->src = m->src;
    l->def = -1;
    return l;
}

static int new_scope(ImportModel *m) {
    if (m->nscopes == m->cap) {
        int cap = m->cap ? 2 * m->cap : 8;
        Scope *s = arena_alloc(m->a, (size_t)cap * sizeof *s);
        int *closed = arena_alloc(m->a, (size_t)cap * sizeof *closed);
        if (m->nscopes) {
            memcpy(s, m->scopes, (size_t)m->nscopes * sizeof *s);
            memcpy(closed, m->closed, (size_t)m->nclosed * sizeof *closed);
        }
        m->scopes = s;
        m->closed = closed;
        m->cap = cap;
    }
    Scope *s = &m->scopes[m->nscopes];
    s->parent = -1;
    s->call = s->caller = -1;
    return m->nscopes++;
}

ImportModel *import_new(Arena *a, const char *name) {
    ImportModel *m = arena_alloc(a, sizeof *m);
    m->a = a;
    const char *id = identifier(a, name, "model");
    /* a keyword cannot follow `model`; the C cannot take some names */
    m->name = is_keyword(id) ? arena_printf(a, "%s_model", id)
                             : model_name_safe(a, id);
    new_scope(m);
    return m;
}

void import_comment(ImportModel *m, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) die("import_comment: bad format");
    char *s = arena_alloc(m->a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    /* one "# " line per line of the text, control characters made '?' */
    Buf b = {0};
    buf_append(&b, "# ", 2);
    for (char *c = s; *c; c++) {
        if (*c == '\n')
            buf_append(&b, "\n# ", 3);
        else
            buf_append(&b, (unsigned char)*c < 0x20 || *c == 0x7f ? "?" : c, 1);
    }
    m->comment =
        arena_printf(m->a, "%s%s\n", m->comment ? m->comment : "", b.data);
    buf_free(&b);
}

void import_source(ImportModel *m, const char *who, void *src) {
    m->who = who ? arena_strdup(m->a, who) : NULL;
    m->src = src;
}

void import_weights_from(ImportModel *m, ImportWeightFn fn, void *ctx) {
    m->wfn = fn;
    m->wctx = ctx;
}

const char *import_input(ImportModel *m, const char *name, const Shape *s) {
    if (s->rank != 1 && s->rank != 3) die("import_input: rank %d", s->rank);
    if (m->cur != 0) die("import_input inside a definition");
    Scope *sc = cur(m);
    const char *var = new_var(m, sc, name, sc->n);
    set_put(m->a, &sc->names, var, sc->n); /* an input is a layer name too */
    Line *l = new_line(m, LINE_INPUT);
    l->var = var;
    l->shape = *s;
    sc->n++;
    return var;
}

const char *import_begin(ImportModel *m, const char *def,
                         const char *const *params, int nparams,
                         const char **vars) {
    if (nparams < 1) die("import_begin %s: no parameter", def);
    char *id = identifier(m->a, def, "block");
    if (is_keyword(id) || is_word(id) || is_builtin(id))
        id = arena_printf(m->a, "%s_", id);
    const char *name = fresh(m->a, &m->defs, id);
    int k = new_scope(m);
    set_put(m->a, &m->defs, name, k);
    Scope *s = &m->scopes[k];
    s->def = name;
    s->who = m->who;
    s->parent = m->cur;
    s->nparams = nparams;
    s->params = arena_alloc(m->a, (size_t)nparams * sizeof *s->params);
    for (int i = 0; i < nparams; i++) {
        /* a parameter is an input of the definition: line -1-i */
        s->params[i] = new_var(m, s, params[i], -1 - i);
        set_put(m->a, &s->names, s->params[i], -1 - i);
        vars[i] = s->params[i];
    }
    m->cur = k;
    return name;
}

void import_end(ImportModel *m, const char *var) {
    Scope *s = cur(m);
    if (m->cur == 0) die("import_end outside a definition");
    if (var && !set_has(&s->vars, var)) die("import_end: unknown '%s'", var);
    if (var) { /* NULL: the importer gave up on it (and reported why) */
        Line *l = new_line(m, LINE_OUTPUT);
        l->var = var;
        s->n++;
    }
    s->closed = true;
    m->closed[m->nclosed++] = m->cur;
    m->cur = s->parent;
}

/* The name made printable and at most MAX_NAME long with its suffix. */
static const char *clean_name(Arena *a, const char *name) {
    size_t n = strlen(name);
    if (n > MAX_NAME - 8) n = MAX_NAME - 8;
    char *s = arena_strndup(a, name, n);
    for (char *c = s; *c; c++)
        if (*c < 0x20 || *c > 0x7e || *c == '"' || *c == '\\') *c = '_';
    return n ? s : "layer";
}

const char *import_layer(ImportModel *m, const char *op, const char *name,
                         const char *const *in, int nin, const char *args) {
    Scope *s = cur(m);
    const char *nm = fresh(m->a, &s->names, clean_name(m->a, name));
    set_put(m->a, &s->names, nm, s->n);
    const char *var = new_var(m, s, nm, s->n);
    Line *l = new_line(m, LINE_LAYER);
    l->var = var;
    l->op = arena_strdup(m->a, op);
    l->name = nm;
    l->nin = nin;
    l->in = arena_alloc(m->a, (size_t)(nin ? nin : 1) * sizeof *l->in);
    for (int i = 0; i < nin; i++) {
        if (!set_has(&s->vars, in[i]))
            die("import_layer %s: unknown input variable '%s'", nm, in[i]);
        l->in[i] = in[i];
    }
    l->args = args && *args ? arena_strdup(m->a, args) : NULL;
    int d = set_get(&m->defs, op);
    if (d >= 0) {
        Scope *callee = &m->scopes[d];
        if (!callee->closed || callee->call >= 0)
            die("import_layer %s: definition %s is open or called twice", nm,
                op);
        callee->call = s->n;
        callee->caller = m->cur;
        l->def = d;
    }
    s->n++;
    return var;
}

void import_note(ImportModel *m, const char *note) {
    Scope *s = cur(m);
    if (s->n == 0 || s->lines[s->n - 1].kind != LINE_LAYER)
        die("import_note: no layer");
    s->lines[s->n - 1].note = arena_strdup(m->a, note);
}

void import_weight(ImportModel *m, const char *suffix, int rank,
                   const int64_t *dims, const float *data) {
    Scope *s = cur(m);
    if (s->n == 0 || s->lines[s->n - 1].kind != LINE_LAYER)
        die("import_weight: no layer to own '%s'", suffix);
    Line *l = &s->lines[s->n - 1];
    if (l->nw == MAX_WEIGHTS || rank < 0 || rank > 4)
        die("import_weight: %s.%s: too many tensors or rank %d", l->name,
            suffix, rank);
    ImpWeight *w = &l->w[l->nw++];
    w->suffix = arena_strdup(m->a, suffix);
    w->rank = rank;
    for (int i = 0; i < rank; i++) w->dims[i] = dims[i];
    w->data = data;
}

void import_output(ImportModel *m, const char *var) {
    if (m->cur != 0) die("import_output inside a definition");
    if (!set_has(&cur(m)->vars, var)) die("import_output: unknown '%s'", var);
    Line *l = new_line(m, LINE_OUTPUT);
    l->var = var;
    cur(m)->n++;
}

/* Marks the lines of scope k that feed its outputs (or its return), from
 * the last line back, and the definitions they call, with their paths. */
static void mark_live(ImportModel *m, int k) {
    Scope *s = &m->scopes[k];
    s->live = true;
    if (k && (!s->n || s->lines[s->n - 1].kind != LINE_OUTPUT))
        die("import: definition %s has no return", s->def);
    for (int i = s->n - 1; i >= 0; i--) {
        Line *l = &s->lines[i];
        if (l->kind == LINE_OUTPUT) l->live = true;
        if (!l->live) continue;
        const char *const *in = l->kind == LINE_OUTPUT ? &l->var : l->in;
        int nin = l->kind == LINE_OUTPUT ? 1 : l->nin;
        for (int j = 0; j < nin; j++) {
            int at = set_get(&s->vars, in[j]);
            if (at >= 0) s->lines[at].live = true;
        }
    }
    for (int i = 0; i < s->n; i++) {
        Line *l = &s->lines[i];
        if (!l->live || l->def < 0) continue;
        m->scopes[l->def].prefix =
            arena_printf(m->a, "%s%s.", s->prefix, l->name);
        mark_live(m, l->def);
    }
}

/* ------------------------------------------------------------- text */

/* The text with the source of each of its lines. */
typedef struct Text {
    Buf *b;
    const char **who;
    int nlines, cap;
    Arena *a;
} Text;

/* Appends s (one or more whole lines) from source who. */
static void put(Text *t, const char *who, const char *s) {
    buf_printf(t->b, "%s", s);
    for (const char *c = s; *c; c++) {
        if (*c != '\n') continue;
        if (t->nlines == t->cap) {
            int cap = t->cap ? 2 * t->cap : 256;
            const char **w = arena_alloc(t->a, (size_t)cap * sizeof *w);
            if (t->nlines) memcpy(w, t->who, (size_t)t->nlines * sizeof *w);
            t->who = w;
            t->cap = cap;
        }
        t->who[t->nlines++] = who;
    }
}

/* Splits args at the commas outside brackets and quotes. */
static int split_args(Arena *a, const char *args, const char **out, int max) {
    int n = 0, depth = 0;
    bool quoted = false;
    const char *start = args;
    for (const char *c = args;; c++) {
        if (*c == '"')
            quoted = !quoted;
        else if (!quoted && (*c == '[' || *c == '('))
            depth++;
        else if (!quoted && (*c == ']' || *c == ')'))
            depth--;
        if (*c == 0 || (*c == ',' && depth == 0 && !quoted)) {
            while (*start == ' ') start++;
            if (n < max)
                out[n++] = arena_strndup(a, start, (size_t)(c - start));
            if (*c == 0) break;
            start = c + 1;
        }
    }
    return n;
}

/* `VAR = OP(ITEM, ITEM, ...)  # NOTE`, wrapped after commas past
 * LINE_WIDTH with continuation lines indented four more spaces. */
static void print_layer(Text *t, const Line *l, const char *indent) {
    int nargs = l->args ? 1 : 0;
    for (const char *c = l->args; c && *c; c++) nargs += *c == ',';
    int cap = l->nin + nargs + 1;
    const char **items = arena_alloc(t->a, (size_t)cap * sizeof *items);
    int n = 0;
    for (int i = 0; i < l->nin; i++) items[n++] = l->in[i];
    if (l->args) n += split_args(t->a, l->args, items + n, nargs);
    items[n++] = arena_printf(t->a, "name=\"%s\"", l->name);
    Buf b = {0};
    size_t col = 0;
    buf_printf(&b, "%s%s = %s(", indent, l->var, l->op);
    for (int i = 0; i < n; i++) {
        size_t w = strlen(items[i]) + 1; /* and its ',' or ')' */
        if (i > 0) {
            if (b.len - col + 1 + w > LINE_WIDTH) {
                buf_printf(&b, "\n%s    ", indent);
                col = b.len - strlen(indent) - 4;
            } else {
                buf_append(&b, " ", 1);
            }
        }
        buf_printf(&b, "%s%s", items[i], i + 1 < n ? "," : ")");
    }
    if (l->note) buf_printf(&b, "  # %s", l->note);
    buf_append(&b, "\n", 1);
    put(t, l->who, b.data);
    buf_free(&b);
}

static void print_def(Text *t, const Scope *s) {
    Buf b = {0};
    buf_printf(&b, "layer %s(", s->def);
    for (int i = 0; i < s->nparams; i++)
        buf_printf(&b, "%s%s", i ? ", " : "", s->params[i]);
    buf_printf(&b, ") {\n");
    put(t, s->who, b.data);
    buf_free(&b);
    for (int i = 0; i < s->n; i++) {
        const Line *l = &s->lines[i];
        if (!l->live) continue;
        if (l->kind == LINE_LAYER)
            print_layer(t, l, "    ");
        else
            put(t, l->who, arena_printf(t->a, "    return %s\n", l->var));
    }
    put(t, s->who, "}\n\n");
}

static void print_program(ImportModel *m, Text *t) {
    if (m->comment) put(t, NULL, m->comment);
    put(t, NULL, arena_printf(t->a, "model %s\n\n", m->name));
    for (int i = 0; i < m->nclosed; i++)
        if (m->scopes[m->closed[i]].live)
            print_def(t, &m->scopes[m->closed[i]]);
    const Scope *top = &m->scopes[0];
    bool blank = false;
    for (int i = 0; i < top->n; i++) {
        const Line *l = &top->lines[i];
        if (!l->live) continue;
        switch (l->kind) {
        case LINE_INPUT:
            put(t, l->who,
                l->shape.rank == 3
                    ? arena_printf(t->a, "input %s[%lld, %lld, %lld]\n", l->var,
                                   (long long)l->shape.d[0],
                                   (long long)l->shape.d[1],
                                   (long long)l->shape.d[2])
                    : arena_printf(t->a, "input %s[%lld]\n", l->var,
                                   (long long)l->shape.d[0]));
            break;
        case LINE_LAYER:
            if (!blank) put(t, NULL, "\n");
            blank = true;
            print_layer(t, l, "");
            break;
        case LINE_OUTPUT:
            if (blank) put(t, NULL, "\n");
            blank = false;
            put(t, l->who, arena_printf(t->a, "output %s\n", l->var));
            break;
        }
    }
}

/* ---------------------------------------------------------- read back */

/* The line of scope s with path `path`, or NULL. */
typedef struct PathMap {
    StrSet set;
    Line **lines;
} PathMap;

static void map_paths(ImportModel *m, Arena *a, PathMap *pm) {
    int n = 0;
    for (int k = 0; k < m->nscopes; k++) n += m->scopes[k].n;
    pm->lines = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *pm->lines);
    n = 0;
    for (int k = 0; k < m->nscopes; k++) {
        Scope *s = &m->scopes[k];
        for (int i = 0; s->live && i < s->n; i++) {
            Line *l = &s->lines[i];
            if (!l->live || l->kind != LINE_LAYER) continue;
            set_put(a, &pm->set, arena_printf(a, "%s%s", s->prefix, l->name),
                    n);
            pm->lines[n++] = l;
        }
    }
}

/* A reading-back error: the source's, into err, or rnc's own (die). */
static void read_back_error(const char *rn_path, const Text *t, char *msg,
                            char *err, size_t errlen) {
    size_t plen = strlen(rn_path);
    int line = 0, col = 0, at = 0;
    const char *who = NULL, *body = msg ? msg : "";
    if (msg && !strncmp(msg, rn_path, plen) &&
        sscanf(msg + plen, ":%d:%d: error: %n", &line, &col, &at) == 2 &&
        at > 0 && line >= 1 && line <= t->nlines)
        who = t->who[line - 1];
    if (!who) {
        fprintf(stderr, "%s", body);
        die("the imported program does not compile (the errors above)");
    }
    body += plen + (size_t)at;
    const char *nl = strchr(body, '\n');
    snprintf(err, errlen, "%s: %.*s", who,
             (int)(nl ? (size_t)(nl - body) : strlen(body)), body);
}

/* The graph's weights, from the lines or the importer; false (err set,
 * empty when the importer told them) when they do not fit. */
static bool gather(ImportModel *m, Graph *g, Arena *scratch, char *err,
                   size_t errlen) {
    PathMap pm = {0};
    map_paths(m, scratch, &pm);
    int cap = 0, nl = (int)pm.set.count;
    for (int i = 0; i < g->nnodes; i++) {
        WeightSpec ws[MAX_WEIGHTS];
        cap += node_weights(g->nodes[i], ws);
    }
    m->tensors = arena_alloc(m->a, (size_t)(cap ? cap : 1) * sizeof *m->tensors);
    m->ntensors = 0;
    bool *used = arena_alloc(scratch, (size_t)(nl ? nl : 1) * MAX_WEIGHTS);
    bool ok = true;
    for (int i = 0; i < g->nnodes; i++) {
        GNode *node = g->nodes[i];
        WeightSpec ws[MAX_WEIGHTS];
        int k = node_weights(node, ws);
        if (!k) continue;
        int at = set_get(&pm.set, node->path);
        if (at < 0) die("import: node '%s' has no line", node->path);
        Line *l = pm.lines[at];
        for (int j = 0; j < k; j++) {
            const float *data = NULL;
            if (l->nw) {
                for (int x = 0; x < l->nw && !data; x++) {
                    const ImpWeight *w = &l->w[x];
                    if (strcmp(w->suffix, ws[j].suffix)) continue;
                    bool same = w->rank == ws[j].rank;
                    for (int r = 0; same && r < w->rank; r++)
                        same = w->dims[r] == ws[j].dims[r];
                    if (!same)
                        die("the imported weight %s.%s has another shape",
                            node->path, w->suffix);
                    used[at * MAX_WEIGHTS + x] = true;
                    data = w->data;
                }
                if (!data)
                    die("the imported program's weight %s.%s is missing",
                        node->path, ws[j].suffix);
            } else if (m->wfn) {
                data = m->wfn(m->wctx, l->src, &ws[j], j);
                if (!data) {
                    ok = false;
                    continue;
                }
            } else {
                die("the imported program's weight %s.%s is missing",
                    node->path, ws[j].suffix);
            }
            rn_st_tensor *t = &m->tensors[m->ntensors++];
            t->name = arena_printf(m->a, "%s.%s", node->path, ws[j].suffix);
            t->rank = ws[j].rank;
            for (int r = 0; r < t->rank; r++) t->dims[r] = ws[j].dims[r];
            t->data = data;
        }
    }
    for (int at = 0; at < nl; at++)
        for (int x = 0; x < pm.lines[at]->nw; x++)
            if (!used[at * MAX_WEIGHTS + x])
                die("an imported weight belongs to no layer (%s.%s)",
                    pm.lines[at]->name, pm.lines[at]->w[x].suffix);
    if (!ok) snprintf(err, errlen, "%s", "");
    return ok;
}

/* Reads the text back; the weights then. */
static int compile_back(ImportModel *m, const char *rn_path, const Text *t,
                        Arena *scratch, char *err, size_t errlen) {
    char *msg = NULL;
    size_t msglen = 0;
    FILE *mem = open_memstream(&msg, &msglen);
    if (!mem) die("out of memory");
    Source src = {rn_path, t->b->data, t->b->len};
    Diag d;
    diag_init(&d, &src, mem);
    d.max_errors = 1;
    Arena *ca = arena_new();
    Ast *prog = parse_source(&src, ca, &d);
    Graph *g = prog ? elaborate(prog, m->name, ca, &d) : NULL;
    fclose(mem);
    int rc = 0;
    if (!g) {
        read_back_error(rn_path, t, msg, err, errlen);
        rc = -1;
    } else if (!gather(m, g, scratch, err, errlen)) {
        rc = -1;
    }
    free(msg);
    arena_free(ca);
    return rc;
}

/* An error of import_check's own, by the line's source when it has one. */
static int check_fail(const Line *l, char *err, size_t errlen, const char *msg) {
    if (l && l->who)
        snprintf(err, errlen, "%s: %s", l->who, msg);
    else
        snprintf(err, errlen, "%s", msg);
    return -1;
}

int import_check(ImportModel *m, const char *rn_path, Buf *text, char *err,
                 size_t errlen) {
    if (m->cur != 0) die("import_check: a definition is open");
    Scope *top = &m->scopes[0];
    m->scopes[0].prefix = "";
    mark_live(m, 0);
    int layers = 0, outputs = 0;
    for (int i = 0; i < top->n; i++) {
        const Line *l = &top->lines[i];
        if (l->kind == LINE_INPUT && !l->live)
            return check_fail(l, err, errlen,
                        arena_printf(m->a, "input '%s' feeds no output",
                                     l->var));
        outputs += l->kind == LINE_OUTPUT;
    }
    if (outputs == 0) return check_fail(NULL, err, errlen, "the model has no output");
    for (int k = 0; k < m->nscopes; k++)
        for (int i = 0; m->scopes[k].live && i < m->scopes[k].n; i++)
            layers += m->scopes[k].lines[i].live &&
                      m->scopes[k].lines[i].kind != LINE_OUTPUT;
    if (layers > MAX_NODES)
        return check_fail(NULL, err, errlen,
                    arena_printf(m->a,
                                 "the model has %d layers; rnc takes at "
                                 "most %d",
                                 layers, MAX_NODES));
    Arena *scratch = arena_new();
    Text t = {.b = text, .a = scratch};
    print_program(m, &t);
    int rc = compile_back(m, rn_path, &t, scratch, err, errlen);
    arena_free(scratch);
    return rc;
}

int import_encode(ImportModel *m, const char *rn_path, const char *weights_path,
                  Buf *text, void **st, size_t *stlen, char *err,
                  size_t errlen) {
    *st = NULL;
    *stlen = 0;
    if (import_check(m, rn_path, text, err, errlen) != 0) return -1;
    *st = rn_st_encode(weights_path, m->tensors, m->ntensors, stlen, err,
                       errlen);
    return *st ? 0 : -1;
}

int import_write(ImportModel *m, const char *rn_path, const char *weights_path,
                 char *err, size_t errlen) {
    Buf text = {0};
    void *st;
    size_t stlen;
    int rc = import_encode(m, rn_path, weights_path, &text, &st, &stlen, err,
                           errlen);
    if (rc == 0) {
        const char *paths[2] = {rn_path, weights_path};
        const void *data[2] = {text.data, st};
        size_t lens[2] = {text.len, stlen};
        rc = write_files_atomic(2, paths, data, lens, err, errlen);
    }
    free(st);
    buf_free(&text);
    return rc;
}
