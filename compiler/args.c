/* args.c: binding a call's arguments to parameter names, and the checks
 * of argument values shared by the built-in ops (ops.c) and block/layer
 * calls (elaborate.c): each takes `what` ("conv2d: filters") for its
 * message and fails with the value's location.
 *
 * The words of activation=, padding= and interpolation= are taken as bare
 * words or as the same text in a string. */
#include "elab.h"

#include <math.h>
#include <string.h>

void bind_args(Elab *e, const Ast *call, const char *fname,
               const char *const *names, int nnames, Args *out) {
    memset(out, 0, sizeof *out);
    int pos = 0, npos = 0;
    bool seen_kw = false;
    for (const Ast *a = call->args; a; a = a->next) npos += a->kind != AST_KWARG;
    for (const Ast *a = call->args; a; a = a->next) {
        int i;
        if (a->kind != AST_KWARG) {
            if (seen_kw)
                fail(e, a->loc, "%s: positional argument after keyword "
                     "arguments", fname);
            if (pos >= nnames)
                fail(e, a->loc, "%s takes at most %d argument%s, got %d",
                     fname, nnames, nnames == 1 ? "" : "s", npos);
            i = pos++;
        } else {
            seen_kw = true;
            for (i = 0; i < nnames && strcmp(names[i], a->str); i++) {}
            if (i == nnames) {
                const char **cands =
                    arena_alloc(e->arena, (size_t)(nnames + 1) * sizeof *cands);
                memcpy(cands, names, (size_t)nnames * sizeof *cands);
                const char *hint = did_you_mean(a->str, cands);
                if (hint)
                    fail(e, a->loc, "%s has no argument '%s' (did you mean "
                         "'%s'?)", fname, a->str, hint);
                fail(e, a->loc, "%s has no argument '%s'", fname, a->str);
            }
            if (out->has[i])
                fail(e, a->loc, "%s: argument '%s' given twice", fname,
                     names[i]);
        }
        out->v[i] = eval(e, a->kind == AST_KWARG ? a->lhs : a);
        out->has[i] = true;
        out->at[i] = a->kind == AST_KWARG ? a->lhs->loc : a->loc;
    }
}

/* ---- argument checks: `what` is "conv2d: filters" */

GNode *want_tensor(Elab *e, Value v, const char *what, Loc loc) {
    if (v.kind != V_TENSOR)
        fail(e, loc, "%s must be a tensor, got %s", what, describe(e, v));
    return v.t;
}

int64_t want_int(Elab *e, Value v, const char *what, int64_t lo,
                        int64_t hi, Loc loc) {
    const char *kind = lo > 0 ? "a positive integer" : "a non-negative integer";
    if (v.kind != V_INT || v.i < lo)
        fail(e, loc, "%s must be %s, got %s", what, kind, describe(e, v));
    if (v.i > hi)
        fail(e, loc, "%s must be at most %lld, got %lld", what,
             (long long)hi, (long long)v.i);
    return v.i;
}

double want_number(Elab *e, Value v, const char *what, Loc loc) {
    if (v.kind == V_INT) return (double)v.i;
    if (v.kind == V_FLOAT) return v.f;
    fail(e, loc, "%s must be a number, got %s", what, describe(e, v));
}

bool want_bool(Elab *e, Value v, const char *what, Loc loc) {
    if (v.kind != V_BOOL)
        fail(e, loc, "%s must be true or false, got %s", what, describe(e, v));
    return v.b;
}

/* n or [h, w], each in 1..MAX_SMALL. */
void want_pair(Elab *e, Value v, const char *what, int *h, int *w,
                      Loc loc) {
    if (v.kind == V_INT && v.i >= 1) {
        *h = *w = (int)want_int(e, v, what, 1, MAX_SMALL, loc);
        return;
    }
    if (v.kind == V_LIST && v.list->n == 2 && v.list->items[0].kind == V_INT &&
        v.list->items[1].kind == V_INT && v.list->items[0].i >= 1 &&
        v.list->items[1].i >= 1) {
        *h = (int)want_int(e, v.list->items[0], what, 1, MAX_SMALL, loc);
        *w = (int)want_int(e, v.list->items[1], what, 1, MAX_SMALL, loc);
        return;
    }
    fail(e, loc, "%s must be a positive integer or [h, w], got %s", what,
         describe(e, v));
}

