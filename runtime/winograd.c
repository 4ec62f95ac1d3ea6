/* winograd.c: 3x3 convolution of stride and dilation 1 as Winograd
 * F(m x m, 3x3) (Lavin and Gray, 2015), the bulk of a ResNet's work, with
 * output tiles of m = 2 or m = 4.
 *
 * The output is cut into m x m tiles, each computed from an a x a input
 * patch d (a = m + 2) as A^T [U . V] A, where V = B^T d B and U = G g G^T
 * for the 3x3 kernel g: a^2 products per tile and channel pair instead of
 * 9 m^2 (F(2x2): 16 for 36, F(4x4): 36 for 144). Summed over input
 * channels, the a^2 products are a^2 matrix products
 * M[xi] = V[xi] U[xi] (tiles x cin by cin x cout), each run by conv.c's
 * microkernel as a 1x1 convolution: one segment of cin values per tile.
 * U is packed once at load as [xi][cout/16][cin][16], computed in double
 * from the Keras kernel (and the folded batchnorm's scale).
 *
 * A work item is a range of tiles x a range of channel blocks. It takes
 * its tiles in chunks whose V[a^2][chunk][cin] stays in L2, and per channel
 * block runs the a^2 products into M[a^2][chunk][16], then transforms M
 * into the output with bias, residual and activation: each output is
 * read (as residual) and written once, so the residual may be the output.
 *
 * Scratch (V and M) is the caller's, rn_wino_scratch_floats of it per
 * thread; without it, tiles run one at a time on the stack: slower, the
 * same result.
 *
 * The transforms of F(2x2) only add and subtract (G halves, at packing),
 * so its results differ from direct convolution by a few roundings. Those
 * of F(4x4) multiply by up to 8 (G by up to 1/4): a few more roundings,
 * still far inside float32's use here (ResNet-34's logits within 5.6e-7,
 * relative, of PyTorch in float64).
 * The shapes choose: F(4x4) where its fewer products pay for its bigger
 * transforms and U, else F(2x2), else direct convolution. */
#include "conv_kernel.h"

#include <string.h>

#ifdef __GNUC__
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

enum {
    WMAX_CIN = 1024,         /* input channels at most (F(4x4): 455), so */
    WMAX_V = 16 * WMAX_CIN,  /* that one tile's V fits the stack fallback */
    L2_FLOATS = 96 << 10,    /* scratch V and M of a chunk: in L2... */
    MIN_CHUNK = 24,          /* ...unless it has fewer tiles: each streams
                                all of U once, which must pay */
    MIN_CHANNELS = 16,       /* fewer: the transforms cost more than saved */
    U_MAX_BYTES = 8 << 20,   /* bigger U: streaming it costs more than saved */
    GROUP_BLOCKS = 4,        /* channel blocks of an item at least, when the
                                tiles are too few to split */
    XI_PAD = 16,             /* floats between the scratch's xi planes */
};

/* F(4x4) where F(2x2) would do this many times its products: below, its
 * bigger transforms cost more than its fewer products save. */
static const double F4_FACTOR = 1.3;

static const float zeros[WMAX_CIN];

static int ceil_div(rn_i64 a, rn_i64 b) { return (int)((a + b - 1) / b); }

/* A variant: m x m output tiles from a x a input tiles, a^2 products. */
typedef struct Geo {
    int m, a, nxi;
} Geo;
static const Geo F2 = {2, 4, 16}, F4 = {4, 6, 36};

static int eligible(const rn_conv *c, const Geo *g) {
    return c->kh == 3 && c->kw == 3 && c->sh == 1 && c->sw == 1 &&
           c->dh == 1 && c->dw == 1 && c->cin >= 1 &&
           (rn_i64)g->nxi * c->cin <= WMAX_V && c->cout >= 1 && c->oh >= 1 &&
           c->ow >= 1;
}

static rn_i64 packed_floats(const rn_conv *c, const Geo *g) {
    return (rn_i64)ceil_div(c->cout, NB) * g->nxi * c->cin * NB;
}

/* Products per channel pair of variant g on c's output. */
static double products(const rn_conv *c, const Geo *g) {
    return (double)g->nxi * ((c->oh + g->m - 1) / g->m) * ((c->ow + g->m - 1) / g->m);
}

