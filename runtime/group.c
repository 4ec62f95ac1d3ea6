/* group.c: grouped convolution of few channels a group (kernel/rn_group.h)
 * for the runtime library: its facts, packing and work items, and a run
 * on this file's lanes (internal.h: built three times on x86-64). conv.c
 * chooses it. */
#include "internal.h"
#include "kernel/rn_group.h"

#ifdef RN_ISA_BASE_COPY
int rn_group_eligible(const rn_conv *c) { return rn_gc_eligible(c); }

rn_i64 rn_group_packed_floats(const rn_conv *c) { return rn_gc_packed_floats(c); }

void rn_group_pack(const rn_conv *c, const float *kernel, int ldk,
                   const float *scale, float *packed) {
    rn_gc_pack(c, kernel, ldk, scale, packed);
}

int rn_group_tiles(const rn_conv *c) { return rn_gc_tiles(c); }
#endif

RN_GROUP_RUN(RN_ISA(rn_group_run)) { rn_gc_run(c, in, packed, bias, residual, out, t0, t1); }
