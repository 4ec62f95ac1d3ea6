/* conv.c: 2-D convolution, rnrt.h's rn_conv_* functions. It only chooses:
 * per convolution the algorithm, direct (direct.c) or Winograd F(2x2) or
 * F(4x4) (winograd.c), from its shapes at load; per run the instruction
 * set, the best of AVX-512, AVX2 + FMA and none the CPU has (internal.h). The algorithms sit on
 * one micro-kernel (kernel/rn_micro.h) and know nothing of each other.
 *
 * The choice: Winograd for 3x3 convolutions of stride and dilation 1 with
 * at least 16 channels in and out where its fewer products pay for its
 * transforms; F(4x4) where it does enough fewer products than F(2x2) and
 * its transformed weights stay small enough to stream; else F(2x2); else
 * direct. On more threads, direct where streaming Winograd's bigger
 * weights takes longer than its fewer products save (pays_on). A test may
 * force one (rn_conv.algo). A grouped convolution
 * (rn_conv.groups) of few channels a group, as many in as out, runs on
 * its own kernel (group.c); other grouped convolutions as super-groups of
 * few-channel groups side by side (below), each chosen for as a
 * convolution of its own. No state outside the arguments. */
#include "internal.h"

enum {
    MIN_CHANNELS = 16,     /* fewer: the transforms cost more than saved */
    U_MAX_BYTES = 8 << 20, /* bigger U (F(4x4)'s): streaming it costs more
                              than saved */
    U2_MAX_BYTES = 24 << 20, /* F(2x2)'s, more products saved per float of U
                                (512 channels at 7x7: 1.81 -> 1.39 ms cold) */
    GROUP_BLOCK = 16,      /* a super-group's output channels at most */
    PRODUCTS_PER_BYTE = 5, /* pays_on() */
    STREAM_MIN_BYTES = 8 << 20 /* fewer bytes: in a network's run they
                                  come from the caches (pays_on) */
};

/* Winograd where it does this many times fewer products than direct
 * convolution (F(2x2)) or than F(2x2) (F(4x4)): below, its transforms
 * cost more than its fewer products save. */
static const double F2_FACTOR = 1.6, F4_FACTOR = 1.3;

/* Whether variant m pays on c: U small enough to stream, and enough
 * fewer products than `than` to cover its transforms. */
static int pays(const rn_conv *c, int m, double than, double factor) {
    return rn_wino_eligible(c, m) && rn_wino_products(c, m) * factor <= than &&
           (double)rn_wino_packed_floats(c, m) * sizeof(float) <=
               (m == 2 ? U2_MAX_BYTES : U_MAX_BYTES);
}

/* On more than one thread, each thread does its share of the products
 * but the weights still come from memory once: a time of the products a
 * thread does (Winograd's times its factor) or the weights' bytes times
 * PRODUCTS_PER_BYTE (a core's multiply-adds while memory brings a byte:
 * ~100 G/s against ~20 GB/s), whichever is more; per channel pair.
 * Whether variant m takes less than direct convolution on n threads:
 * 512 channels at 7x7 not (F(2x2)'s 64 bytes a pair against direct's 36;
 * ResNet-34 at 2 threads 17.2 -> 16.4 ms direct, at 1 thread 23.5 ->
 * 24.4), 256 at 14x14 still. One thread keeps the rule above (its
 * weights' bytes are in pays()), and so do weights the caches hold
 * (STREAM_MIN_BYTES: with 1 MiB, the seed-000 net's 128 channels at 8x8
 * went F(4x4) -> F(2x2) at 2 threads and took 0.202 -> 0.209 ms). */
static int pays_on(const rn_conv *c, int m, int nthreads) {
    if (nthreads < 2 || rn_wino_packed_floats(c, m) * sizeof(float) <= STREAM_MIN_BYTES)
        return 1;
    double n = nthreads, direct = 9.0 * c->oh * c->ow / n;
    double wino = rn_wino_products(c, m) * (m == 2 ? F2_FACTOR : F4_FACTOR) / n;
    double dbytes = 9.0 * sizeof(float) * PRODUCTS_PER_BYTE;
    double wbytes = (double)(m + 2) * (m + 2) * sizeof(float) * PRODUCTS_PER_BYTE;
    return (wino > wbytes ? wino : wbytes) <= (direct > dbytes ? direct : dbytes);
}

/* c's Winograd variant (2 or 4) on n threads, or 0 for direct
 * convolution. */
static int wino_m_on(const rn_conv *c, int nthreads) {
    if (c->pre) return 0; /* the prologue is direct convolution's */
    if (c->algo == RN_CONV_WINOGRAD) return rn_wino_eligible(c, 2) ? 2 : 0;
    if (c->algo == RN_CONV_WINOGRAD4) return rn_wino_eligible(c, 4) ? 4 : 0;
    if (c->algo != RN_CONV_AUTO || c->cin < MIN_CHANNELS || c->cout < MIN_CHANNELS)
        return 0;
    double direct = 9.0 * c->oh * c->ow;
    if (!pays(c, 2, direct, F2_FACTOR)) return 0;
    int m = pays(c, 4, rn_wino_products(c, 2), F4_FACTOR) ? 4 : 2;
    if (m == 4 && !pays_on(c, 4, nthreads)) m = 2;
    return pays_on(c, m, nthreads) ? m : 0;
}

