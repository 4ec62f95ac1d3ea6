/* keras_layers.c: one Keras layer as one .rn call: the op and its
 * arguments, from the layer's config, in OPS.md's syntax.
 *
 * Requires: the layer's inputs translated (their rank known). Produces the
 * Call (op, arguments after the inputs, a note) and the layer's output
 * rank; every field that cannot be imported is told through kerr, the
 * translation going on so that one pass finds them all.
 *
 * Arguments are written only where they differ from the op's default,
 * numbers as the shortest decimals that read back exactly (1/255 as a
 * fraction). Keras's semantics that need care:
 *  - a ReLU, ELU or Softmax layer is not an Activation: they keep an
 *    argument that makes rnc count them as such (OPS.md);
 *  - Keras 3's hard_sigmoid is relu6(x + 3) / 6, Keras 2's and tfjs's
 *    0.2 x + 0.5 (Imp.keras3 tells which);
 *  - GaussianNoise, GaussianDropout, AlphaDropout and SpatialDropout2D are
 *    the identity at inference: dropout rows with a note;
 *  - axes must be the last (channels) one: -1, or the rank counting the
 *    batch (Keras's axis 3 of an image).
 */
#include "import_keras.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Numbers as import.c writes them (the shortest decimal that reads back
 * as the same float32, Keras's precision; 1/255 as that fraction). */
void kl_fmt_num(char *out, size_t n, double v) { import_number(out, n, v); }

#define REQUIRED INT64_MIN /* field_int: the field must be there */
enum { MAX_INT = 1 << 30 }; /* sizes written into the .rn; rnc checks more */

/* --------------------------------------------------------- translation */

void kl_bad(Call *c, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kerr(c->im, c->l, "%s", msg);
}

