/* emit_standalone.c: `rnc M.rn -o M.c --standalone`: one self-contained C
 * file per model, needing the C library and POSIX threads only.
 *
 * Requires a planned graph; lowers it (lower.c) and prints the same steps
 * as the runtime-linked file, through the same emitters (emit_c.c,
 * emit_api.c, ...), with three differences:
 *  - a convolution calls the kernel headers' inline functions for the
 *    algorithm rnc chose (rn_dc_run, rn_wg_run, rn_gc_run; rn_dwk_run for
 *    depthwise), on a static const descriptor, so that the C compiler
 *    specializes them to the layer's constants; the headers are pasted
 *    whole;
 *  - the rest of the runtime the model's code reaches (the elementwise
 *    kernels it calls, the thread pool, the safetensors and .npy readers,
 *    the trace and profile of --main) is pasted in from the runtime's own
 *    sources (paste.c), its functions made static;
 *  - with --embed-weights the prepared weights (embed.c) are built in as
 *    one array of bytes (a string literal: gcc reads those ten times
 *    faster than a list of numbers), in M.c, or over EMBED_SPLIT_BYTES in
 *    a second file, M_weights.c; with --static-memory the instance, its
 *    arena and scratch are static (one instance, one thread: emit_api.c).
 * The file defines RN_STANDALONE: the runtime's text then asks the CPU
 * nothing and takes AVX2 + FMA when compiled for it (internal.h).
 * Changes nothing in the graph. */
#include "emit_c.h"

#include <stdlib.h>
#include <string.h>

static bool has_algo(const Lower *L, int algo) {
    for (int i = 0; i < L->nsteps; i++)
        if (L->steps[i].kind == STEP_CONV &&
            (L->steps[i].conv.algo == algo ||
             (L->steps[i].conv_mt_index >= 0 && L->steps[i].conv_mt.algo == algo)))
            return true;
    return false;
}

static bool has_depthwise(const Lower *L) {
    for (int i = 0; i < L->nsteps; i++)
        if (L->steps[i].kind == STEP_DEPTHWISE || L->steps[i].kind == STEP_SEPARABLE)
            return true;
    return false;
}

/* The kernel headers the steps call, in the order they include each other. */
static void kernel_headers(const Lower *L, const char **k) {
    bool direct = has_algo(L, RN_CONV_DIRECT);
    bool wino = has_algo(L, RN_CONV_WINOGRAD) || has_algo(L, RN_CONV_WINOGRAD4);
    bool group = has_algo(L, RN_CONV_GROUPED);
    bool dw = has_depthwise(L);
    int n = 0;
    /* the elementwise kernels (rn_elem.h) are nearly every model's:
     * rnrt.h's rn_k_* functions (elem_pick.c) call them */
    k[n++] = "/rn_simd.h";
    k[n++] = "/rn_elem.h";
    if (direct || wino) k[n++] = "/rn_micro.h";
    if (direct) k[n++] = "/rn_direct.h";
    if (wino) k[n++] = "/rn_wino.h";
    if (dw) k[n++] = "/rn_dw.h";
    if (group) k[n++] = "/rn_group.h";
    k[n] = NULL;
}

/* The packing of one algorithm the model has: its functions' calls (of
 * rn_conv_packed_floats and rn_conv_pack) on the kernel headers. */
typedef struct AlgoPack {
    bool has;
    const char *test;   /* the condition on c->algo */
    const char *floats; /* return ...; */
    const char *pack;   /* the packing statement */
} AlgoPack;

/* The load's packing of a conv for its algorithm (in the descriptor), on
 * the kernel headers: what the runtime's conv.c does for a
 * runtime-linked model. */
static void conv_helpers(Emitter *e) {
    const char *M = e->name;
    const AlgoPack algos[] = {
        {has_algo(e->L, RN_CONV_DIRECT), "c->algo == RN_CONV_DIRECT",
         "rn_dc_packed_floats(c)", "rn_dc_pack(c, kernel, ldk, scale, packed)"},
        {has_algo(e->L, RN_CONV_GROUPED), "c->algo == RN_CONV_GROUPED",
         "rn_gc_packed_floats(c)", "rn_gc_pack(c, kernel, ldk, scale, packed)"},
        {has_algo(e->L, RN_CONV_WINOGRAD) || has_algo(e->L, RN_CONV_WINOGRAD4), NULL,
         "rn_wg_packed_floats(c, c->algo == RN_CONV_WINOGRAD4 ? 4 : 2)",
         "rn_wg_pack(c, c->algo == RN_CONV_WINOGRAD4 ? 4 : 2, kernel, ldk, scale, packed)"},
    };
    enum { NALGOS = sizeof algos / sizeof algos[0] };
    const AlgoPack *has[NALGOS];
    int n = 0;
    for (int i = 0; i < NALGOS; i++)
        if (algos[i].has) has[n++] = &algos[i];
    if (!n) return;
    buf_printf(e->c, "\n/* The packing of conv c for the algorithm rnc chose for it. */\n");
    buf_printf(e->c, "static rn_i64 %s_conv_packed_floats(const rn_conv *c) {\n", M);
    for (int i = 0; i < n; i++) /* the last one unconditionally */
        if (i + 1 < n)
            buf_printf(e->c, "    if (%s) return %s;\n", has[i]->test, has[i]->floats);
        else
            buf_printf(e->c, "    return %s;\n", has[i]->floats);
    buf_printf(e->c, "}\n\nstatic void %s_conv_pack(const rn_conv *c, const float *kernel, "
               "int ldk,\n                          const float *scale, float *packed) {\n", M);
    for (int i = 0; i < n; i++)
        if (i + 1 < n)
            buf_printf(e->c, "    if (%s) {\n        %s;\n        return;\n    }\n",
                       has[i]->test, has[i]->pack);
        else
            buf_printf(e->c, "    %s;\n", has[i]->pack);
    buf_printf(e->c, "}\n");
}

