/* rn_direct.h: direct 2-D convolution (NHWC) with packed weights and a
 * fused epilogue (bias, residual, activation), on the micro-kernel of
 * rn_micro.h. Any convolution: strides, dilation, uneven padding, strided
 * input and output (ldi, ldo).
 *
 * Weights are packed once into blocks of RN_NB = 16 output channels,
 * [cout/16][kh][kw][cin][16], zero-padded in a ragged last block.
 *
 * The micro-kernel's 6 pixels are consecutive in the flattened output
 * (oy * ow + ox), so a block may span rows; what the kernel sees is a list
 * of segments, each a tap (ky, kx) and a run of input channels, with one
 * input pointer per pixel. A pixel whose tap falls in the padding points
 * at a row of zeros, so borders run the same branch-free loop as the
 * interior. Where the block's pixels see whole rows of taps (dense input,
 * inside the image horizontally), a row of taps is one segment of
 * kw * cin floats, as it is in the packed weights. When cin is tiny (the
 * RGB stem), a chunk of an output row runs at once on its padded input
 * rows (rn_dc_row_item, below); where those do not fit and rows do not
 * merge (at the borders), taps are too short for segments: the block's
 * receptive fields are gathered into a patch (im2col of 6 pixels) whose
 * order (ky, kx, ci) is the packed order, and the patch is one segment.
 * On AVX-512 a pointwise convolution (1x1, stride 1) runs on rn_micro.h's
 * wide kernel instead (rn_pwn: 12 pixels, no segments).
 *
 * Work items are (group of pixel blocks) x (group of channel blocks), the
 * split chosen to keep the memory traffic low: late layers with small
 * images and big weights split channels, early layers split pixels.
 *
 * Each output is read (as residual) and written by one kernel call only,
 * so the residual may be the output buffer itself (an in-place add).
 *
 * A prologue (rn_conv.pre: a per-input-channel scale and shift, then an
 * activation, as a batch norm and ReLU before the convolution that its
 * weights cannot absorb) runs on each pixel block's receptive fields as
 * they are gathered into patches (rn_dc_patch_pre), made once per chunk
 * of pixel blocks in the caller's scratch and read by every channel block.
 *
 * Entry points: rn_dc_packed_floats, rn_dc_pack, rn_dc_tiles,
 * rn_dc_scratch_floats, rn_dc_run, rn_dc_run_pre.
 * Static inline functions of their arguments only (the descriptor may be
 * a constant, and the compiler then specializes them); nothing is
 * allocated (at most ~30 KiB of stack). */
#ifndef RN_DIRECT_H
#define RN_DIRECT_H

#include "rn_micro.h"

enum {
    RN_DC_MAXSEG = 64,           /* segments per kernel call; more: partial sums */
    RN_DC_PATCH_CIN = 8,         /* im2col below this many input channels... */
    RN_DC_PATCH_K = 512,         /* ...when a receptive field has at most this many */
    RN_DC_PIX_OUTER_BYTES = 128 << 10, /* pixels outside up to these weights */
    RN_DC_SEG_CACHE = 320,       /* segments an item keeps across channel blocks */
    RN_DC_CACHE_BLOCKS = 40,     /* pixel blocks an item keeps segments of */
    RN_DC_PRE_FLOATS = 192 << 10, /* prologue patches of a chunk of pixel blocks */
    RN_DC_PRE_STACK = 512,       /* values a row without scratch, on the stack */
    RN_DC_PRE_COST = 8,          /* a prologue's input value costs as much to
                                    read again as this many plain ones */
    RN_DC_PRE_W_RATIO = 4,       /* a pointwise conv's squeeze-excite scale on
                                    its weights when an item reads this many
                                    times as many inputs (at 1-2x the copy
                                    of the input was as fast or faster) */
    RN_DC_PRE_COPY_COST = 2,     /* ... for a 1x1 conv, its patches a dense
                                    copy of the input (every level's plan
                                    the same: rn_conv_tiles is the base's) */
    RN_DC_ROW_FLOATS = 4096      /* padded input rows of a chunk, on the stack */
};

/* Rows (few input channels, the RGB stem): the taps of one tap row are
 * only kw * cin floats, too few for a 6-pixel call to pay for its
 * epilogue and segments. Instead a chunk of pixels of one output row is
 * done at once: each input row it reads is copied once, zero-padded and
 * dense, so that pixel x of the chunk reads it at x * sw * cin: every
 * pixel sees the same segments (a row of taps each, padding included)
 * at a constant stride, and the calls take RN_DC_RP pixels (AVX-512: 14
 * x 32 channels in 28 of its 32 registers, 1.05x faster than 12 on the
 * stems; elsewhere RN_MR, what their registers hold). */
#if RN_VL > 1 && RN_NV == 1
#define RN_DC_RP 14
#else
#define RN_DC_RP RN_MR_N
#endif

/* Floats of one padded input row for np output pixels. */
RN_FN rn_i64 rn_dc_row_len(const rn_conv *c, int np) {
    return ((rn_i64)(np - 1) * c->sw + (rn_i64)(c->kw - 1) * c->dw + 1) * c->cin;
}

/* Pixels of a chunk (a multiple of RN_DC_RP, its input rows within
 * RN_DC_ROW_FLOATS), or 0 where c does not run on rows: many input
 * channels (their taps are long enough), a prologue, or too big. */
RN_FN int rn_dc_row_chunk(const rn_conv *c) {
    int segs = c->dw == 1 ? c->kh : c->kh * c->kw;
    if (c->cin >= RN_DC_PATCH_CIN || c->pre || segs > RN_DC_MAXSEG || c->ow < 1)
        return 0;
    int ch = rn_ceil_div(c->ow, RN_DC_RP) * RN_DC_RP;
    while (ch > RN_DC_RP && c->kh * rn_dc_row_len(c, ch) > RN_DC_ROW_FLOATS)
        ch -= RN_DC_RP;
    return c->kh * rn_dc_row_len(c, ch) <= RN_DC_ROW_FLOATS ? ch : 0;
}

/* The work split: npg groups of pixel blocks x ncg groups of channel
 * blocks. */
