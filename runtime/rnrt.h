/* rnrt.h: the rnc runtime, linked by every generated model (librnrt.a).
 * All exports are prefixed rn_. No global mutable state: everything lives in
 * the objects the caller holds. Errors are returned as 0/-1 (or NULL) with a
 * message written to the caller's err buffer, naming the file and tensor.
 *
 * This header must also compile under tcc for the JIT (compiler/jit.c),
 * which defines RN_JIT and hands it no system headers at all (tcc's own
 * include folder may be missing): keep it to int, long long, float, size_t. */
#ifndef RNRT_H
#define RNRT_H

#ifdef RN_JIT
typedef __SIZE_TYPE__ size_t;
#ifndef NULL
#define NULL ((void *)0)
#endif
#else
#include <stddef.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef long long rn_i64;

/* ------------------------------------------------------- safetensors.c */

/* A validated safetensors file held in memory. Opening checks everything
 * before anything is used: header length capped and inside the file, strict
 * JSON (no duplicate keys), known dtypes, shapes and offsets consistent,
 * data contiguous with no gaps, overlaps or trailing bytes, sizes computed
 * with overflow checks. */
typedef struct rn_safetensors rn_safetensors;
rn_safetensors *rn_st_open(const char *path, char *err, size_t errlen);
void rn_st_close(rn_safetensors *st); /* NULL is fine */
int rn_st_count(const rn_safetensors *st); /* tensors, not __metadata__ */
/* The i-th tensor's name in header order; NULL when i is out of range. */
const char *rn_st_name(const rn_safetensors *st, int i);
/* Copies tensor `name` into dst after checking it is F32 with exactly the
 * given dims (rank 0, dims may be NULL: a scalar); marks it used. A
 * missing, mis-shaped or wrongly typed tensor is refused with a message
 * naming it. */
int rn_st_read_f32(rn_safetensors *st, const char *name, int rank,
                   const rn_i64 *dims, float *dst, char *err, size_t errlen);
/* After all reads: refuses a tensor that was never read (an extra one). */
int rn_st_check_all_used(const rn_safetensors *st, char *err, size_t errlen);

typedef struct rn_st_tensor {
    const char *name;
    int rank;
    rn_i64 dims[4];
    const float *data;
} rn_st_tensor;
/* Writes F32 tensors (rank 0 to 4) in the order given, header padded with
 * spaces to 8 bytes, atomically (temp file + rename). Names must be unique
 * UTF-8 without control characters. */
int rn_st_write(const char *path, const rn_st_tensor *t, int n, char *err,
                size_t errlen);
/* The same file's bytes in memory (malloc'd, *len set) for a caller that
 * writes it together with other files; NULL with err on failure (path only
 * names the file in messages). */
void *rn_st_encode(const char *path, const rn_st_tensor *t, int n,
                   size_t *len, char *err, size_t errlen);

/* --------------------------------------------------------------- npy.c */

/* A float32 C-order array read from or written to NumPy's .npy format.
 * Anything else (other dtypes, Fortran order, big-endian, damaged headers,
 * truncated data) is refused clearly. */
typedef struct rn_array {
    int rank;
    rn_i64 dims[8];
    rn_i64 count;
    float *data; /* malloc'd; rn_array_free */
} rn_array;
/* Reads versions 1.0, 2.0 and 3.0, rank 0 to 8; on failure *out is
 * zeroed and needs no rn_array_free. */
int rn_npy_read(const char *path, rn_array *out, char *err, size_t errlen);
/* Version 1.0, the same bytes as NumPy 1.24's np.save; atomic. */
int rn_npy_write(const char *path, int rank, const rn_i64 *dims,
                 const float *data, char *err, size_t errlen);
void rn_array_free(rn_array *a);
/* Whether a fits an input of shape dims (rank 1 or 3, NHWC): [dims] or
 * [1, dims]. If not, 0, and err says so: "PATH: an array of shape [...]
 * does not fit input 'NAME': expected ...", adding how to transpose when
 * a is the NCHW of a 3-D input (PyTorch's layout). rnc --run and every
 * --main program say the same. */
