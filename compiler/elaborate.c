/* elaborate.c: runs the program at compile time into a flat Graph.
 *
 * Requires: the Ast of parse_source. Produces: a Graph whose nodes are in
 * creation order (a topological order), every node shape-checked by
 * shape_infer as it is made, then pruned to what reaches an output.
 * Expressions and values are eval.c's; the built-in ops are ops.c's.
 *
 * Choices where language.md is silent (following Keras where it can):
 *  - blocks and layers are hoisted: they may be called before they are
 *    defined, and are defined only at the top level. A call sees its
 *    parameters and the definitions, never the caller's variables;
 *    defaults are evaluated at each call, after the earlier parameters are
 *    bound (so a default may use them). `for` and `if` share the enclosing
 *    scope. `return` may appear anywhere in a body and ends the call; a body
 *    that ends without one is an error.
 *  - names as a fresh Keras session gives them: per-base counters
 *    (conv2d, conv2d_1, ...) per scope. A block call names its layers in
 *    the calling scope. A `layer` call makes a Group named by the snake
 *    case of its CamelCase class name, counted in the calling scope
 *    (residual_unit, residual_unit_1, ...); its layers are counted afresh
 *    in each instance and their path is prefixed by the group's path.
 *    An explicit name= does not move the counters (as in Keras); a name
 *    used twice in one scope is an error at the second use.
 *  - a `layer` must return a tensor it computed (not one of its inputs);
 *    a block may return any value.
 *  - `model NAME` must be the first statement; `input` and `output` are
 *    allowed only at the top level.
 *  - nodes that reach no output are dropped (as Keras's Model(inputs,
 *    outputs) does); an input that reaches no output is an error.
 *  - the first semantic error stops elaboration (it is reported with the
 *    chain of call sites); syntax errors were all reported by the parser.
 * Limits are in elab.h. */
#include "elab.h"

#include <string.h>

/* ---- errors */

_Noreturn void fail(Elab *e, Loc loc, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_error(e->diag, loc, "%s", msg);
    /* the call chain, innermost first; a recursion's repeated call sites
     * show once with a count */
    int shown = 0;
    for (Frame *f = e->frame; f && f->fn;) {
        int times = 1;
        Frame *g = f->caller;
        for (; g && g->fn == f->fn && g->call.line == f->call.line &&
               g->call.col == f->call.col; g = g->caller)
            times++;
        if (shown++ == 8) {
            diag_note(e->diag, f->call, "and further calls from here");
            break;
        }
        if (times > 1)
            diag_note(e->diag, f->call, "in %s, called from here (%d times)",
                      f->fn->str, times);
        else
            diag_note(e->diag, f->call, "in %s, called from here", f->fn->str);
        f = g;
    }
    longjmp(e->bail, 1);
}

static void step(Elab *e, Loc loc) {
    if (++e->steps > MAX_STEPS)
        fail(e, loc, "the program runs too long (over %d statements and loop "
             "iterations): is a loop or a recursion too big?", MAX_STEPS);
}

/* Appends room to an arena array whose capacity is 8 or the next power of
 * two above n; returns the (maybe moved) array. */
static void *push(Arena *a, void *arr, int n, size_t elem) {
    if (n != 0 && (n < 8 || (n & (n - 1)) != 0)) return arr;
    size_t cap = n ? 2 * (size_t)n : 8;
    void *p = arena_alloc(a, cap * elem);
    if (n) memcpy(p, arr, (size_t)n * elem);
    return p;
}

/* ---- names */

struct Counter {
    const char *base;
    int n;
    Counter *next;
};

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603u;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static NameSlot *slot(Names *ns, const char *name) {
    size_t i = hash(name) & (ns->cap - 1);
    while (ns->used[i].name && strcmp(ns->used[i].name, name))
        i = (i + 1) & (ns->cap - 1);
    return &ns->used[i];
}

/* Adds `name` to the set; returns the slot that had it already, or NULL
 * when it is new. */
static const NameSlot *add_name(Elab *e, Names *ns, const char *name,
                                Loc loc) {
    if (2 * (ns->count + 1) > ns->cap) {
        NameSlot *old = ns->used;
        size_t oldcap = ns->cap;
        ns->cap = oldcap ? 2 * oldcap : 64;
        ns->used = arena_alloc(e->arena, ns->cap * sizeof *ns->used);
        for (size_t i = 0; i < oldcap; i++)
            if (old[i].name) *slot(ns, old[i].name) = old[i];
    }
    NameSlot *s = slot(ns, name);
    if (s->name) return s;
    s->name = name;
    s->loc = loc;
    ns->count++;
    return NULL;
}

