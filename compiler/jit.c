/* jit.c: `rnc --run`, the model compiled in memory by libtcc and run.
 *
 * emit_c's C (for_jit: no #include, no main) is compiled behind a prelude:
 * the text of rnrt.h (embedded at build time) and prototypes of the few libc
 * functions generated code calls. Every function it may call is handed to
 * tcc by address, so tcc reads no system header or library: the runtime
 * that rnc itself links (gcc-compiled, vectorized kernels) does the hot
 * loops, and tcc only compiles the glue quickly.
 *
 * Requires a planned Graph (plan_arena); changes nothing in it. */
#define _POSIX_C_SOURCE 200809L
#include "rnc.h"
#include "rnrt.h"
#include "rnimg.h"

#include <libtcc.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* rnrt.h's bytes (Makefile: od), made a string here. */
static const char rnrt_h_text[] = {
#include "rnrt_h.inc"
    0};

/* The libc functions generated code may call (emit_api.c), each with its
 * prototype for the prelude: one list, handed to tcc by address too. */
#define JIT_LIBC(X)                                                         \
    X(malloc, "void *malloc(size_t);")                                      \
    X(calloc, "void *calloc(size_t, size_t);")                              \
    X(realloc, "void *realloc(void *, size_t);")                            \
    X(free, "void free(void *);")                                           \
    X(memcpy, "void *memcpy(void *, const void *, size_t);")                \
    X(memmove, "void *memmove(void *, const void *, size_t);")              \
    X(memset, "void *memset(void *, int, size_t);")                         \
    X(expf, "float expf(float);")                                           \
    X(tanhf, "float tanhf(float);")                                         \
    X(sqrtf, "float sqrtf(float);")                                         \
    X(fabsf, "float fabsf(float);")                                         \
    X(snprintf, "int snprintf(char *, size_t, const char *, ...);")

static const char libc_prototypes[] =
#define JIT_PROTO(f, proto) proto "\n"
    JIT_LIBC(JIT_PROTO)
#undef JIT_PROTO
    ;

typedef struct JitSymbol {
    const char *name;
    JitFn fn;
} JitSymbol;

/* The rn_* functions rnrt.h declares and librnrt.a defines (Makefile: nm),
 * then the libc functions above; memmove also because tcc itself may call
 * it for struct copies. */
static const JitSymbol jit_symbols[] = {
#define RN_SYM(f) {#f, (JitFn)f},
#include "rnrt_syms.inc"
#undef RN_SYM
#define JIT_SYM(f, proto) {#f, (JitFn)f},
    JIT_LIBC(JIT_SYM)
#undef JIT_SYM
};

/* tcc's helpers for conversions x86-64 does not do in one instruction
 * (unsigned long long <-> float); linked only if the code needs one, and
 * only if the tcc package put the archive in one of its usual places. */
static const char *const libtcc1_paths[] = {
    "/usr/lib/x86_64-linux-gnu/tcc/libtcc1.a",
    "/usr/local/lib/tcc/libtcc1.a",
    "/usr/lib/tcc/libtcc1.a",
};

_Static_assert(sizeof(void *) == sizeof(JitFn),
               "tcc hands symbols over as void *");

struct JitCode {
    TCCState *tcc;
    Buf msgs; /* what tcc said, errors and warnings */
};

static void on_tcc_message(void *opaque, const char *msg) {
    Buf *b = opaque;
    if (b->len < 4000) buf_printf(b, "%s%s", b->len ? "\n" : "", msg);
}

static void compile_failed(JitCode *j, const char *what, char *err, size_t errlen) {
    if (j->msgs.len) snprintf(err, errlen, "%s", j->msgs.data);
    else snprintf(err, errlen, "tcc: the %s failed", what);
    jit_free(j);
}