int rn_input_fits(const rn_array *a, int rank, const rn_i64 *dims,
                  const char *path, const char *name, char *err, size_t errlen);

/* -------------------------------------------------------------- util.c */

double rn_now_ms(void); /* monotonic clock */
/* A model's big blocks (its arena, packed weights): from malloc, or from
 * 2 MiB pages where the system gives them on request (Linux's transparent
 * huge pages): a block of 1 MiB or more is then 2 MiB aligned, rounded up
 * to whole pages. NULL when out of memory; free with free(). */
void *rn_alloc(size_t bytes);
/* Writes via a temporary file in the same directory and rename(2): the
 * file is either untouched or complete. The files version stages all
 * before it renames any (model.c and model.h), and refuses a directory. */
int rn_write_file_atomic(const char *path, const void *data, size_t len,
                         char *err, size_t errlen);
int rn_write_files_atomic(int n, const char *const *paths, const void *const *data,
                          const size_t *lens, char *err, size_t errlen);
/* Small deterministic generator (splitmix64) for seeded inputs/weights.
 * To reproduce elsewhere: u = (next >> 40) / 2^24; a normal takes two draws,
 * u1 = ((next >> 40) + 1) / 2^24, u2 = (next >> 40) / 2^24, and is
 * sqrt(-2 ln u1) cos(2 pi u2) computed in double. */
typedef struct rn_rng {
    unsigned long long state;
} rn_rng;
void rn_rng_seed(rn_rng *r, unsigned long long seed);
unsigned long long rn_rng_next(rn_rng *r);
float rn_rng_uniform(rn_rng *r); /* [0, 1) */
float rn_rng_normal(rn_rng *r);  /* standard normal */
/* Threads from RNC_THREADS (default 1, also when it is not a number),
 * clamped to [1, 64]. */
int rn_threads_from_env(void);
/* Median and minimum of n doubles (sorts a copy). */
void rn_median_min(const double *v, int n, double *median, double *min);

/* -------------------------------------------------------------- pool.c */

/* A fixed pool of worker threads. rn_pool_run calls fn(ctx, i, worker)
 * for i in [0, ntasks) spread over the pool and the calling thread, and
 * returns when all are done (their writes visible to the caller). worker
 * is the thread's index in [0, rn_pool_threads(p)), 0 for the caller: no
 * two tasks run at once with the same worker (per-thread scratch). A pool of 1, or a NULL
 * pool, runs everything on the caller. rn_pool_new clamps nthreads to
 * [1, 64] (fewer if threads cannot start: see rn_pool_threads). One
 * rn_pool_run at a time per pool, and never from inside a task; separate
 * pools are independent. */
typedef struct rn_pool rn_pool;
rn_pool *rn_pool_new(int nthreads);
void rn_pool_free(rn_pool *p);
int rn_pool_threads(const rn_pool *p);
void rn_pool_run(rn_pool *p, int ntasks,
                 void (*fn)(void *ctx, int i, int worker), void *ctx);

/* ----------------------------------------------------------- kernels.c */
/* Hot inner loops compiled by the C compiler of the runtime (vectorized by
 * gcc), called from generated code with constant sizes. Owned by the code
 * generator; see emit_c.c. Strides (ld*) are in floats; `npix` pixels of
 * `c` channels each. Activation codes are rnc's Act (compiler/rnc.h):
 * 0 none, 1 relu, 2 relu6, 3 sigmoid, 4 tanh, 5 softmax (over each
 * pixel's channels), 6 silu, 7 gelu, 8 gelu_tanh, 9 hard_sigmoid,
 * 10 hard_swish, 11 elu, 12 selu, 13 softplus, 14 softsign,
 * 15 exponential, 16 mish, 17 leaky_relu (Keras's definitions and
 * defaults; docs/language.md). */

