/* test_conv.c: the packed direct convolution (runtime/conv.c) and the
 * Winograd one (runtime/winograd.c) against a
 * naive double-precision loop written here from the definition, on random
 * shapes: strides, dilation, uneven padding, ragged channel blocks, strided
 * input and output, residual, bias, batchnorm scale, activations, and work
 * items run in arbitrary pieces. Both the AVX2 path (when the CPU has it)
 * and the portable path. Gaps between pixels hold NaN on input (a read of
 * one poisons the result) and a sentinel on output (a write is seen).
 * The residual may be the output buffer itself (an in-place add). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnrt.h"
#include "unit.h"

/* conv.c exports the portable path for tests only. */
void rn_conv_run_portable(const rn_conv *c, const float *in,
                          const float *packed, const float *bias,
                          const float *residual, float *out, int t0, int t1,
                          float *scratch);

typedef void RunFn(const rn_conv *, const float *, const float *,
                   const float *, const float *, float *, int, int, float *);

static const float SENTINEL = 12345.0f;

static int rnd(rn_rng *g, int lo, int hi) { /* [lo, hi] */
    return lo + (int)(rn_rng_next(g) % (unsigned long long)(hi - lo + 1));
}

/* A case: the conv plus everything around it. */
typedef struct Case {
    rn_conv c;
    int pad_b, pad_r, ldk, koff;
    int use_bias, use_res, use_scale;
    int alias; /* the residual is out itself (an in-place add) */
    int no_scratch; /* rn_conv_run without scratch (the stack path) */
} Case;

/* out_ref[p][co] in double from the Keras kernel. */
static void naive(const Case *k, const float *in, const float *kern,
                  const float *scale, const float *bias, const float *res,
                  double *ref, double *mag) {
    const rn_conv *c = &k->c;
    for (int oy = 0; oy < c->oh; oy++)
        for (int ox = 0; ox < c->ow; ox++)
            for (int co = 0; co < c->cout; co++) {
                double s = 0, m = 0;
                for (int ky = 0; ky < c->kh; ky++)
                    for (int kx = 0; kx < c->kw; kx++) {
                        int iy = oy * c->sh - c->pad_t + ky * c->dh;
                        int ix = ox * c->sw - c->pad_l + kx * c->dw;
                        if (iy < 0 || iy >= c->ih || ix < 0 || ix >= c->iw) continue;
                        for (int ci = 0; ci < c->cin; ci++) {
                            double w = kern[(((long)ky * c->kw + kx) * c->cin + ci) * k->ldk + co];
                            if (scale) w *= scale[co];
                            double t = in[((long)iy * c->iw + ix) * c->ldi + ci] * w;
                            s += t;
                            m += fabs(t);
                        }
                    }
                long p = (long)oy * c->ow + ox;
                if (bias) s += bias[co], m += fabs(bias[co]);
                if (res) s += res[p * c->ldo + co], m += fabs(res[p * c->ldo + co]);
                if (c->act == RN_ACT_RELU) s = s > 0 ? s : 0;
                if (c->act == RN_ACT_RELU6) s = s > 0 ? (s < 6 ? s : 6) : 0;
                ref[p * c->cout + co] = s;
                mag[p * c->cout + co] = m;
            }
}

static float *rand_buf(rn_rng *g, long n) {
    float *b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
    for (long i = 0; i < n; i++) b[i] = rn_rng_uniform(g) * 2 - 1;
    return b;
}

/* Runs case k through `run` with the items split at random points and
 * the pieces in reverse order; returns the number of wrong floats. */
