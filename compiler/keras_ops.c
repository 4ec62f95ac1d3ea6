/* keras_ops.c: arithmetic with constants, where Keras writes it as a
 * TensorFlow op (Keras 2's TFOpLambda: `x + 3.`, `x * c`, `x / 6.`) or a
 * Keras 3 op called on tensors (keras.ops Add, Subtract, Multiply,
 * Divide), and Rescaling: one .rn call each (keras_layers.c's Call).
 *
 * Requires: the layer's call (its kwargs' `y`, Keras 3's args) read by
 * keras_config.c. Produces: a scalar x * scale + offset is `rescale`; one
 * per channel is a `normalization` with constant statistics (mean =
 * -offset / scale, variance = 1 / scale^2, so positive scales only),
 * which computes the same within a rounding; two tensors are the merge of
 * the same sum, difference or product. Keras's MobileNetV3 builds its
 * hard_sigmoid this way, EfficientNet its per-channel rescaling.
 */
#include "import_keras.h"

#include <math.h>
#include <string.h>

/* The numbers of v (a number, or lists of them, flattened) into *out,
 * the count in *n; false on anything else or past MAX_CONST. */
enum { MAX_CONST = 1 << 20 };
bool kl_numbers(Call *c, const rn_json *v, double **out, int *n) {
    Buf b = {0};
    bool ok = true;
    const rn_json *stack[9];
    int idx[9], sp = 0, count = 0;
    stack[0] = v;
    idx[0] = -1;
    /* depth-first over nested lists, at most 8 deep */
    while (ok && sp >= 0) {
        const rn_json *cur = stack[sp], *l = kj_list(cur);
        double x;
        if (!l) {
            ok = kj_num(cur, &x) && count < MAX_CONST;
            if (ok) {
                buf_append(&b, (const char *)&x, sizeof x);
                count++;
            }
            sp--;
            continue;
        }
        if (++idx[sp] >= l->n) {
            sp--;
            continue;
        }
        if (sp == 8) {
            ok = false;
            break;
        }
        stack[sp + 1] = l->items[idx[sp]];
        idx[++sp] = -1;
    }
    *n = count;
    *out = arena_alloc(c->im->a, (size_t)(count ? count : 1) * sizeof **out);
    if (count) memcpy(*out, b.data, (size_t)count * sizeof **out);
    buf_free(&b);
    return ok && count > 0;
}

/* y = x * scale + offset, each a number (rescale) or one per channel: a
 * normalization whose constant mean is -offset / scale and variance
 * 1 / scale^2 (so positive scales only). NULL scale or offset: 1 or 0. */
void kl_affine(Call *c, const rn_json *scale, const rn_json *offset,
                   const char *what) {
    double one = 1, zero = 0, *s = &one, *o = &zero;
    int ns = 1, no = 1;
    if ((scale && !kl_numbers(c, scale, &s, &ns)) ||
        (offset && !kl_numbers(c, offset, &o, &no))) {
        kl_bad(c, "%s must be numbers", what);
        return;
    }
    char b[48];
    if (ns == 1 && no == 1) {
        c->op = "rescale";
        kl_fmt_num(b, sizeof b, s[0]);
        kl_arg(c, "%s", b);
        if (o[0] != 0) kl_arg_num(c, "offset", o[0]);
        return;
    }
    int n = ns > no ? ns : no;
    if ((ns != 1 && ns != n) || (no != 1 && no != n)) {
        kl_bad(c, "%s: %d scales and %d offsets do not match", what, ns, no);
        return;
    }
    Buf mean = {0}, var = {0};
    for (int i = 0; i < n; i++) {
        double si = s[ns == 1 ? 0 : i], oi = o[no == 1 ? 0 : i];
        double m = -oi / si, v = 1 / (si * si);
        if (!(si > 0) || !isfinite(m) || !isfinite(v) || v == 0) {
            kl_bad(c, "%s: a per-channel scale must be positive and not tiny "
                "(rnc computes it as a Normalization)", what);
            break;
        }
        kl_fmt_num(b, sizeof b, m == 0 ? 0 : m);
        buf_printf(&mean, "%s%s", i ? ", " : "", b);
        kl_fmt_num(b, sizeof b, v);
        buf_printf(&var, "%s%s", i ? ", " : "", b);
    }
    c->op = "normalization";
    kl_arg(c, "mean=[%s]", mean.data ? mean.data : "");
    kl_arg(c, "variance=[%s]", var.data ? var.data : "");
    c->note = arena_printf(c->im->a, "%s per channel, as (x - mean) / "
                           "sqrt(variance)", c->l->klass);
    buf_free(&mean);
    buf_free(&var);
}


/* x OP y of a TF op (Keras 2's TFOpLambda, y in the call's kwargs) or a
 * Keras 3 op called on tensors: y a tensor (a merge) or constants. */
