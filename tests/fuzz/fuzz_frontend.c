/* fuzz_frontend.c: libFuzzer harness for the whole front end and the code
 * generator: source -> parse -> elaborate (shape checks) -> plan -> summary,
 * dot, graph JSON -> emit_c into buffers. No file is written.
 *
 * Any input must end in diagnostics or in C; a crash, hang, leak or
 * sanitizer report is a bug. Also built with tests/fuzz/replay.c (no
 * libFuzzer) to replay tests/fuzz/regressions/frontend/ in every suite run. */
#include "rnc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Past this many layers, summary and emit of one input take over the
 * fuzzer's 10 s under ASan: the fuzzer would only report size as a hang. */
enum { MAX_FUZZ_NODES = 4000 };

static FILE *sink(void) {
    static FILE *null; /* harness-only: one /dev/null for every input */
    if (!null && !(null = fopen("/dev/null", "w"))) abort();
    return null;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) return 0; /* main.c's cap is far above fuzz sizes */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    Source src = {"fuzz.rn", text, size};
    Diag d;
    diag_init(&d, &src, sink());
    Arena *arena = arena_new();
    Ast *prog = parse_source(&src, arena, &d);
    Graph *g = prog ? elaborate(prog, "fuzz", arena, &d) : NULL;
    if (g && g->nnodes <= MAX_FUZZ_NODES) {
        plan_arena(g);
        summary_print(sink(), g, false);
        summary_print(sink(), g, true);
        dot_print(sink(), g);
        graph_json_print(sink(), g);
        EmitOptions eo = {
            .cmdline = "rnc fuzz.rn -o fuzz.c --main",
            .src_path = "fuzz.rn",
            .header_name = "fuzz.h",
            .with_main = true,
        };
        Buf c = {0}, h = {0};
        emit_c(g, &eo, &c, &h);
        if (c.len == 0 || h.len == 0) abort(); /* a graph always gives code */
        buf_free(&c);
        buf_free(&h);
        eo.for_jit = true;
        eo.with_main = false;
        emit_c(g, &eo, &c, &h);
        buf_free(&c);
        buf_free(&h);
    } else if (!g && d.nerrors == 0) {
        abort(); /* refused without saying why */
    }
    arena_free(arena);
    free(text);
    return 0;
}
