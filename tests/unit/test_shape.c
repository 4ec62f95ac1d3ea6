/* test_shape.c: shape rules, parameter counts, MACs, weight specs and the
 * arena plan, on hand-built nodes and graphs. Expected numbers come from
 * Keras's documented rules (TensorFlow SAME padding, Keras param counts),
 * worked out by hand in the comments. */
#include <stdlib.h>
#include <string.h>

#include "rnc.h"
#include "unit.h"

static Arena *A;
static char err[256];

static GNode *input3(int64_t h, int64_t w, int64_t c) {
    GNode *n = arena_alloc(A, sizeof *n);
    n->op = OP_INPUT;
    n->name = "input";
    n->out = (Shape){3, {h, w, c}};
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    return n;
}

static GNode *input1(int64_t len) {
    GNode *n = arena_alloc(A, sizeof *n);
    n->op = OP_INPUT;
    n->name = "input";
    n->out = (Shape){1, {len}};
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    return n;
}

static GNode *node(OpKind op, GNode *a, GNode *b) {
    GNode *n = arena_alloc(A, sizeof *n);
    n->op = op;
    n->name = op_info[op].base;
    n->in = arena_alloc(A, 2 * sizeof *n->in);
    n->in[n->nin++] = a;
    if (b) n->in[n->nin++] = b;
    n->bias = true;
    return n;
}

static GNode *conv(GNode *in, int64_t filters, int k, int s, PadMode pad) {
    GNode *n = node(OP_CONV2D, in, NULL);
    n->filters = filters;
    n->kh = n->kw = k;
    n->sh = n->sw = s;
    n->padding = pad;
    return n;
}

static bool is_shape(const GNode *n, int64_t h, int64_t w, int64_t c) {
    return n->out.rank == 3 && n->out.d[0] == h && n->out.d[1] == w &&
           n->out.d[2] == c;
}

static int setup(void) {
    A = arena_new();
    return 0;
}
static int teardown(void) {
    arena_free(A);
    return 0;
}

static void test_same_padding(void) {
    /* in 224, k 7, s 2: out 112, total (112-1)*2+7-224 = 5 -> 2 top, 3
     * bottom (TensorFlow puts the odd pixel last). */
    GNode *n = conv(input3(224, 224, 3), 64, 7, 2, PAD_SAME);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 112, 112, 64));
    CU_ASSERT(n->pad_t == 2 && n->pad_b == 3 && n->pad_l == 2 &&
              n->pad_r == 3);
    CU_ASSERT_EQUAL(n->params, 7 * 7 * 3 * 64 + 64);
    CU_ASSERT_EQUAL(n->trainable, n->params);
    CU_ASSERT_EQUAL(n->macs, 112LL * 112 * 64 * 7 * 7 * 3);
    /* odd input 7, k 3, s 2: out 4, total (4-1)*2+3-7 = 2 -> 1 and 1 */
    n = conv(input3(7, 7, 8), 8, 3, 2, PAD_SAME);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 4, 4, 8));
    CU_ASSERT(n->pad_t == 1 && n->pad_b == 1);
    /* even input 8, k 3, s 2: out 4, total 1 -> 0 top, 1 bottom */
    n = conv(input3(8, 8, 8), 8, 3, 2, PAD_SAME);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 4, 4, 8));
    CU_ASSERT(n->pad_t == 0 && n->pad_b == 1);
    /* k 1, s 2 on even input: no padding at all (total would be -1) */
    n = conv(input3(56, 56, 64), 128, 1, 2, PAD_SAME);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 28, 28, 128));
    CU_ASSERT(n->pad_t == 0 && n->pad_b == 0);
    /* non-square input: H and W resolved apart */
    n = conv(input3(5, 10, 1), 2, 4, 1, PAD_SAME);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 5, 10, 2));
    CU_ASSERT(n->pad_t == 1 && n->pad_b == 2 && n->pad_l == 1 &&
              n->pad_r == 2);
}