/* Takes `name` in the scope, or fails if a layer there has it already. */
static void claim_name(Elab *e, Names *ns, const char *name, Loc loc) {
    const NameSlot *had = add_name(e, ns, name, loc);
    if (had)
        fail(e, loc, "duplicate layer name '%s' (line %d has it already)",
             name, had->loc.line);
}

/* Takes a weight-owning layer's path, or fails if another has it. */
static void claim_path(Elab *e, const char *path, Loc loc) {
    const NameSlot *had = add_name(e, &e->paths, path, loc);
    if (had)
        fail(e, loc, "the weights of this layer would be named '%s.*' as "
             "those of the layer made on line %d: rename one of them", path,
             had->loc.line);
}

/* The next Keras name for `base` in the scope: base, base_1, base_2, ... */
static const char *auto_name(Elab *e, Names *ns, const char *base) {
    Counter *c = ns->counters;
    while (c && strcmp(c->base, base)) c = c->next;
    if (!c) {
        c = arena_alloc(e->arena, sizeof *c);
        c->base = base;
        c->next = ns->counters;
        ns->counters = c;
    }
    int n = c->n++;
    return n ? arena_printf(e->arena, "%s_%d", base, n) : base;
}

/* residual_unit -> ResidualUnit */
static const char *camel_case(Arena *a, const char *s) {
    char *out = arena_strdup(a, s), *o = out;
    bool up = true;
    for (; *s; s++) {
        if (*s == '_') {
            up = true;
            continue;
        }
        *o++ = up && *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
        up = false;
    }
    *o = 0;
    return *out ? out : "Layer";
}

/* ResidualUnit -> residual_unit (Keras's to_snake_case, for our names) */
static const char *snake_case(Arena *a, const char *s) {
    char *out = arena_alloc(a, 2 * strlen(s) + 1), *o = out;
    for (size_t i = 0; s[i]; i++) {
        bool upper = s[i] >= 'A' && s[i] <= 'Z';
        bool prev_low = i > 0 && ((s[i - 1] >= 'a' && s[i - 1] <= 'z') ||
                                  (s[i - 1] >= '0' && s[i - 1] <= '9'));
        bool next_low = s[i + 1] >= 'a' && s[i + 1] <= 'z';
        bool prev_up = i > 0 && s[i - 1] >= 'A' && s[i - 1] <= 'Z';
        if (upper && (prev_low || (prev_up && next_low))) *o++ = '_';
        *o++ = upper ? (char)(s[i] - 'A' + 'a') : s[i];
    }
    *o = 0;
    return out;
}

/* ---- nodes */

GNode *node_new(Elab *e, OpKind op, Loc loc) {
    GNode *n = arena_alloc(e->arena, sizeof *n);
    n->op = op;
    n->loc = loc;
    n->kh = n->kw = n->sh = n->sw = n->dh = n->dw = 1;
    n->groups = n->multiplier = 1;
    n->padding = PAD_VALID;
    n->bias = true;
    n->act = ACT_NONE;
    n->epsilon = 0.001;
    n->scale = 1;
    return n;
}

GNode *node_finish(Elab *e, GNode *n, const char *explicit_name) {
    Graph *g = e->g;
    Frame *f = e->frame;
    if (g->nnodes >= MAX_NODES)
        fail(e, n->loc, "the model has too many layers (over %d)", MAX_NODES);
    n->group = f->group;
    n->name = explicit_name ? explicit_name
                            : auto_name(e, f->names, op_info[n->op].base);
    claim_name(e, f->names, n->name, n->loc);
    n->path = n->group ? arena_printf(e->arena, "%s.%s", n->group->path,
                                      n->name)
                       : n->name;
    n->site = n->loc;
    for (Frame *o = f; o->fn; o = o->caller) n->site = o->call;
    if (n->group && n->group->frozen) n->frozen = true;
    char err[512] = "";
    if (!shape_infer(n, err, sizeof err))
        fail(e, n->loc, "%s", err[0] ? err : "invalid layer");
    /* Names may hold dots: "a.b" at the top and b inside layer a would
     * share the weight names "a.b.kernel", ... */
    WeightSpec ws[MAX_WEIGHTS];
    if (node_weights(n, ws) > 0) claim_path(e, n->path, n->loc);
    if (g->nnodes == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 64;
        GNode **nodes = arena_alloc(e->arena, (size_t)g->cap * sizeof *nodes);
        if (g->nnodes) memcpy(nodes, g->nodes, (size_t)g->nnodes * sizeof *nodes);
        g->nodes = nodes;
    }
    n->id = g->nnodes;
    g->nodes[g->nnodes++] = n;
    return n;
}