typedef struct rn_dc_plan {
    rn_i64 npix;   /* output pixels, oh * ow */
    int nb;        /* pixel blocks of <= RN_MR, sizes balanced */
    int ncb;       /* channel blocks of RN_NB */
    int npg, ncg;
    int patch;     /* im2col where rows do not merge */
    int rows;      /* few input channels: pixels a chunk of a row
                      (rn_dc_row_item), or 0 */
    int pix_outer; /* pixel blocks outside channel blocks in an item */
} rn_dc_plan;

/* A tap run shared by every pixel inside the image: its input at
 * corner + off. */
typedef struct rn_dc_tap {
    rn_i64 off, woff;
    int n;
} rn_dc_tap;

typedef struct rn_dc_args {
    const rn_conv *c;
    const float *in, *packed, *bias, *res;
    float *out;
    const float *pre_s, *pre_t; /* the prologue's scale and shift (c->pre) */
    float *scratch;             /* rn_dc_scratch_floats, or NULL */
    rn_dc_tap taps[RN_DC_MAXSEG]; /* the segments of a block inside the image */
    int ntaps;                    /* 0: make them per block */
} rn_dc_args;

RN_FN rn_i64 rn_dc_ksize(const rn_conv *c) {
    return (rn_i64)c->kh * c->kw * c->cin;
}

/* A 1x1 convolution of stride 1 without padding: output pixel p reads
 * input pixel p alone (on AVX-512, rn_dc_item runs it on rn_pwn). */
RN_FN int rn_dc_is_1x1(const rn_conv *c) {
    return c->kh == 1 && c->kw == 1 && c->sh == 1 && c->sw == 1 && c->pad_t == 0 &&
           c->pad_l == 0 && c->oh == c->ih && c->ow == c->iw;
}

/* The work split into npg groups of nb pixel blocks x ncg groups of ncb
 * channel blocks, for `flops` of work: as many items as are worth a task,
 * the split that moves the fewest floats (every pixel group reads wfloats
 * of weights, every channel group ifloats of input). */
RN_FN void rn_dc_split(double flops, int nb, int ncb, double wfloats,
                       double ifloats, int *npg, int *ncg) {
    double units = (double)nb * ncb, want = flops / RN_ITEM_FLOPS, best = -1;
    if (want > RN_MAX_ITEMS) want = RN_MAX_ITEMS;
    /* an even count, for two threads: 7 items (40 -> 120 channels at
     * 28x28) run as 4 + 3 */
    if (want > 1) {
        rn_i64 half = (rn_i64)(want / 2);
        want = 2.0 * (double)(half + (2.0 * (double)half < want));
    }
    if (want > units) want = units;
    if (want < 1) want = 1;
    *npg = *ncg = 1;
    for (int cg = 1; cg <= ncb; cg++) {
        if (ncb % cg) continue; /* equal channel groups */
        /* of blocks in pairs: AVX-512's calls take two (one alone runs on
         * half its sums: 672 -> 112 channels at 14x14, split 7 ways, took
         * 0.209 ms, 0.176 for 128 channels) */
        if (cg > 1 && ncb / cg % 2) continue;
        int pg = rn_ceil_div((rn_i64)(want + 0.5), cg);
        if (pg > nb) pg = nb;
        if ((double)pg * cg < want - 0.5 && cg < ncb) continue;
        double cost = pg * wfloats + cg * ifloats;
        if (best < 0 || cost < best) {
            best = cost;
            *npg = pg;
            *ncg = cg;
        }
    }
}

RN_FN rn_dc_plan rn_dc_make_plan(const rn_conv *c) {
    rn_dc_plan p = {0, 0, 0, 1, 1, 0, 0, 0};
    p.npix = (rn_i64)c->oh * c->ow;
    p.nb = p.npix > 0 ? rn_ceil_div(p.npix, RN_MR) : 0;
    p.ncb = c->cout > 0 ? rn_ceil_div(c->cout, RN_NB) : 0;
    p.patch = c->cin < RN_DC_PATCH_CIN && rn_dc_ksize(c) <= RN_DC_PATCH_K;
    p.rows = rn_dc_row_chunk(c);
    if (p.nb == 0 || p.ncb == 0) return p;
    double flops = 2.0 * (double)p.npix * c->cout * (double)rn_dc_ksize(c);
    double wfloats = (double)p.ncb * RN_NB * rn_dc_ksize(c);
    double ifloats = (double)c->ih * c->iw * c->cin;
    if (c->pre) /* each channel group redoes it */
        ifloats *= rn_dc_is_1x1(c) ? RN_DC_PRE_COPY_COST : RN_DC_PRE_COST;
    rn_dc_split(flops, p.nb, p.ncb, wfloats, ifloats, &p.npg, &p.ncg);
    /* Pixels outside when the item's weights stay in L2 as they cycle
     * (segments made once); else a block's weights stay while pixels pass. */
    p.pix_outer = p.patch || wfloats / p.ncg * 4 <= RN_DC_PIX_OUTER_BYTES;
    return p;
}

/* Floats of the packed weights. */
RN_FN rn_i64 rn_dc_packed_floats(const rn_conv *c) {
    return (rn_i64)rn_ceil_div(c->cout, RN_NB) * RN_NB * rn_dc_ksize(c);
}

/* Packs a Keras kernel [kh][kw][cin][ldk] (output channels from `kernel`
 * on; block-diagonal with c->groups > 1: rn_kernel_at), times scale[co]
 * when scale is not NULL. */
RN_FN void rn_dc_pack(const rn_conv *c, const float *kernel, int ldk,
                      const float *scale, float *packed) {
    rn_i64 k = rn_dc_ksize(c);
    int ncb = rn_ceil_div(c->cout, RN_NB);
    for (int b = 0; b < ncb; b++)
        for (rn_i64 i = 0; i < k; i++) {
            float *dst = packed + ((rn_i64)b * k + i) * RN_NB;
            for (int j = 0; j < RN_NB; j++) {
                int co = b * RN_NB + j;
                float v = 0;
                if (co < c->cout) {
                    v = rn_kernel_at(c, kernel, ldk, i / c->cin, (int)(i % c->cin), co);
                    if (scale) v *= scale[co];
                }
                dst[j] = v;
            }
        }
}

/* Work items of c. */
RN_FN int rn_dc_tiles(const rn_conv *c) {
    rn_dc_plan p = rn_dc_make_plan(c);
    return p.npg * p.ncg;
}

/* ------------------------------------------------------------ segments */

