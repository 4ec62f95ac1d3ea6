/* rn_micro.h: the convolution micro-kernel, the bottom layer of the
 * runtime's convolutions. Direct convolution (rn_direct.h) and the matrix
 * products of Winograd's (rn_wino.h) both run on it.
 *
 * A call computes R <= RN_MR output pixels x RN_NB output channels as a
 * sum over segments: each segment is a run of n input values per pixel
 * (one pointer per pixel) against n rows of RN_NB packed weights. The
 * sums stay in registers across all segments (6 x 16 floats in 12 AVX2
 * registers, 5 x 16 in 20 NEON ones): per input value, one broadcast per
 * pixel, 16/RN_VL weight loads and RN_MR x 16/RN_VL FMAs. Where a vector
 * is a whole block (AVX-512), a call may take two blocks side by side
 * (rn_mkn: 6 x 32 sums in 12 registers). The epilogue (bias, residual,
 * activation) runs on the registers before the one store. A sum too long
 * for one call is cut into several (first/last, partial sums in `part`).
 * Plain C (RN_VL 1) computes the same with loops over arrays.
 *
 * Also here, because both algorithms above use them: the row of zeros
 * that padding reads, a kernel's weight (grouped or not: rn_kernel_at),
 * and the sizes of work items. Requires rn_simd.h's lanes; changes
 * nothing but the outputs it is given. */
#ifndef RN_MICRO_H
#define RN_MICRO_H

#include <string.h>

#include "rn_simd.h"

/* Output pixels per call: 6 x 16 sums take 12 of AVX2's 16 registers;
 * NEON's 32 hold 5 x 16 (20) beside 4 of weights and 5 of inputs, where
 * 6 x 16 would spill. */
#ifdef RN_SIMD_NEON
#define RN_MR_N 5
#else
#define RN_MR_N 6
#endif

enum {
    RN_NB = 16,              /* output channels per packed block */
    RN_MR = RN_MR_N,         /* output pixels per kernel call */
    RN_ZMAX = 1024,          /* floats of rn_zeros */
    RN_MAX_ITEMS = 32,       /* work items: >= 16 per thread at 2 threads */
    RN_ITEM_FLOPS = 1 << 20, /* smallest work item worth a task */
    RN_PREFETCH_BYTES = 3072 /* weights ~50 rows ahead: measured 1-5% */
};

/* A kernel's weight (tap t, input channel ci, output channel co) of the
 * Keras kernel at `kernel` (output channels from it on, ldk apart): with
 * c->groups > 1 the packed weights are block-diagonal, a kernel of
 * [kh][kw][cin / groups][ldk] whose input channel ci reaches only the
 * output channels of its group (zero elsewhere); else [kh][kw][cin][ldk]. */
RN_FN float rn_kernel_at(const rn_conv *c, const float *kernel, int ldk,
                         rn_i64 t, int ci, int co) {
    if (c->groups > 1) {
        int gi = c->cin / c->groups, go = c->cout / c->groups;
        if (ci / gi != co / go) return 0.0f;
        return kernel[((rn_i64)t * gi + ci % gi) * ldk + co];
    }
    return kernel[((rn_i64)t * c->cin + ci) * ldk + co];
}

/* What a pixel reads where its tap falls in the padding. */
static const float rn_zeros[RN_ZMAX] RN_MAYBE_UNUSED;

/* One run of input values, for every pixel of the block. */
typedef struct rn_seg {
    const float *x[RN_MR]; /* the pixel's input values, or rn_zeros */
    rn_i64 woff;           /* its weights' offset inside a channel block */
    int n;                 /* values (rows of weights) */
} rn_seg;

/* Where and how the block's results go. */
typedef struct rn_epi {
    const float *bias; /* at the block's first channel, or NULL */
    const float *res;  /* pixel 0's residual at that channel, or NULL */
    float *out;        /* pixel 0's output at that channel */
    int ldo;           /* floats between pixels of out and res */
    int nvalid;        /* channels that exist from the block's first on
                          (fewer than the call's: ragged) */
    int act;           /* RN_ACT_* */
} rn_epi;