static int check_case(rn_rng *g, const Case *k, RunFn *run) {
    const rn_conv *c = &k->c;
    long nin = (long)c->ih * c->iw * c->ldi, nout = (long)c->oh * c->ow * c->ldo;
    long nk = (long)c->kh * c->kw * c->cin * k->ldk;
    float *in = rand_buf(g, nin), *kern = rand_buf(g, nk);
    float *scale = rand_buf(g, c->cout), *bias = rand_buf(g, c->cout);
    float *res = rand_buf(g, nout), *out = malloc((size_t)nout * sizeof *out);
    for (long i = 0; i < nin; i++)
        if (i % c->ldi >= c->cin) in[i] = NAN;
    for (long i = 0; i < nout; i++) {
        out[i] = SENTINEL;
        if (i % c->ldo >= c->cout) res[i] = NAN;
    }
    for (int i = 0; i < c->cout; i++) scale[i] += 1.5f;
    const float *sc = k->use_scale ? scale : NULL, *bi = k->use_bias ? bias : NULL;
    const float *re = k->use_res ? res : NULL;
    if (k->use_res && k->alias) {
        for (long i = 0; i < nout; i++)
            if (i % c->ldo < c->cout) out[i] = res[i];
        re = out;
    }
    float *packed = malloc((size_t)rn_conv_packed_floats(c) * sizeof *packed);
    rn_conv_pack(c, kern + k->koff, k->ldk, sc, packed);

    int tiles = rn_conv_tiles(c), cut[8], ncut = 0;
    CU_ASSERT(tiles >= 1);
    cut[ncut++] = tiles;
    for (int i = 0; i < 3; i++) cut[ncut++] = rnd(g, 0, tiles);
    cut[ncut++] = 0;
    for (int i = 1; i < ncut; i++) /* sort descending */
        for (int j = i; j > 0 && cut[j] > cut[j - 1]; j--) {
            int t = cut[j]; cut[j] = cut[j - 1]; cut[j - 1] = t;
        }
    /* scratch: exactly the floats asked for, NaN (a read before a write
     * poisons the result) */
    rn_i64 nscratch = rn_conv_scratch_floats(c);
    CU_ASSERT(nscratch >= 0);
    float *scratch = malloc((size_t)(nscratch + 1) * sizeof *scratch);
    for (rn_i64 i = 0; i < nscratch; i++) scratch[i] = NAN;
    for (int i = 0; i + 1 < ncut; i++)
        run(c, in, packed, bi, re, out, cut[i + 1], cut[i],
            k->no_scratch ? NULL : scratch);
    free(scratch);

    long np = (long)c->oh * c->ow;
    double *ref = malloc((size_t)(np * c->cout + 1) * sizeof *ref);
    double *mag = malloc((size_t)(np * c->cout + 1) * sizeof *mag);
    naive(k, in, kern + k->koff, sc, bi, k->use_res ? res : NULL, ref, mag);
    int bad = 0;
    for (long p = 0; p < np; p++)
        for (int o = 0; o < c->ldo; o++) {
            float got = out[p * c->ldo + o];
            if (o >= c->cout) {
                bad += got != SENTINEL;
                continue;
            }
            double want = ref[p * c->cout + o];
            double tol = 1e-5 * mag[p * c->cout + o] + 1e-6;
            if (!(fabs(got - want) <= tol)) {
                if (bad < 3)
                    fprintf(stderr, "\nconv %dx%dx%d k%dx%d s%d,%d d%d,%d -> %dx%dx%d: "
                            "p %ld o %d got %g want %g\n", c->ih, c->iw, c->cin,
                            c->kh, c->kw, c->sh, c->sw, c->dh, c->dw, c->oh, c->ow,
                            c->cout, p, o, got, want);
                bad++;
            }
        }
    free(in), free(kern), free(scale), free(bias), free(res), free(out);
    free(packed), free(ref), free(mag);
    return bad;
}

