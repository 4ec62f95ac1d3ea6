/* shape.c: the output shape, parameter count and multiply-accumulates of
 * every layer, as Keras computes them.
 *
 * Requires: the node's inputs already shaped, its attributes filled by
 * elaborate (an INPUT node arrives with n->out set). Changes: n->out, the
 * resolved paddings (SAME becomes explicit numbers), params, trainable,
 * macs. Every size is computed with overflow checks, so a huge model is a
 * user error, never undefined behaviour. */
#include "rnc.h"

#include <string.h>

const OpInfo op_info[OP__COUNT] = {
#define X(id, op, base, cls) {op, base, cls},
    RN_OPS(X)
#undef X
};

const char *const act_names[ACT__COUNT] = {
    "none", "relu", "relu6", "sigmoid", "tanh", "softmax", "silu", "gelu",
    "gelu_tanh", "hard_sigmoid", "hard_swish", "elu", "selu", "softplus",
    "softsign", "exponential", "mish", "leaky_relu"};

/* Tensors and weights must fit 2 GiB as float32 (the runtime indexes with
 * 32-bit-safe sizes and the safetensors header stays sane). */
#define MAX_FLOATS ((int64_t)1 << 29)

/* a*b into *out, false on overflow (operands are never negative). */
static bool mul_ok(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0) return false;
    if (a != 0 && b > INT64_MAX / a) return false;
    *out = a * b;
    return true;
}

static bool add_ok(int64_t a, int64_t b, int64_t *out) {
    if (a < 0 || b < 0 || a > INT64_MAX - b) return false;
    *out = a + b;
    return true;
}

/* Product of n factors, -1 on overflow. */
static int64_t product(int n, const int64_t *f) {
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        if (!mul_ok(p, f[i], &p)) return -1;
    return p;
}

int64_t shape_count(const Shape *s) {
    return product(s->rank, s->d);
}

bool shape_equal(const Shape *a, const Shape *b) {
    if (a->rank != b->rank) return false;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i]) return false;
    return true;
}

bool node_is_merge(const GNode *n) {
    switch (n->op) {
    case OP_ADD: case OP_SUBTRACT: case OP_MULTIPLY: case OP_MAXIMUM:
    case OP_MINIMUM: case OP_AVERAGE:
        return true;
    default:
        return false;
    }
}

bool node_is_alias(const GNode *n) {
    return n->op == OP_FLATTEN || n->op == OP_DROPOUT || n->op == OP_RESHAPE ||
           n->pad_folded;
}

void shape_format(const Shape *s, char *out, size_t outlen) {
    size_t n = 0;
    n += (size_t)snprintf(out, outlen, "(None");
    for (int i = 0; i < s->rank && n < outlen; i++)
        n += (size_t)snprintf(out + n, outlen - n, ", %lld",
                              (long long)s->d[i]);
    if (n < outlen) snprintf(out + n, outlen - n, ")");
}

/* The name the user wrote for the op, for messages. */
static const char *op_word(const GNode *n) {
    if (n->op == OP_ACTIVATION) return act_names[n->act];
    return op_info[n->op].op;
}

static bool fail(const GNode *n, char *err, size_t errlen, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
static bool fail(const GNode *n, char *err, size_t errlen, const char *fmt,
                 ...) {
    int k = snprintf(err, errlen, "%s: ", op_word(n));
    if (k < 0 || (size_t)k >= errlen) return false;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, errlen - (size_t)k, fmt, ap);
    va_end(ap);
    return false;
}

static bool need_image(const GNode *n, const GNode *in, char *err,
                       size_t errlen) {
    if (in->out.rank == 3) return true;
    char s[96];
    shape_format(&in->out, s, sizeof s);
    return fail(n, err, errlen,
                "needs an image input (None, H, W, C), got %s", s);
}

/* One spatial axis of a windowed op: k the kernel, s the stride, d the
 * dilation. Resolves SAME into *lo and *hi (odd pixel at the end), gives
 * the output size, or 0 when the window does not fit. With `ceil` (a
 * pool's ceil_mode) the size rounds up as PyTorch's does, less one when
 * the last window would start past the input and its `lo` padding. */
