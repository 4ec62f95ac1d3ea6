/* bench_kernel.c: times rn_conv_run on every distinct convolution shape of
 * ResNet-34 at 224x224 and of the seed-000 net (small_residual.rn) at
 * 32x32, and rn_dw_run on MobileNet v1's depthwise shapes at 224x224;
 * then torchvision's ResNet-50 (its 1x1 shapes), MobileNet v3 large and
 * EfficientNet-B0 (their depthwise and 1x1 shapes; the counts are the
 * network's, the totals cover only these shapes),
 * batch 1, at 1 and 2 threads (rn_pool), and sums them into each
 * network's convolution time. Tasks and scratch as the generated code has
 * them (emit_api.c, emit_c.c). Figures only; see tools/bench_kernel.sh.
 *
 *   bench_kernel [peak_gflops_per_core] [seconds_per_shape] [layer]
 *
 * With `layer`, only the shapes whose name contains it (no totals).
 *
 * Peak defaults to 102 GFLOP/s (Zen 3: 2 FMA pipes x 8 floats x 2 flops x
 * 3.2 GHz). Each figure is the fastest of repeated runs, taken in rounds
 * over all shapes: the machine is shared, and the minimum is the least
 * disturbed by other processes. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnrt.h"

typedef struct Shape {
    const char *name;
    int count; /* times the network has it */
    int in, cin, cout, k, s;
    int dw; /* depthwise (cout = cin): rn_dw_run, relu6 */
} Shape;

static const Shape resnet34[] = {
    {"stem 7x7/2 3->64", 1, 224, 3, 64, 7, 2, 0},
    {"3x3 64 @56", 6, 56, 64, 64, 3, 1, 0},
    {"3x3/2 64->128", 1, 56, 64, 128, 3, 2, 0},
    {"1x1/2 64->128", 1, 56, 64, 128, 1, 2, 0},
    {"3x3 128 @28", 7, 28, 128, 128, 3, 1, 0},
    {"3x3/2 128->256", 1, 28, 128, 256, 3, 2, 0},
    {"1x1/2 128->256", 1, 28, 128, 256, 1, 2, 0},
    {"3x3 256 @14", 11, 14, 256, 256, 3, 1, 0},
    {"3x3/2 256->512", 1, 14, 256, 512, 3, 2, 0},
    {"1x1/2 256->512", 1, 14, 256, 512, 1, 2, 0},
    {"3x3 512 @7", 5, 7, 512, 512, 3, 1, 0},
};

static const Shape small_residual[] = {
    {"3x3 3->32 @32", 1, 32, 3, 32, 3, 1, 0},
    {"3x3 32 @32", 1, 32, 32, 32, 3, 1, 0},
    {"1x1/2 3->32", 1, 32, 3, 32, 1, 2, 0},
    {"3x3 32->64 @16", 1, 16, 32, 64, 3, 1, 0},
    {"3x3 64 @16", 1, 16, 64, 64, 3, 1, 0},
    {"1x1/2 32->64", 1, 16, 32, 64, 1, 2, 0},
    {"3x3 64->128 @8", 1, 8, 64, 128, 3, 1, 0},
    {"3x3 128 @8", 1, 8, 128, 128, 3, 1, 0},
    {"1x1 64->128 @8", 1, 8, 64, 128, 1, 1, 0},
};

/* Keras's MobileNet: stride 2 pads one pixel at the bottom and right. */
static const Shape mobilenet_dw[] = {
    {"dw 3x3 32 @112", 1, 112, 32, 32, 3, 1, 1},
    {"dw 3x3/2 64 @112", 1, 112, 64, 64, 3, 2, 1},
    {"dw 3x3 128 @56", 1, 56, 128, 128, 3, 1, 1},
    {"dw 3x3/2 128 @56", 1, 56, 128, 128, 3, 2, 1},
    {"dw 3x3 256 @28", 1, 28, 256, 256, 3, 1, 1},
    {"dw 3x3/2 256 @28", 1, 28, 256, 256, 3, 2, 1},
    {"dw 3x3 512 @14", 5, 14, 512, 512, 3, 1, 1},
    {"dw 3x3/2 512 @14", 1, 14, 512, 512, 3, 2, 1},
    {"dw 3x3 1024 @7", 1, 7, 1024, 1024, 3, 1, 1},
};