/* A random case; cin/cout ranges given, the rest random. */
static Case random_case(rn_rng *g, int cin_max, int cout_max) {
    Case k;
    memset(&k, 0, sizeof k);
    rn_conv *c = &k.c;
    for (;;) {
        c->kh = rnd(g, 1, 5), c->kw = rnd(g, 1, 5);
        c->sh = rnd(g, 1, 3), c->sw = rnd(g, 1, 3);
        c->dh = rnd(g, 1, 2), c->dw = rnd(g, 1, 2);
        c->ih = rnd(g, 1, 13), c->iw = rnd(g, 1, 13);
        int eh = (c->kh - 1) * c->dh + 1, ew = (c->kw - 1) * c->dw + 1;
        c->pad_t = rnd(g, 0, eh - 1), k.pad_b = rnd(g, 0, eh - 1);
        c->pad_l = rnd(g, 0, ew - 1), k.pad_r = rnd(g, 0, ew - 1);
        int hh = c->ih + c->pad_t + k.pad_b - eh, ww = c->iw + c->pad_l + k.pad_r - ew;
        if (hh < 0 || ww < 0) continue;
        c->oh = hh / c->sh + 1, c->ow = ww / c->sw + 1;
        break;
    }
    c->cin = rnd(g, 1, cin_max), c->cout = rnd(g, 1, cout_max);
    c->ldi = c->cin + rnd(g, 0, 1) * rnd(g, 1, 5);
    c->ldo = c->cout + rnd(g, 0, 1) * rnd(g, 1, 5);
    k.koff = rnd(g, 0, 1) * rnd(g, 1, 7); /* a group's offset in the tensor */
    k.ldk = c->cout + k.koff + rnd(g, 0, 3);
    c->act = rnd(g, 0, 2);
    k.use_bias = rnd(g, 0, 1), k.use_res = rnd(g, 0, 1), k.use_scale = rnd(g, 0, 1);
    k.alias = rnd(g, 0, 1);
    return k;
}