void kl_arg(Call *c, const char *fmt, ...) {
    char s[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    buf_printf(&c->args, ", %s", s);
}

const rn_json *kl_field(Call *c, const char *key) {
    return kj_get(c->l->cfg, key);
}

static int64_t field_int(Call *c, const char *key, int64_t def, int64_t lo,
                         int64_t hi) {
    const rn_json *v = kl_field(c, key);
    int64_t x;
    if (!v && def != REQUIRED) return def;
    if (!v) {
        kl_bad(c, "the config has no '%s'", key);
        return lo;
    }
    if (!kj_int(v, &x) || x < lo || x > hi) {
        kl_bad(c, "'%s' must be an integer from %lld to %lld", key,
            (long long)lo, (long long)hi);
        return lo;
    }
    return x;
}

/* An integer or a list of two (kernel_size, strides, ...). */
static void field_pair(Call *c, const char *key, int64_t def, int64_t lo,
                       int64_t hi, int64_t out[2]) {
    const rn_json *v = kl_field(c, key), *l = kj_list(v);
    out[0] = out[1] = def;
    if (!v && def != REQUIRED) return;
    bool ok = v != NULL;
    if (l && (l->n == 1 || l->n == 2)) {
        for (int i = 0; i < 2 && ok; i++)
            ok = kj_int(l->items[l->n == 2 ? i : 0], &out[i]);
    } else if (ok) {
        ok = kj_int(v, &out[0]);
        out[1] = out[0];
    }
    if (!ok || out[0] < lo || out[0] > hi || out[1] < lo || out[1] > hi) {
        kl_bad(c, "'%s' must be an integer or two, from %lld to %lld", key,
            (long long)lo, (long long)hi);
        out[0] = out[1] = lo;
    }
}

static double field_num(Call *c, const char *key, double def) {
    const rn_json *v = kl_field(c, key);
    double x;
    if (!v) return def;
    if (!kj_num(v, &x)) {
        kl_bad(c, "'%s' must be a number", key);
        return def;
    }
    return x;
}

static bool field_bool(Call *c, const char *key, bool def) {
    const rn_json *v = kl_field(c, key);
    if (!v) return def;
    if (v->kind != RN_JSON_BOOL) {
        kl_bad(c, "'%s' must be true or false", key);
        return def;
    }
    return v->boolean;
}

static void channels_last(Call *c) {
    const char *f = kj_str(kl_field(c, "data_format"));
    if (f && strcmp(f, "channels_last"))
        kl_bad(c, "data_format '%s' is not supported: rnc computes in NHWC "
            "(channels_last) only", f);
}

/* Fields of Keras 3 that change a layer beyond what rnc computes. */
static void no_extras(Call *c) {
    static const char *const keys[] = {"lora_rank", "quantization_config",
                                       NULL};
    for (int i = 0; keys[i]; i++)
        if (kl_field(c, keys[i])) kl_bad(c, "'%s' is not supported", keys[i]);
    const rn_json *dt = kl_field(c, "dtype");
    const char *policy = kj_str(dt) ? kj_str(dt)
                    : kj_str(kj_get(kj_get(dt, "config"), "name"));
    if (policy && !strncmp(policy, "int", 3))
        kl_bad(c, "quantized layers (dtype policy '%s') are not supported",
            policy);
}

static bool field_same(Call *c) {
    const char *p = kj_str(kl_field(c, "padding"));
    if (!p || !strcmp(p, "valid")) return false;
    if (!strcmp(p, "same")) return true;
    kl_bad(c, "padding '%s' is not supported (valid, same)", p);
    return false;
}

static void arg_pair(Call *c, const char *key, const int64_t v[2]) {
    const char *eq = key ? "=" : "";
    if (!key) key = "";
    if (v[0] == v[1]) kl_arg(c, "%s%s%lld", key, eq, (long long)v[0]);
    else kl_arg(c, "%s%s[%lld, %lld]", key, eq, (long long)v[0],
                (long long)v[1]);
}

void kl_arg_num(Call *c, const char *key, double v) {
    char s[40];
    kl_fmt_num(s, sizeof s, v);
    kl_arg(c, "%s=%s", key, s);
}

/* An activation name of Keras or tfjs as the .rn's word; NULL for the
 * identity. */
static const char *keras_act(Call *c, const char *name) {
    static const char *const same[] = {
        "relu", "relu6", "sigmoid", "tanh", "softmax", "silu", "swish",
        "gelu", "hard_swish", "hard_silu", "elu", "selu", "softplus",
        "softsign", "exponential", "mish", "leaky_relu", NULL};
    if (!strcmp(name, "linear")) return NULL;
    for (int i = 0; same[i]; i++)
        if (!strcmp(name, same[i])) return same[i];
    if (!strcmp(name, "gelu_new")) return "gelu_tanh"; /* tfjs */
    if (!strcmp(name, "hard_sigmoid") || !strcmp(name, "hardSigmoid"))
        return "hard_sigmoid";
    kl_bad(c, "activation '%s' is not supported", name);
    return NULL;
}

static const char *field_act(Call *c) {
    const rn_json *v = kl_field(c, "activation");
    if (!v) return NULL;
    const char *name = kj_str(v);
    if (!name) name = kj_str(kj_get(v, "config")); /* {"class_name": ...} */
    if (!name) name = kj_str(kj_get(v, "class_name"));
    if (!name) {
        kl_bad(c, "'activation' must name an activation");
        return NULL;
    }
    const char *w = keras_act(c, name);
    if (w && !strcmp(w, "hard_sigmoid") && c->im->keras3) {
        kl_bad(c, "activation 'hard_sigmoid' of Keras 3 (relu6(x + 3) / 6) "
            "on this layer is not supported; it is as an Activation layer");
        return NULL;
    }
    return w;
}

/* An axis that must be the last one: -1, or the rank (Keras counts the
 * batch axis); a list of one such axis is fine too. */
static void field_last_axis(Call *c, const char *key, bool list_ok) {
    const rn_json *v = kl_field(c, key), *l = kj_list(v);
    int64_t a = -1;
    if (!v) return;
    if (l && l->n == 1 && list_ok) v = l->items[0];
    if (!kj_int(v, &a) || (a != -1 && (c->l->rank == 0 || a != c->l->rank)))
        kl_bad(c, "'%s' must be the last axis (-1): rnc works on the channels",
            key);
}

static void tr_conv(Call *c, bool transpose) {
    int64_t f = field_int(c, "filters", REQUIRED, 1, MAX_INT), k[2], s[2], d[2];
    field_pair(c, "kernel_size", REQUIRED, 1, MAX_INT, k);
    field_pair(c, "strides", 1, 1, MAX_INT, s);
    bool same = field_same(c);
    field_pair(c, "dilation_rate", 1, 1, MAX_INT, d);
    int64_t g = transpose ? 1 : field_int(c, "groups", 1, 1, MAX_INT);
    bool bias = field_bool(c, "use_bias", true);
    const char *act = field_act(c);
    channels_last(c);
    no_extras(c);
    c->op = transpose ? "conv2d_transpose" : "conv2d";
    c->weights = true;
    kl_arg(c, "%lld", (long long)f);
    arg_pair(c, NULL, k);
    if (s[0] != 1 || s[1] != 1) arg_pair(c, "stride", s);
    if (same) kl_arg(c, "padding=same");
    if (transpose && kl_field(c, "output_padding")) {
        int64_t op[2];
        field_pair(c, "output_padding", 0, 0, MAX_INT, op);
        arg_pair(c, "output_padding", op);
    }
    if (d[0] != 1 || d[1] != 1) arg_pair(c, "dilation", d);
    if (g != 1) kl_arg(c, "groups=%lld", (long long)g);
    if (!bias) kl_arg(c, "bias=false");
    if (act) kl_arg(c, "activation=%s", act);
}

static void tr_conv2d(Call *c) { tr_conv(c, false); }
static void tr_conv2d_transpose(Call *c) { tr_conv(c, true); }

static void tr_depthwise(Call *c, bool separable) {
    int64_t f = separable ? field_int(c, "filters", REQUIRED, 1, MAX_INT) : 0;
    int64_t k[2], s[2], d[2];
    field_pair(c, "kernel_size", REQUIRED, 1, MAX_INT, k);
    field_pair(c, "strides", 1, 1, MAX_INT, s);
    bool same = field_same(c);
    int64_t mult = field_int(c, "depth_multiplier", 1, 1, MAX_INT);
    field_pair(c, "dilation_rate", 1, 1, MAX_INT, d);
    bool bias = field_bool(c, "use_bias", true);
    const char *act = field_act(c);
    channels_last(c);
    no_extras(c);
    c->op = separable ? "separable_conv2d" : "depthwise_conv2d";
    c->weights = true;
    if (separable) kl_arg(c, "%lld", (long long)f);
    arg_pair(c, NULL, k);
    if (s[0] != 1 || s[1] != 1) arg_pair(c, "stride", s);
    if (same) kl_arg(c, "padding=same");
    if (d[0] != 1 || d[1] != 1) arg_pair(c, "dilation", d);
    if (mult != 1) kl_arg(c, "multiplier=%lld", (long long)mult);
    if (!bias) kl_arg(c, "bias=false");
    if (act) kl_arg(c, "activation=%s", act);
}

static void tr_depthwise_conv2d(Call *c) { tr_depthwise(c, false); }
static void tr_separable_conv2d(Call *c) { tr_depthwise(c, true); }

static void tr_dense(Call *c) {
    int64_t u = field_int(c, "units", REQUIRED, 1, MAX_INT);
    bool bias = field_bool(c, "use_bias", true);
    const char *act = field_act(c);
    no_extras(c);
    c->op = "dense";
    c->weights = true;
    kl_arg(c, "%lld", (long long)u);
    if (!bias) kl_arg(c, "bias=false");
    if (act) kl_arg(c, "activation=%s", act);
}

static void tr_norm(Call *c, bool layer) {
    field_last_axis(c, "axis", true);
    double eps = field_num(c, "epsilon", 0.001);
    bool center = field_bool(c, "center", true);
    bool scale = field_bool(c, "scale", true);
    if (layer && field_bool(c, "rms_scaling", false))
        kl_bad(c, "rms_scaling is not supported");
    if (eps <= 0) kl_bad(c, "'epsilon' must be positive");
    no_extras(c);
    c->op = layer ? "layernorm" : "batchnorm";
    c->weights = true;
    if (eps != 0.001) kl_arg_num(c, "epsilon", eps);
    if (!center) kl_arg(c, "center=false");
    if (!scale) kl_arg(c, "scale=false");
}

static void tr_batchnorm(Call *c) { tr_norm(c, false); }
static void tr_layernorm(Call *c) { tr_norm(c, true); }

static void tr_relu(Call *c) {
    const rn_json *mv = kl_field(c, "max_value");
    double max = field_num(c, "max_value", 0);
    double slope = field_num(c, "negative_slope", 0);
    double th = field_num(c, "threshold", 0);
    if (mv && max < 0) kl_bad(c, "'max_value' must not be negative");
    if (slope < 0) kl_bad(c, "'negative_slope' must not be negative");
    c->op = "relu";
    if (mv) kl_arg_num(c, "max_value", max);
    if (slope != 0) kl_arg_num(c, "negative_slope", slope);
    if (th != 0) kl_arg_num(c, "threshold", th);
    if (!mv && slope == 0 && th == 0) /* still a ReLU layer */
        kl_arg(c, "max_value=none");
}

static void tr_leaky_relu(Call *c) {
    double a = field_num(c, kl_field(c, "negative_slope") ? "negative_slope"
                                                      : "alpha", 0.3);
    c->op = "leaky_relu";
    if (a != 0.3) kl_arg_num(c, "alpha", a);
}

static void tr_elu(Call *c) {
    c->op = "elu";
    kl_arg_num(c, "alpha", field_num(c, "alpha", 1.0)); /* an ELU layer */
}

static void tr_prelu(Call *c) {
    const rn_json *v = kl_field(c, "shared_axes"), *l = kj_list(v);
    c->op = "prelu";
    c->weights = true;
    no_extras(c);
    if (!v) return;
    Buf b = {0};
    int n = l ? l->n : 1;
    for (int i = 0; i < n; i++) {
        int64_t a;
        if (!kj_int(l ? l->items[i] : v, &a) || a < 1 ||
            (c->l->rank && a > c->l->rank)) {
            kl_bad(c, "'shared_axes' must list axes from 1 to the rank");
            break;
        }
        buf_printf(&b, "%s%lld", i ? ", " : "", (long long)a);
    }
    kl_arg(c, "shared_axes=[%s]", b.data ? b.data : "");
    buf_free(&b);
}

static void tr_softmax(Call *c) {
    field_last_axis(c, "axis", true);
    c->op = "softmax";
    kl_arg(c, "axis=-1"); /* a Softmax layer */
}

static void tr_activation(Call *c) {
    const char *name = kj_str(kl_field(c, "activation"));
    if (!name) name = kj_str(kj_get(kl_field(c, "activation"), "config"));
    if (!name) {
        kl_bad(c, "'activation' must name an activation");
        return;
    }
    const char *w = keras_act(c, name);
    c->op = w ? w : "linear";
    if (w && !strcmp(w, "hard_sigmoid") && c->im->keras3)
        kl_arg(c, "alpha=1/6"); /* Keras 3: relu6(x + 3) / 6 */
}

static void tr_merge(Call *c) {
    static const char *const ops[][2] = {
        {"Add", "add"}, {"Subtract", "subtract"}, {"Multiply", "multiply"},
        {"Maximum", "maximum"}, {"Minimum", "minimum"},
        {"Average", "average"}, {"Concatenate", "concat"}};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(c->l->klass, ops[i][0])) c->op = ops[i][1];
    c->nin = strcmp(c->op, "subtract") ? -2 : 2;
    if (!strcmp(c->op, "concat")) field_last_axis(c, "axis", false);
}