JitCode *jit_compile(const char *code, char *err, size_t errlen) {
    JitCode *j = calloc(1, sizeof *j);
    if (!j) die("out of memory");
    j->tcc = tcc_new();
    if (!j->tcc) die("tcc_new failed");
    tcc_set_error_func(j->tcc, &j->msgs, on_tcc_message);
    /* Before the output type, which adds the default include and library
     * paths unless told not to. */
    tcc_set_options(j->tcc, "-nostdinc -nostdlib");
    tcc_set_output_type(j->tcc, TCC_OUTPUT_MEMORY);

    Buf src = {0};
    buf_printf(&src, "#define RN_JIT 1\n%s\n%s#line 1 \"<generated>\"\n",
               rnrt_h_text, libc_prototypes);
    buf_append(&src, code, strlen(code));
    int rc = tcc_compile_string(j->tcc, src.data);
    buf_free(&src);
    if (rc != 0) {
        compile_failed(j, "compile", err, errlen);
        return NULL;
    }

    for (size_t i = 0; i < sizeof jit_symbols / sizeof jit_symbols[0]; i++) {
        void *p;
        memcpy(&p, &jit_symbols[i].fn, sizeof p);
        tcc_add_symbol(j->tcc, jit_symbols[i].name, p);
    }
    for (size_t i = 0; i < sizeof libtcc1_paths / sizeof libtcc1_paths[0];
         i++) {
        if (access(libtcc1_paths[i], R_OK) == 0) {
            tcc_add_file(j->tcc, libtcc1_paths[i]);
            break;
        }
    }
#ifdef TCC_RELOCATE_AUTO
    rc = tcc_relocate(j->tcc, TCC_RELOCATE_AUTO);
#else
    rc = tcc_relocate(j->tcc);
#endif
    if (rc < 0) {
        compile_failed(j, "link", err, errlen);
        return NULL;
    }
    return j;
}

JitFn jit_function(JitCode *j, const char *name) {
    void *p = tcc_get_symbol(j->tcc, name);
    JitFn f = NULL;
    if (p) memcpy(&f, &p, sizeof f);
    return f;
}

void jit_free(JitCode *j) {
    if (!j) return;
    if (j->tcc) tcc_delete(j->tcc);
    buf_free(&j->msgs);
    free(j);
}

/* ------------------------------------------------------------- jit_run */

/* The model's entry points, by the contract with emit_c. */
typedef struct ModelApi {
    void *(*load)(const char *weights_path, char *err, size_t errlen);
    int (*set_threads)(void *m, int n);
    void (*run_v)(void *m, const float *const *inputs, float *const *outputs);
    void (*free)(void *m);
    const rn_layer *(*layers)(void);
    void (*set_hook)(void *m, rn_hook hook, void *ctx);
} ModelApi;

static JitFn model_function(JitCode *j, const char *model, const char *what) {
    char name[512];
    snprintf(name, sizeof name, "%s_%s", model, what);
    JitFn f = jit_function(j, name);
    if (!f) die("generated code has no function %s", name);
    return f;
}

static ModelApi model_api(JitCode *j, const char *model) {
    ModelApi api;
    api.load = (void *(*)(const char *, char *, size_t))model_function(
        j, model, "load");
    api.set_threads = (int (*)(void *, int))model_function(j, model,
                                                          "set_threads");
    api.run_v = (void (*)(void *, const float *const *, float *const *))
        model_function(j, model, "run_v");
    api.free = (void (*)(void *))model_function(j, model, "free");
    api.layers = (const rn_layer *(*)(void))model_function(j, model, "layers");
    api.set_hook = (void (*)(void *, rn_hook, void *))model_function(j, model,
                                                                    "set_hook");
    return api;
}

/* A test hook: RNC_JIT_RECOMPILE=N compiles and frees the model N more
 * times before the run, so that a leak checker sees many compilations in
 * one process. */
static int extra_compiles(void) {
    const char *s = getenv("RNC_JIT_RECOMPILE");
    int n = s ? atoi(s) : 0;
    return n < 0 ? 0 : n > 1000 ? 1000 : n;
}

/* Emits and compiles the model; prints the compile line on stderr. */
static JitCode *compile_model(Graph *g, const char *src_path) {
    EmitOptions eo = {
        .cmdline = "rnc --run",
        .src_path = src_path,
        .header_name = NULL,
        .with_main = false,
        .for_jit = true,
    };
    double t0 = rn_now_ms();
    Buf c = {0}, h = {0};
    emit_c(g, &eo, &c, &h);
    buf_free(&h);
    double t1 = rn_now_ms();
    char err[4096];
    const char *code = c.data ? c.data : "";
    for (int i = extra_compiles(); i > 0; i--) {
        JitCode *j = jit_compile(code, err, sizeof err);
        if (!j) break; /* reported below */
        jit_free(j);
    }
    double t2 = rn_now_ms();
    JitCode *j = jit_compile(code, err, sizeof err);
    double t3 = rn_now_ms();
    if (!j) {
        fprintf(stderr, "rnc: internal error: the generated C of '%s' did "
                "not compile\n%s\n", g->name, err);
    } else {
        fprintf(stderr, "rnc: compile %.1f ms in memory (tcc; %.1f ms to "
                "emit %zu bytes of C)\n", t3 - t2, t1 - t0, c.len);
    }
    buf_free(&c);
    return j;
}

