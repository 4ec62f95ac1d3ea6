/* rn_group.h: grouped 2-D convolution (NHWC) of few channels a group, as
 * many in as out (RegNet's 8, ResNeXt's 4): rn_conv.groups groups, output
 * channel o seeing the input channels of its group o / go, the Keras
 * kernel [kh][kw][go][cout].
 *
 * A vector holds output channels of whole groups (go dividing its lanes)
 * or of one group (go a multiple of them): step j of a tap brings each
 * lane input channel j of its group, by a permute of the pixel's input
 * vector within each group's lanes (AVX-512's vpermps, AVX2's, NEON's
 * table lookup), or a broadcast from memory where the vector lies in one
 * group, and multiplies it by the weights of that step, each lane its
 * own. No zeros are multiplied (the block-diagonal dense kernel of a
 * super-group multiplies go of RN_NB input values by zero).
 *
 * Weights are packed in blocks of RN_GC_NB = 16 output channels,
 * [cout/16][kh][kw][go][16], zero in a ragged last block; the same on
 * every instruction set (a block is 1, 2 or 4 vectors).
 *
 * 3-wide kernels undilated across, at stride 1 or 2, slide each input
 * column of a kernel row across the taps that read it (as rn_dw.h does):
 * a row's tile of NP pixels takes (NP - 1) S + 3 permutes a step instead
 * of 3 NP, the columns in the padding left out. Everything else (other
 * kernels, strides, dilations, a ragged last vector) runs a pixel at a
 * time with the taps inside the image.
 *
 * Work items are (group of channel blocks) x (group of output rows), of
 * about RN_GC_ITEM_FLOPS each: a layer of 7x7 pixels splits over threads
 * too (a super-group of RN_NB channels was one item: 2 threads ran
 * RegNet's 14x14 and 7x7 grouped layers on one).
 *
 * Entry points: rn_gc_eligible, rn_gc_packed_floats, rn_gc_pack,
 * rn_gc_tiles, rn_gc_run. Static inline functions of their arguments
 * only; nothing is allocated. */
#ifndef RN_GROUP_H
#define RN_GROUP_H

#include "rn_simd.h"

enum {
    RN_GC_NB = 16,              /* output channels a packed block */
    RN_GC_NP = 8,               /* output pixels a row tile, at most */
    RN_GC_ITEM_FLOPS = 1 << 18, /* work items of about this many... */
    RN_GC_MAX_ITEMS = 64        /* ...up to this many */
};

/* Channels a group (in and out). */
RN_FN int rn_gc_width(const rn_conv *c) { return c->cout / c->groups; }

/* Whether this kernel takes c: groups of as many channels in as out, a
 * width dividing RN_GC_NB, no prologue. */
RN_FN int rn_gc_eligible(const rn_conv *c) {
    if (c->groups <= 1 || c->pre || c->cin != c->cout || c->cout % c->groups) return 0;
    return RN_GC_NB % rn_gc_width(c) == 0;
}

/* Floats of the packed weights. */
RN_FN rn_i64 rn_gc_packed_floats(const rn_conv *c) {
    return (rn_i64)rn_ceil_div(c->cout, RN_GC_NB) * RN_GC_NB * c->kh * c->kw *
           rn_gc_width(c);
}

/* Packs a Keras kernel [kh][kw][go][ldk] (output channels from `kernel`
 * on), times scale[co] when scale is not NULL: lane l of step j of tap t
 * of block b is the weight of input channel j of output channel
 * 16 b + l's group. */
RN_FN void rn_gc_pack(const rn_conv *c, const float *kernel, int ldk,
                      const float *scale, float *packed) {
    int go = rn_gc_width(c), kt = c->kh * c->kw, nblk = rn_ceil_div(c->cout, RN_GC_NB);
    for (int b = 0; b < nblk; b++)
        for (int t = 0; t < kt; t++)
            for (int j = 0; j < go; j++)
                for (int l = 0; l < RN_GC_NB; l++) {
                    int co = b * RN_GC_NB + l;
                    float v = 0;
                    if (co < c->cout) {
                        v = kernel[((rn_i64)t * go + j) * ldk + co];
                        if (scale) v *= scale[co];
                    }
                    *packed++ = v;
                }
}