/* Whether variant g pays on c: U small enough to stream, and enough
 * fewer products than `than` (direct's 9 per pixel, or another variant's)
 * to cover its transforms. */
static int pays(const rn_conv *c, const Geo *g, double than, double factor) {
    return eligible(c, g) && products(c, g) * factor <= than &&
           (double)packed_floats(c, g) * sizeof(float) <= U_MAX_BYTES;
}

/* c's variant, or NULL for direct convolution. */
static const Geo *geo(const rn_conv *c) {
    if (c->algo == RN_CONV_WINOGRAD) return eligible(c, &F2) ? &F2 : NULL;
    if (c->algo == RN_CONV_WINOGRAD4) return eligible(c, &F4) ? &F4 : NULL;
    if (c->algo != RN_CONV_AUTO || c->cin < MIN_CHANNELS || c->cout < MIN_CHANNELS)
        return NULL;
    double direct = 9.0 * c->oh * c->ow;
    if (!pays(c, &F2, direct, 1.6)) return NULL;
    return pays(c, &F4, products(c, &F2), F4_FACTOR) ? &F4 : &F2;
}

int rn_wino_chosen(const rn_conv *c) { return geo(c) != NULL; }

rn_i64 rn_wino_packed_floats(const rn_conv *c) { return packed_floats(c, geo(c)); }

/* G (a x 3) of each variant, for U = G g G^T. */
static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                {0, 0, 1}};

void rn_wino_pack(const rn_conv *c, const float *kernel, int ldk,
                  const float *scale, float *packed) {
    const Geo *w = geo(c);
    const double(*G)[3] = w == &F4 ? G4 : G2;
    int ncb = ceil_div(c->cout, NB), cin = c->cin, a = w->a;
    for (int cb = 0; cb < ncb; cb++)
        for (int j = 0; j < NB; j++)
            for (int ci = 0; ci < cin; ci++) {
                int co = cb * NB + j;
                double g[3][3], t[6][3];
                for (int k = 0; k < 9; k++)
                    g[k / 3][k % 3] = co < c->cout
                        ? (double)kernel[((rn_i64)k * cin + ci) * ldk + co] *
                              (scale ? scale[co] : 1.0)
                        : 0.0;
                for (int r = 0; r < a; r++) /* G g */
                    for (int x = 0; x < 3; x++)
                        t[r][x] = G[r][0] * g[0][x] + G[r][1] * g[1][x] + G[r][2] * g[2][x];
                for (int r = 0; r < a; r++) /* (G g) G^T */
                    for (int q = 0; q < a; q++) {
                        double u = G[q][0] * t[r][0] + G[q][1] * t[r][1] + G[q][2] * t[r][2];
                        packed[((((rn_i64)r * a + q) * ncb + cb) * cin + ci) * NB + j] = (float)u;
                    }
            }
}

/* ---------------------------------------------------------------- plan */

typedef struct WPlan {
    const Geo *g;
    int tw;       /* tiles across */
    rn_i64 nt;    /* tiles, row-major */
    int ncb;      /* channel blocks of NB */
    int npg, ncg; /* items: npg tile groups x ncg channel groups */
} WPlan;

/* Items split tiles first: a channel group transforms its tiles' input
 * again. Consecutive items of one tile group run as one (see run). */
static WPlan wplan(const rn_conv *c) {
    WPlan p;
    p.g = geo(c);
    int m = p.g->m;
    p.tw = (c->ow + m - 1) / m;
    p.nt = (rn_i64)((c->oh + m - 1) / m) * p.tw;
    p.ncb = ceil_div(c->cout, NB);
    double flops = 2.0 * (double)p.nt * p.g->nxi * c->cin * p.ncb * NB;
    double want = flops / ITEM_FLOPS;
    if (want > MAX_ITEMS) want = MAX_ITEMS;
    if (want < 1) want = 1;
    rn_i64 most = p.nt / MR > 1 ? p.nt / MR : 1; /* >= MR tiles per item */
    p.npg = want < most ? (int)want : (int)most;
    /* then equal channel groups of >= GROUP_BLOCKS blocks, as few as
     * make `want` items: each transforms its tiles' input again */
    p.ncg = 1;
    for (int cg = 2; cg <= p.ncb / GROUP_BLOCKS && p.npg * p.ncg < want; cg++)
        if (p.ncb % cg == 0) p.ncg = cg;
    return p;
}

