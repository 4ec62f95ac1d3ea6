/* rn_elem.h: the elementwise passes of a network on the vector lanes of
 * rn_simd.h: activations (sigmoid, swish, hard swish and the rest of the
 * epilogue's set), batch norm as a per-channel scale and shift (and an
 * activation after it), the broadcasting merges (squeeze-excite's channel
 * scale, residual adds), pooling windows and global pooling, and the
 * matrix-vector product of
 * a dense layer or of a 1x1 convolution on one pixel.
 *
 * These loops are bound by memory, not by arithmetic, so each is one pass
 * that reads its inputs once: four vectors a step where the lanes are
 * independent, the sums of global pooling on registers across all pixels.
 * The activations use rn_simd.h's rn_v_act (a polynomial exp for
 * sigmoid and swish: about a float's precision); the lanes left at the
 * end of a row take the plain C definitions (rn_act1). Where the target
 * has no vectors, everything is plain C.
 *
 * Entry points: rn_ew_act, rn_ew_hard_sigmoid, rn_ew_scale_shift,
 * rn_ew_binary, rn_ew_channel_op, rn_ew_pool, rn_ew_global_pool,
 * rn_ew_gemv. Static
 * inline functions of their arguments only; nothing is allocated. */
#ifndef RN_ELEM_H
#define RN_ELEM_H

#include "rn_simd.h"

/* The binary ops of the merges: rnrt.h's RN_MERGE_* (ADD, SUB, MUL, MAX,
 * MIN), the same values. */
RN_INLINE float rn_s_binop(float p, float q, const int op) {
    switch (op) {
    case RN_MERGE_ADD: return p + q;
    case RN_MERGE_SUB: return p - q;
    case RN_MERGE_MUL: return p * q;
    case RN_MERGE_MAX: return p > q ? p : q;
    default: return p < q ? p : q;
    }
}

#if RN_VL > 1
RN_INLINE rn_v rn_v_binop(rn_v p, rn_v q, const int op) {
    switch (op) {
    case RN_MERGE_ADD: return rn_v_add(p, q);
    case RN_MERGE_SUB: return rn_v_sub(p, q);
    case RN_MERGE_MUL: return rn_v_mul(p, q);
    case RN_MERGE_MAX: return rn_v_max(p, q);
    default: return rn_v_min(p, q);
    }
}
#endif

/* ---------------------------------------------------------- activations */

/* out[i] = act(in[i]) for i < n (in == out allowed), act an RN_ACT_*
 * constant. */
RN_INLINE void rn_ew_act_k(const float *in, float *out, rn_i64 n, const int act) {
    rn_i64 i = 0;
#if RN_VL > 1
    for (; i + 4 * RN_VL <= n; i += 4 * RN_VL) {
        rn_v a = rn_v_load(in + i), b = rn_v_load(in + i + RN_VL);
        rn_v c = rn_v_load(in + i + 2 * RN_VL), d = rn_v_load(in + i + 3 * RN_VL);
        rn_v_store(out + i, rn_v_act(a, act));
        rn_v_store(out + i + RN_VL, rn_v_act(b, act));
        rn_v_store(out + i + 2 * RN_VL, rn_v_act(c, act));
        rn_v_store(out + i + 3 * RN_VL, rn_v_act(d, act));
    }
    for (; i + RN_VL <= n; i += RN_VL) rn_v_store(out + i, rn_v_act(rn_v_load(in + i), act));
#endif
    for (; i < n; i++) out[i] = rn_act1(in[i], act);
}

RN_NOINLINE void rn_ew_act(int act, const float *in, float *out, rn_i64 n) {
    RN_ACT_SWITCH(act, rn_ew_act_k, in, out, n)
}

/* out = min(max(alpha x + beta, 0), 1): Keras's hard sigmoid (0.2, 0.5)
 * and PyTorch's (1/6, 0.5). */