/* The work split: ncg groups of channel blocks x npg groups of rows. */
typedef struct rn_gc_plan {
    int nblk, ncg, npg;
} rn_gc_plan;

RN_FN rn_gc_plan rn_gc_make_plan(const rn_conv *c) {
    rn_gc_plan p = {rn_ceil_div(c->cout, RN_GC_NB), 1, 1};
    double flops = 2.0 * c->oh * c->ow * c->cout * c->kh * c->kw * rn_gc_width(c);
    double want = flops / RN_GC_ITEM_FLOPS;
    if (want > RN_GC_MAX_ITEMS) want = RN_GC_MAX_ITEMS;
    int w = want < 1 ? 1 : (int)want;
    p.ncg = w < p.nblk ? w : p.nblk;
    if (p.ncg < 1) p.ncg = 1;
    p.npg = rn_ceil_div(w, p.ncg);
    if (p.npg > c->oh) p.npg = c->oh;
    if (p.npg < 1) p.npg = 1;
    return p;
}

/* Work items of c. */
RN_FN int rn_gc_tiles(const rn_conv *c) {
    rn_gc_plan p = rn_gc_make_plan(c);
    return p.ncg * p.npg;
}

/* Output pixel (oy, ox), output channels [co, co + n) of one block
 * (weights w: the block's, from lane co % RN_GC_NB), plain C: the taps
 * inside the image, a step at a time. */
RN_FN void rn_gc_pixel_c(const rn_conv *c, const float *in, const float *w,
                         const float *bias, const float *res, float *out, int co,
                         int n, int oy, int ox) {
    int go = rn_gc_width(c), iy0 = oy * c->sh - c->pad_t, ix0 = ox * c->sw - c->pad_l;
    rn_i64 po = ((rn_i64)oy * c->ow + ox) * c->ldo + co;
    for (int l = 0; l < n; l++) {
        int g0 = (co + l) / go * go; /* the group's first input channel */
        float s = bias ? bias[co + l] : 0.0f;
        for (int ky = 0; ky < c->kh; ky++) {
            int iy = iy0 + ky * c->dh;
            if (iy < 0 || iy >= c->ih) continue;
            for (int kx = 0; kx < c->kw; kx++) {
                int ix = ix0 + kx * c->dw;
                if (ix < 0 || ix >= c->iw) continue;
                const float *x = in + ((rn_i64)iy * c->iw + ix) * c->ldi + g0;
                const float *wt = w + (rn_i64)(ky * c->kw + kx) * go * RN_GC_NB + l;
                for (int j = 0; j < go; j++) s += x[j] * wt[j * RN_GC_NB];
            }
        }
        if (res) s += res[po + l];
        out[po + l] = rn_act1(s, c->act);
    }
}

#if RN_VL > 1
/* Loops of constant counts unrolled whole, so that the slide's sums stay
 * on registers (gcc's own limits left stride 2's 17 columns rolled, the
 * sums in memory). */
#if defined(__GNUC__)
#define RN_GC_UNROLL _Pragma("GCC unroll 32")
#else
#define RN_GC_UNROLL
#endif

/* Input channel j of each lane's group, from a vector x of the groups'
 * input channels (whole groups of go < RN_VL lanes): rn_gc_sel_of(go, j)
 * once, rn_gc_perm(s, x) per pixel. */