/* n or [h, w], each in 0..MAX_SMALL (an output padding). */
void want_pair0(Elab *e, Value v, const char *what, int *h, int *w, Loc loc) {
    bool list = v.kind == V_LIST && v.list->n == 2;
    if (v.kind == V_INT && v.i >= 0) {
        *h = *w = (int)want_int(e, v, what, 0, MAX_SMALL, loc);
        return;
    }
    if (list && v.list->items[0].kind == V_INT && v.list->items[0].i >= 0 &&
        v.list->items[1].kind == V_INT && v.list->items[1].i >= 0) {
        *h = (int)want_int(e, v.list->items[0], what, 0, MAX_SMALL, loc);
        *w = (int)want_int(e, v.list->items[1], what, 0, MAX_SMALL, loc);
        return;
    }
    fail(e, loc, "%s must be none, a non-negative integer or [h, w], got %s",
         what, describe(e, v));
}

const char *text_of(Value v) {
    return v.kind == V_WORD || v.kind == V_STRING ? v.s : NULL;
}

/* valid, same, n, [ph, pw] or [top, bottom, left, right]. */
void want_padding(Elab *e, Value v, const char *what, GNode *n,
                         bool modes, Loc loc) {
    const char *s = modes ? text_of(v) : NULL;
    if (s && !strcmp(s, "valid")) {
        n->padding = PAD_VALID;
        return;
    }
    if (s && !strcmp(s, "same")) {
        n->padding = PAD_SAME;
        return;
    }
    int p[4];
    bool ok = false;
    if (v.kind == V_INT) {
        p[0] = p[1] = p[2] = p[3] = (int)want_int(e, v, what, 0, MAX_SMALL, loc);
        ok = true;
    } else if (v.kind == V_LIST && (v.list->n == 2 || v.list->n == 4)) {
        ok = true;
        for (int i = 0; i < v.list->n; i++)
            ok = ok && v.list->items[i].kind == V_INT && v.list->items[i].i >= 0;
        if (ok && v.list->n == 2) {
            p[0] = p[1] = (int)want_int(e, v.list->items[0], what, 0, MAX_SMALL, loc);
            p[2] = p[3] = (int)want_int(e, v.list->items[1], what, 0, MAX_SMALL, loc);
        } else if (ok) {
            for (int i = 0; i < 4; i++)
                p[i] = (int)want_int(e, v.list->items[i], what, 0, MAX_SMALL, loc);
        }
    }
    if (!ok && !modes)
        fail(e, loc, "%s must be n, [h, w] or [top, bottom, left, right], "
             "got %s", what, describe(e, v));
    if (!ok) {
        static const char *const words[] = {"valid", "same", NULL};
        const char *hint = s ? did_you_mean(s, words) : NULL;
        fail(e, loc, "%s must be valid, same, n, [ph, pw] or [top, bottom, "
             "left, right], got %s%s%s%s", what, describe(e, v),
             hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
    }
    n->padding = PAD_EXPLICIT;
    n->pad_t = p[0];
    n->pad_b = p[1];
    n->pad_l = p[2];
    n->pad_r = p[3];
}

/* The activation words: every Act's name, and the aliases. */
static const struct {
    const char *word;
    Act act;
} act_words[] = {
    {"none", ACT_NONE}, {"linear", ACT_NONE}, {"relu", ACT_RELU},
    {"relu6", ACT_RELU6}, {"sigmoid", ACT_SIGMOID}, {"tanh", ACT_TANH},
    {"softmax", ACT_SOFTMAX}, {"silu", ACT_SILU}, {"swish", ACT_SILU},
    {"gelu", ACT_GELU}, {"gelu_tanh", ACT_GELU_TANH},
    {"hard_sigmoid", ACT_HARD_SIGMOID}, {"hard_swish", ACT_HARD_SWISH},
    {"hard_silu", ACT_HARD_SWISH}, {"elu", ACT_ELU}, {"selu", ACT_SELU},
    {"softplus", ACT_SOFTPLUS}, {"softsign", ACT_SOFTSIGN},
    {"exponential", ACT_EXPONENTIAL}, {"mish", ACT_MISH},
    {"leaky_relu", ACT_LEAKY_RELU},
};
enum { NACT_WORDS = sizeof act_words / sizeof act_words[0] };

const char *act_word(int i) {
    return i >= 0 && i < NACT_WORDS ? act_words[i].word : NULL;
}

Act want_act(Elab *e, Value v, const char *fname, const char *what,
                    Loc loc) {
    const char *s = text_of(v);
    if (s) {
        const char *words[NACT_WORDS + 1];
        for (int i = 0; i < NACT_WORDS; i++) {
            if (!strcmp(act_words[i].word, s)) return act_words[i].act;
            words[i] = act_words[i].word;
        }
        words[NACT_WORDS] = NULL;
        const char *hint = did_you_mean(s, words);
        if (hint)
            fail(e, loc, "%s: unknown activation '%s' (did you mean '%s'?)",
                 fname, s, hint);
        fail(e, loc, "%s: unknown activation '%s' (see the list in "
             "docs/language.md)", fname, s);
    }
    fail(e, loc, "%s must be an activation such as relu, got %s", what,
         describe(e, v));
}

/* A finite number (an integer or a decimal). */
double want_finite(Elab *e, Value v, const char *what, Loc loc) {
    double d = want_number(e, v, what, loc);
    if (!isfinite(d)) fail(e, loc, "%s must be finite", what);
    return d;
}

double want_nonneg(Elab *e, Value v, const char *what, Loc loc) {
    double d = want_finite(e, v, what, loc);
    if (!(d >= 0))
        fail(e, loc, "%s must not be negative, got %s", what, describe(e, v));
    return d;
}

/* none, an axis k or a list of axes: Keras's 1-based axes (batch 0). */
int want_axes(Elab *e, Value v, const char *what, Loc loc) {
    if (v.kind == V_WORD && !strcmp(v.s, "none")) return 0;
    int64_t n = v.kind == V_LIST ? v.list->n : 1;
    int mask = 0;
    for (int64_t i = 0; i < n; i++) {
        Value a = v.kind == V_LIST ? v.list->items[i] : v;
        if (a.kind != V_INT || a.i < 1 || a.i > 3)
            fail(e, loc, "%s must be none or axes among 1, 2, 3 (H, W, C), "
                 "got %s", what, describe(e, v));
        mask |= 1 << a.i;
    }
    return mask;
}

const char *want_name(Elab *e, Value v, const char *what, Loc loc) {
    if (v.kind != V_STRING)
        fail(e, loc, "%s must be a string, got %s", what, describe(e, v));
    size_t n = strlen(v.s);
    if (n == 0) fail(e, loc, "%s must not be empty", what);
    if (n > MAX_NAME)
        fail(e, loc, "%s is %zu characters long (the limit is %d)", what, n,
             MAX_NAME);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v.s[i];
        if (c == '"' || c == '\\')
            fail(e, loc, "%s must not contain '%c'", what, c);
        if (c < 0x20 || c > 0x7e)
            fail(e, loc, "%s must be printable ASCII, got character 0x%02x "
                 "at position %zu", what, c, i + 1);
    }
    return v.s;
}

