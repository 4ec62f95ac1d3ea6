/* graph_json.c: `rnc --graph-json`, the elaborated graph as JSON, so that
 * tools outside the compiler (tools/reference.py) can evaluate the very
 * graph rnc compiles without parsing the .rn language themselves.
 *
 * {"model": NAME, "inputs": [ID...], "outputs": [ID...], "nodes": [
 *   {"id", "op", "name", "path", "inputs": [ID...], "shape": [dims],
 *    "attrs": {...the op's attributes...},
 *    "weights": [{"name", "shape", "trainable"}...]}...]}
 *
 * Attributes are those the op uses (see GNode); paddings are the resolved
 * pad_t/b/l/r along with the mode they came from. */
#include "rnc.h"

#include <math.h>

/* The characters of s, escaped for the inside of a JSON string. */
static void json_chars(FILE *out, const char *s) {
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;
         p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out); /* UTF-8 passes through as is */
        }
    }
}

static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    json_chars(out, s);
    fputc('"', out);
}

/* JSON has no inf or nan; they become null. %.17g round-trips a double. */
static void json_number(FILE *out, double v) {
    if (isfinite(v))
        fprintf(out, "%.17g", v);
    else
        fputs("null", out);
}

static void key(FILE *out, const char *k, bool *first) {
    fprintf(out, "%s\"%s\": ", *first ? "" : ", ", k);
    *first = false;
}

static void attr_int(FILE *out, const char *k, int64_t v, bool *first) {
    key(out, k, first);
    fprintf(out, "%lld", (long long)v);
}

static void attr_bool(FILE *out, const char *k, bool v, bool *first) {
    key(out, k, first);
    fputs(v ? "true" : "false", out);
}

static void attr_num(FILE *out, const char *k, double v, bool *first) {
    key(out, k, first);
    json_number(out, v);
}

/* A list of numbers, or null when v is NULL. */
static void attr_list(FILE *out, const char *k, const double *v, int64_t n,
                      bool *first) {
    key(out, k, first);
    if (!v) {
        fputs("null", out);
        return;
    }
    fputc('[', out);
    for (int64_t i = 0; i < n; i++) {
        if (i) fputs(", ", out);
        json_number(out, v[i]);
    }
    fputc(']', out);
}

static void attr_pair(FILE *out, const char *k, int a, int b, bool *first) {
    key(out, k, first);
    fprintf(out, "[%d, %d]", a, b);
}

static void attr_padding(FILE *out, const GNode *n, bool *first) {
    static const char *const modes[] = {"valid", "same", "explicit"};
    key(out, "padding", first);
    json_string(out, modes[n->padding]);
    key(out, "pads", first);
    fprintf(out, "[%d, %d, %d, %d]", n->pad_t, n->pad_b, n->pad_l, n->pad_r);
}

static void attr_act(FILE *out, const GNode *n, bool *first) {
    key(out, "act", first);
    json_string(out, act_names[n->act]);
}

static void attr_window(FILE *out, const GNode *n, bool *first) {
    attr_pair(out, "kernel", n->kh, n->kw, first);
    attr_pair(out, "stride", n->sh, n->sw, first);
}

static void print_dims(FILE *out, int rank, const int64_t *d) {
    fputc('[', out);
    for (int i = 0; i < rank; i++)
        fprintf(out, "%s%lld", i ? ", " : "", (long long)d[i]);
    fputc(']', out);
}