/* The input corner of each pixel's receptive field (iy0, ix0). */
RN_FN void rn_dc_corners(const rn_conv *c, rn_i64 p0, int R, int *iy0,
                         int *ix0) {
    int oy = (int)(p0 / c->ow), ox = (int)(p0 % c->ow);
    for (int r = 0; r < R; r++) {
        iy0[r] = oy * c->sh - c->pad_t;
        ix0[r] = ox * c->sw - c->pad_l;
        if (++ox == c->ow) ox = 0, oy++;
    }
}

/* Where a pixel's tap (ky, kx) reads, or NULL in the padding. */
RN_FN const float *rn_dc_tap_at(const rn_conv *c, const float *in,
                                int iy0, int ix0, int ky, int kx) {
    int iy = iy0 + ky * c->dh, ix = ix0 + kx * c->dw;
    if (iy < 0 || iy >= c->ih || ix < 0 || ix >= c->iw) return NULL;
    return in + ((rn_i64)iy * c->iw + ix) * c->ldi;
}

/* A tap row (ky, kx = 0..kw-1) is one run of kw * cin floats in memory
 * and in the packed weights when the pixels are dense, undilated across
 * and wholly inside the image horizontally: one segment per row then. */
RN_FN int rn_dc_rows_merge(const rn_conv *c, const int *ix0, int R) {
    if (c->dw != 1 || c->ldi != c->cin || c->kw < 2 || c->kh > RN_DC_MAXSEG ||
        (rn_i64)c->kw * c->cin > RN_ZMAX)
        return 0;
    for (int r = 0; r < R; r++)
        if (ix0[r] < 0 || ix0[r] + c->kw > c->iw) return 0;
    return 1;
}

/* Whether every tap of pixels [0, R) is inside the image. */
RN_FN int rn_dc_inside(const rn_conv *c, const int *iy0, const int *ix0,
                       int R) {
    int ey = (c->kh - 1) * c->dh, ex = (c->kw - 1) * c->dw;
    for (int r = 0; r < R; r++)
        if (iy0[r] < 0 || iy0[r] + ey >= c->ih || ix0[r] < 0 || ix0[r] + ex >= c->iw)
            return 0;
    return 1;
}

/* The segments of any block inside the image, once per call (rows of
 * taps merged as in rn_dc_segs); 0 when they do not fit. */
RN_FN int rn_dc_inner_taps(const rn_conv *c, rn_dc_tap *t) {
    int merge = c->dw == 1 && c->ldi == c->cin && c->kw >= 2 &&
                (rn_i64)c->kw * c->cin <= RN_ZMAX;
    int n = merge ? c->kh : c->kh * c->kw;
    if (n > RN_DC_MAXSEG || (!merge && c->cin > RN_ZMAX)) return 0;
    for (int i = 0; i < n; i++) {
        int ky = merge ? i : i / c->kw, kx = merge ? 0 : i % c->kw;
        t[i].off = ((rn_i64)ky * c->dh * c->iw + (rn_i64)kx * c->dw) * c->ldi;
        t[i].woff = (rn_i64)(merge ? ky * c->kw : i) * c->cin * RN_NB;
        t[i].n = merge ? c->kw * c->cin : c->cin;
    }
    return n;
}

/* Such a convolution whose cin values fit one segment (no corners, no
 * taps: small layers of few channels spent a third of their time on
 * them). */
RN_FN int rn_dc_pointwise(const rn_conv *c) {
    return rn_dc_is_1x1(c) && c->cin <= RN_ZMAX;
}

/* Fills up to RN_DC_MAXSEG segments for pixels [p0, p0 + R), resuming at
 * tap *tap, channel *c0 (both 0 at first); taps wholly in the padding are
 * left out. Done when *tap reaches kh * kw. */
RN_FN int rn_dc_segs(const rn_dc_args *a, rn_i64 p0, int R, int *tap,
                     int *c0, rn_seg *s) {
    const rn_conv *c = a->c;
    const float *in = a->in;
    if (*tap == 0 && *c0 == 0 && rn_dc_pointwise(c)) { /* pixel p reads pixel p */
        for (int r = 0; r < RN_MR; r++) s[0].x[r] = in + (p0 + (r < R ? r : 0)) * c->ldi;
        s[0].woff = 0;
        s[0].n = c->cin;
        *tap = 1;
        return 1;
    }
    int ns = 0, ntaps = c->kh * c->kw, iy0[RN_MR], ix0[RN_MR];
    rn_i64 base[RN_MR]; /* offset of each pixel's corner, maybe outside */
    rn_dc_corners(c, p0, R, iy0, ix0);
    for (int r = 0; r < R; r++) base[r] = ((rn_i64)iy0[r] * c->iw + ix0[r]) * c->ldi;
    if (*tap == 0 && *c0 == 0 && a->ntaps && rn_dc_inside(c, iy0, ix0, R)) {
        for (int t = 0; t < a->ntaps; t++) { /* the common case, fast */
            for (int r = 0; r < R; r++) s[t].x[r] = in + (base[r] + a->taps[t].off);
            s[t].woff = a->taps[t].woff;
            s[t].n = a->taps[t].n;
        }
        *tap = ntaps;
        return a->ntaps;
    }
    int merge = *tap == 0 && *c0 == 0 && rn_dc_rows_merge(c, ix0, R);
    int ky = *tap / c->kw, kx = *tap % c->kw;
    while (*tap < ntaps && ns < RN_DC_MAXSEG) {
        int n = merge ? c->kw * c->cin
                : c->cin - *c0 < RN_ZMAX ? c->cin - *c0 : RN_ZMAX;
        int dy = ky * c->dh, dx = kx * c->dw, any = 0;
        rn_i64 off = ((rn_i64)dy * c->iw + dx) * c->ldi + *c0;
        for (int r = 0; r < R; r++) {
            int in_y = (unsigned)(iy0[r] + dy) < (unsigned)c->ih;
            int in_x = (unsigned)(ix0[r] + dx) < (unsigned)c->iw;
            s[ns].x[r] = in_y && in_x ? in + (base[r] + off) : rn_zeros;
            any |= in_y && in_x;
        }
        if (any) { /* else all padding: left out */
            s[ns].woff = ((rn_i64)*tap * c->cin + *c0) * RN_NB;
            s[ns].n = n;
            ns++;
        }
        if (merge) { /* a whole row of taps */
            *tap += c->kw, ky++;
            continue;
        }
        *c0 += n;
        if (*c0 < c->cin) continue;
        *c0 = 0, ++*tap;
        if (++kx == c->kw) kx = 0, ky++;
    }
    return ns;
}

