/* rn_wino.h: 3x3 convolution of stride and dilation 1 as Winograd
 * F(m x m, 3x3) (Lavin and Gray, 2015), the bulk of a ResNet's work, with
 * output tiles of m = 2 or m = 4, on the micro-kernel of rn_micro.h.
 *
 * The output is cut into m x m tiles, each computed from an a x a input
 * patch d (a = m + 2) as A^T [U . V] A, where V = B^T d B and U = G g G^T
 * for the 3x3 kernel g: a^2 products per tile and channel pair instead of
 * 9 m^2 (F(2x2): 16 for 36, F(4x4): 36 for 144). Summed over input
 * channels, the a^2 products are a^2 matrix products
 * M[xi] = V[xi] U[xi] (tiles x cin by cin x cout), each run by the
 * micro-kernel as a 1x1 convolution: one segment of cin values per tile.
 * U is packed once at load as [xi][cout/16][cin][16], computed in double
 * from the Keras kernel (and the folded batchnorm's scale).
 *
 * A work item is a range of tiles x a range of channel blocks. It takes
 * its tiles in chunks whose V[a^2][chunk][cin] stays in L2, and per channel
 * block runs the a^2 products into M[a^2][chunk][16], then transforms M
 * into the output with bias, residual and activation: each output is
 * read (as residual) and written once, so the residual may be the output.
 *
 * Scratch (V and M) is the caller's, rn_wg_scratch_floats of it per
 * thread; without it, tiles run one at a time on the stack (~70 KiB):
 * slower, the same result.
 *
 * The transforms of F(2x2) only add and subtract (G halves, at packing),
 * so its results differ from direct convolution by a few roundings. Those
 * of F(4x4) multiply by up to 8 (G by up to 1/4): a few more roundings,
 * still far inside float32's use here (ResNet-34's logits within 5.6e-7,
 * relative, of PyTorch in float64).
 *
 * Entry points: rn_wg_eligible, rn_wg_products, rn_wg_packed_floats,
 * rn_wg_pack, rn_wg_tiles, rn_wg_scratch_floats, rn_wg_run; m is the
 * variant, chosen by the caller (conv.c). Static inline functions of their
 * arguments only; nothing is allocated. */
#ifndef RN_WINO_H
#define RN_WINO_H

#include "rn_micro.h"

enum {
    RN_WG_MAX_CIN = RN_ZMAX,          /* input channels at most (F(4x4): 455), */
    RN_WG_MAX_V = 16 * RN_WG_MAX_CIN, /* so that one tile's V fits the stack */
    RN_WG_L2_FLOATS = 96 << 10, /* scratch V and M of a chunk: in L2... */
    RN_WG_MIN_CHUNK = 24,       /* ...unless it has fewer tiles: each streams
                                   all of U once, which must pay */
    RN_WG_GROUP_BLOCKS = 4,     /* channel blocks of an item at least, when
                                   the tiles are too few to split */
    RN_WG_XI_PAD = 16           /* floats between the scratch's xi planes */
};

/* A variant: m x m output tiles from a x a input tiles, a^2 products. */
typedef struct rn_wg_geo {
    int m, a, nxi;
} rn_wg_geo;

RN_FN rn_wg_geo rn_wg_geo_of(int m) {
    rn_wg_geo g = {m, m + 2, (m + 2) * (m + 2)};
    return g;
}

/* Whether c can run as variant m (2 or 4). */
RN_FN int rn_wg_eligible(const rn_conv *c, int m) {
    return (m == 2 || m == 4) && c->kh == 3 && c->kw == 3 && c->sh == 1 &&
           c->sw == 1 && c->dh == 1 && c->dw == 1 && c->cin >= 1 &&
           (rn_i64)(m + 2) * (m + 2) * c->cin <= RN_WG_MAX_V && c->cout >= 1 &&
           c->oh >= 1 && c->ow >= 1;
}

