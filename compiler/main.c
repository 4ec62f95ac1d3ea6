/* main.c: the command line. The stages run in a visible sequence:
 * read -> parse -> elaborate (with shape checks) -> passes (fusion) -> plan
 * -> summary / dot / emit C / JIT run. */
#define _POSIX_C_SOURCE 200809L
#include "rnc.h"
#include "rnimg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: rnc MODEL.rn -o MODEL.c [--main]   compile ahead of time\n"
    "       rnc MODEL.rn -o MODEL.c --standalone [--main] [--embed-weights W.safetensors]\n"
    "           [--static-memory]   one self-contained C file (libc and pthreads)\n"
    "       rnc --run MODEL.rn [--weights W.safetensors] [--input X.npy]...\n"
    "           [--output Y.npy]... [--threads N] [--repeat N] [--seed N]\n"
    "           [--trace DIR] [--profile]\n"
    "           [--image PHOTO]... [--scale S] [--mean M[,M,M]] [--std S[,S,S]]\n"
    "           [--labels FILE]      PNG/JPEG inputs; class names in the top 5\n"
    "       rnc --summary [--expand] [--memory] MODEL.rn\n"
    "       rnc --memory MODEL.rn\n"
    "       rnc --compare REF_DIR DIR [--tol T]\n"
    "       rnc --check MODEL.rn\n"
    "       rnc --dot MODEL.rn\n"
    "       rnc --init-weights W.safetensors [--seed N] [--random] MODEL.rn\n"
    "       rnc --graph-json MODEL.rn\n"
    "       rnc --import MODEL.onnx|model.json -o OUT.rn --weights OUT.safetensors\n"
    "           [--input-shape H,W,C]\n"
    "       rnc --cflags | --libs | --help | --version\n"
    "options of any model command:\n"
    "       --max-arena BYTES, --max-weights BYTES   a larger model is an error\n"
    "           (BYTES: a number, or with K, M or G: 512K, 3M)\n"
    "       --no-fuse            every layer's own code: no fusion passes\n"
    "       --line-directives    with -o: #line in model.c points at MODEL.rn\n"
    "--trace DIR: every layer's output as DIR/NAME.npy (an unfused build);\n"
    "--profile: a per-layer time table on stdout after the runs;\n"
    "--compare: a trace against a reference trace, layer by layer (exit 1 when\n"
    "  a layer is out of tolerance: |got - ref| > T max|ref| + T/10, T = 1e-4)\n";

enum Mode {
    M_COMPILE, M_RUN, M_SUMMARY, M_CHECK, M_DOT, M_INIT, M_JSON, M_MEMORY,
    M_COMPARE, M_IMPORT
};

enum { MAX_FILES = 64 };

typedef struct Options {
    enum Mode mode;
    const char *src_path;
    const char *out_path;     /* -o */
    const char *weights_path; /* --weights, or the --init-weights target */
    const char *inputs[MAX_FILES + 1];
    int ninputs;
    bool images[MAX_FILES + 1]; /* inputs[i] is an image (--image) */
    const char *outputs[MAX_FILES + 1];
    int noutputs;
    rn_img_norm norm;           /* --scale, --mean, --std */
    bool norm_given;
    const char *labels_path;    /* --labels */
    bool with_main, expand, random;
    int threads, repeat;
    uint64_t seed;
    /* inspection (docs/inspect.md) */
    const char *trace_dir;            /* --trace */
    const char *compare[2];           /* --compare REF_DIR DIR */
    double tol;                       /* --tol */
    bool profile, memory, no_fuse, line_directives;
    /* standalone code (docs/standalone.md) */
    bool standalone, static_memory;
    const char *embed_weights;        /* --embed-weights */
    int64_t max_arena, max_weights;   /* -1: no limit */
    ImportOptions import; /* --input-shape */
} Options;

static _Noreturn void usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "rnc: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage);
    exit(2);
}

static long parse_count(const char *flag, const char *s, long lo, long hi) {
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *s == 0 || *end || errno || v < lo || v > hi)
        usage_error("%s takes a whole number in range", flag);
    return v;
}