/* ---- variables and definitions */

static void set_var(Elab *e, const char *name, Value v) {
    for (Binding *b = e->frame->vars; b; b = b->next) {
        if (!strcmp(b->name, name)) {
            b->val = v;
            return;
        }
    }
    Binding *b = arena_alloc(e->arena, sizeof *b);
    b->name = name;
    b->val = v;
    b->next = e->frame->vars;
    e->frame->vars = b;
}

Ast *func_lookup(Elab *e, const char *name) {
    for (int i = 0; i < e->nfns; i++)
        if (!strcmp(e->fns[i]->str, name)) return e->fns[i];
    return NULL;
}

/* Collects the top-level definitions, so calls may precede them. */
static void hoist(Elab *e, Ast *prog) {
    for (Ast *s = prog; s; s = s->next) {
        if (s->kind != AST_FUNC) continue;
        for (int i = 0; builtin_names[i]; i++)
            if (!strcmp(builtin_names[i], s->str))
                fail(e, s->loc, "'%s' is a built-in op; give the %s another "
                     "name", s->str, s->ival ? "layer" : "block");
        if (is_word(s->str))
            fail(e, s->loc, "'%s' is a reserved word; give the %s another "
                 "name", s->str, s->ival ? "layer" : "block");
        Ast *prev = func_lookup(e, s->str);
        if (prev)
            fail(e, s->loc, "'%s' is already defined on line %d", s->str,
                 prev->loc.line);
        int np = 0;
        for (Ast *p = s->args; p; p = p->next, np++) {
            for (Ast *q = s->args; q != p; q = q->next)
                if (!strcmp(q->str, p->str))
                    fail(e, p->loc, "parameter '%s' appears twice", p->str);
            if (np == MAX_ARGS - 2)
                fail(e, p->loc, "'%s' has too many parameters (the limit is "
                     "%d)", s->str, MAX_ARGS - 2);
        }
        e->fns = push(e->arena, e->fns, e->nfns, sizeof *e->fns);
        e->fns[e->nfns++] = s;
    }
}

/* ---- statements */

static bool exec_list(Elab *e, const Ast *s);

static bool inside(const Group *g, const Group *outer) {
    for (; g; g = g->parent)
        if (g == outer) return true;
    return false;
}

