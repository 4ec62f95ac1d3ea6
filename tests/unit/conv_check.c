/* conv_check.c: see conv_check.h. Gaps between pixels hold NaN on input
 * (a read of one poisons the result) and a sentinel on output (a write
 * is seen); the scratch is NaN (a read before a write is seen); work
 * items run in pieces cut at random, in reverse order. */
#include "conv_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "act_ref.h"

static const float SENTINEL = 12345.0f;

/* The epilogue activations, one of each. */
static const int ACTS[] = {RN_ACT_NONE, RN_ACT_RELU, RN_ACT_RELU6, RN_ACT_SIGMOID,
                           RN_ACT_SWISH, RN_ACT_HARD_SWISH};
enum { NACTS = sizeof ACTS / sizeof ACTS[0] };

static int rnd(rn_rng *g, int lo, int hi) { /* [lo, hi] */
    return lo + (int)(rn_rng_next(g) % (unsigned long long)(hi - lo + 1));
}


static float *rand_buf(rn_rng *g, long n) {
    float *b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
    if (!b) {
        fprintf(stderr, "conv_check: out of memory\n");
        exit(2);
    }
    for (long i = 0; i < n; i++) b[i] = rn_rng_uniform(g) * 2 - 1;
    return b;
}

/* A case: the conv plus everything around it. */
typedef struct Case {
    rn_conv c;
    int pad_b, pad_r, ldk, koff;
    int use_bias, use_res, use_scale;
    int alias;      /* the residual is out itself (an in-place add) */
    int no_scratch; /* rn_conv_run without scratch (the stack path) */
    int no_shift;   /* a prologue of a scale alone (pre_shift NULL) */
} Case;

/* out_ref[p][co] in double from the Keras kernel, and the sum of the
 * terms' magnitudes (the scale of the rounding error). */
static void naive(const Case *k, const float *in, const float *kern,
                  const float *scale, const float *bias, const float *res,
                  const float *pre_s, const float *pre_t, double *ref, double *mag) {
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
                            int gi = c->cin / (c->groups > 1 ? c->groups : 1);
                            int go = c->cout / (c->groups > 1 ? c->groups : 1);
                            if (ci / gi != co / go) continue; /* another group */
                            double w = kern[(((long)ky * c->kw + kx) * gi + ci % gi) * k->ldk + co];
                            if (scale) w *= scale[co];
                            double x = in[((long)iy * c->iw + ix) * c->ldi + ci];
                            if (c->pre)
                                x = act_ref(x * pre_s[ci] + (pre_t ? pre_t[ci] : 0), c->pre_act);
                            double t = x * w;
                            s += t;
                            m += fabs(t);
                        }
                    }
                long p = (long)oy * c->ow + ox;
                if (bias) s += bias[co], m += fabs(bias[co]);
                if (res) s += res[p * c->ldo + co], m += fabs(res[p * c->ldo + co]);
                ref[p * c->cout + co] = act_ref(s, c->act);
                mag[p * c->cout + co] = m;
            }
}

/* Runs case k through `run` with the items split at random points and
 * the pieces in reverse order; returns the number of wrong floats. */
