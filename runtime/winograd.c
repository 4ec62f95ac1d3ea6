/* winograd.c: 3x3 convolution of stride and dilation 1 as Winograd
 * F(2x2, 3x3) (Lavin and Gray, 2015), the bulk of a ResNet's work.
 *
 * The output is cut into 2x2 tiles, each computed from a 4x4 input patch
 * d as A^T [U . V] A, where V = B^T d B and U = G g G^T for the 3x3 kernel
 * g: 16 products per tile and channel pair instead of 36. Summed over
 * input channels, the 16 products are 16 matrix products
 * M[xi] = V[xi] U[xi] (tiles x cin by cin x cout), each run by conv.c's
 * microkernel as a 1x1 convolution: one segment of cin values per tile.
 * U is packed once at load as [xi 0..15][cout/16][cin][16], computed in
 * double from the Keras kernel (and the folded batchnorm's scale).
 *
 * A work item is a range of tiles x a range of channel blocks. It takes
 * its tiles in chunks whose V[16][chunk][cin] stays in L2, and per channel
 * block runs the 16 products into M[16][chunk][16], then transforms M
 * into the output with bias, residual and activation: each output is
 * read (as residual) and written once, so the residual may be the output.
 *
 * Scratch (V and M) is the caller's, rn_wino_scratch_floats of it per
 * thread; without it, tiles run one at a time on the stack: slower, the
 * same result.
 *
 * The transforms add, subtract and (in G, at packing) halve, so results
 * differ from direct convolution by a few roundings, not more. */
#include "conv_kernel.h"

#include <string.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define RN_X86 1
#include <immintrin.h>
#define AVX2 __attribute__((target("avx2,fma")))
#endif

#ifdef __GNUC__
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

enum {
    WMAX_CIN = 1024,         /* input channels at most: the stack fallback */
    L2_FLOATS = 96 << 10,    /* scratch V and M of a chunk: in L2... */
    MIN_CHUNK = 24,          /* ...unless it has fewer tiles: each streams
                                all of U once, which must pay */
    MIN_CHANNELS = 16,       /* fewer: the transforms cost more than saved */
    U_MAX_BYTES = 8 << 20,   /* bigger U: streaming it costs more than saved */
};

static const float zeros[WMAX_CIN];

static int ceil_div(rn_i64 a, rn_i64 b) { return (int)((a + b - 1) / b); }

static int eligible(const rn_conv *c) {
    return c->kh == 3 && c->kw == 3 && c->sh == 1 && c->sw == 1 &&
           c->dh == 1 && c->dw == 1 && c->cin >= 1 && c->cin <= WMAX_CIN &&
           c->cout >= 1 && c->oh >= 1 && c->ow >= 1;
}

int rn_wino_chosen(const rn_conv *c) {
    if (c->algo == RN_CONV_DIRECT || !eligible(c)) return 0;
    if (c->algo == RN_CONV_WINOGRAD) return 1;
    /* products per channel pair: 9 per pixel direct, 16 per tile here */
    double direct = 9.0 * c->oh * c->ow;
    double wino = 16.0 * ((c->oh + 1) / 2) * ((c->ow + 1) / 2);
    return c->cin >= MIN_CHANNELS && c->cout >= MIN_CHANNELS &&
           direct >= 1.6 * wino &&
           (double)rn_wino_packed_floats(c) * sizeof(float) <= U_MAX_BYTES;
}

rn_i64 rn_wino_packed_floats(const rn_conv *c) {
    return (rn_i64)ceil_div(c->cout, NB) * 16 * c->cin * NB;
}

void rn_wino_pack(const rn_conv *c, const float *kernel, int ldk,
                  const float *scale, float *packed) {
    int ncb = ceil_div(c->cout, NB), cin = c->cin;
    for (int cb = 0; cb < ncb; cb++)
        for (int j = 0; j < NB; j++)
            for (int ci = 0; ci < cin; ci++) {
                int co = cb * NB + j;
                double g[3][3], t[4][3], u[4][4];
                for (int k = 0; k < 9; k++)
                    g[k / 3][k % 3] = co < c->cout
                        ? (double)kernel[((rn_i64)k * cin + ci) * ldk + co] *
                              (scale ? scale[co] : 1.0)
                        : 0.0;
                for (int x = 0; x < 3; x++) { /* G g */
                    t[0][x] = g[0][x];
                    t[1][x] = (g[0][x] + g[1][x] + g[2][x]) / 2;
                    t[2][x] = (g[0][x] - g[1][x] + g[2][x]) / 2;
                    t[3][x] = g[2][x];
                }
                for (int r = 0; r < 4; r++) { /* (G g) G^T */
                    u[r][0] = t[r][0];
                    u[r][1] = (t[r][0] + t[r][1] + t[r][2]) / 2;
                    u[r][2] = (t[r][0] - t[r][1] + t[r][2]) / 2;
                    u[r][3] = t[r][2];
                }
                for (int xi = 0; xi < 16; xi++)
                    packed[(((rn_i64)xi * ncb + cb) * cin + ci) * NB + j] =
                        (float)u[xi / 4][xi % 4];
            }
}