Value call_function(Elab *e, const Ast *call, const Ast *fn) {
    Frame *caller = e->frame;
    if (caller->depth >= MAX_CALL_DEPTH)
        fail(e, call->loc, "calls nest too deep (over %d levels): does '%s' "
             "call itself without end?", MAX_CALL_DEPTH, fn->str);
    const char *names[MAX_ARGS + 1] = {0};
    const Ast *params[MAX_ARGS];
    int np = 0;
    for (const Ast *p = fn->args; p; p = p->next, np++) {
        names[np] = p->str;
        params[np] = p;
    }
    /* a layer also takes name= and trainable= (as a Keras layer does),
     * unless it has parameters of those names */
    int nnames = np, at_name = -1, at_trainable = -1;
    static const char *const implicit[] = {"name", "trainable"};
    for (int k = 0; fn->ival && k < 2; k++) {
        int i = 0;
        while (i < np && strcmp(names[i], implicit[k])) i++;
        if (i < np) continue;
        *(k ? &at_trainable : &at_name) = nnames;
        names[nnames++] = implicit[k];
    }
    Args a;
    bind_args(e, call, fn->str, names, nnames, &a);
    for (int i = 0; i < np; i++)
        if (!a.has[i] && !params[i]->lhs)
            fail(e, call->loc, "%s: missing argument '%s'", fn->str, names[i]);
    const char *explicit_name = NULL;
    if (at_name >= 0 && a.has[at_name])
        explicit_name = want_name(e, a.v[at_name],
                                  arena_printf(e->arena, "%s: name", fn->str),
                                  a.at[at_name]);
    bool frozen = false;
    if (at_trainable >= 0 && a.has[at_trainable])
        frozen = !want_bool(e, a.v[at_trainable],
                            arena_printf(e->arena, "%s: trainable", fn->str),
                            a.at[at_trainable]);

    Frame *f = arena_alloc(e->arena, sizeof *f);
    f->caller = caller;
    f->fn = fn;
    f->call = call->loc;
    f->depth = caller->depth + 1;
    f->names = caller->names;
    f->group = caller->group;
    if (fn->ival) { /* a layer: a Group with fresh names inside */
        Group *g = arena_alloc(e->arena, sizeof *g);
        g->klass = camel_case(e->arena, fn->str);
        g->name = explicit_name ? explicit_name
                                : auto_name(e, caller->names,
                                            snake_case(e->arena, g->klass));
        claim_name(e, caller->names, g->name, call->loc);
        g->parent = caller->group;
        g->path = g->parent ? arena_printf(e->arena, "%s.%s", g->parent->path,
                                           g->name)
                            : g->name;
        g->loc = call->loc;
        g->frozen = frozen || (g->parent && g->parent->frozen);
        Graph *gr = e->g;
        gr->groups = push(e->arena, gr->groups, gr->ngroups, sizeof *gr->groups);
        gr->groups[gr->ngroups++] = g;
        f->group = g;
        f->names = arena_alloc(e->arena, sizeof *f->names);
    }
    e->frame = f;
    for (int i = 0; i < np; i++)
        set_var(e, names[i], a.has[i] ? a.v[i] : eval(e, params[i]->lhs));
    if (!exec_list(e, fn->body))
        fail(e, fn->loc, "%s '%s' ends without 'return'",
             fn->ival ? "layer" : "block", fn->str);
    if (fn->ival) {
        if (f->ret.kind != V_TENSOR)
            fail(e, fn->loc, "layer '%s' must return a tensor, got %s",
                 fn->str, describe(e, f->ret));
        if (!inside(f->ret.t->group, f->group))
            fail(e, fn->loc, "layer '%s' returns its input unchanged: a layer "
                 "must compute something", fn->str);
        f->group->result = f->ret.t;
    }
    e->frame = caller;
    return f->ret;
}

static bool at_top(const Elab *e) { return e->frame->fn == NULL; }

static void top_only(Elab *e, const Ast *s, const char *what) {
    if (!at_top(e))
        fail(e, s->loc, "'%s' is allowed only at the top level, not inside a "
             "block or layer", what);
}

static void exec_input(Elab *e, const Ast *s) {
    top_only(e, s, "input");
    GNode *n = node_new(e, OP_INPUT, s->loc);
    int rank = 0;
    for (const Ast *d = s->args; d; d = d->next) {
        Value v = eval(e, d);
        if (rank < 3 && (v.kind != V_INT || v.i < 1))
            fail(e, d->loc, "input '%s': dimensions must be positive "
                 "integers, got %s", s->str, describe(e, v));
        if (rank < 3 && v.i > (1 << 24))
            fail(e, d->loc, "input '%s': dimension %lld is too large",
                 s->str, (long long)v.i);
        if (rank < 3) n->out.d[rank] = v.i;
        rank++;
    }
    if (rank != 1 && rank != 3)
        fail(e, s->loc, "input '%s' needs [height, width, channels] or [n], "
             "got %d dimension%s", s->str, rank, rank == 1 ? "" : "s");
    n->out.rank = rank;
    node_finish(e, n, s->str);
    Graph *g = e->g;
    g->inputs = push(e->arena, g->inputs, g->ninputs, sizeof *g->inputs);
    g->inputs[g->ninputs++] = n;
    set_var(e, s->str, (Value){.kind = V_TENSOR, .t = n});
}