#if defined(RN_SIMD_AVX512)
typedef __m512i rn_gc_sel;
RN_INLINE rn_gc_sel rn_gc_sel_of(int go, int j) {
    __m512i l = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    return _mm512_add_epi32(_mm512_and_si512(l, _mm512_set1_epi32(-go)),
                            _mm512_set1_epi32(j));
}
RN_INLINE rn_v rn_gc_perm(rn_gc_sel s, rn_v x) { return _mm512_permutexvar_ps(s, x); }
#elif defined(RN_SIMD_AVX2)
typedef __m256i rn_gc_sel;
RN_INLINE rn_gc_sel rn_gc_sel_of(int go, int j) {
    __m256i l = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_add_epi32(_mm256_and_si256(l, _mm256_set1_epi32(-go)),
                            _mm256_set1_epi32(j));
}
RN_INLINE rn_v rn_gc_perm(rn_gc_sel s, rn_v x) { return _mm256_permutevar8x32_ps(x, s); }
#elif defined(RN_SIMD_NEON)
typedef uint8x16_t rn_gc_sel; /* the bytes of each lane's float */
RN_INLINE rn_gc_sel rn_gc_sel_of(int go, int j) {
    uint8_t b[16];
    for (int i = 0; i < 16; i++) b[i] = (uint8_t)((((i / 4) & -go) + j) * 4 + i % 4);
    return vld1q_u8(b);
}
RN_INLINE rn_v rn_gc_perm(rn_gc_sel s, rn_v x) {
    return vreinterpretq_f32_u8(vqtbl1q_u8(vreinterpretq_u8_f32(x), s));
}
#endif

/* A step's input vector at x (the pixel's channel co): a broadcast from
 * memory when the lanes lie in one group (BC: x + boff, boff = j - co %
 * go, the step's channel of the group), else a permute of the pixel's
 * vector (loaded whole, or its first lanes under mask mk). */
RN_INLINE rn_v rn_gc_x(const float *x, int boff, rn_gc_sel s, const int BC,
                       const int MASKED, rn_vmask mk) {
    if (BC) return rn_v_bcast(x + boff);
    return rn_gc_perm(s, MASKED ? rn_v_load_m(x, mk) : rn_v_load(x));
}

/* One vector of sums for the pixel at po (floats into out and res): the
 * residual added (read before the store: it may be out itself), stored
 * (the first lanes under mask). The activation follows, in a pass over the
 * stored pixels (rn_v_act_tile: inlined in each slide, sigmoid's and
 * swish's code made them 4x as big). */
RN_INLINE void rn_gc_store(rn_v v, const float *res, float *out, rn_i64 po,
                           const int MASKED, rn_vmask mk) {
    if (res) v = rn_v_add(v, MASKED ? rn_v_load_m(res + po, mk) : rn_v_load(res + po));
    if (MASKED)
        rn_v_store_m(out + po, v, mk);
    else
        rn_v_store(out + po, v);
}

/* Output pixel (oy, ox), the n <= RN_VL output channels at co (weights
 * w, lane co % RN_GC_NB of the block's): the taps inside the image, a
 * step at a time; any kernel, stride, dilation. */
RN_FN void rn_gc_pixel(const rn_conv *c, const float *in, const float *w,
                       const float *bias, const float *res, float *out, int co,
                       int n, int oy, int ox) {
    int go = rn_gc_width(c), iy0 = oy * c->sh - c->pad_t, ix0 = ox * c->sw - c->pad_l;
    int bc = go >= RN_VL, masked = n < RN_VL;
    rn_vmask mk = rn_v_mask(n);
    rn_v acc = bias ? (masked ? rn_v_load_m(bias + co, mk) : rn_v_load(bias + co))
                    : rn_v_zero();
    for (int ky = 0; ky < c->kh; ky++) {
        int iy = iy0 + ky * c->dh;
        if (iy < 0 || iy >= c->ih) continue;
        for (int kx = 0; kx < c->kw; kx++) {
            int ix = ix0 + kx * c->dw;
            if (ix < 0 || ix >= c->iw) continue;
            const float *x = in + ((rn_i64)iy * c->iw + ix) * c->ldi + co;
            const float *wt = w + (rn_i64)(ky * c->kw + kx) * go * RN_GC_NB;
            for (int j = 0; j < go; j++) {
                rn_gc_sel s = rn_gc_sel_of(go, j);
                int boff = j - co % go;
                rn_v xv = bc ? rn_gc_x(x, boff, s, 1, 0, mk)
                          : masked ? rn_gc_x(x, boff, s, 0, 1, mk)
                                   : rn_gc_x(x, boff, s, 0, 0, mk);
                acc = rn_v_fma(xv, rn_v_load(wt + j * RN_GC_NB), acc);
            }
        }
    }
    rn_i64 po = ((rn_i64)oy * c->ow + ox) * c->ldo + co;
    if (masked)
        rn_gc_store(acc, res, out, po, 1, mk);
    else
        rn_gc_store(acc, res, out, po, 0, mk);
    if (c->act != RN_ACT_NONE) rn_v_act_tile(c->act, out + po, 1, c->ldo, n);
}

