/* elementwise.c: the copies of the elementwise kernels (kernel/rn_elem.h)
 * that elem_pick.c picks from (internal.h: built three times on x86-64):
 * each exports its entry points, named by RN_ISA (rn_ew_act_run_avx2,
 * ...). Changes nothing but its outputs. */
#include "internal.h"
#include "kernel/rn_elem.h"

RN_EW_ACT(RN_ISA(rn_ew_act_run)) { rn_ew_act(act, in, out, n); }

RN_EW_HSIG(RN_ISA(rn_ew_hard_sigmoid_run)) {
    rn_ew_hard_sigmoid(in, out, n, alpha, beta);
}

RN_EW_SCALE_SHIFT(RN_ISA(rn_ew_scale_shift_run)) {
    rn_ew_scale_shift(in, out, npix, c, scale, shift, act);
}

RN_EW_BINARY(RN_ISA(rn_ew_binary_run)) { rn_ew_binary(op, a, as, b, bs, out, n); }

RN_EW_CHANNEL_OP(RN_ISA(rn_ew_channel_op_run)) {
    rn_ew_channel_op(op, x, v, v_first, out, npix, c);
}

RN_EW_POOL(RN_ISA(rn_ew_global_pool_run)) { rn_ew_global_pool(is_max, in, out, npix, c); }

RN_EW_WINDOW(RN_ISA(rn_ew_pool_run)) { rn_ew_pool(d, in, out, y0, y1); }

RN_EW_GEMV(RN_ISA(rn_ew_gemv_run)) { rn_ew_gemv(k, n, x, w, ldw, y); }