static int64_t window_out(int64_t in, int k, int s, int d, PadMode mode,
                          bool ceil, int *lo, int *hi) {
    int64_t ek = (int64_t)(k - 1) * d + 1;
    if (mode == PAD_SAME) {
        int64_t total = ((in + s - 1) / s - 1) * s + ek - in;
        if (total < 0) total = 0;
        *lo = (int)(total / 2);
        *hi = (int)(total - total / 2);
    }
    if (mode == PAD_VALID) *lo = *hi = 0;
    int64_t padded = in + *lo + *hi;
    if (padded < ek) return 0;
    if (!ceil) return (padded - ek) / s + 1;
    int64_t out = (padded - ek + s - 1) / s + 1;
    if ((out - 1) * s >= in + *lo) out--;
    return out;
}

/* Validates the window attributes and computes out[0..1] (H, W). */
static bool window_shape(GNode *n, const Shape *in, bool pool, int64_t out[2],
                         char *err, size_t errlen) {
    if (n->dh == 0) n->dh = 1;
    if (n->dw == 0) n->dw = 1;
    if (n->kh < 1 || n->kw < 1)
        return fail(n, err, errlen, "kernel %dx%d must be positive", n->kh,
                    n->kw);
    if (n->sh < 1 || n->sw < 1)
        return fail(n, err, errlen, "stride %dx%d must be positive", n->sh,
                    n->sw);
    if (n->dh < 1 || n->dw < 1)
        return fail(n, err, errlen, "dilation %dx%d must be positive", n->dh,
                    n->dw);
    if (n->kh > 65536 || n->kw > 65536 || n->dh > 65536 || n->dw > 65536 ||
        n->sh > 65536 || n->sw > 65536)
        return fail(n, err, errlen, "kernel, stride or dilation too large");
    if (n->padding == PAD_EXPLICIT) {
        if (n->pad_t < 0 || n->pad_b < 0 || n->pad_l < 0 || n->pad_r < 0)
            return fail(n, err, errlen, "padding must not be negative");
        if (n->pad_t > 65536 || n->pad_b > 65536 || n->pad_l > 65536 ||
            n->pad_r > 65536)
            return fail(n, err, errlen, "padding too large");
        /* A pooling window made only of padding has no value. */
        if (pool && (n->pad_t >= n->kh || n->pad_b >= n->kh ||
                     n->pad_l >= n->kw || n->pad_r >= n->kw))
            return fail(n, err, errlen,
                        "padding [%d, %d, %d, %d] must be smaller than the "
                        "pool size %dx%d",
                        n->pad_t, n->pad_b, n->pad_l, n->pad_r, n->kh, n->kw);
    }
    bool ceil = pool && n->ceil_mode;
    out[0] = window_out(in->d[0], n->kh, n->sh, n->dh, n->padding, ceil,
                        &n->pad_t, &n->pad_b);
    out[1] = window_out(in->d[1], n->kw, n->sw, n->dw, n->padding, ceil,
                        &n->pad_l, &n->pad_r);
    if (out[0] < 1 || out[1] < 1) {
        int64_t ekh = (int64_t)(n->kh - 1) * n->dh + 1;
        int64_t ekw = (int64_t)(n->kw - 1) * n->dw + 1;
        return fail(n, err, errlen,
                    "%s %lldx%lld is larger than the %sinput %lldx%lld",
                    pool ? "pool size" : "kernel", (long long)ekh,
                    (long long)ekw,
                    n->padding == PAD_EXPLICIT ? "padded " : "",
                    (long long)(in->d[0] + n->pad_t + n->pad_b),
                    (long long)(in->d[1] + n->pad_l + n->pad_r));
    }
    return true;
}

static bool size_ok(GNode *n, const Shape *s, char *err, size_t errlen) {
    char buf[96];
    for (int i = 0; i < s->rank; i++)
        if (s->d[i] < 1) {
            shape_format(s, buf, sizeof buf);
            return fail(n, err, errlen, "shape %s has a dimension below 1",
                        buf);
        }
    int64_t c = shape_count(s);
    if (c < 0 || c > MAX_FLOATS) {
        shape_format(s, buf, sizeof buf);
        return fail(n, err, errlen,
                    "output %s is over 2 GiB as float32", buf);
    }
    return true;
}