/* NP output pixels of row oy from column ox0, the RN_VL output channels
 * at co (weights w), for a 3-wide kernel undilated across at stride S
 * (NP, S, BC, EDGE, MASKED constants): the input columns of a kernel
 * row, loaded once a step each, slide across the taps that read them
 * (pixel p's tap kx reads column p S + kx); with EDGE, columns in the
 * padding are left out; with MASKED, the first lanes only (mask mk: the
 * last channels, 104 of RegNet's = 6 x 16 + 8). Per step, the NP sums,
 * the row's 3 weights and one column are live. */
RN_INLINE void rn_gc_slide(const rn_conv *c, const float *in, const float *w,
                           const float *bias, const float *res, float *out, int co,
                           int oy, int ox0, const int NP, const int S, const int BC,
                           const int EDGE, const int MASKED, rn_vmask mk) {
    enum { KW = 3 };
    const int span = (NP - 1) * S + KW, go = rn_gc_width(c), cg = co % go;
    const rn_i64 ldi = c->ldi;
    rn_v acc[RN_GC_NP];
    rn_v b = bias ? (MASKED ? rn_v_load_m(bias + co, mk) : rn_v_load(bias + co))
                  : rn_v_zero();
    RN_GC_UNROLL
    for (int p = 0; p < NP; p++) acc[p] = b;
    int ix0 = ox0 * S - c->pad_l;
    int ulo = ix0 < 0 ? -ix0 : 0, uhi = c->iw - ix0; /* columns inside */
    for (int ky = 0; ky < c->kh; ky++) {
        int iy = oy * c->sh - c->pad_t + ky * c->dh;
        if (iy < 0 || iy >= c->ih) continue;
        const float *row = in + (rn_i64)iy * c->iw * ldi + co;
        const float *wk = w + (rn_i64)ky * KW * go * RN_GC_NB;
        for (int j = 0; j < go; j++) {
            rn_gc_sel s = rn_gc_sel_of(go, j);
            const int boff = j - cg;
            rn_v w0 = rn_v_load(wk + (rn_i64)j * RN_GC_NB);
            rn_v w1 = rn_v_load(wk + (rn_i64)(go + j) * RN_GC_NB);
            rn_v w2 = rn_v_load(wk + (rn_i64)(2 * go + j) * RN_GC_NB);
            RN_GC_UNROLL
            for (int u = 0; u < span; u++) {
                if (EDGE && (u < ulo || u >= uhi)) continue;
                rn_v xv = rn_gc_x(row + (rn_i64)(ix0 + u) * ldi, boff, s, BC, MASKED, mk);
                /* pixel (u - kx) / S reads this column at tap kx */
                if (u % S == 0 && u / S < NP) acc[u / S] = rn_v_fma(xv, w0, acc[u / S]);
                if (u >= 1 && (u - 1) % S == 0 && (u - 1) / S < NP)
                    acc[(u - 1) / S] = rn_v_fma(xv, w1, acc[(u - 1) / S]);
                if (u >= 2 && (u - 2) % S == 0 && (u - 2) / S < NP)
                    acc[(u - 2) / S] = rn_v_fma(xv, w2, acc[(u - 2) / S]);
            }
        }
    }
    RN_GC_UNROLL
    for (int p = 0; p < NP; p++)
        rn_gc_store(acc[p], res, out, ((rn_i64)oy * c->ow + ox0 + p) * c->ldo + co, MASKED,
                    mk);
    if (c->act != RN_ACT_NONE)
        rn_v_act_tile(c->act, out + ((rn_i64)oy * c->ow + ox0) * c->ldo + co, NP, c->ldo,
                      MASKED ? c->cout - co : RN_VL);
}

