/* test_jit.c: the libtcc layer (jit_compile) on hand-written C: calls into
 * libc and the runtime, tcc's errors reported, many compile/free cycles, and
 * a model written by hand to the contract emit_c follows for the JIT. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "rnc.h"
#include "rnrt.h"
#include "unit.h"

static void test_compile_and_call(void) {
    char err[1024] = "";
    JitCode *j = jit_compile(
        "int add(int a, int b) { return a + b; }\n"
        "float mathf(float x) {\n"
        "    return expf(x) + sqrtf(4 * x) + fabsf(-x) + tanhf(x);\n"
        "}\n"
        "int text(char *out, size_t n, int v) {\n"
        "    char tmp[16];\n"
        "    float *p = malloc(4 * sizeof *p), *q = calloc(4, sizeof *q);\n"
        "    memset(p, 0, 4 * sizeof *p);\n"
        "    p[2] = (float)v;\n"
        "    memcpy(q, p, 4 * sizeof *p);\n"
        "    memmove(q, q + 1, 3 * sizeof *q);\n"
        "    snprintf(tmp, sizeof tmp, \"v=%d\", (int)q[1]);\n"
        "    free(p);\n"
        "    free(q);\n"
        "    return snprintf(out, n, \"%s\", tmp);\n"
        "}\n",
        err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    int (*add)(int, int) = (int (*)(int, int))jit_function(j, "add");
    float (*mathf)(float) = (float (*)(float))jit_function(j, "mathf");
    int (*text)(char *, size_t, int) =
        (int (*)(char *, size_t, int))jit_function(j, "text");
    CU_ASSERT_PTR_NOT_NULL_FATAL(add);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mathf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(add(40, 2), 42);
    CU_ASSERT_DOUBLE_EQUAL(mathf(1.0f), expf(1) + 2 + 1 + tanhf(1), 1e-5);
    char buf[32];
    CU_ASSERT_EQUAL(text(buf, sizeof buf, 7), 3);
    CU_ASSERT_STRING_EQUAL(buf, "v=7");
    CU_ASSERT_PTR_NULL(jit_function(j, "no_such_function"));
    jit_free(j);
}

/* The embedded rnrt.h compiles under tcc and its functions are the ones
 * rnc links: the JIT'd generator gives the same stream as the native one. */
static void test_runtime_calls(void) {
    char err[1024] = "";
    JitCode *j = jit_compile(
        "double draw(unsigned long long seed, float *out, int n) {\n"
        "    rn_rng r;\n"
        "    rn_rng_seed(&r, seed);\n"
        "    for (int i = 0; i < n; i++) out[i] = rn_rng_uniform(&r);\n"
        "    return rn_now_ms();\n"
        "}\n"
        "int threads(void) { return rn_threads_from_env(); }\n",
        err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    double (*draw)(unsigned long long, float *, int) =
        (double (*)(unsigned long long, float *, int))jit_function(j, "draw");
    CU_ASSERT_PTR_NOT_NULL_FATAL(draw);
    float got[8];
    double t = draw(1234, got, 8);
    CU_ASSERT(t > 0);
    rn_rng r;
    rn_rng_seed(&r, 1234);
    for (int i = 0; i < 8; i++) CU_ASSERT_EQUAL(got[i], rn_rng_uniform(&r));
    int (*threads)(void) = (int (*)(void))jit_function(j, "threads");
    CU_ASSERT_EQUAL(threads(), rn_threads_from_env());
    jit_free(j);
}

static void test_syntax_error_reported(void) {
    char err[1024] = "";
    JitCode *j = jit_compile("int ok(void) { return 1; }\nint f( {\n", err,
                             sizeof err);
    CU_ASSERT_PTR_NULL(j);
    /* tcc's own message, with the line in the generated code. */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "<generated>:2:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "error"));
}

static void test_undefined_symbol_reported(void) {
    char err[1024] = "";
    JitCode *j = jit_compile("int nowhere(int);\n"
                             "int f(void) { return nowhere(1); }\n",
                             err, sizeof err);
    CU_ASSERT_PTR_NULL(j);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "nowhere"));
    /* System headers are not there: the JIT hands over everything. */
    j = jit_compile("#include <stdio.h>\n", err, sizeof err);
    CU_ASSERT_PTR_NULL(j);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "stdio.h"));
}

/* unsigned long long <-> float needs tcc's helpers (libtcc1.a, from the
 * tcc package): linked when installed, else a clear link error. */
static void test_tcc_helpers(void) {
    char err[1024] = "";
    JitCode *j = jit_compile(
        "float to_f(unsigned long long x) { return (float)x; }\n"
        "unsigned long long to_u(float x) { return (unsigned long long)x; }\n",
        err, sizeof err);
    if (access("/usr/lib/x86_64-linux-gnu/tcc/libtcc1.a", R_OK) != 0) {
        CU_ASSERT_PTR_NULL(j);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "__f"));
        jit_free(j);
        return;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    float (*to_f)(unsigned long long) =
        (float (*)(unsigned long long))jit_function(j, "to_f");
    unsigned long long (*to_u)(float) =
        (unsigned long long (*)(float))jit_function(j, "to_u");
    CU_ASSERT_EQUAL(to_f(1ull << 63), 9223372036854775808.0f);
    CU_ASSERT_EQUAL(to_u(1e19f), (unsigned long long)1e19f);
    jit_free(j);
}