static int check_case_with(rn_rng *g, const Case *k, ConvRunFn *run,
                           ConvPreRunFn *pre_run) {
    const rn_conv *c = &k->c;
    long nin = (long)c->ih * c->iw * c->ldi, nout = (long)c->oh * c->ow * c->ldo;
    long nk = (long)c->kh * c->kw * c->cin * k->ldk;
    float *in = rand_buf(g, nin), *kern = rand_buf(g, nk);
    float *scale = rand_buf(g, c->cout), *bias = rand_buf(g, c->cout);
    float *res = rand_buf(g, nout), *out = rand_buf(g, nout);
    float *pre_s = rand_buf(g, c->cin), *pre_t = rand_buf(g, c->cin);
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
    float *packed = rand_buf(g, rn_conv_packed_floats(c));
    rn_conv_pack(c, kern + k->koff, k->ldk, sc, packed);

    int bad = 0, tiles = rn_conv_tiles(c), cut[8], ncut = 0;
    if (tiles < 1) {
        fprintf(stderr, "\nconv: %d work items\n", tiles);
        bad++;
    }
    cut[ncut++] = tiles;
    for (int i = 0; i < 3; i++) cut[ncut++] = rnd(g, 0, tiles);
    cut[ncut++] = 0;
    for (int i = 1; i < ncut; i++) /* sort descending */
        for (int j = i; j > 0 && cut[j] > cut[j - 1]; j--) {
            int t = cut[j]; cut[j] = cut[j - 1]; cut[j - 1] = t;
        }
    /* scratch: exactly the floats asked for, NaN */
    rn_i64 nscratch = rn_conv_scratch_floats(c);
    if (nscratch < 0) {
        fprintf(stderr, "\nconv: %lld floats of scratch\n", (long long)nscratch);
        bad++, nscratch = 0;
    }
    float *scratch = rand_buf(g, nscratch + 1);
    for (rn_i64 i = 0; i < nscratch; i++) scratch[i] = NAN;
    for (int i = 0; i + 1 < ncut; i++)
        if (pre_run)
            pre_run(c, pre_s, k->no_shift ? NULL : pre_t, in, packed, bi, re, out,
                    cut[i + 1], cut[i],
                    k->no_scratch ? NULL : scratch);
        else
            run(c, in, packed, bi, re, out, cut[i + 1], cut[i],
                k->no_scratch ? NULL : scratch);
    free(scratch);

    long np = (long)c->oh * c->ow;
    double *ref = malloc((size_t)(np * c->cout + 1) * sizeof *ref);
    double *mag = malloc((size_t)(np * c->cout + 1) * sizeof *mag);
    if (!ref || !mag) {
        fprintf(stderr, "conv_check: out of memory\n");
        exit(2);
    }
    naive(k, in, kern + k->koff, sc, bi, k->use_res ? res : NULL, pre_s,
          k->no_shift ? NULL : pre_t, ref, mag);
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
                    fprintf(stderr, "\nconv %dx%dx%d k%dx%d s%d,%d d%d,%d -> %dx%dx%d "
                            "act %d algo %d: p %ld o %d got %g want %g\n", c->ih,
                            c->iw, c->cin, c->kh, c->kw, c->sh, c->sw, c->dh, c->dw,
                            c->oh, c->ow, c->cout, c->act, c->algo, p, o, got, want);
                bad++;
            }
        }
    free(in), free(kern), free(scale), free(bias), free(res), free(out);
    free(packed), free(ref), free(mag), free(pre_s), free(pre_t);
    return bad;
}

static int check_case(rn_rng *g, const Case *k, ConvRunFn *run) {
    return check_case_with(g, k, run, NULL);
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
    c->act = ACTS[rnd(g, 0, NACTS - 1)];
    k.use_bias = rnd(g, 0, 1), k.use_res = rnd(g, 0, 1), k.use_scale = rnd(g, 0, 1);
    k.alias = rnd(g, 0, 1);
    return k;
}

int conv_check_random(ConvRunFn *run, unsigned long long seed, int cases) {
    rn_rng g;
    rn_rng_seed(&g, seed);
    int bad = 0;
    for (int i = 0; i < cases; i++) {
        Case k = random_case(&g, i % 3 ? 67 : 7, 70);
        if (i % 5 == 2) { /* pointwise: 1x1, stride 1, no padding (its own path) */
            rn_conv *c = &k.c;
            c->kh = c->kw = c->sh = c->sw = c->dh = c->dw = 1;
            c->pad_t = c->pad_l = k.pad_b = k.pad_r = 0;
            c->oh = c->ih, c->ow = c->iw;
        }
        bad += check_case(&g, &k, run);
    }
    return bad;
}

int conv_check_pointwise(ConvRunFn *run, unsigned long long seed, int cases) {
    rn_rng g;
    rn_rng_seed(&g, seed);
    int bad = 0;
    for (int i = 0; i < cases; i++) {
        int deep = i % 6 == 5; /* past the row of zeros: few pixels */
        Case k = random_case(&g, i % 3 ? 48 : 400, i % 4 ? 70 : 200);
        rn_conv *c = &k.c;
        c->kh = c->kw = c->sh = c->sw = c->dh = c->dw = 1;
        c->pad_t = c->pad_l = k.pad_b = k.pad_r = 0;
        c->ih = rnd(&g, 1, deep ? 6 : 24), c->iw = rnd(&g, 1, deep ? 7 : 24);
        c->oh = c->ih, c->ow = c->iw;
        if (deep) c->cin = rnd(&g, 1000, 2100);
        c->ldi = c->cin + rnd(&g, 0, 1) * rnd(&g, 1, 5);
        bad += check_case(&g, &k, run);
    }
    return bad;
}

int conv_check_edges(ConvRunFn *run) {
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
    int bad = 0;
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
        c->act = ACTS[i % NACTS];
        k.use_bias = k.use_res = k.use_scale = (int)(i % 2);
        bad += check_case(&g, &k, run);
    }
    return bad;
}