#define RN_GC_SLIDE_S(NP, S)                                                       \
    if (n < RN_VL) /* permuted (whole groups in fewer lanes) */                   \
        rn_gc_slide(c, in, w, bias, res, out, co, oy, ox0, NP, S, 0, 1, 1, mk);    \
    else if (bc && edge)                                                           \
        rn_gc_slide(c, in, w, bias, res, out, co, oy, ox0, NP, S, 1, 1, 0, mk);    \
    else if (bc)                                                                   \
        rn_gc_slide(c, in, w, bias, res, out, co, oy, ox0, NP, S, 1, 0, 0, mk);    \
    else if (edge)                                                                 \
        rn_gc_slide(c, in, w, bias, res, out, co, oy, ox0, NP, S, 0, 1, 0, mk);    \
    else                                                                           \
        rn_gc_slide(c, in, w, bias, res, out, co, oy, ox0, NP, S, 0, 0, 0, mk);
#define RN_GC_SLIDE_CASE(NP)                                                       \
    case NP:                                                                       \
        if (c->sw == 1) {                                                          \
            RN_GC_SLIDE_S(NP, 1)                                                   \
        } else {                                                                   \
            RN_GC_SLIDE_S(NP, 2)                                                   \
        }                                                                          \
        break;

/* The pixels of a call of the slides: the tiles of a row are balanced
 * (rn_gc_block), 8 or 7 wide at the networks' widths (56, 28, 14, 7);
 * other widths take calls of 4, 2 and 1 for the rest. Every count to 8
 * made the file twice as slow to compile. */
#define RN_GC_SIZES(X) X(8) X(7) X(4) X(2) X(1)
RN_FN int rn_gc_size(int np) {
#define RN_GC_SIZE(NP) if (np >= NP) return NP;
    RN_GC_SIZES(RN_GC_SIZE)
#undef RN_GC_SIZE
    return 1;
}

/* rn_gc_slide for np pixels at stride c->sw (1 or 2), the n <= RN_VL
 * channels at co. */
RN_NOINLINE void rn_gc_slide_np(const rn_conv *c, const float *in, const float *w,
                                const float *bias, const float *res, float *out,
                                int co, int n, int oy, int ox0, int np) {
    rn_vmask mk = rn_v_mask(n);
    int bc = rn_gc_width(c) >= RN_VL;
    for (int k; np > 0; ox0 += k, np -= k) {
        int ix0 = ox0 * c->sw - c->pad_l;
        k = rn_gc_size(np);
        int edge = ix0 < 0 || ix0 + (k - 1) * c->sw + 3 > c->iw;
        switch (k) {
            RN_GC_SIZES(RN_GC_SLIDE_CASE)
        default: break;
        }
    }
}
#undef RN_GC_SLIDE_CASE
#undef RN_GC_SLIDE_S

/* Whether rows of c slide (rn_gc_slide). */
RN_FN int rn_gc_slides(const rn_conv *c) {
    return c->kw == 3 && c->dw == 1 && (c->sw == 1 || c->sw == 2);
}

#if defined(RN_SIMD_AVX512)
/* Two output rows at once where the registers hold twice the sums
 * (AVX-512's 32): a permuted column serves both rows' taps. */
#define RN_GC_PAIRS 1

/* rn_gc_slide on output rows oy and oy + 1 of a 3x3 kernel undilated, at
 * stride S both ways, the lanes' inputs permuted (not broadcast): input
 * row q (from row oy's first) feeds row oy at ky = q and row oy + 1 at
 * ky = q - S, so S + 3 rows of permutes serve 6 rows of taps (6 of 4 at
 * stride 1: a third fewer permutes, which bound the slide at 8 channels
 * a group: RegNet's 14x14 and 7x7 layers 118 -> 145 GFLOP/s on one
 * thread). Rows in the padding are left out. At stride 2 (6 of 5) it
 * measured slower (95 -> 73 GFLOP/s at 112x112): not taken there. */
