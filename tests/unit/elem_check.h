/* elem_check.h: the elementwise kernels (runtime/kernel/rn_elem.h, in
 * runtime/elementwise.c's copies) against float64 definitions on random
 * sizes: every activation with a vector form, hard sigmoid, batch norm's
 * scale and shift, the binary ops with either side broadcast, an image
 * against one pixel of channels, pooling taps, global pooling, the
 * matrix-vector
 * product; and rnrt.h's rn_k_merge on broadcasting shapes. Shared by the
 * CUnit suite (test_elem.c: every level this CPU runs) and kernel_check
 * (tests/tools/kernel_check.c: aarch64 under qemu, plain C). Returns the
 * number of wrong values and prints the first few. */
#ifndef ELEM_CHECK_H
#define ELEM_CHECK_H

/* Checks the copy of level `level` (internal.h's RN_LEVEL_*; the base
 * copy where the build has no other), `cases` random cases per kernel. */
int elem_check(int level, unsigned long long seed, int cases);
/* rn_k_merge (the best copy) on broadcasting shapes. */
int elem_check_merge(unsigned long long seed, int cases);

#endif
