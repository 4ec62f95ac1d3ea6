/* test_names.c: model names that would clash with the generated C.
 *
 * The model name is a type (`typedef struct M M`) and the prefix of every
 * symbol, so it must differ from every name the generated code declares
 * or uses bare: its locals, parameters and functions, and what its
 * headers declare. This test writes the C of the example networks (and of
 * a model with two inputs and two outputs) in every flavour emit_c has:
 * ahead of time, with main(), with #line directives, for the JIT, fused
 * and not; takes every identifier of it that is not a member, the model's
 * prefix or the runtime's (rn_, RN_), and checks that model_name_problem
 * refuses each. A new local in the emitter fails here until the list in
 * util.c names it. Then the names importers and file stems get instead. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rnc.h"
#include "unit.h"

static bool ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(char c) {
    return ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_c_keyword(const char *s) {
    static const char *const kw[] = {
        "auto", "break", "case", "char", "const", "continue", "default",
        "do", "double", "else", "enum", "extern", "float", "for", "goto",
        "if", "inline", "int", "long", "register", "restrict", "return",
        "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
        "union", "unsigned", "void", "volatile", "while", "_Bool",
        "_Static_assert", "_Noreturn", "_Alignas", "_Alignof", NULL};
    for (int i = 0; kw[i]; i++)
        if (!strcmp(kw[i], s)) return true;
    return false;
}

/* Checks every bare identifier of text; counts those not refused. */
static int check_text(const char *text, const char *model) {
    int missing = 0, struct_depth = -1, depth = 0;
    bool pending_struct = false;
    char prev = 0; /* the last punctuation: '.', '>' of "->", ... */
    size_t mlen = strlen(model);
    for (const char *p = text; *p;) {
        if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n') p++;
        } else if (*p == '#') { /* a directive: its macro bodies count */
            p++;
            while (*p == ' ') p++;
            if (!strncmp(p, "include", 7) || !strncmp(p, "line", 4))
                while (*p && *p != '\n') p++;
            else
                while (ident_char(*p)) p++; /* define, ifndef, ... */
        } else if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q) p += *p == '\\' && p[1] ? 2 : 1;
            if (*p) p++;
            prev = 0;
        } else if (ident_start(*p)) {
            const char *s = p;
            while (ident_char(*p)) p++;
            char id[128];
            snprintf(id, sizeof id, "%.*s", (int)(p - s), s);
            if (!strcmp(id, "struct") || !strcmp(id, "union") ||
                !strcmp(id, "enum"))
                pending_struct = true;
            bool member = prev == '.' || prev == '>' || struct_depth >= 0;
            bool ours = !strncmp(id, model, mlen) &&
                        (id[mlen] == 0 || id[mlen] == '_');
            bool runtime = !strncmp(id, "rn_", 3) || !strncmp(id, "RN_", 3);
            if (!member && !ours && !runtime && !is_c_keyword(id) &&
                !model_name_problem(id)) {
                if (missing++ < 20)
                    fprintf(stderr, "\n  generated C uses '%s', a model "
                            "name model_name_problem allows", id);
            }
            prev = 'a';
        } else {
            if (*p == '{') {
                depth++;
                if (pending_struct && prev != '=' && struct_depth < 0)
                    struct_depth = depth;
                pending_struct = false;
            } else if (*p == '}') {
                if (depth == struct_depth) struct_depth = -1;
                depth--;
            } else if (*p == ';' || *p == '=' || *p == '(') {
                pending_struct = false;
            }
            if (*p == '-' && p[1] == '>') {
                prev = '>';
                p += 2;
                continue;
            }
            if (*p != ' ' && *p != '\n' && *p != '\t') prev = *p;
            p++;
        }
    }
    return missing;
}

static Graph *load(Arena *a, const char *path, const char *text, bool fuse) {
    size_t len = 0;
    char *owned = NULL;
    if (!text) {
        owned = read_whole_file(path, &len);
        CU_ASSERT_PTR_NOT_NULL(owned);
        if (!owned) return NULL;
        text = arena_strdup(a, owned);
        free(owned);
    }
    Source src = {path, text, strlen(text)};
    Diag d;
    diag_init(&d, &src, stderr);
    Ast *prog = parse_source(&src, a, &d);
    Graph *g = prog ? elaborate(prog, "stem", a, &d) : NULL;
    CU_ASSERT_PTR_NOT_NULL(g);
    if (!g) return NULL;
    if (fuse) {
        pass_fold_batchnorm(g);
        pass_fuse_residual(g);
        pass_fuse_activation(g);
        pass_concat_slices(g);
        pass_fold_zeropad(g);
    }
    plan_arena(g);
    return g;
}