/* ---------------------------------------------------------------- plan */

typedef struct WPlan {
    int tw;       /* tiles across */
    rn_i64 nt;    /* tiles, row-major */
    int ncb;      /* channel blocks of NB */
    int npg, ncg; /* items: npg tile groups x ncg channel groups */
} WPlan;

/* Items split tiles first: a channel group transforms its tiles' input
 * again. Consecutive items of one tile group run as one (see run). */
static WPlan wplan(const rn_conv *c) {
    WPlan p;
    p.tw = (c->ow + 1) / 2;
    p.nt = (rn_i64)((c->oh + 1) / 2) * p.tw;
    p.ncb = ceil_div(c->cout, NB);
    double flops = 2.0 * (double)p.nt * 16 * c->cin * p.ncb * NB;
    double want = flops / ITEM_FLOPS;
    if (want > MAX_ITEMS) want = MAX_ITEMS;
    if (want < 1) want = 1;
    rn_i64 most = p.nt / MR > 1 ? p.nt / MR : 1; /* >= MR tiles per item */
    p.npg = want < most ? (int)want : (int)most;
    p.ncg = 1;
    while (p.ncg < p.ncb && (p.npg * p.ncg < want || p.ncb % p.ncg))
        p.ncg++;
    return p;
}

int rn_wino_tiles(const rn_conv *c) {
    WPlan p = wplan(c);
    return p.npg * p.ncg;
}

/* ---------------------------------------------------------- transforms */

/* The 16 input rows of tile t (4x4 pixels, zeros outside the image). */
static void tile_inputs(const rn_conv *c, const float *in, int tw, rn_i64 t,
                        const float *p[16]) {
    int iy0 = (int)(t / tw) * 2 - c->pad_t, ix0 = (int)(t % tw) * 2 - c->pad_l;
    for (int k = 0; k < 16; k++) {
        int iy = iy0 + k / 4, ix = ix0 + k % 4;
        p[k] = iy >= 0 && iy < c->ih && ix >= 0 && ix < c->iw
                   ? in + ((rn_i64)iy * c->iw + ix) * c->ldi
                   : zeros;
    }
}

/* v[xi][i] = (B^T d B)[xi] for channels [i0, n) of rows p. */
static void in_tile_portable(const float *const *p, float *const *v, int i0,
                             int n) {
    for (int i = i0; i < n; i++) {
        float t[16];
        for (int x = 0; x < 4; x++) { /* B^T d: rows */
            t[x] = p[x][i] - p[8 + x][i];
            t[4 + x] = p[4 + x][i] + p[8 + x][i];
            t[8 + x] = p[8 + x][i] - p[4 + x][i];
            t[12 + x] = p[4 + x][i] - p[12 + x][i];
        }
        for (int r = 0; r < 16; r += 4) { /* (B^T d) B: columns */
            v[r][i] = t[r] - t[r + 2];
            v[r + 1][i] = t[r + 1] + t[r + 2];
            v[r + 2][i] = t[r + 2] - t[r + 1];
            v[r + 3][i] = t[r + 1] - t[r + 3];
        }
    }
}

/* One output tile from m[xi] (NB channels each): A^T m A, then bias,
 * residual and activation on the pixels inside the image. */
typedef struct Out {
    const rn_conv *c;
    const float *bias, *res; /* at the block's first channel, or NULL */
    float *out;              /* at the block's first channel */
    int nvalid;              /* channels of the block that exist */
} Out;

static float act1(float v, int act) {
    if (act == RN_ACT_RELU) return v > 0 ? v : 0;
    if (act == RN_ACT_RELU6) return v > 0 ? (v < 6 ? v : 6) : 0;
    return v;
}