RN_FN rn_i64 rn_wg_packed_floats(const rn_conv *c, int m) {
    return (rn_i64)rn_ceil_div(c->cout, RN_NB) * (m + 2) * (m + 2) * c->cin * RN_NB;
}

/* Products per channel pair of variant m on c's output. */
RN_FN double rn_wg_products(const rn_conv *c, int m) {
    return (double)(m + 2) * (m + 2) * ((c->oh + m - 1) / m) * ((c->ow + m - 1) / m);
}

/* Packs U = G g G^T of the Keras kernel [3][3][cin][ldk] (output channels
 * from `kernel` on; block-diagonal with c->groups > 1: rn_kernel_at),
 * times scale[co] when scale is not NULL, in double. */
RN_FN void rn_wg_pack(const rn_conv *c, int m, const float *kernel,
                      int ldk, const float *scale, float *packed) {
    static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                    {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                    {0, 0, 1}};
    const double(*G)[3] = m == 4 ? G4 : G2;
    int ncb = rn_ceil_div(c->cout, RN_NB), cin = c->cin, a = m + 2;
    for (int cb = 0; cb < ncb; cb++)
        for (int j = 0; j < RN_NB; j++)
            for (int ci = 0; ci < cin; ci++) {
                int co = cb * RN_NB + j;
                double g[3][3], t[6][3];
                for (int k = 0; k < 9; k++)
                    g[k / 3][k % 3] = co < c->cout
                        ? (double)rn_kernel_at(c, kernel, ldk, k, ci, co) *
                              (scale ? scale[co] : 1.0)
                        : 0.0;
                for (int r = 0; r < a; r++) /* G g */
                    for (int x = 0; x < 3; x++)
                        t[r][x] = G[r][0] * g[0][x] + G[r][1] * g[1][x] + G[r][2] * g[2][x];
                for (int r = 0; r < a; r++) /* (G g) G^T */
                    for (int q = 0; q < a; q++) {
                        double u = G[q][0] * t[r][0] + G[q][1] * t[r][1] + G[q][2] * t[r][2];
                        packed[((((rn_i64)r * a + q) * ncb + cb) * cin + ci) * RN_NB + j] = (float)u;
                    }
            }
}

/* ---------------------------------------------------------------- plan */

typedef struct rn_wg_plan {
    rn_wg_geo g;
    int tw;       /* tiles across */
    rn_i64 nt;    /* tiles, row-major */
    int ncb;      /* channel blocks of RN_NB */
    int npg, ncg; /* items: npg tile groups x ncg channel groups */
} rn_wg_plan;

/* Items split tiles first: a channel group transforms its tiles' input
 * again. Consecutive items of one tile group run as one (rn_wg_run). */
RN_FN rn_wg_plan rn_wg_make_plan(const rn_conv *c, int m) {
    rn_wg_plan p;
    p.g = rn_wg_geo_of(m);
    p.tw = (c->ow + m - 1) / m;
    p.nt = (rn_i64)((c->oh + m - 1) / m) * p.tw;
    p.ncb = rn_ceil_div(c->cout, RN_NB);
    double flops = 2.0 * (double)p.nt * p.g.nxi * c->cin * p.ncb * RN_NB;
    double want = flops / RN_ITEM_FLOPS;
    if (want > RN_MAX_ITEMS) want = RN_MAX_ITEMS;
    if (want < 1) want = 1;
    rn_i64 most = p.nt / RN_MR > 1 ? p.nt / RN_MR : 1; /* >= RN_MR tiles per item */
    p.npg = want < most ? (int)want : (int)most;
    /* then equal channel groups of >= RN_WG_GROUP_BLOCKS blocks, as few
     * as make `want` items: each transforms its tiles' input again */
    p.ncg = 1;
    for (int cg = 2; cg <= p.ncb / RN_WG_GROUP_BLOCKS && p.npg * p.ncg < want; cg++)
        if (p.ncb % cg == 0) p.ncg = cg;
    return p;
}