/* A test hook: RNC_TRACE_PERTURB=NAME adds 1% of its largest magnitude
 * (and 0.001) to the first value of row NAME as the traced run reaches it,
 * so that the layers after it compute from a wrong value; --compare must
 * then point at NAME (tests/e2e/inspect.sh). */
typedef struct Perturb {
    rn_trace *trace;
    const rn_layer *layers;
    const char *name;
} Perturb;

static void perturb_hook(void *ctx, int layer, const float *value) {
    Perturb *p = ctx;
    if (layer >= 0 && value && !strcmp(p->layers[layer].name, p->name)) {
        const rn_layer *l = &p->layers[layer];
        int64_t count = 1;
        float big = 0;
        for (int i = 0; i < l->rank; i++) count *= l->dims[i];
        for (int64_t i = 0; i < count; i++)
            big = fabsf(value[i]) > big ? fabsf(value[i]) : big;
        ((float *)value)[0] += 0.01f * big + 0.001f;
    }
    rn_trace_hook(p->trace, layer, value);
}

/* --trace: the warm-up run writes every row of the model to dir. */
static int run_traced(const Graph *g, const ModelApi *api, void *m,
                      const float *const *in, float *const *out,
                      const char *dir, char *err, size_t errlen) {
    int n = g->nnodes + g->ngroups;
    rn_trace *t = rn_trace_open(dir, g->name, api->layers(), n, err, errlen);
    if (!t) return -1;
    Perturb p = {t, api->layers(), getenv("RNC_TRACE_PERTURB")};
    if (p.name) api->set_hook(m, perturb_hook, &p);
    else api->set_hook(m, rn_trace_hook, t);
    api->run_v(m, in, out);
    api->set_hook(m, NULL, NULL);
    int missing = rn_trace_close(t, err, errlen);
    if (missing < 0) return -1;
    fprintf(stderr, "rnc: traced %d layers to %s/ (index %s/trace.json)\n",
            n - missing, dir, dir);
    if (missing > 0) die("--trace: %d layers without a value in an unfused build", missing);
    return 0;
}

/* Runs once to warm up (tracing it with --trace), then `repeat` times
 * under the clock (profiled with --profile). */
static int run_timed(const Graph *g, const ModelApi *api, void *m,
                     const float *const *in, float *const *out,
                     const JitOptions *o, int threads, rn_profile **profile,
                     char *err, size_t errlen) {
    int repeat = o->repeat > 0 ? o->repeat : 1;
    rn_profile *prof = NULL;
    if (o->trace_dir) {
        if (run_traced(g, api, m, in, out, o->trace_dir, err, errlen) != 0)
            return -1;
    } else {
        api->run_v(m, in, out);
    }
    if (o->profile) {
        if (o->trace_dir)
            fprintf(stderr, "rnc: note: with --trace, --profile times the unfused "
                    "build (every layer on its own)\n");
        prof = rn_profile_new(api->layers(), g->nnodes + g->ngroups, repeat);
        if (!prof) die("out of memory");
        api->set_hook(m, rn_profile_hook, prof);
    }
    double *ms = malloc((size_t)repeat * sizeof *ms);
    if (!ms) die("out of memory");
    for (int i = 0; i < repeat; i++) {
        double t0 = rn_now_ms();
        api->run_v(m, in, out);
        ms[i] = rn_now_ms() - t0;
        if (prof) rn_profile_run_done(prof, ms[i]);
    }
    api->set_hook(m, NULL, NULL);
    double median, min;
    rn_median_min(ms, repeat, &median, &min);
    fprintf(stderr, "rnc: run %.3f ms median, %.3f ms min (%d run%s after "
            "a warm-up, %d thread%s)\n", median, min, repeat,
            repeat == 1 ? "" : "s", threads, threads == 1 ? "" : "s");
    free(ms);
    *profile = prof;
    return 0;
}

/* The model's buffers: inputs (read or drawn) and outputs. */
typedef struct JitData {
    const Graph *g;
    float **in, **out;
    rn_array *arrays; /* inputs read from .npy (data NULL when drawn) */
} JitData;

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) die("out of memory");
    return p;
}

static void data_init(JitData *d, const Graph *g) {
    d->g = g;
    d->in = xcalloc((size_t)g->ninputs, sizeof *d->in);
    d->arrays = xcalloc((size_t)g->ninputs, sizeof *d->arrays);
    d->out = xcalloc((size_t)g->noutputs, sizeof *d->out);
    for (int i = 0; i < g->noutputs; i++)
        d->out[i] = xcalloc((size_t)shape_count(&g->outputs[i]->out),
                            sizeof(float));
}