static void check_model(const char *path, const char *text) {
    for (int flavour = 0; flavour < 5; flavour++) {
        Arena *a = arena_new();
        Graph *g = load(a, path, text, flavour != 4);
        if (!g) {
            arena_free(a);
            return;
        }
        EmitOptions o = {.cmdline = "rnc", .src_path = path,
                         .header_name = "m.h", .c_path = "m.c",
                         .with_main = flavour == 1 || flavour == 2,
                         .line_directives = flavour == 2,
                         .for_jit = flavour == 3 || flavour == 4};
        Buf c = {0}, h = {0};
        emit_c(g, &o, &c, &h);
        int missing = check_text(c.data, g->name) + check_text(h.data, g->name);
        if (missing) fprintf(stderr, "\n  (%s, flavour %d)", path, flavour);
        CU_ASSERT_EQUAL(missing, 0);
        buf_free(&c);
        buf_free(&h);
        arena_free(a);
    }
}

static void test_generated_names(void) {
    static const char *const examples[] = {
        "../../examples/small_residual.rn", "../../examples/ops_tour.rn",
        "../../examples/mobilenet_v1.rn", "../../examples/resnet18.rn",
        NULL};
    for (int i = 0; examples[i]; i++) check_model(examples[i], NULL);
    check_model("two.rn", "model two\n"
                          "input a[8, 8, 3]\n"
                          "input b[8, 8, 3]\n"
                          "x = conv2d(a + b, 4, 3, activation=relu)\n"
                          "output x\n"
                          "output dense(flatten(x), 10, activation=softmax)\n");
}

static void test_refused(void) {
    static const char *const bad[] = {
        "m", "i", "g", "p", "t", "st", "err", "errlen", "inputs", "outputs",
        "w", "main", "int", "while", "rn_model", "__x", "_Model", "L3_conv2d",
        "input0", "input7", "output12", "free", "stderr", "size_t", "remove",
        "index", NULL};
    for (int i = 0; bad[i]; i++) {
        const char *why = model_name_problem(bad[i]);
        if (!why) fprintf(stderr, "\n  '%s' is allowed", bad[i]);
        CU_ASSERT_PTR_NOT_NULL(why);
    }
    static const char *const good[] = {"resnet18", "model", "conv", "mnist",
                                       "L", "Lx_1", "input", "m2", NULL};
    for (int i = 0; good[i]; i++) {
        const char *why = model_name_problem(good[i]);
        if (why) fprintf(stderr, "\n  '%s' is refused: %s", good[i], why);
        CU_ASSERT_PTR_NULL(why);
    }
}

/* A name the C cannot take becomes NAME_model, from a file's stem (when
 * the program has no `model` line) and in an import. */
static void test_safe_names(void) {
    Arena *a = arena_new();
    CU_ASSERT_STRING_EQUAL(model_name_safe(a, "m"), "m_model");
    CU_ASSERT_STRING_EQUAL(model_name_safe(a, "resnet"), "resnet");
    CU_ASSERT_STRING_EQUAL(model_name_safe(a, "rn_x"), "model_rn_x");
    Source src = {"m.rn", "input x[4]\noutput dense(x, 2)\n", 30};
    Diag d;
    diag_init(&d, &src, stderr);
    Ast *prog = parse_source(&src, a, &d);
    Graph *g = prog ? elaborate(prog, model_name_safe(a, "m"), a, &d) : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_STRING_EQUAL(g->name, "m_model");
    ImportModel *m = import_new(a, "m");
    Shape s = {1, {4}};
    const char *x = import_input(m, "x", &s);
    import_output(m, import_layer(m, "relu", "r", &x, 1, NULL));
    Buf text = {0};
    char err[128];
    CU_ASSERT_EQUAL(import_check(m, "m.rn", &text, err, sizeof err), 0);
    CU_ASSERT(strstr(text.data, "model m_model\n") != NULL);
    buf_free(&text);
    arena_free(a);
}

void register_names_tests(void) {
    CU_pSuite s = unit_suite("model names");
    CU_add_test(s, "every name the generated C uses is refused",
                test_generated_names);
    CU_add_test(s, "names refused and allowed", test_refused);
    CU_add_test(s, "safe names for stems and imports", test_safe_names);
}