static void test_valid_and_explicit(void) {
    GNode *n = conv(input3(32, 32, 3), 32, 3, 1, PAD_VALID);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 30, 30, 32));
    CU_ASSERT_EQUAL(n->params, 896); /* Keras: 3*3*3*32 + 32 */
    /* valid, stride 2, odd remainder: floor((9-3)/2)+1 = 4 */
    n = conv(input3(9, 10, 3), 4, 3, 2, PAD_VALID);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 4, 4, 4));
    /* explicit [1, 1, 2, 0]: h (8+2-3)/1+1 = 8, w (8+2-3)+1 = 8 */
    n = conv(input3(8, 8, 3), 4, 3, 1, PAD_EXPLICIT);
    n->pad_t = 1, n->pad_b = 1, n->pad_l = 2, n->pad_r = 0;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 8, 8, 4));
    CU_ASSERT(n->pad_l == 2 && n->pad_r == 0); /* kept as written */
    /* explicit 3 with k 7 s 2 on 224 (PyTorch's conv1): 112 */
    n = conv(input3(224, 224, 3), 64, 7, 2, PAD_EXPLICIT);
    n->pad_t = n->pad_b = n->pad_l = n->pad_r = 3;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 112, 112, 64));
    /* no bias: only the kernel */
    n = conv(input3(8, 8, 16), 32, 3, 1, PAD_SAME);
    n->bias = false;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT_EQUAL(n->params, 3 * 3 * 16 * 32);
}

static void test_dilation_groups(void) {
    /* dilation 2, k 3: effective 5; valid on 10 -> 6 */
    GNode *n = conv(input3(10, 10, 4), 8, 3, 1, PAD_VALID);
    n->dh = n->dw = 2;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 6, 6, 8));
    /* same with dilation 2 on 10: out 10, total 4 -> 2 and 2 */
    n = conv(input3(10, 10, 4), 8, 3, 1, PAD_SAME);
    n->dh = n->dw = 2;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 10, 10, 8));
    CU_ASSERT(n->pad_t == 2 && n->pad_b == 2);
    /* groups 4: kernel [3,3,16/4,32] */
    n = conv(input3(8, 8, 16), 32, 3, 1, PAD_SAME);
    n->groups = 4;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT_EQUAL(n->params, 3 * 3 * 4 * 32 + 32);
    CU_ASSERT_EQUAL(n->macs, 8 * 8 * 32 * 3 * 3 * 4);
    WeightSpec w[4];
    CU_ASSERT_EQUAL(node_weights(n, w), 2);
    CU_ASSERT(w[0].rank == 4 && w[0].dims[0] == 3 && w[0].dims[2] == 4 &&
              w[0].dims[3] == 32 && !strcmp(w[0].suffix, "kernel"));
    CU_ASSERT(!strcmp(w[1].suffix, "bias") && w[1].dims[0] == 32);
    /* channels not divisible by groups */
    n = conv(input3(8, 8, 6), 32, 3, 1, PAD_SAME);
    n->groups = 4;
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "groups"));
    n = conv(input3(8, 8, 8), 6, 3, 1, PAD_SAME);
    n->groups = 4;
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
}

static void test_depthwise(void) {
    GNode *n = node(OP_DEPTHWISE_CONV2D, input3(112, 112, 32), NULL);
    n->kh = n->kw = 3;
    n->sh = n->sw = 2;
    n->padding = PAD_VALID;
    n->multiplier = 2;
    n->bias = false;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 55, 55, 64));
    CU_ASSERT_EQUAL(n->params, 3 * 3 * 32 * 2);
    CU_ASSERT_EQUAL(n->macs, 55LL * 55 * 32 * 2 * 3 * 3);
    WeightSpec w[4];
    CU_ASSERT_EQUAL(node_weights(n, w), 1);
    CU_ASSERT_STRING_EQUAL(w[0].suffix, "depthwise_kernel");
    CU_ASSERT(w[0].dims[2] == 32 && w[0].dims[3] == 2);
    n->bias = true;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT_EQUAL(n->params, 3 * 3 * 32 * 2 + 64);
    CU_ASSERT_EQUAL(node_weights(n, w), 2);
    CU_ASSERT_EQUAL(w[1].dims[0], 64);
}

