/* test_import.c: the importers' common writer (import.c): the program text
 * (comment, inputs, one layer a line, wrapping, outputs), names made valid
 * and unique, variables that dodge keywords and enum words, layers that
 * feed no output left out, the weights checked against the program, and
 * import_write's two files read back. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rnc.h"
#include "rnrt.h"
#include "unit.h"

static const float k4[2 * 2 * 3 * 4] = {0};
static const float b4[4] = {1, 2, 3, 4};
static const float d4x2[4 * 2] = {1, 2, 3, 4, 5, 6, 7, 8};

/* image[4, 4, 3] -> conv2d 4 -> relu -> flatten... a small program with a
 * dead branch, names to clean and variables to rename. */
static ImportModel *small_model(Arena *a) {
    ImportModel *m = import_new(a, "int");
    import_comment(m, "Imported from test.onnx\nsecond\x01line");
    Shape s = {3, {4, 4, 3}};
    const char *x = import_input(m, "input", &s);
    const char *y = import_input(m, "0in", &s);
    const char *c =
        import_layer(m, "conv2d", "conv1", &x, 1, "4, 2, padding=[0, 1, 0, 1]");
    import_weight(m, "kernel", 4, (int64_t[]){2, 2, 3, 4}, k4);
    import_weight(m, "bias", 1, (int64_t[]){4}, b4);
    const char *r = import_layer(m, "relu", "relu", &c, 1, NULL);
    /* a layer named as an input is renamed */
    r = import_layer(m, "relu", "x0in", &r, 1, NULL);
    /* dead: feeds nothing */
    const char *dead = import_layer(m, "conv2d", "conv1", &r, 1, "4, 1");
    /* (a repeated name gets _1; the layer feeds nothing, so it is left out) */
    import_weight(m, "kernel", 4, (int64_t[]){1, 1, 4, 4}, k4);
    (void)dead;
    const char *p =
        import_layer(m, "global_avgpool", "avg pool.1\"\\x", &r, 1, NULL);
    const char *d = import_layer(m, "dense", "fc", &p, 1, "2");
    import_weight(m, "kernel", 2, (int64_t[]){4, 2}, d4x2);
    import_weight(m, "bias", 1, (int64_t[]){2}, b4);
    import_output(m, d);
    import_output(m, y);
    return m;
}

static void test_text(void) {
    Arena *a = arena_new();
    ImportModel *m = small_model(a);
    Buf text = {0};
    char err[256];
    CU_ASSERT_EQUAL_FATAL(import_check(m, "t.rn", &text, err, sizeof err), 0);
    const char *want =
        "# Imported from test.onnx\n"
        "# second?line\n"
        "model int_model\n"
        "\n"
        "input input_[4, 4, 3]\n"
        "input x0in[4, 4, 3]\n"
        "\n"
        "conv1 = conv2d(input_, 4, 2, padding=[0, 1, 0, 1], name=\"conv1\")\n"
        "relu_ = relu(conv1, name=\"relu\")\n"
        "x0in_1 = relu(relu_, name=\"x0in_1\")\n"
        "avg_pool_1_x = global_avgpool(x0in_1, name=\"avg pool.1__x\")\n"
        "fc = dense(avg_pool_1_x, 2, name=\"fc\")\n"
        "\n"
        "output fc\n"
        "output x0in\n";
    CU_ASSERT_STRING_EQUAL(text.data, want);
    buf_free(&text);
    arena_free(a);
}

/* A concat of many inputs wraps after commas, continuation indented. */
static void test_wrap(void) {
    Arena *a = arena_new();
    ImportModel *m = import_new(a, "wrap");
    Shape s = {3, {2, 2, 1}};
    const char *in[12];
    in[0] = import_input(m, "a_rather_long_input_name", &s);
    for (int i = 1; i < 12; i++) in[i] = in[0];
    const char *c = import_layer(m, "concat", "cat", in, 12, NULL);
    import_output(m, c);
    Buf text = {0};
    char err[256];
    CU_ASSERT_EQUAL_FATAL(import_check(m, "w.rn", &text, err, sizeof err), 0);
    int lines = 0;
    size_t longest = 0, len = 0;
    for (const char *p = text.data; *p; p++, len++)
        if (*p == '\n') {
            lines++;
            if (len > longest) longest = len;
            len = (size_t)-1;
        }
    CU_ASSERT(longest <= 100);
    CU_ASSERT(strstr(text.data, "cat = concat(a_rather_long_input_name,") !=
              NULL);
    CU_ASSERT(strstr(text.data, "\n    a_rather_long_input_name") != NULL);
    CU_ASSERT(lines >= 7);
    buf_free(&text);
    arena_free(a);
}

static void test_unused_input(void) {
    Arena *a = arena_new();
    ImportModel *m = import_new(a, "two");
    Shape s = {1, {3}};
    const char *x = import_input(m, "x", &s);
    import_input(m, "y", &s);
    import_output(m, import_layer(m, "relu", "r", &x, 1, NULL));
    Buf text = {0};
    char err[256] = "";
    CU_ASSERT_EQUAL(import_check(m, "t.rn", &text, err, sizeof err), -1);
    CU_ASSERT(strstr(err, "'y' feeds no output") != NULL);
    buf_free(&text);
    arena_free(a);
}

static void test_write(void) {
    char dir[] = "/tmp/rnc_import_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char rn[64], w[64];
    snprintf(rn, sizeof rn, "%s/m.rn", dir);
    snprintf(w, sizeof w, "%s/m.safetensors", dir);
    Arena *a = arena_new();
    char err[256];
    CU_ASSERT_EQUAL_FATAL(import_write(small_model(a), rn, w, err, sizeof err),
                          0);
    arena_free(a);
    rn_safetensors *st = rn_st_open(w, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(rn_st_count(st), 4); /* not the dead conv's kernel */
    float got[8];
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "fc.kernel", 2, (rn_i64[]){4, 2}, got,
                                   err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(got[7], 8);
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "conv1.bias", 1, (rn_i64[]){4}, got, err,
                                   sizeof err),
                    0);
    CU_ASSERT_EQUAL(got[3], 4);
    rn_st_close(st);
    size_t len;
    char *text = read_whole_file(rn, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT(strstr(text, "model int_model\n") != NULL);
    free(text);
    unlink(rn);
    unlink(w);
    /* a path that cannot be written: nothing is left behind */
    Arena *b = arena_new();
    snprintf(w, sizeof w, "%s/no/such/dir/m.safetensors", dir);
    CU_ASSERT_EQUAL(import_write(small_model(b), rn, w, err, sizeof err), -1);
    CU_ASSERT_NOT_EQUAL(access(rn, F_OK), 0);
    arena_free(b);
    rmdir(dir);
}

void register_import_tests(void) {
    CU_pSuite s = unit_suite("import");
    CU_add_test(s, "program text", test_text);
    CU_add_test(s, "long lines wrap", test_wrap);
    CU_add_test(s, "unused input refused", test_unused_input);
    CU_add_test(s, "write both files", test_write);
}
