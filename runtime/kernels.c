/* kernels.c: the hot loops of generated models, compiled into librnrt.a by
 * gcc or clang with optimisation, so that code compiled by tcc (which does
 * not optimise) runs as fast as code compiled by gcc.
 *
 * conv2d layers run on conv.c's packed direct convolution; the tap kernel
 * here serves dense layers on images (one tap of every pixel), the 1x1
 * half of separable convolutions and deconv.c; a dense layer on one pixel
 * goes to elementwise.c's matrix-vector product. Below it: the
 * activations without a vector form (elementwise.c has relu, relu6,
 * sigmoid, swish, hard swish, and the merges, batch norm, pooling taps
 * and global pooling), the normalizations and the shape ops
 * (upsample, shuffle, slice). A tap (ky, kx) of a block
 * of output pixels times all output channels accumulates in[pixel][cin] x
 * w[cin][cout]. Keras's [kh][kw][cin][cout] layout makes cout contiguous,
 * so the kernel vectorizes over output channels and broadcasts input
 * values, with a 6-pixel x 16-channel register block (4 x 8 on the
 * portable path). AVX2+FMA is chosen at run time; the portable path has
 * the same blocking for the auto-vectorizer.
 * No state: every call gets all it needs. */
#include "internal.h"

#include <math.h>
#include <string.h>

#ifdef RN_DISPATCH_AVX2
#include <immintrin.h>
#endif

/* rnc's Act codes (compiler/rnc.h). */
enum {
    ACT_NONE, ACT_RELU, ACT_RELU6, ACT_SIGMOID, ACT_TANH, ACT_SOFTMAX,
    ACT_SILU, ACT_GELU, ACT_GELU_TANH, ACT_HARD_SIGMOID, ACT_HARD_SWISH,
    ACT_ELU, ACT_SELU, ACT_SOFTPLUS, ACT_SOFTSIGN, ACT_EXPONENTIAL, ACT_MISH,
    ACT_LEAKY_RELU
};

/* Keras's SELU constants, and the defaults of the activation words. */
#define SELU_ALPHA 1.67326324235437728481704299167f
#define SELU_SCALE 1.05070098735548049341933498529f
#define LEAKY_RELU_SLOPE 0.2f
#define HARD_SIGMOID_ALPHA 0.2f
#define HARD_SIGMOID_BETA 0.5f

/* ---------------------------------------------------------- convolution */

/* The scalar remainder: output channels [o0, cout) of pixels [p0, p1). */
static void conv_tail(int p0, int p1, int o0, int cin, int cout,
                      const float *in, int ldi, const float *w, int ldw,
                      float *out, int ldo) {
    for (int p = p0; p < p1; p++) {
        const float *x = in + (long)p * ldi;
        float *y = out + (long)p * ldo;
        for (int o = o0; o < cout; o++) {
            float acc = y[o];
            for (int i = 0; i < cin; i++) acc += x[i] * w[(long)i * ldw + o];
            y[o] = acc;
        }
    }
}

/* The portable path uses the compilers' generic vectors (gcc and clang
 * both have them; they become SSE, NEON or scalar code): 4 pixels x 8
 * channels in 8 named accumulators, which stay in registers. */
typedef float V4 __attribute__((vector_size(16)));

