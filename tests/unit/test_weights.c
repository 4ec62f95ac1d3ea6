/* test_weights.c: weights_init (rnc --init-weights): Keras's fans, glorot
 * limits and statistics, constant and random initializers, determinism,
 * pinned values, and a refused path. Reads files back with librnrt. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rnc.h"
#include "rnrt.h"
#include "unit.h"

/* A hand-built graph (as elaborate + shape_infer would leave it):
 *   image[8, 8, 4] -> conv2d(16, 3, same) -> batchnorm
 *                  -> depthwise_conv2d(3, multiplier=2)
 *   v[50] -> dense(200) */
typedef struct TestGraph {
    Arena *a;
    Graph g;
} TestGraph;

static GNode *add_node(TestGraph *t, OpKind op, const char *path, GNode *in,
                       Shape out) {
    Graph *g = &t->g;
    GNode *n = arena_alloc(t->a, sizeof *n);
    n->id = g->nnodes;
    n->op = op;
    n->name = n->path = path;
    if (in) {
        n->in = arena_alloc(t->a, sizeof *n->in);
        n->in[0] = in;
        n->nin = 1;
    }
    n->out = out;
    n->kh = n->kw = 3;
    n->sh = n->sw = n->dh = n->dw = 1;
    n->groups = n->multiplier = 1;
    n->bias = true;
    n->epsilon = 1e-3;
    g->nodes[g->nnodes++] = n;
    return n;
}

static void build(TestGraph *t) {
    t->a = arena_new();
    memset(&t->g, 0, sizeof t->g);
    t->g.name = "wtest";
    t->g.nodes = arena_alloc(t->a, 8 * sizeof(GNode *));
    GNode *img = add_node(t, OP_INPUT, "image", NULL, (Shape){3, {8, 8, 4}});
    GNode *conv = add_node(t, OP_CONV2D, "conv2d", img, (Shape){3, {8, 8, 16}});
    conv->filters = 16;
    add_node(t, OP_BATCHNORM, "batch_normalization", conv,
             (Shape){3, {8, 8, 16}});
    GNode *dw = add_node(t, OP_DEPTHWISE_CONV2D, "depthwise_conv2d", img,
                         (Shape){3, {6, 6, 8}});
    dw->multiplier = 2;
    GNode *v = add_node(t, OP_INPUT, "v", NULL, (Shape){1, {50}});
    GNode *d = add_node(t, OP_DENSE, "dense", v, (Shape){1, {200}});
    d->filters = 200;
}

static char path_a[64], path_b[64];

static void make_paths(void) {
    snprintf(path_a, sizeof path_a, "/tmp/rnc_wtest_%ld_a.safetensors",
             (long)getpid());
    snprintf(path_b, sizeof path_b, "/tmp/rnc_wtest_%ld_b.safetensors",
             (long)getpid());
}

