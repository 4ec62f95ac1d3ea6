/* depthwise.c: depthwise 2-D convolution (NHWC), MobileNet's other half:
 * output channel o is input channel o / mult over a kh x kw window, with
 * the Keras kernel [kh][kw][c][mult] read as [kh][kw][c * mult].
 *
 * Work is cut by output rows; a row whose window passes the top or bottom
 * of the image skips the kernel rows outside it. In a row, the pixels
 * whose window lies inside the image horizontally run PIX at a time: per
 * 16 channels, PIX x 2 sums on registers across the taps (one weight load
 * serves PIX pixels), then bias and relu/relu6, one store each. This code
 * is bound by its instruction count, not by memory: 3-wide kernels get
 * their own copy with the columns unrolled, and nothing is reloaded after
 * a store. Pixels at the left and right borders run alone with the taps
 * inside the image. Channels past the last 8 and multipliers above 1 take
 * a plain C loop.
 *
 * AVX2+FMA is chosen at run time; the portable path computes the same
 * thing (in another order of additions). No state outside the arguments. */
#include "conv_kernel.h"

enum {
    PIX = 4, /* output pixels a block */
};

/* The taps inside the image for output pixel (oy, ox): ky in
 * [k[0], k[1]), kx in [k[2], k[3]). */
static void taps_inside(const rn_dw *d, int oy, int ox, int k[4]) {
    int iy0 = oy * d->sh - d->pad_t, ix0 = ox * d->sw - d->pad_l;
    k[0] = 0, k[1] = d->kh, k[2] = 0, k[3] = d->kw;
    while (k[0] < k[1] && iy0 + k[0] * d->dh < 0) k[0]++;
    while (k[1] > k[0] && iy0 + (k[1] - 1) * d->dh >= d->ih) k[1]--;
    while (k[2] < k[3] && ix0 + k[2] * d->dw < 0) k[2]++;
    while (k[3] > k[2] && ix0 + (k[3] - 1) * d->dw >= d->iw) k[3]--;
}

/* Output pixel (oy, ox), channels [o0, o1), plain C: a tap at a time over
 * the channels. */
static void pixel(const rn_dw *d, const float *in, const float *w,
                  const float *bias, float *out, int oy, int ox, int o0,
                  int o1) {
    int cout = d->c * d->mult, mult = d->mult, k[4];
    int iy0 = oy * d->sh - d->pad_t, ix0 = ox * d->sw - d->pad_l;
    float *y = out + ((rn_i64)oy * d->ow + ox) * d->ldo;
    taps_inside(d, oy, ox, k);
    for (int o = o0; o < o1; o++) y[o] = bias ? bias[o] : 0.0f;
    for (int ky = k[0]; ky < k[1]; ky++)
        for (int kx = k[2]; kx < k[3]; kx++) {
            const float *x = in + ((rn_i64)(iy0 + ky * d->dh) * d->iw +
                                   ix0 + kx * d->dw) * d->ldi;
            const float *wk = w + (rn_i64)(ky * d->kw + kx) * cout;
            if (mult == 1)
                for (int o = o0; o < o1; o++) y[o] += x[o] * wk[o];
            else
                for (int o = o0; o < o1; o++) y[o] += x[o / mult] * wk[o];
        }
    for (int o = o0; o < o1; o++) y[o] = rn_act1(y[o], d->act);
}

#ifdef RN_X86
/* NP pixels x channels [0, cv), cv a multiple of 8, over nky kernel rows
 * and NKX kernel columns: x is the first pixel's first tap inside the
 * image (the next pixels step floats apart), w that tap's weights. 16
 * channels at a time, then the last 8. NKX is a constant where it matters
 * (3), so the columns unroll. */
static inline __attribute__((always_inline)) AVX2 void
block_avx2(const rn_dw *d, const float *x, rn_i64 step, const float *w,
           const float *bias, float *y, const int NP, const int NKX, int cv,
           int nky) {
    const int act = d->act, ldo = d->ldo, c = d->c; /* not reloaded after stores */
    const rn_i64 dx = (rn_i64)d->dw * d->ldi, dy = (rn_i64)d->dh * d->iw * d->ldi;
    const rn_i64 wrow = (rn_i64)d->kw * c;
    int ch = 0;
    for (; ch + 16 <= cv; ch += 16) {
        __m256 a0[PIX], a1[PIX];
        __m256 b0 = bias ? _mm256_loadu_ps(bias + ch) : _mm256_setzero_ps();
        __m256 b1 = bias ? _mm256_loadu_ps(bias + ch + 8) : _mm256_setzero_ps();
        for (int p = 0; p < NP; p++) a0[p] = b0, a1[p] = b1;
        const float *xr = x + ch, *wr = w + ch;
        for (int ky = 0; ky < nky; ky++, xr += dy, wr += wrow)
            for (int kx = 0; kx < NKX; kx++) {
                const float *xt = xr + kx * dx, *wt = wr + (rn_i64)kx * c;
                __m256 w0 = _mm256_loadu_ps(wt), w1 = _mm256_loadu_ps(wt + 8);
                for (int p = 0; p < NP; p++) {
                    a0[p] = _mm256_fmadd_ps(_mm256_loadu_ps(xt + p * step), w0, a0[p]);
                    a1[p] = _mm256_fmadd_ps(_mm256_loadu_ps(xt + p * step + 8), w1, a1[p]);
                }
            }
        for (int p = 0; p < NP; p++) {
            _mm256_storeu_ps(y + p * ldo + ch, rn_act8(a0[p], act));
            _mm256_storeu_ps(y + p * ldo + ch + 8, rn_act8(a1[p], act));
        }
    }
    if (ch < cv) {
        __m256 a0[PIX];
        __m256 b0 = bias ? _mm256_loadu_ps(bias + ch) : _mm256_setzero_ps();
        for (int p = 0; p < NP; p++) a0[p] = b0;
        const float *xr = x + ch, *wr = w + ch;
        for (int ky = 0; ky < nky; ky++, xr += dy, wr += wrow)
            for (int kx = 0; kx < NKX; kx++) {
                __m256 w0 = _mm256_loadu_ps(wr + (rn_i64)kx * c);
                for (int p = 0; p < NP; p++)
                    a0[p] = _mm256_fmadd_ps(_mm256_loadu_ps(xr + kx * dx + p * step),
                                            w0, a0[p]);
            }
        for (int p = 0; p < NP; p++)
            _mm256_storeu_ps(y + p * ldo + ch, rn_act8(a0[p], act));
    }
}

