/* direct.c: direct convolution (kernel/rn_direct.h) for the runtime
 * library: its packing and work items, and a run on this file's lanes
 * (internal.h: built twice on x86-64). conv.c chooses it. */
#include "internal.h"
#include "kernel/rn_direct.h"

#ifdef RN_ISA_BASE_COPY
rn_i64 rn_direct_packed_floats(const rn_conv *c) { return rn_dc_packed_floats(c); }

void rn_direct_pack(const rn_conv *c, const float *kernel, int ldk,
                    const float *scale, float *packed) {
    rn_dc_pack(c, kernel, ldk, scale, packed);
}

int rn_direct_tiles(const rn_conv *c) { return rn_dc_tiles(c); }

rn_i64 rn_direct_scratch_floats(const rn_conv *c) { return rn_dc_scratch_floats(c); }
#endif

RN_DIRECT_RUN(RN_ISA(rn_direct_run)) {
    rn_dc_run_pre(c, pre_s, pre_t, in, packed, bias, residual, out, t0, t1, scratch);
}