/* Shapes, params and MACs of the convolutions. */
static bool infer_conv(GNode *n, const Shape *in, char *err, size_t errlen) {
    int64_t hw[2];
    int64_t cin = in->d[2];
    if (!window_shape(n, in, false, hw, err, errlen)) return false;
    int64_t cout, per_out; /* output channels; kernel taps per output */
    if (n->op == OP_CONV2D) {
        if (n->groups == 0) n->groups = 1;
        if (n->groups < 1)
            return fail(n, err, errlen, "groups must be positive");
        if (n->filters < 1)
            return fail(n, err, errlen, "filters must be positive, got %lld",
                        (long long)n->filters);
        if (cin % n->groups || n->filters % n->groups)
            return fail(n, err, errlen,
                        "input channels (%lld) and filters (%lld) must both "
                        "be divisible by groups (%d)",
                        (long long)cin, (long long)n->filters, n->groups);
        cout = n->filters;
        per_out = cin / n->groups;
    } else {
        if (n->multiplier == 0) n->multiplier = 1;
        if (n->multiplier < 1)
            return fail(n, err, errlen, "multiplier must be positive");
        if (!mul_ok(cin, n->multiplier, &cout))
            return fail(n, err, errlen, "too many output channels");
        per_out = 1;
    }
    n->out = (Shape){3, {hw[0], hw[1], cout}};
    if (!size_ok(n, &n->out, err, errlen)) return false;
    int64_t f[4] = {n->kh, n->kw, per_out, cout}, k, p;
    if ((k = product(4, f)) < 0 || k > MAX_FLOATS)
        return fail(n, err, errlen, "kernel is over 2 GiB as float32");
    if (!add_ok(k, n->bias ? cout : 0, &p))
        return fail(n, err, errlen, "too many parameters");
    n->params = n->trainable = p;
    int64_t m[2] = {hw[0] * hw[1], k}; /* k = kh*kw*per_out*cout */
    if ((n->macs = product(2, m)) < 0)
        return fail(n, err, errlen, "too many multiply-accumulates");
    return true;
}

static bool infer_dense(GNode *n, const Shape *in, char *err, size_t errlen) {
    if (in->rank != 1) {
        char s[96];
        shape_format(in, s, sizeof s);
        return fail(n, err, errlen,
                    "needs a flat input (None, N), got %s; use flatten or a "
                    "global pool first", s);
    }
    if (n->filters < 1)
        return fail(n, err, errlen, "units must be positive, got %lld",
                    (long long)n->filters);
    n->out = (Shape){1, {n->filters}};
    if (!size_ok(n, &n->out, err, errlen)) return false;
    int64_t k, p;
    if (!mul_ok(in->d[0], n->filters, &k) || k > MAX_FLOATS)
        return fail(n, err, errlen, "kernel is over 2 GiB as float32");
    if (!add_ok(k, n->bias ? n->filters : 0, &p))
        return fail(n, err, errlen, "too many parameters");
    n->params = n->trainable = p;
    n->macs = k;
    return true;
}

/* The merges broadcast: operands of one rank whose sizes agree or are 1
 * on each axis (NumPy's rule without a change of rank), giving the
 * largest size of each axis. concat: all but the channels agree. */