static void out_tile_portable(const Out *o, const float *m, rn_i64 ld,
                              int oy0, int ox0) {
    const rn_conv *c = o->c;
    for (int j = 0; j < o->nvalid; j++) {
        float s[2][4], y[2][2];
        for (int x = 0; x < 4; x++) { /* A^T m */
            float m0 = m[x * ld + j], m1 = m[(4 + x) * ld + j];
            float m2 = m[(8 + x) * ld + j], m3 = m[(12 + x) * ld + j];
            s[0][x] = m0 + m1 + m2;
            s[1][x] = m1 - m2 - m3;
        }
        for (int r = 0; r < 2; r++) { /* (A^T m) A */
            y[r][0] = s[r][0] + s[r][1] + s[r][2];
            y[r][1] = s[r][1] - s[r][2] - s[r][3];
        }
        for (int r = 0; r < 2 && oy0 + r < c->oh; r++)
            for (int q = 0; q < 2 && ox0 + q < c->ow; q++) {
                rn_i64 at = ((rn_i64)(oy0 + r) * c->ow + ox0 + q) * c->ldo + j;
                float v = y[r][q];
                if (o->bias) v += o->bias[j];
                if (o->res) v += o->res[at];
                o->out[at] = act1(v, c->act);
            }
    }
}

#ifdef RN_X86
static AVX2 void in_tile_avx2(const float *const *p, float *const *v, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 t[16];
        for (int x = 0; x < 4; x++) {
            __m256 d0 = _mm256_loadu_ps(p[x] + i), d1 = _mm256_loadu_ps(p[4 + x] + i);
            __m256 d2 = _mm256_loadu_ps(p[8 + x] + i), d3 = _mm256_loadu_ps(p[12 + x] + i);
            t[x] = _mm256_sub_ps(d0, d2);
            t[4 + x] = _mm256_add_ps(d1, d2);
            t[8 + x] = _mm256_sub_ps(d2, d1);
            t[12 + x] = _mm256_sub_ps(d1, d3);
        }
        for (int r = 0; r < 16; r += 4) {
            _mm256_storeu_ps(v[r] + i, _mm256_sub_ps(t[r], t[r + 2]));
            _mm256_storeu_ps(v[r + 1] + i, _mm256_add_ps(t[r + 1], t[r + 2]));
            _mm256_storeu_ps(v[r + 2] + i, _mm256_sub_ps(t[r + 2], t[r + 1]));
            _mm256_storeu_ps(v[r + 3] + i, _mm256_sub_ps(t[r + 1], t[r + 3]));
        }
    }
    if (i < n) in_tile_portable(p, v, i, n);
}

static AVX2 __m256 act8(__m256 v, int act) {
    if (act == RN_ACT_RELU) return _mm256_max_ps(v, _mm256_setzero_ps());
    if (act == RN_ACT_RELU6)
        return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()),
                             _mm256_set1_ps(6.0f));
    return v;
}