/* Whether pixels [p0, p0 + R) are gathered into a patch. */
RN_FN int rn_dc_use_patch(const rn_conv *c, int patch, rn_i64 p0, int R) {
    int iy0[RN_MR], ix0[RN_MR];
    if (!patch) return 0;
    rn_dc_corners(c, p0, R, iy0, ix0);
    return !rn_dc_rows_merge(c, ix0, R);
}

/* The receptive fields of pixels [p0, p0 + R) as rows of ksize floats. */
RN_FN void rn_dc_patch(const rn_conv *c, const float *in, rn_i64 p0,
                       int R, float *patch) {
    rn_i64 k = rn_dc_ksize(c);
    int iy0[RN_MR], ix0[RN_MR], cin = c->cin;
    rn_dc_corners(c, p0, R, iy0, ix0);
    int dense = c->dw == 1 && c->ldi == cin;
    for (int r = 0; r < R; r++) {
        float *dst = patch + r * k;
        for (int ky = 0; ky < c->kh; ky++) {
            const float *row = rn_dc_tap_at(c, in, iy0[r], ix0[r], ky, 0);
            if (dense && row && ix0[r] + c->kw <= c->iw) { /* one run */
                memcpy(dst, row, (size_t)c->kw * cin * sizeof *dst);
                dst += c->kw * cin;
                continue;
            }
            for (int kx = 0; kx < c->kw; kx++, dst += cin) {
                const float *x = rn_dc_tap_at(c, in, iy0[r], ix0[r], ky, kx);
                for (int i = 0; i < cin; i++) dst[i] = x ? x[i] : 0.0f;
            }
        }
    }
}

/* --------------------------------------------------------------- items */

RN_FN void rn_dc_epi_at(const rn_dc_args *a, rn_i64 p0, int cb,
                        rn_epi *e) {
    const rn_conv *c = a->c;
    int co = cb * RN_NB;
    e->bias = a->bias ? a->bias + co : NULL;
    e->res = a->res ? a->res + p0 * c->ldo + co : NULL;
    e->out = a->out + p0 * c->ldo + co;
    e->ldo = c->ldo;
    e->nvalid = c->cout - co;
    e->act = c->act;
}

/* Pixels [p0, p0 + R) x nblk channel blocks from cb (rn_mk_blocks), the
 * segments made as they go. */
RN_FN void rn_dc_block(const rn_dc_args *a, rn_i64 p0, int R, int cb,
                       int nblk) {
    const rn_conv *c = a->c;
    rn_seg s[RN_DC_MAXSEG];
    float part[RN_MR * RN_NB * RN_NBK];
    rn_epi e;
    rn_dc_epi_at(a, p0, cb, &e);
    rn_i64 k = rn_dc_ksize(c);
    const float *wb = a->packed + (rn_i64)cb * RN_NB * k;
    int tap = 0, c0 = 0, ntaps = c->kh * c->kw, first = 1;
    do {
        int ns = rn_dc_segs(a, p0, R, &tap, &c0, s);
        rn_mkn(R, nblk, s, ns, wb, RN_NB * k, part, first, tap >= ntaps, &e);
        first = 0;
    } while (tap < ntaps);
}

/* Pixels [p0, p0 + R) x channel blocks [cb0, cb1): the segments (or the
 * patch) are made once when they fit one kernel call. */
RN_FN void rn_dc_pixel_block(const rn_dc_args *a, rn_i64 p0, int R,
                             int cb0, int cb1, int patch) {
    const rn_conv *c = a->c;
    rn_i64 k = rn_dc_ksize(c);
    rn_seg s[RN_DC_MAXSEG];
    float buf[RN_MR * RN_DC_PATCH_K];
    int tap = 0, c0 = 0, ns = 1;
    if (rn_dc_use_patch(c, patch, p0, R)) {
        rn_dc_patch(c, a->in, p0, R, buf);
        for (int r = 0; r < RN_MR; r++) s[0].x[r] = buf + (r < R ? r : 0) * k;
        s[0].woff = 0;
        s[0].n = (int)k;
    } else {
        ns = rn_dc_segs(a, p0, R, &tap, &c0, s);
        if (tap < c->kh * c->kw) { /* more than one call: start over per block */
            for (int cb = cb0, nb; cb < cb1; cb += nb) {
                nb = rn_mk_blocks(cb1 - cb);
                rn_dc_block(a, p0, R, cb, nb);
            }
            return;
        }
    }
    for (int cb = cb0, nb; cb < cb1; cb += nb) {
        rn_epi e;
        nb = rn_mk_blocks(cb1 - cb);
        rn_dc_epi_at(a, p0, cb, &e);
        rn_mkn(R, nb, s, ns, a->packed + cb * RN_NB * k, RN_NB * k, NULL, 1, 1, &e);
    }
}

/* Channel blocks outside: a block's weights stay in cache while the
 * item's pixels pass. The pixel blocks' segments are made once when they
 * fit the cache (each in one kernel call), else again per channel block. */
RN_FN void rn_dc_channel_outer(const rn_dc_args *a, const rn_dc_plan *p,
                               int pb0, int pb1, int cb0, int cb1) {
    const rn_conv *c = a->c;
    rn_i64 k = rn_dc_ksize(c);
    rn_seg s[RN_DC_SEG_CACHE];
    int off[RN_DC_CACHE_BLOCKS + 1], ntaps = c->kh * c->kw;
    int cached = cb1 - cb0 > RN_NBK && pb1 - pb0 <= RN_DC_CACHE_BLOCKS;
    off[0] = 0;
    for (int pb = pb0; cached && pb < pb1; pb++) {
        rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
        int i = pb - pb0, tap = 0, c0 = 0;
        if (off[i] + RN_DC_MAXSEG > RN_DC_SEG_CACHE)
            cached = 0;
        else
            off[i + 1] = off[i] + rn_dc_segs(a, p0, (int)(p1 - p0), &tap, &c0, s + off[i]);
        cached &= tap >= ntaps;
    }
    for (int cb = cb0, nb; cb < cb1; cb += nb) {
        nb = rn_mk_blocks(cb1 - cb);
        for (int pb = pb0; pb < pb1; pb++) {
            rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
            int i = pb - pb0;
            if (!cached) {
                rn_dc_block(a, p0, (int)(p1 - p0), cb, nb);
                continue;
            }
            rn_epi e;
            rn_dc_epi_at(a, p0, cb, &e);
            rn_mkn((int)(p1 - p0), nb, s + off[i], off[i + 1] - off[i],
                   a->packed + cb * RN_NB * k, RN_NB * k, NULL, 1, 1, &e);
        }
    }
}