static void test_pools(void) {
    GNode *in = input3(112, 112, 64);
    /* Keras ResNet's maxpool: 3, stride 2, same on 112 -> 56, pad 0/1 */
    GNode *n = node(OP_MAXPOOL, in, NULL);
    n->kh = n->kw = 3;
    n->sh = n->sw = 2;
    n->padding = PAD_SAME;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 56, 56, 64));
    CU_ASSERT(n->pad_t == 0 && n->pad_b == 1);
    CU_ASSERT_EQUAL(n->params, 0);
    CU_ASSERT_EQUAL(n->macs, 0);
    /* stride defaults to the size; valid on odd 7 with 2 -> 3 */
    n = node(OP_AVGPOOL, input3(7, 7, 4), NULL);
    n->kh = n->kw = 2;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 3, 3, 4));
    CU_ASSERT(n->sh == 2 && n->sw == 2);
    /* same on odd 7 with 2 -> 4 (pad 0 top, 1 bottom) */
    n = node(OP_MAXPOOL, input3(7, 7, 4), NULL);
    n->kh = n->kw = 2;
    n->padding = PAD_SAME;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 4, 4, 4));
    CU_ASSERT(n->pad_t == 0 && n->pad_b == 1);
    /* explicit 1 with 3 stride 2 (PyTorch's maxpool) on 112 -> 56 */
    n = node(OP_MAXPOOL, in, NULL);
    n->kh = n->kw = 3;
    n->sh = n->sw = 2;
    n->padding = PAD_EXPLICIT;
    n->pad_t = n->pad_b = n->pad_l = n->pad_r = 1;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 56, 56, 64));
    /* a window of padding only is refused */
    n->pad_t = 3;
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    /* global pools give a flat [C] */
    n = node(OP_GLOBAL_AVGPOOL, in, NULL);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(n->out.rank == 1 && n->out.d[0] == 64);
    n = node(OP_GLOBAL_MAXPOOL, input1(5), NULL);
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    /* keepdims: [1, 1, C] */
    n = node(OP_GLOBAL_MAXPOOL, in, NULL);
    n->keepdims = true;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 1, 1, 64));
    /* ceil_mode: 7 and 5 with 2 -> 4 and 3 (rounded up); with pad 1 too,
     * as one more window would start in the bottom padding */
    n = node(OP_MAXPOOL, input3(7, 5, 4), NULL);
    n->kh = n->kw = n->sh = n->sw = 2;
    n->ceil_mode = true;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 4, 3, 4));
    n->padding = PAD_EXPLICIT;
    n->pad_t = n->pad_b = n->pad_l = n->pad_r = 1;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 4, 3, 4));
}

static void test_flat_ops(void) {
    GNode *f = node(OP_FLATTEN, input3(7, 7, 512), NULL);
    CU_ASSERT_FATAL(shape_infer(f, err, sizeof err));
    CU_ASSERT(f->out.rank == 1 && f->out.d[0] == 25088);
    GNode *d = node(OP_DENSE, f, NULL);
    d->filters = 4096;
    CU_ASSERT_FATAL(shape_infer(d, err, sizeof err));
    CU_ASSERT_EQUAL(d->params, 25088LL * 4096 + 4096); /* VGG16 fc1 */
    CU_ASSERT_EQUAL(d->macs, 25088LL * 4096);
    WeightSpec w[4];
    CU_ASSERT_EQUAL(node_weights(d, w), 2);
    CU_ASSERT(w[0].rank == 2 && w[0].dims[0] == 25088 &&
              w[0].dims[1] == 4096);
    /* dense on an image is refused, naming the fix */
    d = node(OP_DENSE, input3(4, 4, 2), NULL);
    d->filters = 3;
    CU_ASSERT_FALSE(shape_infer(d, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "flat"));
    /* flatten of a flat tensor keeps it */
    f = node(OP_FLATTEN, input1(10), NULL);
    CU_ASSERT_FATAL(shape_infer(f, err, sizeof err));
    CU_ASSERT(f->out.rank == 1 && f->out.d[0] == 10);
}