/* Its variant as the kernels run it: .algo's (the compiler's choice), or
 * for RN_CONV_AUTO the one-thread choice. */
static int wino_m(const rn_conv *c) { return wino_m_on(c, 1); }

/* Whether c runs on the grouped kernel: eligible, and not forced to
 * another algorithm. */
static int grouped(const rn_conv *c) {
    return (c->algo == RN_CONV_AUTO || c->algo == RN_CONV_GROUPED) && rn_group_eligible(c);
}

int rn_conv_algo_on(const rn_conv *c, int nthreads) {
    if (grouped(c)) return RN_CONV_GROUPED;
    int m = wino_m_on(c, nthreads);
    return m == 4 ? RN_CONV_WINOGRAD4 : m == 2 ? RN_CONV_WINOGRAD : RN_CONV_DIRECT;
}

int rn_conv_algo(const rn_conv *c) { return rn_conv_algo_on(c, 1); }

/* ------------------------------------------------------------- groups */

/* A grouped convolution runs as super-groups: sg_groups groups side by
 * side in one convolution of their channels, its kernel block-diagonal
 * (rn_kernel_at), as many as fill a block of RN_NB output channels (the
 * zeros cost less than blocks of a few channels each); the last may hold
 * fewer. Super-group k's channels, packed weights and work items follow
 * the previous ones'. */
typedef struct Groups {
    int n;         /* super-groups */
    int per;       /* groups a super-group (the last: `last`) */
    int last;
    int gi, go;    /* channels a group, in and out */
} Groups;

int rn_conv_group_call(const rn_conv *c) {
    if (c->groups <= 1 || grouped(c)) return c->groups > 1 ? c->groups : 1;
    int go = c->cout / c->groups, per = go >= GROUP_BLOCK ? 1 : GROUP_BLOCK / go;
    return per < c->groups ? per : c->groups;
}

static Groups groups_of(const rn_conv *c) {
    Groups g = {1, 1, 1, c->cin, c->cout};
    if (c->groups <= 1) return g;
    g.gi = c->cin / c->groups, g.go = c->cout / c->groups;
    g.per = rn_conv_group_call(c);
    g.n = (c->groups + g.per - 1) / g.per;
    g.last = c->groups - (g.n - 1) * g.per;
    return g;
}

/* Super-group k of c as a convolution of its own (block-diagonal). */
static rn_conv sub_of(const rn_conv *c, const Groups *g, int k) {
    rn_conv s = *c;
    int n = k == g->n - 1 ? g->last : g->per;
    if (c->groups <= 1) return s;
    s.groups = n, s.cin = n * g->gi, s.cout = n * g->go;
    return s;
}

/* The dense (or block-diagonal) convolution of one super-group. */
static rn_i64 dense_packed_floats(const rn_conv *c) {
    int m = wino_m(c);
    return m ? rn_wino_packed_floats(c, m) : rn_direct_packed_floats(c);
}

static int dense_tiles(const rn_conv *c) {
    int m = wino_m(c);
    return m ? rn_wino_tiles(c, m) : rn_direct_tiles(c);
}

rn_i64 rn_conv_packed_floats(const rn_conv *c) {
    if (grouped(c)) return rn_group_packed_floats(c);
    Groups g = groups_of(c);
    rn_conv full = sub_of(c, &g, 0), last = sub_of(c, &g, g.n - 1);
    return (g.n - 1) * dense_packed_floats(&full) + dense_packed_floats(&last);
}

void rn_conv_pack(const rn_conv *c, const float *kernel, int ldk,
                  const float *scale, float *packed) {
    if (grouped(c)) {
        rn_group_pack(c, kernel, ldk, scale, packed);
        return;
    }
    Groups g = groups_of(c);
    for (int k = 0; k < g.n; k++) {
        rn_conv s = sub_of(c, &g, k);
        int co = k * g.per * g.go, m = wino_m(&s);
        if (m)
            rn_wino_pack(&s, m, kernel + co, ldk, scale ? scale + co : NULL, packed);
        else
            rn_direct_pack(&s, kernel + co, ldk, scale ? scale + co : NULL, packed);
        packed += dense_packed_floats(&s);
    }
}

int rn_conv_tiles(const rn_conv *c) {
    if (grouped(c)) return rn_group_tiles(c);
    Groups g = groups_of(c);
    rn_conv full = sub_of(c, &g, 0), last = sub_of(c, &g, g.n - 1);
    return (g.n - 1) * dense_tiles(&full) + dense_tiles(&last);
}

