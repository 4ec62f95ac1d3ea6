/* kernel_const.c: the kernel headers (runtime/kernel/) used the way a
 * standalone model will use them: included in one file, every descriptor
 * a static const literal (so the compiler may specialize the kernels), and
 * nothing from librnrt (this links with libm alone). Each layer's output
 * is compared with a naive float64 loop written here. tests/e2e/cross.sh
 * builds it with gcc and clang under -Werror for x86-64 (plain C, and
 * AVX2 + FMA) and for aarch64 (NEON, run under qemu). Prints one line;
 * exit 1 on a wrong value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel/rn_direct.h"
#include "kernel/rn_dw.h"
#include "kernel/rn_elem.h"
#include "kernel/rn_wino.h"
#include "../unit/act_ref.h"

/* direct 3x3 stride 2; Winograd F(4x4) and F(2x2); a 1x1 with a ragged
 * channel block and a residual */
static const rn_conv L1 = {.ih = 9, .iw = 11, .cin = 20, .oh = 5, .ow = 6, .cout = 40,
                           .kh = 3, .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1,
                           .pad_t = 1, .pad_l = 1, .ldi = 20, .ldo = 40,
                           .act = RN_ACT_RELU};
static const rn_conv L2 = {.ih = 12, .iw = 12, .cin = 32, .oh = 12, .ow = 12, .cout = 48,
                           .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                           .pad_t = 1, .pad_l = 1, .ldi = 32, .ldo = 48,
                           .act = RN_ACT_SWISH};
static const rn_conv L3 = {.ih = 10, .iw = 9, .cin = 24, .oh = 10, .ow = 9, .cout = 16,
                           .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                           .pad_t = 1, .pad_l = 1, .ldi = 24, .ldo = 16,
                           .act = RN_ACT_HARD_SWISH};
static const rn_conv L4 = {.ih = 8, .iw = 8, .cin = 64, .oh = 8, .ow = 8, .cout = 35,
                           .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                           .pad_t = 0, .pad_l = 0, .ldi = 64, .ldo = 35,
                           .act = RN_ACT_RELU6};
/* squeeze-excite's second 1x1 on one pixel: a ragged pair of blocks */
static const rn_conv L5 = {.ih = 1, .iw = 1, .cin = 24, .oh = 1, .ow = 1, .cout = 20,
                           .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                           .pad_t = 0, .pad_l = 0, .ldi = 24, .ldo = 20,
                           .act = RN_ACT_SIGMOID};
/* depthwise 3x3 at stride 1 and 2 */
static const rn_dw D1 = {.ih = 14, .iw = 21, .c = 24, .oh = 14, .ow = 21, .mult = 1,
                         .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                         .pad_t = 1, .pad_l = 1, .ldi = 24, .ldo = 24,
                         .act = RN_ACT_RELU6};
static const rn_dw D2 = {.ih = 13, .iw = 19, .c = 40, .oh = 6, .ow = 9, .mult = 1,
                         .kh = 3, .kw = 3, .sh = 2, .sw = 2, .dh = 1, .dw = 1,
                         .pad_t = 0, .pad_l = 0, .ldi = 40, .ldo = 40,
                         .act = RN_ACT_SWISH};
/* depthwise 5x5 at stride 1 and 7x7 at stride 2 (the sliding blocks of
 * wider kernels, the borders in the blocks, padding at every side) */
static const rn_dw D3 = {.ih = 14, .iw = 14, .c = 36, .oh = 14, .ow = 14, .mult = 1,
                         .kh = 5, .kw = 5, .sh = 1, .sw = 1, .dh = 1, .dw = 1,
                         .pad_t = 2, .pad_l = 2, .ldi = 36, .ldo = 36,
                         .act = RN_ACT_HARD_SWISH};
static const rn_dw D4 = {.ih = 17, .iw = 23, .c = 20, .oh = 8, .ow = 11, .mult = 1,
                         .kh = 7, .kw = 7, .sh = 2, .sw = 2, .dh = 1, .dw = 1,
                         .pad_t = 1, .pad_l = 3, .ldi = 21, .ldo = 20,
                         .act = RN_ACT_SIGMOID};

static unsigned long long state = 1;

static float *rand_buf(long n) {
    float *b = malloc((size_t)(n > 0 ? n : 1) * sizeof *b);
    if (!b) {
        fprintf(stderr, "kernel_const: out of memory\n");
        exit(2);
    }
    for (long i = 0; i < n; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        b[i] = (float)((state >> 40) / 16777216.0 * 2 - 1);
    }
    return b;
}


/* Wrong values of out against the definition: a convolution (c) or a
 * depthwise one (d) of in with the Keras kernel k, bias b, residual res. */
