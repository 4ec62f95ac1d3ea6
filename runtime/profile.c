/* profile.c: where a model's time goes, layer by layer (rnrt.h:
 * rn_profile_*, rn_peak_gflops).
 *
 * Used by `rnc --run --profile` and by --main programs' --profile through
 * the generated code's per-layer hook: each call reads the monotonic clock
 * and charges the time since the previous call to the row whose code ran
 * (a fused row's time, a few nanoseconds of hook, goes to its absorber;
 * an alias's to the code before it). So the rows of a run add up to the
 * time from the run's start to its last layer, and the table says how
 * that sum compares with the time the caller measured around the runs.
 * No global state: a profile lives in the caller's object. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnrt.h"
#include "internal.h"

#ifdef RN_DISPATCH_AVX2
#include <immintrin.h>
#endif

enum { MAX_RUNS = 10000 }; /* runs kept; later ones are not counted */

struct rn_profile {
    const rn_layer *layers;
    int n;
    int cap, runs;
    double *ms;     /* [cap][n]: each kept run's time by row */
    double *run_ms; /* [cap]: each kept run's time measured by the caller */
    double *cur;    /* [n]: the run in progress */
    double last;    /* the clock at the previous hook call */
    int last_code;  /* the last row whose code ran in this run */
};

rn_profile *rn_profile_new(const rn_layer *layers, int n, int runs) {
    rn_profile *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->layers = layers;
    p->n = n;
    p->cap = runs < 1 ? 1 : runs > MAX_RUNS ? MAX_RUNS : runs;
    p->ms = calloc((size_t)p->cap * (size_t)(n + 1), sizeof *p->ms);
    p->run_ms = calloc((size_t)p->cap, sizeof *p->run_ms);
    p->cur = calloc((size_t)n + 1, sizeof *p->cur);
    p->last_code = -1;
    if (!p->ms || !p->run_ms || !p->cur) {
        rn_profile_free(p);
        return NULL;
    }
    return p;
}

void rn_profile_free(rn_profile *p) {
    if (!p) return;
    free(p->ms);
    free(p->run_ms);
    free(p->cur);
    free(p);
}

void rn_profile_hook(void *ctx, int layer, const float *value) {
    rn_profile *p = ctx;
    double now = rn_now_ms();
    (void)value;
    if (layer < 0 || layer >= p->n) { /* a run starts */
        memset(p->cur, 0, (size_t)p->n * sizeof *p->cur);
        p->last = now;
        p->last_code = -1;
        return;
    }
    int row = p->layers[layer].code;
    if (row == layer) p->last_code = layer;
    if (row < 0 || row >= p->n) row = p->last_code >= 0 ? p->last_code : layer;
    p->cur[row] += now - p->last;
    p->last = now;
}

void rn_profile_run_done(rn_profile *p, double run_ms) {
    if (p->runs >= p->cap) return;
    memcpy(p->ms + (size_t)p->runs * (size_t)p->n, p->cur,
           (size_t)p->n * sizeof *p->cur);
    p->run_ms[p->runs++] = run_ms;
}

/* The kept runs ranked by their time: idx[lo, hi) are the middle third
 * (all of them when there are fewer than three). */
static void middle_runs(const rn_profile *p, int *idx, int *lo, int *hi) {
    for (int r = 0; r < p->runs; r++) idx[r] = r;
    for (int r = 1; r < p->runs; r++) { /* insertion sort: stable, runs are few */
        int k = idx[r], j = r;
        while (j > 0 && p->run_ms[idx[j - 1]] > p->run_ms[k]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = k;
    }
    *lo = p->runs / 3;
    *hi = p->runs - p->runs / 3;
}

/* A row's time: its mean over the middle runs (the runs around the median
 * run), so that the rows add up to those runs' mean. */
static double row_ms(const rn_profile *p, int row, const int *idx, int lo, int hi) {
    double sum = 0;
    for (int k = lo; k < hi; k++) sum += p->ms[(size_t)idx[k] * (size_t)p->n + (size_t)row];
    return hi > lo ? sum / (hi - lo) : 0;
}

double rn_profile_ms(const rn_profile *p, int layer) {
    if (layer < 0 || layer >= p->n || p->layers[layer].code != layer || p->runs == 0)
        return -1;
    int *idx = malloc((size_t)p->runs * sizeof *idx), lo, hi;
    if (!idx) return -1;
    middle_runs(p, idx, &lo, &hi);
    double ms = row_ms(p, layer, idx, lo, hi);
    free(idx);
    return ms;
}

#ifdef RN_DISPATCH_AVX2
/* Ten independent chains of 8-lane FMAs (a = a * c + b converges: no
 * overflow, no denormals): enough in flight for two FMA units. */
#define FMA10(f)                                                           \
    (a0 = f(a0, c, b), a1 = f(a1, c, b), a2 = f(a2, c, b), a3 = f(a3, c, b), \
     a4 = f(a4, c, b), a5 = f(a5, c, b), a6 = f(a6, c, b), a7 = f(a7, c, b), \
     a8 = f(a8, c, b), a9 = f(a9, c, b))
__attribute__((target("avx2,fma"))) static float fma_loop_avx2(long iters) {
    __m256 b = _mm256_set1_ps(1e-7f), c = _mm256_set1_ps(0.999f);
    __m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2),
           a3 = _mm256_set1_ps(3), a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5),
           a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7), a8 = _mm256_set1_ps(8),
           a9 = _mm256_set1_ps(9);
    for (long i = 0; i < iters; i++) FMA10(_mm256_fmadd_ps);
    a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                       _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    a0 = _mm256_add_ps(a0, _mm256_add_ps(a8, a9));
    float out[8], s = 0;
    _mm256_storeu_ps(out, a0);
    for (int k = 0; k < 8; k++) s += out[k];
    return s;
}