static inline V4 v4_load(const float *p) {
    V4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void v4_store(float *p, V4 v) { memcpy(p, &v, sizeof v); }

/* R (1 or 4) pixels x 8 channels. */
static void block8_portable(int R, int cin, const float *x, int ldi,
                            const float *w, int ldw, float *y, int ldo) {
    if (R == 4) {
        V4 a00 = v4_load(y), a01 = v4_load(y + 4);
        V4 a10 = v4_load(y + ldo), a11 = v4_load(y + ldo + 4);
        V4 a20 = v4_load(y + 2L * ldo), a21 = v4_load(y + 2L * ldo + 4);
        V4 a30 = v4_load(y + 3L * ldo), a31 = v4_load(y + 3L * ldo + 4);
        for (int i = 0; i < cin; i++) {
            V4 w0 = v4_load(w + (long)i * ldw), w1 = v4_load(w + (long)i * ldw + 4);
            float x0 = x[i], x1 = x[ldi + i], x2 = x[2L * ldi + i], x3 = x[3L * ldi + i];
            a00 += x0 * w0, a01 += x0 * w1;
            a10 += x1 * w0, a11 += x1 * w1;
            a20 += x2 * w0, a21 += x2 * w1;
            a30 += x3 * w0, a31 += x3 * w1;
        }
        v4_store(y, a00), v4_store(y + 4, a01);
        v4_store(y + ldo, a10), v4_store(y + ldo + 4, a11);
        v4_store(y + 2L * ldo, a20), v4_store(y + 2L * ldo + 4, a21);
        v4_store(y + 3L * ldo, a30), v4_store(y + 3L * ldo + 4, a31);
        return;
    }
    V4 a0 = v4_load(y), a1 = v4_load(y + 4);
    for (int i = 0; i < cin; i++) {
        a0 += x[i] * v4_load(w + (long)i * ldw);
        a1 += x[i] * v4_load(w + (long)i * ldw + 4);
    }
    v4_store(y, a0), v4_store(y + 4, a1);
}

void rn_k_conv_tap_portable(int npix, int cin, int cout, const float *in,
                            int ldi, const float *w, int ldw, float *out,
                            int ldo) {
    for (int p = 0; p < npix;) {
        int R = npix - p >= 4 ? 4 : 1;
        const float *x = in + (long)p * ldi;
        float *y = out + (long)p * ldo;
        int o = 0;
        for (; o + 8 <= cout; o += 8)
            block8_portable(R, cin, x, ldi, w + o, ldw, y + o, ldo);
        if (o < cout) conv_tail(p, p + R, o, cin, cout, in, ldi, w, ldw, out, ldo);
        p += R;
    }
}

#ifdef RN_DISPATCH_AVX2
#define AVX2 __attribute__((target("avx2,fma")))

/* The accumulators live in registers only if written out one by one:
 * compilers keep an array of __m256 indexed in a loop on the stack. */
#define ACC_LOAD(r) __m256 a##r##0 = _mm256_loadu_ps(y + (long)(r) * ldo), \
                           a##r##1 = _mm256_loadu_ps(y + (long)(r) * ldo + 8)
#define ACC_FMA(r) do { \
        __m256 xv = _mm256_broadcast_ss(x + (long)(r) * ldi + i); \
        a##r##0 = _mm256_fmadd_ps(xv, w0, a##r##0); \
        a##r##1 = _mm256_fmadd_ps(xv, w1, a##r##1); \
    } while (0)
#define ACC_STORE(r) do { \
        _mm256_storeu_ps(y + (long)(r) * ldo, a##r##0); \
        _mm256_storeu_ps(y + (long)(r) * ldo + 8, a##r##1); \
    } while (0)

/* R pixels x 16 channels, R in {6, 4, 2, 1}: 2R accumulators, 2 weight
 * vectors and 1 broadcast in registers (6 x 16 uses 15 of the 16). */
#define BLOCK16(R, LOADS, FMAS, STORES)                                      \
    static AVX2 void rn_k_block16x##R(int cin, const float *x, int ldi,     \
                                      const float *w, int ldw, float *y,    \
                                      int ldo) {                            \
        LOADS;                                                              \
        for (int i = 0; i < cin; i++) {                                     \
            __m256 w0 = _mm256_loadu_ps(w + (long)i * ldw);                 \
            __m256 w1 = _mm256_loadu_ps(w + (long)i * ldw + 8);             \
            FMAS;                                                           \
        }                                                                   \
        STORES;                                                             \
    }
BLOCK16(6,
        ACC_LOAD(0); ACC_LOAD(1); ACC_LOAD(2); ACC_LOAD(3); ACC_LOAD(4); ACC_LOAD(5),
        ACC_FMA(0); ACC_FMA(1); ACC_FMA(2); ACC_FMA(3); ACC_FMA(4); ACC_FMA(5),
        ACC_STORE(0); ACC_STORE(1); ACC_STORE(2); ACC_STORE(3); ACC_STORE(4); ACC_STORE(5))
BLOCK16(4,
        ACC_LOAD(0); ACC_LOAD(1); ACC_LOAD(2); ACC_LOAD(3),
        ACC_FMA(0); ACC_FMA(1); ACC_FMA(2); ACC_FMA(3),
        ACC_STORE(0); ACC_STORE(1); ACC_STORE(2); ACC_STORE(3))
