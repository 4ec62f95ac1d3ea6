/* ops.c: the built-in ops of language.md and the compile-time functions
 * (len, range, channels, height, width): argument binding, type checks with
 * Keras's defaults, and one graph node per op call.
 *
 * Choices where language.md is silent (following Keras):
 *  - the first argument of every op is its input tensor, keyword `x`;
 *  - depthwise_conv2d also takes dilation=1 (Keras's dilation_rate);
 *  - an explicit padding `n` pads n on all four sides, [ph, pw] pads ph on
 *    top and bottom and pw left and right;
 *  - `activation=` and `padding=` take a word or the same word as a string;
 *    `none` and `linear` are both the identity;
 *  - name="..." is 1 to MAX_NAME printable ASCII characters other than '"'
 *    and '\\' (imported models keep names such as "layer1.0.conv1"); it
 *    prefixes the weight names, and generated C only ever sees it
 *    sanitized or escaped;
 *  - trainable= is accepted by every op and `layer` call, as every Keras
 *    layer takes it; it only moves parameters to the non-trainable count;
 *  - numbers stored in the graph's int fields are capped so that no later
 *    arithmetic can overflow: kernel, stride, dilation, pool size, padding,
 *    groups and multiplier at MAX_SMALL, filters and units at MAX_UNITS;
 *    tensor sizes themselves are checked by shape_infer. */
#include "elab.h"

#include <math.h>
#include <string.h>

enum { MAX_SMALL = 1 << 16, MAX_UNITS = 1 << 24 };

/* Parameter lists, the input first; every op also takes name= and
 * trainable= (last). */
#define COMMON "name", "trainable", NULL
static const char *const p_conv[] = {"x", "filters", "kernel", "stride",
    "padding", "dilation", "groups", "bias", "activation", COMMON};
static const char *const p_dw[] = {"x", "kernel", "stride", "padding",
    "multiplier", "dilation", "bias", "activation", COMMON};
static const char *const p_dense[] = {"x", "units", "bias", "activation",
    COMMON};
static const char *const p_bn[] = {"x", "epsilon", "center", "scale", COMMON};
static const char *const p_norm[] = {"x", "mean", "variance", COMMON};
static const char *const p_x[] = {"x", COMMON};
static const char *const p_relu[] = {"x", "max_value", "negative_slope",
    "threshold", COMMON};
static const char *const p_alpha[] = {"x", "alpha", COMMON};
static const char *const p_hard_sigmoid[] = {"x", "alpha", "beta", COMMON};
static const char *const p_softmax[] = {"x", "axis", COMMON};
static const char *const p_prelu[] = {"x", "shared_axes", COMMON};
static const char *const p_maxpool[] = {"x", "size", "stride", "padding",
    "ceil_mode", COMMON};
static const char *const p_avgpool[] = {"x", "size", "stride", "padding",
    "ceil_mode", "count_include_pad", COMMON};
static const char *const p_gpool[] = {"x", "keepdims", COMMON};
static const char *const p_rescale[] = {"x", "scale", "offset", COMMON};
static const char *const p_dropout[] = {"x", "rate", COMMON};
static const char *const p_zeropad[] = {"x", "pad", COMMON};
static const char *const p_reshape[] = {"x", "shape", COMMON};
static const char *const p_crop[] = {"x", "crop", COMMON};
static const char *const p_upsample[] = {"x", "size", "interpolation",
    "align_corners", COMMON};
static const char *const p_shuffle[] = {"x", "groups", COMMON};
static const char *const p_slice[] = {"x", "start", "stop", COMMON};
static const char *const p_range[] = {"start", "stop", NULL};
static const char *const p_list[] = {"list", NULL};
static const char *const p_t[] = {"t", NULL};
#undef COMMON

typedef enum { F_OP, F_LEN, F_RANGE, F_CHANNELS, F_HEIGHT, F_WIDTH } FnKind;

