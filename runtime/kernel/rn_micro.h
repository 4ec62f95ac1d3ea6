/* rn_micro.h: the convolution micro-kernel, the bottom layer of the
 * runtime's convolutions. Direct convolution (rn_direct.h) and the matrix
 * products of Winograd's (rn_wino.h) both run on it.
 *
 * A call computes R <= RN_MR output pixels x RN_NB output channels as a
 * sum over segments: each segment is a run of n input values per pixel
 * (one pointer per pixel) against n rows of RN_NB packed weights. The
 * sums stay in registers across all segments (6 x 16 floats in 12 AVX2
 * registers, 5 x 16 in 20 NEON ones): per input value, one broadcast per
 * pixel, 16/RN_VL weight loads and RN_MR x 16/RN_VL FMAs. The epilogue (bias, residual,
 * activation) runs on the registers before the one store. A sum too long
 * for one call is cut into several (first/last, partial sums in `part`).
 * Plain C (RN_VL 1) computes the same with loops over arrays.
 *
 * Also here, because both algorithms above use them: the row of zeros
 * that padding reads, and the sizes of work items. Requires rn_simd.h's
 * lanes; changes nothing but the outputs it is given. */
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
    int nvalid;        /* channels of the block that exist (< RN_NB: ragged) */
    int act;           /* RN_ACT_* */
} rn_epi;

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
    for (int r = 0; r < R; r++) {
        float *y = e->out + (rn_i64)r * e->ldo;
        const float *res = e->res ? e->res + (rn_i64)r * e->ldo : NULL;
        for (int j = 0; j < e->nvalid; j++) {
            float v = acc[r][j];
            if (e->bias) v += e->bias[j];
            if (res) v += res[j];
            y[j] = rn_act1(v, e->act);
        }
    }
}

#if RN_VL > 1
/* The vectors: RN_NV a row of 16 channels. The sums are named one by one
 * (a<row>_<vector>): an array of vectors indexed in a loop would live on
 * the stack. */
#define RN_NV (16 / RN_VL) /* RN_NB / RN_VL, for #if */
#if RN_NV == 2
#define RN_MK_COLS(X, r) X(r, 0) X(r, 1)
#elif RN_NV == 4
#define RN_MK_COLS(X, r) X(r, 0) X(r, 1) X(r, 2) X(r, 3)
#else
#error "rn_micro.h: 16 channels must be 2 or 4 vectors"
#endif
#define RN_MK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

#define RN_MK_DECL1(r, j) rn_v a##r##_##j = z;
#define RN_MK_DECL(r) RN_MK_COLS(RN_MK_DECL1, r)
#define RN_MK_LOAD1(r, j) a##r##_##j = rn_v_load(part + r * RN_NB + j * RN_VL);
#define RN_MK_LOAD(r) if (R > r) { RN_MK_COLS(RN_MK_LOAD1, r) }
#define RN_MK_SAVE1(r, j) rn_v_store(part + r * RN_NB + j * RN_VL, a##r##_##j);
#define RN_MK_SAVE(r) if (R > r) { RN_MK_COLS(RN_MK_SAVE1, r) }
#define RN_MK_X(r) const float *x##r = s[k].x[R > r ? r : 0];
#define RN_MK_W1(r, j) rn_v w##j = rn_v_load(w + j * RN_VL);
#define RN_MK_FMA1(r, j) a##r##_##j = rn_v_fma(xv, w##j, a##r##_##j);
#define RN_MK_FMA(r) if (R > r) { rn_v xv = rn_v_bcast(x##r + i); \
        RN_MK_COLS(RN_MK_FMA1, r) }
#define RN_MK_B1(r, j) rn_v b##j = bias ? rn_v_load(bias + j * RN_VL) : z;
#define RN_MK_OUT1(r, j) { \
        rn_v v = rn_v_add(a##r##_##j, b##j); \
        if (res) v = rn_v_add(v, rn_v_load(res + (rn_i64)r * ldr + j * RN_VL)); \
        rn_v_store(y + (rn_i64)r * ldy + j * RN_VL, rn_v_act(v, act)); }
#define RN_MK_OUT(r) if (R > r) { RN_MK_COLS(RN_MK_OUT1, r) }

/* rn_mk_c's work on vectors, R a constant in each copy below. A ragged
 * block goes through buffers here, so that nothing past its channels is
 * read or written. */
RN_INLINE void rn_mk_v(const int R, const rn_seg *s, int ns, const float *wb,
                       float *part, int first, int last, const rn_epi *e) {
    rn_v z = rn_v_zero();
    RN_MK_ROWS(RN_MK_DECL)
    if (!first) {
        RN_MK_ROWS(RN_MK_LOAD)
    }
    for (int k = 0; k < ns; k++) {
        const float *w = wb + s[k].woff;
        RN_MK_ROWS(RN_MK_X)
        for (int i = 0, n = s[k].n; i < n; i++, w += RN_NB) {
            RN_PREFETCH(w, RN_PREFETCH_BYTES);
            RN_MK_COLS(RN_MK_W1, 0)
            RN_MK_ROWS(RN_MK_FMA)
        }
    }
    if (!last) {
        RN_MK_ROWS(RN_MK_SAVE)
        return;
    }
    float bt[RN_NB], rt[RN_MR * RN_NB], yt[RN_MR * RN_NB];
    const float *bias = e->bias, *res = e->res;
    float *y = e->out;
    int act = e->act, ldr = e->ldo, ldy = e->ldo, full = e->nvalid >= RN_NB;
    if (!full) {
        if (bias) {
            for (int j = 0; j < RN_NB; j++) bt[j] = j < e->nvalid ? bias[j] : 0.0f;
            bias = bt;
        }
        for (int r = 0; r < R && res; r++)
            for (int j = 0; j < RN_NB; j++)
                rt[r * RN_NB + j] = j < e->nvalid ? res[(rn_i64)r * e->ldo + j] : 0.0f;
        res = res ? rt : NULL;
        y = yt;
        ldr = ldy = RN_NB;
    }
    RN_MK_COLS(RN_MK_B1, 0)
    RN_MK_ROWS(RN_MK_OUT)
    if (!full)
        for (int r = 0; r < R; r++)
            memcpy(e->out + (rn_i64)r * e->ldo, yt + r * RN_NB,
                   (size_t)e->nvalid * sizeof *yt);
}

#define RN_MK_R(RR)                                                         \
    RN_NOINLINE void rn_mk_##RR(const rn_seg *s, int ns, const float *wb,   \
                                float *part, int first, int last,           \
                                const rn_epi *e) {                          \
        rn_mk_v(RR, s, ns, wb, part, first, last, e);                       \
    }
RN_MK_R(1)
RN_MK_R(2)
RN_MK_R(3)
RN_MK_R(4)
RN_MK_R(5)
#if RN_MR_N > 5
RN_MK_R(6)
#endif
#endif

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

#endif