BLOCK16(2, ACC_LOAD(0); ACC_LOAD(1), ACC_FMA(0); ACC_FMA(1),
        ACC_STORE(0); ACC_STORE(1))
BLOCK16(1, ACC_LOAD(0), ACC_FMA(0), ACC_STORE(0))

/* R pixels x 8 channels, for the channels left over. */
static AVX2 void rn_k_block8(int R, int cin, const float *x, int ldi,
                             const float *w, int ldw, float *y, int ldo) {
    for (int r = 0; r < R; r++) {
        __m256 a = _mm256_loadu_ps(y + (long)r * ldo);
        for (int i = 0; i < cin; i++)
            a = _mm256_fmadd_ps(_mm256_broadcast_ss(x + (long)r * ldi + i),
                                _mm256_loadu_ps(w + (long)i * ldw), a);
        _mm256_storeu_ps(y + (long)r * ldo, a);
    }
}

/* Output channels outside, pixels inside: one 16-channel strip of the
 * weights (cin x 64 bytes) stays in L1 while every pixel block passes,
 * which matters when cin x cout is large and the rows are short. */
AVX2 void rn_k_conv_tap_avx2(int npix, int cin, int cout, const float *in,
                             int ldi, const float *w, int ldw, float *out,
                             int ldo) {
    int o = 0;
    for (; o + 16 <= cout; o += 16) {
        int p = 0;
        for (; p + 6 <= npix; p += 6)
            rn_k_block16x6(cin, in + (long)p * ldi, ldi, w + o, ldw,
                           out + (long)p * ldo + o, ldo);
        /* a tail of 1..5 pixels as 4 + 2 + 1 */
        if (npix - p >= 4) {
            rn_k_block16x4(cin, in + (long)p * ldi, ldi, w + o, ldw,
                           out + (long)p * ldo + o, ldo);
            p += 4;
        }
        if (npix - p >= 2) {
            rn_k_block16x2(cin, in + (long)p * ldi, ldi, w + o, ldw,
                           out + (long)p * ldo + o, ldo);
            p += 2;
        }
        if (npix - p == 1)
            rn_k_block16x1(cin, in + (long)p * ldi, ldi, w + o, ldw,
                           out + (long)p * ldo + o, ldo);
    }
    for (; o + 8 <= cout; o += 8)
        rn_k_block8(npix, cin, in, ldi, w + o, ldw, out + o, ldo);
    if (o < cout) conv_tail(0, npix, o, cin, cout, in, ldi, w, ldw, out, ldo);
}

#else
void rn_k_conv_tap_avx2(int npix, int cin, int cout, const float *in,
                        int ldi, const float *w, int ldw, float *out,
                        int ldo) {
    rn_k_conv_tap_portable(npix, cin, cout, in, ldi, w, ldw, out, ldo);
}
#endif

/* The runtime's one question to the CPU (internal.h: a standalone model
 * asks nothing, it was compiled for AVX2 + FMA or not). */