rn_i64 rn_conv_scratch_floats(const rn_conv *c) {
    if (grouped(c)) return 0;
    Groups g = groups_of(c);
    rn_i64 most = 0;
    for (int k = g.n > 1 ? g.n - 2 : 0; k < g.n; k++) { /* a full one, the last */
        rn_conv s = sub_of(c, &g, k);
        int m = wino_m(&s);
        rn_i64 f = m ? rn_wino_scratch_floats(&s, m) : rn_direct_scratch_floats(&s);
        if (f > most) most = f;
    }
    return most;
}

/* Work items [t0, t1) of one super-group (or of an ungrouped c). */
static void run_dense(int level, const rn_conv *c, const float *pre_s,
                      const float *pre_t, const float *in, const float *packed,
                      const float *bias, const float *residual, float *out,
                      int t0, int t1, float *scratch) {
    int m = wino_m(c);
#ifdef RN_ISA_COPIES
    if (level >= RN_LEVEL_AVX512) {
        if (m)
            rn_wino_run_avx512(c, m, in, packed, bias, residual, out, t0, t1, scratch);
        else
            rn_direct_run_avx512(c, pre_s, pre_t, in, packed, bias, residual, out, t0, t1,
                                 scratch);
        return;
    }
    if (level >= RN_LEVEL_AVX2) {
        if (m)
            rn_wino_run_avx2(c, m, in, packed, bias, residual, out, t0, t1, scratch);
        else
            rn_direct_run_avx2(c, pre_s, pre_t, in, packed, bias, residual, out, t0, t1,
                               scratch);
        return;
    }
#else
    (void)level;
#endif
    if (m)
        rn_wino_run_base(c, m, in, packed, bias, residual, out, t0, t1, scratch);
    else
        rn_direct_run_base(c, pre_s, pre_t, in, packed, bias, residual, out, t0, t1,
                           scratch);
}

/* Work items [t0, t1) of c on the grouped kernel. */
static void run_grouped(int level, const rn_conv *c, const float *in,
                        const float *packed, const float *bias,
                        const float *residual, float *out, int t0, int t1) {
#ifdef RN_ISA_COPIES
    if (level >= RN_LEVEL_AVX512) {
        rn_group_run_avx512(c, in, packed, bias, residual, out, t0, t1);
        return;
    }
    if (level >= RN_LEVEL_AVX2) {
        rn_group_run_avx2(c, in, packed, bias, residual, out, t0, t1);
        return;
    }
#else
    (void)level;
#endif
    rn_group_run_base(c, in, packed, bias, residual, out, t0, t1);
}

void rn_conv_run_isa(int level, const rn_conv *c, const float *pre_s,
                     const float *pre_t, const float *in, const float *packed,
                     const float *bias, const float *residual, float *out,
                     int t0, int t1, float *scratch) {
    if (level > rn_isa_level()) level = rn_isa_level();
    if (grouped(c)) {
        run_grouped(level, c, in, packed, bias, residual, out, t0, t1);
        return;
    }
    Groups g = groups_of(c);
    rn_conv full = sub_of(c, &g, 0);
    int per = dense_tiles(&full);
    rn_i64 pf = dense_packed_floats(&full);
    for (int k = 0; k < g.n && t0 < t1; k++) { /* the super-groups' items */
        rn_conv s = k == g.n - 1 ? sub_of(c, &g, k) : full;
        int lo = k * per, n = k == g.n - 1 ? dense_tiles(&s) : per;
        if (t0 >= lo + n) continue;
        int ci = k * g.per * g.gi, co = k * g.per * g.go;
        run_dense(level, &s, pre_s ? pre_s + ci : NULL, pre_t ? pre_t + ci : NULL,
                  in + ci, packed + k * pf, bias ? bias + co : NULL,
                  residual ? residual + co : NULL, out + co, t0 - lo,
                  (t1 < lo + n ? t1 : lo + n) - lo, scratch);
        t0 = lo + n;
    }
}

/* Without the vector copies, for tests (not in rnrt.h). */
void rn_conv_run_portable(const rn_conv *c, const float *in,
                          const float *packed, const float *bias,
                          const float *residual, float *out, int t0, int t1,
                          float *scratch);
void rn_conv_run_portable(const rn_conv *c, const float *in,
                          const float *packed, const float *bias,
                          const float *residual, float *out, int t0, int t1,
                          float *scratch) {
    rn_conv_run_isa(RN_LEVEL_BASE, c, NULL, NULL, in, packed, bias, residual, out,
                    t0, t1, scratch);
}

void rn_conv_run(const rn_conv *c, const float *in, const float *packed,
                 const float *bias, const float *residual, float *out,
                 int t0, int t1, float *scratch) {
    rn_conv_run_isa(RN_LEVEL_AVX512, c, NULL, NULL, in, packed, bias, residual,
                    out, t0, t1, scratch);
}

void rn_conv_run_pre(const rn_conv *c, const float *pre_scale,
                     const float *pre_shift, const float *in,
                     const float *packed, const float *bias,
                     const float *residual, float *out, int t0, int t1,
                     float *scratch) {
    rn_conv_run_isa(RN_LEVEL_AVX512, c, pre_scale, pre_shift, in, packed, bias,
                    residual, out, t0, t1, scratch);
}
