/* rn_dw.h: depthwise 2-D convolution (NHWC), MobileNet's other half:
 * output channel o is input channel o / mult over a kh x kw window, with
 * the Keras kernel [kh][kw][c][mult] read as [kh][kw][c * mult].
 *
 * Work is cut by output rows; a row whose window passes the top or bottom
 * of the image skips the kernel rows outside it. Pixels run in blocks
 * whose sums stay on registers across the taps (one weight load serves
 * the block's pixels), then bias and activation, one store each. This
 * code is bound by its loads, not by the multiplications, so 3, 5 and 7
 * wide kernels undilated across, at stride 1 or 2, slide each input
 * column of a kernel row across the taps that read it, loading it once
 * (rn_dwk_sl_block: 8 pixels of a row x a vector, the borders included).
 * Other kernels run 4 pixels of 16 channels with a load per tap
 * (rn_dwk_block_nv), the pixels at the left and right borders alone with
 * the taps inside the image. The activation is a runtime value
 * (rn_dwk_act), not a copy of each loop per activation: depthwise.c
 * compiles in a few seconds, under the sanitizers too. Channels past the
 * last whole vector run the same code on masked loads and stores
 * (rn_v_load_m). Multipliers above 1 take a plain C loop, and so does
 * everything where the target has no vectors (rn_simd.h).
 *
 * Entry point: rn_dwk_run. Static inline functions of their arguments
 * only; nothing is allocated. */
#ifndef RN_DW_H
#define RN_DW_H

#include "rn_simd.h"

enum {
    RN_DW_PIX = 4, /* output pixels a block */
    RN_DW_NB = 16  /* channels a step */
};

/* The taps inside the image for output pixel (oy, ox): ky in
 * [k[0], k[1]), kx in [k[2], k[3]). */
RN_FN void rn_dwk_taps_inside(const rn_dw *d, int oy, int ox, int k[4]) {
    int iy0 = oy * d->sh - d->pad_t, ix0 = ox * d->sw - d->pad_l;
    k[0] = 0, k[1] = d->kh, k[2] = 0, k[3] = d->kw;
    while (k[0] < k[1] && iy0 + k[0] * d->dh < 0) k[0]++;
    while (k[1] > k[0] && iy0 + (k[1] - 1) * d->dh >= d->ih) k[1]--;
    while (k[2] < k[3] && ix0 + k[2] * d->dw < 0) k[2]++;
    while (k[3] > k[2] && ix0 + (k[3] - 1) * d->dw >= d->iw) k[3]--;
}

/* Output pixel (oy, ox), channels [o0, o1), plain C: a tap at a time over
 * the channels. */