/* Few input channels (1..7, the stem's row chunks in rn_direct.h):
 * kernels 3, 5 and 7 (and others), strides 1 and 2, dilation, any
 * padding, rows wider than a chunk, ragged output channels, gaps between
 * pixels, every activation, bias and residual or not. */
int conv_check_stem(ConvRunFn *run, unsigned long long seed, int cases) {
    static const int KS[] = {3, 5, 7, 3, 7, 1, 2, 4};
    rn_rng g;
    rn_rng_seed(&g, seed);
    int bad = 0;
    for (int i = 0; i < cases; i++) {
        Case k;
        memset(&k, 0, sizeof k);
        rn_conv *c = &k.c;
        c->kh = KS[rnd(&g, 0, 7)], c->kw = i % 4 ? c->kh : KS[rnd(&g, 0, 7)];
        c->sh = rnd(&g, 1, 2), c->sw = i % 3 ? c->sh : rnd(&g, 1, 3);
        c->dh = c->dw = i % 7 == 3 ? 2 : 1;
        c->ih = rnd(&g, 1, 9), c->iw = rnd(&g, 1, i % 2 ? 90 : 20);
        int eh = (c->kh - 1) * c->dh + 1, ew = (c->kw - 1) * c->dw + 1;
        c->pad_t = rnd(&g, 0, eh - 1), k.pad_b = rnd(&g, 0, eh - 1);
        c->pad_l = rnd(&g, 0, ew - 1), k.pad_r = rnd(&g, 0, ew - 1);
        int hh = c->ih + c->pad_t + k.pad_b - eh, ww = c->iw + c->pad_l + k.pad_r - ew;
        if (hh < 0 || ww < 0) {
            i--;
            continue;
        }
        c->oh = hh / c->sh + 1, c->ow = ww / c->sw + 1;
        c->cin = rnd(&g, 1, 7), c->cout = i % 3 ? 16 * rnd(&g, 1, 4) : rnd(&g, 1, 70);
        c->ldi = c->cin + rnd(&g, 0, 1) * rnd(&g, 1, 3);
        c->ldo = c->cout + rnd(&g, 0, 1) * rnd(&g, 1, 5);
        k.ldk = c->cout;
        c->act = ACTS[i % NACTS];
        k.use_bias = rnd(&g, 0, 1), k.use_res = rnd(&g, 0, 1), k.use_scale = rnd(&g, 0, 1);
        k.alias = rnd(&g, 0, 1);
        bad += check_case(&g, &k, run);
    }
    return bad;
}

int conv_check_grouped(ConvRunFn *run, unsigned long long seed, int cases) {
    rn_rng g;
    rn_rng_seed(&g, seed);
    int bad = 0;
    for (int i = 0; i < cases; i++) {
        Case k = random_case(&g, 2, 2);
        rn_conv *c = &k.c;
        int groups = rnd(&g, 2, 9), gi = rnd(&g, 1, 20), go = i % 3 ? gi : rnd(&g, 1, 20);
        if (i % 2) { /* RegNet's and ResNeXt's: 3x3, stride 1 or 2, pad 1 */
            c->kh = c->kw = 3, c->sh = c->sw = rnd(&g, 1, 2), c->dh = c->dw = 1;
            c->ih = rnd(&g, 2, 15), c->iw = rnd(&g, 2, 15);
            c->pad_t = c->pad_l = k.pad_b = k.pad_r = 1;
            c->oh = (c->ih - 1) / c->sh + 1, c->ow = (c->iw - 1) / c->sw + 1;
        }
        c->groups = groups, c->cin = groups * gi, c->cout = groups * go;
        c->ldi = c->cin + rnd(&g, 0, 1) * rnd(&g, 1, 5);
        c->ldo = c->cout + rnd(&g, 0, 1) * rnd(&g, 1, 5);
        k.ldk = c->cout + k.koff + rnd(&g, 0, 3);
        c->algo = i % 4 == 1 ? RN_CONV_WINOGRAD : i % 4 == 3 ? RN_CONV_WINOGRAD4 : RN_CONV_AUTO;
        bad += check_case(&g, &k, run);
    }
    return bad;
}