/* ---------------------------------------------------------------- rows */

/* A segment of a row chunk: pixel r of a call reads x + r * xs, n values
 * against the weights at woff. */
typedef struct rn_dc_rseg {
    const float *x;
    rn_i64 woff;
    int n;
} rn_dc_rseg;

/* A row kernel: R <= RN_DC_RP pixels of a chunk (pixel r at xoff + r * xs
 * of each segment) x a block or two (wstride apart), epilogue e. */
typedef void rn_dc_rk_fn(int R, const rn_dc_rseg *s, int ns, rn_i64 xoff, rn_i64 xs,
                         const float *wb, rn_i64 wstride, const rn_epi *e);


/* Plain C: R pixels x RN_NB channels, pixel r at xoff + r * xs of each
 * segment; the epilogue e. */
RN_FN void rn_dc_rk_c(int R, const rn_dc_rseg *s, int ns, rn_i64 xoff, rn_i64 xs,
                      const float *wb, rn_i64 wstride, const rn_epi *e) {
    float acc[RN_DC_RP][RN_NB];
    (void)wstride;
    memset(acc, 0, sizeof acc);
    for (int k = 0; k < ns; k++)
        for (int r = 0; r < R; r++) {
            const float *x = s[k].x + xoff + r * xs, *w = wb + s[k].woff;
            for (int i = 0; i < s[k].n; i++, w += RN_NB)
                for (int j = 0; j < RN_NB; j++) acc[r][j] += x[i] * w[j];
        }
    rn_epi_c(R, (const float (*)[RN_NB])acc, e);
}

#if RN_VL > 1
/* rn_mk_v's scheme (its columns, RN_MK_COLS) on RN_DC_RP rows of sums
 * c<row>_<column>: every row is computed (the rows past R read the
 * chunk's tail, inside its buffer), the first R stored. */
#define RN_DC_R_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)
#define RN_DC_RX(r) const float *x##r = x + (RN_DC_RP > r ? r : 0) * xs;
#define RN_DC_RFMA(r) if (RN_DC_RP > r) { rn_v xv = rn_v_bcast(x##r + i); \
        RN_MK_COLS(RN_MK_FMA1, r) }
#define RN_DC_ROUT(r) if (RN_DC_RP > r && R > r) { RN_MK_COLS(RN_MK_OUT1, r) }

RN_INLINE void rn_dc_rk_v(const int NC, int R, const rn_dc_rseg *s, int ns,
                          rn_i64 xoff, rn_i64 xs, const float *wb, rn_i64 wstep,
                          const rn_epi *e) {
    enum { MOST = RN_NV * RN_NBK * RN_VL }; /* channels of a call at most */
    rn_v z = rn_v_zero();
    RN_DC_R_ROWS(RN_MK_DECL)
    for (int k = 0; k < ns; k++) {
        const float *w = wb + s[k].woff, *x = s[k].x + xoff;
        RN_DC_R_ROWS(RN_DC_RX)
        for (int i = 0, n = s[k].n; i < n; i++, w += RN_NB) {
            RN_MK_COLS(RN_MK_W1, 0)
            RN_DC_R_ROWS(RN_DC_RFMA)
        }
    }
    float bt[MOST], rt[RN_DC_RP * MOST], yt[RN_DC_RP * MOST];
    rn_epi_to e2 = rn_epi_ragged(e, R, NC, bt, rt, yt);
    const float *bias = e2.bias, *res = e2.res;
    float *y = e2.out;
    int act = e->act, ldr = e2.ld, ldy = e2.ld;
    RN_MK_COLS(RN_MK_B1, 0)
    RN_DC_R_ROWS(RN_DC_ROUT)
    rn_epi_ragged_store(e, R, NC, &e2);
    rn_epi_rest(e, R, NC);
}

/* One block (RN_NV columns), and on AVX-512 a pair of blocks. */
RN_NOINLINE void rn_dc_rk1(int R, const rn_dc_rseg *s, int ns, rn_i64 xoff, rn_i64 xs,
                           const float *wb, rn_i64 wstride, const rn_epi *e) {
    (void)wstride;
    rn_dc_rk_v(RN_NV, R, s, ns, xoff, xs, wb, RN_VL, e);
}
#if RN_NBK > 1
RN_NOINLINE void rn_dc_rk2(int R, const rn_dc_rseg *s, int ns, rn_i64 xoff, rn_i64 xs,
                           const float *wb, rn_i64 wstride, const rn_epi *e) {
    rn_dc_rk_v(2, R, s, ns, xoff, xs, wb, wstride, e);
}
#endif

/* The copy for nblk blocks (rn_mk_blocks). */
RN_FN rn_dc_rk_fn *rn_dc_rk_pick(int nblk) {
#if RN_NBK > 1
    if (nblk > 1) return rn_dc_rk2;
#endif
    (void)nblk;
    return rn_dc_rk1;
}
#else
RN_FN rn_dc_rk_fn *rn_dc_rk_pick(int nblk) {
    (void)nblk;
    return rn_dc_rk_c;
}
#endif

/* Input row iy, pixels ix0 .. ix0 + npx - 1, into dst dense (cin floats
 * a pixel) and zero outside the image. */
RN_FN void rn_dc_row_fill(const rn_conv *c, const float *in, int iy, int ix0,
                          int npx, float *dst) {
    const float *row = in + (rn_i64)iy * c->iw * c->ldi;
    int cin = c->cin, lo = ix0 < 0 ? -ix0 : 0, hi = c->iw - ix0;
    if (lo > npx) lo = npx;
    if (hi > npx) hi = npx;
    if (hi < lo) hi = lo;
    memset(dst, 0, (size_t)lo * cin * sizeof *dst);
    if (c->ldi == cin)
        memcpy(dst + (rn_i64)lo * cin, row + (rn_i64)(ix0 + lo) * cin,
               (size_t)(hi - lo) * cin * sizeof *dst);
    else
        for (int x = lo; x < hi; x++)
            for (int i = 0; i < cin; i++)
                dst[(rn_i64)x * cin + i] = row[(rn_i64)(ix0 + x) * c->ldi + i];
    memset(dst + (rn_i64)hi * cin, 0, (size_t)(npx - hi) * cin * sizeof *dst);
}

