/* rn_simd.h: the vector lanes the convolution kernels (runtime/kernel/)
 * are written in, chosen when the file is compiled, from the target's
 * macros:
 *
 *   AVX-512      __AVX512F__ and __FMA__ (-mavx512f -mfma, -march=native
 *                on a CPU that has it), unless RN_NO_AVX512     16 lanes
 *   AVX2 + FMA   __AVX2__ and __FMA__ (-mavx2 -mfma, -march=native)  8 lanes
 *   NEON         __aarch64__ and __ARM_NEON                           4 lanes
 *   none         any other target, or RN_NO_SIMD defined: RN_VL is 1 and
 *                the kernels take their plain C paths
 *
 * The runtime library builds its kernels three times on x86-64: as they
 * are, with -mavx2 -mfma and with -mavx512f, and picks one at run time
 * (internal.h); generated
 * code includes these headers and gets the target's lanes once, when it
 * is compiled. Everything here is a macro or a static inline function:
 * no state, no allocation, nothing to link.
 *
 * rn_v is one vector of RN_VL floats; the rn_v_* functions are the few
 * operations the kernels use (rn_v_load_m and rn_v_store_m: the first
 * lanes only, for the channels past a row's last whole vector). rn_s_* are the same operations on one float,
 * so that a transform written once over "P##_op" runs on both (rn_wino.h).
 * rn_act1 and rn_v_act are the activations an epilogue applies on
 * registers (RN_ACT_* of rnrt.h). */
#ifndef RN_SIMD_H
#define RN_SIMD_H

#include <math.h>
#include <stdint.h>

#include "rnrt.h" /* rn_i64 and the RN_ACT_* codes */

/* RN_FN: a kernel function, static inline; like the others here, no
 * warning where a file leaves it unused (a standalone model pastes these
 * headers' text into its .c file, where clang warns of unused static
 * inline functions). */
#if defined(__GNUC__)
#define RN_MAYBE_UNUSED __attribute__((unused))
#define RN_FN static inline __attribute__((unused))
#define RN_INLINE static inline __attribute__((always_inline, unused))
/* a function of its own, kept out of line (and no warning where unused) */
#define RN_NOINLINE static __attribute__((noinline, unused))
/* An address maybe past the end of an array: prefetches never fault, and
 * the sum is taken as an integer so that no pointer leaves its object. */
#define RN_PREFETCH(p, bytes) \
    __builtin_prefetch((const void *)((uintptr_t)(p) + (bytes)))
/* the same, for a line about to be written */
#define RN_PREFETCHW(p) __builtin_prefetch((const void *)(uintptr_t)(p), 1)
#else
#define RN_MAYBE_UNUSED
#define RN_FN static inline
#define RN_INLINE static inline
#define RN_NOINLINE static
#define RN_PREFETCH(p, bytes) ((void)(p))
#define RN_PREFETCHW(p) ((void)(p))
#endif

RN_FN int rn_ceil_div(rn_i64 a, rn_i64 b) { return (int)((a + b - 1) / b); }

/* ------------------------------------------------------ one float, C */

RN_INLINE float rn_s_load(const float *p) { return *p; }
RN_INLINE void rn_s_store(float *p, float v) { *p = v; }
RN_INLINE float rn_s_set1(float v) { return v; }
RN_INLINE float rn_s_add(float a, float b) { return a + b; }
RN_INLINE float rn_s_sub(float a, float b) { return a - b; }
RN_INLINE float rn_s_mul(float a, float b) { return a * b; }
/* a * b + c, rounded twice: fmaf may be a slow library call */
RN_INLINE float rn_s_fma(float a, float b, float c) { return a * b + c; }

/* The epilogue's activation of one value. */
RN_INLINE float rn_act1(float v, int act) {
    switch (act) {
    case RN_ACT_RELU: return v > 0 ? v : 0;
    case RN_ACT_RELU6: return v > 0 ? (v < 6 ? v : 6) : 0;
    case RN_ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case RN_ACT_SWISH: return v / (1.0f + expf(-v));
    case RN_ACT_HARD_SWISH: {
        float t = v + 3.0f;
        t = t > 0 ? (t < 6 ? t : 6) : 0;
        return v * t * (1.0f / 6.0f);
    }
    default: return v;
    }
}

/* ----------------------------------------------------------- vectors */

#if !defined(RN_NO_SIMD) && !defined(RN_NO_AVX512) && defined(__AVX512F__) && \
    defined(__FMA__)
