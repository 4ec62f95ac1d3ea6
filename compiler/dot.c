/* dot.c: the graph in Graphviz's language.
 *
 * Requires: a shaped graph. Changes nothing. One node line per layer
 * ("n<id> [label=...]"), `layer` groups as nested clusters, then the
 * edges, each labelled with nothing (the shapes are on the nodes). */
#include "rnc.h"

#include <string.h>

/* Writes s as the inside of a DOT double-quoted string. */
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

static void node_line(FILE *out, const GNode *n, int indent) {
    char shape[128];
    shape_format(&n->out, shape, sizeof shape);
    fprintf(out, "%*sn%d [label=\"", indent, "", n->id);
    quoted(out, n->name);
    fputs("\\n", out);
    quoted(out, op_info[n->op].klass);
    if (n->op == OP_ACTIVATION) fprintf(out, " %s", act_names[n->act]);
    fputs("\\n", out);
    quoted(out, shape);
    fprintf(out, "\"%s];\n",
            n->op == OP_INPUT ? ", shape=ellipse" : "");
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
        fputs(" (", out);
        quoted(out, q->klass);
        fprintf(out, ")\";\n%*sstyle=rounded;\n", indent + 4, "");
        print_scope(out, g, q, indent + 4);
        fprintf(out, "%*s}\n", indent, "");
    }
}

void dot_print(FILE *out, const Graph *g) {
    fputs("digraph \"", out);
    quoted(out, g->name);
    fputs("\" {\n    rankdir=TB;\n"
          "    node [shape=box, fontname=\"Helvetica\", fontsize=10];\n",
          out);
    print_scope(out, g, NULL, 4);
    for (int i = 0; i < g->nnodes; i++) {
        const GNode *n = g->nodes[i];
        for (int j = 0; j < n->nin; j++)
            fprintf(out, "    n%d -> n%d;\n", n->in[j]->id, n->id);
    }
    fputs("}\n", out);
}
