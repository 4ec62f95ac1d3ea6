/* import_text.c: the text of an imported program. Which lines feed the
 * outputs (the others are left out), the variables the text shows, and
 * the lines themselves: the opening comment, `model NAME`, the `layer`
 * definitions, inputs, one layer a line (wrapped past 100 columns),
 * outputs; with the source of each line, for import.c's errors.
 *
 * Requires: the model built (import.c). Changes: the lines' live marks,
 * shown variables, and the definitions' path prefixes. */
#include "import.h"

#include <string.h>

enum { LINE_WIDTH = 100 }; /* a layer's line wraps past this column */

/* Marks the lines of scope k that feed its outputs (or its return), from
 * the last line back, and the definitions they call, with their paths. */
void imp_mark_live(ImportModel *m, int k) {
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
            int at = imp_set_get(&s->vars, in[j]);
            if (at >= 0) s->lines[at].live = true;
        }
    }
    for (int i = 0; i < s->n; i++) {
        Line *l = &s->lines[i];
        if (!l->live || l->def < 0) continue;
        m->scopes[l->def].prefix =
            arena_printf(m->a, "%s%s.", s->prefix, l->name);
        imp_mark_live(m, l->def);
    }
}

/* ---------------------------------------------------------- variables */

/* The variables the text shows. Hand-written programs reuse short names
 * (x = conv2d(x, ...)); the importer's handles are whole paths made
 * identifiers (features_1_0_block_1_scale_activation). So a layer's
 * variable is the last component of its name ("features.1.0.block.1.fc1":
 * fc1), with the components before it while it starts with a digit
 * ("features.2.conv.1.0": conv_1_0); when that variable still holds a
 * value that a later line reads, one more component is taken
 * (block_1_fc1, ...), then the whole name numbered. A variable is reused
 * once nothing reads its value any more, as `x = relu(x)` reuses x (but
 * not one named as an op: add = add(add, y) would read badly); the
 * name="..." keeps the whole path. Inputs and parameters keep theirs. */

enum { FOREVER = 1 << 30 }; /* the last use of an input or parameter */

typedef struct Vars {
    StrSet bound; /* shown variable -> the line holding it (-1: forever) */
    int *last;    /* by line: the last line that reads its value */
    Scope *s;
} Vars;

/* May `name` be bound at line `at`: free, or holding a value read no
 * more after it? A variable named as an op is not bound twice (add =
 * add(add, x) would read badly). */
static bool var_free(const Vars *v, const char *name, int at) {
    int held = imp_set_get(&v->bound, name);
    if (!imp_set_has(&v->bound, name)) return true;
    return held >= 0 && v->last[held] <= at && !imp_builtin(name);
}

/* The variable of line `at`, from its name's components. */
static const char *pick(ImportModel *m, Vars *v, const Line *l, int at) {
    const char *name = l->name;
    size_t n = strlen(name);
    /* suffixes of the name at its '.' and '/', shortest first */
    for (size_t i = n; i-- > 0;) {
        if (i > 0 && name[i - 1] != '.' && name[i - 1] != '/') continue;
        if (name[i] >= '0' && name[i] <= '9') continue; /* conv.1.0: on */
        char *id = imp_identifier(m->a, name + i, "x");
        if (imp_reserved(id)) id = arena_printf(m->a, "%s_", id);
        if (var_free(v, id, at)) return id;
    }
    char *id = imp_identifier(m->a, name, "x");
    if (imp_reserved(id)) id = arena_printf(m->a, "%s_", id);
    if (var_free(v, id, at)) return id;
    for (long k = 1;; k++) {
        const char *c = arena_printf(m->a, "%s_%ld", id, k);
        if (var_free(v, c, at)) return c;
    }
}

static const char *shown(const Scope *s, const char *var) {
    int at = imp_set_get(&s->vars, var);
    if (at >= 0) return s->lines[at].shown;
    return var; /* a parameter */
}

static void name_vars(ImportModel *m, Scope *s) {
    Vars v = {.s = s};
    v.last = arena_alloc(m->a, (size_t)(s->n ? s->n : 1) * sizeof *v.last);
    for (int i = 0; i < s->n; i++) {
        const Line *l = &s->lines[i];
        if (l->kind == LINE_INPUT) v.last[i] = FOREVER;
        if (!l->live) continue;
        const char *const *in = l->kind == LINE_OUTPUT ? &l->var : l->in;
        int nin = l->kind == LINE_OUTPUT ? 1 : l->nin;
        for (int j = 0; j < nin; j++) {
            int at = imp_set_get(&s->vars, in[j]);
            if (at >= 0 && v.last[at] < i) v.last[at] = i;
        }
    }
    for (int i = 0; i < s->nparams; i++)
        imp_set_put(m->a, &v.bound, s->params[i], -1);
    for (int i = 0; i < s->n; i++) {
        Line *l = &s->lines[i];
        if (l->kind == LINE_INPUT) {
            l->shown = l->var;
            imp_set_put(m->a, &v.bound, l->var, -1);
        } else if (l->kind == LINE_LAYER && l->live) {
            l->shown = pick(m, &v, l, i);
            imp_set_put(m->a, &v.bound, l->shown, i);
        }
    }
}

/* -------------------------------------------------------------- lines */

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
static void print_layer(Text *t, const Scope *s, const Line *l,
                        const char *indent) {
    int nargs = l->args ? 1 : 0;
    for (const char *c = l->args; c && *c; c++) nargs += *c == ',';
    int cap = l->nin + nargs + 1;
    const char **items = arena_alloc(t->a, (size_t)cap * sizeof *items);
    int n = 0;
    for (int i = 0; i < l->nin; i++) items[n++] = shown(s, l->in[i]);
    if (l->args) n += split_args(t->a, l->args, items + n, nargs);
    items[n++] = arena_printf(t->a, "name=\"%s\"", l->name);
    Buf b = {0};
    size_t col = 0;
    buf_printf(&b, "%s%s = %s(", indent, l->shown, l->op);
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
            print_layer(t, s, l, "    ");
        else
            put(t, l->who,
                arena_printf(t->a, "    return %s\n", shown(s, l->var)));
    }
    put(t, s->who, "}\n\n");
}

void imp_print(ImportModel *m, Text *t) {
    for (int k = 0; k < m->nscopes; k++)
        if (m->scopes[k].live) name_vars(m, &m->scopes[k]);
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
                    ? arena_printf(t->a, "input %s[%lld, %lld, %lld]\n",
                                   l->shown, (long long)l->shape.d[0],
                                   (long long)l->shape.d[1],
                                   (long long)l->shape.d[2])
                    : arena_printf(t->a, "input %s[%lld]\n", l->shown,
                                   (long long)l->shape.d[0]));
            break;
        case LINE_LAYER:
            if (!blank) put(t, NULL, "\n");
            blank = true;
            print_layer(t, top, l, "");
            break;
        case LINE_OUTPUT:
            if (blank) put(t, NULL, "\n");
            blank = false;
            put(t, l->who,
                arena_printf(t->a, "output %s\n", shown(top, l->var)));
            break;
        }
    }
}
