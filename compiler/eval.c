/* eval.c: compile-time values and expressions.
 *
 * Values are immutable (a list is never changed in place, `+` builds a new
 * one), so they are shared freely. Arithmetic follows these rules:
 *  - int64 integers; overflow is an error, never a wrap;
 *  - `a / b` of two integers is an integer when the division is exact
 *    (64 / 2 = 32) and a decimal otherwise (1/255), so sizes stay integers
 *    while scales like 1/255 need no decimal point;
 *  - `%` takes integers only and has the sign of the divisor (as Python);
 *  - a decimal result that is not finite is an error;
 *  - `and`, `or`, `not`, `if` and `?:` take booleans only (no truthiness);
 *  - `==`/`!=` compare numbers, booleans, strings and words (a word equals
 *    the string of the same text); `<` etc. compare numbers only;
 *  - lists: `+` concatenates, `*` repeats by a non-negative integer;
 *  - tensors: `+`, `-` and `*` of two tensors are add, subtract and
 *    multiply nodes (broadcasting as those ops do). */
#include "elab.h"

#include <math.h>
#include <string.h>

/* The bare words besides the activation words (ops.c's act_word). */
const char *const enum_words[] = {"same", "valid", "none", "nearest",
                                  "bilinear", NULL};

bool is_word(const char *s) {
    for (int i = 0; enum_words[i]; i++)
        if (!strcmp(enum_words[i], s)) return true;
    for (int i = 0; act_word(i); i++)
        if (!strcmp(act_word(i), s)) return true;
    return false;
}

const char *kind_name(ValKind k) {
    switch (k) {
    case V_INT: return "an integer";
    case V_FLOAT: return "a decimal";
    case V_BOOL: return "a boolean";
    case V_STRING: return "a string";
    case V_WORD: return "a word";
    case V_LIST: return "a list";
    case V_TENSOR: return "a tensor";
    case V_FUNC: return "a block";
    }
    die("kind_name: bad kind %d", (int)k);
}

/* A value as a message shows it: 3, 3.5, true, "s", same, [1, 2]. */
const char *describe(Elab *e, Value v) {
    char shape[64];
    switch (v.kind) {
    case V_INT: return arena_printf(e->arena, "%lld", (long long)v.i);
    case V_FLOAT: return arena_printf(e->arena, "%g", v.f);
    case V_BOOL: return v.b ? "true" : "false";
    case V_STRING: return arena_printf(e->arena, "\"%s\"", v.s);
    case V_WORD: return v.s;
    case V_LIST: {
        if (v.list->n > 8)
            return arena_printf(e->arena, "a list of %lld", (long long)v.list->n);
        const char *s = "[";
        for (int64_t i = 0; i < v.list->n; i++)
            s = arena_printf(e->arena, "%s%s%s", s, i ? ", " : "",
                             describe(e, v.list->items[i]));
        return arena_printf(e->arena, "%s]", s);
    }
    case V_TENSOR:
        shape_format(&v.t->out, shape, sizeof shape);
        return arena_printf(e->arena, "a tensor %s", shape);
    case V_FUNC:
        return arena_printf(e->arena, "%s %s", v.fn->ival ? "layer" : "block",
                            v.fn->str);
    }
    die("describe: bad kind %d", (int)v.kind);
}

List *list_new(Elab *e, int64_t n, Loc loc) {
    if (n > MAX_LIST)
        fail(e, loc, "list of %lld elements is too long (the limit is %d)",
             (long long)n, MAX_LIST);
    e->list_total += n;
    if (e->list_total > MAX_LIST_TOTAL)
        fail(e, loc, "the program builds too many list elements (over %d "
             "in all)", MAX_LIST_TOTAL);
    List *l = arena_alloc(e->arena, sizeof *l);
    l->n = n;
    l->items = n ? arena_alloc(e->arena, (size_t)n * sizeof(Value)) : NULL;
    return l;
}

static Value int_val(int64_t i) { return (Value){.kind = V_INT, .i = i}; }
static Value bool_val(bool b) { return (Value){.kind = V_BOOL, .b = b}; }

static Value float_val(Elab *e, double f, Loc loc) {
    if (!isfinite(f)) fail(e, loc, "decimal result is out of range");
    return (Value){.kind = V_FLOAT, .f = f};
}

