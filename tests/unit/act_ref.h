/* act_ref.h: what each epilogue activation computes, in double: the
 * reference of the kernel checks (conv_check.c, elem_check.c and
 * tests/tools/kernel_const.c). Include after <math.h> and a header that
 * defines RN_ACT_* (rnrt.h, or the kernel headers). */
#ifndef ACT_REF_H
#define ACT_REF_H

static inline double act_ref(double s, int act) {
    double t = s + 3;
    switch (act) {
    case RN_ACT_RELU: return s > 0 ? s : 0;
    case RN_ACT_RELU6: return s > 0 ? (s < 6 ? s : 6) : 0;
    case RN_ACT_SIGMOID: return 1 / (1 + exp(-s));
    case RN_ACT_SWISH: return s / (1 + exp(-s));
    case RN_ACT_HARD_SWISH: return s * (t > 0 ? (t < 6 ? t : 6) : 0) / 6;
    default: return s;
    }
}

#endif