typedef struct Builtin {
    const char *name;
    FnKind fn;
    OpKind op;
    Act act;            /* for the activation ops */
    const char *const *params; /* NULL: variadic tensors (add, concat) */
    int nreq;           /* leading parameters that must be given */
    OpKind layer_op;    /* the op when an argument other than x, name and
                           trainable is given: relu(x, max_value=6) is a
                           Keras ReLU */
} Builtin;

/* Every built-in, with its parameters. An activation word whose Keras
 * layer has arguments becomes that layer when any is given. */
#define BUILTINS(X)                                                      \
    X("conv2d", F_OP, OP_CONV2D, ACT_NONE, p_conv, 3, OP_CONV2D)          \
    X("depthwise_conv2d", F_OP, OP_DEPTHWISE_CONV2D, ACT_NONE, p_dw, 2,   \
      OP_DEPTHWISE_CONV2D)                                               \
    X("dense", F_OP, OP_DENSE, ACT_NONE, p_dense, 2, OP_DENSE)            \
    X("batchnorm", F_OP, OP_BATCHNORM, ACT_NONE, p_bn, 1, OP_BATCHNORM)   \
    X("layernorm", F_OP, OP_LAYERNORM, ACT_NONE, p_bn, 1, OP_LAYERNORM)   \
    X("normalization", F_OP, OP_NORMALIZATION, ACT_NONE, p_norm, 1,       \
      OP_NORMALIZATION)                                                  \
    X("relu", F_OP, OP_ACTIVATION, ACT_RELU, p_relu, 1, OP_RELU)          \
    X("relu6", F_OP, OP_ACTIVATION, ACT_RELU6, p_x, 1, OP_ACTIVATION)     \
    X("sigmoid", F_OP, OP_ACTIVATION, ACT_SIGMOID, p_x, 1, OP_ACTIVATION) \
    X("tanh", F_OP, OP_ACTIVATION, ACT_TANH, p_x, 1, OP_ACTIVATION)       \
    X("softmax", F_OP, OP_ACTIVATION, ACT_SOFTMAX, p_softmax, 1,          \
      OP_SOFTMAX)                                                        \
    X("linear", F_OP, OP_ACTIVATION, ACT_NONE, p_x, 1, OP_ACTIVATION)     \
    X("silu", F_OP, OP_ACTIVATION, ACT_SILU, p_x, 1, OP_ACTIVATION)       \
    X("swish", F_OP, OP_ACTIVATION, ACT_SILU, p_x, 1, OP_ACTIVATION)      \
    X("gelu", F_OP, OP_ACTIVATION, ACT_GELU, p_x, 1, OP_ACTIVATION)       \
    X("gelu_tanh", F_OP, OP_ACTIVATION, ACT_GELU_TANH, p_x, 1,            \
      OP_ACTIVATION)                                                     \
    X("hard_sigmoid", F_OP, OP_ACTIVATION, ACT_HARD_SIGMOID,              \
      p_hard_sigmoid, 1, OP_ACTIVATION)                                  \
    X("hard_swish", F_OP, OP_ACTIVATION, ACT_HARD_SWISH, p_x, 1,          \
      OP_ACTIVATION)                                                     \
    X("hard_silu", F_OP, OP_ACTIVATION, ACT_HARD_SWISH, p_x, 1,           \
      OP_ACTIVATION)                                                     \
    X("elu", F_OP, OP_ACTIVATION, ACT_ELU, p_alpha, 1, OP_ELU)            \
    X("selu", F_OP, OP_ACTIVATION, ACT_SELU, p_x, 1, OP_ACTIVATION)       \
    X("softplus", F_OP, OP_ACTIVATION, ACT_SOFTPLUS, p_x, 1,              \
      OP_ACTIVATION)                                                     \
    X("softsign", F_OP, OP_ACTIVATION, ACT_SOFTSIGN, p_x, 1,              \
      OP_ACTIVATION)                                                     \
    X("exponential", F_OP, OP_ACTIVATION, ACT_EXPONENTIAL, p_x, 1,        \
      OP_ACTIVATION)                                                     \
    X("mish", F_OP, OP_ACTIVATION, ACT_MISH, p_x, 1, OP_ACTIVATION)       \
    X("leaky_relu", F_OP, OP_LEAKY_RELU, ACT_NONE, p_alpha, 1,            \
      OP_LEAKY_RELU)                                                     \
    X("prelu", F_OP, OP_PRELU, ACT_NONE, p_prelu, 1, OP_PRELU)            \
    X("maxpool", F_OP, OP_MAXPOOL, ACT_NONE, p_maxpool, 2, OP_MAXPOOL)    \
    X("avgpool", F_OP, OP_AVGPOOL, ACT_NONE, p_avgpool, 2, OP_AVGPOOL)    \
    X("global_avgpool", F_OP, OP_GLOBAL_AVGPOOL, ACT_NONE, p_gpool, 1,    \
      OP_GLOBAL_AVGPOOL)                                                 \
    X("global_maxpool", F_OP, OP_GLOBAL_MAXPOOL, ACT_NONE, p_gpool, 1,    \
      OP_GLOBAL_MAXPOOL)                                                 \
    X("flatten", F_OP, OP_FLATTEN, ACT_NONE, p_x, 1, OP_FLATTEN)          \
    X("rescale", F_OP, OP_RESCALE, ACT_NONE, p_rescale, 2, OP_RESCALE)    \
    X("add", F_OP, OP_ADD, ACT_NONE, NULL, 0, OP_ADD)                     \
    X("subtract", F_OP, OP_SUBTRACT, ACT_NONE, NULL, 0, OP_SUBTRACT)      \
    X("multiply", F_OP, OP_MULTIPLY, ACT_NONE, NULL, 0, OP_MULTIPLY)      \
    X("maximum", F_OP, OP_MAXIMUM, ACT_NONE, NULL, 0, OP_MAXIMUM)         \
    X("minimum", F_OP, OP_MINIMUM, ACT_NONE, NULL, 0, OP_MINIMUM)         \
    X("average", F_OP, OP_AVERAGE, ACT_NONE, NULL, 0, OP_AVERAGE)         \
    X("concat", F_OP, OP_CONCAT, ACT_NONE, NULL, 0, OP_CONCAT)            \
    X("dropout", F_OP, OP_DROPOUT, ACT_NONE, p_dropout, 2, OP_DROPOUT)    \
    X("zeropad", F_OP, OP_ZEROPAD, ACT_NONE, p_zeropad, 2, OP_ZEROPAD)    \
    X("reshape", F_OP, OP_RESHAPE, ACT_NONE, p_reshape, 2, OP_RESHAPE)    \
    X("crop", F_OP, OP_CROP, ACT_NONE, p_crop, 2, OP_CROP)                \
    X("upsample", F_OP, OP_UPSAMPLE, ACT_NONE, p_upsample, 1,             \
      OP_UPSAMPLE)                                                       \
    X("channel_shuffle", F_OP, OP_CHANNEL_SHUFFLE, ACT_NONE, p_shuffle,   \
      2, OP_CHANNEL_SHUFFLE)                                             \
    X("channel_slice", F_OP, OP_CHANNEL_SLICE, ACT_NONE, p_slice, 3,      \
      OP_CHANNEL_SLICE)                                                  \
    X("len", F_LEN, OP_INPUT, ACT_NONE, p_list, 1, OP_INPUT)              \
    X("range", F_RANGE, OP_INPUT, ACT_NONE, p_range, 1, OP_INPUT)         \
    X("channels", F_CHANNELS, OP_INPUT, ACT_NONE, p_t, 1, OP_INPUT)       \
    X("height", F_HEIGHT, OP_INPUT, ACT_NONE, p_t, 1, OP_INPUT)           \
    X("width", F_WIDTH, OP_INPUT, ACT_NONE, p_t, 1, OP_INPUT)