RN_FN void rn_ew_hard_sigmoid(const float *in, float *out, rn_i64 n,
                              float alpha, float beta) {
    rn_i64 i = 0;
#if RN_VL > 1
    rn_v va = rn_v_set1(alpha), vb = rn_v_set1(beta), z = rn_v_zero(), one = rn_v_set1(1.0f);
    for (; i + RN_VL <= n; i += RN_VL)
        rn_v_store(out + i, rn_v_min(rn_v_max(rn_v_fma(va, rn_v_load(in + i), vb), z), one));
#endif
    for (; i < n; i++) {
        float v = alpha * in[i] + beta;
        out[i] = v > 0 ? (v < 1 ? v : 1.0f) : 0.0f;
    }
}

/* --------------------------------------------------------- per channel */

/* out[p][ch] = act(in[p][ch] * scale[ch] + shift[ch]) over npix pixels of
 * c channels, in == out allowed; shift may be NULL (0). A batch norm
 * (and the activation after it). */
RN_INLINE void rn_ew_scale_shift_k(const float *in, float *out, rn_i64 npix,
                                   int c, const float *scale, const float *shift,
                                   const int act) {
    for (rn_i64 p = 0; p < npix; p++) {
        const float *x = in + p * c;
        float *y = out + p * c;
        int ch = 0;
#if RN_VL > 1
        for (; ch + RN_VL <= c; ch += RN_VL) {
            rn_v b = shift ? rn_v_load(shift + ch) : rn_v_zero();
            rn_v v = rn_v_fma(rn_v_load(x + ch), rn_v_load(scale + ch), b);
            rn_v_store(y + ch, rn_v_act(v, act));
        }
#endif
        for (; ch < c; ch++)
            y[ch] = rn_act1(x[ch] * scale[ch] + (shift ? shift[ch] : 0.0f), act);
    }
}

RN_NOINLINE void rn_ew_scale_shift(const float *in, float *out, rn_i64 npix, int c,
                                   const float *scale, const float *shift, int act) {
    RN_ACT_SWITCH(act, rn_ew_scale_shift_k, in, out, npix, c, scale, shift)
}

/* -------------------------------------------------------------- merges */

/* out[i] = a[i] OP b[i] for i < n, where a (as) or b (bs) may be one
 * value broadcast: OP an RN_MERGE_* constant. */
RN_INLINE void rn_ew_binary_k(const float *a, int as, const float *b, int bs,
                              float *out, rn_i64 n, const int op) {
    rn_i64 i = 0;
#if RN_VL > 1
    rn_v pa = rn_v_set1(a[0]), pb = rn_v_set1(b[0]);
    if (!as && !bs)
        for (; i + 2 * RN_VL <= n; i += 2 * RN_VL) {
            rn_v_store(out + i, rn_v_binop(rn_v_load(a + i), rn_v_load(b + i), op));
            rn_v_store(out + i + RN_VL,
                       rn_v_binop(rn_v_load(a + i + RN_VL), rn_v_load(b + i + RN_VL), op));
        }
    for (; i + RN_VL <= n; i += RN_VL)
        rn_v_store(out + i, rn_v_binop(as ? pa : rn_v_load(a + i),
                                       bs ? pb : rn_v_load(b + i), op));
#endif
    for (; i < n; i++) out[i] = rn_s_binop(a[as ? 0 : i], b[bs ? 0 : i], op);
}

RN_NOINLINE void rn_ew_binary(int op, const float *a, int as, const float *b,
                              int bs, float *out, rn_i64 n) {
    switch (op) {
    case RN_MERGE_ADD: rn_ew_binary_k(a, as, b, bs, out, n, RN_MERGE_ADD); break;
    case RN_MERGE_SUB: rn_ew_binary_k(a, as, b, bs, out, n, RN_MERGE_SUB); break;
    case RN_MERGE_MUL: rn_ew_binary_k(a, as, b, bs, out, n, RN_MERGE_MUL); break;
    case RN_MERGE_MAX: rn_ew_binary_k(a, as, b, bs, out, n, RN_MERGE_MAX); break;
    default: rn_ew_binary_k(a, as, b, bs, out, n, RN_MERGE_MIN); break;
    }
}