/* The segments of the chunk of pixels from (oy, ox0) on: its input rows
 * padded into buf, one segment per tap row (undilated across) or per
 * tap; rows wholly in the padding left out. */
RN_FN int rn_dc_row_segs(const rn_conv *c, const float *in, int oy, int ox0,
                         int ch, float *buf, rn_dc_rseg *s) {
    rn_i64 len = rn_dc_row_len(c, ch);
    int ns = 0, cin = c->cin;
    for (int ky = 0; ky < c->kh; ky++) {
        int iy = oy * c->sh - c->pad_t + ky * c->dh;
        if (iy < 0 || iy >= c->ih) continue;
        float *row = buf + ky * len;
        rn_dc_row_fill(c, in, iy, ox0 * c->sw - c->pad_l, (int)(len / cin), row);
        if (c->dw == 1) {
            s[ns].x = row, s[ns].woff = (rn_i64)ky * c->kw * cin * RN_NB;
            s[ns++].n = c->kw * cin;
            continue;
        }
        for (int kx = 0; kx < c->kw; kx++, ns++) {
            s[ns].x = row + (rn_i64)kx * c->dw * cin;
            s[ns].woff = ((rn_i64)ky * c->kw + kx) * cin * RN_NB;
            s[ns].n = cin;
        }
    }
    return ns;
}

/* An item on rows (p->rows): its pixels in chunks within output rows,
 * each chunk's segments made once for all the item's channel blocks
 * (their weights, few, stay in L1 while the chunk's pixels pass). */
RN_FN void rn_dc_row_item(const rn_dc_args *a, const rn_dc_plan *p, int pb0,
                          int pb1, int cb0, int cb1) {
    const rn_conv *c = a->c;
    rn_i64 k = rn_dc_ksize(c), xs = (rn_i64)c->sw * c->cin;
    rn_i64 q = pb0 * p->npix / p->nb, q1 = pb1 * p->npix / p->nb;
    float buf[RN_DC_ROW_FLOATS];
    rn_dc_rseg s[RN_DC_MAXSEG];
    while (q < q1) {
        int oy = (int)(q / c->ow), ox0 = (int)(q % c->ow);
        int n = c->ow - ox0 < p->rows ? c->ow - ox0 : p->rows;
        if (q1 - q < n) n = (int)(q1 - q);
        int ns = rn_dc_row_segs(c, a->in, oy, ox0, p->rows, buf, s);
        for (int cb = cb0, nb; cb < cb1; cb += nb) {
            const float *wb = a->packed + cb * RN_NB * k;
            nb = rn_mk_blocks(cb1 - cb);
            rn_dc_rk_fn *f = rn_dc_rk_pick(nb);
            for (int t = 0; t < n; t += RN_DC_RP) {
                rn_epi e;
                rn_dc_epi_at(a, q + t, cb, &e);
                f(n - t < RN_DC_RP ? n - t : RN_DC_RP, s, ns, t * xs, xs, wb, RN_NB * k, &e);
            }
        }
        q += n;
    }
}

#if RN_NBK > 1
/* The first pixel of pixel block pb of a pointwise convolution on the wide
 * kernel: whole blocks of RN_MR, the last one short (the plan's are
 * balanced, 5.4 pixels at 7x7, and an item of 10 or 11 pixels took three
 * calls, 8 + 2 + 1, each streaming the item's weights: the late layers'
 * items ran 1.2-1.4x slower), so that items of an even number of blocks
 * are whole calls of RN_PW_MR. */
RN_FN rn_i64 rn_dc_pw_pix(const rn_dc_plan *p, int pb) {
    rn_i64 q = (rn_i64)pb * RN_MR;
    return q < p->npix ? q : p->npix;
}

/* An item of a pointwise convolution: pixels [q0, q1) in blocks of at most
 * RN_PW_MR (whole ones, then the rest: rn_pwn has few sizes) x channel
 * blocks [cb0, cb1), in the plan's loop order (the items are the plan's,
 * of RN_MR-pixel blocks, so that every level cuts the work alike); pixel
 * q0's input at x, the next ones ldx floats apart; block cb0's packed
 * weights at w, the next ones after it. */
RN_FN void rn_dc_pw_item_w(const rn_dc_args *a, const rn_dc_plan *p, const float *x,
                           rn_i64 ldx, const float *w, rn_i64 q0, rn_i64 q1, int cb0,
                           int cb1) {
    const rn_conv *c = a->c;
    rn_i64 np = q1 - q0, k = c->cin, wstride = RN_NB * k;
    int nq = (int)rn_ceil_div(np, RN_PW_MR);
    int outer = p->pix_outer ? nq : 1, inner = p->pix_outer ? 1 : nq;
    for (int i = 0; i < outer; i++)
        for (int cb = cb0, nb; cb < cb1; cb += nb) {
            nb = rn_mk_blocks(cb1 - cb);
            for (int q = i; q < i + inner; q++) {
                rn_i64 p0 = q0 + (rn_i64)q * RN_PW_MR, p1 = p0 + RN_PW_MR < q1 ? p0 + RN_PW_MR : q1;
                rn_epi e;
                rn_dc_epi_at(a, p0, cb, &e);
                rn_pwn((int)(p1 - p0), nb, x + (p0 - q0) * ldx, ldx, c->cin,
                       w + (cb - cb0) * wstride, wstride, &e);
            }
        }
}

RN_FN void rn_dc_pw_item(const rn_dc_args *a, const rn_dc_plan *p, const float *x,
                         rn_i64 ldx, rn_i64 q0, rn_i64 q1, int cb0, int cb1) {
    rn_dc_pw_item_w(a, p, x, ldx, a->packed + (rn_i64)cb0 * RN_NB * a->c->cin, q0, q1, cb0,
                    cb1);
}
#endif

/* ------------------------------------------------------------ prologue */