static bool infer_merge(GNode *n, char *err, size_t errlen) {
    if (n->nin < 2)
        return fail(n, err, errlen, "needs at least two tensors, got %d",
                    n->nin);
    if (n->op == OP_SUBTRACT && n->nin != 2)
        return fail(n, err, errlen, "needs exactly two tensors, got %d",
                    n->nin);
    Shape s = n->in[0]->out;
    for (int i = 1; i < n->nin; i++) {
        const Shape *t = &n->in[i]->out;
        bool ok = t->rank == s.rank;
        for (int j = 0; ok && j < s.rank; j++) {
            if (n->op == OP_CONCAT && j == s.rank - 1) break;
            if (t->d[j] == s.d[j] || t->d[j] == 1) continue;
            if (s.d[j] == 1 && n->op != OP_CONCAT) s.d[j] = t->d[j];
            else ok = false;
        }
        if (!ok) {
            char a[96], b[96];
            shape_format(&n->in[0]->out, a, sizeof a);
            shape_format(t, b, sizeof b);
            if (n->op == OP_CONCAT)
                return fail(n, err, errlen, "shapes %s and %s differ in "
                            "more than the channels", a, b);
            if (t->rank != s.rank)
                return fail(n, err, errlen, "shapes %s and %s differ in rank",
                            a, b);
            return fail(n, err, errlen, "shapes %s and %s differ (on each "
                        "axis the sizes must agree or one be 1)", a, b);
        }
        if (n->op == OP_CONCAT &&
            !add_ok(s.d[s.rank - 1], t->d[s.rank - 1], &s.d[s.rank - 1]))
            return fail(n, err, errlen, "too many channels");
    }
    n->out = s;
    return size_ok(n, &n->out, err, errlen);
}

/* Keras's Reshape: the same elements in NHWC order, [N] or [H, W, C],
 * one entry -1 (what the others leave). */
static bool infer_reshape(GNode *n, const Shape *in, char *err,
                          size_t errlen) {
    const Shape *t = &n->target;
    int64_t total = shape_count(in), known = 1;
    int free_axis = -1;
    char want[96] = "", have[96];
    shape_format(in, have, sizeof have);
    for (int i = 0; i < t->rank; i++) {
        if (t->d[i] == -1 && free_axis < 0) free_axis = i;
        else if (t->d[i] < 1 || !mul_ok(known, t->d[i], &known))
            return fail(n, err, errlen, "a shape of positive sizes and at most "
                        "one -1 is needed");
    }
    n->out = *t;
    if (free_axis >= 0 && known > 0 && total % known == 0)
        n->out.d[free_axis] = total / known;
    if (shape_count(&n->out) != total || (free_axis >= 0 && total % known)) {
        size_t k = 0;
        for (int i = 0; i < t->rank && k < sizeof want; i++)
            k += (size_t)snprintf(want + k, sizeof want - k, "%s%lld",
                                  i ? ", " : "", (long long)t->d[i]);
        return fail(n, err, errlen, "%s has %lld elements; [%s] cannot hold "
                    "them", have, (long long)total, want);
    }
    return size_ok(n, &n->out, err, errlen);
}

static bool infer(GNode *n, char *err, size_t errlen);
static Shape prelu_alpha(const GNode *n);

bool shape_infer(GNode *n, char *err, size_t errlen) {
    n->params = n->trainable = n->macs = 0;
    bool ok = infer(n, err, errlen);
    if (n->frozen) n->trainable = 0; /* Keras's layer.trainable = False */
    return ok;
}