/* out[p][ch] = x[p][ch] OP v[ch] (v_first: v[ch] OP x[p][ch]) over npix
 * pixels of c channels: an image against one pixel of channels, as
 * squeeze-excite scales its input (OP an RN_MERGE_* constant). out may be
 * x. */
RN_INLINE void rn_ew_channel_op_k(const float *x, const float *v, int v_first,
                                  float *out, rn_i64 npix, int c, const int op) {
    for (rn_i64 p = 0; p < npix; p++) {
        const float *xp = x + p * c;
        float *y = out + p * c;
        int ch = 0;
#if RN_VL > 1
        for (; ch + RN_VL <= c; ch += RN_VL) {
            rn_v xv = rn_v_load(xp + ch), vv = rn_v_load(v + ch);
            rn_v_store(y + ch, v_first ? rn_v_binop(vv, xv, op) : rn_v_binop(xv, vv, op));
        }
#endif
        for (; ch < c; ch++)
            y[ch] = v_first ? rn_s_binop(v[ch], xp[ch], op) : rn_s_binop(xp[ch], v[ch], op);
    }
}

RN_NOINLINE void rn_ew_channel_op(int op, const float *x, const float *v,
                                  int v_first, float *out, rn_i64 npix, int c) {
    switch (op) {
    case RN_MERGE_ADD: rn_ew_channel_op_k(x, v, v_first, out, npix, c, RN_MERGE_ADD); break;
    case RN_MERGE_SUB: rn_ew_channel_op_k(x, v, v_first, out, npix, c, RN_MERGE_SUB); break;
    case RN_MERGE_MUL: rn_ew_channel_op_k(x, v, v_first, out, npix, c, RN_MERGE_MUL); break;
    case RN_MERGE_MAX: rn_ew_channel_op_k(x, v, v_first, out, npix, c, RN_MERGE_MAX); break;
    default: rn_ew_channel_op_k(x, v, v_first, out, npix, c, RN_MERGE_MIN); break;
    }
}

/* ------------------------------------------------------------- pooling */

/* The kernel rows [k0, k1) of a window starting at input position i0
 * (step `dil`) that fall inside [0, n); and how many positions divide a
 * mean: those rows, or with `with_pad` the rows inside [-lo, n + hi). */
RN_INLINE int rn_pool_span(int i0, int k, int dil, int n, int lo, int hi,
                           int with_pad, int *k0, int *k1) {
    int a = 0, b = k, count = 0;
    while (a < b && i0 + a * dil < 0) a++;
    while (b > a && i0 + (b - 1) * dil >= n) b--;
    *k0 = a, *k1 = b;
    if (!with_pad) return b - a;
    for (int t = 0; t < k; t++) {
        int i = i0 + t * dil;
        count += i >= -lo && i < n + hi;
    }
    return count;
}

/* One output pixel of a pooling window: ny x nx taps, rows sy and
 * columns sx floats apart from x, c channels into y; the mean scaled by
 * `scale` (0: no division). Four vectors of channels at a time on
 * registers, then one, then single channels. */