/* y[i] = act(x[i] s[i] + t[i]) for i < n, act a constant. */
RN_INLINE void rn_dc_pre_k(const float *x, const float *s, const float *t, float *y,
                           int n, const int act) {
    int i = 0;
#if RN_VL > 1
    for (; i + RN_VL <= n; i += RN_VL)
        rn_v_store(y + i, rn_v_act(rn_v_fma(rn_v_load(x + i), rn_v_load(s + i),
                                            rn_v_load(t + i)), act));
#endif
    for (; i < n; i++) y[i] = rn_act1(x[i] * s[i] + t[i], act);
}

/* y[i] = act(x[i] s[i]) for i < n: a prologue without a shift. */
RN_INLINE void rn_dc_scale_k(const float *x, const float *s, float *y, int n,
                             const int act) {
    int i = 0;
#if RN_VL > 1
    for (; i + RN_VL <= n; i += RN_VL)
        rn_v_store(y + i, rn_v_act(rn_v_mul(rn_v_load(x + i), rn_v_load(s + i)), act));
#endif
    for (; i < n; i++) y[i] = rn_act1(x[i] * s[i], act);
}

RN_NOINLINE void rn_dc_pre_values(const float *x, const float *s, const float *t,
                                  float *y, int n, int act) {
    if (!t) {
        RN_ACT_SWITCH(act, rn_dc_scale_k, x, s, y, n)
        return;
    }
    RN_ACT_SWITCH(act, rn_dc_pre_k, x, s, t, y, n)
}

/* Values [k0, k1) of the receptive fields of pixels [p0, p0 + R), in the
 * packed order (ky, kx, ci), through the prologue: row r at dst + r * ldd.
 * Taps in the padding give zeros (the padding is the prologue's output's). */
RN_FN void rn_dc_patch_pre(const rn_dc_args *a, rn_i64 p0, int R, rn_i64 k0,
                           rn_i64 k1, float *dst, rn_i64 ldd) {
    const rn_conv *c = a->c;
    int iy0[RN_MR], ix0[RN_MR], cin = c->cin;
    rn_dc_corners(c, p0, R, iy0, ix0);
    for (int r = 0; r < R; r++)
        for (rn_i64 i = k0; i < k1;) {
            int t = (int)(i / cin), ci = (int)(i % cin);
            int n = (int)(k1 - i < cin - ci ? k1 - i : cin - ci);
            const float *x = rn_dc_tap_at(c, a->in, iy0[r], ix0[r], t / c->kw, t % c->kw);
            float *y = dst + r * ldd + (i - k0);
            if (x)
                rn_dc_pre_values(x + ci, a->pre_s + ci, a->pre_t ? a->pre_t + ci : NULL, y, n,
                                 c->pre_act);
            else
                memset(y, 0, (size_t)n * sizeof *y);
            i += n;
        }
}

/* Pixel blocks of a chunk whose patches fit the scratch. */
RN_FN int rn_dc_pre_chunk(const rn_conv *c) {
    rn_i64 per = (rn_i64)RN_MR * rn_dc_ksize(c);
    return per >= RN_DC_PRE_FLOATS ? 1 : (int)(RN_DC_PRE_FLOATS / per);
}

/* Floats of scratch a run may use: the prologue's patches. */
RN_FN rn_i64 rn_dc_scratch_floats(const rn_conv *c) {
    return c->pre ? (rn_i64)rn_dc_pre_chunk(c) * RN_MR * rn_dc_ksize(c) : 0;
}

/* An item with a prologue: with scratch, its pixel blocks in chunks whose
 * patches (the receptive fields through the prologue) are made once and
 * pass every channel block of the item; without, a block's patch in runs
 * of RN_DC_PRE_STACK values on the stack, again for each channel block. */
RN_FN void rn_dc_pre_item(const rn_dc_args *a, const rn_dc_plan *p, int pb0,
                          int pb1, int cb0, int cb1) {
    const rn_conv *c = a->c;
    rn_i64 k = rn_dc_ksize(c);
    rn_seg s;
    s.woff = 0;
    if (!a->scratch) {
        float patch[RN_MR * RN_DC_PRE_STACK], part[RN_MR * RN_NB * RN_NBK];
        for (int pb = pb0; pb < pb1; pb++) {
            rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
            int R = (int)(p1 - p0);
            for (int cb = cb0, nb; cb < cb1; cb += nb) {
                rn_epi e;
                nb = rn_mk_blocks(cb1 - cb);
                rn_dc_epi_at(a, p0, cb, &e);
                for (rn_i64 k0 = 0; k0 < k; k0 += RN_DC_PRE_STACK) {
                    rn_i64 k1 = k - k0 < RN_DC_PRE_STACK ? k : k0 + RN_DC_PRE_STACK;
                    rn_dc_patch_pre(a, p0, R, k0, k1, patch, RN_DC_PRE_STACK);
                    for (int r = 0; r < RN_MR; r++)
                        s.x[r] = patch + (r < R ? r : 0) * RN_DC_PRE_STACK;
                    s.n = (int)(k1 - k0);
                    rn_mkn(R, nb, &s, 1, a->packed + cb * RN_NB * k + k0 * RN_NB,
                           RN_NB * k, part, k0 == 0, k1 == k, &e);
                }
            }
        }
        return;
    }
    int chunk = rn_dc_pre_chunk(c);
    for (int q0 = pb0; q0 < pb1; q0 += chunk) {
        int q1 = pb1 - q0 < chunk ? pb1 : q0 + chunk;
        for (int pb = q0; pb < q1; pb++) {
            rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
            rn_dc_patch_pre(a, p0, (int)(p1 - p0), 0, k,
                            a->scratch + (rn_i64)(pb - q0) * RN_MR * k, k);
        }
        for (int cb = cb0, nb; cb < cb1; cb += nb) {
            nb = rn_mk_blocks(cb1 - cb);
            for (int pb = q0; pb < q1; pb++) {
                rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
                int R = (int)(p1 - p0);
                const float *patch = a->scratch + (rn_i64)(pb - q0) * RN_MR * k;
                rn_epi e;
                rn_dc_epi_at(a, p0, cb, &e);
                for (int r = 0; r < RN_MR; r++) s.x[r] = patch + (r < R ? r : 0) * k;
                s.n = (int)k;
                rn_mkn(R, nb, &s, 1, a->packed + cb * RN_NB * k, RN_NB * k, NULL, 1, 1, &e);
            }
        }
    }
}

#if RN_NBK > 1
/* np pixels' n values through the prologue, pixel r's from x + r * ldx to
 * y + r * n (a dense copy). */