/* One tap of a convolution (or a whole dense layer with npix = 1):
 *   out[p*ldo + o] += sum_i in[p*ldi + i] * w[i*ldw + o]
 * for p < npix, o < cout, i < cin. Keras's kernel [kh][kw][cin][cout] makes
 * w one tap's [cin][cout] slice. Picks AVX2+FMA when the CPU has it. */
void rn_k_conv_tap(int npix, int cin, int cout, const float *in, int ldi,
                   const float *w, int ldw, float *out, int ldo);
/* The two paths, for tests; call _avx2 only when rn_k_have_avx2(). */
void rn_k_conv_tap_portable(int npix, int cin, int cout, const float *in,
                            int ldi, const float *w, int ldw, float *out,
                            int ldo);
void rn_k_conv_tap_avx2(int npix, int cin, int cout, const float *in,
                        int ldi, const float *w, int ldw, float *out,
                        int ldo);
int rn_k_have_avx2(void);
/* out[p*ldo + o] = bias ? bias[o] : 0 */
void rn_k_fill_bias(int npix, int c, const float *bias, float *out, int ldo);
/* out = act(in), in == out allowed; n = npix*c contiguous floats. */
void rn_k_act(int act, const float *in, float *out, rn_i64 npix, int c);
/* The activation layers with arguments, over n floats (in == out allowed):
 * Keras's ReLU: x >= threshold ? min(x, max_value if has_max) :
 * negative_slope * (x - threshold); ELU: x > 0 ? x : alpha (e^x - 1);
 * LeakyReLU: x > 0 ? x : alpha x; hard_sigmoid: clip(alpha x + beta, 0, 1). */
void rn_k_relu_layer(const float *in, float *out, rn_i64 n, int has_max,
                     float max_value, float negative_slope, float threshold);
void rn_k_elu(const float *in, float *out, rn_i64 n, float alpha);
void rn_k_leaky_relu(const float *in, float *out, rn_i64 n, float alpha);
void rn_k_hard_sigmoid(const float *in, float *out, rn_i64 n, float alpha,
                       float beta);
/* PReLU on h x w pixels of c channels: x > 0 ? x : alpha x, alpha of shape
 * [ah, aw, ac], each 1 (shared) or the input's size. */
void rn_k_prelu(const float *in, float *out, int h, int w, int c,
                const float *alpha, int ah, int aw, int ac);
/* A pooling window layer's shape: output pixel (oy, ox) is the max or the
 * mean of the input pixels (oy*sh - pad_t + ky*dh, ox*sw - pad_l + kx*dw)
 * inside the image. A mean divides by the real pixels (RN_POOL_AVG,
 * TensorFlow's rule) or by the positions inside the padded input
 * (RN_POOL_AVG_PAD, PyTorch's count_include_pad). A window with no pixel
 * gives -FLT_MAX (max) or 0. rn_k_pool writes output rows [y0, y1), each
 * pixel's channels once, accumulated on registers. */
enum { RN_POOL_MAX = 0, RN_POOL_AVG = 1, RN_POOL_AVG_PAD = 2 };
typedef struct rn_window {
    int ih, iw, c, oh, ow;
    int kh, kw, sh, sw, dh, dw;
    int pad_t, pad_l, pad_b, pad_r;
    int ldi, ldo; /* floats between pixels (>= c) */
    int op;       /* RN_POOL_* */
} rn_window;
void rn_k_pool(const rn_window *d, const float *in, float *out, int y0, int y1);
void rn_k_fill(float *out, rn_i64 n, float v);
void rn_k_scale(float *x, rn_i64 n, float s);
/* Global pooling over npix pixels into c floats (is_max: max, else mean). */
void rn_k_global_pool(int is_max, const float *in, float *out, rn_i64 npix,
                      int c);
/* Per-channel out = in * scale[ch] + shift[ch] (a folded batchnorm). */
void rn_k_scale_shift(const float *in, float *out, rn_i64 npix, int c,
                      const float *scale, const float *shift);
/* Folds batchnorm statistics in double: scale = gamma / sqrt(var + eps),
 * shift = beta - mean * scale; gamma or beta NULL (Keras's scale=False,
 * center=False) are 1 and 0. */