static void tr_pool(Call *c) {
    int64_t k[2], s[2];
    field_pair(c, "pool_size", 2, 1, MAX_INT, k);
    if (kl_field(c, "strides")) field_pair(c, "strides", 1, 1, MAX_INT, s);
    else s[0] = k[0], s[1] = k[1];
    bool same = field_same(c);
    channels_last(c);
    c->op = strcmp(c->l->klass, "MaxPooling2D") ? "avgpool" : "maxpool";
    arg_pair(c, NULL, k);
    if (s[0] != k[0] || s[1] != k[1]) arg_pair(c, "stride", s);
    if (same) kl_arg(c, "padding=same");
}

static void tr_global_pool(Call *c) {
    bool keep = field_bool(c, "keepdims", false);
    channels_last(c);
    c->op = strcmp(c->l->klass, "GlobalMaxPooling2D") ? "global_avgpool"
                                                      : "global_maxpool";
    if (keep) kl_arg(c, "keepdims=true");
    c->l->rank = keep ? 3 : 1;
}

static void tr_flatten(Call *c) {
    channels_last(c);
    c->op = "flatten";
    c->l->rank = 1;
}

static void tr_reshape(Call *c) {
    const rn_json *l = kj_list(kl_field(c, "target_shape"));
    c->op = "reshape";
    if (!l || (l->n != 1 && l->n != 3)) {
        kl_bad(c, "'target_shape' must have 1 or 3 sizes (rnc's tensors are "
            "[N] or [H, W, C])");
        return;
    }
    Buf b = {0};
    for (int i = 0; i < l->n; i++) {
        int64_t d;
        if (!kj_int(l->items[i], &d) || d < -1 || d == 0 || d > MAX_INT) {
            kl_bad(c, "'target_shape' must hold positive sizes (or one -1)");
            break;
        }
        buf_printf(&b, "%s%lld", i ? ", " : "", (long long)d);
    }
    kl_arg(c, "[%s]", b.data ? b.data : "");
    buf_free(&b);
    c->l->rank = l->n;
}

