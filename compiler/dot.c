/* dot.c: the graph in Graphviz's language, drawn as Keras's
 * plot_model(show_shapes=True) draws a model.
 *
 * Requires: a shaped graph. Changes nothing. One line per layer,
 * "n<id> [label=<...>];": a box (an HTML-like table) holding "name: Type"
 * beside "input:" and "output:" with their shapes, as Keras lays them out
 * (several inputs as a list, an InputLayer's shapes in brackets). `layer`
 * instances are nested clusters. Then one edge per input, so a residual
 * connection shows as an edge that skips layers. */
#include "rnc.h"

#include <string.h>

enum { SHAPE_TEXT = 128 };

/* Writes s inside a DOT double-quoted string. */
static void quoted(FILE *out, const char *s) {
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', out);
        if (*s == '\n') {
            fputs("\\n", out);
            continue;
        }
        fputc(*s, out);
    }
}

/* Writes s as text of an HTML-like label. */
static void html(FILE *out, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* A shape as Keras's plot shows it; bracketed for an InputLayer. */
static void shape_text(FILE *out, const Shape *s, bool bracketed) {
    char text[SHAPE_TEXT];
    shape_format(s, text, sizeof text);
    fputs(bracketed ? "[" : "", out);
    html(out, text);
    fputs(bracketed ? "]" : "", out);
}

static void node_line(FILE *out, const GNode *n, int indent) {
    bool input = n->op == OP_INPUT;
    fprintf(out, "%*sn%d [label=<<table border=\"0\" cellborder=\"1\" "
            "cellspacing=\"0\" cellpadding=\"4\"><tr><td rowspan=\"2\">",
            indent, "", n->id);
    html(out, n->name);
    fputs(": ", out);
    html(out, op_info[n->op].klass);
    if (n->op == OP_ACTIVATION) fprintf(out, " (%s)", act_names[n->act]);
    fputs("</td><td>input:</td><td>", out);
    if (input) shape_text(out, &n->out, true);
    fputs(n->nin > 1 ? "[" : "", out);
    for (int j = 0; j < n->nin; j++) {
        fputs(j ? ", " : "", out);
        shape_text(out, &n->in[j]->out, false);
    }
    fputs(n->nin > 1 ? "]" : "", out);
    fputs("</td></tr><tr><td>output:</td><td>", out);
    shape_text(out, &n->out, input);
    fputs("</td></tr></table>>];\n", out);
}

/* Nodes directly in `scope` (NULL: top level), and its child groups as
 * clusters, recursively. */
static void print_scope(FILE *out, const Graph *g, const Group *scope,
                        int indent) {
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i]->group == scope) node_line(out, g->nodes[i], indent);
    for (int k = 0; k < g->ngroups; k++) {
        const Group *q = g->groups[k];
        if (q->parent != scope) continue;
        fprintf(out, "%*ssubgraph \"cluster_", indent, "");
        quoted(out, q->path ? q->path : q->name);
        fprintf(out, "\" {\n%*slabel=\"", indent + 4, "");
        quoted(out, q->name);
        fputs(": ", out);
        quoted(out, q->klass);
        fprintf(out, "\";\n%*sstyle=\"rounded,dashed\";\n", indent + 4, "");
        print_scope(out, g, q, indent + 4);
        fprintf(out, "%*s}\n", indent, "");
    }
}

void dot_print(FILE *out, const Graph *g) {
    fputs("digraph \"", out);
    quoted(out, g->name);
    fputs("\" {\n    rankdir=TB;\n"
          "    graph [fontname=\"Helvetica\", fontsize=10];\n"
          "    node [shape=plain, fontname=\"Helvetica\", fontsize=10];\n",
          out);
    print_scope(out, g, NULL, 4);
    for (int i = 0; i < g->nnodes; i++) {
        const GNode *n = g->nodes[i];
        for (int j = 0; j < n->nin; j++)
            fprintf(out, "    n%d -> n%d;\n", n->in[j]->id, n->id);
    }
    fputs("}\n", out);
}
