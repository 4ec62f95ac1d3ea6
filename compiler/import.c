/* import.c: the writer both importers share. An importer describes the
 * model it read as .rn statements (an opening comment, inputs, one layer a
 * line, outputs) plus the weights each layer owns; this file turns that
 * into the program text, reads the text back like any .rn (parse,
 * elaborate, shape checks) and checks that the weights are exactly those
 * the program expects, by name and shape. Only then are the text and a
 * safetensors file written, together and atomically.
 *
 * Names: a layer keeps the source's name, made printable (OPS.md: ASCII
 * 0x20..0x7e but '"' and '\', at most 200 characters) and unique (a repeat
 * gets _1, _2, ...). Its variable is a readable identifier derived from the
 * name ("layer1.0.conv1" -> layer1_0_conv1), unique, never a keyword or an
 * enum word such as `relu` (a variable would hide the word).
 *
 * Requires: layer inputs are variables this model returned before.
 * Changes: only the model; files only in import_write. */
/* elab.h: is_word, MAX_NODES, MAX_NAME, what the program must respect */
#include "elab.h"
#include "rnrt.h"

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
    const char *op;   /* LAYER */
    const char *name; /* LAYER: the name="..." */
    const char **in;  /* LAYER: input variables */
    int nin;
    const char *args; /* LAYER: the other arguments, or NULL */
    Shape shape;      /* INPUT */
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

