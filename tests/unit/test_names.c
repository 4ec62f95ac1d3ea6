/* test_names.c: model names that would clash with the generated C.
 *
 * The model name is a type (`typedef struct M M`) and the prefix of every
 * symbol, so it must differ from every name the generated code declares
 * or uses bare: its locals, parameters and functions, and what its
 * headers declare. This test writes the C of the example networks (and of
 * a model with two inputs and two outputs) in every flavour emit_c has:
 * ahead of time, with main(), with #line directives, for the JIT, fused
 * and not; and standalone (--standalone, with static memory, with its
 * weights built in); takes every identifier of it that is not a member,
 * the model's prefix or the runtime's (rn_, RN_), and checks that
 * model_name_problem refuses each (in the runtime text a standalone file
 * pastes, those that can meet the model's names: see check_text). A new
 * local in the emitter fails here until the list in util.c names it.
 * Then the names importers and file stems get instead. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* s (of length n) is all capitals, digits and underscores: a macro. */
static bool all_caps(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* The names text declares after a type (`int R,`, `float *x;`) or as a
 * macro's parameters: locals and parameters, when in a body. */
typedef struct Names {
    char (*name)[64];
    int n;
} Names;

static bool named(const Names *l, const char *s) {
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->name[i], s)) return true;
    return false;
}

static void declared_names(const char *text, Names *l) {
    char prev = 0;
    bool params = false; /* in a #define's parameter list */
    for (const char *p = text; *p;) {
        if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q) p += *p == '\\' && p[1] ? 2 : 1;
            if (*p) p++;
            prev = 0;
        } else if (!strncmp(p, "#define ", 8)) {
            p += 8;
            while (ident_char(*p)) p++;
            params = *p == '(';
            prev = 0;
        } else if (ident_start(*p) || (*p >= '0' && *p <= '9')) {
            const char *s = p;
            while (ident_char(*p)) p++;
            const char *q = p;
            while (*q == ' ') q++;
            if (ident_start(*s) && p - s < 64 &&
                (params || ((prev == 'a' || prev == '*') && strchr(",;=)[", *q)) ||
                 ((prev == '{' || prev == ',') && *q == '='))) { /* enum constants */
                l->name = realloc(l->name, sizeof *l->name * (size_t)(l->n + 1));
                snprintf(l->name[l->n++], 64, "%.*s", (int)(p - s), s);
            }
            prev = 'a';
        } else {
            if (*p == ')') params = false;
            if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\\') prev = *p;
            p++;
        }
    }
}

/* Checks the bare identifiers of text; counts those not refused. All of
 * them in the model's own code, which names the model's type everywhere.
 * In the runtime text a standalone file pastes (pasted), whose functions
 * never name it, only those that can clash with a file-scope name: what
 * is declared at file scope (and enum constants), and in bodies what is
 * called, a macro (capitals) or a type (..._t). */