RN_FN int rn_wg_tiles(const rn_conv *c, int m) {
    rn_wg_plan p = rn_wg_make_plan(c, m);
    return p.npg * p.ncg;
}

/* ---------------------------------------------------------- transforms */

/* The a x a input rows of tile t (zeros outside the image). */
RN_FN void rn_wg_tile_inputs(const rn_conv *c, const rn_wg_plan *w,
                             const float *in, rn_i64 t,
                             const float *p[36]) {
    int a = w->g.a, m = w->g.m;
    int iy0 = (int)(t / w->tw) * m - c->pad_t, ix0 = (int)(t % w->tw) * m - c->pad_l;
    for (int k = 0; k < a * a; k++) {
        int iy = iy0 + k / a, ix = ix0 + k % a;
        p[k] = iy >= 0 && iy < c->ih && ix >= 0 && ix < c->iw
                   ? in + ((rn_i64)iy * c->iw + ix) * c->ldi
                   : rn_zeros;
    }
}

/* The 1-D transforms, on values x[0], x[s], ... into y[0], y[s], ...,
 * st apart, with the operations P##_add, _sub, _fma (a * b + c) and
 * _set1 of rn_simd.h (P: rn_s for floats, rn_v for vectors): B^T of 4
 * and of 6 values, and A^T of 4 values into 2 and of 6 into 4. */
#define RN_WG_K(P, v) P##_set1(v)
#define RN_WG_IN_F2(P, x, y, st)                                            \
    do {                                                                    \
        y[0] = P##_sub(x[0], x[2 * st]);                                    \
        y[st] = P##_add(x[st], x[2 * st]);                                  \
        y[2 * st] = P##_sub(x[2 * st], x[st]);                              \
        y[3 * st] = P##_sub(x[st], x[3 * st]);                              \
    } while (0)
#define RN_WG_IN_F4(P, T, x, y, st)                                         \
    do {                                                                    \
        T p12 = P##_add(x[st], x[2 * st]), m12 = P##_sub(x[st], x[2 * st]); \
        T d31 = P##_sub(x[3 * st], x[st]), d42 = P##_sub(x[4 * st], x[2 * st]); \
        y[0] = P##_fma(RN_WG_K(P, 4.0f), x[0],                              \
                       P##_fma(RN_WG_K(P, -5.0f), x[2 * st], x[4 * st]));   \
        y[st] = P##_fma(RN_WG_K(P, -4.0f), p12, P##_add(x[3 * st], x[4 * st])); \
        y[2 * st] = P##_fma(RN_WG_K(P, 4.0f), m12, P##_sub(x[4 * st], x[3 * st])); \
        y[3 * st] = P##_fma(RN_WG_K(P, 2.0f), d31, d42);                    \
        y[4 * st] = P##_fma(RN_WG_K(P, -2.0f), d31, d42);                   \
        y[5 * st] = P##_fma(RN_WG_K(P, 4.0f), x[st],                        \
                            P##_fma(RN_WG_K(P, -5.0f), x[3 * st], x[5 * st])); \
    } while (0)
#define RN_WG_OUT_F2(P, x, y, st)                                           \
    do {                                                                    \
        y[0] = P##_add(P##_add(x[0], x[st]), x[2 * st]);                    \
        y[st] = P##_sub(P##_sub(x[st], x[2 * st]), x[3 * st]);              \
    } while (0)
#define RN_WG_OUT_F4(P, T, x, y, st)                                        \
    do {                                                                    \
        T p12 = P##_add(x[st], x[2 * st]), m12 = P##_sub(x[st], x[2 * st]); \
        T p34 = P##_add(x[3 * st], x[4 * st]), m34 = P##_sub(x[3 * st], x[4 * st]); \
        y[0] = P##_add(P##_add(x[0], p12), p34);                            \
        y[st] = P##_fma(RN_WG_K(P, 2.0f), m34, m12);                        \
        y[2 * st] = P##_fma(RN_WG_K(P, 4.0f), p34, p12);                    \
        y[3 * st] = P##_fma(RN_WG_K(P, 8.0f), m34, P##_add(m12, x[5 * st])); \
    } while (0)