static bool is_num(Value v) { return v.kind == V_INT || v.kind == V_FLOAT; }
static double num(Value v) { return v.kind == V_INT ? (double)v.i : v.f; }

static const char *op_text(AstOp op) {
    static const char *const text[] = {"+",  "-",  "*", "/",  "%",  "==",
                                       "!=", "<",  "<=", ">", ">=", "and",
                                       "or", "-",  "not"};
    return text[op];
}

static _Noreturn void bad_operands(Elab *e, AstOp op, Value a, Value b,
                                   Loc loc) {
    if (a.kind == V_TENSOR && b.kind == V_TENSOR)
        fail(e, loc, "cannot apply '%s' to two tensors (tensors take '+', "
             "'-' and '*')", op_text(op));
    if (a.kind == V_TENSOR || b.kind == V_TENSOR)
        fail(e, loc, "cannot apply '%s' to %s and %s (scale a tensor with "
             "rescale)", op_text(op), kind_name(a.kind), kind_name(b.kind));
    fail(e, loc, "cannot apply '%s' to %s and %s", op_text(op),
         kind_name(a.kind), kind_name(b.kind));
}

static Value concat_lists(Elab *e, List *a, List *b, Loc loc) {
    List *l = list_new(e, a->n + b->n, loc);
    if (a->n) memcpy(l->items, a->items, (size_t)a->n * sizeof(Value));
    if (b->n) memcpy(l->items + a->n, b->items, (size_t)b->n * sizeof(Value));
    return (Value){.kind = V_LIST, .list = l};
}

static Value repeat_list(Elab *e, List *a, int64_t times, Loc loc) {
    if (times < 0)
        fail(e, loc, "cannot repeat a list %lld times", (long long)times);
    if (a->n && times > MAX_LIST / a->n)
        fail(e, loc, "list of %lld x %lld elements is too long (the limit "
             "is %d)", (long long)a->n, (long long)times, MAX_LIST);
    List *l = list_new(e, a->n * times, loc);
    /* An empty list repeats to itself at once: looping `times` times would
     * hang on [] * 9223372036854775807 (a fuzz finding). */
    if (a->n)
        for (int64_t k = 0; k < times; k++)
            memcpy(l->items + k * a->n, a->items,
                   (size_t)a->n * sizeof(Value));
    return (Value){.kind = V_LIST, .list = l};
}

static Value int_arith(Elab *e, AstOp op, int64_t a, int64_t b, Loc loc) {
    int64_t r = 0;
    bool over = false;
    switch (op) {
    case BIN_ADD: over = __builtin_add_overflow(a, b, &r); break;
    case BIN_SUB: over = __builtin_sub_overflow(a, b, &r); break;
    case BIN_MUL: over = __builtin_mul_overflow(a, b, &r); break;
    case BIN_DIV:
        if (b == 0) fail(e, loc, "division by zero");
        if (b == -1) {
            over = __builtin_sub_overflow((int64_t)0, a, &r);
        } else if (a % b == 0) {
            r = a / b;
        } else {
            return float_val(e, (double)a / (double)b, loc);
        }
        break;
    case BIN_MOD:
        if (b == 0) fail(e, loc, "division by zero");
        r = b == -1 ? 0 : a % b;
        if (r != 0 && (r < 0) != (b < 0)) r += b;
        break;
    default: die("int_arith: bad op %d", (int)op);
    }
    if (over)
        fail(e, loc, "integer overflow in %lld %s %lld", (long long)a,
             op_text(op), (long long)b);
    return int_val(r);
}

static bool equal(Elab *e, Value a, Value b, Loc loc) {
    if (is_num(a) && is_num(b)) {
        if (a.kind == V_INT && b.kind == V_INT) return a.i == b.i;
        return num(a) == num(b);
    }
    bool texty_a = a.kind == V_STRING || a.kind == V_WORD;
    bool texty_b = b.kind == V_STRING || b.kind == V_WORD;
    if (texty_a && texty_b) return !strcmp(a.s, b.s);
    if (a.kind == V_BOOL && b.kind == V_BOOL) return a.b == b.b;
    fail(e, loc, "cannot compare %s with %s", kind_name(a.kind),
         kind_name(b.kind));
}