static void tr_dropout(Call *c) {
    const char *k = c->l->klass;
    c->op = "dropout";
    if (!strcmp(k, "GaussianNoise")) {
        double sd = field_num(c, "stddev", 0);
        char s[40];
        kl_fmt_num(s, sizeof s, sd);
        kl_arg(c, "0");
        c->note = arena_printf(c->im->a, "GaussianNoise(stddev=%s): the "
                               "identity at inference", s);
        return;
    }
    double r = field_num(c, "rate", 0);
    if (r < 0 || r >= 1) {
        kl_bad(c, "'rate' must be from 0 to below 1");
        r = 0;
    }
    char s[40];
    kl_fmt_num(s, sizeof s, r);
    kl_arg(c, "%s", s);
    if (strcmp(k, "Dropout"))
        c->note = arena_printf(c->im->a, "%s: the identity at inference", k);
}

/* [t, b, l, r] from an int, [h, w] or [[t, b], [l, r]]. */
static void field_sides(Call *c, const char *key, int64_t def, int64_t out[4]) {
    const rn_json *v = kl_field(c, key), *l = kj_list(v);
    bool ok = true;
    for (int i = 0; i < 4; i++) out[i] = def;
    if (!v) return;
    if (l && l->n == 2 && kj_list(l->items[0])) {
        for (int i = 0; i < 2 && ok; i++) {
            const rn_json *p = kj_list(l->items[i]);
            ok = p && p->n == 2 && kj_int(p->items[0], &out[2 * i]) &&
                 kj_int(p->items[1], &out[2 * i + 1]);
        }
    } else if (l && l->n == 2) {
        ok = kj_int(l->items[0], &out[0]) && kj_int(l->items[1], &out[2]);
        out[1] = out[0];
        out[3] = out[2];
    } else {
        ok = kj_int(v, &out[0]);
        out[1] = out[2] = out[3] = out[0];
    }
    for (int i = 0; i < 4; i++) ok = ok && out[i] >= 0 && out[i] <= MAX_INT;
    if (!ok) {
        kl_bad(c, "'%s' must be n, [h, w] or [[top, bottom], [left, right]] of "
            "sizes", key);
        for (int i = 0; i < 4; i++) out[i] = 0;
    }
}

