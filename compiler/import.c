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
#include "import.h"
#include "elab.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_VAR = 64 }; /* a variable's length before its _N suffix */

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

int imp_set_get(const StrSet *s, const char *key) {
    if (!s->cap) return -1;
    size_t i = set_slot(s, key);
    return s->keys[i] ? s->vals[i] : -1;
}

bool imp_set_has(const StrSet *s, const char *key) {
    return s->cap && s->keys[set_slot(s, key)];
}

void imp_set_put(Arena *a, StrSet *s, const char *key, int val) {
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
    if (!imp_set_has(s, key)) return key;
    for (long i = 1;; i++) {
        const char *k = arena_printf(a, "%s_%ld", key, i);
        if (!imp_set_has(s, k)) return k;
    }
}

static bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* The words of the grammar (grammar/lexer.l): never a variable. */
static bool is_keyword(const char *s) {
    static const char *const kw[] = {
        "model", "input", "output", "block", "layer", "return", "for", "in",
        "if",    "else",  "true",   "false", "and",   "or",     "not", NULL};
    for (int i = 0; kw[i]; i++)
        if (!strcmp(kw[i], s)) return true;
    return false;
}

bool imp_reserved(const char *s) { return is_keyword(s) || is_word(s); }

bool imp_builtin(const char *s) {
    for (int i = 0; builtin_names[i]; i++)
        if (!strcmp(builtin_names[i], s)) return true;
    return false;
}

