/* emit_io.c: images in and class names out, for the main() of `rnc
 * --main` (emit_api.c calls emit_io before main's text) and for `rnc --run`
 * (jit.c uses the two rules below, so both print alike).
 *
 * The helpers it emits, all prefixed with the model's name:
 *   M_io          the flags' values: --labels, and for a model with an
 *                 image input --scale, --mean and --std (rnimg.h);
 *   M_io_flag     takes one of those flags and its value;
 *   M_io_load     reads the labels and checks them against the class
 *                 outputs, and checks the inputs' files: an image only
 *                 where the input is [H, W, 3] or [H, W, 1];
 *   M_read_input  an image (by its signature, rn_img_sniff) or a .npy;
 *   M_io_print    the top 5 of each class output, named;
 *   M_io_free.
 * A model without an image input gets no image code, so its program does
 * not link librnimg's decoder. Requires a planned Graph; changes nothing. */
#include "emit_c.h"

#include <string.h>

bool emit_class_output(const Graph *g, int i) {
    bool any_softmax = false;
    for (int k = 0; k < g->noutputs; k++)
        any_softmax |= g->outputs[k]->act == ACT_SOFTMAX;
    const GNode *n = g->outputs[i];
    return any_softmax ? n->act == ACT_SOFTMAX : n->out.rank == 1;
}

void emit_output_heading(const Graph *g, int i, bool top5, char *buf,
                         size_t len) {
    const GNode *n = g->outputs[i];
    char shape[64];
    shape_format(&n->out, shape, sizeof shape);
    int64_t count = shape_count(&n->out);
    if (!top5)
        snprintf(buf, len, "output %s %s:", n->path, shape);
    else
        snprintf(buf, len, "output %s %s%s, top %d:", n->path, shape,
                 n->act == ACT_SOFTMAX ? ", softmax" : "",
                 count < 5 ? (int)count : 5);
}

bool emit_image_input(const GNode *n) {
    return n->out.rank == 3 && (n->out.d[2] == 3 || n->out.d[2] == 1);
}

/* A C string literal of s: printable ASCII kept, the rest escaped. */
static void c_string(Buf *b, const char *s) {
    buf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 32 || *p > 126 || *p == '"' || *p == '\\' || *p == '?')
            buf_printf(b, "\\%03o", *p);
        else
            buf_append(b, (const char *)p, 1);
    }
    buf_append(b, "\"", 1);
}

static void tables(Emitter *e, bool images, int nclass) {
    Graph *g = e->g;
    Buf *c = e->c;
    const char *M = e->name;
    if (images) {
        buf_printf(c, "static const int %s_in_image[%d] = {", M,
                   g->ninputs ? g->ninputs : 1);
        for (int i = 0; i < g->ninputs; i++)
            buf_printf(c, "%s%d", i ? ", " : "", emit_image_input(g->inputs[i]));
        buf_printf(c, "};\n");
    }
    buf_printf(c, "static const char %s_flags[] = \"%s%s\";\n", M,
               nclass ? " [--labels FILE]" : "",
               images ? " [--scale S] [--mean M[,M,M]] [--std S[,S,S]]" : "");
    if (!nclass) return;
    buf_printf(c, "/* the outputs that --labels names, and their headings */\n"
               "static const int %s_out_class[%d] = {", M, g->noutputs);
    for (int i = 0; i < g->noutputs; i++)
        buf_printf(c, "%s%d", i ? ", " : "", emit_class_output(g, i));
    buf_printf(c, "};\nstatic const char *const %s_out_heading[%d][2] = {\n", M,
               g->noutputs);
    for (int i = 0; i < g->noutputs; i++) {
        char h[512];
        emit_output_heading(g, i, true, h, sizeof h);
        buf_printf(c, "    {");
        c_string(c, g->outputs[i]->path);
        buf_printf(c, ", ");
        c_string(c, h);
        buf_printf(c, "},\n");
    }
    buf_printf(c, "};\n");
}

/* The helpers' text; "M_" becomes the model's prefix (emit_api.c), and
 * the lines between @IMG and @END are kept only for a model with an image
 * input, those between @LAB and @END only for one with a class output;
 * @NOIMG and @NOLAB for one without, @PLAIN for one with neither. */