/* ------------------------------------------------------- built-in weights */

/* Bytes as a C string literal's text: printable ones as they are, the
 * rest (and ", \, ? for trigraphs) as octal escapes of three digits. */
static void put_bytes(Buf *b, const unsigned char *p, size_t n) {
    enum { LINE = 64 };
    char line[4 * LINE + 8];
    for (size_t i = 0; i < n; i += LINE) {
        size_t k = 0;
        line[k++] = '"';
        for (size_t j = i; j < n && j < i + LINE; j++) {
            unsigned char c = p[j];
            if (c >= 32 && c < 127 && c != '"' && c != '\\' && c != '?')
                line[k++] = (char)c;
            else
                k += (size_t)snprintf(line + k, sizeof line - k, "\\%03o", c);
        }
        line[k++] = '"';
        line[k++] = '\n';
        buf_append(b, line, k);
    }
}

/* One array's floats, little-endian, into the blob. */
static void put_floats(Buf *b, const float *f, int64_t n) {
    unsigned char *bytes = malloc((size_t)(n > 0 ? n : 1) * 4);
    if (!bytes) die("out of memory");
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &f[i], 4);
        for (int k = 0; k < 4; k++) bytes[4 * i + k] = (unsigned char)(u >> (8 * k));
    }
    put_bytes(b, bytes, (size_t)n * 4);
    free(bytes);
}

/* The prepared arrays, in the blob's order: kept tensors, packed convs,
 * folded biases, batchnorms. */
typedef struct Part {
    const float *data;
    int64_t n;
} Part;

static int parts(const Lower *L, const Embedded *E, Part *out) {
    int n = 0;
    for (int i = 0; i < L->ntensors; i++)
        out[n++] = (Part){E->w[i], E->w[i] ? L->tensors[i].count : 0};
    for (int i = 0; i < L->npk; i++) out[n++] = (Part){E->pk[i], E->pk_floats[i]};
    int64_t *fbn = calloc((size_t)L->nfb + 1, sizeof *fbn);
    int64_t *bnn = calloc((size_t)L->nbn + 1, sizeof *bnn);
    if (!fbn || !bnn) die("out of memory");
    for (int i = 0; i < L->nprep; i++) {
        if (L->preps[i].fb >= 0) fbn[L->preps[i].fb] = L->preps[i].cout;
        if (L->preps[i].bn >= 0) bnn[L->preps[i].bn] = L->preps[i].cout;
    }
    for (int i = 0; i < L->nfb; i++) out[n++] = (Part){E->fb[i], fbn[i]};
    for (int i = 0; i < 2 * L->nbn; i++) out[n++] = (Part){E->bn[i], bnn[i / 2]};
    free(fbn);
    free(bnn);
    return n;
}

/* The blob's type: its bytes, or the same as floats. */
static void blob_type(Emitter *e, Buf *b, int64_t floats) {
    buf_printf(b, "union %s_blob {\n    unsigned char b[%lld];\n    float f[%lld];\n};\n",
               e->name, (long long)floats * 4, (long long)floats);
}

/* The blob (the probe 1.0f, then every part) into b, and the tables of
 * pointers into it (M_w_data, ...) into e->c. */
