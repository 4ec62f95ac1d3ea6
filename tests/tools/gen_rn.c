/* gen_rn: writes a random VALID .rn program, for differential testing of
 * the code generator (tests/e2e/differential.sh).
 *
 *   gen_rn SEED > model.rn
 *
 * The program is a random graph over one or two inputs (an image and
 * sometimes a flat one): convolutions with random kernels, strides,
 * dilations, groups and paddings (valid, same, explicit symmetric and
 * asymmetric), depthwise convolutions with multipliers, batchnorm (center
 * and scale false), layernorm, normalization (weights or constants), every
 * activation word and the activation layers with arguments (ReLU, ELU,
 * LeakyReLU, hard_sigmoid, PReLU), merges that broadcast (add, subtract,
 * multiply, maximum, minimum, average, a - b, a * b), reshape, crop,
 * upsample, channel_shuffle and channel_slice, max/avg pools (ceil_mode, count_include_pad) with padding, zeropad, rescale, dropout,
 * residual adds and channel concats of branches, global pools (keepdims), flatten and
 * dense heads, and every tensor that nothing reads as an output. The
 * generator tracks shapes itself (TensorFlow's rules) only to stay valid
 * and small: every tensor under 16x16x24, so that a program runs in
 * milliseconds. The same seed gives the same program. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_T = 64, MAX_HW = 16, MAX_C = 24 };

typedef struct Tensor {
    int rank;      /* 3: [h, w, c]; 1: [c] */
    int h, w, c;
    int readers;   /* ops that use it */
} Tensor;

static uint64_t rng_state;