/* torchvision's ResNet-50: the shapes ResNet-34 lacks (1x1 bottlenecks). */
static const Shape resnet50[] = {
    {"1x1 64->256 @56", 4, 56, 64, 256, 1, 1, 0},
    {"1x1 256->64 @56", 2, 56, 256, 64, 1, 1, 0},
    {"1x1 256->128 @56", 1, 56, 256, 128, 1, 1, 0},
    {"1x1/2 256->512", 1, 56, 256, 512, 1, 2, 0},
    {"3x3/2 128 @56", 1, 56, 128, 128, 3, 2, 0},
    {"1x1 128->512 @28", 4, 28, 128, 512, 1, 1, 0},
    {"1x1 512->128 @28", 3, 28, 512, 128, 1, 1, 0},
    {"1x1 512->256 @28", 1, 28, 512, 256, 1, 1, 0},
    {"1x1/2 512->1024", 1, 28, 512, 1024, 1, 2, 0},
    {"1x1 256->1024 @14", 6, 14, 256, 1024, 1, 1, 0},
    {"1x1 1024->256 @14", 5, 14, 1024, 256, 1, 1, 0},
    {"1x1 1024->512 @14", 1, 14, 1024, 512, 1, 1, 0},
    {"1x1/2 1024->2048", 1, 14, 1024, 2048, 1, 2, 0},
    {"1x1 512->2048 @7", 3, 7, 512, 2048, 1, 1, 0},
    {"1x1 2048->512 @7", 2, 7, 2048, 512, 1, 1, 0},
};

/* torchvision's MobileNet v3 large: depthwise 3x3 and 5x5 at strides 1
 * and 2 (channels off the vector width too), the widest 1x1s. */
static const Shape mobilenet_v3[] = {
    {"stem 3x3/2 3->16", 1, 224, 3, 16, 3, 2, 0},
    {"dw 3x3 16 @112", 1, 112, 16, 16, 3, 1, 1},
    {"dw 3x3/2 64 @112", 1, 112, 64, 64, 3, 2, 1},
    {"dw 3x3 72 @56", 1, 56, 72, 72, 3, 1, 1},
    {"dw 5x5/2 72 @56", 1, 56, 72, 72, 5, 2, 1},
    {"dw 5x5 120 @28", 2, 28, 120, 120, 5, 1, 1},
    {"dw 3x3/2 240 @28", 1, 28, 240, 240, 3, 2, 1},
    {"dw 3x3 184 @14", 2, 14, 184, 184, 3, 1, 1},
    {"dw 3x3 480 @14", 1, 14, 480, 480, 3, 1, 1},
    {"dw 5x5/2 672 @14", 1, 14, 672, 672, 5, 2, 1},
    {"dw 5x5 960 @7", 2, 7, 960, 960, 5, 1, 1},
    {"1x1 16->64 @112", 1, 112, 16, 64, 1, 1, 0},
    {"1x1 24->72 @56", 2, 56, 24, 72, 1, 1, 0},
    {"1x1 40->120 @28", 2, 28, 40, 120, 1, 1, 0},
    {"1x1 112->672 @14", 2, 14, 112, 672, 1, 1, 0},
    {"1x1 160->960 @7", 3, 7, 160, 960, 1, 1, 0},
    {"1x1 960->160 @7", 2, 7, 960, 160, 1, 1, 0},
};

/* torchvision's EfficientNet-B0: its depthwise layers and 1x1s. */
static const Shape efficientnet[] = {
    {"stem 3x3/2 3->32", 1, 224, 3, 32, 3, 2, 0},
    {"dw 3x3 32 @112", 1, 112, 32, 32, 3, 1, 1},
    {"dw 3x3/2 96 @112", 1, 112, 96, 96, 3, 2, 1},
    {"dw 3x3 144 @56", 1, 56, 144, 144, 3, 1, 1},
    {"dw 5x5/2 144 @56", 1, 56, 144, 144, 5, 2, 1},
    {"dw 5x5 240 @28", 1, 28, 240, 240, 5, 1, 1},
    {"dw 3x3/2 240 @28", 1, 28, 240, 240, 3, 2, 1},
    {"dw 3x3 480 @14", 2, 14, 480, 480, 3, 1, 1},
    {"dw 5x5 672 @14", 2, 14, 672, 672, 5, 1, 1},
    {"dw 5x5 1152 @7", 3, 7, 1152, 1152, 5, 1, 1},
    {"1x1 16->96 @112", 1, 112, 16, 96, 1, 1, 0},
    {"1x1 24->144 @56", 2, 56, 24, 144, 1, 1, 0},
    {"1x1 144->24 @56", 1, 56, 144, 24, 1, 1, 0},
    {"1x1 40->240 @28", 2, 28, 40, 240, 1, 1, 0},
    {"1x1 112->672 @14", 3, 14, 112, 672, 1, 1, 0},
    {"1x1 192->1152 @7", 4, 7, 192, 1152, 1, 1, 0},
    {"1x1 1152->192 @7", 3, 7, 1152, 192, 1, 1, 0},
};

typedef struct Net {
    const char *name;
    const Shape *shapes;
    int n;
} Net;