static void random_cases(RunFn *run, unsigned long long seed) {
    rn_rng g;
    rn_rng_seed(&g, seed);
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        Case k = random_case(&g, i % 3 ? 67 : 7, 70);
        bad += check_case(&g, &k, run);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static void test_random_avx2(void) {
    if (!rn_k_have_avx2()) return; /* rn_conv_run is the portable path */
    random_cases(rn_conv_run, 1);
}

static void test_random_portable(void) { random_cases(rn_conv_run_portable, 2); }

/* Shapes that reach the unusual paths: many taps (partial sums), cin over
 * the zero row (channel runs), a stem-like im2col and one too big for it,
 * a 1x1 projection, residual + relu6, and late-layer channel splits. */
static void test_edges(void) {
    static const struct { int ih, iw, cin, cout, kh, kw, s, pad; } sh[] = {
        {12, 12, 9, 20, 9, 9, 1, 4},      /* 81 taps > 64 segments */
        {3, 4, 1100, 17, 3, 3, 1, 1},     /* cin > zero row */
        {23, 23, 3, 64, 7, 7, 2, 3},      /* stem: im2col */
        {21, 21, 3, 5, 15, 15, 1, 7},     /* too big to gather */
        {14, 14, 64, 128, 1, 1, 2, 0},    /* projection */
        {7, 7, 96, 160, 3, 3, 1, 1},      /* late layer */
        {1, 1, 5, 3, 3, 3, 1, 1},         /* one pixel, mostly padding */
    };
    rn_rng g;
    rn_rng_seed(&g, 3);
    for (size_t i = 0; i < sizeof sh / sizeof sh[0]; i++) {
        Case k;
        memset(&k, 0, sizeof k);
        rn_conv *c = &k.c;
        c->ih = sh[i].ih, c->iw = sh[i].iw, c->cin = sh[i].cin, c->cout = sh[i].cout;
        c->kh = sh[i].kh, c->kw = sh[i].kw, c->sh = c->sw = sh[i].s, c->dh = c->dw = 1;
        c->pad_t = c->pad_l = sh[i].pad;
        c->oh = (c->ih + 2 * sh[i].pad - c->kh) / c->sh + 1;
        c->ow = (c->iw + 2 * sh[i].pad - c->kw) / c->sw + 1;
        c->ldi = c->cin + (int)(i % 2), c->ldo = c->cout + (int)(i % 3);
        k.ldk = c->cout;
        c->act = (int)(i % 3);
        k.use_bias = k.use_res = k.use_scale = (int)(i % 2);
        CU_ASSERT_EQUAL(check_case(&g, &k, rn_conv_run_portable), 0);
        if (rn_k_have_avx2()) CU_ASSERT_EQUAL(check_case(&g, &k, rn_conv_run), 0);
    }
}

/* Winograd F(2x2, 3x3) and F(4x4, 3x3) forced on random 3x3 stride-1
 * shapes: odd and even sizes (ragged last tiles), any padding, channel
 * counts off the vector width and the 16-channel block, gaps between
 * pixels, and work items cut at random; both paths. Also left to choose:
 * each agrees with the definition. */
static void test_winograd(void) {
    rn_rng g;
    rn_rng_seed(&g, 4);
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        Case k = random_case(&g, i % 4 ? 40 : 300, 70);
        rn_conv *c = &k.c;
        c->kh = c->kw = 3, c->sh = c->sw = 1, c->dh = c->dw = 1;
        c->ih = rnd(&g, 1, 15), c->iw = rnd(&g, 1, 15);
        c->pad_t = rnd(&g, 0, 2), k.pad_b = rnd(&g, 0, 2);
        c->pad_l = rnd(&g, 0, 2), k.pad_r = rnd(&g, 0, 2);
        c->oh = c->ih + c->pad_t + k.pad_b - 2, c->ow = c->iw + c->pad_l + k.pad_r - 2;
        if (c->oh < 1 || c->ow < 1) { i--; continue; }
        c->algo = i % 5 == 4 ? RN_CONV_AUTO
                  : i % 2    ? RN_CONV_WINOGRAD
                             : RN_CONV_WINOGRAD4;
        k.no_scratch = i % 7 == 3;
        bad += check_case(&g, &k, rn_conv_run_portable);
        if (rn_k_have_avx2()) bad += check_case(&g, &k, rn_conv_run);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* The choice: Winograd F(4x4) for ResNet's early 3x3 layers, F(2x2) where
 * F(4x4)'s weights grow too big, never where it cannot apply; the packed
 * size follows the choice. */
static void test_winograd_choice(void) {
    rn_conv c = {0};
    c.ih = c.iw = c.oh = c.ow = 56, c.cin = c.ldi = c.cout = c.ldo = 64;
    c.kh = c.kw = 3, c.sh = c.sw = c.dh = c.dw = 1, c.pad_t = c.pad_l = 1;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 36 * 64 * 16); /* F(4x4) */
    c.algo = RN_CONV_WINOGRAD;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 16 * 64 * 16);
    c.algo = RN_CONV_DIRECT;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 64 * 16);
    c.algo = RN_CONV_WINOGRAD, c.sh = 2, c.oh = 28;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 64 * 16); /* stride 2 */
    c.algo = RN_CONV_WINOGRAD4;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 64 * 16);
    c.sh = 1, c.oh = 56, c.dw = 2, c.ow = 54;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 64 * 16); /* dilated */
    c.dw = 1, c.ow = 56, c.algo = RN_CONV_AUTO, c.cin = c.ldi = 3;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 3 * 16); /* RGB input */
    c.cin = c.ldi = 500, c.algo = RN_CONV_WINOGRAD4; /* V too big for F(4x4) */
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 4 * 9 * 500 * 16);
    /* ResNet-34 at 14x14: F(4x4)'s U of 256x256 passes 8 MiB, F(2x2)'s not */
    c.ih = c.iw = c.oh = c.ow = 14, c.cin = c.ldi = c.cout = c.ldo = 256;
    c.algo = RN_CONV_AUTO;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 16 * 16 * 256 * 16);
}