struct ImportModel {
    Arena *a;
    const char *name;
    const char *comment; /* the opening "# " lines */
    Line *lines;
    int n, cap;
    StrSet vars;  /* variable -> its line */
    StrSet names; /* layer names given */
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
    if (set_get(s, key) < 0) return key;
    for (long i = 1;; i++) {
        const char *k = arena_printf(a, "%s_%ld", key, i);
        if (set_get(s, k) < 0) return k;
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

static const char *new_var(ImportModel *m, const char *name) {
    char *v = identifier(m->a, name, "x");
    if (is_keyword(v) || is_word(v)) v = arena_printf(m->a, "%s_", v);
    const char *var = fresh(m->a, &m->vars, v);
    set_put(m->a, &m->vars, var, m->n);
    return var;
}

static Line *new_line(ImportModel *m, LineKind kind) {
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 64;
        Line *l = arena_alloc(m->a, (size_t)cap * sizeof *l);
        if (m->n) memcpy(l, m->lines, (size_t)m->n * sizeof *l);
        m->lines = l;
        m->cap = cap;
    }
    Line *l = &m->lines[m->n];
    l->kind = kind;
    return l;
}

ImportModel *import_new(Arena *a, const char *name) {
    ImportModel *m = arena_alloc(a, sizeof *m);
    m->a = a;
    char *id = identifier(a, name, "model");
    if (is_keyword(id) || model_name_problem(id))
        id = arena_printf(a, "%s_model", id);
    m->name = id;
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

const char *import_input(ImportModel *m, const char *name, const Shape *s) {
    if (s->rank != 1 && s->rank != 3) die("import_input: rank %d", s->rank);
    const char *var = new_var(m, name);
    set_put(m->a, &m->names, var, m->n); /* an input is a layer name too */
    Line *l = new_line(m, LINE_INPUT);
    l->var = var;
    l->shape = *s;
    m->n++;
    return var;
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
    const char *nm = fresh(m->a, &m->names, clean_name(m->a, name));
    set_put(m->a, &m->names, nm, m->n);
    const char *var = new_var(m, nm);
    Line *l = new_line(m, LINE_LAYER);
    l->var = var;
    l->op = arena_strdup(m->a, op);
    l->name = nm;
    l->nin = nin;
    l->in = arena_alloc(m->a, (size_t)(nin ? nin : 1) * sizeof *l->in);
    for (int i = 0; i < nin; i++) {
        if (set_get(&m->vars, in[i]) < 0)
            die("import_layer %s: unknown input variable '%s'", nm, in[i]);
        l->in[i] = in[i];
    }
    l->args = args && *args ? arena_strdup(m->a, args) : NULL;
    m->n++;
    return var;
}

void import_weight(ImportModel *m, const char *suffix, int rank,
                   const int64_t *dims, const float *data) {
    if (m->n == 0 || m->lines[m->n - 1].kind != LINE_LAYER)
        die("import_weight: no layer to own '%s'", suffix);
    Line *l = &m->lines[m->n - 1];
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
    if (set_get(&m->vars, var) < 0) die("import_output: unknown '%s'", var);
    Line *l = new_line(m, LINE_OUTPUT);
    l->var = var;
    m->n++;
}

/* Marks the lines that feed an output, from the last line back. */
static void mark_live(ImportModel *m) {
    for (int i = m->n - 1; i >= 0; i--) {
        Line *l = &m->lines[i];
        if (l->kind == LINE_OUTPUT) l->live = true;
        if (!l->live) continue;
        const char *const *in = l->kind == LINE_OUTPUT ? &l->var : l->in;
        int nin = l->kind == LINE_OUTPUT ? 1 : l->nin;
        for (int k = 0; k < nin; k++)
            m->lines[set_get(&m->vars, in[k])].live = true;
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

/* `VAR = OP(ITEM, ITEM, ...)`, wrapped after commas past LINE_WIDTH with
 * continuation lines indented by four spaces. */
static void print_layer(Buf *b, Arena *a, const Line *l) {
    int nargs = l->args ? 1 : 0;
    for (const char *c = l->args; c && *c; c++) nargs += *c == ',';
    int cap = l->nin + nargs + 1;
    const char **items = arena_alloc(a, (size_t)cap * sizeof *items);
    int n = 0;
    for (int i = 0; i < l->nin; i++) items[n++] = l->in[i];
    if (l->args) n += split_args(a, l->args, items + n, nargs);
    items[n++] = arena_printf(a, "name=\"%s\"", l->name);
    size_t col = b->len;
    buf_printf(b, "%s = %s(", l->var, l->op);
    for (int i = 0; i < n; i++) {
        size_t w = strlen(items[i]) + 1; /* and its ',' or ')' */
        if (i > 0) {
            if (b->len - col + 1 + w > LINE_WIDTH) {
                buf_append(b, "\n    ", 5);
                col = b->len - 4;
            } else {
                buf_append(b, " ", 1);
            }
        }
        buf_printf(b, "%s%s", items[i], i + 1 < n ? "," : ")");
    }
    buf_append(b, "\n", 1);
}

static void print_program(ImportModel *m, Buf *b, Arena *scratch) {
    if (m->comment) buf_printf(b, "%s", m->comment);
    buf_printf(b, "model %s\n\n", m->name);
    bool blank = false;
    for (int i = 0; i < m->n; i++) {
        const Line *l = &m->lines[i];
        if (!l->live) continue;
        switch (l->kind) {
        case LINE_INPUT:
            if (l->shape.rank == 3)
                buf_printf(b, "input %s[%lld, %lld, %lld]\n", l->var,
                           (long long)l->shape.d[0], (long long)l->shape.d[1],
                           (long long)l->shape.d[2]);
            else
                buf_printf(b, "input %s[%lld]\n", l->var,
                           (long long)l->shape.d[0]);
            break;
        case LINE_LAYER:
            if (!blank) buf_append(b, "\n", 1);
            blank = true;
            print_layer(b, scratch, l);
            break;
        case LINE_OUTPUT:
            if (blank) buf_append(b, "\n", 1);
            blank = false;
            buf_printf(b, "output %s\n", l->var);
            break;
        }
    }
}

/* The weights by full name, for the check. */
static const ImpWeight *find_weight(const StrSet *s, ImpWeight **all,
                                    const char *name) {
    int i = set_get(s, name);
    return i < 0 ? NULL : all[i];
}

/* Reads the text back and checks the weights; dies when they disagree. */
static void compile_back(ImportModel *m, const char *rn_path, const Buf *text,
                         Arena *scratch) {
    Source src = {rn_path, text->data, text->len};
    Diag d;
    diag_init(&d, &src, stderr);
    Arena *ca = arena_new();
    Ast *prog = parse_source(&src, ca, &d);
    Graph *g = prog ? elaborate(prog, m->name, ca, &d) : NULL;
    if (!g) die("the imported program does not compile (the errors above)");

    StrSet byname = {0};
    int nall = 0;
    for (int i = 0; i < m->n; i++)
        nall += m->lines[i].live ? m->lines[i].nw : 0;
    ImpWeight **all =
        arena_alloc(scratch, (size_t)(nall ? nall : 1) * sizeof *all);
    bool *used = arena_alloc(scratch, (size_t)(nall ? nall : 1));
    nall = 0;
    for (int i = 0; i < m->n; i++) {
        Line *l = &m->lines[i];
        for (int k = 0; l->live && k < l->nw; k++) {
            const char *full =
                arena_printf(scratch, "%s.%s", l->name, l->w[k].suffix);
            if (set_get(&byname, full) >= 0) die("weight %s given twice", full);
            set_put(scratch, &byname, full, nall);
            all[nall++] = &l->w[k];
        }
    }
    for (int i = 0; i < g->nnodes; i++) {
        WeightSpec ws[4];
        int k = node_weights(g->nodes[i], ws);
        for (int j = 0; j < k; j++) {
            const char *full =
                arena_printf(scratch, "%s.%s", g->nodes[i]->path, ws[j].suffix);
            const ImpWeight *w = find_weight(&byname, all, full);
            bool same = w && w->rank == ws[j].rank;
            for (int r = 0; same && r < w->rank; r++)
                same = w->dims[r] == ws[j].dims[r];
            if (!same)
                die("the imported program's weight %s is %s", full,
                    w ? "given with another shape" : "missing");
            used[set_get(&byname, full)] = true;
        }
    }
    for (int i = 0; i < nall; i++)
        if (!used[i])
            die("an imported weight belongs to no layer (%s)", all[i]->suffix);
    arena_free(ca);
}

int import_check(ImportModel *m, const char *rn_path, Buf *text, char *err,
                 size_t errlen) {
    mark_live(m);
    int layers = 0, outputs = 0;
    for (int i = 0; i < m->n; i++) {
        const Line *l = &m->lines[i];
        if (l->kind == LINE_INPUT && !l->live) {
            snprintf(err, errlen, "input '%s' feeds no output", l->var);
            return -1;
        }
        layers += l->live && l->kind != LINE_OUTPUT;
        outputs += l->kind == LINE_OUTPUT;
    }
    if (outputs == 0) {
        snprintf(err, errlen, "the model has no output");
        return -1;
    }
    if (layers > MAX_NODES) {
        snprintf(err, errlen, "the model has %d layers; rnc takes at most %d",
                 layers, MAX_NODES);
        return -1;
    }
    Arena *scratch = arena_new();
    print_program(m, text, scratch);
    compile_back(m, rn_path, text, scratch);
    arena_free(scratch);
    return 0;
}

int import_write(ImportModel *m, const char *rn_path, const char *weights_path,
                 char *err, size_t errlen) {
    Buf text = {0};
    if (import_check(m, rn_path, &text, err, errlen) != 0) {
        buf_free(&text);
        return -1;
    }
    int nw = 0;
    for (int i = 0; i < m->n; i++) nw += m->lines[i].live ? m->lines[i].nw : 0;
    rn_st_tensor *t = calloc((size_t)(nw ? nw : 1), sizeof *t);
    if (!t) die("out of memory");
    Arena *names = arena_new();
    nw = 0;
    for (int i = 0; i < m->n; i++) {
        const Line *l = &m->lines[i];
        for (int k = 0; l->live && k < l->nw; k++) {
            rn_st_tensor *s = &t[nw++];
            s->name = arena_printf(names, "%s.%s", l->name, l->w[k].suffix);
            s->rank = l->w[k].rank;
            for (int r = 0; r < s->rank; r++) s->dims[r] = l->w[k].dims[r];
            s->data = l->w[k].data;
        }
    }
    size_t wlen = 0;
    void *wdata = rn_st_encode(weights_path, t, nw, &wlen, err, errlen);
    int rc = -1;
    if (wdata) {
        const char *paths[2] = {rn_path, weights_path};
        const void *data[2] = {text.data, wdata};
        size_t lens[2] = {text.len, wlen};
        rc = rn_write_files_atomic(2, paths, data, lens, err, errlen);
    }
    free(wdata);
    free(t);
    arena_free(names);
    buf_free(&text);
    return rc;
}