int rn_k_have_avx2(void) {
#if defined(RN_DISPATCH_AVX2) && defined(RN_STANDALONE)
    return 1;
#elif defined(RN_DISPATCH_AVX2)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* The best copy of the kernels this CPU runs (internal.h); a standalone
 * model's is the one it was compiled for. */
int rn_isa_level(void) {
#ifdef RN_STANDALONE
    /* a standalone file pastes rn_k_have_avx2 static: used here, so that
     * a model without a dense layer (its other caller) compiles without
     * -Wunused-function's warning */
    (void)rn_k_have_avx2;
#endif
#if defined(RN_DISPATCH_AVX2) && defined(RN_STANDALONE) && defined(__AVX512F__)
    return RN_LEVEL_AVX512;
#elif defined(RN_DISPATCH_AVX2) && defined(RN_STANDALONE)
    return RN_LEVEL_AVX2;
#elif defined(RN_DISPATCH_AVX2)
    if (!rn_k_have_avx2()) return RN_LEVEL_BASE;
    return __builtin_cpu_supports("avx512f") ? RN_LEVEL_AVX512 : RN_LEVEL_AVX2;
#else
    return RN_LEVEL_BASE;
#endif
}

void rn_k_conv_tap(int npix, int cin, int cout, const float *in, int ldi,
                   const float *w, int ldw, float *out, int ldo) {
    if (npix == 1) { /* a dense layer: the kernel's rows streamed in order */
        rn_k_gemv(cin, cout, in, w, ldw, out);
        return;
    }
    if (rn_k_have_avx2())
        rn_k_conv_tap_avx2(npix, cin, cout, in, ldi, w, ldw, out, ldo);
    else
        rn_k_conv_tap_portable(npix, cin, cout, in, ldi, w, ldw, out, ldo);
}

void rn_k_fill_bias(int npix, int c, const float *bias, float *out, int ldo) {
    for (int p = 0; p < npix; p++) {
        float *y = out + (long)p * ldo;
        if (bias)
            memcpy(y, bias, (size_t)c * sizeof *y);
        else
            memset(y, 0, (size_t)c * sizeof *y);
    }
}

/* ---------------------------------------------------------- activations */

/* Softmax of one pixel's channels; the max is subtracted so expf never
 * overflows. */
static void softmax1(const float *x, float *y, int c) {
    float mx = x[0];
    for (int i = 1; i < c; i++) mx = x[i] > mx ? x[i] : mx;
    double sum = 0;
    for (int i = 0; i < c; i++) {
        y[i] = expf(x[i] - mx);
        sum += y[i];
    }
    float inv = (float)(1.0 / sum);
    for (int i = 0; i < c; i++) y[i] *= inv;
}

/* 1 / (1 + e^-x), written so that neither branch overflows. */
static inline float sigmoid1(float x) {
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|). */
static inline float softplus1(float x) {
    return (x > 0 ? x : 0.0f) + log1pf(expf(-fabsf(x)));
}

/* Each activation as a loop of its own: the compiler vectorizes the
 * simple ones, and the rest at least stay branch-free inside. */
#define MAP(expr) for (rn_i64 i = 0; i < n; i++) { float x = in[i]; out[i] = (expr); }

/* The activations elementwise.c does not run on vectors (it calls this
 * for them); the others here too, in plain C. */
void rn_k_act_other(int act, const float *in, float *out, rn_i64 npix, int c) {
    rn_i64 n = npix * c;
    switch (act) {
    case ACT_RELU: MAP(x > 0 ? x : 0.0f) break;
    case ACT_RELU6: MAP(x > 0 ? (x < 6 ? x : 6.0f) : 0.0f) break;
    case ACT_SIGMOID: MAP(sigmoid1(x)) break;
    case ACT_TANH: MAP(tanhf(x)) break;
    case ACT_SOFTMAX:
        for (rn_i64 p = 0; p < npix; p++) softmax1(in + p * c, out + p * c, c);
        break;
    case ACT_SILU: MAP(x * sigmoid1(x)) break;
    case ACT_GELU: MAP(0.5f * x * (1.0f + erff(x * 0.70710678118654752440f))) break;
    case ACT_GELU_TANH:
        MAP(0.5f * x * (1.0f + tanhf(0.79788456080286535588f *
                                     (x + 0.044715f * x * x * x))))
        break;
    case ACT_HARD_SIGMOID:
        rn_k_hard_sigmoid(in, out, n, HARD_SIGMOID_ALPHA, HARD_SIGMOID_BETA);
        break;
    case ACT_HARD_SWISH:
        MAP(x * (x + 3 > 0 ? (x + 3 < 6 ? x + 3 : 6.0f) : 0.0f) * (1.0f / 6))
        break;
    case ACT_ELU: rn_k_elu(in, out, n, 1.0f); break;
    case ACT_SELU: MAP(SELU_SCALE * (x > 0 ? x : SELU_ALPHA * expm1f(x))) break;
    case ACT_SOFTPLUS: MAP(softplus1(x)) break;
    case ACT_SOFTSIGN: MAP(x / (1.0f + fabsf(x))) break;
    case ACT_EXPONENTIAL: MAP(expf(x)) break;
    case ACT_MISH: MAP(x * tanhf(softplus1(x))) break;
    case ACT_LEAKY_RELU: rn_k_leaky_relu(in, out, n, LEAKY_RELU_SLOPE); break;
    default:
        if (in != out) memmove(out, in, (size_t)n * sizeof *out);
        break;
    }
}

/* ReLU and LeakyReLU as selects feeding arithmetic: gcc vectorizes these
 * forms, but not a multiplication on one side of a ?: (under its default
 * -ftrapping-math it will not compute it for every element). */
void rn_k_relu_layer(const float *in, float *out, rn_i64 n, int has_max,
                     float max_value, float negative_slope, float threshold) {
    float top = has_max ? max_value : HUGE_VALF;
    for (rn_i64 i = 0; i < n; i++) {
        float x = in[i], d = x - threshold, above = x > top ? top : x;
        out[i] = (d >= 0 ? above : 0.0f) + negative_slope * (d >= 0 ? 0.0f : d);
    }
}

void rn_k_elu(const float *in, float *out, rn_i64 n, float alpha) {
    MAP(x > 0 ? x : alpha * expm1f(x))
}

void rn_k_leaky_relu(const float *in, float *out, rn_i64 n, float alpha) {
    MAP((x > 0 ? x : 0.0f) + alpha * (x > 0 ? 0.0f : x))
}

#undef MAP

void rn_k_prelu(const float *in, float *out, int h, int w, int c,
                const float *alpha, int ah, int aw, int ac) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const float *xi = in + ((long)y * w + x) * c;
            const float *a = alpha + ((long)(ah > 1 ? y : 0) * aw +
                                      (aw > 1 ? x : 0)) * ac;
            float *yo = out + ((long)y * w + x) * c;
            if (ac > 1) /* as rn_k_leaky_relu, per channel */
                for (int ch = 0; ch < c; ch++)
                    yo[ch] = (xi[ch] > 0 ? xi[ch] : 0.0f) +
                             a[ch] * (xi[ch] > 0 ? 0.0f : xi[ch]);
            else
                rn_k_leaky_relu(xi, yo, c, a[0]);
        }
}