/* One tile's transforms for lanes of type T (LANES channels a step, ops
 * P): in_f2/in_f4: v[xi][i] = (B^T d B)[xi] for channels [i, n) of rows
 * p, whole steps only, returning where they stopped; out_f2/out_f4: the
 * m x m outputs of the tile, y[r * m + q], from mm[xi] (ld floats apart)
 * at channel j. */
#define RN_WG_TILE_FUNCTIONS(SUF, T, P, LANES)                              \
    RN_FN int rn_wg_in_f2_##SUF(const float *const *p,              \
                                float *const *v, int i, int n) {            \
        for (; i + LANES <= n; i += LANES) {                                \
            T d[16], t[16];                                                 \
            for (int k = 0; k < 16; k++) d[k] = P##_load(p[k] + i);         \
            for (int x = 0; x < 4; x++) RN_WG_IN_F2(P, (d + x), (t + x), 4); \
            for (int r = 0; r < 16; r += 4) RN_WG_IN_F2(P, (t + r), (d + r), 1); \
            for (int k = 0; k < 16; k++) P##_store(v[k] + i, d[k]);         \
        }                                                                   \
        return i;                                                           \
    }                                                                       \
    RN_FN int rn_wg_in_f4_##SUF(const float *const *p,              \
                                float *const *v, int i, int n) {            \
        for (; i + LANES <= n; i += LANES) {                                \
            T d[36], t[36];                                                 \
            for (int k = 0; k < 36; k++) d[k] = P##_load(p[k] + i);         \
            for (int x = 0; x < 6; x++) RN_WG_IN_F4(P, T, (d + x), (t + x), 6); \
            for (int r = 0; r < 36; r += 6) RN_WG_IN_F4(P, T, (t + r), (d + r), 1); \
            for (int k = 0; k < 36; k++) P##_store(v[k] + i, d[k]);         \
        }                                                                   \
        return i;                                                           \
    }                                                                       \
    RN_FN void rn_wg_out_f2_##SUF(const float *mm, rn_i64 ld, int j,\
                                  T *y) {                                   \
        T x[16], s[8];                                                      \
        for (int k = 0; k < 16; k++) x[k] = P##_load(mm + k * ld + j);      \
        for (int q = 0; q < 4; q++) RN_WG_OUT_F2(P, (x + q), (s + q), 4);   \
        for (int r = 0; r < 2; r++) RN_WG_OUT_F2(P, (s + 4 * r), (y + 2 * r), 1); \
    }                                                                       \
    RN_FN void rn_wg_out_f4_##SUF(const float *mm, rn_i64 ld, int j,\
                                  T *y) {                                   \
        T x[36], s[24];                                                     \
        for (int k = 0; k < 36; k++) x[k] = P##_load(mm + k * ld + j);      \
        for (int q = 0; q < 6; q++) RN_WG_OUT_F4(P, T, (x + q), (s + q), 6); \
        for (int r = 0; r < 4; r++) RN_WG_OUT_F4(P, T, (s + 6 * r), (y + 4 * r), 1); \
    }

RN_WG_TILE_FUNCTIONS(c, float, rn_s, 1)
#if RN_VL > 1
RN_WG_TILE_FUNCTIONS(v, rn_v, rn_v, RN_VL)
#endif

/* Where a tile's outputs go, and what is done to them. */
typedef struct rn_wg_out {
    const rn_conv *c;
    int m;                   /* the tile's side */
    const float *bias, *res; /* at the block's first channel, or NULL */
    float *out;              /* at the block's first channel */
    int nvalid;              /* channels of the block that exist */
} rn_wg_out;