static bool want_bool(Elab *e, Value v, const char *what, Loc loc) {
    if (v.kind != V_BOOL)
        fail(e, loc, "%s must be true or false, got %s", what, describe(e, v));
    return v.b;
}

static Value binary(Elab *e, const Ast *x) {
    AstOp op = x->op;
    Value a = eval(e, x->lhs);
    if (op == BIN_AND || op == BIN_OR) {
        const char *what = op == BIN_AND ? "the operands of 'and'"
                                         : "the operands of 'or'";
        bool l = want_bool(e, a, what, x->lhs->loc);
        if (l == (op == BIN_OR)) return bool_val(l);
        return bool_val(want_bool(e, eval(e, x->rhs), what, x->rhs->loc));
    }
    Value b = eval(e, x->rhs);
    switch (op) {
    case BIN_EQ: return bool_val(equal(e, a, b, x->loc));
    case BIN_NE: return bool_val(!equal(e, a, b, x->loc));
    case BIN_LT: case BIN_LE: case BIN_GT: case BIN_GE: {
        if (!is_num(a) || !is_num(b)) bad_operands(e, op, a, b, x->loc);
        int c;
        if (a.kind == V_INT && b.kind == V_INT)
            c = (a.i > b.i) - (a.i < b.i);
        else
            c = (num(a) > num(b)) - (num(a) < num(b));
        return bool_val(op == BIN_LT ? c < 0 : op == BIN_LE ? c <= 0
                        : op == BIN_GT ? c > 0 : c >= 0);
    }
    default: break;
    }
    if ((op == BIN_ADD || op == BIN_SUB || op == BIN_MUL) &&
        a.kind == V_TENSOR && b.kind == V_TENSOR)
        return tensor_merge(e, op == BIN_ADD   ? OP_ADD
                               : op == BIN_SUB ? OP_SUBTRACT
                                               : OP_MULTIPLY,
                            a.t, b.t, x->loc);
    if (op == BIN_ADD && a.kind == V_LIST && b.kind == V_LIST)
        return concat_lists(e, a.list, b.list, x->loc);
    if (op == BIN_MUL && a.kind == V_LIST && b.kind == V_INT)
        return repeat_list(e, a.list, b.i, x->loc);
    if (op == BIN_MUL && a.kind == V_INT && b.kind == V_LIST)
        return repeat_list(e, b.list, a.i, x->loc);
    if (!is_num(a) || !is_num(b)) bad_operands(e, op, a, b, x->loc);
    if (a.kind == V_INT && b.kind == V_INT)
        return int_arith(e, op, a.i, b.i, x->loc);
    if (op == BIN_MOD) bad_operands(e, op, a, b, x->loc);
    double p = num(a), q = num(b);
    switch (op) {
    case BIN_ADD: return float_val(e, p + q, x->loc);
    case BIN_SUB: return float_val(e, p - q, x->loc);
    case BIN_MUL: return float_val(e, p * q, x->loc);
    case BIN_DIV:
        if (q == 0) fail(e, x->loc, "division by zero");
        return float_val(e, p / q, x->loc);
    default: die("binary: bad op %d", (int)op);
    }
}

/* Every name a misspelled name could have meant, for did_you_mean. */
static const char **known_names(Elab *e) {
    int n = 0;
    for (Binding *b = e->frame->vars; b; b = b->next) n++;
    n += e->nfns;
    for (int i = 0; enum_words[i]; i++) n++;
    for (int i = 0; act_word(i); i++) n++;
    const char **all = arena_alloc(e->arena, (size_t)(n + 1) * sizeof *all);
    n = 0;
    for (Binding *b = e->frame->vars; b; b = b->next) all[n++] = b->name;
    for (int i = 0; i < e->nfns; i++) all[n++] = e->fns[i]->str;
    for (int i = 0; enum_words[i]; i++) all[n++] = enum_words[i];
    for (int i = 0; act_word(i); i++) all[n++] = act_word(i);
    return all;
}