static bool infer(GNode *n, char *err, size_t errlen) {
    if (n->op == OP_INPUT) {
        if (n->out.rank != 1 && n->out.rank != 3)
            return fail(n, err, errlen, "an input is [H, W, C] or [N]");
        return size_ok(n, &n->out, err, errlen);
    }
    int want = node_is_merge(n) || n->op == OP_CONCAT ? -1 : 1;
    if (want > 0 && n->nin != want)
        die("shape_infer: %s with %d inputs", op_word(n), n->nin);
    const Shape *in = n->nin ? &n->in[0]->out : NULL;
    if (!in) die("shape_infer: %s without inputs", op_word(n));
    switch (n->op) {
    case OP_INPUT:
        break;
    case OP_CONV2D:
    case OP_DEPTHWISE_CONV2D:
        return need_image(n, n->in[0], err, errlen) &&
               infer_conv(n, in, err, errlen);
    case OP_DENSE:
        return infer_dense(n, in, err, errlen);
    case OP_BATCHNORM:
    case OP_LAYERNORM: {
        /* channels are below 2^29: no overflow */
        int64_t c = in->d[in->rank - 1], learnt = !n->no_center + !n->no_scale;
        n->out = *in;
        n->params = (learnt + (n->op == OP_BATCHNORM ? 2 : 0)) * c;
        n->trainable = learnt * c; /* gamma, beta; moving mean/var are not */
        return true;
    }
    case OP_NORMALIZATION: {
        int64_t c = in->d[in->rank - 1];
        n->out = *in;
        if (n->norm_mean && n->norm_n != 1 && n->norm_n != c)
            return fail(n, err, errlen, "mean and variance have %lld values "
                        "for %lld channels", (long long)n->norm_n,
                        (long long)c);
        if (!n->norm_mean) n->params = 2 * c + 1; /* mean, variance, count */
        return true;
    }
    case OP_ACTIVATION:
    case OP_RELU:
    case OP_ELU:
    case OP_LEAKY_RELU:
    case OP_SOFTMAX:
    case OP_RESCALE:
    case OP_DROPOUT:
        n->out = *in;
        return true;
    case OP_PRELU: {
        for (int k = in->rank + 1; k <= 3; k++)
            if (n->shared_axes & (1 << k)) {
                char sh[96];
                shape_format(in, sh, sizeof sh);
                return fail(n, err, errlen, "shared_axes: %s has no axis %d",
                            sh, k);
            }
        n->out = *in;
        Shape a = prelu_alpha(n);
        n->params = n->trainable = shape_count(&a); /* at most the input's */
        return true;
    }
    case OP_MAXPOOL:
    case OP_AVGPOOL: {
        if (!need_image(n, n->in[0], err, errlen)) return false;
        if (n->sh == 0) n->sh = n->kh; /* stride defaults to the size */
        if (n->sw == 0) n->sw = n->kw;
        n->dh = n->dw = 1;
        int64_t hw[2];
        if (!window_shape(n, in, true, hw, err, errlen)) return false;
        n->out = (Shape){3, {hw[0], hw[1], in->d[2]}};
        return true;
    }
    case OP_GLOBAL_AVGPOOL:
    case OP_GLOBAL_MAXPOOL:
        if (!need_image(n, n->in[0], err, errlen)) return false;
        n->out = n->keepdims ? (Shape){3, {1, 1, in->d[2]}}
                             : (Shape){1, {in->d[2]}};
        return true;
    case OP_FLATTEN:
        n->out = (Shape){1, {shape_count(in)}}; /* inputs are bounded */
        return true;
    case OP_ADD:
    case OP_SUBTRACT:
    case OP_MULTIPLY:
    case OP_MAXIMUM:
    case OP_MINIMUM:
    case OP_AVERAGE:
    case OP_CONCAT:
        return infer_merge(n, err, errlen);
    case OP_ZEROPAD: {
        if (!need_image(n, n->in[0], err, errlen)) return false;
        if (n->pad_t < 0 || n->pad_b < 0 || n->pad_l < 0 || n->pad_r < 0)
            return fail(n, err, errlen, "padding must not be negative");
        if (n->pad_t > 65536 || n->pad_b > 65536 || n->pad_l > 65536 ||
            n->pad_r > 65536)
            return fail(n, err, errlen, "padding too large");
        n->padding = PAD_EXPLICIT;
        n->out = (Shape){3, {in->d[0] + n->pad_t + n->pad_b,
                             in->d[1] + n->pad_l + n->pad_r, in->d[2]}};
        return size_ok(n, &n->out, err, errlen);
    }
    case OP_RESHAPE:
        return infer_reshape(n, in, err, errlen);
    case OP_CROP: {
        if (!need_image(n, n->in[0], err, errlen)) return false;
        int64_t h = in->d[0] - n->pad_t - n->pad_b;
        int64_t w = in->d[1] - n->pad_l - n->pad_r;
        if (h < 1 || w < 1)
            return fail(n, err, errlen, "cropping [%d, %d, %d, %d] leaves "
                        "nothing of the %lldx%lld image", n->pad_t, n->pad_b,
                        n->pad_l, n->pad_r, (long long)in->d[0],
                        (long long)in->d[1]);
        n->out = (Shape){3, {h, w, in->d[2]}};
        return true;
    }
    case OP_UPSAMPLE: {
        if (!need_image(n, n->in[0], err, errlen)) return false;
        int64_t f[2] = {n->kh, n->kw};
        n->out = (Shape){3, {0, 0, in->d[2]}};
        for (int i = 0; i < 2; i++)
            if (!mul_ok(in->d[i], f[i], &n->out.d[i]))
                return fail(n, err, errlen, "the output is too large");
        return size_ok(n, &n->out, err, errlen);
    }
    case OP_CHANNEL_SHUFFLE: {
        int64_t c = in->d[in->rank - 1];
        if (n->groups < 1 || c % n->groups)
            return fail(n, err, errlen, "%lld channels do not split into %d "
                        "groups", (long long)c, n->groups);
        n->out = *in;
        return true;
    }
    case OP_CHANNEL_SLICE: {
        int64_t c = in->d[in->rank - 1];
        if (n->start < 0 || n->stop <= n->start || n->stop > c)
            return fail(n, err, errlen, "channels [%lld, %lld) are not a "
                        "slice of the input's %lld", (long long)n->start,
                        (long long)n->stop, (long long)c);
        n->out = *in;
        n->out.d[in->rank - 1] = n->stop - n->start;
        return true;
    }
    case OP__COUNT:
        break;
    }
    die("shape_infer: unknown op %d", (int)n->op);
}