/* Reads tensor `name` of the given dims into a malloc'd array, or NULL. */
static float *read_tensor(const char *path, const char *name, int rank,
                          const rn_i64 *dims, rn_i64 count) {
    char err[256];
    rn_safetensors *st = rn_st_open(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    float *v = malloc((size_t)count * sizeof *v);
    int rc = rn_st_read_f32(st, name, rank, dims, v, err, sizeof err);
    if (rc != 0) fprintf(stderr, "\n%s\n", err);
    CU_ASSERT_EQUAL(rc, 0);
    rn_st_close(st);
    if (rc != 0) {
        free(v);
        return NULL;
    }
    return v;
}

static void test_fans(void) {
    double fi, fo;
    WeightSpec conv = {"kernel", 4, {3, 3, 4, 8}, true};
    weights_glorot_fans(&conv, &fi, &fo);
    CU_ASSERT_DOUBLE_EQUAL(fi, 36, 0); /* kh*kw*cin/groups */
    CU_ASSERT_DOUBLE_EQUAL(fo, 72, 0); /* kh*kw*filters */
    WeightSpec dw = {"depthwise_kernel", 4, {5, 3, 16, 2}, true};
    weights_glorot_fans(&dw, &fi, &fo);
    CU_ASSERT_DOUBLE_EQUAL(fi, 240, 0); /* kh*kw*cin */
    CU_ASSERT_DOUBLE_EQUAL(fo, 30, 0);  /* kh*kw*multiplier */
    WeightSpec dense = {"kernel", 2, {100, 10}, true};
    weights_glorot_fans(&dense, &fi, &fo);
    CU_ASSERT_DOUBLE_EQUAL(fi, 100, 0);
    CU_ASSERT_DOUBLE_EQUAL(fo, 10, 0);
}

static void test_tensor_seeds(void) {
    CU_ASSERT_NOT_EQUAL(weights_tensor_seed(1, "conv2d.kernel"),
                        weights_tensor_seed(1, "conv2d_1.kernel"));
    CU_ASSERT_NOT_EQUAL(weights_tensor_seed(1, "conv2d.kernel"),
                        weights_tensor_seed(2, "conv2d.kernel"));
    CU_ASSERT_EQUAL(weights_tensor_seed(7, "dense.bias"),
                    weights_tensor_seed(7, "dense.bias"));
}

/* Glorot-uniform: inside +-limit, mean 0, variance limit^2/3. */
static void test_glorot_statistics(void) {
    TestGraph t;
    build(&t);
    char err[256];
    CU_ASSERT_EQUAL_FATAL(weights_init(&t.g, path_a, 3, false, err, sizeof err), 0);
    rn_i64 dims[2] = {50, 200};
    float *k = read_tensor(path_a, "dense.kernel", 2, dims, 10000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    double limit = sqrt(6.0 / 250), sum = 0, sq = 0, lo = 1, hi = -1;
    for (int i = 0; i < 10000; i++) {
        sum += k[i];
        sq += (double)k[i] * k[i];
        lo = fmin(lo, k[i]);
        hi = fmax(hi, k[i]);
    }
    double mean = sum / 10000, var = sq / 10000 - mean * mean;
    CU_ASSERT(lo >= -limit && hi <= limit);
    CU_ASSERT(lo < -0.98 * limit && hi > 0.98 * limit); /* spans the range */
    CU_ASSERT(fabs(mean) < 0.02 * limit);
    CU_ASSERT(fabs(var / (limit * limit / 3) - 1) < 0.05);
    free(k);

    rn_i64 cd[4] = {3, 3, 4, 16};
    k = read_tensor(path_a, "conv2d.kernel", 4, cd, 576);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    limit = sqrt(6.0 / (36 + 144));
    lo = 1, hi = -1;
    for (int i = 0; i < 576; i++) lo = fmin(lo, k[i]), hi = fmax(hi, k[i]);
    CU_ASSERT(lo >= -limit && hi <= limit && lo < -0.9 * limit &&
              hi > 0.9 * limit);
    free(k);

    rn_i64 dd[4] = {3, 3, 4, 2};
    k = read_tensor(path_a, "depthwise_conv2d.depthwise_kernel", 4, dd, 72);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    limit = sqrt(6.0 / (36 + 18));
    lo = 1, hi = -1;
    for (int i = 0; i < 72; i++) lo = fmin(lo, k[i]), hi = fmax(hi, k[i]);
    CU_ASSERT(lo >= -limit && hi <= limit && hi - lo > limit);
    free(k);
    remove(path_a);
    arena_free(t.a);
}

/* Every tensor is present under its Keras name; constants as Keras sets. */
static void test_defaults(void) {
    TestGraph t;
    build(&t);
    char err[256];
    CU_ASSERT_EQUAL_FATAL(weights_init(&t.g, path_a, 3, false, err, sizeof err), 0);
    rn_safetensors *st = rn_st_open(path_a, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(rn_st_count(st), 10);
    rn_st_close(st);
    struct { const char *name; rn_i64 n; float want; } c[] = {
        {"conv2d.bias", 16, 0},
        {"batch_normalization.gamma", 16, 1},
        {"batch_normalization.beta", 16, 0},
        {"batch_normalization.moving_mean", 16, 0},
        {"batch_normalization.moving_variance", 16, 1},
        {"depthwise_conv2d.bias", 8, 0},
        {"dense.bias", 200, 0},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        float *v = read_tensor(path_a, c[i].name, 1, &c[i].n, c[i].n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        for (rn_i64 j = 0; j < c[i].n; j++) CU_ASSERT_EQUAL(v[j], c[i].want);
        free(v);
    }
    remove(path_a);
    arena_free(t.a);
}

/* --random draws the non-kernel tensors; kernels stay as without it. */
static void test_random(void) {
    TestGraph t;
    build(&t);
    char err[256];
    CU_ASSERT_EQUAL_FATAL(weights_init(&t.g, path_a, 9, false, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(weights_init(&t.g, path_b, 9, true, err, sizeof err), 0);
    rn_i64 n = 16;
    const char *shifts[] = {"conv2d.bias", "batch_normalization.beta",
                            "batch_normalization.moving_mean"};
    for (int i = 0; i < 3; i++) {
        float *v = read_tensor(path_b, shifts[i], 1, &n, n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        int nonzero = 0;
        for (int j = 0; j < 16; j++) {
            CU_ASSERT(v[j] >= -0.25f && v[j] <= 0.25f);
            nonzero += v[j] != 0;
        }
        CU_ASSERT(nonzero >= 15);
        free(v);
    }
    const char *scales[] = {"batch_normalization.gamma",
                            "batch_normalization.moving_variance"};
    for (int i = 0; i < 2; i++) {
        float *v = read_tensor(path_b, scales[i], 1, &n, n);
        CU_ASSERT_PTR_NOT_NULL_FATAL(v);
        int off_one = 0;
        for (int j = 0; j < 16; j++) {
            CU_ASSERT(v[j] >= 0.5f && v[j] <= 1.5f);
            off_one += v[j] != 1;
        }
        CU_ASSERT(off_one >= 15);
        free(v);
    }
    rn_i64 cd[4] = {3, 3, 4, 16};
    float *ka = read_tensor(path_a, "conv2d.kernel", 4, cd, 576);
    float *kb = read_tensor(path_b, "conv2d.kernel", 4, cd, 576);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ka);
    CU_ASSERT_PTR_NOT_NULL_FATAL(kb);
    CU_ASSERT(memcmp(ka, kb, 576 * sizeof *ka) == 0);
    free(ka);
    free(kb);
    remove(path_a);
    remove(path_b);
    arena_free(t.a);
}

/* The same seed gives the same file; another seed other kernels. Pinned
 * values catch any change in how values are drawn (goldens depend on it). */
static void test_deterministic(void) {
    TestGraph t;
    build(&t);
    char err[256];
    CU_ASSERT_EQUAL_FATAL(weights_init(&t.g, path_a, 42, true, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(weights_init(&t.g, path_b, 42, true, err, sizeof err), 0);
    size_t la, lb;
    char *a = read_whole_file(path_a, &la), *b = read_whole_file(path_b, &lb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
    free(a);
    free(b);

    rn_i64 cd[4] = {3, 3, 4, 16};
    float *k = read_tensor(path_a, "conv2d.kernel", 4, cd, 576);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    const float pinned[3] = {0.122466467f, -0.0466964282f, 0.0744664744f};
    for (int i = 0; i < 3; i++) CU_ASSERT_DOUBLE_EQUAL(k[i], pinned[i], 1e-7);
    CU_ASSERT_EQUAL_FATAL(weights_init(&t.g, path_b, 43, true, err, sizeof err), 0);
    float *k2 = read_tensor(path_b, "conv2d.kernel", 4, cd, 576);
    CU_ASSERT_PTR_NOT_NULL_FATAL(k2);
    CU_ASSERT(memcmp(k, k2, 576 * sizeof *k) != 0);
    free(k);
    free(k2);
    remove(path_a);
    remove(path_b);
    arena_free(t.a);
}

/* A path that cannot be written is refused with a message, no file. */
static void test_bad_path(void) {
    TestGraph t;
    build(&t);
    char err[256] = "";
    CU_ASSERT_NOT_EQUAL(weights_init(&t.g, "/nonexistent-dir/w.safetensors",
                                     1, false, err, sizeof err), 0);
    CU_ASSERT(strstr(err, "/nonexistent-dir/w.safetensors") != NULL);
    arena_free(t.a);
}

void register_weights_tests(void) {
    make_paths();
    CU_pSuite s = unit_suite("weights");
    CU_add_test(s, "Keras fans of conv, depthwise, dense", test_fans);
    CU_add_test(s, "per-tensor seeds", test_tensor_seeds);
    CU_add_test(s, "glorot limits and statistics", test_glorot_statistics);
    CU_add_test(s, "Keras default constants", test_defaults);
    CU_add_test(s, "--random draws biases and batchnorm", test_random);
    CU_add_test(s, "deterministic, pinned values", test_deterministic);
    CU_add_test(s, "unwritable path refused", test_bad_path);
}