static Value lookup(Elab *e, const Ast *x) {
    for (Binding *b = e->frame->vars; b; b = b->next)
        if (!strcmp(b->name, x->str)) return b->val;
    Ast *fn = func_lookup(e, x->str);
    if (fn) return (Value){.kind = V_FUNC, .fn = fn};
    if (is_word(x->str)) return (Value){.kind = V_WORD, .s = x->str};
    for (int i = 0; builtin_names[i]; i++)
        if (!strcmp(builtin_names[i], x->str))
            fail(e, x->loc, "'%s' is an op: call it as %s(...)", x->str,
                 x->str);
    const char *hint = did_you_mean(x->str, known_names(e));
    if (hint)
        fail(e, x->loc, "undefined variable '%s' (did you mean '%s'?)",
             x->str, hint);
    if (e->frame->fn)
        fail(e, x->loc, "undefined variable '%s' (a block or layer sees only "
             "its parameters)", x->str);
    fail(e, x->loc, "undefined variable '%s'", x->str);
}

static Value call(Elab *e, const Ast *x) {
    Value v;
    if (call_builtin(e, x, &v)) return v;
    Ast *fn = func_lookup(e, x->str);
    if (fn) return call_function(e, x, fn);
    for (Binding *b = e->frame->vars; b; b = b->next) {
        if (strcmp(b->name, x->str)) continue;
        if (b->val.kind == V_FUNC) return call_function(e, x, b->val.fn);
        fail(e, x->loc, "'%s' is %s, not an op, block or layer", x->str,
             kind_name(b->val.kind));
    }
    int n = 0;
    while (builtin_names[n]) n++;
    const char **all =
        arena_alloc(e->arena, (size_t)(n + e->nfns + 1) * sizeof *all);
    memcpy(all, builtin_names, (size_t)n * sizeof *all);
    for (int i = 0; i < e->nfns; i++) all[n + i] = e->fns[i]->str;
    const char *hint = did_you_mean(x->str, all);
    if (hint)
        fail(e, x->loc, "unknown op or block '%s' (did you mean '%s'?)",
             x->str, hint);
    fail(e, x->loc, "unknown op or block '%s'", x->str);
}

static Value eval_node(Elab *e, const Ast *x) {
    switch (x->kind) {
    case AST_INT: return int_val(x->ival);
    case AST_FLOAT: return float_val(e, x->fval, x->loc);
    case AST_BOOL: return bool_val(x->ival != 0);
    case AST_STRING: return (Value){.kind = V_STRING, .s = x->str};
    case AST_NAME: return lookup(e, x);
    case AST_LIST: {
        int64_t n = 0;
        for (const Ast *it = x->args; it; it = it->next) n++;
        List *l = list_new(e, n, x->loc);
        n = 0;
        for (const Ast *it = x->args; it; it = it->next)
            l->items[n++] = eval(e, it);
        return (Value){.kind = V_LIST, .list = l};
    }
    case AST_BINARY: return binary(e, x);
    case AST_UNARY: {
        Value v = eval(e, x->lhs);
        if (x->op == UN_NOT)
            return bool_val(!want_bool(e, v, "the operand of 'not'", x->lhs->loc));
        if (v.kind == V_INT) {
            if (v.i == INT64_MIN) fail(e, x->loc, "integer overflow in -%lld",
                                       (long long)v.i);
            return int_val(-v.i);
        }
        if (v.kind == V_FLOAT) return float_val(e, -v.f, x->loc);
        fail(e, x->loc, "cannot negate %s", kind_name(v.kind));
    }
    case AST_COND: {
        Value c = eval(e, x->cond);
        bool b = want_bool(e, c, "the condition of '?:'", x->cond->loc);
        return eval(e, b ? x->lhs : x->rhs);
    }
    case AST_CALL: return call(e, x);
    default: die("eval: not an expression (kind %d)", (int)x->kind);
    }
}

Value eval(Elab *e, const Ast *x) {
    if (++e->nesting > MAX_NESTING)
        fail(e, x->loc, "expression nested too deeply (over %d levels)",
             MAX_NESTING);
    Value v = eval_node(e, x);
    e->nesting--;
    return v;
}

Value tensor_merge(Elab *e, OpKind op, GNode *a, GNode *b, Loc loc) {
    GNode *n = node_new(e, op, loc);
    n->nin = 2;
    n->in = arena_alloc(e->arena, 2 * sizeof *n->in);
    n->in[0] = a;
    n->in[1] = b;
    return (Value){.kind = V_TENSOR, .t = node_finish(e, n, NULL)};
}