/* Plain C's epilogue: R rows of RN_NB sums through bias, residual and
 * activation into e's rows (its valid channels only). */
RN_FN void rn_epi_c(int R, const float (*acc)[RN_NB], const rn_epi *e) {
    for (int r = 0; r < R; r++) {
        float *y = e->out + (rn_i64)r * e->ldo;
        const float *res = e->res ? e->res + (rn_i64)r * e->ldo : NULL;
        for (int j = 0; j < e->nvalid && j < RN_NB; j++) {
            float v = acc[r][j];
            if (e->bias) v += e->bias[j];
            if (res) v += res[j];
            y[j] = rn_act1(v, e->act);
        }
    }
}

/* Plain C: R pixels x RN_NB channels over segments s[0, ns) of weights
 * wb. first: start from zero, else from part; last: apply the epilogue
 * and store, else leave the sums in part. */
RN_FN void rn_mk_c(int R, const rn_seg *s, int ns, const float *wb,
                   float *part, int first, int last, const rn_epi *e) {
    float acc[RN_MR][RN_NB];
    if (first)
        memset(acc, 0, sizeof acc);
    else
        memcpy(acc, part, sizeof acc);
    for (int k = 0; k < ns; k++) {
        const float *w = wb + s[k].woff;
        for (int i = 0; i < s[k].n; i++, w += RN_NB)
            for (int r = 0; r < R; r++) {
                float xv = s[k].x[r][i];
                for (int j = 0; j < RN_NB; j++) acc[r][j] += xv * w[j];
            }
    }
    if (!last) {
        memcpy(part, acc, sizeof acc);
        return;
    }
    rn_epi_c(R, (const float (*)[RN_NB])acc, e);
}

#if RN_VL > 1
/* The vectors: RN_NV a row of 16 channels. A call's columns are RN_NV
 * vectors of one block, or, where one vector is a whole block (AVX-512),
 * one vector of each of RN_NBK = 2 blocks side by side: 6 pixels x 32
 * channels in 12 of its 32 registers, two weight loads and six broadcasts
 * for twelve FMAs. The sums are named one by one (a<row>_<column>): an
 * array of vectors indexed in a loop would live on the stack. */
#define RN_NV (16 / RN_VL) /* RN_NB / RN_VL, for #if */
#if RN_NV == 1
#define RN_NBK 2
#define RN_MK_COLS(X, r) X(r, 0) X(r, 1)
#elif RN_NV == 2
#define RN_NBK 1
#define RN_MK_COLS(X, r) X(r, 0) X(r, 1)
#elif RN_NV == 4
#define RN_NBK 1
#define RN_MK_COLS(X, r) X(r, 0) X(r, 1) X(r, 2) X(r, 3)
#else
#error "rn_micro.h: 16 channels must be 1, 2 or 4 vectors"
#endif
#define RN_MK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

/* Column j of NC: its weights at w + j * wstep, its channels at j * RN_VL
 * from the call's first (the blocks of a pair are RN_VL = RN_NB apart). */
#define RN_MK_DECL1(r, j) rn_v a##r##_##j = z;
#define RN_MK_DECL(r) RN_MK_COLS(RN_MK_DECL1, r)
#define RN_MK_LOAD1(r, j) if (NC > j) a##r##_##j = rn_v_load(part + r * NC * RN_VL + j * RN_VL);
#define RN_MK_LOAD(r) if (R > r) { RN_MK_COLS(RN_MK_LOAD1, r) }
#define RN_MK_SAVE1(r, j) if (NC > j) rn_v_store(part + r * NC * RN_VL + j * RN_VL, a##r##_##j);
#define RN_MK_SAVE(r) if (R > r) { RN_MK_COLS(RN_MK_SAVE1, r) }
#define RN_MK_X(r) const float *x##r = s[k].x[R > r ? r : 0];
#define RN_MK_W1(r, j) rn_v w##j = NC > j ? rn_v_load(w + j * wstep) : z;
#define RN_MK_PF1(r, j) \
    if (NC > j && (j == 0 || RN_NBK > 1)) RN_PREFETCH(w + j * wstep, RN_PREFETCH_BYTES);
