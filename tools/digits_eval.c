/* digits_eval.c: the held-out digits through rnc's ahead-of-time build of
 * the trained digits model (tools/train_digits.py), by the API rnc
 * generates, compared with PyTorch: the accuracy of each, how many
 * predictions differ, and the largest difference in a probability.
 *
 * Build it with the generated model (compiled without --main), naming the
 * model's prefix and header:
 *   cc -O3 -march=native -DMODEL=digits -DMODEL_H='"digits.h"' -I DIR \
 *      tools/digits_eval.c DIR/digits.c $(rnc --cflags) $(rnc --libs)
 * Run:  digits_eval WEIGHTS.safetensors X.npy LABELS.npy TORCH_PROBS.npy
 *   X [N, H, W, C] (N inputs of the model), LABELS [N] (the true classes),
 *   TORCH_PROBS [N, classes] (PyTorch's outputs), all float32.
 * Exit 1 when a prediction differs from PyTorch's, or on bad data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "rnrt.h"
#include MODEL_H

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define M(x) CAT(MODEL, x)

static rn_i64 argmax(const float *v, rn_i64 n) {
    rn_i64 b = 0;
    for (rn_i64 i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

int main(int argc, char **argv) {
    char err[1024];
    rn_array x = {0}, y = {0}, ref = {0};
    MODEL *m = NULL;
    float out[M(_OUTPUT0_SIZE)];
    int rc = 1;
    if (argc != 5) {
        fprintf(stderr, "usage: %s WEIGHTS.safetensors X.npy LABELS.npy "
                "TORCH_PROBS.npy\n", argv[0]);
        return 2;
    }
    if (rn_npy_read(argv[2], &x, err, sizeof err) ||
        rn_npy_read(argv[3], &y, err, sizeof err) ||
        rn_npy_read(argv[4], &ref, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", argv[0], err);
        goto done;
    }
    rn_i64 n = y.count, k = M(_OUTPUT0_SIZE);
    if (y.rank != 1 || x.count != n * M(_INPUT0_SIZE) || ref.count != n * k) {
        fprintf(stderr, "%s: %lld labels, but %lld inputs of %d values and %lld "
                "outputs of %lld\n", argv[0], n, x.count, M(_INPUT0_SIZE), ref.count, k);
        goto done;
    }
    if (!(m = M(_load)(argv[1], err, sizeof err))) {
        fprintf(stderr, "%s: %s\n", argv[0], err);
        goto done;
    }
    rn_i64 right = 0, torch_right = 0, differ = 0;
    double worst = 0, t0 = rn_now_ms();
    for (rn_i64 i = 0; i < n; i++) {
        M(_run)(m, x.data + i * M(_INPUT0_SIZE), out);
        const float *want = ref.data + i * k;
        rn_i64 got = argmax(out, k), torch = argmax(want, k);
        right += got == (rn_i64)y.data[i];
        torch_right += torch == (rn_i64)y.data[i];
        if (got != torch) {
            differ++;
            printf("  digit %lld: rnc says %lld, PyTorch %lld\n", i, got, torch);
        }
        for (rn_i64 j = 0; j < k; j++) worst = fmax(worst, fabs(out[j] - want[j]));
    }
    double ms = (rn_now_ms() - t0) / (double)n;
    printf("held-out digits: %lld, each run through rnc's build\n", n);
    printf("accuracy: rnc %.2f%% (%lld of %lld), PyTorch %.2f%% (%lld of %lld)\n",
           100.0 * right / n, right, n, 100.0 * torch_right / n, torch_right, n);
    printf("predictions that differ from PyTorch's: %lld of %lld\n", differ, n);
    printf("largest difference in a probability: %.2g\n", worst);
    printf("time: %.4f ms a digit\n", ms);
    rc = differ == 0 && right == torch_right ? 0 : 1;
done:
    M(_free)(m);
    rn_array_free(&x);
    rn_array_free(&y);
    rn_array_free(&ref);
    return rc;
}