/* Many compilations in one process: each works, and under SAN=1 the leak
 * checker sees all of them freed. Two live at once stay apart. */
static void test_repeated_cycles(void) {
    char err[1024] = "", code[128];
    for (int i = 0; i < 100; i++) {
        snprintf(code, sizeof code, "int k(void) { return %d; }\n", i);
        JitCode *j = jit_compile(code, err, sizeof err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(j);
        int (*k)(void) = (int (*)(void))jit_function(j, "k");
        CU_ASSERT_EQUAL(k(), i);
        jit_free(j);
    }
    JitCode *a = jit_compile("int k(void) { return 1; }", err, sizeof err);
    JitCode *b = jit_compile("int k(void) { return 2; }", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(((int (*)(void))jit_function(a, "k"))(), 1);
    CU_ASSERT_EQUAL(((int (*)(void))jit_function(b, "k"))(), 2);
    jit_free(a);
    jit_free(b);
    jit_free(NULL);
}

/* A model by hand, to the contract of emit_c for the JIT: M_load,
 * M_set_threads, M_run_v, M_free; two inputs [3] and [3], output their
 * scaled sum. */
static const char hand_model[] =
    "typedef struct tiny { float scale; rn_pool *pool; } tiny;\n"
    "tiny *tiny_load(const char *path, char *err, size_t errlen) {\n"
    "    if (path[0] == 0) {\n"
    "        snprintf(err, errlen, \"no weights\");\n"
    "        return NULL;\n"
    "    }\n"
    "    tiny *m = calloc(1, sizeof *m);\n"
    "    m->scale = 2;\n"
    "    m->pool = rn_pool_new(1);\n"
    "    return m;\n"
    "}\n"
    "int tiny_set_threads(tiny *m, int n) {\n"
    "    rn_pool_free(m->pool);\n"
    "    m->pool = rn_pool_new(n);\n"
    "    return m->pool ? 0 : -1;\n"
    "}\n"
    "void tiny_run_v(tiny *m, const float *const *in, float *const *out) {\n"
    "    for (int i = 0; i < 3; i++)\n"
    "        out[0][i] = m->scale * (in[0][i] + in[1][i]);\n"
    "}\n"
    "void tiny_free(tiny *m) {\n"
    "    rn_pool_free(m->pool);\n"
    "    free(m);\n"
    "}\n";

static void test_hand_model(void) {
    char err[1024] = "";
    JitCode *j = jit_compile(hand_model, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    void *(*load)(const char *, char *, size_t) =
        (void *(*)(const char *, char *, size_t))jit_function(j, "tiny_load");
    int (*set_threads)(void *, int) =
        (int (*)(void *, int))jit_function(j, "tiny_set_threads");
    void (*run_v)(void *, const float *const *, float *const *) =
        (void (*)(void *, const float *const *, float *const *))jit_function(
            j, "tiny_run_v");
    void (*free_m)(void *) = (void (*)(void *))jit_function(j, "tiny_free");
    CU_ASSERT_PTR_NOT_NULL_FATAL(load);
    CU_ASSERT_PTR_NOT_NULL_FATAL(set_threads);
    CU_ASSERT_PTR_NOT_NULL_FATAL(run_v);
    CU_ASSERT_PTR_NOT_NULL_FATAL(free_m);

    CU_ASSERT_PTR_NULL(load("", err, sizeof err));
    CU_ASSERT_STRING_EQUAL(err, "no weights");
    void *m = load("w", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(set_threads(m, 2), 0);
    float a[3] = {1, 2, 3}, b[3] = {0.5f, -2, 10}, y[3] = {0};
    const float *in[2] = {a, b};
    float *out[1] = {y};
    run_v(m, in, out);
    CU_ASSERT_EQUAL(y[0], 3);
    CU_ASSERT_EQUAL(y[1], 0);
    CU_ASSERT_EQUAL(y[2], 26);
    free_m(m);
    jit_free(j);
}

void register_jit_tests(void) {
    CU_pSuite s = unit_suite("jit");
    CU_add_test(s, "compile and call, libc handed over", test_compile_and_call);
    CU_add_test(s, "runtime functions from the JIT", test_runtime_calls);
    CU_add_test(s, "tcc syntax error reported", test_syntax_error_reported);
    CU_add_test(s, "undefined symbol reported", test_undefined_symbol_reported);
    CU_add_test(s, "tcc's conversion helpers", test_tcc_helpers);
    CU_add_test(s, "100 compile/free cycles, two live", test_repeated_cycles);
    CU_add_test(s, "a hand-written model to the contract", test_hand_model);
}