static void test_batchnorm(void) {
    GNode *n = node(OP_BATCHNORM, input3(56, 56, 64), NULL);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT_EQUAL(n->params, 256);
    CU_ASSERT_EQUAL(n->trainable, 128);
    WeightSpec w[4];
    CU_ASSERT_EQUAL(node_weights(n, w), 4);
    CU_ASSERT(!strcmp(w[0].suffix, "gamma") && w[0].trainable);
    CU_ASSERT(!strcmp(w[1].suffix, "beta") && w[1].trainable);
    CU_ASSERT(!strcmp(w[2].suffix, "moving_mean") && !w[2].trainable);
    CU_ASSERT(!strcmp(w[3].suffix, "moving_variance") && !w[3].trainable);
    CU_ASSERT(w[3].rank == 1 && w[3].dims[0] == 64);
    n = node(OP_BATCHNORM, input1(10), NULL); /* after a dense */
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT_EQUAL(n->params, 40);
    /* center=False drops beta, scale=False gamma (Keras) */
    n->no_center = true;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(n->params == 30 && n->trainable == 10);
    CU_ASSERT_EQUAL(node_weights(n, w), 3);
    CU_ASSERT_STRING_EQUAL(w[0].suffix, "gamma");
    n->no_scale = true;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(n->params == 20 && n->trainable == 0);
    /* a frozen layer: all non-trainable */
    n->no_center = n->no_scale = false;
    n->frozen = true;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(n->params == 40 && n->trainable == 0);
    CU_ASSERT_EQUAL(node_weights(n, w), 4);
    CU_ASSERT(!w[0].trainable && !w[1].trainable);
    /* layernorm: gamma and beta; Normalization: 2C + 1 non-trainable, or
     * none with constants */
    n = node(OP_LAYERNORM, input3(4, 4, 8), NULL);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(n->params == 16 && n->trainable == 16);
    n = node(OP_NORMALIZATION, input3(4, 4, 8), NULL);
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(n->params == 17 && n->trainable == 0);
    CU_ASSERT_EQUAL(node_weights(n, w), 3);
    CU_ASSERT(w[2].rank == 0 && !strcmp(w[2].suffix, "count"));
    static const double mean[] = {0.5}, var[] = {2};
    n->norm_mean = mean, n->norm_var = var, n->norm_n = 1;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(n->params == 0 && node_weights(n, w) == 0);
}

static void test_merge_and_pad(void) {
    GNode *a = input3(16, 16, 64), *b = input3(32, 32, 64);
    GNode *n = node(OP_ADD, a, b);
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "add: shapes (None, 16, 16, 64) and "
                                "(None, 32, 32, 64) differ (on each axis the "
                                "sizes must agree or one be 1)");
    n = node(OP_ADD, a, input3(16, 16, 64));
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 16, 16, 64));
    /* broadcasting both ways: [16, 1, 64] and [1, 16, 1] */
    n = node(OP_MULTIPLY, input3(16, 1, 64), input3(1, 16, 1));
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 16, 16, 64));
    n = node(OP_MAXIMUM, a, input3(1, 1, 32));
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    n = node(OP_SUBTRACT, input1(5), input1(1));
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT_EQUAL(n->out.d[0], 5);
    n = node(OP_CONCAT, a, input3(16, 16, 32));
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 16, 16, 96));
    n = node(OP_CONCAT, a, b);
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    n = node(OP_CONCAT, input1(3), input1(4));
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(n->out.rank == 1 && n->out.d[0] == 7);
    n = node(OP_ZEROPAD, input3(224, 224, 3), NULL);
    n->pad_t = n->pad_b = n->pad_l = n->pad_r = 3;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 230, 230, 3));
    n = node(OP_ZEROPAD, input3(4, 4, 3), NULL);
    n->pad_t = 0, n->pad_b = 1, n->pad_l = 2, n->pad_r = 0;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 5, 6, 3));
}

