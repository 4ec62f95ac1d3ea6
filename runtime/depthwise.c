/* depthwise.c: depthwise convolution (kernel/rn_dw.h) for the runtime
 * library: rn_dw_run of rnrt.h, on AVX-512 or AVX2 + FMA when the CPU has
 * it, else on this file's lanes (internal.h: built three times on
 * x86-64). */
#include "internal.h"
#include "kernel/rn_dw.h"

RN_DW_RUN(RN_ISA(rn_dw_run)) { rn_dwk_run(d, in, w, bias, out, y0, y1); }

#ifdef RN_ISA_BASE_COPY
void rn_dw_run_isa(int level, const rn_dw *d, const float *in, const float *w,
                   const float *bias, float *out, int y0, int y1) {
    if (level > rn_isa_level()) level = rn_isa_level();
#ifdef RN_ISA_COPIES
    if (level >= RN_LEVEL_AVX512) {
        rn_dw_run_avx512(d, in, w, bias, out, y0, y1);
        return;
    }
    if (level >= RN_LEVEL_AVX2) {
        rn_dw_run_avx2(d, in, w, bias, out, y0, y1);
        return;
    }
#endif
    rn_dw_run_base(d, in, w, bias, out, y0, y1);
}

void rn_dw_run(const rn_dw *d, const float *in, const float *w,
               const float *bias, float *out, int y0, int y1) {
    rn_dw_run_isa(RN_LEVEL_AVX512, d, in, w, bias, out, y0, y1);
}

/* Without the vector copies, for tests (not in rnrt.h). */
RN_DW_RUN(rn_dw_run_portable);
RN_DW_RUN(rn_dw_run_portable) { rn_dw_run_base(d, in, w, bias, out, y0, y1); }
#endif