static const Builtin builtins[] = {
#define X(name, fn, op, act, params, nreq, layer_op) \
    {name, fn, op, act, params, nreq, layer_op},
    BUILTINS(X)
#undef X
};
enum { NBUILTINS = sizeof builtins / sizeof builtins[0] };

const char *const builtin_names[] = {
#define X(name, ...) name,
    BUILTINS(X)
#undef X
    NULL};

static int count(const char *const *names) {
    int n = 0;
    while (names[n]) n++;
    return n;
}

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

static GNode *want_tensor(Elab *e, Value v, const char *what, Loc loc) {
    if (v.kind != V_TENSOR)
        fail(e, loc, "%s must be a tensor, got %s", what, describe(e, v));
    return v.t;
}

static int64_t want_int(Elab *e, Value v, const char *what, int64_t lo,
                        int64_t hi, Loc loc) {
    const char *kind = lo > 0 ? "a positive integer" : "a non-negative integer";
    if (v.kind != V_INT || v.i < lo)
        fail(e, loc, "%s must be %s, got %s", what, kind, describe(e, v));
    if (v.i > hi)
        fail(e, loc, "%s must be at most %lld, got %lld", what,
             (long long)hi, (long long)v.i);
    return v.i;
}

static double want_number(Elab *e, Value v, const char *what, Loc loc) {
    if (v.kind == V_INT) return (double)v.i;
    if (v.kind == V_FLOAT) return v.f;
    fail(e, loc, "%s must be a number, got %s", what, describe(e, v));
}