static const Net nets[] = {
    {"ResNet-34", resnet34, sizeof resnet34 / sizeof resnet34[0]},
    {"seed-000 net", small_residual, sizeof small_residual / sizeof small_residual[0]},
    {"MobileNet v1 depthwise", mobilenet_dw, sizeof mobilenet_dw / sizeof mobilenet_dw[0]},
    {"ResNet-50 1x1", resnet50, sizeof resnet50 / sizeof resnet50[0]},
    {"MobileNet v3", mobilenet_v3, sizeof mobilenet_v3 / sizeof mobilenet_v3[0]},
    {"EfficientNet-B0", efficientnet, sizeof efficientnet / sizeof efficientnet[0]},
};

typedef struct Job {
    const rn_conv *c;
    const rn_dw *d; /* or this */
    const float *in, *packed, *bias, *res;
    float *out;
    int tiles, k;   /* work items; tasks (as generated code: 4 a thread) */
    float *scratch; /* ws floats per worker */
    rn_i64 ws;
} Job;

static void task(void *ctx, int t, int w) {
    Job *j = ctx;
    if (j->d) {
        rn_dw_run(j->d, j->in, j->packed, j->bias, j->out,
                  (int)((rn_i64)t * j->tiles / j->k),
                  (int)((rn_i64)(t + 1) * j->tiles / j->k));
        return;
    }
    rn_conv_run(j->c, j->in, j->packed, j->bias, j->res, j->out,
                (int)((rn_i64)t * j->tiles / j->k),
                (int)((rn_i64)(t + 1) * j->tiles / j->k), j->scratch + w * j->ws);
}

static float *buf(rn_i64 n, rn_rng *g) {
    size_t bytes = ((size_t)n * sizeof(float) + 63) / 64 * 64;
    float *b = aligned_alloc(64, bytes ? bytes : 64);
    if (!b) {
        fprintf(stderr, "bench_kernel: out of memory\n");
        exit(1);
    }
    for (rn_i64 i = 0; i < n; i++) b[i] = rn_rng_uniform(g) - 0.5f;
    return b;
}

/* Fastest milliseconds of one conv over `seconds`, on `pool`. */
static double time_conv(rn_pool *pool, Job *j, double seconds) {
    double t[1000];
    int n = 0, threads = rn_pool_threads(pool);
    j->k = threads > 1 && 4 * threads < j->tiles ? 4 * threads
                                                 : threads > 1 ? j->tiles : 1;
    rn_pool_run(pool, j->k, task, j); /* warm the caches */
    double start = rn_now_ms();
    while (n < 1000 && (n < 5 || rn_now_ms() - start < seconds * 1000)) {
        double t0 = rn_now_ms();
        rn_pool_run(pool, j->k, task, j);
        t[n++] = rn_now_ms() - t0;
    }
    double med, min;
    rn_median_min(t, n, &med, &min);
    (void)med;
    return min;
}

/* One shape, set up. */
typedef struct Bench {
    const Shape *s;
    rn_conv c;
    rn_dw d;
    float *in, *kern, *packed, *bias, *out;
    Job j;
    int tiles;
    double flops, ms[2];
} Bench;

/* A depthwise shape: rows split as emit_c.c splits them. */
static void setup_dw(Bench *b, const Shape *s, rn_rng *g) {
    rn_dw *d = &b->d;
    d->ih = d->iw = s->in, d->c = d->ldi = d->ldo = s->cin, d->mult = 1;
    d->oh = d->ow = s->in / s->s;
    d->kh = d->kw = s->k, d->sh = d->sw = s->s, d->dh = d->dw = 1;
    d->pad_t = d->pad_l = s->s == 1 ? s->k / 2 : 0;
    d->act = RN_ACT_RELU6;
    b->in = buf((rn_i64)d->ih * d->iw * d->c, g);
    b->kern = buf(1, g);
    b->packed = buf((rn_i64)s->k * s->k * d->c, g);
    b->bias = buf(d->c, g);
    b->out = buf((rn_i64)d->oh * d->ow * d->c, g);
    b->tiles = d->oh;
    Job j = {NULL, d, b->in, b->packed, b->bias, NULL, b->out, b->tiles, 1,
             buf(1, g), 0};
    b->j = j;
    b->flops = 2.0 * d->oh * d->ow * d->c * (double)d->kh * d->kw;
    b->ms[0] = b->ms[1] = 1e30;
}