RN_FN void rn_dwk_pixel(const rn_dw *d, const float *in, const float *w,
                        const float *bias, float *out, int oy, int ox,
                        int o0, int o1) {
    int cout = d->c * d->mult, mult = d->mult, k[4];
    int iy0 = oy * d->sh - d->pad_t, ix0 = ox * d->sw - d->pad_l;
    float *y = out + ((rn_i64)oy * d->ow + ox) * d->ldo;
    rn_dwk_taps_inside(d, oy, ox, k);
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

#if RN_VL > 1
enum { RN_DW_NV = RN_DW_NB / RN_VL };

/* The loads and stores of the kernels below: the first lanes only
 * (mask mk) in the copy for the channels past the last whole vector. */
#define RN_DW_LOAD(p) (MASKED ? rn_v_load_m((p), mk) : rn_v_load(p))
#define RN_DW_STORE(p, v) \
    (MASKED ? rn_v_store_m((p), (v), mk) : rn_v_store((p), (v)))
/* Before the loops over a block's sums that store them through the
 * activation's switch: unrolled early, so that the sums stay on registers
 * (else GCC keeps them in an array on the stack). */
#define RN_DW_UNROLL _Pragma("GCC unroll 16")
/* Makes x opaque to the compiler here: it may not hoist what it computes
 * from x out of the loop (into more registers than there are). */
#if defined(__GNUC__)
#define RN_DW_OPAQUE(x) __asm__("" : "+r"(x))
#else
#define RN_DW_OPAQUE(x) ((void)0)
#endif

/* A block's sum through the activation act, a runtime value, on
 * registers: the light ones through rn_v_act_light's switch, sigmoid and
 * swish through one copy of sigmoid's code (swish: times v). In a pass
 * over the stored block instead (rn_v_act_rest), EfficientNet's 3x3
 * layers with swish took 25-50% longer. */
RN_INLINE rn_v rn_dwk_act(rn_v v, int act) {
    if (!rn_act_heavy(act)) return rn_v_act_light(v, act);
    rn_v s = rn_v_act(v, RN_ACT_SIGMOID);
    return act == RN_ACT_SWISH ? rn_v_mul(v, s) : s;
}

/* NP pixels x channels [0, cv), cv a multiple of RN_VL, over nky kernel
 * rows and NKX kernel columns: x is the first pixel's first tap inside
 * the image (the next pixels step floats apart), w that tap's weights.
 * NV vectors of channels at a time (RN_DW_NV, then 1 for the rest). NKX
 * is a constant where it matters (3), so the columns unroll. */
RN_INLINE void rn_dwk_block_nv(const rn_dw *d, const float *x, rn_i64 step,
                               const float *w, const float *bias, float *y,
                               const int NP, const int NKX, const int NV,
                               const int MASKED, rn_vmask mk, int ch, int nky,
                               int act) {
    const int c = d->c;
    const rn_i64 ldo = d->ldo;
    const rn_i64 dx = (rn_i64)d->dw * d->ldi, dy = (rn_i64)d->dh * d->iw * d->ldi;
    const rn_i64 wrow = (rn_i64)d->kw * c;
    rn_v acc[RN_DW_PIX][RN_DW_NV];
    for (int j = 0; j < NV; j++) {
        rn_v b = bias ? RN_DW_LOAD(bias + ch + j * RN_VL) : rn_v_zero();
        for (int p = 0; p < NP; p++) acc[p][j] = b;
    }
    /* a pointer per pixel, stepped down the kernel rows: the columns are
     * then offsets of 0, dx and 2 dx, and few registers hold addresses */
    const float *xp[RN_DW_PIX], *wr = w + ch;
    for (int p = 0; p < NP; p++) xp[p] = x + ch + p * step;
    for (int ky = 0; ky < nky; ky++, wr += wrow) {
        for (int kx = 0; kx < NKX; kx++) {
            const float *wt = wr + (rn_i64)kx * c;
            rn_v wv[RN_DW_NV];
            for (int j = 0; j < NV; j++) wv[j] = RN_DW_LOAD(wt + j * RN_VL);
            for (int p = 0; p < NP; p++)
                for (int j = 0; j < NV; j++)
                    acc[p][j] = rn_v_fma(RN_DW_LOAD(xp[p] + kx * dx + j * RN_VL), wv[j],
                                         acc[p][j]);
        }
        for (int p = 0; p < NP; p++) xp[p] += dy;
    }
    RN_DW_UNROLL
    for (int p = 0; p < NP; p++)
        RN_DW_UNROLL
        for (int j = 0; j < NV; j++)
            RN_DW_STORE(y + p * ldo + ch + j * RN_VL, rn_dwk_act(acc[p][j], act));
}

RN_INLINE void rn_dwk_block(const rn_dw *d, const float *x, rn_i64 step,
                            const float *w, const float *bias, float *y,
                            const int NP, const int NKX, int nky) {
    int ch = 0, c = d->c, cv = c - c % RN_VL, act = d->act;
    rn_vmask none = rn_v_mask(RN_VL), mk = rn_v_mask(c - cv);
    for (; ch + RN_DW_NB <= cv; ch += RN_DW_NB)
        rn_dwk_block_nv(d, x, step, w, bias, y, NP, NKX, RN_DW_NV, 0, none, ch, nky, act);
    for (; RN_DW_NV > 1 && ch < cv; ch += RN_VL) /* NV 1: the loop above */
        rn_dwk_block_nv(d, x, step, w, bias, y, NP, NKX, 1, 0, none, ch, nky, act);
    if (cv < c) /* the last lanes */
        rn_dwk_block_nv(d, x, step, w, bias, y, NP, NKX, 1, 1, mk, cv, nky, act);
}

/* Sliding blocks for 3, 5 and 7 kernel columns, undilated across, stride
 * 1 or 2 (MobileNet's 3x3s, EfficientNet's and MobileNet v3's 5x5s). A
 * block is NP output
 * pixels of a row x one vector of channels; each input column of a kernel
 * row is loaded once and slid across the taps that read it (pixel p's tap
 * kx reads column p S + kx): per kernel row, (NP - 1) S + KW loads
 * instead of KW NP, and KW weight loads for NP pixels. The NP sums stay
 * on registers across the taps, with the row's KW weights and a column.
 * 8 pixels of one vector measured fastest on AVX-512 (Zen 5: 2 vectors,
 * or 12 or 16 pixels, were 10-40% slower in EfficientNet's and MobileNet's
 * layers, which wait on memory more than on the FMAs); AVX2's 16
 * registers hold 6 pixels at 7 columns. A block also runs the pixels at
 * the borders, skipping the columns outside the image (a bit mask, so
 * that one copy serves both). The copies: KW and stride constants, the
 * last lanes masked or not; the activation is a runtime value
 * (rn_dwk_act), and the loops around the blocks are shared by all. As
 * fast as or faster than the 3-wide slides specialized per activation
 * that ran the interior of a row before, whose borders ran a pixel at a
 * time. */
#if defined(RN_SIMD_AVX2)
/* 3 wide on AVX2: 2 vectors (16 channels, whole cache lines of input a
 * column), 6 pixels at stride 1, 4 at stride 2 (8 sums, 6 weights); the
 * last vector and lanes the same pixels of one. 8 pixels of one 8-float
 * vector took 10-35% longer on Zen 5's AVX2 level (Zen 3's), most at
 * stride 2; 4 pixels at stride 1 10% longer. */
#define RN_DW_SL_NP(KW, S) ((KW) == 7 ? 6 : (KW) == 3 ? ((S) == 1 ? 6 : 4) : 8)
#define RN_DW_SL_NV(KW) ((KW) == 3 ? 2 : 1)
#else
#define RN_DW_SL_NP(KW, S) 8
#define RN_DW_SL_NV(KW) 1
#endif
enum { RN_DW_SL_MAXNP = 8, RN_DW_SL_MAXKW = 7, RN_DW_SL_MAXNV = 2 };

/* One block: np of NP pixels stored to y (pixels ldo apart, at the
 * block's channel), over nky kernel rows from xr (the first kernel row
 * inside the image, at its column 0 and the block's channel) and wr (that
 * row's weights). ix0 is the input column of the block's column 0; of
 * the block's (NP - 1) S + KW columns, those whose bit in cols is clear
 * lie outside the image and are skipped (the zero padding). */
RN_INLINE void rn_dwk_sl_block(const rn_dw *d, const float *xr, const float *wr,
                               const float *bias, float *y, int nky, int ix0,
                               unsigned cols, int np, const int KW, const int S,
                               const int NP, const int NV, const int MASKED,
                               rn_vmask mk) {
    const int c = d->c, act = d->act;
    const rn_i64 ldi = d->ldi, ldo = d->ldo, dy = (rn_i64)d->dh * d->iw * d->ldi;
    const rn_i64 wrow = (rn_i64)KW * c;
    rn_v acc[RN_DW_SL_MAXNP][RN_DW_SL_MAXNV];
    RN_DW_UNROLL
    for (int j = 0; j < NV; j++) {
        rn_v b = bias ? RN_DW_LOAD(bias + j * RN_VL) : rn_v_zero();
        RN_DW_UNROLL
        for (int p = 0; p < NP; p++) acc[p][j] = b;
    }
    xr += (rn_i64)ix0 * ldi;
    /* 2 vectors at stride 1 (AVX2's 6 pixels: 12 sums): a vector's
     * weights and columns, then the next's; else all weights held and
     * each column's vectors in turn (at stride 2, 10% faster) */
    const int JOUT = NV > 1 && S == 1, NJO = JOUT ? NV : 1, NJI = JOUT ? 1 : NV;
    for (int ky = 0; ky < nky; ky++, xr += dy, wr += wrow)
        RN_DW_UNROLL
        for (int jo = 0; jo < NJO; jo++) {
            rn_v wv[RN_DW_SL_MAXKW][RN_DW_SL_MAXNV];
            RN_DW_UNROLL
            for (int kx = 0; kx < KW; kx++)
                RN_DW_UNROLL
                for (int ji = 0; ji < NJI; ji++) {
                    wv[kx][ji] = RN_DW_LOAD(wr + kx * c + (jo + ji) * RN_VL);
                    RN_V_KEEP(wv[kx][ji]);
                }
            /* a test of cols and a step of xq a column: hoisted, the bits
             * and the columns' offsets would take more registers than
             * there are */
            const float *xq = xr + jo * RN_VL;
            RN_DW_OPAQUE(cols);
            _Pragma("GCC unroll 32")
            for (int q = 0; q < (NP - 1) * S + KW; q++, xq += ldi) {
                RN_DW_OPAQUE(xq);
                if (!(cols >> q & 1u)) continue;
                RN_DW_UNROLL
                for (int ji = 0; ji < NJI; ji++) {
                    rn_v col = RN_DW_LOAD(xq + ji * RN_VL);
                    RN_V_KEEP(col);
                    RN_DW_UNROLL
                    for (int kx = 0; kx < KW; kx++) {
                        int t = q - kx;
                        if (t >= 0 && t % S == 0 && t / S < NP)
                            acc[t / S][jo + ji] =
                                rn_v_fma(col, wv[kx][ji], acc[t / S][jo + ji]);
                    }
                }
            }
        }
    RN_DW_UNROLL
    for (int p = 0; p < NP; p++)
        RN_DW_UNROLL
        for (int j = 0; j < NV; j++)
            if (p < np) RN_DW_STORE(y + p * ldo + j * RN_VL, rn_dwk_act(acc[p][j], act));
}

/* A block's copy: NV whole vectors, or the last lanes (MASKED, one). */
typedef void rn_dwk_sl_fn(const rn_dw *d, const float *xr, const float *wr,
                          const float *bias, float *y, int nky, int ix0, unsigned cols,
                          int np);
#define RN_DW_SL_FN(NAME, KW, S, NV, MASKED)                                    \
    RN_NOINLINE void NAME(const rn_dw *d, const float *xr, const float *wr,     \
                          const float *bias, float *y, int nky, int ix0,        \
                          unsigned cols, int np) {                              \
        rn_dwk_sl_block(d, xr, wr, bias, y, nky, ix0, cols, np, KW, S,          \
                        RN_DW_SL_NP(KW, S), NV, MASKED,                         \
                        rn_v_mask(MASKED ? d->c % RN_VL : RN_VL));              \
    }
/* one vector, and the last lanes, for each width and stride */
#define RN_DW_SL_FNS(KW)                                                        \
    RN_DW_SL_FN(rn_dwk_sl_k##KW##s1, KW, 1, 1, 0)                               \
    RN_DW_SL_FN(rn_dwk_sl_k##KW##s1_m, KW, 1, 1, 1)                             \
    RN_DW_SL_FN(rn_dwk_sl_k##KW##s2, KW, 2, 1, 0)                               \
    RN_DW_SL_FN(rn_dwk_sl_k##KW##s2_m, KW, 2, 1, 1)
RN_DW_SL_FNS(3)
RN_DW_SL_FNS(5)
RN_DW_SL_FNS(7)
#if defined(RN_SIMD_AVX2)
/* AVX2's 3-wide blocks of RN_DW_SL_NV(3) = 2 vectors */
RN_DW_SL_FN(rn_dwk_sl_k3s1_nv, 3, 1, RN_DW_SL_NV(3), 0)
RN_DW_SL_FN(rn_dwk_sl_k3s2_nv, 3, 2, RN_DW_SL_NV(3), 0)
#endif

/* The sliding blocks of one kernel width and stride. */
typedef struct rn_dwk_sl {
    rn_dwk_sl_fn *wide;         /* nv whole vectors a block */
    rn_dwk_sl_fn *whole, *last; /* one whole vector, the last lanes */
    int np, ncol, nv;           /* pixels, input columns, vectors of wide */
} rn_dwk_sl;

/* d's sliding blocks into *k; 0 if it has none (other widths or strides,
 * dilated across). */
RN_FN int rn_dwk_sl_pick(const rn_dw *d, rn_dwk_sl *k) {
    if (d->dw != 1 || (d->sw != 1 && d->sw != 2)) return 0;
    int s1 = d->sw == 1;
    switch (d->kw) {
#define RN_DW_SL_CASE(KW)                                                       \
    case KW:                                                                    \
        k->whole = s1 ? rn_dwk_sl_k##KW##s1 : rn_dwk_sl_k##KW##s2;               \
        k->last = s1 ? rn_dwk_sl_k##KW##s1_m : rn_dwk_sl_k##KW##s2_m;            \
        break;
        RN_DW_SL_CASE(3)
        RN_DW_SL_CASE(5)
        RN_DW_SL_CASE(7)
#undef RN_DW_SL_CASE
    default: return 0;
    }
    k->wide = k->whole;
    k->nv = 1;
#if defined(RN_SIMD_AVX2)
    if (d->kw == 3) {
        k->wide = s1 ? rn_dwk_sl_k3s1_nv : rn_dwk_sl_k3s2_nv;
        k->nv = RN_DW_SL_NV(3);
    }
#endif
    k->np = RN_DW_SL_NP(d->kw, d->sw);
    k->ncol = (k->np - 1) * d->sw + d->kw;
    return 1;
}

/* Output rows [y0, y1), the blocks of pixels from x0 to x1 (x0 a
 * multiple of k->np), channels [c0, c1) k->nv vectors at a time, then a
 * vector (c1 <= c; a vector passing c, the last lanes). */
RN_FN void rn_dwk_sl_span(const rn_dw *d, const rn_dwk_sl *k, const float *in,
                          const float *w, const float *bias, float *out, int y0,
                          int y1, int x0, int x1, int c0, int c1) {
    const rn_i64 rowi = (rn_i64)d->iw * d->ldi;
    for (int oy = y0; oy < y1; oy++) {
        int t[4];
        rn_dwk_taps_inside(d, oy, 0, t);
        int nky = t[1] - t[0], iy = oy * d->sh - d->pad_t + t[0] * d->dh;
        /* no row inside: the sums stay at the bias (any valid row) */
        const float *xr = in + (nky > 0 ? iy * rowi : 0);
        const float *wr = w + (rn_i64)t[0] * d->kw * d->c;
        float *yr = out + (rn_i64)oy * d->ow * d->ldo;
        for (int ox = x0; ox < x1; ox += k->np) {
            int ix0 = ox * d->sw - d->pad_l, np = d->ow - ox < k->np ? d->ow - ox : k->np;
            int qlo = ix0 < 0 ? -ix0 : 0;
            int qhi = d->iw - ix0 < k->ncol ? d->iw - ix0 : k->ncol;
            unsigned cols = qhi > qlo ? ((1u << (qhi - qlo)) - 1) << qlo : 0;
            float *y = yr + (rn_i64)ox * d->ldo;
            for (int ch = c0, n; ch < c1; ch += n * RN_VL) {
                n = ch + k->nv * RN_VL <= c1 ? k->nv : 1;
                (n > 1 ? k->wide : ch + RN_VL <= d->c ? k->whole : k->last)(
                    d, xr + ch, wr + ch, bias ? bias + ch : NULL, y + ch, nky, ix0,
                    cols, np);
            }
        }
    }
}

/* Rows [y0, y1) in sliding blocks, in one of two orders. Where a block's
 * kernel rows across all channels fit in L1 (RN_DW_L1_BYTES), pixels
 * outermost: a block's channels read whole consecutive lines (the
 * prefetchers' pattern), and its columns stay in L1 for the next block.
 * Elsewhere (many channels), channel vectors outermost, each over the
 * rows of a band whose input fits in L2 (RN_DW_BAND_BYTES), so that a
 * vector's input rows stay in L1 from one output row to the next; but not
 * where pixels lie a multiple of RN_DW_CONFLICT floats apart (1 KiB: 256,
 * 512, 1024 channels), whose lines of one vector fall in a few sets of
 * L1 and evict each other (MobileNet's 512 at 14x14 took 40% longer). */
enum {
    RN_DW_L1_BYTES = 32 << 10,
    RN_DW_BAND_BYTES = 384 << 10,
    RN_DW_CONFLICT = 256
};
RN_FN int rn_dwk_band_rows(const rn_dw *d) {
    rn_i64 row = (rn_i64)d->iw * d->ldi * (rn_i64)sizeof(float);
    rn_i64 rows_in = RN_DW_BAND_BYTES / (row > 0 ? row : 1);
    rn_i64 span = (rn_i64)(d->kh - 1) * d->dh + 1;
    rn_i64 rb = rows_in > span ? (rows_in - span) / d->sh + 1 : 1;
    return rb > d->oh ? d->oh : (int)rb;
}
RN_FN void rn_dwk_sl_rows(const rn_dw *d, const rn_dwk_sl *k, const float *in,
                          const float *w, const float *bias, float *out, int y0,
                          int y1) {
    rn_i64 block = (rn_i64)d->kh * k->ncol * d->ldi * (rn_i64)sizeof(float);
    if (block <= RN_DW_L1_BYTES || d->ldi % RN_DW_CONFLICT == 0) {
        for (int oy = y0; oy < y1; oy++)
            for (int ox = 0; ox < d->ow; ox += k->np)
                rn_dwk_sl_span(d, k, in, w, bias, out, oy, oy + 1, ox, ox + 1, 0, d->c);
        return;
    }
    for (int b0 = y0, rb = rn_dwk_band_rows(d); b0 < y1; b0 += rb)
        for (int ch = 0, nc = k->nv * RN_VL; ch < d->c; ch += nc)
            rn_dwk_sl_span(d, k, in, w, bias, out, b0, b0 + rb < y1 ? b0 + rb : y1, 0,
                           d->ow, ch, ch + nc < d->c ? ch + nc : d->c);
}

/* The block sizes: RN_DW_PIX pixels or 1, 3 kernel columns or nkx. */
#define RN_DW_BLOCK(NAME, NP, NKX)                                          \
    RN_NOINLINE void NAME(const rn_dw *d, const float *x, rn_i64 step,      \
                          const float *w, const float *bias, float *y,      \
                          int nky, int nkx) {                               \
        (void)nkx;                                                          \
        rn_dwk_block(d, x, step, w, bias, y, NP, NKX, nky);                 \
    }
RN_DW_BLOCK(rn_dwk_block4_k3, RN_DW_PIX, 3)
RN_DW_BLOCK(rn_dwk_block1_k3, 1, 3)
RN_DW_BLOCK(rn_dwk_block4_any, RN_DW_PIX, nkx)
RN_DW_BLOCK(rn_dwk_block1_any, 1, nkx)

/* Rows [y0, y1) on vectors (multiplier 1). */
RN_FN void rn_dwk_rows(const rn_dw *d, const float *in, const float *w,
                       const float *bias, float *out, int y0, int y1) {
    int ox0 = d->ow, ox1 = d->ow, k[4], k3 = d->kw == 3;
    /* the interior columns: every tap inside horizontally */
    for (int ox = 0; ox < d->ow; ox++) {
        rn_dwk_taps_inside(d, 0, ox, k);
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
            rn_dwk_taps_inside(d, oy, ox, k);
            int nky = k[1] - k[0], nkx = k[3] - k[2];
            float *y = yr + (rn_i64)ox * d->ldo;
            if (nky <= 0 || nkx <= 0) { /* no tap inside: plain C */
                rn_dwk_pixel(d, in, w, bias, out, oy, ox, 0, d->c);
                ox++;
                continue;
            }
            const float *x = in + ((rn_i64)(oy * d->sh - d->pad_t + k[0] * d->dh) * d->iw +
                                   ox * d->sw - d->pad_l + k[2] * d->dw) * d->ldi;
            const float *wt = w + (rn_i64)(k[0] * d->kw + k[2]) * d->c;
            int inner = ox >= ox0 && ox < ox1, four = inner && ox + RN_DW_PIX <= ox1;
            if (four && k3)
                rn_dwk_block4_k3(d, x, step, wt, bias, y, nky, nkx);
            else if (four)
                rn_dwk_block4_any(d, x, step, wt, bias, y, nky, nkx);
            else if (inner && k3)
                rn_dwk_block1_k3(d, x, step, wt, bias, y, nky, nkx);
            else
                rn_dwk_block1_any(d, x, step, wt, bias, y, nky, nkx);
            ox += four ? RN_DW_PIX : 1;
        }
    }
}
#endif

/* Output rows [y0, y1) of d: out = act(depthwise(in, w) + bias), bias
 * may be NULL. */
RN_FN void rn_dwk_run(const rn_dw *d, const float *in, const float *w,
                      const float *bias, float *out, int y0, int y1) {
    int cout = d->c * d->mult, cv = 0;
    if (y0 < 0) y0 = 0;
    if (y1 > d->oh) y1 = d->oh;
#if RN_VL > 1
    /* the vector path: multiplier 1, every channel */
    cv = d->mult == 1 ? cout : 0;
    rn_dwk_sl sl;
    if (cv && y0 < y1 && rn_dwk_sl_pick(d, &sl))
        rn_dwk_sl_rows(d, &sl, in, w, bias, out, y0, y1);
    else if (cv && y0 < y1)
        rn_dwk_rows(d, in, w, bias, out, y0, y1);
#endif
    for (int oy = y0; oy < y1 && cv < cout; oy++)
        for (int ox = 0; ox < d->ow; ox++)
            rn_dwk_pixel(d, in, w, bias, out, oy, ox, cv, cout);
}

#endif