int conv_check_group_kernel(ConvRunFn *run, unsigned long long seed, int cases) {
    static const int WIDTHS[] = {1, 2, 4, 8, 16};
    enum { NWIDTHS = sizeof WIDTHS / sizeof WIDTHS[0] };
    rn_rng g;
    rn_rng_seed(&g, seed);
    int bad = 0;
    for (int i = 0; i < cases; i++) {
        Case k = random_case(&g, 2, 2);
        rn_conv *c = &k.c;
        int go = WIDTHS[i % NWIDTHS];
        if (i % 3 != 2) { /* 3x3 at stride 1 or 2, undilated across: the slide */
            c->kh = c->kw = 3, c->sw = rnd(&g, 1, 2), c->sh = rnd(&g, 1, 2);
            c->dw = 1, c->dh = rnd(&g, 1, 2);
            c->ih = rnd(&g, 1, 12), c->iw = rnd(&g, 1, 30); /* rows of 1 to 4 tiles */
            int eh = 2 * c->dh + 1;
            c->pad_t = rnd(&g, 0, 1), k.pad_b = rnd(&g, 0, 1);
            c->pad_l = rnd(&g, 0, 2), k.pad_r = rnd(&g, 0, 2);
            int hh = c->ih + c->pad_t + k.pad_b - eh, ww = c->iw + c->pad_l + k.pad_r - 3;
            if (hh < 0 || ww < 0) {
                i--;
                continue;
            }
            c->oh = hh / c->sh + 1, c->ow = ww / c->sw + 1;
        }
        /* channels off the 16 of a block too (8 x 3, 4 x 5, ...) */
        c->groups = rnd(&g, 2, go == 16 ? 4 : 9);
        c->cin = c->cout = c->groups * go;
        c->ldi = c->cin + rnd(&g, 0, 1) * rnd(&g, 1, 5);
        c->ldo = c->cout + rnd(&g, 0, 1) * rnd(&g, 1, 5);
        k.ldk = c->cout + k.koff + rnd(&g, 0, 3);
        c->algo = i % 2 ? RN_CONV_GROUPED : RN_CONV_AUTO;
        if (rn_conv_algo(c) != RN_CONV_GROUPED) {
            fprintf(stderr, "\nconv: %d groups of %d channels not on the grouped kernel\n",
                    c->groups, go);
            bad++;
        }
        bad += check_case(&g, &k, run);
    }
    return bad;
}

int conv_check_prologue(ConvPreRunFn *run, unsigned long long seed, int cases) {
    rn_rng g;
    rn_rng_seed(&g, seed);
    int bad = 0;
    for (int i = 0; i < cases; i++) {
        Case k = random_case(&g, i % 5 ? 70 : 600, 70);
        rn_conv *c = &k.c;
        if (i % 2) { /* DenseNet's: 1x1, stride 1 (or a transition's 2) */
            c->kh = c->kw = 1, c->dh = c->dw = 1, c->sh = c->sw = rnd(&g, 1, 2);
            c->pad_t = c->pad_l = k.pad_b = k.pad_r = 0;
            c->oh = (c->ih - 1) / c->sh + 1, c->ow = (c->iw - 1) / c->sw + 1;
        }
        if (i % 7 == 3) { /* grouped */
            int groups = rnd(&g, 2, 4);
            c->groups = groups, c->cin = groups * rnd(&g, 1, 12);
            c->cout = groups * rnd(&g, 1, 12);
            c->ldi = c->cin, c->ldo = c->cout, k.ldk = c->cout + k.koff;
        }
        if (i % 40 == 6) { /* a projection after squeeze-excite: a small image of
                              many channels, its work split by channels too */
            c->kh = c->kw = c->sh = c->sw = c->dh = c->dw = 1;
            c->pad_t = c->pad_l = k.pad_b = k.pad_r = 0;
            c->ih = c->iw = c->oh = c->ow = rnd(&g, 5, 7);
            c->cin = c->ldi = rnd(&g, 300, 700), c->cout = c->ldo = rnd(&g, 100, 200);
            c->groups = 0, k.koff = 0, k.ldk = c->cout;
        }
        c->pre = 1, c->pre_act = ACTS[rnd(&g, 0, NACTS - 1)];
        k.no_scratch = i % 4 == 1;
        k.no_shift = i % 3 == 2; /* squeeze-excite's scale */
        if (i % 40 == 26) { /* an early projection after squeeze-excite: a big
                               image, few weights (scaled instead of the input) */
            c->kh = c->kw = c->sh = c->sw = c->dh = c->dw = 1;
            c->pad_t = c->pad_l = k.pad_b = k.pad_r = 0;
            c->ih = c->iw = c->oh = c->ow = rnd(&g, 20, 40);
            c->cin = c->ldi = rnd(&g, 16, 96), c->cout = c->ldo = rnd(&g, 8, 40);
            c->groups = 0, k.koff = 0, k.ldk = c->cout;
            c->pre_act = RN_ACT_NONE, k.no_shift = 1, k.no_scratch = 0;
        }
        bad += check_case_with(&g, &k, NULL, run);
    }
    return bad;
}