#define RN_MK_FMA1(r, j) if (NC > j) a##r##_##j = rn_v_fma(xv, w##j, a##r##_##j);
#define RN_MK_FMA(r) if (R > r) { rn_v xv = rn_v_bcast(x##r + i); \
        RN_MK_COLS(RN_MK_FMA1, r) }
#define RN_MK_B1(r, j) rn_v b##j = bias && NC > j ? rn_v_load(bias + j * RN_VL) : z;
#define RN_MK_OUT1(r, j) if (NC > j) { \
        rn_v v = rn_v_add(a##r##_##j, b##j); \
        if (res) v = rn_v_add(v, rn_v_load(res + (rn_i64)r * ldr + j * RN_VL)); \
        rn_v_store(y + (rn_i64)r * ldy + j * RN_VL, rn_v_act_light(v, act)); }
#define RN_MK_OUT(r) if (R > r) { RN_MK_COLS(RN_MK_OUT1, r) }

/* The epilogue's lines of R pixels x NC vectors (output, and residual
 * where there is one), on their way while the sums run. */
RN_INLINE void rn_epi_prefetch(const rn_epi *e, int R, int NC) {
    for (int r = 0; r < R; r++) {
        float *y = e->out + (rn_i64)r * e->ldo;
        RN_PREFETCHW(y);
        RN_PREFETCHW(y + NC * RN_VL - 1);
        if (e->res) {
            RN_PREFETCH(e->res + (rn_i64)r * e->ldo, 0);
            RN_PREFETCH(e->res + (rn_i64)r * e->ldo + NC * RN_VL - 1, 0);
        }
    }
}

/* Where a call's epilogue reads and writes: e's own rows, or, for a
 * ragged call (fewer channels than its NC vectors), buffers, so that
 * nothing past its channels is read or written. */
typedef struct rn_epi_to {
    const float *bias, *res;
    float *out;
    int ld;   /* floats between pixels of out and res */
    int full; /* e's own rows */
} rn_epi_to;

/* The epilogue's places for R pixels x NC vectors: bt (NC vectors), rt
 * and yt (R rows of NC vectors) are the ragged call's buffers. */
RN_INLINE rn_epi_to rn_epi_ragged(const rn_epi *e, int R, int NC, float *bt,
                                  float *rt, float *yt) {
    rn_epi_to t = {e->bias, e->res, e->out, e->ldo, e->nvalid >= NC * RN_VL};
    if (t.full) return t;
    int nv = e->nvalid;
    if (t.bias) {
        for (int j = 0; j < NC * RN_VL; j++) bt[j] = j < nv ? e->bias[j] : 0.0f;
        t.bias = bt;
    }
    for (int r = 0; r < R && e->res; r++)
        for (int j = 0; j < NC * RN_VL; j++)
            rt[r * NC * RN_VL + j] = j < nv ? e->res[(rn_i64)r * e->ldo + j] : 0.0f;
    t.res = e->res ? rt : NULL;
    t.out = yt;
    t.ld = NC * RN_VL;
    return t;
}

/* A ragged call's results, from its buffer to e's rows. */
RN_INLINE void rn_epi_ragged_store(const rn_epi *e, int R, int NC, const rn_epi_to *t) {
    if (t->full) return;
    for (int r = 0; r < R; r++)
        memcpy(e->out + (rn_i64)r * e->ldo, t->out + r * NC * RN_VL,
               (size_t)e->nvalid * sizeof *t->out);
}

/* The heavy activation of a call's stored results (its epilogue applied
 * the light ones on registers: rn_v_act_light). */