#define RN_SIMD_AVX512 1
#define RN_VL 16
#include <immintrin.h>
typedef __m512 rn_v;
RN_INLINE rn_v rn_v_zero(void) { return _mm512_setzero_ps(); }
RN_INLINE rn_v rn_v_set1(float v) { return _mm512_set1_ps(v); }
RN_INLINE rn_v rn_v_load(const float *p) { return _mm512_loadu_ps(p); }
RN_INLINE void rn_v_store(float *p, rn_v v) { _mm512_storeu_ps(p, v); }
RN_INLINE rn_v rn_v_bcast(const float *p) { return _mm512_set1_ps(*p); }
RN_INLINE rn_v rn_v_add(rn_v a, rn_v b) { return _mm512_add_ps(a, b); }
RN_INLINE rn_v rn_v_sub(rn_v a, rn_v b) { return _mm512_sub_ps(a, b); }
RN_INLINE rn_v rn_v_mul(rn_v a, rn_v b) { return _mm512_mul_ps(a, b); }
RN_INLINE rn_v rn_v_div(rn_v a, rn_v b) { return _mm512_div_ps(a, b); }
RN_INLINE rn_v rn_v_fma(rn_v a, rn_v b, rn_v c) { return _mm512_fmadd_ps(a, b, c); }
RN_INLINE rn_v rn_v_max(rn_v a, rn_v b) { return _mm512_max_ps(a, b); }
RN_INLINE rn_v rn_v_min(rn_v a, rn_v b) { return _mm512_min_ps(a, b); }
RN_INLINE rn_v rn_v_floor(rn_v a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
}
RN_INLINE rn_v rn_v_pow2i(rn_v n) {
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}
/* p 2^n for whole n held as floats, in one instruction */
RN_INLINE rn_v rn_v_scale2(rn_v p, rn_v n) { return _mm512_scalef_ps(p, n); }
/* The first lanes of a vector, chosen by a mask (rn_v_mask: the first
 * n): loads read and stores write those lanes only. */
