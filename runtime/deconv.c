/* deconv.c: 2-D transposed convolution (Keras's Conv2DTranspose, PyTorch's
 * ConvTranspose2d), NHWC.
 *
 * Input pixel (iy, ix) under tap (ky, kx) adds into output pixel
 * (iy*sh + ky*dh - pad_t, ix*sw + kx*dw - pad_l). Run as a gather over
 * output rows (so rows split over threads with no write shared): for an
 * output row and a tap row, the input row is fixed (or there is none);
 * for a tap column, the output columns that receive it step by sw and
 * their input columns by 1. Each (row, tap) is then one call of the
 * dense tap kernel (kernels.c) over those pixels, with the weights packed
 * at load from Keras's [kh][kw][cout][cin] to [kh][kw][cin][cout] so that
 * output channels are contiguous.
 *
 * No state, nothing allocated. */
#include "rnrt.h"

#include <string.h>

void rn_deconv_pack(const rn_deconv *d, const float *kernel, float *packed) {
    for (int t = 0; t < d->kh * d->kw; t++) {
        const float *k = kernel + (long)t * d->cout * d->cin;
        float *p = packed + (long)t * d->cin * d->cout;
        for (int o = 0; o < d->cout; o++)
            for (int i = 0; i < d->cin; i++) p[(long)i * d->cout + o] = k[(long)o * d->cin + i];
    }
}

/* The output columns of tap column kx: the first ox >= 0 whose input
 * column ix0 = (ox + pad_l - kx*dw) / sw is a whole number >= 0, and how
 * many follow (every sw-th column, while ox < ow and ix < iw). */
static int tap_columns(const rn_deconv *d, int kx, int *ox0, int *ix0) {
    long base = (long)d->pad_l - (long)kx * d->dw; /* ox + base = ix * sw */
    long ox = base < 0 ? -base : 0;
    long r = (ox + base) % d->sw;
    if (r) ox += d->sw - r;
    if (ox >= d->ow) return 0;
    long ix = (ox + base) / d->sw;
    if (ix >= d->iw) return 0;
    long n = (d->ow - ox + d->sw - 1) / d->sw;
    if (n > d->iw - ix) n = d->iw - ix;
    *ox0 = (int)ox;
    *ix0 = (int)ix;
    return (int)n;
}

void rn_deconv_run(const rn_deconv *d, const float *in, const float *packed,
                   const float *bias, float *out, int y0, int y1) {
    for (int oy = y0; oy < y1; oy++) {
        float *row = out + (long)oy * d->ow * d->cout;
        rn_k_fill_bias(d->ow, d->cout, bias, row, d->cout);
        for (int ky = 0; ky < d->kh; ky++) {
            long num = (long)oy + d->pad_t - (long)ky * d->dh; /* iy * sh */
            if (num < 0 || num % d->sh) continue;
            long iy = num / d->sh;
            if (iy >= d->ih) continue;
            for (int kx = 0; kx < d->kw; kx++) {
                int ox0, ix0, n = tap_columns(d, kx, &ox0, &ix0);
                if (n <= 0) continue;
                rn_k_conv_tap(n, d->cin, d->cout,
                              in + (iy * d->iw + ix0) * d->cin, d->cin,
                              packed + ((long)ky * d->kw + kx) * d->cin * d->cout,
                              d->cout, row + (long)ox0 * d->cout,
                              d->sw * d->cout);
            }
        }
    }
}