RN_INLINE void rn_epi_rest(const rn_epi *e, int R, int NC) {
    int n = e->nvalid < NC * RN_VL ? e->nvalid : NC * RN_VL;
    rn_v_act_rest(e->act, e->out, R, e->ldo, n);
}

/* rn_mk_c's work on vectors, R and NC constants in each copy below: NC
 * columns, column j's weights at wb + j * wstep. A ragged call (fewer
 * channels than NC vectors) goes through buffers here, so that nothing
 * past its channels is read or written. */
RN_INLINE void rn_mk_v(const int R, const int NC, const rn_seg *s, int ns,
                       const float *wb, rn_i64 wstep, float *part, int first,
                       int last, const rn_epi *e) {
    enum { MOST = RN_NV * RN_NBK * RN_VL }; /* channels of a call at most */
    rn_v z = rn_v_zero();
    RN_MK_ROWS(RN_MK_DECL)
    if (!first) {
        RN_MK_ROWS(RN_MK_LOAD)
    }
    if (last) rn_epi_prefetch(e, R, NC);
    for (int k = 0; k < ns; k++) {
        const float *w = wb + s[k].woff;
        RN_MK_ROWS(RN_MK_X)
        for (int i = 0, n = s[k].n; i < n; i++, w += RN_NB) {
            RN_MK_COLS(RN_MK_PF1, 0)
            RN_MK_COLS(RN_MK_W1, 0)
            RN_MK_ROWS(RN_MK_FMA)
        }
    }
    if (!last) {
        RN_MK_ROWS(RN_MK_SAVE)
        return;
    }
    float bt[MOST], rt[RN_MR * MOST], yt[RN_MR * MOST];
    rn_epi_to e2 = rn_epi_ragged(e, R, NC, bt, rt, yt);
    const float *bias = e2.bias, *res = e2.res;
    float *y = e2.out;
    int act = e->act, ldr = e2.ld, ldy = e2.ld;
    RN_MK_COLS(RN_MK_B1, 0)
    RN_MK_ROWS(RN_MK_OUT)
    rn_epi_ragged_store(e, R, NC, &e2);
    rn_epi_rest(e, R, NC);
}

/* One block (RN_NV columns), and on AVX-512 a pair of blocks. */
#define RN_MK_R(RR)                                                         \
    RN_NOINLINE void rn_mk_##RR(const rn_seg *s, int ns, const float *wb,   \
                                float *part, int first, int last,           \
                                const rn_epi *e) {                          \
        rn_mk_v(RR, RN_NV, s, ns, wb, RN_VL, part, first, last, e);         \
    }
#define RN_MK2_R(RR)                                                        \
    RN_NOINLINE void rn_mk2_##RR(const rn_seg *s, int ns, const float *wb,  \
                                 rn_i64 wstride, float *part, int first,    \
                                 int last, const rn_epi *e) {               \
        rn_mk_v(RR, 2, s, ns, wb, wstride, part, first, last, e);           \
    }
RN_MK_R(1)
RN_MK_R(2)
RN_MK_R(3)
RN_MK_R(4)
RN_MK_R(5)
#if RN_MR_N > 5
RN_MK_R(6)
#endif
#if RN_NBK > 1
RN_MK2_R(1)
RN_MK2_R(2)
RN_MK2_R(3)
RN_MK2_R(4)
RN_MK2_R(5)
RN_MK2_R(6)

/* Pointwise (a 1x1 convolution of stride 1: one run of n input values, a
 * call's pixel r at x + r * ldx), where a vector is a whole block: up to
 * RN_PW_MR = 12 pixels x 2 blocks, 24 sums of the 32 registers. Per input
 * value two weight loads and twelve broadcasts feed 24 FMAs (rn_mk2's 6 x
 * 32 feeds 12 with 2 + 6): the weights, out of L1 when they cycle per
 * pixel block, are read half as often, and a call's fixed costs spread
 * over twice the pixels (small input depths: 16..40 channels). The rows
 * reach their pixels from four pointers, three rows each (r = 3g + o at
 * xg<g> + o * ldx), so that the twelve fit the integer registers. */