/* The input transform of one tile: channels [0, n) of rows p into v. */
RN_FN void rn_wg_in_tile(int m, const float *const *p, float *const *v,
                         int n) {
    int i = 0;
#if RN_VL > 1
    i = m == 4 ? rn_wg_in_f4_v(p, v, 0, n) : rn_wg_in_f2_v(p, v, 0, n);
#endif
    if (m == 4) /* the channels past the last whole vector */
        rn_wg_in_f4_c(p, v, i, n);
    else
        rn_wg_in_f2_c(p, v, i, n);
}

/* One output tile at (oy0, ox0) from mm[xi] (RN_NB channels each, ld
 * floats apart): bias, residual and activation on the pixels inside the
 * image, plain C. */
RN_FN void rn_wg_out_tile_c(const rn_wg_out *o, const float *mm,
                            rn_i64 ld, int oy0, int ox0) {
    const rn_conv *c = o->c;
    int m = o->m;
    for (int j = 0; j < o->nvalid; j++) {
        float y[16];
        if (m == 4)
            rn_wg_out_f4_c(mm, ld, j, y);
        else
            rn_wg_out_f2_c(mm, ld, j, y);
        for (int r = 0; r < m && oy0 + r < c->oh; r++)
            for (int q = 0; q < m && ox0 + q < c->ow; q++) {
                rn_i64 at = ((rn_i64)(oy0 + r) * c->ow + ox0 + q) * c->ldo + j;
                float v = y[r * m + q];
                if (o->bias) v += o->bias[j];
                if (o->res) v += o->res[at];
                o->out[at] = rn_act1(v, c->act);
            }
    }
}

/* rn_wg_out_tile_c on vectors (a ragged block in plain C). */
RN_FN void rn_wg_out_tile(const rn_wg_out *o, const float *mm,
                          rn_i64 ld, int oy0, int ox0) {
#if RN_VL > 1
    const rn_conv *c = o->c;
    int m = o->m;
    if (o->nvalid < RN_NB) {
        rn_wg_out_tile_c(o, mm, ld, oy0, ox0);
        return;
    }
    for (int h = 0; h < RN_NB; h += RN_VL) {
        rn_v y[16];
        if (m == 4)
            rn_wg_out_f4_v(mm, ld, h, y);
        else
            rn_wg_out_f2_v(mm, ld, h, y);
        rn_v b = o->bias ? rn_v_load(o->bias + h) : rn_v_zero();
        for (int r = 0; r < m && oy0 + r < c->oh; r++)
            for (int q = 0; q < m && ox0 + q < c->ow; q++) {
                rn_i64 at = ((rn_i64)(oy0 + r) * c->ow + ox0 + q) * c->ldo + h;
                rn_v v = rn_v_add(y[r * m + q], b);
                if (o->res) v = rn_v_add(v, rn_v_load(o->res + at));
                rn_v_store(o->out + at, rn_v_act(v, c->act));
            }
    }
#else
    rn_wg_out_tile_c(o, mm, ld, oy0, ox0);
#endif
}

/* --------------------------------------------------------------- items */

typedef struct rn_wg_args {
    const rn_conv *c;
    const rn_wg_plan *p;
    const float *in, *packed, *bias, *res;
    float *out;
    float *scratch; /* rn_wg_scratch_floats, or NULL */
} rn_wg_args;

/* Floats between V[xi] and V[xi + 1] (or M's) for m tiles of n floats: a
 * cache line more than they need, so that the a^2 values of one tile do
 * not all fall in the same cache set (m * n is often a power of two). */
RN_FN rn_i64 rn_wg_xi_stride(int m, int n) {
    return (rn_i64)m * n + RN_WG_XI_PAD;
}

/* Tiles [t0, t0 + nt) x channel blocks [cb0, cb1), with scratch V of
 * a^2 rn_wg_xi_stride(nt, cin) floats and M of
 * a^2 rn_wg_xi_stride(nt, (cb1 - cb0) * RN_NB) (see rn_wg_scratch_for).
 * The products run one xi at a time, so that V[xi] stays in cache while
 * every channel block's U[xi] passes once per chunk. */