static void setup(Bench *b, const Shape *s, rn_rng *g) {
    rn_conv *c = &b->c;
    memset(b, 0, sizeof *b);
    b->s = s;
    if (s->dw) {
        setup_dw(b, s, g);
        return;
    }
    c->ih = c->iw = s->in, c->cin = c->ldi = s->cin;
    c->oh = c->ow = s->in / s->s, c->cout = c->ldo = s->cout;
    c->kh = c->kw = s->k, c->sh = c->sw = s->s, c->dh = c->dw = 1;
    /* Keras 'same': the odd pixel of padding goes at the bottom/right */
    int pad = (c->oh - 1) * s->s + s->k - s->in;
    c->pad_t = c->pad_l = pad > 0 ? pad / 2 : 0;
    c->act = RN_ACT_RELU;
    b->in = buf((rn_i64)c->ih * c->iw * c->cin, g);
    b->kern = buf((rn_i64)s->k * s->k * c->cin * c->cout, g);
    b->packed = buf(rn_conv_packed_floats(c), g);
    b->bias = buf(c->cout, g);
    b->out = buf((rn_i64)c->oh * c->ow * c->cout, g);
    rn_conv_pack(c, b->kern, c->cout, NULL, b->packed);
    b->tiles = rn_conv_tiles(c);
    rn_i64 ws = rn_conv_scratch_floats(c);
    Job j = {c, NULL, b->in, b->packed, b->bias, NULL, b->out, b->tiles, 1,
             buf(2 * ws, g), ws};
    b->j = j;
    b->flops = 2.0 * c->oh * c->ow * c->cout * (double)c->kh * c->kw * c->cin;
    b->ms[0] = b->ms[1] = 1e30;
}

/* One network's shapes (those whose name contains `only`, if given):
 * timed, printed, summed. */
static void bench_net(const Net *net, rn_pool *pools[2], double peak,
                      double seconds, const char *only, rn_rng *g) {
    enum { MAX_SHAPES = 24, ROUNDS = 4 };
    Bench b[MAX_SHAPES];
    int nb = 0;
    for (int i = 0; i < net->n && nb < MAX_SHAPES; i++)
        if (!only || strstr(net->shapes[i].name, only)) setup(&b[nb++], &net->shapes[i], g);
    if (!nb) return;
    /* Rounds over all shapes: a burst of other work on the machine spoils
     * one round of a shape, not all of them. */
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < nb; i++)
            for (int t = 0; t < 2; t++) {
                double ms = time_conv(pools[t], &b[i].j, seconds / ROUNDS);
                if (ms < b[i].ms[t]) b[i].ms[t] = ms;
            }
    double total[2] = {0, 0}, total_flops = 0;
    printf("%s\n%-18s %3s %7s %5s | %8s %7s %5s | %8s %7s %5s | %5s\n", net->name,
           "layer", "n", "MFLOP", "items", "1T ms", "GFLOP/s", "%pk", "2T ms",
           "GFLOP/s", "%pk", "x2");
    for (int i = 0; i < nb; i++) {
        const Shape *s = b[i].s;
        double *ms = b[i].ms, flops = b[i].flops;
        for (int t = 0; t < 2; t++) total[t] += s->count * ms[t];
        total_flops += s->count * flops;
        double g1 = flops / ms[0] / 1e6, g2 = flops / ms[1] / 1e6;
        printf("%-18s %3d %7.1f %5d | %8.3f %7.1f %4.0f%% | %8.3f %7.1f %4.0f%% | %5.2f\n",
               s->name, s->count, flops / 1e6, b[i].tiles, ms[0], g1,
               100 * g1 / peak, ms[1], g2, 100 * g2 / (2 * peak), ms[0] / ms[1]);
        free(b[i].in), free(b[i].kern), free(b[i].packed), free(b[i].bias);
        free(b[i].out), free(b[i].j.scratch);
    }
    for (int t = 0; t < 2 && !only; t++) {
        double gf = total_flops / total[t] / 1e6;
        printf("%s convs, %d thread%s: %.3f ms, %.1f GFLOP/s of %.3f GFLOP, "
               "%.0f%% of peak\n", net->name, t + 1, t ? "s" : "", total[t], gf,
               total_flops / 1e9, 100 * gf / ((t + 1) * peak));
    }
    if (!only) printf("scaling 1->2 threads: %.2fx\n", total[0] / total[1]);
    printf("\n");
}

int main(int argc, char **argv) {
    double peak = argc > 1 ? atof(argv[1]) : 102.0;
    double seconds = argc > 2 ? atof(argv[2]) : 0.3;
    const char *only = argc > 3 ? argv[3] : NULL;
    rn_pool *pools[2] = {rn_pool_new(1), rn_pool_new(2)};
    rn_rng g;
    rn_rng_seed(&g, 1);
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        bench_net(&nets[i], pools, peak, seconds, only, &g);
    rn_pool_free(pools[0]);
    rn_pool_free(pools[1]);
    return 0;
}