int conv_check_winograd(ConvRunFn *run, unsigned long long seed, int cases) {
    rn_rng g;
    rn_rng_seed(&g, seed);
    int bad = 0;
    for (int i = 0; i < cases; i++) {
        Case k = random_case(&g, i % 4 ? 40 : 300, 70);
        rn_conv *c = &k.c;
        c->kh = c->kw = 3, c->sh = c->sw = 1, c->dh = c->dw = 1;
        c->ih = rnd(&g, 1, 15), c->iw = rnd(&g, 1, 15);
        c->pad_t = rnd(&g, 0, 2), k.pad_b = rnd(&g, 0, 2);
        c->pad_l = rnd(&g, 0, 2), k.pad_r = rnd(&g, 0, 2);
        c->oh = c->ih + c->pad_t + k.pad_b - 2, c->ow = c->iw + c->pad_l + k.pad_r - 2;
        if (c->oh < 1 || c->ow < 1) {
            i--;
            continue;
        }
        c->algo = i % 5 == 4 ? RN_CONV_AUTO
                  : i % 2    ? RN_CONV_WINOGRAD
                             : RN_CONV_WINOGRAD4;
        k.no_scratch = i % 7 == 3;
        bad += check_case(&g, &k, run);
    }
    return bad;
}

/* A random depthwise conv (kernel 1-5, stride 1-3, dilation 1-2, any
 * padding, 1-40 channels, multiplier 1-3, gaps between pixels, bias or
 * not, every activation) through `run` in three pieces of rows, against
 * the definition in double; returns the wrong floats. wide: 3, 5 or 7
 * square, stride 1 or 2, up to 40x40 of 17-330 channels (rn_dw.h's
 * sliding blocks in both orders: blocks whose rows fit in L1, blocks
 * whose rows pass it over several row bands). */
static int check_dw(rn_rng *g, DwRunFn *run, int wide) {
    rn_dw d;
    int pad_b, pad_r;
    for (;;) {
        d.kh = rnd(g, 1, 5), d.kw = rnd(g, 1, 5), d.sh = rnd(g, 1, 3), d.sw = rnd(g, 1, 3);
        d.dh = rnd(g, 1, 2), d.dw = rnd(g, 1, 2);
        d.ih = rnd(g, 1, 17), d.iw = rnd(g, 1, 17);
        if (wide) { /* rn_dw.h's sliding blocks over row bands */
            d.kh = d.kw = 2 * rnd(g, 1, 3) + 1, d.sh = d.sw = rnd(g, 1, 2);
            d.dh = d.dw = 1, d.ih = rnd(g, 1, 40), d.iw = rnd(g, 1, 40);
        }
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
    if (wide) { /* some blocks of all channels fit in L1, some not; 256
                 * channels, pixels 1 KiB apart (no gap): pixels outermost */
        int r = rnd(g, 1, 4);
        d.c = r == 1 ? rnd(g, 150, 330) : r == 2 ? 16 * rnd(g, 10, 20)
            : r == 3 ? rnd(g, 17, 120) : 256;
        d.mult = 1;
    }
    int cout = d.c * d.mult;
    d.ldi = d.c + rnd(g, 0, 1) * rnd(g, 1, 3);
    d.ldo = cout + rnd(g, 0, 1) * rnd(g, 1, 3);
    d.act = ACTS[rnd(g, 0, NACTS - 1)];
    long nin = (long)d.ih * d.iw * d.ldi, nout = (long)d.oh * d.ow * d.ldo;
    long nw = (long)d.kh * d.kw * cout;
    float *in = rand_buf(g, nin), *w = rand_buf(g, nw), *bias = rand_buf(g, cout);
    float *out = rand_buf(g, nout);
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
                s = act_ref(s, d.act);
                if (!(fabs(got - s) <= 1e-6 * mag + 1e-7)) {
                    if (bad < 3)
                        fprintf(stderr, "\ndepthwise %dx%dx%d*%d k%dx%d s%d,%d d%d,%d "
                                "act %d: (%d, %d, %d) got %g want %g\n", d.ih, d.iw,
                                d.c, d.mult, d.kh, d.kw, d.sh, d.sw, d.dh, d.dw, d.act,
                                oy, ox, o, got, s);
                    bad++;
                }
            }
    free(in), free(w), free(bias), free(out);
    return bad;
}

int conv_check_dw(DwRunFn *run, unsigned long long seed, int cases) {
    rn_rng g;
    rn_rng_seed(&g, seed);
    int bad = 0;
    for (int i = 0; i < cases; i++) bad += check_dw(&g, run, i % 8 == 7);
    return bad;
}
