/* conv.c: direct 2-D convolution (NHWC) with packed weights and a fused
 * epilogue (bias, residual, relu/relu6), the hot loop of every CNN.
 *
 * Weights are packed once into blocks of NB = 16 output channels,
 * [cout/16][kh][kw][cin][16], zero-padded in a ragged last block. The
 * microkernel computes MR = 6 output pixels x 16 channels in 12 registers
 * over all taps and input channels, and applies the epilogue on the
 * registers before its single store: per input value it does one broadcast,
 * two weight loads and two FMAs per pixel.
 *
 * The 6 pixels are consecutive in the flattened output (oy * ow + ox), so a
 * block may span rows; what the kernel sees is a list of segments, each a
 * tap (ky, kx) and a run of input channels, with one input pointer per
 * pixel. A pixel whose tap falls in the padding points at a row of zeros,
 * so borders run the same branch-free loop as the interior. Where the
 * block's pixels see whole rows of taps (dense input, inside the image
 * horizontally), a row of taps is one segment of kw * cin floats, as it is
 * in the packed weights. When cin is tiny (the RGB stem) and rows do not
 * merge (at the borders), taps are too short for segments: the block's
 * receptive fields are gathered into a patch (im2col of 6 pixels) whose
 * order (ky, kx, ci) is the packed order, and the patch is one segment.
 *
 * Work items are (group of pixel blocks) x (group of channel blocks), the
 * split chosen to keep the memory traffic low: late layers with small
 * images and big weights split channels, early layers split pixels.
 *
 * Each output is read (as residual) and written by one kernel call only,
 * so the residual may be the output buffer itself (an in-place add).
 *
 * AVX2+FMA is chosen at run time; the portable path (plain C) computes the
 * same thing with the same blocking. No state outside the arguments. */
#include "conv_kernel.h"

#include <string.h>

enum {
    ZMAX = 1024,      /* longest run of zeros: input channels per segment */
    MAXSEG = 64,      /* segments per kernel call; more use partial sums */
    PATCH_CIN = 8,    /* im2col below this many input channels... */
    PATCH_K = 512,    /* ...when a receptive field has at most this many */
    PIX_OUTER_BYTES = 128 << 10, /* pixels outside up to these weights */
    SEG_CACHE = 320,  /* segments an item keeps across channel blocks */
    CACHE_BLOCKS = 40, /* pixel blocks an item keeps segments of */
};

static const float zeros[ZMAX];

/* The work split: npg groups of pixel blocks x ncg groups of channel
 * blocks. */
typedef struct Plan {
    rn_i64 npix; /* output pixels, oh * ow */
    int nb;      /* pixel blocks of <= MR, sizes balanced */
    int ncb;     /* channel blocks of NB */
    int npg, ncg;
    int patch;     /* im2col where rows do not merge */
    int pix_outer; /* pixel blocks outside channel blocks in an item */
} Plan;

/* A tap run shared by every pixel inside the image: its input at
 * corner + off. */
typedef struct Tap {
    rn_i64 off, woff;
    int n;
} Tap;

typedef struct Args {
    const rn_conv *c;
    const float *in, *packed, *bias, *res;
    float *out;
    Kernel *kern;
    Tap taps[MAXSEG]; /* the segments of a block inside the image */
    int ntaps;        /* 0: make them per block */
} Args;

static rn_i64 ksize(const rn_conv *c) { return (rn_i64)c->kh * c->kw * c->cin; }

static int ceil_div(rn_i64 a, rn_i64 b) { return (int)((a + b - 1) / b); }

/* The work split into npg groups of nb pixel blocks x ncg groups of ncb
 * channel blocks, for `flops` of work: as many items as are worth a task,
 * the split that moves the fewest floats (every pixel group reads wfloats
 * of weights, every channel group ifloats of input). */