static void data_free(JitData *d) {
    for (int i = 0; i < d->g->ninputs; i++) {
        if (d->arrays[i].data) rn_array_free(&d->arrays[i]);
        else free(d->in[i]);
    }
    for (int i = 0; i < d->g->noutputs; i++) free(d->out[i]);
    free(d->in);
    free(d->arrays);
    free(d->out);
}

/* An image input: decoded to the input's [H, W, C] (rnimg.h). */
static int read_image(JitData *d, int i, const char *path,
                      const rn_img_norm *norm, char *err, size_t errlen) {
    const GNode *n = d->g->inputs[i];
    const Shape *s = &n->out;
    rn_img_norm plain;
    rn_img_norm_init(&plain);
    if (s->rank != 3 || (s->d[2] != 3 && s->d[2] != 1)) {
        char want[64];
        shape_format(s, want, sizeof want);
        snprintf(err, errlen, "%s: an image, but input '%s' takes %s; an image "
                 "fills [H, W, 3] or [H, W, 1]", path, n->name, want);
        return -1;
    }
    if (rn_img_read(path, (int)s->d[0], (int)s->d[1], (int)s->d[2],
                    norm ? norm : &plain, &d->arrays[i], err, errlen) != 0)
        return -1;
    d->in[i] = d->arrays[i].data;
    return 0;
}

static int read_input(JitData *d, int i, const char *path, char *err,
                      size_t errlen) {
    const GNode *n = d->g->inputs[i];
    rn_array *a = &d->arrays[i];
    if (rn_npy_read(path, a, err, errlen) != 0) {
        a->data = NULL;
        return -1;
    }
    rn_i64 dims[3];
    for (int k = 0; k < n->out.rank; k++) dims[k] = n->out.d[k];
    if (!rn_input_fits(a, n->out.rank, dims, path, n->name, err, errlen)) return -1;
    d->in[i] = a->data;
    return 0;
}

/* Without --input: uniform in [-1, 1), one seeded stream per input. */
static void draw_input(JitData *d, int i, uint64_t seed) {
    int64_t count = shape_count(&d->g->inputs[i]->out);
    float *x = xcalloc((size_t)count, sizeof *x);
    rn_rng r;
    rn_rng_seed(&r, seed * 0x9E3779B97F4A7C15ull + 0x5EEDull + (uint64_t)i);
    for (int64_t k = 0; k < count; k++) x[k] = 2 * rn_rng_uniform(&r) - 1;
    d->in[i] = x;
}