static void test_shape_ops(void) {
    GNode *in = input3(4, 6, 6);
    GNode *n = node(OP_RESHAPE, in, NULL);
    n->target = (Shape){3, {2, -1, 3}};
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 2, 24, 3));
    n->target = (Shape){1, {-1}};
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(n->out.rank == 1 && n->out.d[0] == 144);
    n->target = (Shape){3, {5, -1, 3}};
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    CU_ASSERT(node_is_alias(n));
    n = node(OP_CROP, in, NULL);
    n->pad_t = 1, n->pad_b = 2, n->pad_l = 0, n->pad_r = 3;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 1, 3, 6));
    n->pad_b = 3;
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    n = node(OP_UPSAMPLE, in, NULL);
    n->kh = 3, n->kw = 2;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 12, 12, 6));
    n = node(OP_CHANNEL_SHUFFLE, in, NULL);
    n->groups = 3;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    n->groups = 4;
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    n = node(OP_CHANNEL_SLICE, in, NULL);
    n->start = 2, n->stop = 6;
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 4, 6, 4));
    n->stop = 7;
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
}

static void test_errors(void) {
    /* kernel larger than the input */
    GNode *n = conv(input3(5, 5, 3), 8, 7, 1, PAD_VALID);
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "larger than"));
    /* ... but fine once padded */
    n = conv(input3(5, 5, 3), 8, 7, 1, PAD_EXPLICIT);
    n->pad_t = n->pad_b = n->pad_l = n->pad_r = 1;
    CU_ASSERT_TRUE(shape_infer(n, err, sizeof err));
    CU_ASSERT(is_shape(n, 1, 1, 8));
    /* zero and negative sizes */
    CU_ASSERT_FALSE(shape_infer(conv(input3(8, 8, 3), 0, 3, 1, PAD_SAME),
                                err, sizeof err));
    CU_ASSERT_FALSE(shape_infer(conv(input3(8, 8, 3), 8, 0, 1, PAD_SAME),
                                err, sizeof err));
    CU_ASSERT_FALSE(shape_infer(conv(input3(8, 8, 3), 8, 3, -1, PAD_SAME),
                                err, sizeof err));
    n = conv(input3(8, 8, 3), 8, 3, 1, PAD_EXPLICIT);
    n->pad_l = -1;
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    GNode *in = arena_alloc(A, sizeof *in);
    in->op = OP_INPUT;
    in->out = (Shape){3, {0, 4, 3}};
    CU_ASSERT_FALSE(shape_infer(in, err, sizeof err));
    /* a tensor over 2 GiB: 32768 x 32768 x 1 is exactly 2^30 floats */
    in->out = (Shape){3, {32768, 32768, 1}};
    CU_ASSERT_FALSE(shape_infer(in, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "2 GiB"));
    in->out = (Shape){3, {INT64_MAX / 2, 4, 3}}; /* would overflow */
    CU_ASSERT_FALSE(shape_infer(in, err, sizeof err));
    /* a weight over 2 GiB: dense 100000 -> 10000 is 10^9 floats */
    GNode *d = node(OP_DENSE, input1(100000), NULL);
    d->filters = 10000;
    CU_ASSERT_FALSE(shape_infer(d, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "2 GiB"));
    /* an output over 2 GiB from a modest input: 4096 filters on 512^2 */
    n = conv(input3(512, 512, 3), 4096, 1, 1, PAD_VALID);
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
    /* huge filter counts do not overflow into a small number */
    n = conv(input3(8, 8, 3), INT64_MAX / 3, 3, 1, PAD_SAME);
    CU_ASSERT_FALSE(shape_infer(n, err, sizeof err));
}

