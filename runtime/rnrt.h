/* rnrt.h: the rnc runtime, linked by every generated model (librnrt.a).
 * All exports are prefixed rn_. No global mutable state: everything lives in
 * the objects the caller holds. Errors are returned as 0/-1 (or NULL) with a
 * message written to the caller's err buffer, naming the file and tensor.
 *
 * This header must also compile under tcc for the JIT, which hands it no
 * system headers beyond the compiler's own <stddef.h> and <stdint.h>-free
 * types below: keep it to int, long long, float, size_t. */
#ifndef RNRT_H
#define RNRT_H

#include <stddef.h>

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
void rn_st_close(rn_safetensors *st);
int rn_st_count(const rn_safetensors *st);
const char *rn_st_name(const rn_safetensors *st, int i);
/* Copies tensor `name` into dst after checking it is F32 with exactly the
 * given dims; marks it used. A missing, mis-shaped or wrongly typed tensor
 * is refused with a message naming it. */
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
/* Writes F32 tensors in the order given, atomically (temp file + rename). */
int rn_st_write(const char *path, const rn_st_tensor *t, int n, char *err,
                size_t errlen);

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
int rn_npy_read(const char *path, rn_array *out, char *err, size_t errlen);
int rn_npy_write(const char *path, int rank, const rn_i64 *dims,
                 const float *data, char *err, size_t errlen);
void rn_array_free(rn_array *a);

/* -------------------------------------------------------------- util.c */

double rn_now_ms(void); /* monotonic clock */
/* Writes via a temporary file in the same directory and rename(2). */
int rn_write_file_atomic(const char *path, const void *data, size_t len,
                         char *err, size_t errlen);
/* Small deterministic generator (splitmix64) for seeded inputs/weights. */
typedef struct rn_rng {
    unsigned long long state;
} rn_rng;
void rn_rng_seed(rn_rng *r, unsigned long long seed);
unsigned long long rn_rng_next(rn_rng *r);
float rn_rng_uniform(rn_rng *r); /* [0, 1) */
float rn_rng_normal(rn_rng *r);  /* standard normal */
/* Threads from RNC_THREADS (default 1), clamped to [1, 64]. */
int rn_threads_from_env(void);
/* Median and minimum of n doubles (sorts a copy). */
void rn_median_min(const double *v, int n, double *median, double *min);

/* -------------------------------------------------------------- pool.c */

/* A fixed pool of worker threads. rn_pool_run calls fn(ctx, i) for i in
 * [0, ntasks) spread over the pool and the calling thread, and returns when
 * all are done. A pool of 1 runs everything on the caller. */
typedef struct rn_pool rn_pool;
rn_pool *rn_pool_new(int nthreads);
void rn_pool_free(rn_pool *p);
int rn_pool_threads(const rn_pool *p);
void rn_pool_run(rn_pool *p, int ntasks, void (*fn)(void *ctx, int i),
                 void *ctx);

/* ----------------------------------------------------------- kernels.c */
/* Hot inner loops compiled by the C compiler of the runtime (vectorized by
 * gcc), called from generated code with constant sizes. Owned by the code
 * generator; see emit_c.c. */

#ifdef __cplusplus
}
#endif
#endif