static uint64_t next(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int rnd(int n) { return (int)(next() % (uint64_t)n); } /* [0, n) */
static int between(int lo, int hi) { return lo + rnd(hi - lo + 1); }
static bool chance(int percent) { return rnd(100) < percent; }

static Tensor t[MAX_T];
static int nt;

static int new_tensor(int rank, int h, int w, int c) {
    t[nt] = (Tensor){rank, h, w, c, 0};
    return nt++;
}

/* Every activation word but exponential, which chained could overflow
 * (see act_op). */
static const char *const acts[] = {
    "none", "relu", "relu6", "sigmoid", "tanh", "softmax", "linear", "silu",
    "swish", "gelu", "gelu_tanh", "hard_sigmoid", "hard_swish", "hard_silu",
    "elu", "selu", "softplus", "softsign", "mish", "leaky_relu"};
enum { NACTS = sizeof acts / sizeof acts[0] };

static const char *act_word(void) { return acts[rnd(NACTS)]; }

/* A pair written as `n` when both agree and by chance, else `[a, b]`. */
static void pair(char *out, size_t n, int a, int b) {
    if (a == b && chance(60)) snprintf(out, n, "%d", a);
    else snprintf(out, n, "[%d, %d]", a, b);
}

/* A window: kernel, stride, dilation and padding drawn until the output is
 * at least 1x1; the text of the arguments in args, the output size in
 * *oh, *ow. Pools take no dilation and pad less than the window. */
typedef struct Window {
    int kh, kw, sh, sw, dh, dw;
    int mode; /* 0 valid, 1 same, 2 explicit */
    int pt, pb, pl, pr;
} Window;

static int out_size(int in, int k, int s, int d, int mode, int lo, int hi) {
    int ek = (k - 1) * d + 1;
    if (mode == 1) return (in + s - 1) / s;
    int padded = in + (mode == 2 ? lo + hi : 0);
    return padded < ek ? 0 : (padded - ek) / s + 1;
}

static bool draw_window(const Tensor *x, bool pool, Window *w, int *oh,
                        int *ow) {
    for (int tries = 0; tries < 20; tries++) {
        w->kh = between(1, 3);
        w->kw = chance(70) ? w->kh : between(1, 3);
        w->sh = chance(60) ? 1 : between(1, 3);
        w->sw = chance(70) ? w->sh : between(1, 3);
        w->dh = w->dw = 1;
        if (!pool && chance(25)) {
            w->dh = between(1, 3);
            w->dw = chance(60) ? w->dh : between(1, 2);
        }
        w->mode = rnd(3);
        int maxpad = pool ? 0 : 2;
        w->pt = between(0, pool ? w->kh - 1 : maxpad);
        w->pb = between(0, pool ? w->kh - 1 : maxpad);
        w->pl = between(0, pool ? w->kw - 1 : maxpad);
        w->pr = between(0, pool ? w->kw - 1 : maxpad);
        if (chance(40)) { w->pb = w->pt; w->pr = w->pl; } /* symmetric */
        *oh = out_size(x->h, w->kh, w->sh, w->dh, w->mode, w->pt, w->pb);
        *ow = out_size(x->w, w->kw, w->sw, w->dw, w->mode, w->pl, w->pr);
        if (*oh >= 1 && *ow >= 1 && *oh <= MAX_HW && *ow <= MAX_HW)
            return true;
    }
    return false;
}

/* The window's keyword arguments (kernel or size is positional, first). */
static void window_args(const Window *w, bool pool, char *s, size_t n) {
    char k[32], st[32], d[32];
    pair(k, sizeof k, w->kh, w->kw);
    pair(st, sizeof st, w->sh, w->sw);
    pair(d, sizeof d, w->dh, w->dw);
    int len = snprintf(s, n, "%s", k);
    if (!(pool && w->sh == w->kh && w->sw == w->kw && chance(50)) &&
        (w->sh != 1 || w->sw != 1 || pool || chance(30)))
        len += snprintf(s + len, n - (size_t)len, ", stride=%s", st);
    if (w->dh != 1 || w->dw != 1)
        len += snprintf(s + len, n - (size_t)len, ", dilation=%s", d);
    if (w->mode == 1)
        snprintf(s + len, n - (size_t)len, ", padding=same");
    else if (w->mode == 0 && chance(50))
        snprintf(s + len, n - (size_t)len, ", padding=valid");
    else if (w->mode == 2) {
        if (w->pt == w->pb && w->pl == w->pr && w->pt == w->pl && chance(50))
            snprintf(s + len, n - (size_t)len, ", padding=%d", w->pt);
        else if (w->pt == w->pb && w->pl == w->pr && chance(50))
            snprintf(s + len, n - (size_t)len, ", padding=[%d, %d]", w->pt,
                     w->pl);
        else
            snprintf(s + len, n - (size_t)len, ", padding=[%d, %d, %d, %d]",
                     w->pt, w->pb, w->pl, w->pr);
    }
}

/* Picks a tensor of the given rank (0: any), the newest most often. */
static int pick(int rank) {
    for (int tries = 0; tries < 50; tries++) {
        int i = chance(60) ? nt - 1 : rnd(nt);
        if (rank == 0 || t[i].rank == rank) return i;
    }
    for (int i = nt - 1; i >= 0; i--)
        if (rank == 0 || t[i].rank == rank) return i;
    return -1;
}

static void use(int i) { t[i].readers++; }

static int conv(int x, int filters, bool keep_size) {
    Tensor *in = &t[x];
    Window w;
    int oh, ow;
    char args[160];
    if (keep_size) {
        w = (Window){between(1, 3), 0, 1, 1, 1, 1, 1, 0, 0, 0, 0};
        w.kw = chance(70) ? w.kh : between(1, 3);
        if (chance(30)) w.dh = w.dw = 2;
        if (in->c >= 16 && filters >= 16 && chance(60)) /* Winograd */
            w.kh = w.kw = 3, w.dh = w.dw = 1;
        oh = in->h, ow = in->w;
    } else if (!draw_window(in, false, &w, &oh, &ow)) {
        return -1;
    }
    window_args(&w, false, args, sizeof args);
    int groups = 1;
    if (filters == 0) {
        int divs[MAX_C], nd = 0;
        for (int g = 1; g <= in->c; g++)
            if (in->c % g == 0) divs[nd++] = g;
        groups = chance(30) ? divs[rnd(nd)] : 1;
        int per = between(1, MAX_C / groups < 4 ? MAX_C / groups : 4);
        filters = groups * per;
        if (filters > MAX_C) filters = groups;
    }
    int y = new_tensor(3, oh, ow, filters);
    printf("t%d = conv2d(t%d, %d, %s", y, x, filters, args);
    if (groups > 1) printf(", groups=%d", groups);
    if (chance(30)) printf(", bias=%s", chance(50) ? "true" : "false");
    if (chance(50)) printf(", activation=%s", act_word());
    printf(")\n");
    use(x);
    return y;
}

/* Two same-size convs to >= 16 channels: the second, 3x3 stride 1 more
 * often than not, runs as Winograd (runtime/winograd.c). */
static int wide(int x) {
    int y = conv(x, between(16, MAX_C), true);
    return y < 0 ? -1 : conv(y, between(16, MAX_C), true);
}

static int depthwise(int x) {
    Tensor *in = &t[x];
    Window w;
    int oh, ow;
    char args[160];
    if (!draw_window(in, false, &w, &oh, &ow)) return -1;
    window_args(&w, false, args, sizeof args);
    int mult = in->c * 3 <= MAX_C && chance(40) ? between(2, 3) : 1;
    int y = new_tensor(3, oh, ow, in->c * mult);
    printf("t%d = depthwise_conv2d(t%d, %s", y, x, args);
    if (mult > 1 || chance(20)) printf(", multiplier=%d", mult);
    if (chance(30)) printf(", bias=%s", chance(50) ? "true" : "false");
    if (chance(40)) printf(", activation=%s", act_word());
    printf(")\n");
    use(x);
    return y;
}

/* PyTorch's ceil_mode: rounded up, less one if the last window would
 * start past the input and its top padding. */
static int ceil_size(int in, int k, int s, int lo, int hi) {
    int out = (in + lo + hi - k + s - 1) / s + 1;
    return (out - 1) * s >= in + lo ? out - 1 : out;
}

static int pool(int x) {
    Tensor *in = &t[x];
    Window w;
    int oh, ow;
    char args[160];
    if (!draw_window(in, true, &w, &oh, &ow)) return -1;
    window_args(&w, true, args, sizeof args);
    bool ceil = w.mode != 1 && chance(40);
    if (ceil) {
        int lo = w.mode == 2, pt = lo ? w.pt : 0, pb = lo ? w.pb : 0;
        int pl = lo ? w.pl : 0, pr = lo ? w.pr : 0;
        oh = ceil_size(in->h, w.kh, w.sh, pt, pb);
        ow = ceil_size(in->w, w.kw, w.sw, pl, pr);
        if (oh > MAX_HW || ow > MAX_HW) return -1;
    }
    bool avg = chance(50);
    int y = new_tensor(3, oh, ow, in->c);
    printf("t%d = %s(t%d, %s%s%s)\n", y, avg ? "avgpool" : "maxpool", x, args,
           ceil ? ", ceil_mode=true" : "",
           avg && chance(40) ? ", count_include_pad=true" : "");
    use(x);
    return y;
}

/* An activation op: a word (an Activation layer), a Keras activation
 * layer with arguments, or a PReLU with shared axes. */
static void act_op(int y, int x, const Tensor *in) {
    switch (rnd(8)) {
    case 0:
        printf("t%d = relu(t%d, max_value=%d.5, negative_slope=0.%d, "
               "threshold=0.%d)\n", y, x, between(0, 3), between(0, 5),
               between(0, 3));
        break;
    case 1:
        printf("t%d = %s(t%d, alpha=0.%d)\n", y, chance(50) ? "elu" : "leaky_relu",
               x, between(1, 9));
        break;
    case 2:
        printf("t%d = hard_sigmoid(t%d, alpha=1/%d, beta=0.5)\n", y, x,
               between(2, 6));
        break;
    case 3:
        printf("t%d = exponential(tanh(t%d))\n", y, x);
        break;
    case 4:
        if (in->rank == 1) {
            printf("t%d = prelu(t%d%s)\n", y, x, chance(50) ? ", shared_axes=1" : "");
        } else {
            static const char *const axes[] = {"none", "[1, 2]", "3", "[1]",
                                               "[2, 3]", "[1, 2, 3]"};
            printf("t%d = prelu(t%d, shared_axes=%s)\n", y, x, axes[rnd(6)]);
        }
        break;
    default: /* a word but none, which is no op */
        printf("t%d = %s(t%d)\n", y, acts[between(1, NACTS - 1)], x);
        break;
    }
}

/* Ops that keep the shape: batchnorm (center/scale), layernorm,
 * normalization, activations, rescale, dropout. */
static int elementwise(int x) {
    Tensor *in = &t[x];
    int y = new_tensor(in->rank, in->h, in->w, in->c);
    switch (rnd(6)) {
    case 0:
        if (chance(50)) printf("t%d = batchnorm(t%d)\n", y, x);
        else printf("t%d = batchnorm(t%d, epsilon=%g)\n", y, x,
                    chance(50) ? 1e-5 : 0.01);
        break;
    case 1:
        act_op(y, x, in);
        break;
    case 2:
        if (chance(50)) printf("t%d = rescale(t%d, 1/255)\n", y, x);
        else printf("t%d = rescale(t%d, %d.5, offset=-%d)\n", y, x,
                    between(0, 3), between(0, 2));
        break;
    case 3:
        printf("t%d = dropout(t%d, 0.%d)\n", y, x, between(1, 9));
        break;
    default: {
        static const char *const opts[] = {"", ", center=false", ", scale=false",
                                           ", center=false, scale=false"};
        int r = rnd(4);
        if (chance(40))
            printf("t%d = layernorm(t%d%s)\n", y, x, opts[r]);
        else if (chance(60))
            printf("t%d = batchnorm(t%d%s)\n", y, x, opts[r]);
        else if (chance(50))
            printf("t%d = normalization(t%d)\n", y, x);
        else
            printf("t%d = normalization(t%d, mean=0.%d, variance=%d.5)\n", y, x,
                   between(0, 9), between(0, 2));
        break;
    }
    }
    use(x);
    return y;
}

static int zeropad(int x) {
    Tensor *in = &t[x];
    int p[4];
    for (int i = 0; i < 4; i++) p[i] = between(0, 2);
    if (in->h + p[0] + p[1] > MAX_HW || in->w + p[2] + p[3] > MAX_HW)
        return -1;
    int y;
    if (chance(40)) {
        if (in->h + 2 * p[0] > MAX_HW || in->w + 2 * p[0] > MAX_HW)
            return -1;
        y = new_tensor(3, in->h + 2 * p[0], in->w + 2 * p[0], in->c);
        printf("t%d = zeropad(t%d, %d)\n", y, x, p[0]);
    } else {
        y = new_tensor(3, in->h + p[0] + p[1], in->w + p[2] + p[3], in->c);
        printf("t%d = zeropad(t%d, [%d, %d, %d, %d])\n", y, x, p[0], p[1],
               p[2], p[3]);
    }
    use(x);
    return y;
}

/* A residual: x + f(x), f keeping the shape (same-padded stride-1 conv or
 * depthwise, or an elementwise op). */
static int residual(int x) {
    Tensor *in = &t[x];
    int b;
    if (in->rank == 1) {
        b = new_tensor(1, 0, 0, in->c);
        printf("t%d = dense(t%d, %d, activation=%s)\n", b, x, in->c,
               act_word());
        use(x);
    } else if (chance(60)) {
        b = conv(x, in->c, true);
    } else {
        b = elementwise(x);
    }
    int y = new_tensor(in->rank, in->h, in->w, in->c);
    if (chance(50)) printf("t%d = t%d + t%d\n", y, x, b);
    else printf("t%d = add(t%d, t%d)\n", y, b, x);
    use(x);
    use(b);
    return y;
}

/* A merge of x and a branch of x that broadcasts, or not: an image's
 * branch [1, 1, C], [H, 1, C], [1, W, C] or [H, W, 1]; a flat one's [1]. */
static int merge(int x) {
    Tensor *in = &t[x];
    int b = -1;
    if (in->rank == 1) {
        int units = chance(50) ? 1 : in->c;
        b = new_tensor(1, 0, 0, units);
        printf("t%d = dense(t%d, %d)\n", b, x, units);
    } else {
        int r = rnd(5);
        int bh = r == 0 || r == 2 ? 1 : in->h, bw = r == 0 || r == 1 ? 1 : in->w;
        if (r == 3) {
            b = new_tensor(3, in->h, in->w, 1);
            printf("t%d = conv2d(t%d, 1, 1)\n", b, x);
        } else if (r == 4) {
            b = elementwise(x);
        } else {
            b = new_tensor(3, bh, bw, in->c);
            printf("t%d = %s(t%d, [%d, %d])\n", b,
                   chance(50) ? "maxpool" : "avgpool", x, in->h / bh, in->w / bw);
        }
    }
    use(x);
    int y = new_tensor(in->rank, in->h, in->w, in->c);
    static const char *const ops[] = {"add", "subtract", "multiply", "maximum",
                                      "minimum", "average"};
    int op = rnd(8);
    bool swap = chance(50);
    int p = swap ? b : x, q = swap ? x : b;
    if (op >= 6)
        printf("t%d = t%d %c t%d\n", y, p, op == 6 ? '-' : '*', q);
    else if (op != 1 && chance(30))
        printf("t%d = %s(t%d, t%d, t%d)\n", y, ops[op], p, q, x);
    else
        printf("t%d = %s(t%d, t%d)\n", y, ops[op], p, q);
    use(x);
    use(b);
    return y;
}

/* reshape (to flat, to another image, a flat one to an image), crop,
 * upsample, channel_shuffle and channel_slice. */
static int shape_op(int x) {
    Tensor *in = &t[x];
    int n = in->rank == 3 ? in->h * in->w * in->c : in->c, y = -1;
    int r = in->rank == 1 ? 0 : rnd(6);
    switch (r) {
    case 0: { /* reshape: [n], or [a, b, n / (a * b)] */
        int a = between(1, 3), b = between(1, 3);
        if (n % (a * b) || n / (a * b) > MAX_C || chance(30)) {
            y = new_tensor(1, 0, 0, n);
            if (chance(50)) printf("t%d = reshape(t%d, [-1])\n", y, x);
            else printf("t%d = reshape(t%d, [%d])\n", y, x, n);
            break;
        }
        y = new_tensor(3, a, b, n / (a * b));
        if (chance(50)) printf("t%d = reshape(t%d, [%d, %d, -1])\n", y, x, a, b);
        else printf("t%d = reshape(t%d, [%d, %d, %d])\n", y, x, a, b, n / (a * b));
        break;
    }
    case 1: { /* crop [t, b, l, r] */
        int p[4] = {rnd(2), rnd(2), rnd(2), rnd(2)};
        if (in->h - p[0] - p[1] < 1 || in->w - p[2] - p[3] < 1) return -1;
        y = new_tensor(3, in->h - p[0] - p[1], in->w - p[2] - p[3], in->c);
        printf("t%d = crop(t%d, [%d, %d, %d, %d])\n", y, x, p[0], p[1], p[2], p[3]);
        break;
    }
    case 2: { /* upsample */
        int sh = between(1, 3), sw = between(1, 3);
        if (in->h * sh > MAX_HW || in->w * sw > MAX_HW) return -1;
        y = new_tensor(3, in->h * sh, in->w * sw, in->c);
        int mode = rnd(3);
        printf("t%d = upsample(t%d, [%d, %d]%s)\n", y, x, sh, sw,
               mode == 0 ? "" : mode == 1 ? ", interpolation=bilinear"
                                          : ", interpolation=bilinear, align_corners=true");
        break;
    }
    case 3: case 4: { /* channel_shuffle by a divisor */
        int g = between(1, in->c);
        while (in->c % g) g--;
        y = new_tensor(3, in->h, in->w, in->c);
        printf("t%d = channel_shuffle(t%d, %d)\n", y, x, g);
        break;
    }
    default: { /* channel_slice */
        int a = rnd(in->c), b = between(a + 1, in->c);
        y = new_tensor(3, in->h, in->w, b - a);
        printf("t%d = channel_slice(t%d, %d, %d)\n", y, x, a, b);
        break;
    }
    }
    use(x);
    return y;
}

/* concat(x, f(x)...) on the channels. */
static int concat(int x) {
    Tensor *in = &t[x];
    int parts[3] = {x, -1, -1}, n = 1, c = in->c;
    int branches = between(1, 2);
    for (int i = 0; i < branches; i++) {
        int f = between(1, 4);
        if (c + f > MAX_C) break;
        int b;
        if (in->rank == 1) {
            b = new_tensor(1, 0, 0, f);
            printf("t%d = dense(t%d, %d)\n", b, x, f);
            use(x);
        } else {
            b = conv(x, f, true);
        }
        parts[n++] = b;
        c += f;
    }
    if (n == 1) return -1;
    int y = new_tensor(in->rank, in->h, in->w, c);
    printf("t%d = concat(", y);
    for (int i = n - 1; i >= 0; i--) {
        printf("t%d%s", parts[i], i ? ", " : ")\n");
        use(parts[i]);
    }
    return y;
}

static int head(int x) {
    Tensor *in = &t[x];
    int y;
    if (in->rank == 3) {
        int r = rnd(3);
        if (r == 2 && in->h * in->w * in->c > 512) r = 0;
        bool keep = r < 2 && chance(25); /* [1, 1, C] */
        if (keep)
            y = new_tensor(3, 1, 1, in->c);
        else
            y = new_tensor(1, 0, 0, r == 2 ? in->h * in->w * in->c : in->c);
        printf("t%d = %s(t%d%s)\n", y,
               r == 0 ? "global_avgpool" : r == 1 ? "global_maxpool"
                                                  : "flatten", x,
               keep ? ", keepdims=true" : "");
    } else {
        y = new_tensor(1, 0, 0, between(1, 12));
        printf("t%d = dense(t%d, %d", y, x, t[y].c);
        if (chance(30)) printf(", bias=false");
        if (chance(60)) printf(", activation=%s", act_word());
        printf(")\n");
    }
    use(x);
    return y;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gen_rn SEED\n");
        return 2;
    }
    rng_state = strtoull(argv[1], NULL, 10) * 0x2545F4914F6CDD1Dull + 1;
    printf("# gen_rn %s\n", argv[1]);
    int img = new_tensor(3, between(1, 12), between(1, 12), between(1, 6));
    printf("input t%d[%d, %d, %d]\n", img, t[img].h, t[img].w, t[img].c);
    int flat = -1;
    if (chance(20)) {
        flat = new_tensor(1, 0, 0, between(1, 8));
        printf("input t%d[%d]\n", flat, t[flat].c);
    }
    int steps = between(2, 12);
    for (int s = 0; s < steps && nt < MAX_T - 8; s++) {
        int x = s == 0 ? img : pick(0);
        if (flat >= 0 && t[flat].readers == 0 && s > 0 && chance(50))
            x = flat;
        if (s == 0) x = img;
        int y = -1;
        if (t[x].rank == 3) {
            switch (rnd(10)) {
            case 0: case 1: y = conv(x, 0, false); break;
            case 2: y = depthwise(x); break;
            case 3: y = pool(x); break;
            case 4: y = zeropad(x); break;
            case 5: y = residual(x); break;
            case 6: y = concat(x); break;
            case 7: y = head(x); break;
            case 8: y = wide(x); break;
            case 9: y = chance(50) ? merge(x) : shape_op(x); break;
            default: y = elementwise(x); break;
            }
        } else {
            switch (rnd(6)) {
            case 0: y = residual(x); break;
            case 4: y = chance(50) ? merge(x) : shape_op(x); break;
            case 1: y = concat(x); break;
            case 2: y = elementwise(x); break;
            default: y = head(x); break;
            }
        }
        if (y < 0) s--, steps--; /* nothing fitted: one step fewer */
    }
    if (t[img].readers == 0) head(img);
    if (flat >= 0 && t[flat].readers == 0) head(flat);
    /* every tensor nothing reads is an output, the newest last */
    int outs = 0;
    for (int i = 0; i < nt; i++)
        if (t[i].readers == 0 && i != img && i != flat) {
            printf("output t%d\n", i);
            outs++;
        }
    if (outs == 0) printf("output t%d\n", nt - 1);
    return 0;
}