static void emit_embedded(Emitter *e, const Embedded *E, Buf *wc) {
    const Lower *L = e->L;
    const char *M = e->name;
    int cap = L->ntensors + L->npk + L->nfb + 2 * L->nbn + 1;
    Part *p = calloc((size_t)cap, sizeof *p);
    int64_t *off = calloc((size_t)cap, sizeof *off);
    if (!p || !off) die("out of memory");
    int np = parts(L, E, p);
    int64_t total = 1; /* the probe */
    for (int i = 0; i < np; i++) {
        off[i] = total;
        total += p[i].n;
    }
    bool apart = total * 4 > EMBED_SPLIT_BYTES;
    Buf *b = apart ? wc : e->c;
    const char *head = "/* The weights of %s, built in: each tensor as the load leaves it "
                       "(convolutions\n * packed, batchnorms folded), float32 little-endian "
                       "after the probe 1.0f, as\n * bytes: a string literal compiles ten "
                       "times faster than as many numbers. */\n";
    if (apart) {
        buf_printf(wc, "/* Generated by rnc %s: the built-in weights of %s; do not edit. */\n",
                   RNC_VERSION, emit_comment(e, e->o->src_path));
        buf_printf(e->c, "\n/* The weights, built in: in %s_weights.c. */\n", M);
        blob_type(e, e->c, total);
        buf_printf(e->c, "extern const union %s_blob %s_weights;\n", M, M);
    }
    buf_printf(b, "\n");
    buf_printf(b, head, emit_comment(e, e->g->name));
    buf_printf(b, "#if defined(__GNUC__)\n#pragma GCC diagnostic ignored "
               "\"-Woverlength-strings\"\n#endif\n");
    blob_type(e, b, total);
    buf_printf(b, "%sconst union %s_blob %s_weights = {\n", apart ? "" : "static ", M, M);
    const float one = 1.0f;
    put_floats(b, &one, 1);
    for (int i = 0; i < np; i++)
        if (p[i].data) put_floats(b, p[i].data, p[i].n);
    buf_printf(b, "};\n");
    /* the tables: a part's floats in the blob, or none */
    const char *names[4] = {"w", "pk", "fb", "bn"};
    int counts[4] = {L->ntensors, L->npk, L->nfb, 2 * L->nbn};
    for (int t = 0, k = 0; t < 4; t++) {
        if (t > 0 && counts[t] == 0) continue;
        buf_printf(e->c, "static const float *const %s_%s_data[%d] = {", M, names[t],
                   counts[t] ? counts[t] : 1);
        for (int i = 0; i < counts[t]; i++, k++) {
            buf_printf(e->c, "%s", i % 4 ? " " : "\n    ");
            if (p[k].data) buf_printf(e->c, "%s_weights.f + %lld,", M, (long long)off[k]);
            else buf_printf(e->c, "0,");
        }
        buf_printf(e->c, "%s};\n", counts[t] ? "\n" : "0");
    }
    free(p);
    free(off);
}

/* ---------------------------------------------------------------- file */

/* The model's own code: header, tables, built-in weights, layers, API. */
static void emit_body(Emitter *e, const Embedded *E, Buf *wc) {
    emit_header(e, e->h);
    emit_prologue(e);
    if (e->o->embed_weights)
        emit_embedded(e, E, wc);
    else
        conv_helpers(e);
    emit_layers(e);
    emit_api(e);
}

static void clear(Buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

int emit_standalone(Graph *g, const EmitOptions *o, Buf *c, Buf *h, Buf *wc,
                    char *err, size_t errlen) {
    Emitter e;
    Buf body = {0};
    emit_init(&e, g, o, &body, h);
    Embedded E = {0};
    if (o->embed_weights && embed_prepare(e.L, o->embed_weights, &E, err, errlen) != 0) {
        embed_free(&E, e.L);
        return -1;
    }
    emit_body(&e, &E, wc);

    const char *kernels[10];
    kernel_headers(e.L, kernels);
    Buf head = {0}, runtime = {0};
    buf_printf(&head, "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n");
    paste_runtime(g->arena, body.data, kernels, &head, &runtime);
    e.c = c;
    emit_banner(&e);
    const char *file = o->c_path ? o->c_path : "model.c", *slash = strrchr(file, '/');
    const char *header = o->header_name ? o->header_name : "model.h"; /* NAME.h */
    buf_printf(c, "/* Self-contained: the C library and POSIX threads only (cc -std=c11 -O2 "
               "%s%s -lm -lpthread);\n * the parts of the rnc runtime it uses are pasted "
               "below, made static. */\n", emit_comment(&e, slash ? slash + 1 : file),
               wc->len ? emit_comment(&e, arena_printf(g->arena, " %.*s_weights.c",
                                                       (int)strlen(header) - 2, header))
                       : "");
    buf_printf(c, "#define _POSIX_C_SOURCE 200809L\n#define RN_STANDALONE 1\n");
    buf_append(c, head.data, head.len);
    buf_printf(c, "\n#include \"%s\"\n", o->header_name ? o->header_name : "model.h");
    buf_append(c, runtime.data ? runtime.data : "", runtime.len);
    buf_printf(c, "%s", STANDALONE_MODEL_MARK);
    if (o->line_directives) { /* again, knowing the lines before the model's */
        clear(&body);
        clear(h);
        clear(wc);
        e.c = &body;
        e.lines_at = 0;
        e.lines = 0;
        for (size_t i = 0; i < c->len; i++) e.lines += c->data[i] == '\n';
        emit_body(&e, &E, wc);
    }
    buf_append(c, body.data, body.len);
    embed_free(&E, e.L);
    buf_free(&head);
    buf_free(&runtime);
    buf_free(&body);
    return 0;
}