RN_INLINE void rn_ew_pool_pixel(int is_max, const float *x, int ny, int nx,
                                rn_i64 sy, rn_i64 sx, int c, float scale,
                                float *y) {
    const float empty = is_max ? -3.402823466e+38f : 0.0f;
    int ch = 0;
#if RN_VL > 1
    for (; ch + 4 * RN_VL <= c; ch += 4 * RN_VL) {
        rn_v a0 = rn_v_set1(empty), a1 = a0, a2 = a0, a3 = a0;
        for (int ky = 0; ky < ny; ky++)
            for (int kx = 0; kx < nx; kx++) {
                const float *p = x + ky * sy + kx * sx + ch;
                rn_v b0 = rn_v_load(p), b1 = rn_v_load(p + RN_VL);
                rn_v b2 = rn_v_load(p + 2 * RN_VL), b3 = rn_v_load(p + 3 * RN_VL);
                a0 = is_max ? rn_v_max(a0, b0) : rn_v_add(a0, b0);
                a1 = is_max ? rn_v_max(a1, b1) : rn_v_add(a1, b1);
                a2 = is_max ? rn_v_max(a2, b2) : rn_v_add(a2, b2);
                a3 = is_max ? rn_v_max(a3, b3) : rn_v_add(a3, b3);
            }
        if (scale != 0.0f) {
            rn_v s = rn_v_set1(scale);
            a0 = rn_v_mul(a0, s), a1 = rn_v_mul(a1, s);
            a2 = rn_v_mul(a2, s), a3 = rn_v_mul(a3, s);
        }
        rn_v_store(y + ch, a0), rn_v_store(y + ch + RN_VL, a1);
        rn_v_store(y + ch + 2 * RN_VL, a2), rn_v_store(y + ch + 3 * RN_VL, a3);
    }
    for (; ch + RN_VL <= c; ch += RN_VL) {
        rn_v a = rn_v_set1(empty);
        for (int ky = 0; ky < ny; ky++)
            for (int kx = 0; kx < nx; kx++) {
                rn_v b = rn_v_load(x + ky * sy + kx * sx + ch);
                a = is_max ? rn_v_max(a, b) : rn_v_add(a, b);
            }
        rn_v_store(y + ch, scale != 0.0f ? rn_v_mul(a, rn_v_set1(scale)) : a);
    }
#endif
    for (; ch < c; ch++) {
        float a = empty;
        for (int ky = 0; ky < ny; ky++)
            for (int kx = 0; kx < nx; kx++) {
                float b = x[ky * sy + kx * sx + ch];
                a = is_max ? (b > a ? b : a) : a + b;
            }
        y[ch] = scale != 0.0f ? a * scale : a;
    }
}

/* A pooling window layer (rnrt.h's rn_window), output rows [y0, y1). */
RN_FN void rn_ew_pool(const rn_window *d, const float *in, float *out, int y0,
                      int y1) {
    const int is_max = d->op == RN_POOL_MAX, with_pad = d->op == RN_POOL_AVG_PAD;
    const rn_i64 sy = (rn_i64)d->dh * d->iw * d->ldi, sx = (rn_i64)d->dw * d->ldi;
    for (int oy = y0; oy < y1; oy++) {
        int iy0 = oy * d->sh - d->pad_t, ky0, ky1;
        int cy = rn_pool_span(iy0, d->kh, d->dh, d->ih, d->pad_t, d->pad_b, with_pad,
                              &ky0, &ky1);
        float *yr = out + (rn_i64)oy * d->ow * d->ldo;
        for (int ox = 0; ox < d->ow; ox++) {
            int ix0 = ox * d->sw - d->pad_l, kx0, kx1;
            int cx = rn_pool_span(ix0, d->kw, d->dw, d->iw, d->pad_l, d->pad_r,
                                  with_pad, &kx0, &kx1);
            float scale = !is_max && cy * cx > 0 ? 1.0f / (float)(cy * cx) : 0.0f;
            const float *x = ky1 > ky0 && kx1 > kx0
                                 ? in + ((rn_i64)(iy0 + ky0 * d->dh) * d->iw + ix0 +
                                         kx0 * d->dw) * d->ldi
                                 : in; /* no tap: not read */
            rn_ew_pool_pixel(is_max, x, ky1 - ky0, kx1 - kx0, sy, sx, d->c, scale,
                             yr + (rn_i64)ox * d->ldo);
        }
    }
}

/* out[ch] = the mean (is_max: the max) of in[p][ch] over npix >= 1
 * pixels of c channels: four vectors of channels at a time, their sums on
 * registers across all the pixels. */