static int prepare_inputs(JitData *d, const JitOptions *o, char *err,
                          size_t errlen) {
    for (int i = 0; i < d->g->ninputs; i++) {
        if (!o->inputs) draw_input(d, i, o->seed);
        else if (o->images && o->images[i]) {
            if (read_image(d, i, o->inputs[i], o->norm, err, errlen) != 0)
                return -1;
        } else if (read_input(d, i, o->inputs[i], err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Without --weights: weights_init's seeded random weights, through a
 * private temporary file that is gone once loaded. */
static void *load_random(const Graph *g, uint64_t seed,
                         void *(*load)(const char *, char *, size_t),
                         char *err, size_t errlen) {
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/rnc-weights-XXXXXX",
             dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary file in %s: %s",
                 dir && *dir ? dir : "/tmp", strerror(errno));
        return NULL;
    }
    close(fd);
    void *m = NULL;
    if (weights_init(g, path, seed, true, err, errlen) == 0)
        m = load(path, err, errlen);
    unlink(path);
    return m;
}

static void print_header(FILE *f, const JitData *d, const JitOptions *o) {
    fprintf(f, "%s: ", d->g->name);
    if (o->weights_path) fprintf(f, "weights %s", o->weights_path);
    else fprintf(f, "random weights (seed %llu)", (unsigned long long)o->seed);
    if (o->inputs) {
        for (int i = 0; i < d->g->ninputs; i++)
            fprintf(f, "%s%s", i ? ", " : ", input ", o->inputs[i]);
    } else {
        fprintf(f, ", random input (seed %llu)", (unsigned long long)o->seed);
    }
    fputc('\n', f);
}

/* Others: every value when few, else the first ones and a digest. */
static void print_values(FILE *f, const float *v, int64_t n) {
    enum { FEW = 32, FIRST = 8 };
    int64_t shown = n <= FEW ? n : FIRST;
    for (int64_t i = 0; i < shown; i++)
        fprintf(f, "  %.6g%s", v[i],
                i % 8 == 7 || i == shown - 1 ? "\n" : "");
    if (n <= FEW) return;
    double sum = 0, lo = v[0], hi = v[0];
    for (int64_t i = 0; i < n; i++) {
        sum += v[i];
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    fprintf(f, "  ... %lld values: min %.6g, max %.6g, mean %.6g\n",
            (long long)n, lo, hi, sum / (double)n);
}

/* Softmax outputs, and with --labels every class output: the top 5
 * (runtime/labels.c); others: their values. */
static void print_outputs(FILE *f, const JitData *d, const rn_labels *labels) {
    for (int i = 0; i < d->g->noutputs; i++) {
        const GNode *n = d->g->outputs[i];
        bool named = labels && emit_class_output(d->g, i);
        bool top5 = n->act == ACT_SOFTMAX || named;
        char head[512], text[RN_TOP5_TEXT];
        emit_output_heading(d->g, i, top5, head, sizeof head);
        fprintf(f, "%s\n", head);
        if (top5) {
            rn_top5_text(d->out[i], shape_count(&n->out),
                         named ? labels : NULL, text, sizeof text);
            fputs(text, f);
        } else {
            print_values(f, d->out[i], shape_count(&n->out));
        }
    }
}

/* --labels: read, and as many names as every class output has classes. */
static int read_labels(const Graph *g, const char *path, rn_labels *l,
                       char *err, size_t errlen) {
    if (!path) return 0;
    if (rn_labels_read(path, l, err, errlen) != 0) return -1;
    bool any = false;
    for (int i = 0; i < g->noutputs; i++) {
        if (!emit_class_output(g, i)) continue;
        any = true;
        int64_t n = shape_count(&g->outputs[i]->out);
        if (n != l->count) {
            snprintf(err, errlen, "%s has %d class names, output '%s' has "
                     "%lld classes", path, l->count, g->outputs[i]->path,
                     (long long)n);
            return -1;
        }
    }
    if (!any) {
        snprintf(err, errlen, "--labels %s: model '%s' has no class output (a "
                 "softmax or a flat output)", path, g->name);
        return -1;
    }
    return 0;
}

/* Before anything runs: every output's folder must take a new file, so
 * that a bad second path cannot leave the first output written. */
static int check_outputs(const JitOptions *o, int n, char *err,
                         size_t errlen) {
    for (int i = 0; o->outputs && i < n; i++) {
        const char *path = o->outputs[i];
        const char *slash = strrchr(path, '/');
        char dir[4096];
        if (!slash) snprintf(dir, sizeof dir, ".");
        else if (slash == path) snprintf(dir, sizeof dir, "/");
        else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        if (access(dir, W_OK) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", path,
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Each output as a [1, ...] float32 array. */
static int write_outputs(const JitData *d, const JitOptions *o, char *err,
                         size_t errlen) {
    for (int i = 0; o->outputs && i < d->g->noutputs; i++) {
        const Shape *s = &d->g->outputs[i]->out;
        rn_i64 dims[4] = {1};
        for (int k = 0; k < s->rank; k++) dims[k + 1] = s->d[k];
        if (rn_npy_write(o->outputs[i], s->rank + 1, dims, d->out[i], err,
                         errlen) != 0)
            return -1;
    }
    return 0;
}

int jit_run(Graph *g, const JitOptions *o, const char *src_path) {
    int rc = 1;
    char err[1024];
    JitCode *j = NULL;
    void *m = NULL;
    ModelApi api = {0};
    rn_profile *prof = NULL;
    JitData d;
    rn_labels labels = {0};
    data_init(&d, g);

    if (check_outputs(o, g->noutputs, err, sizeof err) != 0 ||
        read_labels(g, o->labels_path, &labels, err, sizeof err) != 0 ||
        prepare_inputs(&d, o, err, sizeof err) != 0)
        goto fail;
    if (!(j = compile_model(g, src_path))) goto done;
    api = model_api(j, g->name);
    m = o->weights_path ? api.load(o->weights_path, err, sizeof err)
                        : load_random(g, o->seed, api.load, err, sizeof err);
    if (!m) goto fail;
    int threads = o->threads > 0 ? o->threads : rn_threads_from_env();
    if (api.set_threads(m, threads) != 0) {
        snprintf(err, sizeof err, "cannot start %d threads", threads);
        goto fail;
    }
    if (run_timed(g, &api, m, (const float *const *)d.in, d.out, o, threads,
                  &prof, err, sizeof err) != 0 ||
        write_outputs(&d, o, err, sizeof err) != 0)
        goto fail;
    print_header(stdout, &d, o);
    print_outputs(stdout, &d, o->labels_path ? &labels : NULL);
    if (prof) rn_profile_print(prof, g->name, threads);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "rnc: error: %s\n", err);
done:
    rn_profile_free(prof);
    if (m) api.free(m);
    jit_free(j);
    data_free(&d);
    rn_labels_free(&labels);
    return rc;
}
