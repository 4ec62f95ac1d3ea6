/* winograd.c: Winograd F(2x2, 3x3) and F(4x4, 3x3) (kernel/rn_wino.h) for
 * the runtime library: its facts, packing and work items, and a run on
 * this file's lanes (internal.h: built twice on x86-64). conv.c chooses
 * it and its variant. */
#include "internal.h"
#include "kernel/rn_wino.h"

#ifdef RN_ISA_BASE_COPY
int rn_wino_eligible(const rn_conv *c, int m) { return rn_wg_eligible(c, m); }

double rn_wino_products(const rn_conv *c, int m) { return rn_wg_products(c, m); }

rn_i64 rn_wino_packed_floats(const rn_conv *c, int m) {
    return rn_wg_packed_floats(c, m);
}

void rn_wino_pack(const rn_conv *c, int m, const float *kernel, int ldk,
                  const float *scale, float *packed) {
    rn_wg_pack(c, m, kernel, ldk, scale, packed);
}

int rn_wino_tiles(const rn_conv *c, int m) { return rn_wg_tiles(c, m); }

rn_i64 rn_wino_scratch_floats(const rn_conv *c, int m) {
    return rn_wg_scratch_floats(c, m);
}
#endif

RN_WINO_RUN(RN_ISA(rn_wino_run)) {
    rn_wg_run(c, m, in, packed, bias, residual, out, t0, t1, scratch);
}
