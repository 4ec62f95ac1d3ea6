/* elem_check.c: see elem_check.h. Outputs are filled with a sentinel and
 * one float past each output is checked untouched; inputs start at odd
 * offsets (unaligned vectors). */
#include "elem_check.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "act_ref.h"

static const float SENTINEL = 12345.0f;

typedef RN_EW_ACT(EwAct);
typedef RN_EW_HSIG(EwHsig);
typedef RN_EW_SCALE_SHIFT(EwScaleShift);
typedef RN_EW_BINARY(EwBinary);
typedef RN_EW_CHANNEL_OP(EwChannelOp);
typedef RN_EW_POOL(EwPool);
typedef RN_EW_WINDOW(EwWindow);
typedef RN_EW_GEMV(EwGemv);

/* One level's copies. */
typedef struct Ops {
    EwAct *act;
    EwHsig *hsig;
    EwScaleShift *scale_shift;
    EwBinary *binary;
    EwChannelOp *channel_op;
    EwPool *pool;
    EwWindow *window;
    EwGemv *gemv;
} Ops;

#define OPS(suffix)                                                         \
    {rn_ew_act_run_##suffix, rn_ew_hard_sigmoid_run_##suffix,               \
     rn_ew_scale_shift_run_##suffix, rn_ew_binary_run_##suffix,             \
     rn_ew_channel_op_run_##suffix, rn_ew_global_pool_run_##suffix,         \
     rn_ew_pool_run_##suffix, rn_ew_gemv_run_##suffix}

static Ops ops_of(int level) {
#ifdef RN_DISPATCH_AVX2
    static const Ops avx512 = OPS(avx512), avx2 = OPS(avx2);
    if (level >= RN_LEVEL_AVX512 && rn_isa_level() >= RN_LEVEL_AVX512) return avx512;
    if (level >= RN_LEVEL_AVX2 && rn_isa_level() >= RN_LEVEL_AVX2) return avx2;
#else
    (void)level;
#endif
    static const Ops base = OPS(base);
    return base;
}

static const int ACTS[] = {RN_ACT_RELU, RN_ACT_RELU6, RN_ACT_SIGMOID, RN_ACT_SWISH,
                           RN_ACT_HARD_SWISH, RN_ACT_NONE};
enum { NACTS = sizeof ACTS / sizeof ACTS[0] };

static int rnd(rn_rng *g, int lo, int hi) { /* [lo, hi] */
    return lo + (int)(rn_rng_next(g) % (unsigned long long)(hi - lo + 1));
}


static double binop_ref(double p, double q, int op) {
    switch (op) {
    case RN_MERGE_ADD: return p + q;
    case RN_MERGE_SUB: return p - q;
    case RN_MERGE_MUL: return p * q;
    case RN_MERGE_MAX: return p > q ? p : q;
    default: return p < q ? p : q;
    }
}

/* n + 2 floats: uniform in [-r, r] from index 1 on (so index 1 is not
 * aligned), the ends sentinels. */
static float *buf(rn_rng *g, long n, float r) {
    float *b = malloc((size_t)(n + 2) * sizeof *b);
    if (!b) {
        fprintf(stderr, "elem_check: out of memory\n");
        exit(2);
    }
    b[0] = b[n + 1] = SENTINEL;
    for (long i = 1; i <= n; i++) b[i] = (rn_rng_uniform(g) * 2 - 1) * r;
    return b;
}

/* Whether got is want within tol (relative to mag, plus an absolute
 * floor); prints the first few misses. */
static int miss(int *bad, const char *what, long i, float got, double want,
                double mag) {
    double tol = 2e-6 * mag + 1e-6;
    if (fabs(got - want) <= tol) return 0;
    if (*bad < 3)
        fprintf(stderr, "\nelem_check: %s: [%ld] got %.9g want %.9g\n", what, i, got, want);
    ++*bad;
    return 1;
}

static void ends(int *bad, const char *what, const float *b, long n) {
    if (b[0] != SENTINEL || b[n + 1] != SENTINEL) {
        if (*bad < 3) fprintf(stderr, "\nelem_check: %s: wrote outside\n", what);
        ++*bad;
    }
}

static int check_act(const Ops *o, rn_rng *g) {
    int bad = 0, act = ACTS[rnd(g, 0, NACTS - 1)], inplace = rnd(g, 0, 1);
    long n = rnd(g, 0, 3) ? rnd(g, 0, 200) : rnd(g, 200, 3000);
    float *x = buf(g, n, rnd(g, 0, 4) ? 12.0f : 120.0f), *y = buf(g, n, 1);
    float *out = inplace ? x : y;
    double *ref = malloc((size_t)(n + 1) * sizeof *ref);
    for (long i = 0; i < n; i++) ref[i] = act_ref(x[i + 1], act);
    o->act(act, x + 1, out + 1, n);
    for (long i = 0; i < n; i++) miss(&bad, "act", i, out[i + 1], ref[i], fabs(ref[i]));
    ends(&bad, "act", out, n);
    free(x), free(y), free(ref);
    return bad;
}

static int check_hsig(const Ops *o, rn_rng *g) {
    int bad = 0;
    long n = rnd(g, 0, 300);
    float alpha = rnd(g, 0, 1) ? 0.2f : 1.0f / 6, beta = 0.5f;
    float *x = buf(g, n, 8), *y = buf(g, n, 1);
    o->hsig(x + 1, y + 1, n, alpha, beta);
    for (long i = 0; i < n; i++) {
        double v = (double)alpha * x[i + 1] + beta;
        miss(&bad, "hard_sigmoid", i, y[i + 1], v > 0 ? (v < 1 ? v : 1) : 0, 1);
    }
    ends(&bad, "hard_sigmoid", y, n);
    free(x), free(y);
    return bad;
}

static int check_scale_shift(const Ops *o, rn_rng *g) {
    int bad = 0, c = rnd(g, 1, 70), act = ACTS[rnd(g, 0, NACTS - 1)];
    long npix = rnd(g, 1, 20), n = npix * c;
    float *x = buf(g, n, 4), *y = buf(g, n, 1), *sc = buf(g, c, 2), *sh = buf(g, c, 2);
    const float *shift = rnd(g, 0, 1) ? sh + 1 : NULL;
    o->scale_shift(x + 1, y + 1, npix, c, sc + 1, shift, act);
    for (long i = 0; i < n; i++) {
        int ch = (int)(i % c);
        double s = (double)x[i + 1] * sc[ch + 1] + (shift ? shift[ch] : 0);
        double ref = act_ref(s, act);
        miss(&bad, "scale_shift", i, y[i + 1], ref, fabs(s) + fabs(ref));
    }
    ends(&bad, "scale_shift", y, n);
    free(x), free(y), free(sc), free(sh);
    return bad;
}

static int check_binary(const Ops *o, rn_rng *g) {
    int bad = 0, op = rnd(g, 0, 4), as = rnd(g, 0, 3) == 0, bs = !as && rnd(g, 0, 3) == 0;
    long n = rnd(g, 0, 200);
    float *a = buf(g, n, 3), *b = buf(g, n, 3), *y = buf(g, n, 1);
    o->binary(op, a + 1, as, b + 1, bs, y + 1, n);
    for (long i = 0; i < n; i++) {
        double p = a[as ? 1 : i + 1], q = b[bs ? 1 : i + 1];
        miss(&bad, "binary", i, y[i + 1], binop_ref(p, q, op), fabs(p) + fabs(q));
    }
    ends(&bad, "binary", y, n);
    free(a), free(b), free(y);
    return bad;
}

static int check_channel_op(const Ops *o, rn_rng *g) {
    int bad = 0, op = rnd(g, 0, 4), vf = rnd(g, 0, 1), c = rnd(g, 1, 100);
    long npix = rnd(g, 1, 30), n = npix * c;
    float *x = buf(g, n, 3), *v = buf(g, c, 3), *y = buf(g, n, 1);
    int inplace = rnd(g, 0, 1);
    double *ref = malloc((size_t)(n + 1) * sizeof *ref);
    for (long i = 0; i < n; i++)
        ref[i] = vf ? binop_ref(v[i % c + 1], x[i + 1], op)
                    : binop_ref(x[i + 1], v[i % c + 1], op);
    float *out = inplace ? x : y;
    o->channel_op(op, x + 1, v + 1, vf, out + 1, npix, c);
    for (long i = 0; i < n; i++) miss(&bad, "channel_op", i, out[i + 1], ref[i], fabs(ref[i]) + 9);
    ends(&bad, "channel_op", out, n);
    free(x), free(v), free(y), free(ref);
    return bad;
}

static int check_pool(const Ops *o, rn_rng *g) {
    int bad = 0, is_max = rnd(g, 0, 1), c = rnd(g, 1, 150);
    long npix = rnd(g, 1, 60);
    float *x = buf(g, npix * c, 5), *y = buf(g, c, 1);
    o->pool(is_max, x + 1, y + 1, npix, c);
    for (int ch = 0; ch < c; ch++) {
        double s = is_max ? -INFINITY : 0, m = 0;
        for (long p = 0; p < npix; p++) {
            double v = x[p * c + ch + 1];
            s = is_max ? (v > s ? v : s) : s + v;
            m += fabs(v);
        }
        miss(&bad, "global_pool", ch, y[ch + 1], is_max ? s : s / npix, m / npix);
    }
    ends(&bad, "global_pool", y, c);
    free(x), free(y);
    return bad;
}

/* A pooling window layer: random window, strides, dilations, padding
 * (windows all in the padding too), strided pixels, max or either mean;
 * against the definition in double. */
static int check_window(const Ops *o, rn_rng *g) {
    int bad = 0;
    rn_window d = {.ih = rnd(g, 1, 12), .iw = rnd(g, 1, 12), .c = rnd(g, 1, 70),
                   .kh = rnd(g, 1, 4), .kw = rnd(g, 1, 4), .sh = rnd(g, 1, 3),
                   .sw = rnd(g, 1, 3), .dh = rnd(g, 1, 2), .dw = rnd(g, 1, 2),
                   .op = rnd(g, RN_POOL_MAX, RN_POOL_AVG_PAD)};
    d.pad_t = rnd(g, 0, 3), d.pad_b = rnd(g, 0, 3);
    d.pad_l = rnd(g, 0, 3), d.pad_r = rnd(g, 0, 3);
    d.ldi = d.c + rnd(g, 0, 9), d.ldo = d.c + rnd(g, 0, 3);
    int eh = d.ih + d.pad_t + d.pad_b - (d.kh - 1) * d.dh;
    int ew = d.iw + d.pad_l + d.pad_r - (d.kw - 1) * d.dw;
    if (eh < 1 || ew < 1) return 0; /* the window does not fit */
    d.oh = (eh - 1) / d.sh + 1, d.ow = (ew - 1) / d.sw + 1;
    long nin = (long)d.ih * d.iw * d.ldi, nout = (long)d.oh * d.ow * d.ldo;
    float *x = buf(g, nin, 4), *y = buf(g, nout, 4);
    double *ref = malloc((size_t)(nout + 1) * sizeof *ref);
    for (long i = 0; i < nout; i++) {
        long p = i / d.ldo, ch = i % d.ldo;
        int oy = (int)(p / d.ow), ox = (int)(p % d.ow), count = 0;
        double v = d.op == RN_POOL_MAX ? (double)-3.402823466e+38f : 0;
        for (int ky = 0; ky < d.kh; ky++)
            for (int kx = 0; kx < d.kw; kx++) {
                int iy = oy * d.sh - d.pad_t + ky * d.dh, ix = ox * d.sw - d.pad_l + kx * d.dw;
                bool in = iy >= 0 && iy < d.ih && ix >= 0 && ix < d.iw;
                count += d.op == RN_POOL_AVG_PAD ? iy < d.ih + d.pad_b && ix < d.iw + d.pad_r
                                                 : in;
                if (!in || ch >= d.c) continue;
                double b = x[((long)iy * d.iw + ix) * d.ldi + ch + 1];
                v = d.op == RN_POOL_MAX ? (b > v ? b : v) : v + b;
            }
        ref[i] = ch >= d.c ? y[i + 1] : d.op != RN_POOL_MAX && count ? v / count : v;
    }
    o->window(&d, x + 1, y + 1, 0, d.oh);
    for (long i = 0; i < nout; i++) miss(&bad, "pool", i, y[i + 1], ref[i], 4 * d.kh * d.kw);
    ends(&bad, "pool", y, nout);
    free(x), free(y), free(ref);
    return bad;
}

static int check_gemv(const Ops *o, rn_rng *g) {
    int bad = 0, k = rnd(g, 1, 300), n = rnd(g, 1, 100), ldw = n + rnd(g, 0, 5);
    float *x = buf(g, k, 1), *w = buf(g, (long)k * ldw, 1), *y = buf(g, n, 1);
    double *ref = malloc((size_t)n * 2 * sizeof *ref);
    for (int j = 0; j < n; j++) {
        double s = y[j + 1], m = fabs(y[j + 1]);
        for (int i = 0; i < k; i++) {
            double t = (double)x[i + 1] * w[(long)i * ldw + j + 1];
            s += t, m += fabs(t);
        }
        ref[2 * j] = s, ref[2 * j + 1] = m;
    }
    o->gemv(k, n, x + 1, w + 1, ldw, y + 1);
    for (int j = 0; j < n; j++) miss(&bad, "gemv", j, y[j + 1], ref[2 * j], 3 * ref[2 * j + 1]);
    ends(&bad, "gemv", y, n);
    free(x), free(w), free(y), free(ref);
    return bad;
}

int elem_check(int level, unsigned long long seed, int cases) {
    rn_rng g;
    rn_rng_seed(&g, seed);
    Ops o = ops_of(level);
    int bad = 0;
    for (int i = 0; i < cases; i++) {
        bad += check_act(&o, &g);
        bad += check_hsig(&o, &g);
        bad += check_scale_shift(&o, &g);
        bad += check_binary(&o, &g);
        bad += check_channel_op(&o, &g);
        bad += check_pool(&o, &g);
        bad += check_window(&o, &g);
        bad += check_gemv(&o, &g);
    }
    return bad;
}

/* Each side a whole image, one pixel of channels, one value, a row or a
 * column, against the broadcasting definition. */
int elem_check_merge(unsigned long long seed, int cases) {
    rn_rng g;
    rn_rng_seed(&g, seed);
    int bad = 0;
    for (int i = 0; i < cases; i++) {
        int h = rnd(&g, 1, 6), w = rnd(&g, 1, 6), c = rnd(&g, 1, 40), op = rnd(&g, 0, 4);
        int dims[2][3];
        for (int s = 0; s < 2; s++) {
            int kind = rnd(&g, 0, 4);
            dims[s][0] = kind == 0 || kind == 3 ? h : 1;
            dims[s][1] = kind == 0 || kind == 4 ? w : 1;
            dims[s][2] = kind == 2 ? 1 : c;
        }
        if (rnd(&g, 0, 1)) /* mostly one side whole, as the layers have it */
            dims[0][0] = h, dims[0][1] = w, dims[0][2] = c;
        long na = (long)dims[0][0] * dims[0][1] * dims[0][2];
        long nb = (long)dims[1][0] * dims[1][1] * dims[1][2], n = (long)h * w * c;
        float *a = buf(&g, na, 3), *b = buf(&g, nb, 3), *y = buf(&g, n, 1);
        rn_k_merge(op, a + 1, dims[0][0], dims[0][1], dims[0][2], b + 1, dims[1][0],
                   dims[1][1], dims[1][2], y + 1, h, w, c);
        for (int yy = 0; yy < h; yy++)
            for (int xx = 0; xx < w; xx++)
                for (int ch = 0; ch < c; ch++) {
                    int(*d)[3] = dims;
                    double p = a[1 + ((long)(d[0][0] > 1 ? yy : 0) * d[0][1] +
                                      (d[0][1] > 1 ? xx : 0)) * d[0][2] + (d[0][2] > 1 ? ch : 0)];
                    double q = b[1 + ((long)(d[1][0] > 1 ? yy : 0) * d[1][1] +
                                      (d[1][1] > 1 ? xx : 0)) * d[1][2] + (d[1][2] > 1 ? ch : 0)];
                    long at = ((long)yy * w + xx) * c + ch;
                    miss(&bad, "rn_k_merge", at, y[at + 1], binop_ref(p, q, op),
                         fabs(p) + fabs(q));
                }
        ends(&bad, "rn_k_merge", y, n);
        free(a), free(b), free(y);
    }
    return bad;
}