static const char io_text[] =
    "\n/* main()'s images and labels: --labels FILE names the class outputs' "
    "top 5;\n * --scale, --mean and --std normalize image inputs (rnimg.h). */\n"
    "@IMG\n/* \"[H, W, C] or [1, H, W, C]\" (an image input's shape, in messages). */\n"
    "static void M_dims_text(char *s, size_t n, int rank, const rn_i64 *d) {\n"
    "    if (rank == 3)\n"
    "        snprintf(s, n, \"[%lld, %lld, %lld] or [1, %lld, %lld, %lld]\", d[0], "
    "d[1], d[2], d[0], d[1], d[2]);\n"
    "    else\n        snprintf(s, n, \"[%lld] or [1, %lld]\", d[0], d[0]);\n}\n\n@END\n"
    "typedef struct M_io {\n"
    "    const char *labels_path;\n    rn_labels labels;\n"
    "@IMG\n    rn_img_norm norm;\n    int norm_given;\n@END\n"
    "} M_io;\n\n"
    "static void M_io_init(M_io *io) {\n"
    "    memset(io, 0, sizeof *io);\n"
    "@IMG\n    rn_img_norm_init(&io->norm);\n@END\n"
    "}\n\n"
    "/* 1 when flag is one of M_io's and value is good. */\n"
    "static int M_io_flag(M_io *io, const char *prog, const char *flag, "
    "const char *value) {\n"
    "@IMG\n    char err[256];\n    int r;\n@END\n"
    "    if (!strcmp(flag, \"--labels\")) {\n"
    "@LAB\n        io->labels_path = value;\n        return 1;\n@END\n"
    "@NOLAB\n        fprintf(stderr, \"%s: --labels: the model has no class "
    "output (a softmax or a flat output)\\n\", prog);\n        return 0;\n@END\n"
    "    }\n"
    "@IMG\n"
    "    r = rn_img_norm_flag(&io->norm, flag, value, err, sizeof err);\n"
    "    if (r < 0) fprintf(stderr, \"%s: %s\\n\", prog, err);\n"
    "    io->norm_given |= r > 0;\n"
    "    return r > 0;\n"
    "@END\n"
    "@NOIMG\n    (void)io;\n    (void)prog;\n    (void)value;\n    return 0;\n@END\n"
    "}\n\n"
    "/* Before the run: the labels fit every class output; an image is given\n"
    " * only for an image input, and --scale/--mean/--std only with one. 0 "
    "or -1. */\n"
    "static int M_io_load(M_io *io, const char *prog, char **in_paths) {\n"
    "    int i;\n"
    "@IMG\n    int images = 0;\n"
    "    for (i = 0; i < M_NUM_INPUTS; i++) {\n"
    "        if (!rn_img_sniff(in_paths[i])) continue;\n"
    "        images++;\n"
    "        if (!M_in_image[i]) {\n"
    "            char want[128];\n"
    "            M_dims_text(want, sizeof want, M_in_rank[i], M_in_dims[i]);\n"
    "            fprintf(stderr, \"%s: %s: an image, but input %d takes %s; \"\n"
    "                    \"an image fills [H, W, 3] or [H, W, 1]\\n\", prog, "
    "in_paths[i], i, want);\n"
    "            return -1;\n        }\n    }\n"
    "    if (io->norm_given && !images) {\n"
    "        fprintf(stderr, \"%s: --scale, --mean and --std apply to images; "
    "no input is one\\n\", prog);\n"
    "        return -1;\n    }\n"
    "@END\n"
    "@NOIMG\n    (void)in_paths;\n@END\n"
    "    if (!io->labels_path) return 0;\n"
    "@LAB\n"
    "    {\n        char err[1024];\n"
    "        if (rn_labels_read(io->labels_path, &io->labels, err, sizeof err) != 0) {\n"
    "            fprintf(stderr, \"%s: %s\\n\", prog, err);\n"
    "            return -1;\n        }\n    }\n"
    "    for (i = 0; i < M_NUM_OUTPUTS; i++)\n"
    "        if (M_out_class[i] && M_out_dims[i][0] != io->labels.count) {\n"
    "            fprintf(stderr, \"%s: %s has %d class names, output '%s' \"\n"
    "                    \"has %lld classes\\n\", prog, io->labels_path, "
    "io->labels.count,\n                    M_out_heading[i][0], M_out_dims[i][0]);\n"
    "            return -1;\n        }\n"
    "@END\n"
    "@PLAIN\n    (void)prog;\n    (void)i;\n@END\n"
    "    return 0;\n}\n\n"
    "static int M_read_input(const M_io *io, int i, const char *path, "
    "rn_array *a, char *err, size_t errlen) {\n"
    "@IMG\n"
    "    if (rn_img_sniff(path))\n"
    "        return rn_img_read(path, (int)M_in_dims[i][0], (int)M_in_dims[i][1],\n"
    "                           (int)M_in_dims[i][2], &io->norm, a, err, errlen);\n"
    "@END\n"
    "@NOIMG\n    (void)io;\n    (void)i;\n@END\n"
    "    return rn_npy_read(path, a, err, errlen);\n}\n\n"
    "/* After the run, with --labels: each class output's top 5, named. */\n"
    "static void M_io_print(const M_io *io, float *const *outputs) {\n"
    "@LAB\n"
    "    char text[RN_TOP5_TEXT];\n    int i;\n"
    "    for (i = 0; io->labels_path && i < M_NUM_OUTPUTS; i++) {\n"
    "        if (!M_out_class[i]) continue;\n"
    "        rn_top5_text(outputs[i], M_out_dims[i][0], &io->labels, text, "
    "sizeof text);\n"
    "        printf(\"%s\\n%s\", M_out_heading[i][1], text);\n    }\n"
    "@END\n"
    "@NOLAB\n    (void)io;\n    (void)outputs;\n@END\n"
    "}\n\n"
    "static void M_io_free(M_io *io) {\n    rn_labels_free(&io->labels);\n}\n";

/* io_text with its sections kept or dropped, and M_ made the prefix. */
void emit_io(Emitter *e) {
    Graph *g = e->g;
    bool images = false;
    int nclass = 0;
    /* a standalone file reads .npy only: no image decoder in it */
    for (int i = 0; i < g->ninputs; i++)
        images |= !e->o->standalone && emit_image_input(g->inputs[i]);
    for (int i = 0; i < g->noutputs; i++) nclass += emit_class_output(g, i);
    if (images) buf_printf(e->c, "\n#include \"rnimg.h\"\n");
    tables(e, images, nclass);
    Buf text = {0};
    bool keep = true;
    for (const char *p = io_text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (!strncmp(p, "@IMG\n", 5)) keep = images;
        else if (!strncmp(p, "@LAB\n", 5)) keep = nclass > 0;
        else if (!strncmp(p, "@NOLAB\n", 7)) keep = nclass == 0;
        else if (!strncmp(p, "@NOIMG\n", 7)) keep = !images;
        else if (!strncmp(p, "@PLAIN\n", 7)) keep = !images && nclass == 0;
        else if (!strncmp(p, "@END\n", 5)) keep = true;
        else if (keep) buf_append(&text, p, n);
        p += n;
    }
    emit_text(e, text.data);
    buf_free(&text);
}