static int check_text(const char *text, const char *model, bool pasted) {
    int missing = 0, struct_depth = -1, depth = 0, parens = 0;
    int define = 0; /* 1: a #define's name is next; 2: in its body */
    bool pending_struct = false, pending_enum = false, in_enum = false;
    char prev = 0; /* the last punctuation: '.', '>' of "->", ... */
    size_t mlen = strlen(model);
    Names locals = {0};
    if (pasted) declared_names(text, &locals);
    for (const char *p = text; *p;) {
        if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n') p++;
        } else if (*p == '#' && define == 2) { /* # and ## in a macro */
            p++;
        } else if (*p == '#') { /* a directive: its macro bodies count */
            p++;
            while (*p == ' ') p++;
            /* included files, lines, and conditions (which declare nothing) */
            static const char *const skipped[] = {"include", "line", "pragma", "if",
                                                  "elif", "error", NULL};
            bool skip = false;
            for (int i = 0; skipped[i]; i++)
                skip |= !strncmp(p, skipped[i], strlen(skipped[i]));
            if (skip) {
                while (*p && !(*p == '\n' && p[-1] != '\\')) p++;
            } else {
                /* a macro's name is declared; its body is like a function's */
                define = !strncmp(p, "define", 6) ? 1 : 0;
                while (ident_char(*p)) p++; /* define, undef, ... */
            }
        } else if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q) p += *p == '\\' && p[1] ? 2 : 1;
            if (*p) p++;
            prev = 0;
        } else if (*p >= '0' && *p <= '9') { /* a number, 0x7f and 1e6 too */
            while (ident_char(*p) || *p == '.') p++;
            prev = 'a';
        } else if (ident_start(*p)) {
            const char *s = p;
            while (ident_char(*p)) p++;
            char id[128];
            snprintf(id, sizeof id, "%.*s", (int)(p - s), s);
            if (!strcmp(id, "struct") || !strcmp(id, "union") ||
                !strcmp(id, "enum"))
                pending_struct = true;
            if (!strcmp(id, "enum")) pending_enum = true;
            bool member = prev == '.' || prev == '>' || struct_depth >= 0;
            if (!strcmp(id, "__attribute__")) { /* its words are no names */
                int level = 0;
                while (*p == ' ') p++;
                do {
                    level += *p == '(';
                    level -= *p == ')';
                } while (*p && *p++ && level > 0);
                continue;
            }
            if (pasted) {
                const char *q = p;
                while (*q == ' ') q++;
                size_t n = (size_t)(p - s);
                bool body = define == 2 || depth > 0 || parens > 0;
                bool file_scope = (!body || (in_enum && parens == 0)) && define != 2;
                bool declared = !strchr(",;[:)=", *q); /* not a member's name */
                /* a macro, not a name declared after its type */
                bool macro = all_caps(s, n) && define != 2 && !named(&locals, id);
                bool global = (*q == '(' && !named(&locals, id)) || macro ||
                              (n > 2 && s[n - 2] == '_' && s[n - 1] == 't' && declared);
                member = prev == '.' || prev == '>' ||
                         (struct_depth >= 0 && !in_enum && !declared) ||
                         !(file_scope || global);
            }
            if (define == 1) define = 2;
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
                if (pending_struct && prev != '=' && struct_depth < 0) {
                    struct_depth = depth;
                    in_enum = pending_enum && depth == 1; /* at file scope */
                }
                pending_struct = pending_enum = false;
            } else if (*p == '}') {
                if (depth == struct_depth) struct_depth = -1, in_enum = false;
                depth--;
            } else if (*p == ';' || *p == '=' || *p == '(') {
                pending_struct = pending_enum = false;
            }
            parens += *p == '(';
            parens -= *p == ')' && parens > 0;
            if (*p == '-' && p[1] == '>') {
                prev = '>';
                p += 2;
                continue;
            }
            if (*p == '\n' && p > text && p[-1] != '\\') define = 0;
            if (*p != ' ' && *p != '\n' && *p != '\t') prev = *p;
            p++;
        }
    }
    free(locals.name);
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
    if (fuse) passes_run(g);
    plan_arena(g);
    return g;
}

/* The flavours: 0 ahead of time, 1 with main(), 2 with #line directives,
 * 3 for the JIT, 4 for the JIT unfused; standalone (emit_standalone.c,
 * the runtime's parts pasted in) 5 with main(), 6 with static memory and
 * 7 with its weights built in and static memory. */
enum { FLAVOURS = 8, FIRST_STANDALONE = 5 };

static void check_model(const char *path, const char *text) {
    for (int flavour = 0; flavour < FLAVOURS; flavour++) {
        Arena *a = arena_new();
        Graph *g = load(a, path, text, flavour != 4);
        if (!g) {
            arena_free(a);
            return;
        }
        bool standalone = flavour >= FIRST_STANDALONE;
        char wpath[] = "/tmp/rnc_names_XXXXXX", err[256] = "";
        if (flavour == 7) {
            int fd = mkstemp(wpath);
            CU_ASSERT_FATAL(fd >= 0);
            close(fd);
            CU_ASSERT_EQUAL_FATAL(weights_init(g, wpath, 1, true, err, sizeof err), 0);
        }
        EmitOptions o = {.cmdline = "rnc", .src_path = path,
                         .header_name = "m.h", .c_path = "m.c",
                         .with_main = flavour == 1 || flavour == 2 || standalone,
                         .line_directives = flavour == 2,
                         .for_jit = flavour == 3 || flavour == 4,
                         .standalone = standalone,
                         .static_memory = flavour >= 6,
                         .embed_weights = flavour == 7 ? wpath : NULL};
        Buf c = {0}, h = {0}, w = {0};
        if (standalone) {
            int rc = emit_standalone(g, &o, &c, &h, &w, err, sizeof err);
            if (rc) fprintf(stderr, "\n  %s", err);
            CU_ASSERT_EQUAL(rc, 0);
        } else {
            emit_c(g, &o, &c, &h);
        }
        if (flavour == 7) unlink(wpath);
        /* a standalone file: the runtime's text, then the model's own */
        char *own = standalone ? strstr(c.data, STANDALONE_MODEL_MARK) : c.data;
        CU_ASSERT_PTR_NOT_NULL_FATAL(own);
        int missing = check_text(own, g->name, false) + check_text(h.data, g->name, false);
        if (standalone) {
            *own = 0;
            missing += check_text(c.data, g->name, true);
        }
        if (w.len) missing += check_text(w.data, g->name, false);
        if (missing) fprintf(stderr, "\n  (%s, flavour %d)", path, flavour);
        CU_ASSERT_EQUAL(missing, 0);
        buf_free(&c);
        buf_free(&h);
        buf_free(&w);
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
        "index", "_model", "open", "pthread_create", "bool", NULL};
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