static void conv_split(double flops, int nb, int ncb, double wfloats,
                   double ifloats, int *npg, int *ncg) {
    double units = (double)nb * ncb, want = flops / ITEM_FLOPS, best = -1;
    if (want > MAX_ITEMS) want = MAX_ITEMS;
    if (want > units) want = units;
    if (want < 1) want = 1;
    *npg = *ncg = 1;
    for (int cg = 1; cg <= ncb; cg++) {
        if (ncb % cg) continue; /* equal channel groups */
        int pg = ceil_div((rn_i64)(want + 0.5), cg);
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

static Plan make_plan(const rn_conv *c) {
    Plan p = {0};
    p.npix = (rn_i64)c->oh * c->ow;
    p.nb = p.npix > 0 ? ceil_div(p.npix, MR) : 0;
    p.ncb = c->cout > 0 ? ceil_div(c->cout, NB) : 0;
    p.patch = c->cin < PATCH_CIN && ksize(c) <= PATCH_K;
    p.npg = p.ncg = 1;
    if (p.nb == 0 || p.ncb == 0) return p;
    double flops = 2.0 * (double)p.npix * c->cout * (double)ksize(c);
    double wfloats = (double)p.ncb * NB * ksize(c);
    double ifloats = (double)c->ih * c->iw * c->cin;
    conv_split(flops, p.nb, p.ncb, wfloats, ifloats, &p.npg, &p.ncg);
    /* Pixels outside when the item's weights stay in L2 as they cycle
     * (segments made once); else a block's weights stay while pixels pass. */
    p.pix_outer = p.patch || wfloats / p.ncg * 4 <= PIX_OUTER_BYTES;
    return p;
}

rn_i64 rn_conv_packed_floats(const rn_conv *c) {
    if (rn_wino_chosen(c)) return rn_wino_packed_floats(c);
    return (rn_i64)ceil_div(c->cout, NB) * NB * ksize(c);
}

void rn_conv_pack(const rn_conv *c, const float *kernel, int ldk,
                  const float *scale, float *packed) {
    if (rn_wino_chosen(c)) {
        rn_wino_pack(c, kernel, ldk, scale, packed);
        return;
    }
    rn_i64 k = ksize(c);
    int ncb = ceil_div(c->cout, NB);
    for (int b = 0; b < ncb; b++)
        for (rn_i64 i = 0; i < k; i++) {
            float *dst = packed + ((rn_i64)b * k + i) * NB;
            for (int j = 0; j < NB; j++) {
                int co = b * NB + j;
                float v = 0;
                if (co < c->cout) {
                    v = kernel[i * ldk + co];
                    if (scale) v *= scale[co];
                }
                dst[j] = v;
            }
        }
}

int rn_conv_tiles(const rn_conv *c) {
    if (rn_wino_chosen(c)) return rn_wino_tiles(c);
    Plan p = make_plan(c);
    return p.npg * p.ncg;
}

/* ------------------------------------------------------------ segments */

/* The input corner of each pixel's receptive field (iy0, ix0). */
static void corners(const rn_conv *c, rn_i64 p0, int R, int *iy0, int *ix0) {
    int oy = (int)(p0 / c->ow), ox = (int)(p0 % c->ow);
    for (int r = 0; r < R; r++) {
        iy0[r] = oy * c->sh - c->pad_t;
        ix0[r] = ox * c->sw - c->pad_l;
        if (++ox == c->ow) ox = 0, oy++;
    }
}

/* Where a pixel's tap (ky, kx) reads, or NULL in the padding. */
static const float *tap_at(const rn_conv *c, const float *in, int iy0,
                           int ix0, int ky, int kx) {
    int iy = iy0 + ky * c->dh, ix = ix0 + kx * c->dw;
    if (iy < 0 || iy >= c->ih || ix < 0 || ix >= c->iw) return NULL;
    return in + ((rn_i64)iy * c->iw + ix) * c->ldi;
}

/* A tap row (ky, kx = 0..kw-1) is one run of kw * cin floats in memory
 * and in the packed weights when the pixels are dense, undilated across
 * and wholly inside the image horizontally: one segment per row then. */
static int rows_merge(const rn_conv *c, const int *ix0, int R) {
    if (c->dw != 1 || c->ldi != c->cin || c->kw < 2 || c->kh > MAXSEG ||
        (rn_i64)c->kw * c->cin > ZMAX)
        return 0;
    for (int r = 0; r < R; r++)
        if (ix0[r] < 0 || ix0[r] + c->kw > c->iw) return 0;
    return 1;
}

/* Whether every tap of pixels [0, R) is inside the image. */
static int inside(const rn_conv *c, const int *iy0, const int *ix0, int R) {
    int ey = (c->kh - 1) * c->dh, ex = (c->kw - 1) * c->dw;
    for (int r = 0; r < R; r++)
        if (iy0[r] < 0 || iy0[r] + ey >= c->ih || ix0[r] < 0 || ix0[r] + ex >= c->iw)
            return 0;
    return 1;
}

/* The segments of any block inside the image, once per call (rows of
 * taps merged as in make_segs); 0 when they do not fit. */
static int inner_taps(const rn_conv *c, Tap *t) {
    int merge = c->dw == 1 && c->ldi == c->cin && c->kw >= 2 &&
                (rn_i64)c->kw * c->cin <= ZMAX;
    int n = merge ? c->kh : c->kh * c->kw;
    if (n > MAXSEG || (!merge && c->cin > ZMAX)) return 0;
    for (int i = 0; i < n; i++) {
        int ky = merge ? i : i / c->kw, kx = merge ? 0 : i % c->kw;
        t[i].off = ((rn_i64)ky * c->dh * c->iw + (rn_i64)kx * c->dw) * c->ldi;
        t[i].woff = (rn_i64)(merge ? ky * c->kw : i) * c->cin * NB;
        t[i].n = merge ? c->kw * c->cin : c->cin;
    }
    return n;
}

/* Fills up to MAXSEG segments for pixels [p0, p0 + R), resuming at tap
 * *tap, channel *c0 (both 0 at first); taps wholly in the padding are
 * left out. Done when *tap reaches kh * kw. */
static int make_segs(const Args *a, rn_i64 p0, int R, int *tap, int *c0,
                     Seg *s) {
    const rn_conv *c = a->c;
    const float *in = a->in;
    int ns = 0, ntaps = c->kh * c->kw, iy0[MR], ix0[MR];
    rn_i64 base[MR]; /* offset of each pixel's corner, maybe outside */
    corners(c, p0, R, iy0, ix0);
    for (int r = 0; r < R; r++) base[r] = ((rn_i64)iy0[r] * c->iw + ix0[r]) * c->ldi;
    if (*tap == 0 && *c0 == 0 && a->ntaps && inside(c, iy0, ix0, R)) {
        for (int t = 0; t < a->ntaps; t++) { /* the common case, fast */
            for (int r = 0; r < R; r++) s[t].x[r] = in + (base[r] + a->taps[t].off);
            s[t].woff = a->taps[t].woff;
            s[t].n = a->taps[t].n;
        }
        *tap = ntaps;
        return a->ntaps;
    }
    int merge = *tap == 0 && *c0 == 0 && rows_merge(c, ix0, R);
    int ky = *tap / c->kw, kx = *tap % c->kw;
    while (*tap < ntaps && ns < MAXSEG) {
        int n = merge ? c->kw * c->cin : c->cin - *c0 < ZMAX ? c->cin - *c0 : ZMAX;
        int dy = ky * c->dh, dx = kx * c->dw, any = 0;
        rn_i64 off = ((rn_i64)dy * c->iw + dx) * c->ldi + *c0;
        for (int r = 0; r < R; r++) {
            int in_y = (unsigned)(iy0[r] + dy) < (unsigned)c->ih;
            int in_x = (unsigned)(ix0[r] + dx) < (unsigned)c->iw;
            s[ns].x[r] = in_y && in_x ? in + (base[r] + off) : zeros;
            any |= in_y && in_x;
        }
        if (any) { /* else all padding: left out */
            s[ns].woff = ((rn_i64)*tap * c->cin + *c0) * NB;
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
static int use_patch(const rn_conv *c, int patch, rn_i64 p0, int R) {
    int iy0[MR], ix0[MR];
    if (!patch) return 0;
    corners(c, p0, R, iy0, ix0);
    return !rows_merge(c, ix0, R);
}

/* The receptive fields of pixels [p0, p0 + R) as rows of ksize floats. */
static void make_patch(const rn_conv *c, const float *in, rn_i64 p0, int R,
                       float *patch) {
    rn_i64 k = ksize(c);
    int iy0[MR], ix0[MR], cin = c->cin;
    corners(c, p0, R, iy0, ix0);
    int dense = c->dw == 1 && c->ldi == cin;
    for (int r = 0; r < R; r++) {
        float *dst = patch + r * k;
        for (int ky = 0; ky < c->kh; ky++) {
            const float *row = tap_at(c, in, iy0[r], ix0[r], ky, 0);
            if (dense && row && ix0[r] + c->kw <= c->iw) { /* one run */
                memcpy(dst, row, (size_t)c->kw * cin * sizeof *dst);
                dst += c->kw * cin;
                continue;
            }
            for (int kx = 0; kx < c->kw; kx++, dst += cin) {
                const float *x = tap_at(c, in, iy0[r], ix0[r], ky, kx);
                for (int i = 0; i < cin; i++) dst[i] = x ? x[i] : 0.0f;
            }
        }
    }
}

/* ------------------------------------------------------- portable path */

static void kernel_portable(int R, const Seg *s, int ns, const float *wb,
                            float *part, int first, int last, const Epi *e) {
    float acc[MR][NB];
    if (first)
        memset(acc, 0, sizeof acc);
    else
        memcpy(acc, part, sizeof acc);
    for (int k = 0; k < ns; k++) {
        const float *w = wb + s[k].woff;
        for (int i = 0; i < s[k].n; i++, w += NB)
            for (int r = 0; r < R; r++) {
                float xv = s[k].x[r][i];
                for (int j = 0; j < NB; j++) acc[r][j] += xv * w[j];
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

/* ----------------------------------------------------------- AVX2 path */

#ifdef RN_X86
#define PREFETCH_BYTES 3072 /* ~50 iterations ahead: measured 1-5% better */
#define INLINE static inline __attribute__((always_inline))

/* Loads and stores of a ragged block touch only its valid channels. */
INLINE AVX2 __m256 load8(const float *p, int full, __m256i m) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

INLINE AVX2 void store8(float *p, __m256 v, int full, __m256i m) {
    if (full)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, m, v);
}

/* The accumulators are named one by one: an array of __m256 indexed in a
 * loop would live on the stack. */
#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define ACC_DECL(r) __m256 a##r##0 = z, a##r##1 = z;
#define ACC_LOAD(r) if (R > r) { a##r##0 = _mm256_loadu_ps(part + r * NB); \
        a##r##1 = _mm256_loadu_ps(part + r * NB + 8); }
#define ACC_SAVE(r) if (R > r) { _mm256_storeu_ps(part + r * NB, a##r##0); \
        _mm256_storeu_ps(part + r * NB + 8, a##r##1); }
#define X_DECL(r) const float *x##r = R > r ? s[k].x[r] : zeros;
#define ACC_FMA(r) if (R > r) { __m256 xv = _mm256_broadcast_ss(x##r + i); \
        a##r##0 = _mm256_fmadd_ps(xv, w0, a##r##0); \
        a##r##1 = _mm256_fmadd_ps(xv, w1, a##r##1); }
#define ACC_OUT(r) if (R > r) { \
        float *y = e->out + (rn_i64)r * e->ldo; \
        __m256 v0 = _mm256_add_ps(a##r##0, b0), v1 = _mm256_add_ps(a##r##1, b1); \
        if (e->res) { \
            const float *q = e->res + (rn_i64)r * e->ldo; \
            v0 = _mm256_add_ps(v0, load8(q, full, m0)); \
            v1 = _mm256_add_ps(v1, load8(q + 8, full, m1)); \
        } \
        store8(y, rn_act8(v0, e->act), full, m0); \
        store8(y + 8, rn_act8(v1, e->act), full, m1); }

INLINE AVX2 void kernel_avx2_r(int R, const Seg *s, int ns, const float *wb,
                               float *part, int first, int last,
                               const Epi *e) {
    __m256 z = _mm256_setzero_ps();
    FOR_ROWS(ACC_DECL)
    if (!first) {
        FOR_ROWS(ACC_LOAD)
    }
    for (int k = 0; k < ns; k++) {
        const float *w = wb + s[k].woff;
        FOR_ROWS(X_DECL)
        for (int i = 0, n = s[k].n; i < n; i++, w += NB) {
            /* weights stream from L2 or, cold, from DRAM faster than the
             * hardware prefetcher fetches them (an address, maybe past
             * the end: prefetches never fault) */
            _mm_prefetch((const char *)((__UINTPTR_TYPE__)w + PREFETCH_BYTES),
                         _MM_HINT_T0);
            __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
            FOR_ROWS(ACC_FMA)
        }
    }
    if (!last) {
        FOR_ROWS(ACC_SAVE)
        return;
    }
    int full = e->nvalid >= NB;
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(e->nvalid), lane);
    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(e->nvalid - 8), lane);
    __m256 b0 = z, b1 = z;
    if (e->bias) {
        b0 = load8(e->bias, full, m0);
        b1 = load8(e->bias + 8, full, m1);
    }
    FOR_ROWS(ACC_OUT)
}

/* One copy per pixel count, R a constant in each. */
#define KERNEL_R(R)                                                          \
    static AVX2 void kernel_avx2_##R(const Seg *s, int ns, const float *wb, \
                                     float *part, int first, int last,      \
                                     const Epi *e) {                        \
        kernel_avx2_r(R, s, ns, wb, part, first, last, e);                  \
    }
KERNEL_R(1)
KERNEL_R(2)
KERNEL_R(3)
KERNEL_R(4)
KERNEL_R(5)
KERNEL_R(6)

static void kernel_avx2(int R, const Seg *s, int ns, const float *wb,
                        float *part, int first, int last, const Epi *e) {
    switch (R) {
    case 6: kernel_avx2_6(s, ns, wb, part, first, last, e); break;
    case 5: kernel_avx2_5(s, ns, wb, part, first, last, e); break;
    case 4: kernel_avx2_4(s, ns, wb, part, first, last, e); break;
    case 3: kernel_avx2_3(s, ns, wb, part, first, last, e); break;
    case 2: kernel_avx2_2(s, ns, wb, part, first, last, e); break;
    default: kernel_avx2_1(s, ns, wb, part, first, last, e); break;
    }
}

static int have_avx2(void) {
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
static void kernel_avx2(int R, const Seg *s, int ns, const float *wb,
                        float *part, int first, int last, const Epi *e) {
    kernel_portable(R, s, ns, wb, part, first, last, e);
}

static int have_avx2(void) { return 0; }
#endif

/* --------------------------------------------------------------- items */

static void epi_at(const Args *a, rn_i64 p0, int cb, Epi *e) {
    const rn_conv *c = a->c;
    int co = cb * NB;
    e->bias = a->bias ? a->bias + co : NULL;
    e->res = a->res ? a->res + p0 * c->ldo + co : NULL;
    e->out = a->out + p0 * c->ldo + co;
    e->ldo = c->ldo;
    e->nvalid = c->cout - co < NB ? c->cout - co : NB;
    e->act = c->act;
}

/* Pixels [p0, p0 + R) x channel block cb, direct. */
static void direct_block(const Args *a, rn_i64 p0, int R, int cb) {
    const rn_conv *c = a->c;
    Seg s[MAXSEG];
    float part[MR * NB];
    Epi e;
    epi_at(a, p0, cb, &e);
    const float *wb = a->packed + (rn_i64)cb * NB * ksize(c);
    int tap = 0, c0 = 0, ntaps = c->kh * c->kw, first = 1;
    do {
        int ns = make_segs(a, p0, R, &tap, &c0, s);
        a->kern(R, s, ns, wb, part, first, tap >= ntaps, &e);
        first = 0;
    } while (tap < ntaps);
}

/* Pixels [p0, p0 + R) x channel blocks [cb0, cb1): the segments (or the
 * patch) are made once when they fit one kernel call. */
static void pixel_block(const Args *a, rn_i64 p0, int R, int cb0, int cb1,
                        int patch) {
    const rn_conv *c = a->c;
    rn_i64 k = ksize(c);
    Seg s[MAXSEG];
    float buf[MR * PATCH_K];
    int tap = 0, c0 = 0, ns = 1;
    if (use_patch(c, patch, p0, R)) {
        make_patch(c, a->in, p0, R, buf);
        for (int r = 0; r < MR; r++) s[0].x[r] = buf + (r < R ? r : 0) * k;
        s[0].woff = 0;
        s[0].n = (int)k;
    } else {
        ns = make_segs(a, p0, R, &tap, &c0, s);
        if (tap < c->kh * c->kw) { /* more than one call: start over per block */
            for (int cb = cb0; cb < cb1; cb++) direct_block(a, p0, R, cb);
            return;
        }
    }
    for (int cb = cb0; cb < cb1; cb++) {
        Epi e;
        epi_at(a, p0, cb, &e);
        a->kern(R, s, ns, a->packed + cb * NB * k, NULL, 1, 1, &e);
    }
}

/* Channel blocks outside: a block's weights stay in cache while the
 * item's pixels pass. The pixel blocks' segments are made once when they
 * fit the cache (each in one kernel call), else again per channel block. */
static void channel_outer(const Args *a, const Plan *p, int pb0, int pb1,
                          int cb0, int cb1) {
    const rn_conv *c = a->c;
    rn_i64 k = ksize(c);
    Seg s[SEG_CACHE];
    int off[CACHE_BLOCKS + 1], ntaps = c->kh * c->kw;
    int cached = cb1 - cb0 > 1 && pb1 - pb0 <= CACHE_BLOCKS;
    off[0] = 0;
    for (int pb = pb0; cached && pb < pb1; pb++) {
        rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
        int i = pb - pb0, tap = 0, c0 = 0;
        if (off[i] + MAXSEG > SEG_CACHE) cached = 0;
        else off[i + 1] = off[i] + make_segs(a, p0, (int)(p1 - p0), &tap, &c0, s + off[i]);
        cached &= tap >= ntaps;
    }
    for (int cb = cb0; cb < cb1; cb++)
        for (int pb = pb0; pb < pb1; pb++) {
            rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
            int i = pb - pb0;
            if (!cached) {
                direct_block(a, p0, (int)(p1 - p0), cb);
                continue;
            }
            Epi e;
            epi_at(a, p0, cb, &e);
            a->kern((int)(p1 - p0), s + off[i], off[i + 1] - off[i],
                    a->packed + cb * NB * k, NULL, 1, 1, &e);
        }
}

static void run_item(const Args *a, const Plan *p, int t) {
    int pg = t / p->ncg, cg = t % p->ncg;
    int pb0 = (int)((rn_i64)pg * p->nb / p->npg);
    int pb1 = (int)((rn_i64)(pg + 1) * p->nb / p->npg);
    int cb0 = cg * (p->ncb / p->ncg), cb1 = cb0 + p->ncb / p->ncg;
    if (p->pix_outer) {
        for (int pb = pb0; pb < pb1; pb++) {
            rn_i64 p0 = pb * p->npix / p->nb, p1 = (pb + 1) * p->npix / p->nb;
            pixel_block(a, p0, (int)(p1 - p0), cb0, cb1, p->patch);
        }
        return;
    }
    channel_outer(a, p, pb0, pb1, cb0, cb1);
}

static void run_items(const rn_conv *c, const float *in, const float *packed,
                      const float *bias, const float *residual, float *out,
                      int t0, int t1, Kernel *kern) {
    Plan p = make_plan(c);
    Args a = {c, in, packed, bias, residual, out, kern, {{0, 0, 0}}, 0};
    if (t0 < 0) t0 = 0;
    if (t1 > p.npg * p.ncg) t1 = p.npg * p.ncg;
    if (p.nb == 0 || p.ncb == 0 || t0 >= t1) return;
    a.ntaps = inner_taps(c, a.taps);
    for (int t = t0; t < t1; t++) run_item(&a, &p, t);
}

Kernel *rn_conv_kernel(int avx2, int *is_avx2) {
    *is_avx2 = avx2 && have_avx2();
    return *is_avx2 ? kernel_avx2 : kernel_portable;
}

rn_i64 rn_conv_scratch_floats(const rn_conv *c) {
    return rn_wino_chosen(c) ? rn_wino_scratch_floats(c) : 0;
}

static void run(const rn_conv *c, const float *in, const float *packed,
                const float *bias, const float *residual, float *out, int t0,
                int t1, float *scratch, int avx2) {
    if (rn_wino_chosen(c)) {
        rn_wino_run(c, in, packed, bias, residual, out, t0, t1, scratch, avx2);
        return;
    }
    int is_avx2;
    Kernel *kern = rn_conv_kernel(avx2, &is_avx2);
    run_items(c, in, packed, bias, residual, out, t0, t1, kern);
}

/* The portable path on any machine, for tests (not in rnrt.h). */
void rn_conv_run_portable(const rn_conv *c, const float *in,
                          const float *packed, const float *bias,
                          const float *residual, float *out, int t0, int t1,
                          float *scratch);
void rn_conv_run_portable(const rn_conv *c, const float *in,
                          const float *packed, const float *bias,
                          const float *residual, float *out, int t0, int t1,
                          float *scratch) {
    run(c, in, packed, bias, residual, out, t0, t1, scratch, 0);
}

void rn_conv_run(const rn_conv *c, const float *in, const float *packed,
                 const float *bias, const float *residual, float *out,
                 int t0, int t1, float *scratch) {
    run(c, in, packed, bias, residual, out, t0, t1, scratch, 1);
}