static void test_format(void) {
    char s[64];
    Shape a = {3, {32, 32, 3}}, b = {1, {10}};
    shape_format(&a, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "(None, 32, 32, 3)");
    shape_format(&b, s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "(None, 10)");
    shape_format(&a, s, 8); /* truncates, stays terminated */
    CU_ASSERT_EQUAL(strlen(s), 7);
    CU_ASSERT_EQUAL(shape_count(&a), 3072);
    CU_ASSERT_STRING_EQUAL(op_info[OP_BATCHNORM].klass, "BatchNormalization");
    CU_ASSERT_STRING_EQUAL(op_info[OP_MAXPOOL].base, "max_pooling2d");
    CU_ASSERT_STRING_EQUAL(act_names[ACT_RELU6], "relu6");
    CU_ASSERT_STRING_EQUAL(act_names[ACT_SOFTMAX], "softmax");
}

/* ---------------------------------------------------------- the plan */

static Graph *new_graph(void) {
    Graph *g = arena_alloc(A, sizeof *g);
    g->cap = 64;
    g->nodes = arena_alloc(A, (size_t)g->cap * sizeof *g->nodes);
    g->inputs = arena_alloc(A, 4 * sizeof *g->inputs);
    g->outputs = arena_alloc(A, 4 * sizeof *g->outputs);
    g->arena = A;
    return g;
}

static GNode *add_node(Graph *g, GNode *n) {
    CU_ASSERT_FATAL(shape_infer(n, err, sizeof err));
    n->id = g->nnodes;
    g->nodes[g->nnodes++] = n;
    if (n->op == OP_INPUT) g->inputs[g->ninputs++] = n;
    return n;
}

/* The buffer a node's output occupies: [off, off + count) in floats. */
static bool overlaps(const GNode *a, const GNode *b) {
    int64_t a0 = a->arena_off, a1 = a0 + shape_count(&a->out);
    int64_t b0 = b->arena_off, b1 = b0 + shape_count(&b->out);
    return a0 < b1 && b0 < a1;
}

static const GNode *root(const GNode *n) {
    while (n->op == OP_FLATTEN || n->op == OP_DROPOUT) n = n->in[0];
    return n;
}

/* Exhaustive: any two buffers alive at the same step are disjoint, and
 * every buffer is inside the arena. Life of buffer u: from u's step to
 * the last step of any reader of u or of an alias of u. */
static void check_plan(const Graph *g) {
    int n = g->nnodes;
    int *end = calloc((size_t)n, sizeof *end);
    for (int i = 0; i < n; i++) end[i] = i;
    for (int i = 0; i < n; i++) {
        const GNode *v = g->nodes[i];
        for (int j = 0; j < v->nin; j++) {
            int r = root(v->in[j])->id;
            if (end[r] < i) end[r] = i;
        }
    }
    for (int i = 0; i < g->noutputs; i++) end[root(g->outputs[i])->id] = n;
    for (int i = 0; i < n; i++) {
        const GNode *a = g->nodes[i];
        if (root(a) != a) {
            CU_ASSERT_EQUAL(a->arena_off, root(a)->arena_off);
            continue;
        }
        if (a->op == OP_INPUT) {
            CU_ASSERT_EQUAL(a->arena_off, -1);
            continue;
        }
        CU_ASSERT(a->arena_off >= 0 && a->arena_off % 16 == 0);
        CU_ASSERT(a->arena_off + shape_count(&a->out) <= g->arena_floats);
        for (int j = i + 1; j < n; j++) {
            const GNode *b = g->nodes[j];
            if (root(b) != b || b->op == OP_INPUT) continue;
            if (end[i] >= j) CU_ASSERT_FALSE(overlaps(a, b));
        }
    }
    free(end);
}