/* The same on 16 lanes, for CPUs whose kernels run on AVX-512. */
__attribute__((target("avx512f"))) static float fma_loop_avx512(long iters) {
    __m512 b = _mm512_set1_ps(1e-7f), c = _mm512_set1_ps(0.999f);
    __m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2),
           a3 = _mm512_set1_ps(3), a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5),
           a6 = _mm512_set1_ps(6), a7 = _mm512_set1_ps(7), a8 = _mm512_set1_ps(8),
           a9 = _mm512_set1_ps(9);
    for (long i = 0; i < iters; i++) FMA10(_mm512_fmadd_ps);
    a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                       _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    a0 = _mm512_add_ps(a0, _mm512_add_ps(a8, a9));
    float out[16], s = 0;
    _mm512_storeu_ps(out, a0);
    for (int k = 0; k < 16; k++) s += out[k];
    return s;
}
#endif

/* The same flops in plain C, for machines without AVX2. */
static float fma_loop_portable(long iters) {
    float a[10], s = 0;
    for (int k = 0; k < 10; k++) a[k] = (float)k;
    for (long i = 0; i < iters; i++)
        for (int k = 0; k < 10; k++) a[k] = a[k] * 0.999f + 1e-7f;
    for (int k = 0; k < 10; k++) s += a[k];
    return s;
}

double rn_peak_gflops(int *measured) {
    const char *env = getenv("RNC_PEAK_GFLOPS");
    char *end;
    double v = env ? strtod(env, &end) : 0;
    if (env && *env && !*end && v > 0) {
        *measured = 0;
        return v;
    }
    *measured = 1;
    enum { ITERS = 1 << 19, TRIES = 5 };
    int lanes = rn_isa_level() >= RN_LEVEL_AVX512 ? 16 : rn_k_have_avx2() ? 8 : 1;
    double best = 0;
    volatile float sink = 0;
    for (int t = 0; t < TRIES; t++) {
        double t0 = rn_now_ms();
#ifdef RN_DISPATCH_AVX2
        if (lanes == 16) sink += fma_loop_avx512(ITERS);
        if (lanes == 8) sink += fma_loop_avx2(ITERS);
#endif
        if (lanes == 1) sink += fma_loop_portable(ITERS);
        double ms = rn_now_ms() - t0;
        double flops = 2.0 * 10 * lanes * (double)ITERS;
        if (ms > 0 && flops / ms / 1e6 > best) best = flops / ms / 1e6;
    }
    (void)sink;
    return best;
}

/* The rows with code, slowest first. */
typedef struct Row {
    int layer;
    double ms, macs;
} Row;

static int by_time(const void *a, const void *b) {
    const Row *x = a, *y = b;
    if (x->ms != y->ms) return x->ms < y->ms ? 1 : -1;
    return x->layer - y->layer;
}

static void print_rule(char c, int width) {
    for (int i = 0; i < width; i++) putchar(c);
    putchar('\n');
}