/* The model's default name: the file's stem, made a C identifier. */
static const char *file_stem(Arena *a, const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *s = arena_strndup(a, base, n);
    for (char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9')))
            *p = '_';
    if (*s == 0 || (*s >= '0' && *s <= '9')) s = arena_printf(a, "m_%s", s);
    return s;
}

static void parse_args(int argc, char **argv, Options *o) {
    memset(o, 0, sizeof *o);
    o->mode = M_COMPILE;
    o->repeat = 1;
    o->threads = 0; /* 0: RNC_THREADS or 1 */
    o->tol = 1e-4;
    o->max_arena = o->max_weights = -1;
    rn_img_norm_init(&o->norm);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE() (next ? (i++, next) : (usage_error("%s needs a value", a), ""))
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            exit(0);
        } else if (!strcmp(a, "--version")) {
            printf("rnc %s\n", RNC_VERSION);
            exit(0);
        } else if (!strcmp(a, "--cflags") || !strcmp(a, "--libs")) {
            exit(runtime_flags_print(stdout, argv[0], a[2] == 'c'));
        } else if (!strcmp(a, "-o")) {
            o->out_path = TAKE();
        } else if (!strcmp(a, "--main")) {
            o->with_main = true;
        } else if (!strcmp(a, "--run")) {
            o->mode = M_RUN;
        } else if (!strcmp(a, "--summary")) {
            o->mode = M_SUMMARY;
        } else if (!strcmp(a, "--expand")) {
            o->expand = true;
        } else if (!strcmp(a, "--check")) {
            o->mode = M_CHECK;
        } else if (!strcmp(a, "--dot")) {
            o->mode = M_DOT;
        } else if (!strcmp(a, "--graph-json")) {
            o->mode = M_JSON;
        } else if (!strcmp(a, "--init-weights")) {
            o->mode = M_INIT;
            o->weights_path = TAKE();
        } else if (!strcmp(a, "--import")) {
            o->mode = M_IMPORT;
        } else if (!strcmp(a, "--input-shape")) {
            const char *v = TAKE();
            char *end;
            for (int k = 0; k < 3; k++) {
                errno = 0;
                long d = strtol(v, &end, 10);
                if (end == v || errno || d < 1 || d > (1 << 24) ||
                    *end != (k < 2 ? ',' : 0))
                    usage_error("%s takes H,W,C (three whole numbers)", a);
                o->import.input_hwc[k] = d;
                v = end + 1;
            }
        } else if (!strcmp(a, "--random")) {
            o->random = true;
        } else if (!strcmp(a, "--seed")) {
            o->seed = (uint64_t)parse_count(a, TAKE(), 0, 0x7fffffffL);
        } else if (!strcmp(a, "--weights")) {
            o->weights_path = TAKE();
        } else if (!strcmp(a, "--input") || !strcmp(a, "--image")) {
            if (o->ninputs == MAX_FILES) usage_error("too many %s", a);
            o->images[o->ninputs] = !strcmp(a, "--image");
            o->inputs[o->ninputs++] = TAKE();
        } else if (!strcmp(a, "--labels")) {
            o->labels_path = TAKE();
        } else if (!strcmp(a, "--scale") || !strcmp(a, "--mean") ||
                   !strcmp(a, "--std")) {
            char err[256];
            if (rn_img_norm_flag(&o->norm, a, TAKE(), err, sizeof err) < 0)
                usage_error("%s", err);
            o->norm_given = true;
        } else if (!strcmp(a, "--output")) {
            if (o->noutputs == MAX_FILES) usage_error("too many %s", a);
            o->outputs[o->noutputs++] = TAKE();
        } else if (!strcmp(a, "--threads")) {
            o->threads = (int)parse_count(a, TAKE(), 1, 64);
        } else if (!strcmp(a, "--repeat")) {
            o->repeat = (int)parse_count(a, TAKE(), 1, 1000000);
        } else if (!strcmp(a, "--trace")) {
            o->trace_dir = TAKE();
        } else if (!strcmp(a, "--profile")) {
            o->profile = true;
        } else if (!strcmp(a, "--memory")) {
            o->memory = true;
        } else if (!strcmp(a, "--no-fuse")) {
            o->no_fuse = true;
        } else if (!strcmp(a, "--line-directives")) {
            o->line_directives = true;
        } else if (!strcmp(a, "--standalone")) {
            o->standalone = true;
        } else if (!strcmp(a, "--embed-weights")) {
            o->embed_weights = TAKE();
        } else if (!strcmp(a, "--static-memory")) {
            o->static_memory = true;
        } else if (!strcmp(a, "--max-arena") || !strcmp(a, "--max-weights")) {
            int64_t *v = a[6] == 'a' ? &o->max_arena : &o->max_weights;
            if (!memory_parse_bytes(TAKE(), v))
                usage_error("%s takes bytes: a number, or with K, M or G", a);
        } else if (!strcmp(a, "--compare")) {
            o->mode = M_COMPARE;
            o->compare[0] = TAKE();
            next = i + 1 < argc ? argv[i + 1] : NULL;
            o->compare[1] = TAKE();
        } else if (!strcmp(a, "--tol")) {
            char *end;
            const char *v = TAKE();
            o->tol = strtod(v, &end);
            if (!*v || *end || !(o->tol > 0 && o->tol < 1e30))
                usage_error("%s takes a positive number", a);
        } else if (a[0] == '-' && a[1] != 0) {
            usage_error("unknown option '%s'", a);
        } else {
            if (o->src_path) usage_error("more than one model file ('%s')", a);
            o->src_path = a;
        }
#undef TAKE
    }
    if (o->mode == M_COMPARE) {
        if (o->src_path) usage_error("--compare takes two folders, not a model ('%s')",
                                     o->src_path);
        return;
    }
    if (!o->src_path) usage_error("%s", "no model file given");
    if ((o->trace_dir || o->profile) && o->mode != M_RUN)
        usage_error("%s goes with --run (a --main program takes it too)",
                    o->trace_dir ? "--trace" : "--profile");
    if (o->memory && o->mode == M_COMPILE && !o->out_path) o->mode = M_MEMORY;
    if (o->line_directives && o->mode != M_COMPILE)
        usage_error("%s goes with -o MODEL.c", "--line-directives");
    if ((o->standalone || o->embed_weights || o->static_memory) && o->mode != M_COMPILE)
        usage_error("%s goes with -o MODEL.c", o->standalone ? "--standalone"
                    : o->embed_weights ? "--embed-weights" : "--static-memory");
    if ((o->embed_weights || o->static_memory) && !o->standalone)
        usage_error("%s goes with --standalone",
                    o->embed_weights ? "--embed-weights" : "--static-memory");
    if (o->mode == M_IMPORT && (!o->out_path || !o->weights_path))
        usage_error("%s", "--import needs -o OUT.rn and --weights "
                          "OUT.safetensors");
    /* an --input is an image when it starts as one (rnimg.h) */
    bool any_image = false;
    for (int i = 0; i < o->ninputs; i++) {
        o->images[i] = o->images[i] || rn_img_sniff(o->inputs[i]);
        any_image |= o->images[i];
    }
    if (o->norm_given && !any_image)
        usage_error("%s", "--scale, --mean and --std apply to images; no "
                          "input is one (--image PHOTO)");
    if (o->mode == M_COMPILE && !o->out_path)
        usage_error("%s", "nothing to do: give -o MODEL.c, --run, --summary, "
                          "--check or --dot");
}