/* -------------------------------------------------------------- pooling */
/* (the taps are elementwise.c's) */

void rn_k_fill(float *out, rn_i64 n, float v) {
    for (rn_i64 i = 0; i < n; i++) out[i] = v;
}

void rn_k_scale(float *x, rn_i64 n, float s) {
    for (rn_i64 i = 0; i < n; i++) x[i] *= s;
}

/* ----------------------------------------------------------- elementwise */

void rn_k_bn_fold(int c, const float *gamma, const float *beta,
                  const float *mean, const float *var, double eps,
                  float *scale, float *shift) {
    rn_k_bn_fold_bias(c, gamma, beta, mean, var, eps, NULL, scale, shift);
}

void rn_k_layernorm(const float *in, float *out, rn_i64 npix, int c,
                    double eps, const float *gamma, const float *beta) {
    for (rn_i64 p = 0; p < npix; p++) {
        const float *x = in + p * c;
        float *y = out + p * c;
        double sum = 0, sq = 0;
        for (int ch = 0; ch < c; ch++) sum += x[ch];
        double mean = sum / c;
        for (int ch = 0; ch < c; ch++) sq += (x[ch] - mean) * (x[ch] - mean);
        float m = (float)mean, inv = (float)(1.0 / sqrt(sq / c + eps));
        for (int ch = 0; ch < c; ch++) {
            float v = (x[ch] - m) * inv;
            if (gamma) v *= gamma[ch];
            if (beta) v += beta[ch];
            y[ch] = v;
        }
    }
}

void rn_k_normalize(const float *in, float *out, rn_i64 npix, int c,
                    const float *mean, const float *var) {
    for (int ch = 0; ch < c; ch++) {
        double sd = sqrt((double)var[ch]);
        float m = mean[ch], inv = (float)(1.0 / (sd > 1e-7 ? sd : 1e-7));
        for (rn_i64 p = 0; p < npix; p++) out[p * c + ch] = (in[p * c + ch] - m) * inv;
    }
}

void rn_k_affine(const float *in, float *out, rn_i64 n, float scale,
                 float offset) {
    for (rn_i64 i = 0; i < n; i++) out[i] = in[i] * scale + offset;
}