/* A number or a list of numbers (Normalization's mean and variance),
 * finite, non-negative when `nonneg`; their count in *n. */
const double *want_numbers(Elab *e, Value v, const char *what,
                                  int64_t *n, bool nonneg, Loc loc) {
    int64_t k = v.kind == V_LIST ? v.list->n : 1;
    double *out = arena_alloc(e->arena, (size_t)(k ? k : 1) * sizeof *out);
    if (k == 0) fail(e, loc, "%s must not be empty", what);
    for (int64_t i = 0; i < k; i++) {
        Value x = v.kind == V_LIST ? v.list->items[i] : v;
        if (x.kind != V_INT && x.kind != V_FLOAT)
            fail(e, loc, "%s must be a number or a list of numbers, got %s",
                 what, describe(e, v));
        out[i] = nonneg ? want_nonneg(e, x, what, loc) : want_finite(e, x, what, loc);
    }
    *n = k;
    return out;
}

/* Reshape's target: [N] or [H, W, C] of positive sizes, one may be -1
 * (shape_infer checks the count). */
Shape want_shape(Elab *e, Value v, const char *what, Loc loc) {
    Shape s = {0};
    bool ok = v.kind == V_LIST && (v.list->n == 1 || v.list->n == 3);
    for (int64_t i = 0; ok && i < v.list->n; i++) {
        Value d = v.list->items[i];
        ok = d.kind == V_INT && (d.i == -1 || (d.i >= 1 && d.i <= MAX_UNITS));
        s.d[i] = ok ? d.i : 0;
    }
    if (!ok)
        fail(e, loc, "%s must be [N] or [H, W, C] of positive sizes (one may "
             "be -1), got %s", what, describe(e, v));
    s.rank = (int)v.list->n;
    return s;
}

Interp want_interp(Elab *e, Value v, const char *what, Loc loc) {
    static const char *const words[] = {"nearest", "bilinear", NULL};
    const char *s = text_of(v);
    if (s && !strcmp(s, "nearest")) return INTERP_NEAREST;
    if (s && !strcmp(s, "bilinear")) return INTERP_BILINEAR;
    const char *hint = s ? did_you_mean(s, words) : NULL;
    fail(e, loc, "%s must be nearest or bilinear, got %s%s%s%s", what,
         describe(e, v), hint ? " (did you mean '" : "", hint ? hint : "",
         hint ? "'?)" : "");
}

