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
 * RGB stem) and rows do not merge (at the borders), taps are too short for
 * segments: the block's receptive fields are gathered into a patch (im2col
 * of 6 pixels) whose order (ky, kx, ci) is the packed order, and the patch
 * is one segment.
 *
 * Work items are (group of pixel blocks) x (group of channel blocks), the
 * split chosen to keep the memory traffic low: late layers with small
 * images and big weights split channels, early layers split pixels.
 *
 * Each output is read (as residual) and written by one kernel call only,
 * so the residual may be the output buffer itself (an in-place add).
 *
 * Entry points: rn_dc_packed_floats, rn_dc_pack, rn_dc_tiles, rn_dc_run.
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
    RN_DC_CACHE_BLOCKS = 40      /* pixel blocks an item keeps segments of */
};

/* The work split: npg groups of pixel blocks x ncg groups of channel
 * blocks. */
typedef struct rn_dc_plan {
    rn_i64 npix;   /* output pixels, oh * ow */
    int nb;        /* pixel blocks of <= RN_MR, sizes balanced */
    int ncb;       /* channel blocks of RN_NB */
    int npg, ncg;
    int patch;     /* im2col where rows do not merge */
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
    rn_dc_tap taps[RN_DC_MAXSEG]; /* the segments of a block inside the image */
    int ntaps;                    /* 0: make them per block */
} rn_dc_args;

RN_FN rn_i64 rn_dc_ksize(const rn_conv *c) {
    return (rn_i64)c->kh * c->kw * c->cin;
}

/* The work split into npg groups of nb pixel blocks x ncg groups of ncb
 * channel blocks, for `flops` of work: as many items as are worth a task,
 * the split that moves the fewest floats (every pixel group reads wfloats
 * of weights, every channel group ifloats of input). */
RN_FN void rn_dc_split(double flops, int nb, int ncb, double wfloats,
                       double ifloats, int *npg, int *ncg) {
    double units = (double)nb * ncb, want = flops / RN_ITEM_FLOPS, best = -1;
    if (want > RN_MAX_ITEMS) want = RN_MAX_ITEMS;
    if (want > units) want = units;
    if (want < 1) want = 1;
    *npg = *ncg = 1;
    for (int cg = 1; cg <= ncb; cg++) {
        if (ncb % cg) continue; /* equal channel groups */
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
    rn_dc_plan p = {0, 0, 0, 1, 1, 0, 0};
    p.npix = (rn_i64)c->oh * c->ow;
    p.nb = p.npix > 0 ? rn_ceil_div(p.npix, RN_MR) : 0;
    p.ncb = c->cout > 0 ? rn_ceil_div(c->cout, RN_NB) : 0;
    p.patch = c->cin < RN_DC_PATCH_CIN && rn_dc_ksize(c) <= RN_DC_PATCH_K;
    if (p.nb == 0 || p.ncb == 0) return p;
    double flops = 2.0 * (double)p.npix * c->cout * (double)rn_dc_ksize(c);
    double wfloats = (double)p.ncb * RN_NB * rn_dc_ksize(c);
    double ifloats = (double)c->ih * c->iw * c->cin;
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
 * on), times scale[co] when scale is not NULL. */
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
                    v = kernel[i * ldk + co];
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

/* Fills up to RN_DC_MAXSEG segments for pixels [p0, p0 + R), resuming at
 * tap *tap, channel *c0 (both 0 at first); taps wholly in the padding are
 * left out. Done when *tap reaches kh * kw. */
RN_FN int rn_dc_segs(const rn_dc_args *a, rn_i64 p0, int R, int *tap,
                     int *c0, rn_seg *s) {
    const rn_conv *c = a->c;
    const float *in = a->in;
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
    e->nvalid = c->cout - co < RN_NB ? c->cout - co : RN_NB;
    e->act = c->act;
}

/* Pixels [p0, p0 + R) x channel block cb, its segments made as they go. */
RN_FN void rn_dc_block(const rn_dc_args *a, rn_i64 p0, int R, int cb) {
    const rn_conv *c = a->c;
    rn_seg s[RN_DC_MAXSEG];
    float part[RN_MR * RN_NB];
    rn_epi e;
    rn_dc_epi_at(a, p0, cb, &e);
    const float *wb = a->packed + (rn_i64)cb * RN_NB * rn_dc_ksize(c);
    int tap = 0, c0 = 0, ntaps = c->kh * c->kw, first = 1;
    do {
        int ns = rn_dc_segs(a, p0, R, &tap, &c0, s);
        rn_mk(R, s, ns, wb, part, first, tap >= ntaps, &e);
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
            for (int cb = cb0; cb < cb1; cb++) rn_dc_block(a, p0, R, cb);
            return;
        }
    }
    for (int cb = cb0; cb < cb1; cb++) {
        rn_epi e;
        rn_dc_epi_at(a, p0, cb, &e);
        rn_mk(R, s, ns, a->packed + cb * RN_NB * k, NULL, 1, 1, &e);
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
    int cached = cb1 - cb0 > 1 && pb1 - pb0 <= RN_DC_CACHE_BLOCKS;
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
    for (int cb = cb0; cb < cb1; cb++)
        for (int pb = pb0; pb < pb1; pb++) {
            rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
            int i = pb - pb0;
            if (!cached) {
                rn_dc_block(a, p0, (int)(p1 - p0), cb);
                continue;
            }
            rn_epi e;
            rn_dc_epi_at(a, p0, cb, &e);
            rn_mk((int)(p1 - p0), s + off[i], off[i + 1] - off[i],
                  a->packed + cb * RN_NB * k, NULL, 1, 1, &e);
        }
}

RN_FN void rn_dc_item(const rn_dc_args *a, const rn_dc_plan *p, int t) {
    int pg = t / p->ncg, cg = t % p->ncg;
    int pb0 = (int)((rn_i64)pg * p->nb / p->npg);
    int pb1 = (int)((rn_i64)(pg + 1) * p->nb / p->npg);
    int cb0 = cg * (p->ncb / p->ncg), cb1 = cb0 + p->ncb / p->ncg;
    if (p->pix_outer) {
        for (int pb = pb0; pb < pb1; pb++) {
            rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
            rn_dc_pixel_block(a, p0, (int)(p1 - p0), cb0, cb1, p->patch);
        }
        return;
    }
    rn_dc_channel_outer(a, p, pb0, pb1, cb0, cb1);
}

/* Work items [t0, t1) of c: out = act(conv(in) + bias + residual); bias
 * and residual may be NULL, the residual may be out itself. */
RN_FN void rn_dc_run(const rn_conv *c, const float *in,
                     const float *packed, const float *bias,
                     const float *residual, float *out, int t0, int t1) {
    rn_dc_plan p = rn_dc_make_plan(c);
    rn_dc_args a;
    a.c = c, a.in = in, a.packed = packed, a.bias = bias, a.res = residual;
    a.out = out;
    if (t0 < 0) t0 = 0;
    if (t1 > p.npg * p.ncg) t1 = p.npg * p.ncg;
    if (p.nb == 0 || p.ncb == 0 || t0 >= t1) return;
    a.ntaps = rn_dc_inner_taps(c, a.taps);
    for (int t = t0; t < t1; t++) rn_dc_item(&a, &p, t);
}

#endif