RN_FN void rn_ew_global_pool(int is_max, const float *in, float *out,
                             rn_i64 npix, int c) {
    int ch = 0;
    float inv = (float)(1.0 / (double)npix);
#if RN_VL > 1
    rn_v vinv = rn_v_set1(inv);
    for (; ch + 4 * RN_VL <= c; ch += 4 * RN_VL) {
        const float *x = in + ch;
        rn_v s0 = rn_v_load(x), s1 = rn_v_load(x + RN_VL);
        rn_v s2 = rn_v_load(x + 2 * RN_VL), s3 = rn_v_load(x + 3 * RN_VL);
        for (rn_i64 p = 1; p < npix; p++) {
            x += c;
            rn_v x0 = rn_v_load(x), x1 = rn_v_load(x + RN_VL);
            rn_v x2 = rn_v_load(x + 2 * RN_VL), x3 = rn_v_load(x + 3 * RN_VL);
            if (is_max) {
                s0 = rn_v_max(s0, x0), s1 = rn_v_max(s1, x1);
                s2 = rn_v_max(s2, x2), s3 = rn_v_max(s3, x3);
            } else {
                s0 = rn_v_add(s0, x0), s1 = rn_v_add(s1, x1);
                s2 = rn_v_add(s2, x2), s3 = rn_v_add(s3, x3);
            }
        }
        if (!is_max) {
            s0 = rn_v_mul(s0, vinv), s1 = rn_v_mul(s1, vinv);
            s2 = rn_v_mul(s2, vinv), s3 = rn_v_mul(s3, vinv);
        }
        rn_v_store(out + ch, s0), rn_v_store(out + ch + RN_VL, s1);
        rn_v_store(out + ch + 2 * RN_VL, s2), rn_v_store(out + ch + 3 * RN_VL, s3);
    }
    for (; ch + RN_VL <= c; ch += RN_VL) {
        const float *x = in + ch;
        rn_v s = rn_v_load(x);
        for (rn_i64 p = 1; p < npix; p++) {
            x += c;
            s = is_max ? rn_v_max(s, rn_v_load(x)) : rn_v_add(s, rn_v_load(x));
        }
        rn_v_store(out + ch, is_max ? s : rn_v_mul(s, vinv));
    }
#endif
    for (; ch < c; ch++) {
        float s = in[ch];
        for (rn_i64 p = 1; p < npix; p++) {
            float x = in[p * c + ch];
            s = is_max ? (x > s ? x : s) : s + x;
        }
        out[ch] = is_max ? s : s * inv;
    }
}

/* ---------------------------------------------------- matrix x vector */

/* y[o] += sum_i x[i] w[i * ldw + o] for o < n, i < k: one pixel through a
 * dense layer's kernel ([k][ldw], rows contiguous). The rows stream in
 * order, four at a time: each row is read once, and y (n floats, in L1)
 * is read and written once per four rows. Reading the kernel column by
 * column instead would step a page every row. */
RN_FN void rn_ew_gemv(int k, int n, const float *x, const float *w,
                      rn_i64 ldw, float *y) {
    int i = 0;
    for (; i + 4 <= k; i += 4) {
        const float *w0 = w + i * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        float x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
        int o = 0;
#if RN_VL > 1
        rn_v v0 = rn_v_set1(x0), v1 = rn_v_set1(x1), v2 = rn_v_set1(x2), v3 = rn_v_set1(x3);
        for (; o + RN_VL <= n; o += RN_VL) {
            rn_v s = rn_v_fma(v0, rn_v_load(w0 + o), rn_v_load(y + o));
            rn_v t = rn_v_mul(v1, rn_v_load(w1 + o));
            s = rn_v_fma(v2, rn_v_load(w2 + o), s);
            t = rn_v_fma(v3, rn_v_load(w3 + o), t);
            rn_v_store(y + o, rn_v_add(s, t));
        }
#endif
        for (; o < n; o++)
            y[o] += x0 * w0[o] + x1 * w1[o] + x2 * w2[o] + x3 * w3[o];
    }
    for (; i < k; i++) {
        const float *wr = w + i * ldw;
        float xi = x[i];
        for (int o = 0; o < n; o++) y[o] += xi * wr[o];
    }
}

#endif