typedef enum { OP_ADD_, OP_SUB_, OP_MUL_, OP_DIV_ } Arith;

static void arith(Call *c, Arith k, const rn_json *y, bool y_first) {
    static const char *const merge[] = {"add", "subtract", "multiply", NULL};
    if (c->l->nin == 2) { /* two tensors */
        c->nin = 2;
        c->op = merge[k];
        if (!c->op) kl_bad(c, "dividing a tensor by a tensor is not supported");
        return;
    }
    if (!y) {
        kl_bad(c, "the op's second operand is missing");
        return;
    }
    double *v;
    int n;
    if (!kl_numbers(c, y, &v, &n)) {
        kl_bad(c, "the op's second operand must be a tensor or numbers");
        return;
    }
    /* y - x is a rescale by -1 for a number; y / x is nothing rnc has */
    if (y_first && (k == OP_DIV_ || (k == OP_SUB_ && n != 1))) {
        kl_bad(c, "a constant minus or over a tensor is not supported here");
        return;
    }
    switch (k) {
    case OP_ADD_: kl_affine(c, NULL, y, "the constant"); return;
    case OP_MUL_: kl_affine(c, y, NULL, "the constant"); return;
    case OP_SUB_:
        if (y_first) { /* y - x */
            c->op = "rescale";
            kl_arg(c, "-1");
            kl_arg_num(c, "offset", v[0]);
            return;
        }
        for (int i = 0; i < n; i++) v[i] = -v[i];
        break;
    case OP_DIV_:
        for (int i = 0; i < n; i++) {
            if (v[i] == 0) {
                kl_bad(c, "division by zero");
                return;
            }
            v[i] = 1 / v[i];
        }
        break;
    }
    /* the negated or inverted constants, written back as JSON numbers */
    rn_json *list = arena_alloc(c->im->a, sizeof *list);
    list->kind = RN_JSON_ARRAY;
    list->n = n;
    list->items = arena_alloc(c->im->a, (size_t)n * sizeof *list->items);
    for (int i = 0; i < n; i++) {
        rn_json *x = arena_alloc(c->im->a, sizeof *x);
        x->kind = RN_JSON_NUMBER;
        x->number = v[i];
        list->items[i] = x;
    }
    const rn_json *w = n == 1 ? list->items[0] : list;
    if (k == OP_SUB_) kl_affine(c, NULL, w, "the constant");
    else kl_affine(c, w, NULL, "the constant");
}

/* Keras 2's TFOpLambda: a TensorFlow function called on a tensor. */
void kl_tf_op(Call *c) {
    static const struct { const char *fn; Arith k; } fns[] = {
        {"__operators__.add", OP_ADD_}, {"math.add", OP_ADD_},
        {"__operators__.sub", OP_SUB_}, {"math.subtract", OP_SUB_},
        {"__operators__.mul", OP_MUL_}, {"math.multiply", OP_MUL_},
        {"__operators__.truediv", OP_DIV_}, {"math.truediv", OP_DIV_},
        {"math.divide", OP_DIV_}};
    const char *f = kj_str(kl_field(c, "function"));
    for (size_t i = 0; f && i < sizeof fns / sizeof *fns; i++)
        if (!strcmp(f, fns[i].fn)) {
            arith(c, fns[i].k, kj_get(c->l->kwargs, "y"), false);
            return;
        }
    kl_bad(c, "the TensorFlow op 'tf.%s' is not supported (tf.math.add, "
        "subtract, multiply, divide with a constant or a tensor are)",
        f ? f : "?");
}

/* Keras 3: an op of keras.ops called on tensors in a functional model
 * (`x + 3.0` is {"module": "keras.src.ops.numpy", "class_name": "Add",
 * args [tensor, 3.0]}). */
void kl_keras3_op(Call *c) {
    static const struct { const char *klass; Arith k; } ops[] = {
        {"Add", OP_ADD_}, {"Subtract", OP_SUB_}, {"Multiply", OP_MUL_},
        {"Divide", OP_DIV_}, {"TrueDivide", OP_DIV_}};
    const rn_json *args = c->l->args, *y = NULL;
    bool y_first = false;
    for (int i = 0; args && args->kind == RN_JSON_ARRAY && i < args->n; i++) {
        const rn_json *a = args->items[i];
        const char *k = kj_str(kj_get(a, "class_name"));
        if (!(k && !strcmp(k, "__keras_tensor__")) && !y) {
            y = a;
            y_first = i == 0;
        }
    }
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(c->l->klass, ops[i].klass)) {
            arith(c, ops[i].k, y, y_first);
            return;
        }
    kl_bad(c, "the op %s.%s is not supported", c->l->module, c->l->klass);
}