/* Packing: blocks of 16 channels, zero-padded, scaled per channel. */
static void test_pack(void) {
    rn_conv c = {0};
    c.kh = 1, c.kw = 2, c.cin = 2, c.cout = 17;
    CU_ASSERT_EQUAL(rn_conv_packed_floats(&c), 2 * 16 * 4);
    float kern[4 * 20], scale[17], packed[2 * 16 * 4];
    for (int i = 0; i < 80; i++) kern[i] = (float)i;
    for (int i = 0; i < 17; i++) scale[i] = (float)(i + 1);
    rn_conv_pack(&c, kern + 1, 20, scale, packed);
    /* block 0, tap (0, 1), ci 1, channel 5: kern[(1*2+1)*20 + 1 + 5] * 6 */
    CU_ASSERT_EQUAL(packed[(0 * 4 + 3) * 16 + 5], 66.0f * 6);
    /* block 1 holds channel 16 then zeros */
    CU_ASSERT_EQUAL(packed[(1 * 4 + 2) * 16 + 0], 57.0f * 17);
    CU_ASSERT_EQUAL(packed[(1 * 4 + 2) * 16 + 1], 0.0f);
}

/* ResNet-34's shapes give two threads enough balanced items. */
static void test_tiles(void) {
    static const int sh[][4] = {{56, 64, 64, 1}, {28, 128, 128, 1},
                                {14, 256, 256, 1}, {7, 512, 512, 1},
                                {7, 256, 512, 2}, {112, 3, 64, 2}};
    for (size_t i = 0; i < sizeof sh / sizeof sh[0]; i++) {
        rn_conv c = {0};
        int s = sh[i][3], k = sh[i][1] == 3 ? 7 : 3;
        c.oh = c.ow = sh[i][0], c.ih = c.iw = sh[i][0] * s;
        c.cin = c.ldi = sh[i][1], c.cout = c.ldo = sh[i][2];
        c.kh = c.kw = k, c.sh = c.sw = s, c.dh = c.dw = 1, c.pad_t = c.pad_l = k / 2;
        int t = rn_conv_tiles(&c);
        CU_ASSERT(t >= 16 && t <= 64);
    }
    rn_conv tiny = {0};
    tiny.ih = tiny.iw = tiny.oh = tiny.ow = 1, tiny.cin = tiny.cout = 1;
    tiny.ldi = tiny.ldo = 1, tiny.kh = tiny.kw = tiny.sh = tiny.sw = 1;
    tiny.dh = tiny.dw = 1;
    CU_ASSERT_EQUAL(rn_conv_tiles(&tiny), 1);
}

/* ------------------------------------------------------------ depthwise */

/* depthwise.c exports the portable path for tests only. */
void rn_dw_run_portable(const rn_dw *d, const float *in, const float *w,
                        const float *bias, float *out, int y0, int y1);
typedef void DwFn(const rn_dw *, const float *, const float *, const float *,
                  float *, int, int);

/* Random depthwise convs (kernel 1-5, stride 1-3, dilation 1-2, any
 * padding, 1-40 channels, multiplier 1-3, gaps between pixels, bias or
 * not, every activation) through `run` in three pieces of rows, against
 * the definition in double; returns the wrong floats. */