RN_INLINE void rn_gc_slide2(const rn_conv *c, const float *in, const float *w,
                            const float *bias, const float *res, float *out, int co,
                            int oy, int ox0, const int NP, const int S, const int EDGE) {
    enum { KW = 3, KH = 3 };
    const int span = (NP - 1) * S + KW, nq = S + KH, go = rn_gc_width(c);
    const rn_i64 ldi = c->ldi, wrow = (rn_i64)KW * go * RN_GC_NB;
    rn_vmask none = rn_v_mask(RN_VL);
    rn_v acc[2][RN_GC_NP];
    rn_v b = bias ? rn_v_load(bias + co) : rn_v_zero();
    RN_GC_UNROLL
    for (int p = 0; p < NP; p++) acc[0][p] = acc[1][p] = b;
    int ix0 = ox0 * S - c->pad_l, iy0 = oy * S - c->pad_t;
    int ulo = ix0 < 0 ? -ix0 : 0, uhi = c->iw - ix0; /* columns inside */
    for (int j = 0; j < go; j++) {
        rn_gc_sel s = rn_gc_sel_of(go, j);
        const float *wj = w + (rn_i64)j * RN_GC_NB;
        RN_GC_UNROLL
        for (int q = 0; q < nq; q++) {
            int iy = iy0 + q;
            if (iy < 0 || iy >= c->ih) continue;
            const float *row = in + (rn_i64)iy * c->iw * ldi + co;
            /* the row's weights for each output row that reads it */
            rn_v w0[KW], w1[KW];
            RN_GC_UNROLL
            for (int kx = 0; kx < KW; kx++) {
                w0[kx] = q < KH ? rn_v_load(wj + q * wrow + (rn_i64)kx * go * RN_GC_NB)
                                : rn_v_zero();
                w1[kx] = q >= S ? rn_v_load(wj + (q - S) * wrow + (rn_i64)kx * go * RN_GC_NB)
                                : rn_v_zero();
            }
            RN_GC_UNROLL
            for (int u = 0; u < span; u++) {
                if (EDGE && (u < ulo || u >= uhi)) continue;
                rn_v xv = rn_gc_x(row + (rn_i64)(ix0 + u) * ldi, 0, s, 0, 0, none);
                RN_GC_UNROLL
                for (int kx = 0; kx < KW; kx++) {
                    int d = u - kx;
                    if (d < 0 || d % S || d / S >= NP) continue;
                    if (q < KH) acc[0][d / S] = rn_v_fma(xv, w0[kx], acc[0][d / S]);
                    if (q >= S) acc[1][d / S] = rn_v_fma(xv, w1[kx], acc[1][d / S]);
                }
            }
        }
    }
    RN_GC_UNROLL
    for (int p = 0; p < NP; p++) {
        rn_i64 po = ((rn_i64)oy * c->ow + ox0 + p) * c->ldo + co;
        rn_gc_store(acc[0][p], res, out, po, 0, none);
        rn_gc_store(acc[1][p], res, out, po + (rn_i64)c->ow * c->ldo, 0, none);
    }
    if (c->act != RN_ACT_NONE)
        for (int r = 0; r < 2; r++)
            rn_v_act_tile(c->act, out + ((rn_i64)(oy + r) * c->ow + ox0) * c->ldo + co, NP,
                          c->ldo, RN_VL);
}

#define RN_GC_SLIDE2_S(NP, S)                                                      \
    if (edge)                                                                      \
        rn_gc_slide2(c, in, w, bias, res, out, co, oy, ox0, NP, S, 1);             \
    else                                                                           \
        rn_gc_slide2(c, in, w, bias, res, out, co, oy, ox0, NP, S, 0);
#define RN_GC_SLIDE2_CASE(NP)                                                      \
    case NP:                                                                       \
        RN_GC_SLIDE2_S(NP, 1)                                                      \
        break;