static bool want_bool(Elab *e, Value v, const char *what, Loc loc) {
    if (v.kind != V_BOOL)
        fail(e, loc, "%s must be true or false, got %s", what, describe(e, v));
    return v.b;
}

/* n or [h, w], each in 1..MAX_SMALL. */
static void want_pair(Elab *e, Value v, const char *what, int *h, int *w,
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

static const char *text_of(Value v) {
    return v.kind == V_WORD || v.kind == V_STRING ? v.s : NULL;
}

/* valid, same, n, [ph, pw] or [top, bottom, left, right]. */
static void want_padding(Elab *e, Value v, const char *what, GNode *n,
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

static Act want_act(Elab *e, Value v, const char *fname, const char *what,
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
static double want_finite(Elab *e, Value v, const char *what, Loc loc) {
    double d = want_number(e, v, what, loc);
    if (!isfinite(d)) fail(e, loc, "%s must be finite", what);
    return d;
}

static double want_nonneg(Elab *e, Value v, const char *what, Loc loc) {
    double d = want_finite(e, v, what, loc);
    if (!(d >= 0))
        fail(e, loc, "%s must not be negative, got %s", what, describe(e, v));
    return d;
}

/* none, an axis k or a list of axes: Keras's 1-based axes (batch 0). */
static int want_axes(Elab *e, Value v, const char *what, Loc loc) {
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
static const double *want_numbers(Elab *e, Value v, const char *what,
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
static Shape want_shape(Elab *e, Value v, const char *what, Loc loc) {
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

static Interp want_interp(Elab *e, Value v, const char *what, Loc loc) {
    static const char *const words[] = {"nearest", "bilinear", NULL};
    const char *s = text_of(v);
    if (s && !strcmp(s, "nearest")) return INTERP_NEAREST;
    if (s && !strcmp(s, "bilinear")) return INTERP_BILINEAR;
    const char *hint = s ? did_you_mean(s, words) : NULL;
    fail(e, loc, "%s must be nearest or bilinear, got %s%s%s%s", what,
         describe(e, v), hint ? " (did you mean '" : "", hint ? hint : "",
         hint ? "'?)" : "");
}

/* ---- the ops */

static const char *what(Elab *e, const Builtin *b, int i) {
    return arena_printf(e->arena, "%s: %s", b->name, b->params[i]);
}

/* Index of parameter `name` in b->params (it must be there). */
static int param(const Builtin *b, const char *name) {
    for (int i = 0; b->params[i]; i++)
        if (!strcmp(b->params[i], name)) return i;
    die("op %s has no parameter %s", b->name, name);
}

static Value variadic(Elab *e, const Builtin *b, const Ast *call) {
    int nin = 0;
    const char *name = NULL;
    bool kw = false, frozen = false, has_trainable = false;
    for (const Ast *a = call->args; a; a = a->next) {
        if (a->kind == AST_KWARG) {
            kw = true;
            bool is_name = !strcmp(a->str, "name");
            if (!is_name && strcmp(a->str, "trainable"))
                fail(e, a->loc, "%s has no argument '%s' (it takes tensors, "
                     "name= and trainable=)", b->name, a->str);
            if (is_name ? name != NULL : has_trainable)
                fail(e, a->loc, "%s: argument '%s' given twice", b->name,
                     a->str);
            const char *w = arena_printf(e->arena, "%s: %s", b->name, a->str);
            if (is_name) {
                name = want_name(e, eval(e, a->lhs), w, a->lhs->loc);
            } else {
                frozen = !want_bool(e, eval(e, a->lhs), w, a->lhs->loc);
                has_trainable = true;
            }
        } else if (kw) {
            fail(e, a->loc, "%s: positional argument after keyword arguments",
                 b->name);
        } else {
            nin++;
        }
    }
    if (nin < 2)
        fail(e, call->loc, "%s needs at least two tensors, got %d", b->name, nin);
    if (b->op == OP_SUBTRACT && nin != 2)
        fail(e, call->loc, "subtract needs exactly two tensors, got %d", nin);
    if (nin > MAX_SMALL)
        fail(e, call->loc, "%s of %d tensors is too many", b->name, nin);
    GNode **in = arena_alloc(e->arena, (size_t)nin * sizeof *in);
    nin = 0;
    for (const Ast *a = call->args; a; a = a->next)
        if (a->kind != AST_KWARG) {
            const char *w =
                arena_printf(e->arena, "%s: argument %d", b->name, nin + 1);
            in[nin++] = want_tensor(e, eval(e, a), w, a->loc);
        }
    GNode *n = node_new(e, b->op, call->loc);
    n->in = in;
    n->nin = nin;
    n->frozen = frozen;
    return (Value){.kind = V_TENSOR, .t = node_finish(e, n, name)};
}

/* Binds a call's arguments to a built-in's parameters; a required one
 * that is missing is an error. */
static void bind_required(Elab *e, const Builtin *b, const Ast *call,
                          Args *a) {
    bind_args(e, call, b->name, b->params, count(b->params), a);
    for (int i = 0; i < b->nreq; i++)
        if (!a->has[i])
            fail(e, call->loc, "%s: missing argument '%s'", b->name,
                 b->params[i]);
}

static Value op_call(Elab *e, const Builtin *b, const Ast *call) {
    if (!b->params) return variadic(e, b, call);
    Args a;
    bind_required(e, b, call, &a);
    GNode *n = node_new(e, b->op, call->loc);
    n->nin = 1;
    n->in = arena_alloc(e->arena, sizeof *n->in);
    n->in[0] = want_tensor(e, a.v[0],
                           arena_printf(e->arena, "%s: the input", b->name),
                           a.at[0]);
    n->act = b->act;
    /* Keras's defaults: ELU 1, LeakyReLU 0.3, hard_sigmoid 0.2 and 0.5 */
    n->alpha = b->layer_op == OP_ELU ? 1 : b->op == OP_LEAKY_RELU ? 0.3 : 0.2;
    n->beta = 0.5;
    const char *name = NULL;
    for (int i = 1; i < count(b->params); i++) {
        if (!a.has[i]) continue;
        if (strcmp(b->params[i], "name") && strcmp(b->params[i], "trainable"))
            n->op = b->layer_op;
        const char *p = b->params[i], *w = what(e, b, i);
        Value v = a.v[i];
        Loc at = a.at[i];
        if (!strcmp(p, "filters") || !strcmp(p, "units"))
            n->filters = want_int(e, v, w, 1, MAX_UNITS, at);
        else if (!strcmp(p, "kernel") || !strcmp(p, "size"))
            want_pair(e, v, w, &n->kh, &n->kw, at);
        else if (!strcmp(p, "stride"))
            want_pair(e, v, w, &n->sh, &n->sw, at);
        else if (!strcmp(p, "dilation"))
            want_pair(e, v, w, &n->dh, &n->dw, at);
        else if (!strcmp(p, "padding"))
            want_padding(e, v, w, n, true, at);
        else if (!strcmp(p, "pad") || !strcmp(p, "crop"))
            want_padding(e, v, w, n, false, at);
        else if (!strcmp(p, "shape"))
            n->target = want_shape(e, v, w, at);
        else if (!strcmp(p, "interpolation"))
            n->interp = want_interp(e, v, w, at);
        else if (!strcmp(p, "align_corners"))
            n->align_corners = want_bool(e, v, w, at);
        else if (!strcmp(p, "start"))
            n->start = want_int(e, v, w, 0, MAX_UNITS, at);
        else if (!strcmp(p, "stop"))
            n->stop = want_int(e, v, w, 1, MAX_UNITS, at);
        else if (!strcmp(p, "groups"))
            n->groups = (int)want_int(e, v, w, 1, MAX_SMALL, at);
        else if (!strcmp(p, "multiplier"))
            n->multiplier = (int)want_int(e, v, w, 1, MAX_SMALL, at);
        else if (!strcmp(p, "bias"))
            n->bias = want_bool(e, v, w, at);
        else if (!strcmp(p, "ceil_mode"))
            n->ceil_mode = want_bool(e, v, w, at);
        else if (!strcmp(p, "count_include_pad"))
            n->count_include_pad = want_bool(e, v, w, at);
        else if (!strcmp(p, "keepdims"))
            n->keepdims = want_bool(e, v, w, at);
        else if (!strcmp(p, "activation"))
            n->act = want_act(e, v, b->name, w, at);
        else if (!strcmp(p, "epsilon")) {
            n->epsilon = want_number(e, v, w, at);
            if (!(n->epsilon > 0))
                fail(e, at, "%s must be positive, got %s", w, describe(e, v));
        } else if (!strcmp(p, "scale") && b->op == OP_RESCALE)
            n->scale = want_number(e, v, w, at);
        else if (!strcmp(p, "scale"))
            n->no_scale = !want_bool(e, v, w, at);
        else if (!strcmp(p, "center"))
            n->no_center = !want_bool(e, v, w, at);
        else if (!strcmp(p, "mean"))
            n->norm_mean = want_numbers(e, v, w, &n->norm_n, false, at);
        else if (!strcmp(p, "variance")) {
            int64_t k;
            n->norm_var = want_numbers(e, v, w, &k, true, at);
            if (n->norm_mean && k != n->norm_n)
                fail(e, at, "%s has %lld values, mean %lld", w, (long long)k,
                     (long long)n->norm_n);
        }
        else if (!strcmp(p, "offset"))
            n->offset = want_number(e, v, w, at);
        else if (!strcmp(p, "rate")) {
            n->rate = want_number(e, v, w, at);
            if (!(n->rate >= 0 && n->rate < 1))
                fail(e, at, "%s must be in [0, 1), got %s", w, describe(e, v));
        } else if (!strcmp(p, "alpha"))
            n->alpha = want_finite(e, v, w, at);
        else if (!strcmp(p, "beta"))
            n->beta = want_finite(e, v, w, at);
        else if (!strcmp(p, "max_value")) {
            n->has_max = !(v.kind == V_WORD && !strcmp(v.s, "none"));
            if (n->has_max) n->max_value = want_nonneg(e, v, w, at);
        } else if (!strcmp(p, "negative_slope"))
            n->negative_slope = want_nonneg(e, v, w, at);
        else if (!strcmp(p, "threshold"))
            n->threshold = want_nonneg(e, v, w, at);
        else if (!strcmp(p, "axis")) {
            /* Keras's default -1; the last axis by number is the same */
            int64_t last = n->in[0]->out.rank;
            if (v.kind != V_INT || (v.i != -1 && v.i != last))
                fail(e, at, "%s must be -1 (the last axis, %lld counting the "
                     "batch): softmax runs over the channels, got %s", w,
                     (long long)last, describe(e, v));
        } else if (!strcmp(p, "shared_axes"))
            n->shared_axes = want_axes(e, v, w, at);
        else if (!strcmp(p, "name"))
            name = want_name(e, v, w, at);
        else if (!strcmp(p, "trainable"))
            n->frozen = !want_bool(e, v, w, at);
        else
            die("op_call: unhandled parameter %s", p);
    }
    /* Keras's Normalization: both constants or neither */
    if (b->op == OP_NORMALIZATION && !n->norm_mean != !n->norm_var)
        fail(e, call->loc, "normalization: give both mean and variance, or "
             "neither (then they are weights)");
    /* Keras: UpSampling2D's size defaults to 2 */
    if (b->op == OP_UPSAMPLE && !a.has[param(b, "size")]) n->kh = n->kw = 2;
    if (n->align_corners && n->interp != INTERP_BILINEAR)
        fail(e, a.at[param(b, "align_corners")], "upsample: align_corners "
             "needs interpolation=bilinear");
    /* Keras: pool stride defaults to the pool size. */
    if ((b->op == OP_MAXPOOL || b->op == OP_AVGPOOL) && !a.has[param(b, "stride")]) {
        n->sh = n->kh;
        n->sw = n->kw;
    }
    return (Value){.kind = V_TENSOR, .t = node_finish(e, n, name)};
}

static const Shape *image_of(Elab *e, Value v, const char *fname, Loc loc) {
    GNode *t = want_tensor(e, v, arena_printf(e->arena, "%s: the argument",
                                              fname), loc);
    if (t->out.rank != 3) {
        char s[64];
        shape_format(&t->out, s, sizeof s);
        fail(e, loc, "%s: the tensor %s is flat; it has no %s", fname, s,
             fname);
    }
    return &t->out;
}

static Value fn_call(Elab *e, const Builtin *b, const Ast *call) {
    Args a;
    bind_required(e, b, call, &a);
    Value v = a.v[0];
    switch (b->fn) {
    case F_LEN:
        if (v.kind == V_LIST) return (Value){.kind = V_INT, .i = v.list->n};
        if (v.kind == V_STRING)
            return (Value){.kind = V_INT, .i = (int64_t)strlen(v.s)};
        fail(e, a.at[0], "len: the argument must be a list, got %s",
             describe(e, v));
    case F_RANGE: {
        /* range(n) is 0..n-1; range(a, b) is a..b-1 */
        int64_t lo = 0, hi;
        if (a.has[1]) {
            if (v.kind != V_INT)
                fail(e, a.at[0], "range: start must be an integer, got %s",
                     describe(e, v));
            lo = v.i;
            v = a.v[1];
        }
        if (v.kind != V_INT)
            fail(e, a.at[a.has[1]], "range: the end must be an integer, got %s",
                 describe(e, v));
        hi = v.i;
        int64_t n = 0;
        if (hi > lo && (__builtin_sub_overflow(hi, lo, &n) || n > MAX_LIST))
            fail(e, call->loc, "range from %lld to %lld is too long (the "
                 "limit is %d elements)", (long long)lo, (long long)hi,
                 MAX_LIST);
        List *l = list_new(e, n, call->loc);
        for (int64_t i = 0; i < n; i++)
            l->items[i] = (Value){.kind = V_INT, .i = lo + i};
        return (Value){.kind = V_LIST, .list = l};
    }
    case F_CHANNELS: {
        GNode *t = want_tensor(e, v, "channels: the argument", a.at[0]);
        return (Value){.kind = V_INT, .i = t->out.d[t->out.rank - 1]};
    }
    case F_HEIGHT:
        return (Value){.kind = V_INT, .i = image_of(e, v, b->name, a.at[0])->d[0]};
    case F_WIDTH:
        return (Value){.kind = V_INT, .i = image_of(e, v, b->name, a.at[0])->d[1]};
    case F_OP: break;
    }
    die("fn_call: bad builtin %s", b->name);
}

bool call_builtin(Elab *e, const Ast *call, Value *out) {
    for (int i = 0; i < NBUILTINS; i++) {
        const Builtin *b = &builtins[i];
        if (strcmp(b->name, call->str)) continue;
        *out = b->fn == F_OP ? op_call(e, b, call) : fn_call(e, b, call);
        return true;
    }
    return false;
}