/* An identifier from a name: runs of other characters become one '_'. */
char *imp_identifier(Arena *a, const char *name, const char *fallback) {
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
static const char *new_var(ImportModel *m, Scope *s, const char *name, int at) {
    char *v = imp_identifier(m->a, name, "x");
    if (imp_reserved(v)) v = arena_printf(m->a, "%s_", v);
    const char *var = fresh(m->a, &s->vars, v);
    imp_set_put(m->a, &s->vars, var, at);
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

/* ------------------------------------------------------------ numbers */

/* 1e-05 -> 1e-5, 1e+06 -> 1e6 (the exponent as the language writes it). */
static void tidy_exponent(char *s) {
    char *e = strchr(s, 'e');
    if (!e) return;
    char *d = e + 1, *src = e + 1;
    if (*src == '-')
        *d++ = *src++;
    else if (*src == '+')
        src++;
    while (*src == '0' && src[1]) src++;
    memmove(d, src, strlen(src) + 1);
}

bool import_number(char *out, size_t n, double v) {
    float f = (float)v;
    bool finite = isfinite(f);
    char best[48];
    /* the shortest decimal that reads back as the same float32 (the
     * precision of both sources' weights and attributes), or as the same
     * double when float32 cannot hold it */
    for (int p = 1; p <= 17; p++) {
        snprintf(best, sizeof best, "%.*g", p, finite ? (double)f : v);
        if (finite ? (float)strtod(best, NULL) == f : strtod(best, NULL) == v)
            break;
    }
    tidy_exponent(best);
    /* 1/6 rather than 0.16666667, 1/127.5 rather than 0.007843138; but
     * 0.25, not 1/4: only for a decimal of five digits or more */
    size_t digits = 0;
    for (const char *c = best; *c && *c != 'e'; c++)
        digits += *c >= '0' && *c <= '9' && (digits || *c != '0');
    if (finite && v > 0 && v < 1 && digits >= 5) {
        double k2 = floor(2 / v + 0.5);
        char frac[48];
        if (k2 >= 2 && k2 <= 2e6 && (float)(2 / k2) == f) {
            if (fmod(k2, 2) == 0)
                snprintf(frac, sizeof frac, "1/%.0f", k2 / 2);
            else
                snprintf(frac, sizeof frac, "1/%.1f", k2 / 2);
            snprintf(best, sizeof best, "%s", frac);
        }
    }
    snprintf(out, n, "%s", best);
    return finite;
}

ImportModel *import_new(Arena *a, const char *name) {
    ImportModel *m = arena_alloc(a, sizeof *m);
    m->a = a;
    const char *id = imp_identifier(a, name, "model");
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
    imp_set_put(m->a, &sc->names, var,
                sc->n); /* an input is a layer name too */
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
    char *id = imp_identifier(m->a, def, "block");
    if (is_keyword(id) || is_word(id) || imp_builtin(id))
        id = arena_printf(m->a, "%s_", id);
    const char *name = fresh(m->a, &m->defs, id);
    int k = new_scope(m);
    imp_set_put(m->a, &m->defs, name, k);
    Scope *s = &m->scopes[k];
    s->def = name;
    s->who = m->who;
    s->parent = m->cur;
    s->nparams = nparams;
    s->params = arena_alloc(m->a, (size_t)nparams * sizeof *s->params);
    for (int i = 0; i < nparams; i++) {
        /* a parameter is an input of the definition: line -1-i */
        s->params[i] = new_var(m, s, params[i], -1 - i);
        imp_set_put(m->a, &s->names, s->params[i], -1 - i);
        vars[i] = s->params[i];
    }
    m->cur = k;
    return name;
}

void import_end(ImportModel *m, const char *var) {
    Scope *s = cur(m);
    if (m->cur == 0) die("import_end outside a definition");
    if (var && !imp_set_has(&s->vars, var))
        die("import_end: unknown '%s'", var);
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
    imp_set_put(m->a, &s->names, nm, s->n);
    const char *var = new_var(m, s, nm, s->n);
    Line *l = new_line(m, LINE_LAYER);
    l->var = var;
    l->op = arena_strdup(m->a, op);
    l->name = nm;
    l->nin = nin;
    l->in = arena_alloc(m->a, (size_t)(nin ? nin : 1) * sizeof *l->in);
    for (int i = 0; i < nin; i++) {
        if (!imp_set_has(&s->vars, in[i]))
            die("import_layer %s: unknown input variable '%s'", nm, in[i]);
        l->in[i] = in[i];
    }
    l->args = args && *args ? arena_strdup(m->a, args) : NULL;
    int d = imp_set_get(&m->defs, op);
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

const char *import_name_of(ImportModel *m, const char *var) {
    const Scope *s = cur(m);
    int at = imp_set_get(&s->vars, var);
    if (at < 0) die("import_name_of: unknown '%s'", var);
    return s->lines[at].kind == LINE_INPUT ? var : s->lines[at].name;
}

void import_output(ImportModel *m, const char *var) {
    if (m->cur != 0) die("import_output inside a definition");
    if (!imp_set_has(&cur(m)->vars, var))
        die("import_output: unknown '%s'", var);
    Line *l = new_line(m, LINE_OUTPUT);
    l->var = var;
    cur(m)->n++;
}

/* ---------------------------------------------------------- read back */

/* The line of scope s with path `path`, or NULL. */
typedef struct PathMap {
    StrSet set;
    Line **lines;
    int *scope; /* by entry: the scope of its line */
} PathMap;

static void map_paths(ImportModel *m, Arena *a, PathMap *pm) {
    int n = 0;
    for (int k = 0; k < m->nscopes; k++) n += m->scopes[k].n;
    pm->lines = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *pm->lines);
    pm->scope = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *pm->scope);
    n = 0;
    for (int k = 0; k < m->nscopes; k++) {
        Scope *s = &m->scopes[k];
        for (int i = 0; s->live && i < s->n; i++) {
            Line *l = &s->lines[i];
            if (!l->live || l->kind != LINE_LAYER) continue;
            imp_set_put(a, &pm->set,
                        arena_printf(a, "%s%s", s->prefix, l->name), n);
            pm->scope[n] = k;
            pm->lines[n++] = l;
        }
    }
}

/* The path of the graph node that gives the value of `var` in scope k:
 * through a definition's call to its return, through a parameter to the
 * call's argument. */
static const char *value_path(ImportModel *m, int k, const char *var,
                              Arena *a) {
    const Scope *s = &m->scopes[k];
    int at = imp_set_get(&s->vars, var);
    if (at >= 0) {
        const Line *l = &s->lines[at];
        if (l->kind == LINE_INPUT) return l->var;
        if (l->def < 0) return arena_printf(a, "%s%s", s->prefix, l->name);
        const Scope *d = &m->scopes[l->def];
        return value_path(m, l->def, d->lines[d->n - 1].var, a);
    }
    const Line *call = &m->scopes[s->caller].lines[s->call];
    return value_path(m, s->caller, call->in[-1 - at], a);
}

/* The graph read back has the lines' structure: each layer's node reads
 * the nodes the importer gave it. The shown variables are reused (x =
 * relu(x)): a slip there would read back as another network, so this is
 * checked here, once, for every import. A mismatch is rnc's own bug. */
static void check_structure(ImportModel *m, const Graph *g, const PathMap *pm,
                            Arena *a) {
    for (int i = 0; i < g->nnodes; i++) {
        const GNode *node = g->nodes[i];
        int at = imp_set_get(&pm->set, node->path);
        if (at < 0) continue; /* an input */
        const Line *l = pm->lines[at];
        if (l->def >= 0) die("import: definition call %s is a node", l->name);
        if (node->nin != l->nin)
            die("import: layer %s reads %d values, not %d", node->path,
                node->nin, l->nin);
        for (int k = 0; k < l->nin; k++) {
            const char *want = value_path(m, pm->scope[at], l->in[k], a);
            if (strcmp(node->in[k]->path, want))
                die("import: layer %s reads %s where the import meant %s",
                    node->path, node->in[k]->path, want);
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
static bool gather(ImportModel *m, Graph *g, const PathMap *pmp, Arena *scratch,
                   char *err, size_t errlen) {
    PathMap pm = *pmp;
    int cap = 0, nl = (int)pm.set.count;
    for (int i = 0; i < g->nnodes; i++) {
        WeightSpec ws[MAX_WEIGHTS];
        cap += node_weights(g->nodes[i], ws);
    }
    m->tensors =
        arena_alloc(m->a, (size_t)(cap ? cap : 1) * sizeof *m->tensors);
    m->ntensors = 0;
    bool *used = arena_alloc(scratch, (size_t)(nl ? nl : 1) * MAX_WEIGHTS);
    bool ok = true;
    for (int i = 0; i < g->nnodes; i++) {
        GNode *node = g->nodes[i];
        WeightSpec ws[MAX_WEIGHTS];
        int k = node_weights(node, ws);
        if (!k) continue;
        int at = imp_set_get(&pm.set, node->path);
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
    } else {
        PathMap pm = {0};
        map_paths(m, scratch, &pm);
        check_structure(m, g, &pm, scratch);
        if (!gather(m, g, &pm, scratch, err, errlen)) rc = -1;
    }
    free(msg);
    arena_free(ca);
    return rc;
}

/* An error of import_check's own, by the line's source when it has one. */
static int check_fail(const Line *l, char *err, size_t errlen,
                      const char *msg) {
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
    imp_mark_live(m, 0);
    int layers = 0, outputs = 0;
    for (int i = 0; i < top->n; i++) {
        const Line *l = &top->lines[i];
        if (l->kind == LINE_INPUT && !l->live)
            return check_fail(
                l, err, errlen,
                arena_printf(m->a, "input '%s' feeds no output", l->var));
        outputs += l->kind == LINE_OUTPUT;
    }
    if (outputs == 0)
        return check_fail(NULL, err, errlen, "the model has no output");
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
    imp_print(m, &t);
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
    *st =
        rn_st_encode(weights_path, m->tensors, m->ntensors, stlen, err, errlen);
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
        rc = rn_write_files_atomic(2, paths, data, lens, err, errlen);
    }
    free(st);
    buf_free(&text);
    return rc;
}