void rn_k_bn_fold(int c, const float *gamma, const float *beta,
                  const float *mean, const float *var, double eps,
                  float *scale, float *shift);
/* LayerNormalization over each pixel's c channels: (x - mean) /
 * sqrt(var + eps) * gamma + beta, biased variance, in double; gamma and
 * beta may be NULL. */
void rn_k_layernorm(const float *in, float *out, rn_i64 npix, int c,
                    double eps, const float *gamma, const float *beta);
/* Keras's Normalization: (x - mean[ch]) / max(sqrt(var[ch]), 1e-7). */
void rn_k_normalize(const float *in, float *out, rn_i64 npix, int c,
                    const float *mean, const float *var);
/* out = in * scale + offset (rescale); out = a + b (residual add). */
void rn_k_affine(const float *in, float *out, rn_i64 n, float scale,
                 float offset);
void rn_k_add(const float *a, const float *b, float *out, rn_i64 n);
/* The merges, broadcasting: out[y][x][ch] = a[..] OP b[..] over h x w
 * pixels of c channels, where a is [ah, aw, ac] and b [bh, bw, bc], each
 * size 1 or the output's (read at index 0 then). OP: RN_MERGE_*. out may
 * be a when a has the output's shape. */
enum {
    RN_MERGE_ADD = 0,
    RN_MERGE_SUB = 1,
    RN_MERGE_MUL = 2,
    RN_MERGE_MAX = 3,
    RN_MERGE_MIN = 4
};
void rn_k_merge(int op, const float *a, int ah, int aw, int ac,
                const float *b, int bh, int bw, int bc, float *out, int h,
                int w, int c);
/* UpSampling2D: nearest repeats each pixel sh x sw times; bilinear
 * samples src = (dst + 0.5) * in / out - 0.5 clamped at 0 (half-pixel
 * centers: TensorFlow 2's resize, PyTorch's align_corners=False) or
 * src = dst * (in - 1) / (out - 1) (align_corners), between the two
 * nearest pixels (the last one repeated at the far edge). */
void rn_k_upsample_nearest(const float *in, int h, int w, int c, int sh,
                           int sw, float *out);
void rn_k_resize_bilinear(const float *in, int h, int w, int c, int oh,
                          int ow, int align_corners, float *out);
/* ShuffleNet's shuffle: out[p][o] = in[p][(o % groups) * (c / groups) +
 * o / groups]; c divisible by groups. */
void rn_k_channel_shuffle(const float *in, float *out, rn_i64 npix, int c,
                          int groups);
/* out[p*ldo + i] = in[p*ldi + i] for i < n: a slice of channels. */
void rn_k_copy_channels(const float *in, int ldi, float *out, int ldo,
                        rn_i64 npix, int n);
/* A batchnorm folded into the conv before it (compiler/passes/), in
 * double: scale = gamma / sqrt(var + eps), shift = beta + (bias - mean) *
 * scale; bias, gamma and beta may be NULL (0, 1 and 0). */
void rn_k_bn_fold_bias(int c, const float *gamma, const float *beta,
                       const float *mean, const float *var, double eps,
                       const float *bias, float *scale, float *shift);
/* x[p*c + ch] *= scale[ch]: a depthwise kernel scaled by a folded
 * batchnorm. */
void rn_k_scale_channels(float *x, rn_i64 npix, int c, const float *scale);

/* ------------------------------------------------------------- conv.c */
/* 2-D convolution, NHWC, direct or Winograd (conv.c chooses; direct.c,
 * winograd.c), with weights packed once at load time.
 * Generated code fills an rn_conv with literals. A grouped convolution
 * is one rn_conv with `groups` set (conv.c runs groups of few channels
 * side by side, block-diagonal, in blocks of 16 output channels); or the
 * caller's, one call per group, with channel offsets and ldi/ldo. */
