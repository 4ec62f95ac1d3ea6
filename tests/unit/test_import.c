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

/* A definition called once: its text, its layers' weights prefixed by the
 * call's name, a dead layer inside it left out. */
static ImportModel *nested_model(Arena *a) {
    ImportModel *m = import_new(a, "nest");
    Shape s = {3, {4, 4, 3}};
    const char *x = import_input(m, "image", &s);
    const char *pv;
    const char *param = "inner input";
    const char *def = import_begin(m, "relu", &param, 1, &pv);
    const char *c = import_layer(m, "conv2d", "conv", &pv, 1, "4, 2");
    import_weight(m, "kernel", 4, (int64_t[]){2, 2, 3, 4}, k4);
    import_weight(m, "bias", 1, (int64_t[]){4}, b4);
    import_layer(m, "relu", "dead", &c, 1, NULL);
    import_end(m, c);
    const char *y = import_layer(m, def, "block.1", &x, 1, "trainable=false");
    import_note(m, "a note");
    import_output(m, y);
    return m;
}

static void test_definition(void) {
    Arena *a = arena_new();
    Buf text = {0};
    char err[256];
    ImportModel *m = nested_model(a);
    CU_ASSERT_EQUAL_FATAL(import_check(m, "n.rn", &text, err, sizeof err), 0);
    const char *want = "model nest\n"
                       "\n"
                       "layer relu_(inner_input) {\n"
                       "    conv = conv2d(inner_input, 4, 2, name=\"conv\")\n"
                       "    return conv\n"
                       "}\n"
                       "\n"
                       "input image[4, 4, 3]\n"
                       "\n"
                       "block_1 = relu_(image, trainable=false, "
                       "name=\"block.1\")  # a note\n"
                       "\n"
                       "output block_1\n";
    CU_ASSERT_STRING_EQUAL(text.data, want);
    buf_free(&text);
    arena_free(a);

    char dir[] = "/tmp/rnc_import_XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char rn[64], w[64];
    snprintf(rn, sizeof rn, "%s/n.rn", dir);
    snprintf(w, sizeof w, "%s/n.safetensors", dir);
    a = arena_new();
    CU_ASSERT_EQUAL_FATAL(import_write(nested_model(a), rn, w, err, sizeof err),
                          0);
    arena_free(a);
    rn_safetensors *st = rn_st_open(w, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(rn_st_count(st), 2);
    float got[4];
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "block.1.conv.bias", 1, (rn_i64[]){4},
                                   got, err, sizeof err),
                    0);
    CU_ASSERT_EQUAL(got[3], 4);
    rn_st_close(st);
    unlink(rn);
    unlink(w);
    rmdir(dir);
}

/* A statement with a source: the program's error is returned by it. */
static void test_source_error(void) {
    Arena *a = arena_new();
    ImportModel *m = import_new(a, "src");
    Shape s = {3, {4, 4, 3}};
    import_source(m, "layer image (InputLayer)", NULL);
    const char *x = import_input(m, "image", &s);
    import_source(m, "layer big (Conv2D)", NULL);
    const char *c = import_layer(m, "conv2d", "big", &x, 1, "4, 5");
    import_output(m, c);
    Buf text = {0};
    char err[256] = "";
    CU_ASSERT_EQUAL(import_check(m, "s.rn", &text, err, sizeof err), -1);
    CU_ASSERT(strncmp(err, "layer big (Conv2D): conv2d", 26) == 0);
    CU_ASSERT(strchr(err, '\n') == NULL);
    buf_free(&text);
    arena_free(a);
}

/* Weights asked of the importer: in the graph's order, by spec. */
typedef struct Asked {
    int n;
    char what[4][32];
    bool refuse;
} Asked;

static const float *give(void *ctx, void *src, const WeightSpec *spec, int k) {
    Asked *as = ctx;
    if (as->n < 4)
        snprintf(as->what[as->n], 32, "%s %s %d %d", (const char *)src,
                 spec->suffix, spec->rank, k);
    as->n++;
    if (as->refuse && k == 1) return NULL;
    return spec->rank == 4 ? k4 : b4;
}