static void print_attrs(FILE *out, const GNode *n) {
    bool first = true;
    fputc('{', out);
    switch (n->op) {
    case OP_CONV2D:
    case OP_DEPTHWISE_CONV2D:
        if (n->op == OP_CONV2D) {
            attr_int(out, "filters", n->filters, &first);
            attr_int(out, "groups", n->groups, &first);
        } else {
            attr_int(out, "multiplier", n->multiplier, &first);
        }
        attr_window(out, n, &first);
        attr_pair(out, "dilation", n->dh, n->dw, &first);
        attr_padding(out, n, &first);
        key(out, "bias", &first);
        fputs(n->bias ? "true" : "false", out);
        attr_act(out, n, &first);
        break;
    case OP_DENSE:
        attr_int(out, "units", n->filters, &first);
        key(out, "bias", &first);
        fputs(n->bias ? "true" : "false", out);
        attr_act(out, n, &first);
        break;
    case OP_BATCHNORM:
    case OP_LAYERNORM:
        attr_num(out, "epsilon", n->epsilon, &first);
        attr_bool(out, "center", !n->no_center, &first);
        attr_bool(out, "scale", !n->no_scale, &first);
        break;
    case OP_NORMALIZATION:
        attr_list(out, "mean", n->norm_mean, n->norm_n, &first);
        attr_list(out, "variance", n->norm_var, n->norm_n, &first);
        break;
    case OP_ACTIVATION:
        attr_act(out, n, &first);
        if (n->act == ACT_HARD_SIGMOID) {
            attr_num(out, "alpha", n->alpha, &first);
            attr_num(out, "beta", n->beta, &first);
        }
        break;
    case OP_RELU:
        key(out, "max_value", &first);
        if (n->has_max)
            json_number(out, n->max_value);
        else
            fputs("null", out);
        attr_num(out, "negative_slope", n->negative_slope, &first);
        attr_num(out, "threshold", n->threshold, &first);
        break;
    case OP_ELU:
    case OP_LEAKY_RELU:
        attr_num(out, "alpha", n->alpha, &first);
        break;
    case OP_SOFTMAX:
        attr_int(out, "axis", -1, &first);
        break;
    case OP_PRELU:
        key(out, "shared_axes", &first);
        fputc('[', out);
        for (int k = 1, m = 0; k <= 3; k++)
            if (n->shared_axes & (1 << k)) fprintf(out, "%s%d", m++ ? ", " : "", k);
        fputc(']', out);
        break;
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        attr_window(out, n, &first);
        attr_padding(out, n, &first);
        attr_bool(out, "ceil_mode", n->ceil_mode, &first);
        if (n->op == OP_AVGPOOL)
            attr_bool(out, "count_include_pad", n->count_include_pad, &first);
        break;
    case OP_GLOBAL_AVGPOOL:
    case OP_GLOBAL_MAXPOOL:
        attr_bool(out, "keepdims", n->keepdims, &first);
        break;
    case OP_RESCALE:
        key(out, "scale", &first);
        json_number(out, n->scale);
        key(out, "offset", &first);
        json_number(out, n->offset);
        break;
    case OP_DROPOUT:
        key(out, "rate", &first);
        json_number(out, n->rate);
        break;
    case OP_ZEROPAD:
    case OP_CROP:
        key(out, n->op == OP_CROP ? "crop" : "pads", &first);
        fprintf(out, "[%d, %d, %d, %d]", n->pad_t, n->pad_b, n->pad_l,
                n->pad_r);
        break;
    case OP_RESHAPE:
        key(out, "target_shape", &first);
        print_dims(out, n->target.rank, n->target.d);
        break;
    case OP_UPSAMPLE:
        attr_pair(out, "size", n->kh, n->kw, &first);
        key(out, "interpolation", &first);
        json_string(out, n->interp == INTERP_BILINEAR ? "bilinear" : "nearest");
        attr_bool(out, "align_corners", n->align_corners, &first);
        break;
    case OP_CHANNEL_SHUFFLE:
        attr_int(out, "groups", n->groups, &first);
        break;
    case OP_CHANNEL_SLICE:
        attr_int(out, "start", n->start, &first);
        attr_int(out, "stop", n->stop, &first);
        break;
    default:
        break; /* input, flatten, merges, concat: none */
    }
    fputc('}', out);
}

static void print_ids(FILE *out, GNode *const *v, int n) {
    fputc('[', out);
    for (int i = 0; i < n; i++) fprintf(out, "%s%d", i ? ", " : "", v[i]->id);
    fputc(']', out);
}

static void print_node(FILE *out, const GNode *n) {
    fprintf(out, "    {\"id\": %d, \"op\": ", n->id);
    json_string(out, op_info[n->op].op);
    fputs(", \"name\": ", out);
    json_string(out, n->name);
    fputs(", \"path\": ", out);
    json_string(out, n->path);
    fputs(",\n     \"inputs\": ", out);
    print_ids(out, n->in, n->nin);
    fputs(", \"shape\": ", out);
    print_dims(out, n->out.rank, n->out.d);
    fputs(",\n     \"attrs\": ", out);
    print_attrs(out, n);
    fputs(",\n     \"weights\": [", out);
    WeightSpec ws[MAX_WEIGHTS];
    int k = node_weights(n, ws);
    for (int j = 0; j < k; j++) {
        fprintf(out, "%s{\"name\": \"", j ? ", " : "");
        json_chars(out, n->path);
        fputc('.', out);
        json_chars(out, ws[j].suffix);
        fputs("\", \"shape\": ", out);
        print_dims(out, ws[j].rank, ws[j].dims);
        fprintf(out, ", \"trainable\": %s}",
                ws[j].trainable ? "true" : "false");
    }
    fputs("]}", out);
}

void graph_json_print(FILE *out, const Graph *g) {
    fputs("{\"model\": ", out);
    json_string(out, g->name);
    fputs(",\n \"inputs\": ", out);
    print_ids(out, g->inputs, g->ninputs);
    fputs(",\n \"outputs\": ", out);
    print_ids(out, g->outputs, g->noutputs);
    fputs(",\n \"nodes\": [\n", out);
    for (int i = 0; i < g->nnodes; i++) {
        print_node(out, g->nodes[i]);
        fputs(i + 1 < g->nnodes ? ",\n" : "\n", out);
    }
    fputs(" ]}\n", out);
}