RN_FN void rn_wg_chunk(const rn_wg_args *a, rn_i64 t0, int nt, int cb0,
                       int cb1, float *V, float *M) {
    const rn_conv *c = a->c;
    const rn_wg_geo *g = &a->p->g;
    int cin = c->cin, tw = a->p->tw, nc = cb1 - cb0, nxi = g->nxi;
    rn_i64 sv = rn_wg_xi_stride(nt, cin), sm = rn_wg_xi_stride(nt, nc * RN_NB);
    for (int i = 0; i < nt; i++) {
        const float *p[36];
        float *v[36];
        rn_wg_tile_inputs(c, a->p, a->in, t0 + i, p);
        for (int xi = 0; xi < nxi; xi++) v[xi] = V + xi * sv + (rn_i64)i * cin;
        rn_wg_in_tile(g->m, p, v, cin);
    }
    int ng = rn_ceil_div(nt, RN_MR);
    for (int xi = 0; xi < nxi; xi++) /* M[xi] = V[xi] U[xi] */
        for (int cb = cb0, nb; cb < cb1; cb += nb) {
            const float *u = a->packed + ((rn_i64)xi * a->p->ncb + cb) * cin * RN_NB;
            nb = rn_mk_blocks(cb1 - cb);
            for (int k = 0; k < ng; k++) {
                int r0 = k * nt / ng, r1 = (k + 1) * nt / ng;
                rn_seg s;
                rn_epi e;
                for (int r = 0; r < RN_MR; r++)
                    s.x[r] = V + xi * sv + (rn_i64)(r0 + (r < r1 - r0 ? r : 0)) * cin;
                s.woff = 0;
                s.n = cin;
                e.bias = NULL, e.res = NULL;
                e.out = M + xi * sm + ((rn_i64)r0 * nc + cb - cb0) * RN_NB;
                e.ldo = nc * RN_NB, e.nvalid = nb * RN_NB, e.act = RN_ACT_NONE;
                rn_mkn(r1 - r0, nb, &s, 1, u, (rn_i64)cin * RN_NB, NULL, 1, 1, &e);
            }
        }
    for (int cb = cb0; cb < cb1; cb++) {
        int co = cb * RN_NB;
        rn_wg_out o;
        o.c = c, o.m = g->m;
        o.bias = a->bias ? a->bias + co : NULL;
        o.res = a->res ? a->res + co : NULL;
        o.out = a->out + co;
        o.nvalid = c->cout - co < RN_NB ? c->cout - co : RN_NB;
        for (int i = 0; i < nt; i++) {
            rn_i64 t = t0 + i;
            int oy0 = (int)(t / tw) * g->m, ox0 = (int)(t % tw) * g->m;
            rn_wg_out_tile(&o, M + ((rn_i64)i * nc + cb - cb0) * RN_NB, sm, oy0, ox0);
        }
    }
}

/* Without scratch: a tile and a channel block at a time, on the stack. */
RN_NOINLINE void rn_wg_tiles_on_stack(const rn_wg_args *a, rn_i64 ta,
                                      rn_i64 tb, int cb0, int cb1) {
    float V[RN_WG_MAX_V + 36 * RN_WG_XI_PAD], M[36 * (RN_NB + RN_WG_XI_PAD)];
    for (rn_i64 t = ta; t < tb; t++)
        for (int cb = cb0; cb < cb1; cb++) rn_wg_chunk(a, t, 1, cb, cb + 1, V, M);
}

/* Scratch floats per tile of a chunk of nc channel blocks. */
RN_FN rn_i64 rn_wg_per_tile(const rn_conv *c, const rn_wg_geo *g, int nc) {
    return g->nxi * ((rn_i64)c->cin + (rn_i64)nc * RN_NB);
}

/* Scratch floats of a chunk of tc tiles and nc channel blocks: V and M. */
RN_FN rn_i64 rn_wg_scratch_for(const rn_conv *c, const rn_wg_geo *g,
                               rn_i64 tc, int nc) {
    return tc * rn_wg_per_tile(c, g, nc) + 2 * g->nxi * RN_WG_XI_PAD;
}