/* "model.c" -> "model.h" beside it; any other name gets ".h" appended. */
static char *header_path(Arena *a, const char *c_path) {
    size_t n = strlen(c_path);
    if (n > 2 && !strcmp(c_path + n - 2, ".c"))
        return arena_printf(a, "%.*s.h", (int)(n - 2), c_path);
    return arena_printf(a, "%s.h", c_path);
}

static char *joined_cmdline(Arena *a, int argc, char **argv) {
    Buf b = {0};
    for (int i = 0; i < argc; i++) buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
    char *s = arena_strdup(a, b.data ? b.data : "");
    buf_free(&b);
    return s;
}

static int compile_ahead(Graph *g, const Options *o, Arena *a, int argc,
                         char **argv) {
    const char *h_path = header_path(a, o->out_path);
    const char *h_base = strrchr(h_path, '/');
    h_base = h_base ? h_base + 1 : h_path;
    EmitOptions eo = {
        .cmdline = joined_cmdline(a, argc, argv),
        .src_path = o->src_path,
        .header_name = h_base,
        .with_main = o->with_main,
        .for_jit = false,
        .line_directives = o->line_directives,
        .c_path = o->out_path,
    };
    Buf c = {0}, h = {0}, w = {0};
    char err[512];
    int rc = 0;
    eo.standalone = o->standalone;
    eo.embed_weights = o->embed_weights;
    eo.static_memory = o->static_memory;
    if (!o->standalone) emit_c(g, &eo, &c, &h);
    else if (emit_standalone(g, &eo, &c, &h, &w, err, sizeof err) != 0) rc = 1;
    /* built-in weights over EMBED_SPLIT_BYTES: M_weights.c beside M.c */
    const char *w_path = arena_printf(a, "%.*s_weights.c", (int)(strlen(h_path) - 2), h_path);
    const char *paths[3] = {h_path, o->out_path, w_path};
    const void *data[3] = {h.data, c.data, w.data};
    size_t lens[3] = {h.len, c.len, w.len};
    if (rc == 0 && rn_write_files_atomic(w.len ? 3 : 2, paths, data, lens, err, sizeof err) != 0)
        rc = 1;
    if (rc) fprintf(stderr, "rnc: error: %s\n", err);
    buf_free(&c);
    buf_free(&h);
    buf_free(&w);
    return rc;
}