typedef __mmask16 rn_vmask;
RN_INLINE rn_vmask rn_v_mask(int n) { return (__mmask16)((1u << n) - 1); }
RN_INLINE rn_v rn_v_load_m(const float *p, rn_vmask m) { return _mm512_maskz_loadu_ps(m, p); }
RN_INLINE void rn_v_store_m(float *p, rn_v v, rn_vmask m) { _mm512_mask_storeu_ps(p, m, v); }
#elif !defined(RN_NO_SIMD) && defined(__AVX2__) && defined(__FMA__)
#define RN_SIMD_AVX2 1
#define RN_VL 8
#include <immintrin.h>
typedef __m256 rn_v;
RN_INLINE rn_v rn_v_zero(void) { return _mm256_setzero_ps(); }
RN_INLINE rn_v rn_v_set1(float v) { return _mm256_set1_ps(v); }
RN_INLINE rn_v rn_v_load(const float *p) { return _mm256_loadu_ps(p); }
RN_INLINE void rn_v_store(float *p, rn_v v) { _mm256_storeu_ps(p, v); }
RN_INLINE rn_v rn_v_bcast(const float *p) { return _mm256_broadcast_ss(p); }
RN_INLINE rn_v rn_v_add(rn_v a, rn_v b) { return _mm256_add_ps(a, b); }
RN_INLINE rn_v rn_v_sub(rn_v a, rn_v b) { return _mm256_sub_ps(a, b); }
RN_INLINE rn_v rn_v_mul(rn_v a, rn_v b) { return _mm256_mul_ps(a, b); }
RN_INLINE rn_v rn_v_div(rn_v a, rn_v b) { return _mm256_div_ps(a, b); }
RN_INLINE rn_v rn_v_fma(rn_v a, rn_v b, rn_v c) { return _mm256_fmadd_ps(a, b, c); }
RN_INLINE rn_v rn_v_max(rn_v a, rn_v b) { return _mm256_max_ps(a, b); }
RN_INLINE rn_v rn_v_min(rn_v a, rn_v b) { return _mm256_min_ps(a, b); }
RN_INLINE rn_v rn_v_floor(rn_v a) { return _mm256_floor_ps(a); }
/* 2^n for whole n in [-127, 128] held as floats */
RN_INLINE rn_v rn_v_pow2i(rn_v n) {
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}
RN_INLINE rn_v rn_v_scale2(rn_v p, rn_v n) { return rn_v_mul(p, rn_v_pow2i(n)); }
typedef __m256i rn_vmask;
RN_INLINE rn_vmask rn_v_mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
RN_INLINE rn_v rn_v_load_m(const float *p, rn_vmask m) { return _mm256_maskload_ps(p, m); }
RN_INLINE void rn_v_store_m(float *p, rn_v v, rn_vmask m) { _mm256_maskstore_ps(p, m, v); }
#elif !defined(RN_NO_SIMD) && defined(__aarch64__) && defined(__ARM_NEON)
#define RN_SIMD_NEON 1
#define RN_VL 4
#include <arm_neon.h>
typedef float32x4_t rn_v;
RN_INLINE rn_v rn_v_zero(void) { return vdupq_n_f32(0.0f); }
RN_INLINE rn_v rn_v_set1(float v) { return vdupq_n_f32(v); }
RN_INLINE rn_v rn_v_load(const float *p) { return vld1q_f32(p); }
RN_INLINE void rn_v_store(float *p, rn_v v) { vst1q_f32(p, v); }
RN_INLINE rn_v rn_v_bcast(const float *p) { return vld1q_dup_f32(p); }
RN_INLINE rn_v rn_v_add(rn_v a, rn_v b) { return vaddq_f32(a, b); }
RN_INLINE rn_v rn_v_sub(rn_v a, rn_v b) { return vsubq_f32(a, b); }
RN_INLINE rn_v rn_v_mul(rn_v a, rn_v b) { return vmulq_f32(a, b); }
RN_INLINE rn_v rn_v_div(rn_v a, rn_v b) { return vdivq_f32(a, b); }
RN_INLINE rn_v rn_v_fma(rn_v a, rn_v b, rn_v c) { return vfmaq_f32(c, a, b); }
RN_INLINE rn_v rn_v_max(rn_v a, rn_v b) { return vmaxq_f32(a, b); }
RN_INLINE rn_v rn_v_min(rn_v a, rn_v b) { return vminq_f32(a, b); }
RN_INLINE rn_v rn_v_floor(rn_v a) { return vrndmq_f32(a); }
RN_INLINE rn_v rn_v_pow2i(rn_v n) {
    int32x4_t e = vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
}
RN_INLINE rn_v rn_v_scale2(rn_v p, rn_v n) { return rn_v_mul(p, rn_v_pow2i(n)); }
/* No masked loads: the lanes go through a copy (a row's last lanes). */
typedef int rn_vmask;
RN_INLINE rn_vmask rn_v_mask(int n) { return n; }
RN_INLINE rn_v rn_v_load_m(const float *p, rn_vmask m) {
    float t[4] = {0, 0, 0, 0};
    for (int i = 0; i < m; i++) t[i] = p[i];
    return vld1q_f32(t);
}
RN_INLINE void rn_v_store_m(float *p, rn_v v, rn_vmask m) {
    float t[4];
    vst1q_f32(t, v);
    for (int i = 0; i < m; i++) p[i] = t[i];
}
#else
#define RN_VL 1
#endif

/* Keeps v in a register: the compiler may not fold its load into each
 * instruction that reads it (a load each) when loaded once is the point. */
#if defined(__GNUC__) && defined(RN_SIMD_AVX512)
#define RN_V_KEEP(v) __asm__("" : "+v"(v))
#elif defined(__GNUC__) && defined(RN_SIMD_AVX2)
#define RN_V_KEEP(v) __asm__("" : "+x"(v))
#elif defined(__GNUC__) && defined(RN_SIMD_NEON)
#define RN_V_KEEP(v) __asm__("" : "+w"(v))
#else
#define RN_V_KEEP(v) ((void)0)
#endif

/* f(args..., act) with act a constant in each case, so that a loop inside
 * f (inlined) holds one activation's code only. Unknown codes are none. */
#define RN_ACT_SWITCH(act, f, ...)                                          \
    switch (act) {                                                          \
    case RN_ACT_RELU: f(__VA_ARGS__, RN_ACT_RELU); break;                   \
    case RN_ACT_RELU6: f(__VA_ARGS__, RN_ACT_RELU6); break;                 \
    case RN_ACT_SIGMOID: f(__VA_ARGS__, RN_ACT_SIGMOID); break;             \
    case RN_ACT_SWISH: f(__VA_ARGS__, RN_ACT_SWISH); break;                 \
    case RN_ACT_HARD_SWISH: f(__VA_ARGS__, RN_ACT_HARD_SWISH); break;       \
    default: f(__VA_ARGS__, RN_ACT_NONE); break;                            \
    }

#if RN_VL > 1
/* e^x to 4e-7 (relative): x = n ln 2 + r (ln 2 in two parts, Cody and
 * Waite), e^r by a polynomial of degree 5 on |r| <= ln 2 / 2 (fitted to
 * the relative error, in the manner of a minimax fit), times 2^n. */