/* Runs one statement; true when it executed a `return`. */
static bool exec(Elab *e, const Ast *s) {
    step(e, s->loc);
    switch (s->kind) {
    case AST_MODEL:
        fail(e, s->loc, "'model' must be the first statement of the file");
    case AST_INPUT:
        exec_input(e, s);
        return false;
    case AST_ASSIGN:
        set_var(e, s->str, eval(e, s->lhs));
        return false;
    case AST_OUTPUT: {
        top_only(e, s, "output");
        Value v = eval(e, s->lhs);
        if (v.kind != V_TENSOR)
            fail(e, s->lhs->loc, "an output must be a tensor, got %s",
                 describe(e, v));
        Graph *g = e->g;
        g->outputs = push(e->arena, g->outputs, g->noutputs, sizeof *g->outputs);
        g->outputs[g->noutputs++] = v.t;
        return false;
    }
    case AST_FUNC:
        if (!at_top(e))
            fail(e, s->loc, "blocks and layers can be defined only at the top "
                 "level");
        return false; /* hoisted */
    case AST_RETURN:
        if (at_top(e)) fail(e, s->loc, "'return' outside a block or layer");
        e->frame->ret = eval(e, s->lhs);
        return true;
    case AST_FOR: {
        Value l = eval(e, s->lhs);
        if (l.kind != V_LIST)
            fail(e, s->lhs->loc, "'for' needs a list to loop over, got %s",
                 describe(e, l));
        for (int64_t i = 0; i < l.list->n; i++) {
            step(e, s->loc);
            set_var(e, s->str, l.list->items[i]);
            if (exec_list(e, s->body)) return true;
        }
        return false;
    }
    case AST_IF: {
        Value c = eval(e, s->cond);
        if (c.kind != V_BOOL)
            fail(e, s->cond->loc, "the condition of 'if' must be true or "
                 "false, got %s", describe(e, c));
        /* els is an `else if` (one AST_IF) or the else statements */
        return exec_list(e, c.b ? s->body : s->els);
    }
    case AST_CALL:
        fail(e, s->loc, "the result of %s(...) is not used: assign it "
             "(x = %s(...)) or make it an output", s->str, s->str);
    default:
        fail(e, s->loc, "this expression does nothing: assign it to a name "
             "or make it an output");
    }
}

static bool exec_list(Elab *e, const Ast *s) {
    for (; s; s = s->next)
        if (exec(e, s)) return true;
    return false;
}

/* ---- the graph */

/* Keeps what reaches an output, as Keras's Model(inputs, outputs) does. */
static void prune(Elab *e) {
    Graph *g = e->g;
    bool *live = arena_alloc(e->arena, (size_t)g->nnodes + 1);
    for (int i = 0; i < g->noutputs; i++) live[g->outputs[i]->id] = true;
    for (int i = g->nnodes - 1; i >= 0; i--)
        if (live[i])
            for (int k = 0; k < g->nodes[i]->nin; k++)
                live[g->nodes[i]->in[k]->id] = true;
    for (int i = 0; i < g->ninputs; i++)
        if (!live[g->inputs[i]->id])
            fail(e, g->inputs[i]->loc, "input '%s' is not used by any output",
                 g->inputs[i]->name);
    int n = 0;
    for (int i = 0; i < g->nnodes; i++) {
        if (!live[i]) continue;
        GNode *node = g->nodes[i];
        node->id = n;
        g->nodes[n++] = node;
    }
    g->nnodes = n;
    int ng = 0;
    for (int i = 0; i < g->ngroups; i++) {
        Group *gr = g->groups[i];
        bool used = false;
        for (int k = 0; k < g->nnodes && !used; k++)
            used = inside(g->nodes[k]->group, gr);
        if (used) g->groups[ng++] = gr;
    }
    g->ngroups = ng;
}

/* The name of a `model` line prefixes the generated C symbols and is a
 * type there (`typedef struct M M`): it must be one the C can take. */
static void check_model_name(Elab *e, const char *name, Loc loc) {
    const char *why = model_name_problem(name);
    if (why)
        fail(e, loc, "model name '%s' %s; it prefixes the generated C "
             "symbols, so choose another", name, why);
}

Graph *elaborate(Ast *prog, const char *default_name, Arena *a, Diag *d) {
    Elab *e = arena_alloc(a, sizeof *e);
    e->arena = a;
    e->diag = d;
    Graph *g = arena_alloc(a, sizeof *g);
    g->arena = a;
    /* a default (the file's stem) the C cannot take becomes NAME_model */
    g->name = model_name_safe(a, default_name);
    e->g = g;
    Frame *top = arena_alloc(a, sizeof *top);
    top->names = arena_alloc(a, sizeof *top->names);
    e->frame = top;
    /* Not modified after setjmp, so longjmp cannot clobber them. */
    const Ast *model = prog && prog->kind == AST_MODEL ? prog : NULL;
    Ast *body = model ? prog->next : prog;
    if (setjmp(e->bail)) return NULL;

    hoist(e, prog);
    if (model) {
        g->name = model->str;
        check_model_name(e, g->name, model->loc);
    }
    exec_list(e, body);
    if (g->noutputs == 0)
        fail(e, (Loc){0, 0}, "the model has no output (add 'output EXPR')");
    prune(e);
    return d->nerrors ? NULL : g;
}