/* --import: a trained model as a .rn program and its weights, written
 * together once the program reads back (import.c). */
static int run_import(const Options *o) {
    Arena *a = arena_new();
    const char *name = file_stem(a, o->out_path);
    ImportModel *m = NULL;
    FILE *f = fopen(o->src_path, "rb");
    if (!f)
        fprintf(stderr, "rnc: error: %s: %s\n", o->src_path, strerror(errno));
    else if (fclose(f), import_is_onnx(o->src_path))
        m = import_onnx_file(o->src_path, name, &o->import, a, stderr);
    else { /* Keras: model.json, or a directory holding one */
        int krc = keras_import(o->src_path, o->out_path, o->weights_path,
                               name, &o->import, stderr);
        arena_free(a);
        return krc;
    }
    char err[512];
    int rc = 1;
    if (m && import_write(m, o->out_path, o->weights_path, err, sizeof err) == 0)
        rc = 0;
    else if (m)
        fprintf(stderr, "rnc: error: %s\n", err);
    arena_free(a);
    return rc;
}

int main(int argc, char **argv) {
    Options o;
    parse_args(argc, argv, &o);
    if (o.mode == M_COMPARE) { /* no model: two folders of .npy */
        int rc = compare_traces(stdout, o.compare[0], o.compare[1], o.tol);
        return fflush(stdout) != 0 && rc == 0 ? 1 : rc;
    }
    if (o.mode == M_IMPORT) return run_import(&o);

    size_t len;
    char *text = read_whole_file(o.src_path, &len);
    if (!text) {
        fprintf(stderr, "rnc: error: %s: %s\n", o.src_path,
                errno == EFBIG ? "file too large (over 16 MiB)"
                               : strerror(errno));
        return 1;
    }
    Source src = {o.src_path, text, len};
    Diag d;
    diag_init(&d, &src, stderr);
    Arena *arena = arena_new();
    int rc = 1;

    Ast *prog = parse_source(&src, arena, &d);
    Graph *g = prog ? elaborate(prog, file_stem(arena, o.src_path), arena, &d)
                    : NULL;
    if (g) {
        /* the passes (compiler/passes/), then the plan of the fused graph;
         * a trace wants every layer's own value: no fusion */
        if (!o.no_fuse && !o.trace_dir) passes_run(g);
        plan_arena(g);
        if (!memory_check_limits(g, o.max_arena, o.max_weights, &d)) g = NULL;
    }
    if (g) {
        char err[512];
        switch (o.mode) {
        case M_CHECK:
            rc = 0;
            break;
        case M_SUMMARY:
            summary_print(stdout, g, o.expand);
            if (o.memory) {
                fputc('\n', stdout);
                memory_print(stdout, g);
            }
            rc = 0;
            break;
        case M_MEMORY:
            memory_print(stdout, g);
            rc = 0;
            break;
        case M_COMPARE:
            break;
        case M_DOT:
            dot_print(stdout, g);
            rc = 0;
            break;
        case M_JSON:
            graph_json_print(stdout, g);
            rc = 0;
            break;
        case M_INIT:
            rc = weights_init(g, o.weights_path, o.seed, o.random, err,
                              sizeof err) == 0 ? 0 : 1;
            if (rc) fprintf(stderr, "rnc: error: %s\n", err);
            break;
        case M_COMPILE:
            rc = compile_ahead(g, &o, arena, argc, argv);
            break;
        case M_IMPORT:
            break; /* handled before the source is read */
        case M_RUN: {
            JitOptions jo = {
                .weights_path = o.weights_path,
                .inputs = o.ninputs ? o.inputs : NULL,
                .outputs = o.noutputs ? o.outputs : NULL,
                .threads = o.threads,
                .repeat = o.repeat,
                .seed = o.seed,
                .trace_dir = o.trace_dir,
                .profile = o.profile,
                .images = o.images,
                .norm = &o.norm,
                .labels_path = o.labels_path,
            };
            if (o.ninputs && o.ninputs != g->ninputs) {
                fprintf(stderr, "rnc: error: the model has %d input(s), %d "
                        "--input given\n", g->ninputs, o.ninputs);
                rc = 2;
            } else if (o.noutputs && o.noutputs != g->noutputs) {
                fprintf(stderr, "rnc: error: the model has %d output(s), %d "
                        "--output given\n", g->noutputs, o.noutputs);
                rc = 2;
            } else {
                rc = jit_run(g, &jo, o.src_path);
            }
            break;
        }
        }
    }
    if (fflush(stdout) != 0 && rc == 0) rc = 1;
    arena_free(arena);
    free(text);
    return rc;
}