RN_INLINE rn_v rn_v_exp(rn_v x) {
    x = rn_v_min(rn_v_max(x, rn_v_set1(-87.0f)), rn_v_set1(88.0f));
    rn_v n = rn_v_floor(rn_v_fma(x, rn_v_set1(1.44269504088896341f), rn_v_set1(0.5f)));
    rn_v r = rn_v_fma(n, rn_v_set1(-0.693359375f), x);
    r = rn_v_fma(n, rn_v_set1(2.12194440e-4f), r);
    rn_v p = rn_v_set1(0.008066711947321892f);
    p = rn_v_fma(p, r, rn_v_set1(0.0418834313750267f));
    p = rn_v_fma(p, r, rn_v_set1(0.16670556366443634f));
    p = rn_v_fma(p, r, rn_v_set1(0.49999210238456726f));
    p = rn_v_fma(p, r, rn_v_set1(0.9999989867210388f));
    p = rn_v_fma(p, r, rn_v_set1(1.0f));
    return rn_v_scale2(p, n);
}


/* The epilogue's activation of a vector (rn_act1's). */
RN_INLINE rn_v rn_v_act(rn_v v, int act) {
    rn_v z = rn_v_zero();
    switch (act) {
    case RN_ACT_RELU: return rn_v_max(v, z);
    case RN_ACT_RELU6: return rn_v_min(rn_v_max(v, z), rn_v_set1(6.0f));
    /* a division, not the reciprocal's estimate and a Newton step: that
     * made sigmoid's and swish's passes 1.3x as slow (AVX-512 and AVX2 on
     * Zen 5: the division pipelines, the estimate's chain does not) */
    case RN_ACT_SIGMOID:
        return rn_v_div(rn_v_set1(1.0f), rn_v_add(rn_v_set1(1.0f), rn_v_exp(rn_v_sub(z, v))));
    case RN_ACT_SWISH: /* v * sigmoid(v) */
        return rn_v_div(v, rn_v_add(rn_v_set1(1.0f), rn_v_exp(rn_v_sub(z, v))));
    case RN_ACT_HARD_SWISH: {
        rn_v t = rn_v_add(v, rn_v_set1(3.0f));
        t = rn_v_min(rn_v_max(t, z), rn_v_set1(6.0f));
        return rn_v_mul(rn_v_mul(v, t), rn_v_set1(1.0f / 6.0f));
    }
    default: return v;
    }
}

/* Whether an activation costs more than a few instructions a vector
 * (sigmoid, swish: an exp and a reciprocal). The kernels' register
 * epilogues apply the others (rn_v_act_light) and leave these to a pass
 * over the stored tile while it is in L1 (rn_v_act_tile): inlined in
 * every copy of every epilogue, their code made the kernels several
 * times as big and slow to compile, for two loads and stores a vector
 * saved against some twenty instructions of their own. */
RN_INLINE int rn_act_heavy(int act) {
    return act == RN_ACT_SIGMOID || act == RN_ACT_SWISH;
}

/* rn_v_act for the light activations; the heavy ones leave v as it is. */
RN_INLINE rn_v rn_v_act_light(rn_v v, int act) {
    return rn_act_heavy(act) ? v : rn_v_act(v, act);
}

/* The activation act (a constant) of np stored pixels from out (pixels
 * ldo floats apart), their first n channels, in place. */
RN_INLINE void rn_v_act_tile_k(float *out, int np, rn_i64 ldo, int n, const int act) {
    rn_vmask mk = rn_v_mask(n % RN_VL);
    for (int p = 0; p < np; p++, out += ldo) {
        int i = 0;
        for (; i + RN_VL <= n; i += RN_VL)
            rn_v_store(out + i, rn_v_act(rn_v_load(out + i), act));
        if (i < n) rn_v_store_m(out + i, rn_v_act(rn_v_load_m(out + i, mk), act), mk);
    }
}

/* rn_v_act_tile_k, any act (but meant for the heavy ones): one loop
 * each, the switch outside it. */
RN_NOINLINE void rn_v_act_tile(int act, float *out, int np, rn_i64 ldo, int n) {
    RN_ACT_SWITCH(act, rn_v_act_tile_k, out, np, ldo, n)
}

/* The tile's heavy activation, if it has one (after an epilogue of
 * rn_v_act_light). */
RN_INLINE void rn_v_act_rest(int act, float *out, int np, rn_i64 ldo, int n) {
    if (rn_act_heavy(act)) rn_v_act_tile(act, out, np, ldo, n);
}
#endif

#endif