void rn_profile_print(const rn_profile *p, const char *model, int threads) {
    if (p->runs == 0) {
        printf("Profile of \"%s\": no runs\n", model);
        return;
    }
    Row *rows = calloc((size_t)p->n + 1, sizeof *rows);
    int *idx = malloc(((size_t)p->runs + 1) * sizeof *idx), lo, hi;
    if (!rows || !idx) {
        free(rows);
        free(idx);
        printf("Profile of \"%s\": out of memory\n", model);
        return;
    }
    /* by row: the MACs of all it runs; the rows fused into it, as lists
     * through next (in order) */
    double *macs = calloc((size_t)p->n + 1, sizeof *macs);
    int *first = malloc(((size_t)p->n + 1) * sizeof *first);
    int *next = malloc(((size_t)p->n + 1) * sizeof *next);
    if (!macs || !first || !next) {
        free(macs);
        free(first);
        free(next);
        free(rows);
        free(idx);
        printf("Profile of \"%s\": out of memory\n", model);
        return;
    }
    middle_runs(p, idx, &lo, &hi);
    int nrows = 0, width = 28;
    double total = 0, total_macs = 0;
    for (int i = 0; i < p->n; i++) first[i] = next[i] = -1;
    for (int i = p->n - 1; i >= 0; i--) {
        int c = p->layers[i].code;
        if (c < 0 || c >= p->n) continue;
        macs[c] += (double)p->layers[i].macs;
        if (c != i) {
            next[i] = first[c];
            first[c] = i;
        }
    }
    for (int i = 0; i < p->n; i++) {
        const rn_layer *l = &p->layers[i];
        int w = (int)(strlen(l->name) + strlen(l->type)) + 3;
        if (l->code == i) {
            rows[nrows].layer = i;
            rows[nrows].ms = row_ms(p, i, idx, lo, hi);
            rows[nrows].macs = macs[i];
            total += rows[nrows].ms;
            total_macs += rows[nrows].macs;
            nrows++;
        }
        if (l->code >= 0 && w > width) width = w;
    }
    if (width > 64) width = 64;
    qsort(rows, (size_t)nrows, sizeof *rows, by_time);
    int measured;
    double peak = rn_peak_gflops(&measured) * (threads > 0 ? threads : 1);
    double whole = 0, run_med, run_min;
    for (int k = lo; k < hi; k++) whole += p->run_ms[idx[k]];
    whole /= hi - lo;
    rn_median_min(p->run_ms, p->runs, &run_med, &run_min);

    printf("Profile of \"%s\": %d run%s, %d thread%s; peak %.1f GFLOP/s (%s)\n", model,
           p->runs, p->runs == 1 ? "" : "s", threads, threads == 1 ? "" : "s", peak,
           measured ? "measured: a core's FMA loop, times the threads"
                    : "RNC_PEAK_GFLOPS, times the threads");
    printf("ms: a layer's mean over the middle third of the runs by time (%d of %d, "
           "around the median run)\n", hi - lo, p->runs);
    int line = width + 44;
    print_rule('_', line);
    printf(" %-*s %10s %9s %7s %7s\n", width, "Layer (type)", "ms", "GFLOP/s",
           "% peak", "share");
    print_rule('=', line);
    for (int r = 0; r < nrows; r++) {
        const rn_layer *l = &p->layers[rows[r].layer];
        char title[256], gf[32] = "-", pk[32] = "-";
        snprintf(title, sizeof title, "%s (%s)", l->name, l->type);
        if (rows[r].macs > 0 && rows[r].ms > 0) {
            double g = 2 * rows[r].macs / rows[r].ms / 1e6;
            snprintf(gf, sizeof gf, "%.2f", g);
            if (peak > 0) snprintf(pk, sizeof pk, "%.1f", 100 * g / peak);
        }
        printf(" %-*s %10.3f %9s %7s %6.1f%%\n", width, title, rows[r].ms, gf, pk,
               total > 0 ? 100 * rows[r].ms / total : 0.0);
        for (int j = first[rows[r].layer]; j >= 0; j = next[j])
            printf("   + %s (%s), fused into it\n", p->layers[j].name, p->layers[j].type);
    }
    print_rule('=', line);
    char gf[32] = "-", pk[32] = "-";
    if (total > 0 && total_macs > 0) {
        double g = 2 * total_macs / total / 1e6;
        snprintf(gf, sizeof gf, "%.2f", g);
        if (peak > 0) snprintf(pk, sizeof pk, "%.1f", 100 * g / peak);
    }
    printf(" %-*s %10.3f %9s %7s %6.1f%%\n", width, "Total (sum of the layers)",
           total, gf, pk, 100.0);
    printf("Measured around those runs: %.3f ms (mean; the median run %.3f ms); "
           "the layers add up to %.1f%% of it\n", whole, run_med,
           whole > 0 ? 100 * total / whole : 0.0);
    if (peak > 0 && total_macs > 0)
        printf("GFLOP/s counts 2 x MACs of a direct convolution: Winograd layers "
               "multiply less, and may pass 100%% of peak\n");
    free(macs);
    free(first);
    free(next);
    free(rows);
    free(idx);
}