int rn_wino_tiles(const rn_conv *c) {
    WPlan p = wplan(c);
    return p.npg * p.ncg;
}

/* ---------------------------------------------------------- transforms */

/* The a x a input rows of tile t (zeros outside the image). */
static void tile_inputs(const rn_conv *c, const WPlan *w, const float *in,
                        rn_i64 t, const float *p[36]) {
    int a = w->g->a, m = w->g->m;
    int iy0 = (int)(t / w->tw) * m - c->pad_t, ix0 = (int)(t % w->tw) * m - c->pad_l;
    for (int k = 0; k < a * a; k++) {
        int iy = iy0 + k / a, ix = ix0 + k % a;
        p[k] = iy >= 0 && iy < c->ih && ix >= 0 && ix < c->iw
                   ? in + ((rn_i64)iy * c->iw + ix) * c->ldi
                   : zeros;
    }
}

/* The 1-D transforms, on values x[0], x[s], ... into y[0], y[s], ...,
 * st apart, for any type with + - and * by a float: B^T of 4 and of 6
 * values, and A^T of 4 values into 2 and of 6 into 4. */
#define IN1_F2(x, y, st)                                                    \
    do {                                                                    \
        y[0] = x[0] - x[2 * st];                                            \
        y[st] = x[st] + x[2 * st];                                          \
        y[2 * st] = x[2 * st] - x[st];                                      \
        y[3 * st] = x[st] - x[3 * st];                                      \
    } while (0)
#define IN1_F4(T, x, y, st)                                                 \
    do {                                                                    \
        T p12 = x[st] + x[2 * st], m12 = x[st] - x[2 * st];                 \
        T d31 = x[3 * st] - x[st], d42 = x[4 * st] - x[2 * st];             \
        y[0] = 4.0f * x[0] - 5.0f * x[2 * st] + x[4 * st];                  \
        y[st] = x[3 * st] + x[4 * st] - 4.0f * p12;                         \
        y[2 * st] = x[4 * st] - x[3 * st] + 4.0f * m12;                     \
        y[3 * st] = d42 + 2.0f * d31;                                       \
        y[4 * st] = d42 - 2.0f * d31;                                       \
        y[5 * st] = 4.0f * x[st] - 5.0f * x[3 * st] + x[5 * st];            \
    } while (0)
#define OUT1_F2(x, y, st)                                                   \
    do {                                                                    \
        y[0] = x[0] + x[st] + x[2 * st];                                    \
        y[st] = x[st] - x[2 * st] - x[3 * st];                              \
    } while (0)
#define OUT1_F4(T, x, y, st)                                                \
    do {                                                                    \
        T p12 = x[st] + x[2 * st], m12 = x[st] - x[2 * st];                 \
        T p34 = x[3 * st] + x[4 * st], m34 = x[3 * st] - x[4 * st];         \
        y[0] = x[0] + p12 + p34;                                            \
        y[st] = m12 + 2.0f * m34;                                           \
        y[2 * st] = p12 + 4.0f * p34;                                       \
        y[3 * st] = m12 + 8.0f * m34 + x[5 * st];                           \
    } while (0)

/* One tile's transforms for lanes of type T (LANES channels a step):
 * in_tile: v[xi][i] = (B^T d B)[xi] for channels [i0, n) of rows p, whole
 * steps only; out_tile: the m x m outputs of the tile, y[r * m + q], from
 * m[xi] (ld floats apart) at channel j. */