/* ------------------------------------------------------- shape and copy */

void rn_k_upsample_nearest(const float *in, int h, int w, int c, int sh,
                           int sw, float *out) {
    long ow = (long)w * sw;
    for (int y = 0; y < h; y++) {
        float *row = out + (long)y * sh * ow * c;
        for (int x = 0; x < w; x++)
            for (int j = 0; j < sw; j++)
                memcpy(row + ((long)x * sw + j) * c, in + ((long)y * w + x) * c,
                       (size_t)c * sizeof *out);
        for (int i = 1; i < sh; i++) /* the row again, sh - 1 times */
            memcpy(row + (long)i * ow * c, row, (size_t)(ow * c) * sizeof *out);
    }
}

/* The source position of output index d on an axis of n -> m pixels: the
 * two pixels around it and the weight of the second. */
static void bilinear_src(int d, int n, int m, int align_corners, int *i0,
                         int *i1, float *t) {
    double src;
    if (align_corners)
        src = m > 1 ? (double)d * (n - 1) / (m - 1) : 0;
    else
        src = ((double)d + 0.5) * n / m - 0.5;
    if (src < 0) src = 0;
    int lo = (int)src;
    if (lo > n - 1) lo = n - 1;
    *i0 = lo;
    *i1 = lo < n - 1 ? lo + 1 : lo;
    *t = (float)(src - lo);
}

void rn_k_resize_bilinear(const float *in, int h, int w, int c, int oh,
                          int ow, int align_corners, float *out) {
    for (int y = 0; y < oh; y++) {
        int y0, y1;
        float ty;
        bilinear_src(y, h, oh, align_corners, &y0, &y1, &ty);
        for (int x = 0; x < ow; x++) {
            int x0, x1;
            float tx;
            bilinear_src(x, w, ow, align_corners, &x0, &x1, &tx);
            const float *a = in + ((long)y0 * w + x0) * c;
            const float *b = in + ((long)y0 * w + x1) * c;
            const float *p = in + ((long)y1 * w + x0) * c;
            const float *q = in + ((long)y1 * w + x1) * c;
            float *o = out + ((long)y * ow + x) * c;
            for (int ch = 0; ch < c; ch++) {
                float top = a[ch] + (b[ch] - a[ch]) * tx;
                float bot = p[ch] + (q[ch] - p[ch]) * tx;
                o[ch] = top + (bot - top) * ty;
            }
        }
    }
}

void rn_k_channel_shuffle(const float *in, float *out, rn_i64 npix, int c,
                          int groups) {
    int per = c / groups;
    for (rn_i64 p = 0; p < npix; p++) {
        const float *x = in + p * c;
        float *y = out + p * c;
        for (int g = 0; g < groups; g++) /* out[j * groups + g] = in[g * per + j] */
            for (int j = 0; j < per; j++) y[j * groups + g] = x[g * per + j];
    }
}

void rn_k_copy_channels(const float *in, int ldi, float *out, int ldo,
                        rn_i64 npix, int n) {
    for (rn_i64 p = 0; p < npix; p++)
        memcpy(out + p * ldo, in + p * ldi, (size_t)n * sizeof *out);
}

/* A batchnorm folded into the layer before it, in double:
 * scale = gamma / sqrt(var + eps), shift = beta + (bias - mean) * scale
 * (bias, gamma, beta may be NULL: 0, 1, 0). */
void rn_k_bn_fold_bias(int c, const float *gamma, const float *beta,
                       const float *mean, const float *var, double eps,
                       const float *bias, float *scale, float *shift) {
    for (int ch = 0; ch < c; ch++) {
        double g = gamma ? (double)gamma[ch] : 1.0;
        double s = g / sqrt((double)var[ch] + eps);
        double b = bias ? (double)bias[ch] : 0.0;
        double bt = beta ? (double)beta[ch] : 0.0;
        scale[ch] = (float)s;
        shift[ch] = (float)(bt + (b - (double)mean[ch]) * s);
    }
}

void rn_k_scale_channels(float *x, rn_i64 npix, int c, const float *scale) {
    for (rn_i64 p = 0; p < npix; p++)
        for (int ch = 0; ch < c; ch++) x[p * c + ch] *= scale[ch];
}