/* PReLU's alpha: the input's shape with the shared axes set to 1. */
static Shape prelu_alpha(const GNode *n) {
    Shape a = n->in[0]->out;
    for (int i = 0; i < a.rank; i++)
        if (n->shared_axes & (1 << (i + 1))) a.d[i] = 1;
    return a;
}

int node_weights(const GNode *n, WeightSpec out[MAX_WEIGHTS]) {
    const Shape *in = n->nin ? &n->in[0]->out : NULL;
    int k = 0;
    switch (n->op) {
    case OP_CONV2D:
        out[k++] = (WeightSpec){"kernel", 4,
                                {n->kh, n->kw, in->d[2] / n->groups,
                                 n->filters}, true};
        if (n->bias) out[k++] = (WeightSpec){"bias", 1, {n->filters}, true};
        break;
    case OP_DEPTHWISE_CONV2D:
        out[k++] = (WeightSpec){"depthwise_kernel", 4,
                                {n->kh, n->kw, in->d[2], n->multiplier}, true};
        if (n->bias) out[k++] = (WeightSpec){"bias", 1, {n->out.d[2]}, true};
        break;
    case OP_DENSE:
        out[k++] = (WeightSpec){"kernel", 2, {in->d[0], n->filters}, true};
        if (n->bias) out[k++] = (WeightSpec){"bias", 1, {n->filters}, true};
        break;
    case OP_BATCHNORM:
    case OP_LAYERNORM: {
        int64_t c = in->d[in->rank - 1];
        if (!n->no_scale) out[k++] = (WeightSpec){"gamma", 1, {c}, true};
        if (!n->no_center) out[k++] = (WeightSpec){"beta", 1, {c}, true};
        if (n->op == OP_LAYERNORM) break;
        out[k++] = (WeightSpec){"moving_mean", 1, {c}, false};
        out[k++] = (WeightSpec){"moving_variance", 1, {c}, false};
        break;
    }
    case OP_NORMALIZATION: {
        int64_t c = in->d[in->rank - 1];
        if (n->norm_mean) break; /* constants */
        out[k++] = (WeightSpec){"mean", 1, {c}, false};
        out[k++] = (WeightSpec){"variance", 1, {c}, false};
        out[k++] = (WeightSpec){"count", 0, {0}, false};
        break;
    }
    case OP_PRELU: {
        Shape a = prelu_alpha(n);
        out[k] = (WeightSpec){"alpha", a.rank, {0}, true};
        for (int i = 0; i < a.rank; i++) out[k].dims[i] = a.d[i];
        k++;
        break;
    }
    default:
        break;
    }
    for (int i = 0; i < k; i++) out[i].trainable &= !n->frozen;
    return k;
}

Totals graph_totals(const Graph *g) {
    Totals t = {0};
    for (int i = 0; i < g->nnodes; i++) {
        const GNode *n = g->nodes[i];
        t.params += n->params;
        t.trainable += n->trainable;
        t.macs += n->macs;
    }
    t.weight_bytes = t.params * 4;
    return t;
}