RN_INLINE void rn_dc_pre_rows_k(const float *x, rn_i64 ldx, const float *s,
                                const float *t, rn_i64 np, int n, float *y,
                                const int act) {
    for (rn_i64 r = 0; r < np; r++, x += ldx, y += n) {
        if (t)
            rn_dc_pre_k(x, s, t, y, n, act);
        else
            rn_dc_scale_k(x, s, y, n, act);
    }
}

RN_NOINLINE void rn_dc_pre_rows(const rn_dc_args *a, const float *x, rn_i64 ldx,
                                rn_i64 np, int n, float *y) {
    RN_ACT_SWITCH(a->c->pre_act, rn_dc_pre_rows_k, x, ldx, a->pre_s, a->pre_t, np, n, y)
}

/* An item of a pointwise convolution with a prologue, on the wide kernel:
 * its pixels in chunks whose values through the prologue fit the scratch,
 * each chunk's copy then read as a plain pointwise convolution's input
 * (rn_dc_pw_item) by every channel block. */
RN_FN void rn_dc_pw_pre_item(const rn_dc_args *a, const rn_dc_plan *p, rn_i64 q0,
                             rn_i64 q1, int cb0, int cb1) {
    const rn_conv *c = a->c;
    rn_i64 chunk = (rn_i64)rn_dc_pre_chunk(c) * RN_MR;
    rn_i64 wfloats = (rn_i64)(cb1 - cb0) * RN_NB * c->cin;
    if (!a->pre_t && c->pre_act == RN_ACT_NONE &&
        wfloats * RN_DC_PRE_W_RATIO <= (q1 - q0) * c->cin && wfloats <= chunk * c->cin) {
        /* a scale alone, on far fewer weights than inputs: the weights
         * scaled (input channel ci's row of each block) instead of the
         * input (112x112, 32 -> 16 channels: 0.131 -> 0.097 ms) */
        const float *w = a->packed + (rn_i64)cb0 * RN_NB * c->cin;
        for (rn_i64 i = 0; i < wfloats / RN_NB; i++)
            rn_v_store(a->scratch + i * RN_NB, rn_v_mul(rn_v_load(w + i * RN_NB),
                                                        rn_v_set1(a->pre_s[i % c->cin])));
        rn_dc_pw_item_w(a, p, a->in + q0 * c->ldi, c->ldi, a->scratch, q0, q1, cb0, cb1);
        return;
    }
    for (rn_i64 c0 = q0; c0 < q1; c0 += chunk) {
        rn_i64 c1 = q1 - c0 < chunk ? q1 : c0 + chunk;
        rn_dc_pre_rows(a, a->in + c0 * c->ldi, c->ldi, c1 - c0, c->cin, a->scratch);
        rn_dc_pw_item(a, p, a->scratch, c->cin, c0, c1, cb0, cb1);
    }
}
#endif

RN_FN void rn_dc_item(const rn_dc_args *a, const rn_dc_plan *p, int t) {
    int pg = t / p->ncg, cg = t % p->ncg;
    int pb0 = (int)((rn_i64)pg * p->nb / p->npg);
    int pb1 = (int)((rn_i64)(pg + 1) * p->nb / p->npg);
    int cb0 = cg * (p->ncb / p->ncg), cb1 = cb0 + p->ncb / p->ncg;
    if (a->c->pre && a->pre_s) {
#if RN_NBK > 1
        if (rn_dc_is_1x1(a->c) && a->scratch) {
            rn_dc_pw_pre_item(a, p, rn_dc_pw_pix(p, pb0), rn_dc_pw_pix(p, pb1), cb0, cb1);
            return;
        }
#endif
        rn_dc_pre_item(a, p, pb0, pb1, cb0, cb1);
        return;
    }
    if (p->rows) {
        rn_dc_row_item(a, p, pb0, pb1, cb0, cb1);
        return;
    }
#if RN_NBK > 1
    if (rn_dc_is_1x1(a->c)) { /* any depth: rn_pwn takes one run */
        rn_i64 q0 = rn_dc_pw_pix(p, pb0);
        rn_dc_pw_item(a, p, a->in + q0 * a->c->ldi, a->c->ldi, q0, rn_dc_pw_pix(p, pb1),
                      cb0, cb1);
        return;
    }
#endif
    if (p->pix_outer) {
        for (int pb = pb0; pb < pb1; pb++) {
            rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
            rn_dc_pixel_block(a, p0, (int)(p1 - p0), cb0, cb1, p->patch);
        }
        return;
    }
    rn_dc_channel_outer(a, p, pb0, pb1, cb0, cb1);
}

/* Work items [t0, t1) of c: out = act(conv(pre(in)) + bias + residual);
 * bias and residual may be NULL, the residual may be out itself; pre the
 * prologue when c->pre (pre_s, pre_t: cin floats each, pre_t maybe NULL
 * for no shift; else unread), with
 * scratch (rn_dc_scratch_floats, or NULL: slower). */
RN_FN void rn_dc_run_pre(const rn_conv *c, const float *pre_s,
                         const float *pre_t, const float *in,
                         const float *packed, const float *bias,
                         const float *residual, float *out, int t0,
                         int t1, float *scratch) {
    rn_dc_plan p = rn_dc_make_plan(c);
    rn_dc_args a;
    a.c = c, a.in = in, a.packed = packed, a.bias = bias, a.res = residual;
    a.out = out, a.pre_s = pre_s, a.pre_t = pre_t, a.scratch = scratch;
    if (t0 < 0) t0 = 0;
    if (t1 > p.npg * p.ncg) t1 = p.npg * p.ncg;
    if (p.nb == 0 || p.ncb == 0 || t0 >= t1) return;
    a.ntaps = rn_dc_inner_taps(c, a.taps);
    for (int t = t0; t < t1; t++) rn_dc_item(&a, &p, t);
}

/* Work items [t0, t1) of c (without a prologue): out = act(conv(in) +
 * bias + residual); bias and residual may be NULL, the residual may be
 * out itself. */
RN_FN void rn_dc_run(const rn_conv *c, const float *in,
                     const float *packed, const float *bias,
                     const float *residual, float *out, int t0, int t1) {
    rn_dc_run_pre(c, NULL, NULL, in, packed, bias, residual, out, t0, t1, NULL);
}

#endif