static void tr_sides(Call *c, const char *op, const char *key) {
    int64_t p[4];
    field_sides(c, key, 1, p);
    channels_last(c);
    c->op = op;
    if (p[0] == p[1] && p[1] == p[2] && p[2] == p[3])
        kl_arg(c, "%lld", (long long)p[0]);
    else kl_arg(c, "[%lld, %lld, %lld, %lld]", (long long)p[0], (long long)p[1],
             (long long)p[2], (long long)p[3]);
}

static void tr_zeropad(Call *c) { tr_sides(c, "zeropad", "padding"); }
static void tr_crop(Call *c) { tr_sides(c, "crop", "cropping"); }

static void tr_upsample(Call *c) {
    int64_t s[2];
    field_pair(c, "size", 2, 1, MAX_INT, s);
    const char *ip = kj_str(kl_field(c, "interpolation"));
    channels_last(c);
    c->op = "upsample";
    if (s[0] != 2 || s[1] != 2) arg_pair(c, "size", s);
    if (ip && !strcmp(ip, "bilinear")) kl_arg(c, "interpolation=bilinear");
    else if (ip && strcmp(ip, "nearest"))
        kl_bad(c, "interpolation '%s' is not supported (nearest, "
               "bilinear)", ip);
}

static void tr_rescale(Call *c) {
    kl_affine(c, kl_field(c, "scale"), kl_field(c, "offset"),
              "'scale' and 'offset'");
}

