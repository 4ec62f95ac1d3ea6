/* concurrent: runs one generated model as several instances on as many
 * threads at once, and checks every result is bit-identical to a single
 * run (tests/e2e/concurrency.sh).
 *
 *   cc -DMODEL=small_residual -include small_residual.h concurrent.c ...
 *   concurrent WEIGHTS INSTANCES ITERATIONS
 *
 * The model must have one input and one output. Instance i runs with
 * (i % 2) + 1 threads of its own, so pools run side by side as well. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnrt.h"

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define M(x) CAT(MODEL, x)

enum { NINPUTS = 4, MAX_INSTANCES = 16 };

typedef struct Worker {
    pthread_t thread;
    MODEL *m;
    int id, iterations, mismatches;
    float *out;
} Worker;

static float *inputs[NINPUTS], *refs[NINPUTS];

static void *work(void *arg) {
    Worker *w = arg;
    for (int it = 0; it < w->iterations; it++) {
        int k = (w->id + it) % NINPUTS;
        memset(w->out, 0xff, sizeof(float) * M(OUTPUT0_SIZE)); /* NaNs */
        M(run)(w->m, inputs[k], w->out);
        if (memcmp(w->out, refs[k], sizeof(float) * M(OUTPUT0_SIZE)))
            w->mismatches++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: concurrent WEIGHTS INSTANCES ITERATIONS\n");
        return 2;
    }
    int n = atoi(argv[2]), iterations = atoi(argv[3]);
    if (n < 1 || n > MAX_INSTANCES || iterations < 1) return 2;
    char err[512];
    Worker w[MAX_INSTANCES];
    for (int i = 0; i < n; i++) {
        w[i] = (Worker){.id = i, .iterations = iterations};
        if (!(w[i].m = M(load)(argv[1], err, sizeof err))) {
            fprintf(stderr, "concurrent: %s\n", err);
            return 1;
        }
        if (M(set_threads)(w[i].m, i % 2 + 1) != 0) return 1;
        w[i].out = malloc(sizeof(float) * M(OUTPUT0_SIZE));
    }
    /* references: one run at a time on a fresh single-threaded instance */
    MODEL *single = M(load)(argv[1], err, sizeof err);
    if (!single) return 1;
    rn_rng r;
    rn_rng_seed(&r, 42);
    for (int k = 0; k < NINPUTS; k++) {
        inputs[k] = malloc(sizeof(float) * M(INPUT0_SIZE));
        refs[k] = malloc(sizeof(float) * M(OUTPUT0_SIZE));
        for (int j = 0; j < M(INPUT0_SIZE); j++)
            inputs[k][j] = 255 * rn_rng_uniform(&r);
        M(run)(single, inputs[k], refs[k]);
    }
    M(free)(single);
    for (int i = 0; i < n; i++)
        if (pthread_create(&w[i].thread, NULL, work, &w[i]) != 0) return 1;
    int bad = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(w[i].thread, NULL);
        if (w[i].mismatches)
            fprintf(stderr, "concurrent: instance %d: %d of %d runs differ "
                    "from the single run\n", i, w[i].mismatches, iterations);
        bad += w[i].mismatches;
        M(free)(w[i].m);
        free(w[i].out);
    }
    for (int k = 0; k < NINPUTS; k++) free(inputs[k]), free(refs[k]);
    printf("%d instances x %d runs: %s\n", n, iterations,
           bad ? "MISMATCH" : "all identical to the single run");
    return bad ? 1 : 0;
}