static int check_dw(rn_rng *g, DwFn *run) {
    rn_dw d;
    int pad_b, pad_r;
    for (;;) {
        d.kh = rnd(g, 1, 5), d.kw = rnd(g, 1, 5), d.sh = rnd(g, 1, 3), d.sw = rnd(g, 1, 3);
        d.dh = rnd(g, 1, 2), d.dw = rnd(g, 1, 2);
        d.ih = rnd(g, 1, 17), d.iw = rnd(g, 1, 17);
        int eh = (d.kh - 1) * d.dh + 1, ew = (d.kw - 1) * d.dw + 1;
        d.pad_t = rnd(g, 0, eh - 1), pad_b = rnd(g, 0, eh - 1);
        d.pad_l = rnd(g, 0, ew - 1), pad_r = rnd(g, 0, ew - 1);
        int hh = d.ih + d.pad_t + pad_b - eh, ww = d.iw + d.pad_l + pad_r - ew;
        if (hh < 0 || ww < 0) continue;
        d.oh = hh / d.sh + 1, d.ow = ww / d.sw + 1;
        break;
    }
    d.c = rnd(g, 1, 3) == 1 ? rnd(g, 1, 40) : 8 * rnd(g, 1, 4);
    d.mult = rnd(g, 1, 4) == 1 ? rnd(g, 2, 3) : 1;
    int cout = d.c * d.mult;
    d.ldi = d.c + rnd(g, 0, 1) * rnd(g, 1, 3);
    d.ldo = cout + rnd(g, 0, 1) * rnd(g, 1, 3);
    d.act = rnd(g, 0, 2);
    long nin = (long)d.ih * d.iw * d.ldi, nout = (long)d.oh * d.ow * d.ldo;
    long nw = (long)d.kh * d.kw * cout;
    float *in = rand_buf(g, nin), *w = rand_buf(g, nw), *bias = rand_buf(g, cout);
    float *out = malloc((size_t)nout * sizeof *out);
    for (long i = 0; i < nin; i++)
        if (i % d.ldi >= d.c) in[i] = NAN;
    for (long i = 0; i < nout; i++) out[i] = SENTINEL;
    const float *b = rnd(g, 0, 1) ? bias : NULL;
    int cut1 = rnd(g, 0, d.oh), cut2 = rnd(g, cut1, d.oh);
    run(&d, in, w, b, out, cut2, d.oh);
    run(&d, in, w, b, out, 0, cut1);
    run(&d, in, w, b, out, cut1, cut2);
    int bad = 0;
    for (int oy = 0; oy < d.oh; oy++)
        for (int ox = 0; ox < d.ow; ox++)
            for (int o = 0; o < d.ldo; o++) {
                float got = out[((long)oy * d.ow + ox) * d.ldo + o];
                if (o >= cout) {
                    bad += got != SENTINEL;
                    continue;
                }
                double s = b ? b[o] : 0, mag = fabs(s);
                for (int ky = 0; ky < d.kh; ky++)
                    for (int kx = 0; kx < d.kw; kx++) {
                        int iy = oy * d.sh - d.pad_t + ky * d.dh;
                        int ix = ox * d.sw - d.pad_l + kx * d.dw;
                        if (iy < 0 || iy >= d.ih || ix < 0 || ix >= d.iw) continue;
                        double t = (double)in[((long)iy * d.iw + ix) * d.ldi + o / d.mult] *
                                   w[(long)(ky * d.kw + kx) * cout + o];
                        s += t, mag += fabs(t);
                    }
                if (d.act == RN_ACT_RELU) s = s > 0 ? s : 0;
                if (d.act == RN_ACT_RELU6) s = s > 0 ? (s < 6 ? s : 6) : 0;
                if (!(fabs(got - s) <= 1e-6 * mag + 1e-7)) {
                    if (bad < 3)
                        fprintf(stderr, "\ndepthwise %dx%dx%d*%d k%dx%d s%d,%d d%d,%d: "
                                "(%d, %d, %d) got %g want %g\n", d.ih, d.iw, d.c, d.mult,
                                d.kh, d.kw, d.sh, d.sw, d.dh, d.dw, oy, ox, o, got, s);
                    bad++;
                }
            }
    free(in), free(w), free(bias), free(out);
    return bad;
}

static void test_depthwise(void) {
    rn_rng g;
    rn_rng_seed(&g, 5);
    int bad = 0;
    for (int i = 0; i < 400; i++) {
        bad += check_dw(&g, rn_dw_run_portable);
        bad += check_dw(&g, rn_dw_run); /* AVX2 where the CPU has it */
    }
    CU_ASSERT_EQUAL(bad, 0);
}

void register_conv_tests(void) {
    CU_pSuite s = unit_suite("conv");
    CU_add_test(s, "random shapes, AVX2 path", test_random_avx2);
    CU_add_test(s, "random shapes, portable path", test_random_portable);
    CU_add_test(s, "edge shapes, both paths", test_edges);
    CU_add_test(s, "Winograd, both paths", test_winograd);
    CU_add_test(s, "Winograd chosen where it applies", test_winograd_choice);
    CU_add_test(s, "depthwise, both paths", test_depthwise);
    CU_add_test(s, "weight packing", test_pack);
    CU_add_test(s, "work items", test_tiles);
}