/* Normalization's mean or variance given in the config (Keras may keep
 * the broadcast shape, [[[m0, m1, m2]]]): a number or a flat list in out;
 * false when absent. */
static bool const_list(Call *c, const char *key, Buf *out) {
    const rn_json *v = kl_field(c, key);
    double *x;
    int n;
    if (!v) return false;
    if (!kl_numbers(c, v, &x, &n)) {
        kl_bad(c, "'%s' must be numbers", key);
        return true;
    }
    buf_printf(out, "%s", kj_list(v) ? "[" : "");
    for (int i = 0; i < n; i++) {
        char b[40];
        kl_fmt_num(b, sizeof b, x[i]);
        buf_printf(out, "%s%s", i ? ", " : "", b);
    }
    buf_printf(out, "%s", kj_list(v) ? "]" : "");
    return true;
}

static void tr_normalization(Call *c) {
    field_last_axis(c, "axis", true);
    if (!kl_field(c, "axis"))
        kl_bad(c, "axis None (one statistic per element) is not supported; "
               "only the last axis");
    if (field_bool(c, "invert", false))
        kl_bad(c, "invert=true is not supported");
    c->op = "normalization";
    Buf m = {0}, v = {0};
    bool hm = const_list(c, "mean", &m), hv = const_list(c, "variance", &v);
    if (hm != hv) kl_bad(c, "'mean' and 'variance' must be given together");
    if (hm && hv && m.data && v.data) {
        kl_arg(c, "mean=%s", m.data);
        kl_arg(c, "variance=%s", v.data);
    } else {
        c->weights = true;
    }
    buf_free(&m);
    buf_free(&v);
}

typedef void (*TrFn)(Call *c);
static const struct {
    const char *klass;
    TrFn fn;
} classes[] = {
    {"Conv2D", tr_conv2d},
    {"Conv2DTranspose", tr_conv2d_transpose},
    {"DepthwiseConv2D", tr_depthwise_conv2d},
    {"SeparableConv2D", tr_separable_conv2d},
    {"Dense", tr_dense},
    {"BatchNormalization", tr_batchnorm},
    {"LayerNormalization", tr_layernorm},
    {"ReLU", tr_relu},
    {"LeakyReLU", tr_leaky_relu},
    {"ELU", tr_elu},
    {"PReLU", tr_prelu},
    {"Softmax", tr_softmax},
    {"Activation", tr_activation},
    {"Add", tr_merge},
    {"Subtract", tr_merge},
    {"Multiply", tr_merge},
    {"Maximum", tr_merge},
    {"Minimum", tr_merge},
    {"Average", tr_merge},
    {"Concatenate", tr_merge},
    {"MaxPooling2D", tr_pool},
    {"AveragePooling2D", tr_pool},
    {"GlobalAveragePooling2D", tr_global_pool},
    {"GlobalMaxPooling2D", tr_global_pool},
    {"Flatten", tr_flatten},
    {"Reshape", tr_reshape},
    {"Dropout", tr_dropout},
    {"SpatialDropout2D", tr_dropout},
    {"GaussianDropout", tr_dropout},
    {"GaussianNoise", tr_dropout},
    {"AlphaDropout", tr_dropout},
    {"ZeroPadding2D", tr_zeropad},
    {"Cropping2D", tr_crop},
    {"UpSampling2D", tr_upsample},
    {"Rescaling", tr_rescale},
    {"Normalization", tr_normalization},
};

void kl_translate(Call *c) {
    const KLayer *l = c->l;
    if (l->module && !strncmp(l->module, "keras.src.ops", 13)) {
        kl_keras3_op(c);
        return;
    }
    if (!strcmp(l->klass, "TFOpLambda")) {
        kl_tf_op(c);
        return;
    }
    for (size_t i = 0; i < sizeof classes / sizeof *classes; i++)
        if (!strcmp(classes[i].klass, l->klass)) {
            classes[i].fn(c);
            return;
        }
    if (!strcmp(l->klass, "Lambda") || !strcmp(l->klass, "SlicingOpLambda"))
        kerr(c->im, l, "Lambda and TensorFlow-op layers hold code, which "
             "cannot be imported");
    else
        kerr(c->im, l, "this layer type is not supported");
}