#define TILE_FUNCTIONS(SUF, ATTR, T, LANES, LOAD, STORE)                    \
    static ATTR int in_tile_f2_##SUF(const float *const *p, float *const *v,\
                                     int i, int n) {                        \
        for (; i + LANES <= n; i += LANES) {                                \
            T d[16], t[16];                                                 \
            for (int k = 0; k < 16; k++) d[k] = LOAD(p[k] + i);             \
            for (int x = 0; x < 4; x++) IN1_F2((d + x), (t + x), 4);        \
            for (int r = 0; r < 16; r += 4) IN1_F2((t + r), (d + r), 1);    \
            for (int k = 0; k < 16; k++) STORE(v[k] + i, d[k]);             \
        }                                                                   \
        return i;                                                           \
    }                                                                       \
    static ATTR int in_tile_f4_##SUF(const float *const *p, float *const *v,\
                                     int i, int n) {                        \
        for (; i + LANES <= n; i += LANES) {                                \
            T d[36], t[36];                                                 \
            for (int k = 0; k < 36; k++) d[k] = LOAD(p[k] + i);             \
            for (int x = 0; x < 6; x++) IN1_F4(T, (d + x), (t + x), 6);     \
            for (int r = 0; r < 36; r += 6) IN1_F4(T, (t + r), (d + r), 1); \
            for (int k = 0; k < 36; k++) STORE(v[k] + i, d[k]);             \
        }                                                                   \
        return i;                                                           \
    }                                                                       \
    static ATTR void out_tile_f2_##SUF(const float *mm, rn_i64 ld, int j,   \
                                       T *y) {                              \
        T x[16], s[8];                                                      \
        for (int k = 0; k < 16; k++) x[k] = LOAD(mm + k * ld + j);          \
        for (int q = 0; q < 4; q++) OUT1_F2((x + q), (s + q), 4);           \
        for (int r = 0; r < 2; r++) OUT1_F2((s + 4 * r), (y + 2 * r), 1);   \
    }                                                                       \
    static ATTR void out_tile_f4_##SUF(const float *mm, rn_i64 ld, int j,   \
                                       T *y) {                              \
        T x[36], s[24];                                                     \
        for (int k = 0; k < 36; k++) x[k] = LOAD(mm + k * ld + j);          \
        for (int q = 0; q < 6; q++) OUT1_F4(T, (x + q), (s + q), 6);        \
        for (int r = 0; r < 4; r++) OUT1_F4(T, (s + 6 * r), (y + 4 * r), 1);\
    }

#define LOAD1(p) (*(p))
#define STORE1(p, v) (*(p) = (v))
TILE_FUNCTIONS(portable, , float, 1, LOAD1, STORE1)
#ifdef RN_X86
TILE_FUNCTIONS(avx2, AVX2, __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps)
#endif

/* Where a tile's outputs go, and what is done to them. */
typedef struct Out {
    const rn_conv *c;
    int m;                   /* the tile's side */
    const float *bias, *res; /* at the block's first channel, or NULL */
    float *out;              /* at the block's first channel */
    int nvalid;              /* channels of the block that exist */
} Out;

/* One output tile from m[xi] (NB channels each, ld floats apart): bias,
 * residual and activation on the pixels inside the image. */