static int compare(const rn_conv *c, const rn_dw *d, const float *in,
                   const float *k, const float *b, const float *res,
                   const float *out) {
    int oh = c ? c->oh : d->oh, ow = c ? c->ow : d->ow, bad = 0;
    int cout = c ? c->cout : d->c, cin = c ? c->cin : 1, kw = c ? c->kw : d->kw;
    int kh = c ? c->kh : d->kh, sh = c ? c->sh : d->sh, sw = c ? c->sw : d->sw;
    int pt = c ? c->pad_t : d->pad_t, pl = c ? c->pad_l : d->pad_l;
    int ih = c ? c->ih : d->ih, iw = c ? c->iw : d->iw, ldi = c ? c->ldi : d->ldi;
    int ldo = c ? c->ldo : d->ldo, act = c ? c->act : d->act;
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
            for (int o = 0; o < cout; o++) {
                long p = (long)oy * ow + ox;
                double s = b[o], m = fabs(b[o]);
                if (res) s += res[p * ldo + o], m += fabs(res[p * ldo + o]);
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++) {
                        int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
                        if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                        for (int ci = 0; ci < cin; ci++) {
                            const float *x = in + ((long)iy * iw + ix) * ldi;
                            double t = c ? (double)x[ci] * k[(((long)ky * kw + kx) * cin + ci) * cout + o]
                                         : (double)x[o] * k[((long)ky * kw + kx) * cout + o];
                            s += t, m += fabs(t);
                        }
                    }
                double want = act_ref(s, act), got = out[p * ldo + o];
                if (!(fabs(got - want) <= 1e-5 * m + 1e-6)) {
                    if (bad < 3)
                        fprintf(stderr, "kernel_const: %s layer %dx%dx%d: (%d, %d, %d) "
                                "got %g want %g\n", c ? "conv" : "depthwise", oh, ow,
                                cout, oy, ox, o, got, want);
                    bad++;
                }
            }
    return bad;
}

/* One convolution, direct (m = 0) or Winograd F(m x m), with a bias and
 * (res) a residual. */
static int conv(const rn_conv *c, int m, int res) {
    float *in = rand_buf((long)c->ih * c->iw * c->ldi);
    float *k = rand_buf((long)c->kh * c->kw * c->cin * c->cout), *b = rand_buf(c->cout);
    float *r = rand_buf((long)c->oh * c->ow * c->ldo), *out = rand_buf((long)c->oh * c->ow * c->ldo);
    float *packed = rand_buf(m ? rn_wg_packed_floats(c, m) : rn_dc_packed_floats(c));
    float *scratch = rand_buf(m ? rn_wg_scratch_floats(c, m) : 1);
    if (m) {
        rn_wg_pack(c, m, k, c->cout, NULL, packed);
        rn_wg_run(c, m, in, packed, b, res ? r : NULL, out, 0, rn_wg_tiles(c, m), scratch);
    } else {
        rn_dc_pack(c, k, c->cout, NULL, packed);
        rn_dc_run(c, in, packed, b, res ? r : NULL, out, 0, rn_dc_tiles(c));
    }
    int bad = compare(c, NULL, in, k, b, res ? r : NULL, out);
    free(in), free(k), free(b), free(r), free(out), free(packed), free(scratch);
    return bad;
}

static int depthwise(const rn_dw *d) {
    float *in = rand_buf((long)d->ih * d->iw * d->ldi), *k = rand_buf((long)d->kh * d->kw * d->c);
    float *b = rand_buf(d->c), *out = rand_buf((long)d->oh * d->ow * d->ldo);
    rn_dwk_run(d, in, k, b, out, 0, d->oh);
    int bad = compare(NULL, d, in, k, b, NULL, out);
    free(in), free(k), free(b), free(out);
    return bad;
}

/* Swish over 7 x 37 values, then their global average pool. */
static int elementwise(void) {
    enum { NPIX = 7, C = 37 };
    float *x = rand_buf(NPIX * C), y[NPIX * C], pool[C];
    int bad = 0;
    rn_ew_act(RN_ACT_SWISH, x, y, NPIX * C);
    rn_ew_global_pool(0, y, pool, NPIX, C);
    for (int ch = 0; ch < C; ch++) {
        double s = 0;
        for (int p = 0; p < NPIX; p++) s += act_ref(x[p * C + ch], RN_ACT_SWISH);
        if (!(fabs(pool[ch] - s / NPIX) <= 1e-6)) {
            if (bad < 3)
                fprintf(stderr, "kernel_const: swish + pool: %d got %g want %g\n", ch,
                        pool[ch], s / NPIX);
            bad++;
        }
    }
    free(x);
    return bad;
}

int main(void) {
    int bad = conv(&L1, 0, 0) + conv(&L2, 4, 1) + conv(&L3, 2, 0) + conv(&L4, 0, 1) +
              conv(&L5, 0, 0) + depthwise(&D1) + depthwise(&D2) +
              depthwise(&D3) + depthwise(&D4) + elementwise();
    printf("kernel_const (%d lanes): 5 convolutions, 4 depthwise, elementwise, "
           "%d wrong values\n", RN_VL, bad);
    return bad ? 1 : 0;
}