static void test_plan_chain_and_alias(void) {
    Graph *g = new_graph();
    GNode *x = add_node(g, input3(8, 8, 3));
    GNode *c1 = add_node(g, conv(x, 4, 3, 1, PAD_SAME));
    GNode *c2 = add_node(g, conv(c1, 4, 3, 1, PAD_SAME));
    GNode *c3 = add_node(g, conv(c2, 4, 3, 1, PAD_SAME));
    GNode *f = add_node(g, node(OP_FLATTEN, c3, NULL));
    GNode *dr = add_node(g, node(OP_DROPOUT, f, NULL));
    GNode *d = node(OP_DENSE, dr, NULL);
    d->filters = 10;
    add_node(g, d);
    g->outputs[g->noutputs++] = d;
    plan_arena(g);
    check_plan(g);
    CU_ASSERT_EQUAL(x->arena_off, -1);
    CU_ASSERT_EQUAL(f->arena_off, c3->arena_off);
    CU_ASSERT_EQUAL(dr->arena_off, c3->arena_off);
    /* A chain needs two 256-float buffers: c3 reuses c1's place. */
    CU_ASSERT_EQUAL(c3->arena_off, c1->arena_off);
    CU_ASSERT_NOT_EQUAL(c2->arena_off, c1->arena_off);
    /* c3 lives (through its aliases) until the dense reads it. */
    CU_ASSERT_EQUAL(dr->last_use, d->id);
    CU_ASSERT_EQUAL(d->last_use, g->nnodes); /* an output */
    CU_ASSERT_FALSE(overlaps(d, c3));
    /* the dense's 16 floats go in c2's freed place */
    CU_ASSERT_EQUAL(d->arena_off, 256);
    CU_ASSERT_EQUAL(g->arena_floats, 512);
}

static void test_plan_residual(void) {
    Graph *g = new_graph();
    GNode *x = add_node(g, input3(16, 16, 8));
    GNode *s = add_node(g, conv(x, 8, 3, 1, PAD_SAME)); /* the skip */
    GNode *y = s;
    for (int i = 0; i < 6; i++) y = add_node(g, conv(y, 8, 3, 1, PAD_SAME));
    GNode *sum = add_node(g, node(OP_ADD, y, s));
    GNode *p = add_node(g, node(OP_GLOBAL_AVGPOOL, sum, NULL));
    GNode *o2 = node(OP_MAXPOOL, s, NULL); /* a 2nd output */
    o2->kh = o2->kw = 2;
    add_node(g, o2);
    g->outputs[g->noutputs++] = p;
    g->outputs[g->noutputs++] = o2;
    plan_arena(g);
    check_plan(g);
    /* the skip stays live across the whole branch */
    for (int i = 2; i < sum->id; i++)
        CU_ASSERT_FALSE(overlaps(g->nodes[i], s));
    CU_ASSERT_EQUAL(s->last_use, o2->id);
    /* the add never writes over its inputs */
    CU_ASSERT_FALSE(overlaps(sum, y));
    CU_ASSERT_FALSE(overlaps(sum, s));
    /* the first output stays live to the end */
    CU_ASSERT_FALSE(overlaps(p, o2));
}