typedef struct rn_conv {
    int ih, iw, cin;          /* input height, width, channels (of this group) */
    int oh, ow, cout;         /* output */
    int kh, kw, sh, sw, dh, dw;
    int pad_t, pad_l;         /* bottom/right padding follow from oh, ow */
    int ldi;                  /* floats between input pixels (>= cin) */
    int ldo;                  /* floats between output pixels (>= cout);
                                 residual uses the same layout as out */
    int act;                  /* RN_ACT_* (below): applied after bias and
                                 residual */
    int algo;                 /* RN_CONV_AUTO (0): chosen from the shapes;
                                 tests force one (pack and run alike) */
    int groups;               /* 0 or 1: none; else cin and cout are the
                                 totals, both divisible by groups, and the
                                 kernel is Keras's [kh][kw][cin/groups][cout]:
                                 output channel o sees the input channels
                                 of its group o / (cout / groups) */
    int pre, pre_act;         /* pre 1: a prologue, rn_conv_run_pre's: the
                                 input x of channel ci is read as
                                 pre_act(x pre_scale[ci] + pre_shift[ci])
                                 (a batch norm and activation before the
                                 conv that its weights cannot absorb; a
                                 squeeze-excite's channel scale, without
                                 pre_shift); the zero padding is the
                                 prologue's output's.
                                 Direct convolution only. */
} rn_conv;
/* The activations a convolution's epilogue applies on registers: these
 * six of rnc's Act codes (listed at kernels.c above), the same values,
 * so that the compiler hands its Act over as it is. The others are
 * rn_k_act's, in a pass of their own. */
enum {
    RN_ACT_NONE = 0,
    RN_ACT_RELU = 1,
    RN_ACT_RELU6 = 2,
    RN_ACT_SIGMOID = 3,    /* 1 / (1 + e^-x) */
    RN_ACT_SWISH = 6,      /* x * sigmoid(x): Act's silu */
    RN_ACT_HARD_SWISH = 10 /* x * relu6(x + 3) / 6 */
};
/* Direct: any conv. Winograd F(2x2, 3x3): 3x3, stride and dilation 1, at
 * most 1024 input channels (else direct); 2.25x fewer multiplications,
 * weights 16/9 as big. F(4x4, 3x3): the same convs with at most 455 input
 * channels; 4x fewer multiplications, weights 4x as big. Grouped: a
 * grouped conv of as many channels a group in as out, 1, 2, 4, 8 or 16,
 * without a prologue; no zeros multiplied. */
enum {
    RN_CONV_AUTO = 0,
    RN_CONV_DIRECT = 1,
    RN_CONV_WINOGRAD = 2,
    RN_CONV_WINOGRAD4 = 3,
    RN_CONV_GROUPED = 4
};
/* The algorithm c runs (RN_CONV_DIRECT, _WINOGRAD, _WINOGRAD4 or
 * _GROUPED): its .algo when eligible, else, for RN_CONV_AUTO, the choice
 * from its shapes (the compiler asks it once and writes the answer into
 * .algo). */
int rn_conv_algo(const rn_conv *c);
/* The same on nthreads threads (rn_conv_algo is its one-thread answer):
 * where it differs, the compiler emits both and the model runs the one
 * of its thread count (M_set_threads). */
int rn_conv_algo_on(const rn_conv *c, int nthreads);
/* Groups of a grouped c (c->groups > 1) that one call takes: all of them
 * with RN_CONV_GROUPED, else as many as fill a block of 16 output
 * channels side by side (a block-diagonal kernel). The compiler calls the
 * kernels on that many groups at a time (and on the rest last). */
int rn_conv_group_call(const rn_conv *c);
/* Floats of the packed weights. */
rn_i64 rn_conv_packed_floats(const rn_conv *c);
/* Packs a Keras kernel [kh][kw][cin][cout] ([cin / groups] with groups;
 * cout contiguous; for a group run by the caller, `kernel` points at its
 * first output channel and ldk is the full cout of the Keras tensor),
 * multiplying output channel co by scale[co] when scale is not NULL
 * (batchnorm folding). */
void rn_conv_pack(const rn_conv *c, const float *kernel, int ldk,
                  const float *scale, float *packed);