/* Tiles per chunk at most: in L2 unless too few to pay for U. */
RN_FN rn_i64 rn_wg_chunk_tiles(const rn_conv *c, const rn_wg_geo *g, int nc) {
    rn_i64 tc = RN_WG_L2_FLOATS / rn_wg_per_tile(c, g, nc);
    if (tc < RN_WG_MIN_CHUNK) tc = RN_WG_MIN_CHUNK;
    if (tc > RN_MR) tc -= tc % RN_MR;
    return tc;
}

/* Floats of scratch one rn_wg_run call may use. */
RN_FN rn_i64 rn_wg_scratch_floats(const rn_conv *c, int m) {
    rn_wg_plan p = rn_wg_make_plan(c, m);
    rn_i64 tc = rn_wg_chunk_tiles(c, &p.g, p.ncb);
    if (tc > p.nt) tc = p.nt;
    rn_i64 most = rn_wg_scratch_for(c, &p.g, tc, p.ncb);
    return most > RN_WG_L2_FLOATS ? most : RN_WG_L2_FLOATS;
}

/* Tiles [ta, tb) x channel blocks [cb0, cb1), in balanced chunks of
 * tiles. */
RN_FN void rn_wg_tile_range(const rn_wg_args *a, rn_i64 ta, rn_i64 tb,
                            int cb0, int cb1) {
    rn_i64 n = tb - ta;
    if (n <= 0) return;
    if (!a->scratch) {
        rn_wg_tiles_on_stack(a, ta, tb, cb0, cb1);
        return;
    }
    int nch = rn_ceil_div(n, rn_wg_chunk_tiles(a->c, &a->p->g, cb1 - cb0));
    rn_i64 tc = rn_ceil_div(n, nch);
    float *V = a->scratch, *M = V + a->p->g.nxi * rn_wg_xi_stride((int)tc, a->c->cin);
    for (int k = 0; k < nch; k++) { /* balanced chunks of <= tc tiles */
        rn_i64 c0 = ta + k * n / nch, c1 = ta + (k + 1) * n / nch;
        rn_wg_chunk(a, c0, (int)(c1 - c0), cb0, cb1, V, M);
    }
}

/* Work items [t0, t1) of c as variant m: out = act(conv(in) + bias +
 * residual), as few runs as may be: consecutive items of one tile group
 * (item pg * ncg + cg) are one run over their channel groups, their input
 * transformed once, and whole tile groups in a row are one run. */
RN_FN void rn_wg_run(const rn_conv *c, int m, const float *in,
                     const float *packed, const float *bias,
                     const float *residual, float *out, int t0, int t1,
                     float *scratch) {
    rn_wg_plan p = rn_wg_make_plan(c, m);
    rn_wg_args a;
    a.c = c, a.p = &p, a.in = in, a.packed = packed, a.bias = bias;
    a.res = residual, a.out = out, a.scratch = scratch;
    if (t0 < 0) t0 = 0;
    if (t1 > p.npg * p.ncg) t1 = p.npg * p.ncg;
    int per = p.ncb / p.ncg;
    while (t0 < t1) {
        int pg = t0 / p.ncg, cg0 = t0 % p.ncg;
        if (cg0 == 0 && t1 - t0 >= p.ncg) { /* whole tile groups: one run */
            int pg1 = t1 / p.ncg;
            rn_wg_tile_range(&a, pg * p.nt / p.npg, pg1 * p.nt / p.npg, 0, p.ncb);
            t0 = pg1 * p.ncg;
            continue;
        }
        int cg1 = t1 - pg * p.ncg < p.ncg ? t1 - pg * p.ncg : p.ncg;
        rn_wg_tile_range(&a, pg * p.nt / p.npg, (pg + 1) * p.nt / p.npg,
                         cg0 * per, cg1 * per);
        t0 = pg * p.ncg + cg1;
    }
}

#endif