static void out_tile_portable(const Out *o, const float *mm, rn_i64 ld,
                              int oy0, int ox0) {
    const rn_conv *c = o->c;
    int m = o->m;
    for (int j = 0; j < o->nvalid; j++) {
        float y[16];
        if (m == 4)
            out_tile_f4_portable(mm, ld, j, y);
        else
            out_tile_f2_portable(mm, ld, j, y);
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

static void in_tile_portable(const Geo *g, const float *const *p,
                             float *const *v, int n) {
    if (g->m == 4)
        in_tile_f4_portable(p, v, 0, n);
    else
        in_tile_f2_portable(p, v, 0, n);
}

#ifdef RN_X86
static AVX2 void in_tile_avx2(const Geo *g, const float *const *p,
                              float *const *v, int n) {
    int i = g->m == 4 ? in_tile_f4_avx2(p, v, 0, n) : in_tile_f2_avx2(p, v, 0, n);
    if (g->m == 4) /* the channels past the last 8 */
        in_tile_f4_portable(p, v, i, n);
    else
        in_tile_f2_portable(p, v, i, n);
}

static AVX2 void out_tile_avx2(const Out *o, const float *mm, rn_i64 ld,
                               int oy0, int ox0) {
    const rn_conv *c = o->c;
    int m = o->m;
    if (o->nvalid < NB) { /* a ragged block: plain C */
        out_tile_portable(o, mm, ld, oy0, ox0);
        return;
    }
    for (int h = 0; h < NB; h += 8) {
        __m256 y[16];
        if (m == 4)
            out_tile_f4_avx2(mm, ld, h, y);
        else
            out_tile_f2_avx2(mm, ld, h, y);
        __m256 b = o->bias ? _mm256_loadu_ps(o->bias + h) : _mm256_setzero_ps();
        for (int r = 0; r < m && oy0 + r < c->oh; r++)
            for (int q = 0; q < m && ox0 + q < c->ow; q++) {
                rn_i64 at = ((rn_i64)(oy0 + r) * c->ow + ox0 + q) * c->ldo + h;
                __m256 v = _mm256_add_ps(y[r * m + q], b);
                if (o->res) v = _mm256_add_ps(v, _mm256_loadu_ps(o->res + at));
                _mm256_storeu_ps(o->out + at, rn_act8(v, c->act));
            }
    }
}
#endif

/* --------------------------------------------------------------- items */

typedef struct WArgs {
    const rn_conv *c;
    const WPlan *p;
    const float *in, *packed, *bias, *res;
    float *out;
    float *scratch; /* rn_wino_scratch_floats, or NULL */
    Kernel *kern;
    int avx2; /* the transforms' AVX2 versions */
} WArgs;

/* Floats between V[xi] and V[xi + 1] (or M's) for m tiles of n floats: a
 * cache line more than they need, so that the a^2 values of one tile do
 * not all fall in the same cache set (m * n is often a power of two). */
static rn_i64 xi_stride(int m, int n) { return (rn_i64)m * n + XI_PAD; }

/* Tiles [t0, t0 + m) x channel blocks [cb0, cb1), with scratch V of
 * a^2 xi_stride(m, cin) floats and M of a^2 xi_stride(m, (cb1 - cb0) * NB)
 * (see scratch_for). The products
 * run one xi at a time, so that V[xi] stays in cache while every channel
 * block's U[xi] passes once per chunk. */
static void chunk(const WArgs *a, rn_i64 t0, int m, int cb0, int cb1,
                  float *V, float *M) {
    const rn_conv *c = a->c;
    const Geo *g = a->p->g;
    int cin = c->cin, tw = a->p->tw, nc = cb1 - cb0, nxi = g->nxi;
    rn_i64 sv = xi_stride(m, cin), sm = xi_stride(m, nc * NB);
    for (int i = 0; i < m; i++) {
        const float *p[36];
        float *v[36];
        tile_inputs(c, a->p, a->in, t0 + i, p);
        for (int xi = 0; xi < nxi; xi++) v[xi] = V + xi * sv + (rn_i64)i * cin;
#ifdef RN_X86
        if (a->avx2) {
            in_tile_avx2(g, p, v, cin);
            continue;
        }
#endif
        in_tile_portable(g, p, v, cin);
    }
    int ng = ceil_div(m, MR);
    for (int xi = 0; xi < nxi; xi++) /* M[xi] = V[xi] U[xi] */
        for (int cb = cb0; cb < cb1; cb++) {
            const float *u = a->packed + ((rn_i64)xi * a->p->ncb + cb) * cin * NB;
            for (int k = 0; k < ng; k++) {
                int r0 = k * m / ng, r1 = (k + 1) * m / ng;
                Seg s;
                for (int r = 0; r < MR; r++)
                    s.x[r] = V + xi * sv + (rn_i64)(r0 + (r < r1 - r0 ? r : 0)) * cin;
                s.woff = 0;
                s.n = cin;
                Epi e = {NULL, NULL,
                         M + xi * sm + ((rn_i64)r0 * nc + cb - cb0) * NB,
                         nc * NB, NB, RN_ACT_NONE};
                a->kern(r1 - r0, &s, 1, u, NULL, 1, 1, &e);
            }
        }
    for (int cb = cb0; cb < cb1; cb++) {
        int co = cb * NB;
        Out o = {c, g->m, a->bias ? a->bias + co : NULL,
                 a->res ? a->res + co : NULL, a->out + co,
                 c->cout - co < NB ? c->cout - co : NB};
        for (int i = 0; i < m; i++) {
            rn_i64 t = t0 + i;
            int oy0 = (int)(t / tw) * g->m, ox0 = (int)(t % tw) * g->m;
            const float *mi = M + ((rn_i64)i * nc + cb - cb0) * NB;
#ifdef RN_X86
            if (a->avx2) {
                out_tile_avx2(&o, mi, sm, oy0, ox0);
                continue;
            }
#endif
            out_tile_portable(&o, mi, sm, oy0, ox0);
        }
    }
}

/* Without heap scratch: a tile and a channel block at a time, on the
 * stack. */
static NOINLINE void tiles_on_stack(const WArgs *a, rn_i64 ta, rn_i64 tb,
                                    int cb0, int cb1) {
    float V[WMAX_V + 36 * XI_PAD], M[36 * (NB + XI_PAD)];
    for (rn_i64 t = ta; t < tb; t++)
        for (int cb = cb0; cb < cb1; cb++) chunk(a, t, 1, cb, cb + 1, V, M);
}

/* Scratch floats per tile of a chunk of nc channel blocks. */
static rn_i64 per_tile(const rn_conv *c, const Geo *g, int nc) {
    return g->nxi * ((rn_i64)c->cin + (rn_i64)nc * NB);
}

/* Scratch floats of a chunk of tc tiles and nc channel blocks: V and M. */
static rn_i64 scratch_for(const rn_conv *c, const Geo *g, rn_i64 tc, int nc) {
    return tc * per_tile(c, g, nc) + 2 * g->nxi * XI_PAD;
}

/* Tiles per chunk at most: in L2 unless too few to pay for U. */
static rn_i64 chunk_tiles(const rn_conv *c, const Geo *g, int nc) {
    rn_i64 tc = L2_FLOATS / per_tile(c, g, nc);
    if (tc < MIN_CHUNK) tc = MIN_CHUNK;
    if (tc > MR) tc -= tc % MR;
    return tc;
}

rn_i64 rn_wino_scratch_floats(const rn_conv *c) {
    WPlan p = wplan(c);
    rn_i64 tc = chunk_tiles(c, p.g, p.ncb);
    if (tc > p.nt) tc = p.nt;
    rn_i64 most = scratch_for(c, p.g, tc, p.ncb);
    return most > L2_FLOATS ? most : L2_FLOATS;
}

/* Tiles [ta, tb) x channel blocks [cb0, cb1), in balanced chunks of
 * tiles. */
static void tiles(const WArgs *a, rn_i64 ta, rn_i64 tb, int cb0, int cb1) {
    rn_i64 n = tb - ta;
    if (n <= 0) return;
    if (!a->scratch) {
        tiles_on_stack(a, ta, tb, cb0, cb1);
        return;
    }
    int nch = ceil_div(n, chunk_tiles(a->c, a->p->g, cb1 - cb0));
    rn_i64 tc = ceil_div(n, nch);
    float *V = a->scratch, *M = V + a->p->g->nxi * xi_stride((int)tc, a->c->cin);
    for (int k = 0; k < nch; k++) { /* balanced chunks of <= tc tiles */
        rn_i64 c0 = ta + k * n / nch, c1 = ta + (k + 1) * n / nch;
        chunk(a, c0, (int)(c1 - c0), cb0, cb1, V, M);
    }
}

/* Items [t0, t1) as few runs as may be: consecutive items of one tile
 * group (item pg * ncg + cg) are one run over their channel groups, their
 * input transformed once, and whole tile groups in a row are one run. */
void rn_wino_run(const rn_conv *c, const float *in, const float *packed,
                 const float *bias, const float *residual, float *out, int t0,
                 int t1, float *scratch, int avx2) {
    WPlan p = wplan(c);
    int is_avx2;
    Kernel *kern = rn_conv_kernel(avx2, &is_avx2);
    WArgs a = {c, &p, in, packed, bias, residual, out, scratch, kern, is_avx2};
    if (t0 < 0) t0 = 0;
    if (t1 > p.npg * p.ncg) t1 = p.npg * p.ncg;
    int per = p.ncb / p.ncg;
    while (t0 < t1) {
        int pg = t0 / p.ncg, cg0 = t0 % p.ncg;
        if (cg0 == 0 && t1 - t0 >= p.ncg) { /* whole tile groups: one run */
            int pg1 = t1 / p.ncg;
            tiles(&a, pg * p.nt / p.npg, pg1 * p.nt / p.npg, 0, p.ncb);
            t0 = pg1 * p.ncg;
            continue;
        }
        int cg1 = t1 - pg * p.ncg < p.ncg ? t1 - pg * p.ncg : p.ncg;
        tiles(&a, pg * p.nt / p.npg, (pg + 1) * p.nt / p.npg, cg0 * per,
              cg1 * per);
        t0 = pg * p.ncg + cg1;
    }
}
