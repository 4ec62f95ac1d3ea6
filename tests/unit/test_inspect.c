/* test_inspect.c: what docs/inspect.md's tools rest on: the buffers that
 * plan.c exposes (g->bufs, read by the memory table) agree with the plan
 * the code uses, fused or not; the byte sizes of --max-arena; the trace's
 * file names; a profile's accounting. */
#include <stdlib.h>
#include <string.h>

#include "rnc.h"
#include "rnrt.h"
#include "unit.h"

static Arena *A;

static Graph *build_file(const char *path) {
    static Source src;
    static Diag d;
    char *text = read_whole_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char *copy = arena_strdup(A, text);
    free(text);
    src = (Source){path, copy, strlen(copy)};
    diag_init(&d, &src, stderr);
    Ast *prog = parse_source(&src, A, &d);
    return prog ? elaborate(prog, "t", A, &d) : NULL;
}

/* Every buffer once, where its owner was placed, inside the arena and
 * aligned; the arena is the highest one reaches; two buffers live at one
 * step never overlap; a node that writes has its owner's buffer. */
static void check_bufs(const Graph *g) {
    int64_t top = 0;
    int *seen = calloc((size_t)g->nnodes + 1, sizeof *seen);
    for (int b = 0; b < g->nbufs; b++) {
        const PlanBuf *p = &g->bufs[b];
        CU_ASSERT_EQUAL(p->owner->arena_off, p->off);
        CU_ASSERT(p->off % 16 == 0 && p->size % 16 == 0);
        CU_ASSERT(p->size >= shape_count(&p->owner->out));
        CU_ASSERT(p->birth <= p->end);
        CU_ASSERT(b == 0 || g->bufs[b - 1].birth <= p->birth);
        CU_ASSERT_EQUAL(node_owner(p->owner), p->owner);
        seen[p->owner->id]++;
        if (p->off + p->size > top) top = p->off + p->size;
        for (int c = 0; c < b; c++) {
            const PlanBuf *q = &g->bufs[c];
            bool meet = p->birth <= q->end && q->birth <= p->end;
            bool overlap = p->off < q->off + q->size && q->off < p->off + p->size;
            /* a conv writing over its residual (plan.c), born as it dies */
            bool in_place = p->owner->residual && node_owner(p->owner->residual) == q->owner &&
                            p->off == q->off && p->birth == q->end;
            CU_ASSERT(!(meet && overlap) || in_place);
        }
    }
    CU_ASSERT_EQUAL(top, g->arena_floats);
    for (int i = 0; i < g->nnodes; i++) {
        const GNode *n = g->nodes[i];
        if (node_has_code(n) && node_owner(n)->op != OP_INPUT)
            CU_ASSERT_EQUAL(seen[node_owner(n)->id], 1);
    }
    free(seen);
}

static void test_plan_bufs(void) {
    static const char *const files[] = {
        "../../examples/small_residual.rn", "../../examples/resnet50.rn",
        "../../examples/mobilenet_v1.rn", "../../tests/numerics/fusion.rn",
        "../../tests/numerics/merge.rn"};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        A = arena_new();
        Graph *g = build_file(files[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(g);
        plan_arena(g); /* unfused, as --trace compiles */
        check_bufs(g);
        passes_run(g);
        plan_arena(g);
        check_bufs(g);
        arena_free(A);
    }
}

static void test_parse_bytes(void) {
    int64_t v = -1;
    CU_ASSERT(memory_parse_bytes("4096", &v) && v == 4096);
    CU_ASSERT(memory_parse_bytes("64K", &v) && v == 65536);
    CU_ASSERT(memory_parse_bytes("3m", &v) && v == 3 << 20);
    CU_ASSERT(memory_parse_bytes("1G", &v) && v == 1 << 30);
    CU_ASSERT(memory_parse_bytes("0", &v) && v == 0);
    CU_ASSERT(!memory_parse_bytes("", &v));
    CU_ASSERT(!memory_parse_bytes("K", &v));
    CU_ASSERT(!memory_parse_bytes("-1", &v));
    CU_ASSERT(!memory_parse_bytes("12KB", &v));
    CU_ASSERT(!memory_parse_bytes("1.5M", &v));
    CU_ASSERT(!memory_parse_bytes("99999999999999999999", &v));
    CU_ASSERT(!memory_parse_bytes("9999999999999G", &v));
}

static void test_trace_names(void) {
    char s[64];
    rn_trace_file_name("conv2d_1", s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "conv2d_1.npy");
    rn_trace_file_name("/features/features.0/Conv", s, sizeof s);
    CU_ASSERT_STRING_EQUAL(s, "__features__features.0__Conv.npy");
    /* two rows that would share a file are refused before anything */
    rn_layer rows[2] = {{"a/b", "ReLU", 1, {2}, 0, 0}, {"a__b", "ReLU", 1, {2}, 0, 1}};
    char err[256] = "";
    CU_ASSERT_PTR_NULL(rn_trace_open("/nonexistent/never", "m", rows, 2, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "a__b.npy"));
}

/* Rows 0 (code), 1 (fused into 0), 2 (an alias), 3 (code): the time of
 * a run is split among the rows with code, all of it. */
static void test_profile_accounting(void) {
    rn_layer rows[4] = {{"c", "Conv2D", 1, {1}, 1000, 0},
                        {"bn", "BatchNormalization", 1, {1}, 0, 0},
                        {"flat", "Flatten", 1, {1}, 0, -1},
                        {"d", "Dense", 1, {1}, 10, 3}};
    rn_profile *p = rn_profile_new(rows, 4, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (int r = 0; r < 3; r++) { /* the third run is past the kept two */
        double t0 = rn_now_ms();
        rn_profile_hook(p, -1, NULL);
        for (int i = 0; i < 4; i++) {
            double until = rn_now_ms() + 0.2;
            while (rn_now_ms() < until) {}
            rn_profile_hook(p, i, NULL);
        }
        rn_profile_run_done(p, rn_now_ms() - t0);
    }
    /* c: its 0.2 ms, bn's and flat's; d: its own */
    double c = rn_profile_ms(p, 0), d = rn_profile_ms(p, 3);
    CU_ASSERT(c >= 0.6 && c < 1000); /* a busy machine may interrupt a spin */
    CU_ASSERT(d >= 0.2 && d < 1000);
    CU_ASSERT_EQUAL(rn_profile_ms(p, 1), -1);
    CU_ASSERT_EQUAL(rn_profile_ms(p, 2), -1);
    rn_profile_free(p);
}

void register_inspect_tests(void) {
    CU_pSuite s = unit_suite("inspect");
    CU_add_test(s, "plan buffers: those of the code", test_plan_bufs);
    CU_add_test(s, "--max-arena bytes", test_parse_bytes);
    CU_add_test(s, "trace file names", test_trace_names);
    CU_add_test(s, "profile: runs past the kept ones", test_profile_accounting);
}