/* rn_gc_slide2 for np pixels at stride 1 (calls as rn_gc_slide_np's). */
RN_NOINLINE void rn_gc_slide2_np(const rn_conv *c, const float *in, const float *w,
                                 const float *bias, const float *res, float *out,
                                 int co, int oy, int ox0, int np) {
    for (int k; np > 0; ox0 += k, np -= k) {
        int ix0 = ox0 - c->pad_l;
        k = rn_gc_size(np);
        int edge = ix0 < 0 || ix0 + k + 2 > c->iw;
        switch (k) {
            RN_GC_SIZES(RN_GC_SLIDE2_CASE)
        default: break;
        }
    }
}
#undef RN_GC_SLIDE2_CASE
#undef RN_GC_SLIDE2_S
#else
#define RN_GC_PAIRS 0
#endif

/* Whether rows of c go in pairs (rn_gc_slide2). */
RN_FN int rn_gc_pairs(const rn_conv *c) {
    return RN_GC_PAIRS && rn_gc_slides(c) && rn_gc_width(c) < RN_VL && c->kh == 3 &&
           c->dh == 1 && c->sh == 1 && c->sw == 1;
}
#endif

/* Rows [y0, y1) of channel block b: a vector of channels at a time, its
 * rows in tiles of at most RN_GC_NP pixels, balanced. */
RN_FN void rn_gc_block(const rn_conv *c, const float *in, const float *packed,
                       const float *bias, const float *res, float *out, int b,
                       int y0, int y1) {
    enum { VL = RN_VL > RN_GC_NB ? RN_GC_NB : RN_VL };
    const float *wb = packed + (rn_i64)b * RN_GC_NB * c->kh * c->kw * rn_gc_width(c);
    for (int v = 0; v < RN_GC_NB / VL; v++) {
        int co = b * RN_GC_NB + v * VL, n = c->cout - co;
        if (n <= 0) break;
        if (n > VL) n = VL;
        const float *w = wb + v * VL;
#if RN_VL > 1
        if (rn_gc_slides(c)) {
            int nt = rn_ceil_div(c->ow, RN_GC_NP), pairs = n == RN_VL && rn_gc_pairs(c);
            for (int oy = y0, r; oy < y1; oy += r) {
                r = pairs && oy + 1 < y1 ? 2 : 1;
                for (int t = 0; t < nt; t++) {
                    int ox0 = t * c->ow / nt, ox1 = (t + 1) * c->ow / nt;
#if RN_GC_PAIRS
                    if (r == 2) {
                        rn_gc_slide2_np(c, in, w, bias, res, out, co, oy, ox0, ox1 - ox0);
                        continue;
                    }
#endif
                    rn_gc_slide_np(c, in, w, bias, res, out, co, n, oy, ox0, ox1 - ox0);
                }
            }
            continue;
        }
        for (int oy = y0; oy < y1; oy++)
            for (int ox = 0; ox < c->ow; ox++)
                rn_gc_pixel(c, in, w, bias, res, out, co, n, oy, ox);
#else
        for (int oy = y0; oy < y1; oy++)
            for (int ox = 0; ox < c->ow; ox++)
                rn_gc_pixel_c(c, in, w, bias, res, out, co, n, oy, ox);
#endif
    }
}

/* Computes work items [t0, t1) of c (rn_gc_eligible): out = act(conv(in)
 * + bias + residual); bias and residual may be NULL, the residual may be
 * out itself (each output is read, then written, by one pixel's code). */
RN_FN void rn_gc_run(const rn_conv *c, const float *in, const float *packed,
                     const float *bias, const float *res, float *out, int t0, int t1) {
    rn_gc_plan p = rn_gc_make_plan(c);
    for (int t = t0; t < t1; t++) {
        int cg = t / p.npg, pg = t % p.npg;
        int b0 = cg * p.nblk / p.ncg, b1 = (cg + 1) * p.nblk / p.ncg;
        int y0 = pg * c->oh / p.npg, y1 = (pg + 1) * c->oh / p.npg;
        for (int b = b0; b < b1; b++) rn_gc_block(c, in, packed, bias, res, out, b, y0, y1);
    }
}

#endif