static void test_weight_fn(void) {
    for (int refuse = 0; refuse < 2; refuse++) {
        Arena *a = arena_new();
        ImportModel *m = import_new(a, "asked");
        Shape s = {3, {4, 4, 3}};
        const char *x = import_input(m, "image", &s);
        import_source(m, "layer c (Conv2D)", "c");
        import_output(m, import_layer(m, "conv2d", "c", &x, 1, "4, 2"));
        Asked as = {.refuse = refuse};
        import_weights_from(m, give, &as);
        Buf text = {0};
        void *st = NULL;
        size_t len = 0;
        char err[256] = "x";
        int rc = import_encode(m, "a.rn", "a.safetensors", &text, &st, &len,
                               err, sizeof err);
        CU_ASSERT_EQUAL(as.n, 2);
        CU_ASSERT_STRING_EQUAL(as.what[0], "c kernel 4 0");
        CU_ASSERT_STRING_EQUAL(as.what[1], "c bias 1 1");
        if (refuse) {
            CU_ASSERT_EQUAL(rc, -1);
            CU_ASSERT_STRING_EQUAL(err, ""); /* the importer told it */
            CU_ASSERT_PTR_NULL(st);
        } else {
            CU_ASSERT_EQUAL(rc, 0);
            CU_ASSERT(st != NULL && len > 0);
        }
        free(st);
        buf_free(&text);
        arena_free(a);
    }
}

/* Variables: the last component of the name, reused once its value is
 * read no more, extended when it is still needed. */
static void test_variables(void) {
    static const float k[4 * 4] = {0};
    Arena *a = arena_new();
    ImportModel *m = import_new(a, "vars");
    Shape s = {3, {4, 4, 4}};
    const char *x = import_input(m, "x", &s);
#define CONV(name, in)                                                        \
    (v = import_layer(m, "conv2d", name, &(in), 1, "4, 1"),                  \
     import_weight(m, "kernel", 4, (int64_t[]){1, 1, 4, 4}, k),              \
     import_weight(m, "bias", 1, (int64_t[]){4}, b4), v)
    const char *v;
    const char *c1 = CONV("a.conv", x);
    const char *act = import_layer(m, "relu", "a.act", &c1, 1, NULL);
    const char *c2 = CONV("b.conv", act);
    const char *sum = import_layer(m, "add", "b.sum",
                                   (const char *[]){c2, act}, 2, NULL);
    const char *c3 = CONV("c.conv", sum);
    const char *c4 = CONV("d.conv", sum);
    import_output(m, import_layer(m, "add", "e.add",
                                  (const char *[]){c3, c4}, 2, NULL));
#undef CONV
    Buf text = {0};
    char err[256];
    CU_ASSERT_EQUAL_FATAL(import_check(m, "v.rn", &text, err, sizeof err), 0);
    const char *want = "model vars\n"
                       "\n"
                       "input x[4, 4, 4]\n"
                       "\n"
                       "conv = conv2d(x, 4, 1, name=\"a.conv\")\n"
                       "act = relu(conv, name=\"a.act\")\n"
                       "conv = conv2d(act, 4, 1, name=\"b.conv\")\n"
                       "sum = add(conv, act, name=\"b.sum\")\n"
                       "conv = conv2d(sum, 4, 1, name=\"c.conv\")\n"
                       "d_conv = conv2d(sum, 4, 1, name=\"d.conv\")\n"
                       "add = add(conv, d_conv, name=\"e.add\")\n"
                       "\n"
                       "output add\n";
    CU_ASSERT_STRING_EQUAL(text.data, want);
    CU_ASSERT_STRING_EQUAL(import_name_of(m, c4), "d.conv");
    buf_free(&text);
    arena_free(a);
}

/* Numbers: shortest float32 decimals, tidy exponents, 1/k for long ones. */
static void test_numbers(void) {
    static const struct {
        double v;
        const char *want;
    } cases[] = {{1e-5, "1e-5"},       {9.99999975e-06, "1e-5"},
                 {0.001, "0.001"},     {1.001e-5, "1.001e-5"},
                 {1.0 / 6, "1/6"},     {1 / 255.0, "1/255"},
                 {1 / 127.5, "1/127.5"}, {0.25, "0.25"},
                 {0.1, "0.1"},         {3, "3"},
                 {-0.5, "-0.5"},       {1e6, "1e6"},
                 {0.22900000000000004, "0.229"}, {0, "0"}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char got[48];
        CU_ASSERT(import_number(got, sizeof got, cases[i].v));
        if (strcmp(got, cases[i].want))
            fprintf(stderr, "\n  %.17g: %s, not %s", cases[i].v, got,
                    cases[i].want);
        CU_ASSERT_STRING_EQUAL(got, cases[i].want);
    }
    char got[48];
    CU_ASSERT_FALSE(import_number(got, sizeof got, 1e300)); /* over float32 */
}

void register_import_tests(void) {
    CU_pSuite s = unit_suite("import");
    CU_add_test(s, "program text", test_text);
    CU_add_test(s, "long lines wrap", test_wrap);
    CU_add_test(s, "unused input refused", test_unused_input);
    CU_add_test(s, "write both files", test_write);
    CU_add_test(s, "a layer definition", test_definition);
    CU_add_test(s, "an error by its source", test_source_error);
    CU_add_test(s, "weights asked of the importer", test_weight_fn);
    CU_add_test(s, "variables reused and extended", test_variables);
    CU_add_test(s, "numbers", test_numbers);
}
