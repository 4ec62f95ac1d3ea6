/* npycmp: compares a float32 .npy that rnc's code produced with the golden
 * one that tools/reference.py made.
 *
 *   npycmp [--argmax] GOT.npy WANT.npy [RTOL [ATOL]]
 *
 * Passes (exit 0) when the shapes agree (the golden's batch dim of 1 may
 * be written or not), and every element satisfies
 * |got - want| <= RTOL * max|want| + ATOL (defaults 1e-4 and 1e-5); with
 * --argmax, also when the largest element is at the same index. Prints
 * the worst element either way; exit 1 on a mismatch, 2 on bad usage or an
 * unreadable file. NaN or inf in either file never passes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnrt.h"

static int dims_equal(const rn_i64 *a, const rn_i64 *b, int rank) {
    for (int i = 0; i < rank; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* The golden has the batch dim ([1, H, W, C] or [1, N]); the run may write
 * it or not, nothing else may differ. */
static int same_shape(const rn_array *got, const rn_array *want) {
    if (got->rank == want->rank)
        return dims_equal(got->dims, want->dims, got->rank);
    return got->rank + 1 == want->rank && want->dims[0] == 1 &&
           dims_equal(got->dims, want->dims + 1, got->rank);
}

static void print_shape(const rn_array *a) {
    putchar('[');
    for (int i = 0; i < a->rank; i++)
        printf("%s%lld", i ? ", " : "", a->dims[i]);
    putchar(']');
}

static double parse_tol(const char *s) {
    char *end;
    double v = strtod(s, &end);
    if (*s == 0 || *end || !(v >= 0)) {
        fprintf(stderr, "npycmp: bad tolerance '%s'\n", s);
        exit(2);
    }
    return v;
}

/* Index of the largest element (the first of equals). */
static rn_i64 argmax(const rn_array *a) {
    rn_i64 best = 0;
    for (rn_i64 i = 1; i < a->count; i++)
        if (a->data[i] > a->data[best]) best = i;
    return best;
}

int main(int argc, char **argv) {
    int want_argmax = argc > 1 && !strcmp(argv[1], "--argmax");
    if (want_argmax) {
        argv++;
        argc--;
    }
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: npycmp [--argmax] GOT.npy WANT.npy [RTOL [ATOL]]\n");
        return 2;
    }
    double rtol = argc > 3 ? parse_tol(argv[3]) : 1e-4;
    double atol = argc > 4 ? parse_tol(argv[4]) : 1e-5;
    char err[512];
    rn_array got = {0}, want = {0};
    if (rn_npy_read(argv[1], &got, err, sizeof err) != 0 ||
        rn_npy_read(argv[2], &want, err, sizeof err) != 0) {
        fprintf(stderr, "npycmp: %s\n", err);
        rn_array_free(&got);
        rn_array_free(&want);
        return 2;
    }
    int rc = 1;
    if (!same_shape(&got, &want)) {
        printf("shape ");
        print_shape(&got);
        printf(", want ");
        print_shape(&want);
        putchar('\n');
        goto done;
    }
    double scale = 0;
    for (rn_i64 i = 0; i < want.count; i++)
        if (isfinite(want.data[i])) scale = fmax(scale, fabs(want.data[i]));
    double tol = rtol * scale + atol;
    rn_i64 worst = 0;
    double worst_err = -1;
    int finite = 1;
    for (rn_i64 i = 0; i < want.count; i++) {
        double g = got.data[i], w = want.data[i];
        double e = fabs(g - w);
        if (!isfinite(g) || !isfinite(w)) {
            finite = 0;
            e = INFINITY;
        }
        if (e > worst_err) {
            worst_err = e;
            worst = i;
        }
    }
    rc = finite && worst_err <= tol ? 0 : 1;
    if (want_argmax && want.count && argmax(&got) != argmax(&want)) {
        printf("MISMATCH: argmax [%lld], want [%lld]\n", argmax(&got),
               argmax(&want));
        rc = 1;
    }
    printf("%s: %lld values, max|want| %.6g, worst error %.3g at [%lld] "
           "(got %.9g, want %.9g), tolerance %.3g\n",
           rc ? "MISMATCH" : "ok", want.count, scale, worst_err, worst,
           want.count ? got.data[worst] : 0.0,
           want.count ? want.data[worst] : 0.0, tol);
done:
    rn_array_free(&got);
    rn_array_free(&want);
    return rc;
}
