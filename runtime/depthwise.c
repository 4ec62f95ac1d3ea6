/* depthwise.c: depthwise convolution (kernel/rn_dw.h) for the runtime
 * library: rn_dw_run of rnrt.h, on AVX2 + FMA when the CPU has it, else on
 * this file's lanes (internal.h: built twice on x86-64). */
#include "internal.h"
#include "kernel/rn_dw.h"

RN_DW_RUN(RN_ISA(rn_dw_run)) { rn_dwk_run(d, in, w, bias, out, y0, y1); }

#ifndef RN_ISA_AVX2
void rn_dw_run(const rn_dw *d, const float *in, const float *w,
               const float *bias, float *out, int y0, int y1) {
#ifdef RN_DISPATCH_AVX2
    if (rn_k_have_avx2()) {
        rn_dw_run_avx2(d, in, w, bias, out, y0, y1);
        return;
    }
#endif
    rn_dw_run_base(d, in, w, bias, out, y0, y1);
}

/* Without the AVX2 copy, for tests (not in rnrt.h). */
RN_DW_RUN(rn_dw_run_portable);
RN_DW_RUN(rn_dw_run_portable) { rn_dw_run_base(d, in, w, bias, out, y0, y1); }
#endif