/* The conv splits into this many independent work items (tiles of output
 * rows and/or channel blocks), balanced for threads. */
int rn_conv_tiles(const rn_conv *c);
/* Floats of scratch one rn_conv_run call may use (0: none). */
rn_i64 rn_conv_scratch_floats(const rn_conv *c);
/* Computes work items [t0, t1): out = act(conv(in) + bias + residual);
 * bias (cout floats) and residual may be NULL. scratch: that many floats
 * of this thread's own, or NULL (then a slower path on ~64 KiB of stack).
 * Nothing is allocated. */
void rn_conv_run(const rn_conv *c, const float *in, const float *packed,
                 const float *bias, const float *residual, float *out,
                 int t0, int t1, float *scratch);
/* rn_conv_run with a prologue (c->pre): pre_scale and pre_shift hold cin
 * floats each (pre_shift may be NULL: no shift). The scratch (rn_conv_scratch_floats) holds the prologue's
 * output for chunks of pixels; without it, a slower path. */
void rn_conv_run_pre(const rn_conv *c, const float *pre_scale,
                     const float *pre_shift, const float *in,
                     const float *packed, const float *bias,
                     const float *residual, float *out, int t0, int t1,
                     float *scratch);

/* ----------------------------------------------------------- labels.c */
/* Class names, one a line of a UTF-8 text file: a BOM, CR before LF and
 * blank lines at the end are taken; an empty line elsewhere, bytes that
 * are not UTF-8, control characters (tab aside) and names over
 * RN_LABEL_MAX bytes are refused with FILE:LINE. */
enum { RN_LABEL_MAX = 1024, RN_TOP5_TEXT = 5 * (2 * RN_LABEL_MAX + 96) };
typedef struct rn_labels {
    int count;
    char **names; /* count names, into text */
    char *text;
} rn_labels;
int rn_labels_read(const char *path, rn_labels *out, char *err,
                   size_t errlen);
void rn_labels_free(rn_labels *l); /* and zeroes it; a zeroed one is fine */
/* The 5 largest of v[0, n) (ties: the lower index), one line each, as
 * `rnc --run` prints them: "  #1  class 7  0.981234", or with labels
 * (l not NULL) "  #1  seven  0.981234  (class 7)", names padded to one
 * width. out takes RN_TOP5_TEXT bytes; 0, or -1 if it was too short. */
int rn_top5_text(const float *v, rn_i64 n, const rn_labels *l, char *out,
                 size_t outlen);

/* -------------------------------------------------------- depthwise.c */
/* Depthwise 2-D convolution, NHWC: output channel o = input channel
 * o / mult over the window, weights in Keras's [kh][kw][c][mult] (any
 * batchnorm already folded), then bias and act. Generated code fills an
 * rn_dw with literals and splits the output rows [y0, y1) over threads. */
typedef struct rn_dw {
    int ih, iw, c;    /* input height, width, channels */
    int oh, ow, mult; /* output height, width; c * mult channels */
    int kh, kw, sh, sw, dh, dw;
    int pad_t, pad_l; /* bottom/right padding follow from oh, ow */
    int ldi, ldo;     /* floats between pixels (>= c, >= c * mult) */
    int act;          /* RN_ACT_* of rn_conv */
} rn_dw;
void rn_dw_run(const rn_dw *d, const float *in, const float *w,
               const float *bias, float *out, int y0, int y1);

/* ------------------------------------------------ trace.c and profile.c */
/* Looking inside a model (rnc --run --trace/--profile and --main
 * programs). Generated code describes its layers in a table (M_layers():
 * the graph's nodes in order, then one row per `layer` instance) and
 * calls a hook, when one is set (M_set_hook), on the running thread:
 * with layer -1 as a run starts, then with each row's index once its value
 * is complete. value is the row's output (its summary shape, H*W*C or N
 * floats), or NULL when this build keeps no value of that layer's own (a
 * batch norm, add or activation fused into a conv's code, a conv writing
 * a concat's slice, a zero padding folded into the next conv). */
