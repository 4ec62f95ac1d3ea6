/* weights.c: `rnc --init-weights`, a safetensors file holding every tensor
 * of every node, drawn as a fresh Keras model would draw them.
 *
 * Keras's initializers: kernels glorot-uniform, biases, betas and PReLU's
 * alpha zeros, gammas ones, BatchNorm's and Normalization's statistics 0
 * and 1 (and a count of 0).
 * Glorot's fans are Keras's (initializers._compute_fans):
 * for a kernel of shape [..., a, b] the receptive field is the product of
 * the leading dims, fan_in = field * a and fan_out = field * b. So a conv2d
 * kernel [kh, kw, cin/groups, filters] has fan_in kh*kw*cin/groups, a
 * depthwise kernel [kh, kw, cin, mult] has fan_in kh*kw*cin and fan_out
 * kh*kw*mult, a dense kernel [in, units] has fan_in in, fan_out units.
 *
 * Every tensor draws from its own generator, seeded by the seed and the
 * tensor's name, so a tensor's values do not depend on the rest of the
 * graph (editing one layer of a test net leaves the others unchanged). */
#include "rnc.h"
#include "rnrt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What `random` draws beyond Keras's defaults: small signed offsets, and
 * scales and variances around 1 so activations keep their magnitude. */
#define RANDOM_SHIFT 0.25 /* bias, beta, moving_mean, PReLU's alpha,
                             Normalization's mean: U(-0.25, 0.25) */
#define RANDOM_SCALE_LO 0.5 /* gamma, moving_variance, Normalization's
                               variance: U(0.5, 1.5) */
#define MAX_WEIGHT_FLOATS ((int64_t)1 << 30) /* 4 GiB of float32 */

/* FNV-1a: mixes the tensor's name into its generator's seed. */
static uint64_t name_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

uint64_t weights_tensor_seed(uint64_t seed, const char *name) {
    return seed * 0x9e3779b97f4a7c15ull ^ name_hash(name);
}

void weights_glorot_fans(const WeightSpec *w, double *fan_in,
                         double *fan_out) {
    if (w->rank < 2) {
        *fan_in = *fan_out = w->rank == 1 ? (double)w->dims[0] : 1;
        return;
    }
    double field = 1;
    for (int i = 0; i < w->rank - 2; i++) field *= (double)w->dims[i];
    *fan_in = field * (double)w->dims[w->rank - 2];
    *fan_out = field * (double)w->dims[w->rank - 1];
}

static void fill_uniform(float *v, int64_t n, rn_rng *r, double lo,
                         double hi) {
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)(lo + (hi - lo) * rn_rng_uniform(r));
}

static void fill_const(float *v, int64_t n, float c) {
    for (int64_t i = 0; i < n; i++) v[i] = c;
}

/* Fills one tensor by its Keras parameter name. */
static void fill_tensor(const WeightSpec *w, float *v, int64_t n,
                        uint64_t seed, const char *name, bool random) {
    rn_rng r;
    rn_rng_seed(&r, weights_tensor_seed(seed, name));
    const char *s = w->suffix;
    if (!strcmp(s, "kernel") || !strcmp(s, "depthwise_kernel")) {
        double fi, fo;
        weights_glorot_fans(w, &fi, &fo);
        double limit = sqrt(6.0 / (fi + fo));
        fill_uniform(v, n, &r, -limit, limit);
    } else if (!strcmp(s, "gamma") || !strcmp(s, "moving_variance") ||
               !strcmp(s, "variance")) {
        if (random)
            fill_uniform(v, n, &r, RANDOM_SCALE_LO, RANDOM_SCALE_LO + 1);
        else
            fill_const(v, n, 1);
    } else if (!strcmp(s, "bias") || !strcmp(s, "beta") ||
               !strcmp(s, "moving_mean") || !strcmp(s, "alpha") ||
               !strcmp(s, "mean")) {
        if (random)
            fill_uniform(v, n, &r, -RANDOM_SHIFT, RANDOM_SHIFT);
        else
            fill_const(v, n, 0);
    } else if (!strcmp(s, "count")) {
        fill_const(v, n, 0); /* Normalization's count of samples seen */
    } else {
        die("weights_init: no initializer for '%s'", name);
    }
}

/* Elements of a tensor, or -1 past what a safetensors file can hold. */
static int64_t spec_count(const WeightSpec *w) {
    int64_t n = 1;
    for (int i = 0; i < w->rank; i++) {
        if (w->dims[i] < 0) return -1;
        if (w->dims[i] && n > (INT64_MAX / 4) / w->dims[i]) return -1;
        n *= w->dims[i];
    }
    return n;
}

int weights_init(const Graph *g, const char *path, uint64_t seed, bool random,
                 char *err, size_t errlen) {
    int cap = 0, n = 0;
    int64_t floats = 0;
    for (int i = 0; i < g->nnodes; i++) {
        WeightSpec ws[MAX_WEIGHTS];
        int k = node_weights(g->nodes[i], ws);
        for (int j = 0; j < k; j++) {
            int64_t c = spec_count(&ws[j]);
            if (floats >= 0)
                floats = c < 0 || floats > MAX_WEIGHT_FLOATS ? -1 : floats + c;
        }
        cap += k;
    }
    /* The tensors and the file's image are both in memory while writing:
     * refuse before allocating rather than be killed halfway. */
    if (floats < 0 || floats > MAX_WEIGHT_FLOATS) {
        snprintf(err, errlen, "%s: the model's weights are over %d GiB; "
                 "--init-weights writes at most that", path,
                 (int)(MAX_WEIGHT_FLOATS >> 28));
        return -1;
    }
    rn_st_tensor *t = calloc(cap ? (size_t)cap : 1, sizeof *t);
    Arena *names = arena_new();
    int rc = -1;
    if (!t) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < g->nnodes; i++) {
        const GNode *node = g->nodes[i];
        WeightSpec ws[MAX_WEIGHTS];
        int k = node_weights(node, ws);
        for (int j = 0; j < k; j++) {
            const char *name = arena_printf(names, "%s.%s", node->path,
                                            ws[j].suffix);
            int64_t count = spec_count(&ws[j]);
            float *v = count < 0 ? NULL
                                 : malloc(count ? (size_t)count * 4 : 1);
            if (!v) {
                snprintf(err, errlen, "%s: no memory for tensor '%s'", path,
                         name);
                goto done;
            }
            fill_tensor(&ws[j], v, count, seed, name, random);
            rn_st_tensor *st = &t[n++];
            st->name = name;
            st->rank = ws[j].rank;
            for (int d = 0; d < ws[j].rank; d++) st->dims[d] = ws[j].dims[d];
            st->data = v;
        }
    }
    rc = rn_st_write(path, t, n, err, errlen) == 0 ? 0 : -1;
done:
    for (int i = 0; i < n; i++) free((void *)t[i].data);
    free(t);
    arena_free(names);
    return rc;
}