#define RN_PW_MR_N 12
#define RN_PW_ROWS(X) X(0, 0, 0) X(1, 0, 1) X(2, 0, 2) X(3, 1, 0) X(4, 1, 1) \
    X(5, 1, 2) X(6, 2, 0) X(7, 2, 1) X(8, 2, 2) X(9, 3, 0) X(10, 3, 1) X(11, 3, 2)
#define RN_PW_DECL(r, g, o) RN_MK_DECL(r)
#define RN_PW_OUT(r, g, o) RN_MK_OUT(r)
#define RN_PW_BM1(r, j) rn_v b##j = bias && NC > j ? rn_v_load_m(bias + j * RN_VL, m##j) : z;
#define RN_PW_OUTM1(r, j) if (NC > j) { \
        rn_v v = rn_v_add(a##r##_##j, b##j); \
        if (res) v = rn_v_add(v, rn_v_load_m(res + (rn_i64)r * ldr + j * RN_VL, m##j)); \
        rn_v_store_m(y + (rn_i64)r * ldy + j * RN_VL, rn_v_act_light(v, act), m##j); }
#define RN_PW_OUTM(r, g, o) if (R > r) { RN_MK_COLS(RN_PW_OUTM1, r) }
#define RN_PW_FMA(r, g, o) if (R > r) { rn_v xv = rn_v_bcast(xg##g + o * ldx); \
        RN_MK_COLS(RN_MK_FMA1, r) }

RN_INLINE void rn_pw_v(const int R, const int NC, const float *x, rn_i64 ldx,
                       int n, const float *wb, rn_i64 wstep, const rn_epi *e) {
    rn_v z = rn_v_zero();
    RN_PW_ROWS(RN_PW_DECL)
    rn_epi_prefetch(e, R, NC);
    const float *xg0 = x, *xg1 = x + (R > 3 ? 3 * ldx : 0);
    const float *xg2 = x + (R > 6 ? 6 * ldx : 0), *xg3 = x + (R > 9 ? 9 * ldx : 0);
    const float *w = wb;
    for (int i = 0; i < n; i++, w += RN_NB) {
        RN_MK_COLS(RN_MK_PF1, 0)
        RN_MK_COLS(RN_MK_W1, 0)
        RN_PW_ROWS(RN_PW_FMA)
        xg0++, xg1++, xg2++, xg3++;
    }
    const float *bias = e->bias, *res = e->res;
    float *y = e->out;
    int act = e->act, ldr = e->ldo, ldy = e->ldo, nv = e->nvalid;
    if (nv >= NC * RN_VL) {
        RN_MK_COLS(RN_MK_B1, 0)
        RN_PW_ROWS(RN_PW_OUT)
    } else { /* ragged (mobile nets' 24, 40, 72, 120 channels): masked, in place */
        rn_vmask m0 = rn_v_mask(nv < RN_VL ? nv : RN_VL);
        rn_vmask m1 = rn_v_mask(nv <= RN_VL ? 0 : nv - RN_VL);
        RN_MK_COLS(RN_PW_BM1, 0)
        RN_PW_ROWS(RN_PW_OUTM)
    }
    rn_epi_rest(e, R, NC);
}

/* R pixels x one block (rn_pw1_R) or a pair (rn_pw2_R, the second block's
 * weights wstride after the first's), for the R of RN_PW_SIZES only:
 * every R to 12 made the file four times as slow to compile, for the
 * last pixels of a work item. */
#define RN_PW_R(RR)                                                         \
    RN_NOINLINE void rn_pw1_##RR(const float *x, rn_i64 ldx, int n,         \
                                 const float *wb, const rn_epi *e) {        \
        rn_pw_v(RR, 1, x, ldx, n, wb, RN_VL, e);                            \
    }                                                                       \
    RN_NOINLINE void rn_pw2_##RR(const float *x, rn_i64 ldx, int n,         \
                                 const float *wb, rn_i64 wstride,           \
                                 const rn_epi *e) {                         \
        rn_pw_v(RR, 2, x, ldx, n, wb, wstride, e);                          \
    }
#define RN_PW_SIZES(X) X(12) X(8) X(6) X(4) X(2) X(1)
RN_PW_SIZES(RN_PW_R)

/* R pixels (pixel r's n inputs at x + r * ldx) x nblk blocks
 * (rn_mk_blocks), block b's weights at wb + b * wstride; e as rn_mkn's:
 * calls of the sizes above, the largest first. */
RN_INLINE void rn_pwn(int R, int nblk, const float *x, rn_i64 ldx, int n,
                      const float *wb, rn_i64 wstride, const rn_epi *e) {
    rn_epi ep = *e;
    while (R > 0) {
#define RN_PW_CASE(RR) \
        if (R >= RR) { \
            if (nblk > 1) rn_pw2_##RR(x, ldx, n, wb, wstride, &ep); \
            else rn_pw1_##RR(x, ldx, n, wb, &ep); \
            R -= RR, x += RR * ldx, ep.out += RR * ep.ldo; \
            if (ep.res) ep.res += RR * ep.ldo; \
            continue; \
        }
        RN_PW_SIZES(RN_PW_CASE)
#undef RN_PW_CASE
    }
}
#endif
#else
#define RN_NBK 1
#endif

/* Pixels of a pointwise call (rn_pwn) on this target; RN_MR where there
 * is no wide kernel. */
#ifndef RN_PW_MR_N
#define RN_PW_MR_N RN_MR_N
#endif
enum { RN_PW_MR = RN_PW_MR_N };

/* The micro-kernel of this target: R pixels x RN_NB channels (rn_mk_c). */
RN_INLINE void rn_mk(int R, const rn_seg *s, int ns, const float *wb,
                     float *part, int first, int last, const rn_epi *e) {
#if RN_VL > 1
    switch (R) {
#if RN_MR_N > 5
    case 6: rn_mk_6(s, ns, wb, part, first, last, e); break;
#endif
    case 5: rn_mk_5(s, ns, wb, part, first, last, e); break;
    case 4: rn_mk_4(s, ns, wb, part, first, last, e); break;
    case 3: rn_mk_3(s, ns, wb, part, first, last, e); break;
    case 2: rn_mk_2(s, ns, wb, part, first, last, e); break;
    default: rn_mk_1(s, ns, wb, part, first, last, e); break;
    }
#else
    rn_mk_c(R, s, ns, wb, part, first, last, e);
#endif
}

/* Blocks a call takes from nleft blocks: RN_NBK when there are as many. */
RN_FN int rn_mk_blocks(int nleft) {
    return nleft >= RN_NBK ? RN_NBK : 1;
}

/* R pixels x nblk blocks (rn_mk_blocks): block b's weights at
 * wb + b * wstride; e is the first block's, the next block's channels
 * follow it (e->nvalid counts from the first block's first channel);
 * part holds RN_MR x RN_NB x RN_NBK floats. */
RN_INLINE void rn_mkn(int R, int nblk, const rn_seg *s, int ns, const float *wb,
                      rn_i64 wstride, float *part, int first, int last,
                      const rn_epi *e) {
#if RN_NBK > 1
    if (nblk > 1) {
        switch (R) {
        case 6: rn_mk2_6(s, ns, wb, wstride, part, first, last, e); break;
        case 5: rn_mk2_5(s, ns, wb, wstride, part, first, last, e); break;
        case 4: rn_mk2_4(s, ns, wb, wstride, part, first, last, e); break;
        case 3: rn_mk2_3(s, ns, wb, wstride, part, first, last, e); break;
        case 2: rn_mk2_2(s, ns, wb, wstride, part, first, last, e); break;
        default: rn_mk2_1(s, ns, wb, wstride, part, first, last, e); break;
        }
        return;
    }
#endif
    (void)nblk, (void)wstride;
    rn_mk(R, s, ns, wb, part, first, last, e);
}

#endif