typedef void (*rn_hook)(void *ctx, int layer, const float *value);

typedef struct rn_layer {
    const char *name; /* as the summary names it: the full path */
    const char *type; /* the Keras class: "Conv2D" */
    int rank;         /* 1 or 3: the summary's shape, without the batch */
    rn_i64 dims[3];
    rn_i64 macs;      /* multiply-accumulates of one inference */
    int code;         /* the row whose code computes it: its own index,
                         its absorber's when fused, -1 for an input, a
                         copy-free alias or a `layer` instance's row */
} rn_layer;

/* A trace: every row's value written once as DIR/NAME.npy ([1, dims],
 * float32, atomically; '/' in a name becomes "__"), and the index
 * DIR/trace.json, rows in order (rnc --compare reads it). rn_trace_open
 * creates DIR (and its parents) if missing and refuses two rows that
 * would share a file. The hook keeps the first error; rn_trace_close
 * writes the index and returns how many rows had no value (-1 on an error,
 * reported in err). Then t is freed. */
typedef struct rn_trace rn_trace;
rn_trace *rn_trace_open(const char *dir, const char *model,
                        const rn_layer *layers, int n, char *err,
                        size_t errlen);
void rn_trace_hook(void *ctx, int layer, const float *value);
int rn_trace_close(rn_trace *t, char *err, size_t errlen);
/* The file name of a layer name ("a/b" -> "a__b.npy") into out. */
void rn_trace_file_name(const char *name, char *out, size_t outlen);

/* A profile over up to `runs` runs: the hook charges the time since the
 * previous call to the row's code (a fused row's to its absorber's, an
 * alias's to the code before it); rn_profile_run_done closes a run with
 * the time the caller measured around it. A layer's figure is its mean
 * over the middle third of the runs ranked by time (the runs around the
 * median run: robust to a run another process interrupted, and the
 * layers add up to those runs). rn_profile_print writes the table to
 * stdout: the layers with code, slowest first, ms, GFLOP/s (2 x MACs /
 * time), % of peak, share; the total; and how it compares with the time
 * measured around those runs. */
typedef struct rn_profile rn_profile;
rn_profile *rn_profile_new(const rn_layer *layers, int n, int runs);
void rn_profile_hook(void *ctx, int layer, const float *value);
void rn_profile_run_done(rn_profile *p, double run_ms);
/* That figure for a row with code (-1 for a row without code, or before
 * any run). */
double rn_profile_ms(const rn_profile *p, int layer);
void rn_profile_print(const rn_profile *p, const char *model, int threads);
void rn_profile_free(rn_profile *p);
/* One core's peak in GFLOP/s: RNC_PEAK_GFLOPS when set (*measured = 0),
 * else timed on a loop of independent FMAs on the vectors of the kernels'
 * copy this CPU runs, AVX-512's, AVX2's or plain C's (*measured = 1;
 * about 20 ms). */
double rn_peak_gflops(int *measured);
/* ----------------------------------------------------------- deconv.c */
/* Transposed convolution (Conv2DTranspose), NHWC: input pixel (iy, ix)
 * under tap (ky, kx) adds into output pixel (iy*sh + ky*dh - pad_t,
 * ix*sw + kx*dw - pad_l), then bias. Generated code fills an rn_deconv
 * with literals; the weights are packed once at load and the output rows
 * [y0, y1) split over threads. */
typedef struct rn_deconv {
    int ih, iw, cin;   /* input */
    int oh, ow, cout;  /* output */
    int kh, kw, sh, sw, dh, dw;
    int pad_t, pad_l;  /* output positions cut before the first */
} rn_deconv;
/* Keras's kernel [kh][kw][cout][cin] -> [kh][kw][cin][cout] (as many
 * floats). */
void rn_deconv_pack(const rn_deconv *d, const float *kernel, float *packed);
void rn_deconv_run(const rn_deconv *d, const float *in, const float *packed,
                   const float *bias, float *out, int y0, int y1);

#ifdef __cplusplus
}
#endif
#endif