/* The block sizes: PIX pixels or 1, 3 kernel columns or nkx. */
#define BLOCK(NAME, NP, NKX)                                                \
    static AVX2 void NAME(const rn_dw *d, const float *x, rn_i64 step,      \
                          const float *w, const float *bias, float *y,      \
                          int cv, int nky, int nkx) {                       \
        (void)nkx;                                                          \
        block_avx2(d, x, step, w, bias, y, NP, NKX, cv, nky);               \
    }
BLOCK(block4_k3, PIX, 3)
BLOCK(block1_k3, 1, 3)
BLOCK(block4_any, PIX, nkx)
BLOCK(block1_any, 1, nkx)

/* Rows [y0, y1) x channels [0, cv). */
static AVX2 void rows_avx2(const rn_dw *d, const float *in, const float *w,
                           const float *bias, float *out, int y0, int y1,
                           int cv) {
    int ox0 = d->ow, ox1 = d->ow, k[4], k3 = d->kw == 3;
    /* the interior columns: every tap inside horizontally */
    for (int ox = 0; ox < d->ow; ox++) {
        taps_inside(d, 0, ox, k);
        if (k[2] == 0 && k[3] == d->kw) {
            if (ox0 == d->ow) ox0 = ox;
            ox1 = ox + 1;
        }
    }
    rn_i64 step = (rn_i64)d->sw * d->ldi;
    for (int oy = y0; oy < y1; oy++) {
        float *yr = out + (rn_i64)oy * d->ow * d->ldo;
        for (int ox = 0; ox < d->ow;) {
            /* the taps inside the image: all columns in the interior */
            taps_inside(d, oy, ox, k);
            int nky = k[1] - k[0], nkx = k[3] - k[2];
            float *y = yr + (rn_i64)ox * d->ldo;
            if (nky <= 0 || nkx <= 0) { /* no tap inside: plain C */
                pixel(d, in, w, bias, out, oy, ox, 0, cv);
                ox++;
                continue;
            }
            const float *x = in + ((rn_i64)(oy * d->sh - d->pad_t + k[0] * d->dh) * d->iw +
                                   ox * d->sw - d->pad_l + k[2] * d->dw) * d->ldi;
            const float *wt = w + (rn_i64)(k[0] * d->kw + k[2]) * d->c;
            int inner = ox >= ox0 && ox < ox1, four = inner && ox + PIX <= ox1;
            if (four && k3)
                block4_k3(d, x, step, wt, bias, y, cv, nky, nkx);
            else if (four)
                block4_any(d, x, step, wt, bias, y, cv, nky, nkx);
            else if (inner && k3)
                block1_k3(d, x, step, wt, bias, y, cv, nky, nkx);
            else
                block1_any(d, x, step, wt, bias, y, cv, nky, nkx);
            ox += four ? PIX : 1;
        }
    }
}
#endif

static void run(const rn_dw *d, const float *in, const float *w,
                const float *bias, float *out, int y0, int y1, int avx2) {
    int cout = d->c * d->mult;
    /* the vector path: multiplier 1, whole groups of 8 channels */
    int cv = avx2 && d->mult == 1 ? cout - cout % 8 : 0;
    if (y0 < 0) y0 = 0;
    if (y1 > d->oh) y1 = d->oh;
#ifdef RN_X86
    if (cv && y0 < y1) rows_avx2(d, in, w, bias, out, y0, y1, cv);
#endif
    for (int oy = y0; oy < y1 && cv < cout; oy++)
        for (int ox = 0; ox < d->ow; ox++)
            pixel(d, in, w, bias, out, oy, ox, cv, cout);
}

void rn_dw_run(const rn_dw *d, const float *in, const float *w,
               const float *bias, float *out, int y0, int y1) {
    run(d, in, w, bias, out, y0, y1, rn_k_have_avx2());
}

/* The portable path on any machine, for tests (not in rnrt.h). */
void rn_dw_run_portable(const rn_dw *d, const float *in, const float *w,
                        const float *bias, float *out, int y0, int y1);
void rn_dw_run_portable(const rn_dw *d, const float *in, const float *w,
                        const float *bias, float *out, int y0, int y1) {
    run(d, in, w, bias, out, y0, y1, 0);
}