static AVX2 void out_tile_avx2(const Out *o, const float *m, rn_i64 ld,
                               int oy0, int ox0) {
    const rn_conv *c = o->c;
    if (o->nvalid < NB) { /* a ragged block: plain C */
        out_tile_portable(o, m, ld, oy0, ox0);
        return;
    }
    for (int h = 0; h < NB; h += 8) {
        __m256 s[2][4], y[2][2];
        for (int x = 0; x < 4; x++) {
            __m256 m0 = _mm256_loadu_ps(m + x * ld + h);
            __m256 m1 = _mm256_loadu_ps(m + (4 + x) * ld + h);
            __m256 m2 = _mm256_loadu_ps(m + (8 + x) * ld + h);
            __m256 m3 = _mm256_loadu_ps(m + (12 + x) * ld + h);
            s[0][x] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
            s[1][x] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
        }
        for (int r = 0; r < 2; r++) {
            y[r][0] = _mm256_add_ps(_mm256_add_ps(s[r][0], s[r][1]), s[r][2]);
            y[r][1] = _mm256_sub_ps(_mm256_sub_ps(s[r][1], s[r][2]), s[r][3]);
        }
        __m256 b = o->bias ? _mm256_loadu_ps(o->bias + h) : _mm256_setzero_ps();
        for (int r = 0; r < 2 && oy0 + r < c->oh; r++)
            for (int q = 0; q < 2 && ox0 + q < c->ow; q++) {
                rn_i64 at = ((rn_i64)(oy0 + r) * c->ow + ox0 + q) * c->ldo + h;
                __m256 v = _mm256_add_ps(y[r][q], b);
                if (o->res) v = _mm256_add_ps(v, _mm256_loadu_ps(o->res + at));
                _mm256_storeu_ps(o->out + at, act8(v, c->act));
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

/* Tiles [t0, t0 + m) x channel blocks [cb0, cb1), with scratch V of
 * 16 * m * cin floats and M of 16 * m * (cb1 - cb0) * NB. The products
 * run one xi at a time, so that V[xi] stays in cache while every channel
 * block's U[xi] passes once per chunk. */
static void chunk(const WArgs *a, rn_i64 t0, int m, int cb0, int cb1,
                  float *V, float *M) {
    const rn_conv *c = a->c;
    int cin = c->cin, tw = a->p->tw, nc = cb1 - cb0;
    for (int i = 0; i < m; i++) {
        const float *p[16];
        float *v[16];
        tile_inputs(c, a->in, tw, t0 + i, p);
        for (int xi = 0; xi < 16; xi++) v[xi] = V + ((rn_i64)xi * m + i) * cin;
#ifdef RN_X86
        if (a->avx2) {
            in_tile_avx2(p, v, cin);
            continue;
        }
#endif
        in_tile_portable(p, v, 0, cin);
    }
    int ng = ceil_div(m, MR);
    for (int xi = 0; xi < 16; xi++) /* M[xi] = V[xi] U[xi] */
        for (int cb = cb0; cb < cb1; cb++) {
            const float *u = a->packed + ((rn_i64)xi * a->p->ncb + cb) * cin * NB;
            for (int g = 0; g < ng; g++) {
                int r0 = g * m / ng, r1 = (g + 1) * m / ng;
                Seg s;
                for (int r = 0; r < MR; r++)
                    s.x[r] = V + ((rn_i64)xi * m + r0 + (r < r1 - r0 ? r : 0)) * cin;
                s.woff = 0;
                s.n = cin;
                Epi e = {NULL, NULL,
                         M + (((rn_i64)xi * m + r0) * nc + cb - cb0) * NB,
                         nc * NB, NB, RN_ACT_NONE};
                a->kern(r1 - r0, &s, 1, u, NULL, 1, 1, &e);
            }
        }
    for (int cb = cb0; cb < cb1; cb++) {
        int co = cb * NB;
        Out o = {c, a->bias ? a->bias + co : NULL, a->res ? a->res + co : NULL,
                 a->out + co, c->cout - co < NB ? c->cout - co : NB};
        for (int i = 0; i < m; i++) {
            rn_i64 t = t0 + i, ld = (rn_i64)m * nc * NB;
            int oy0 = (int)(t / tw) * 2, ox0 = (int)(t % tw) * 2;
            const float *mi = M + ((rn_i64)i * nc + cb - cb0) * NB;
#ifdef RN_X86
            if (a->avx2) {
                out_tile_avx2(&o, mi, ld, oy0, ox0);
                continue;
            }
#endif
            out_tile_portable(&o, mi, ld, oy0, ox0);
        }
    }
}

/* Without heap scratch: a tile and a channel block at a time, on the
 * stack. */
static NOINLINE void tiles_on_stack(const WArgs *a, rn_i64 ta, rn_i64 tb,
                                    int cb0, int cb1) {
    float V[16 * WMAX_CIN], M[16 * NB];
    for (rn_i64 t = ta; t < tb; t++)
        for (int cb = cb0; cb < cb1; cb++) chunk(a, t, 1, cb, cb + 1, V, M);
}

/* Scratch floats per tile of a chunk of nc channel blocks. */
static rn_i64 per_tile(const rn_conv *c, int nc) {
    return 16 * ((rn_i64)c->cin + (rn_i64)nc * NB);
}

/* Tiles per chunk at most: in L2 unless too few to pay for U. */
static rn_i64 chunk_tiles(const rn_conv *c, int nc) {
    rn_i64 tc = L2_FLOATS / per_tile(c, nc);
    if (tc < MIN_CHUNK) tc = MIN_CHUNK;
    if (tc > MR) tc -= tc % MR;
    return tc;
}

rn_i64 rn_wino_scratch_floats(const rn_conv *c) {
    WPlan p = wplan(c);
    rn_i64 tc = chunk_tiles(c, p.ncb);
    if (tc > p.nt) tc = p.nt;
    rn_i64 most = tc * per_tile(c, p.ncb);
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
    int nch = ceil_div(n, chunk_tiles(a->c, cb1 - cb0));
    rn_i64 tc = ceil_div(n, nch);
    float *V = a->scratch, *M = V + 16 * tc * a->c->cin;
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