/* Random DAGs: the exhaustive check on many shapes of liveness. */
static void test_plan_random(void) {
    unsigned seed = 12345;
    for (int round = 0; round < 200; round++) {
        Graph *g = new_graph();
        add_node(g, input3(4, 4, 4));
        int n = 2 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
        for (int i = 1; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            GNode *a = g->nodes[(seed >> 16) % (unsigned)g->nnodes];
            seed = seed * 1103515245u + 12345u;
            GNode *b = g->nodes[(seed >> 16) % (unsigned)g->nnodes];
            int kind = (int)(seed >> 8) % 5;
            if (a->out.rank != 3 || b->out.rank != 3) kind = 4;
            GNode *v;
            if (kind == 0) {
                bool same = a->out.d[2] == b->out.d[2];
                v = node(OP_ADD, a, same ? b : a);
            } else if (kind == 1) {
                v = node(OP_DROPOUT, a, NULL);
            } else if (kind == 2) {
                v = node(OP_CONCAT, a, b);
                if (a->out.d[2] + b->out.d[2] > 64) v = node(OP_BATCHNORM, a, NULL);
            } else if (kind == 3) {
                v = conv(a, 1 + (int)(seed >> 20) % 9, 1, 1, PAD_VALID);
            } else {
                v = node(OP_FLATTEN, a, NULL);
                if (a->out.rank == 1) v = node(OP_DROPOUT, a, NULL);
            }
            add_node(g, v);
        }
        g->outputs[g->noutputs++] = g->nodes[g->nnodes - 1];
        if (round % 3 == 0) g->outputs[g->noutputs++] = g->nodes[g->nnodes / 2];
        plan_arena(g);
        check_plan(g);
    }
}

/* The examples' real graphs: every buffer checked against every other
 * (run from tests/unit, as the runner does). */
static void test_plan_examples(void) {
    static const char *const names[] = {"small_residual", "resnet18",
        "resnet34", "resnet50", "mobilenet_v1", "vgg16"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[128];
        snprintf(path, sizeof path, "../../examples/%s.rn", names[i]);
        size_t len;
        char *text = read_whole_file(path, &len);
        CU_ASSERT_PTR_NOT_NULL(text);
        if (!text) continue;
        Source src = {path, text, len};
        Diag d;
        diag_init(&d, &src, stderr);
        Arena *a = arena_new();
        Ast *prog = parse_source(&src, a, &d);
        Graph *g = prog ? elaborate(prog, names[i], a, &d) : NULL;
        CU_ASSERT_PTR_NOT_NULL(g);
        if (g) {
            plan_arena(g);
            check_plan(g);
            /* reuse: less than one buffer per layer; and at least what
             * any one layer holds at once (its output and its inputs) */
            int64_t sum = 0, need = 0;
            for (int k = 0; k < g->nnodes; k++) {
                const GNode *v = g->nodes[k];
                sum += shape_count(&v->out);
                if (root(v) != v || v->op == OP_INPUT) continue;
                int64_t at_once = shape_count(&v->out);
                for (int j = 0; j < v->nin; j++)
                    if (root(v->in[j])->op != OP_INPUT)
                        at_once += shape_count(&v->in[j]->out);
                if (at_once > need) need = at_once;
            }
            CU_ASSERT(g->arena_floats >= need && g->arena_floats < sum / 2);
        }
        arena_free(a);
        free(text);
    }
}

void register_shape_tests(void) {
    CU_pSuite s = CU_add_suite("shape", setup, teardown);
    if (!s) exit(2);
    CU_add_test(s, "same padding", test_same_padding);
    CU_add_test(s, "valid and explicit padding", test_valid_and_explicit);
    CU_add_test(s, "dilation and groups", test_dilation_groups);
    CU_add_test(s, "depthwise", test_depthwise);
    CU_add_test(s, "pools", test_pools);
    CU_add_test(s, "flatten and dense", test_flat_ops);
    CU_add_test(s, "batchnorm", test_batchnorm);
    CU_add_test(s, "add, concat, zeropad", test_merge_and_pad);
    CU_add_test(s, "reshape, crop, upsample, channels", test_shape_ops);
    CU_add_test(s, "errors", test_errors);
    CU_add_test(s, "format and tables", test_format);
    CU_add_test(s, "plan: chain and aliases", test_plan_chain_and_alias);
    CU_add_test(s, "plan: residual", test_plan_residual);
    CU_add_test(s, "plan: random graphs", test_plan_random);
    CU_add_test(s, "plan: the examples", test_plan_examples);
}
