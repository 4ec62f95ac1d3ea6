/* summary.c: the model summary, laid out exactly as Keras 2.11's
 * model.summary() prints it (keras/utils/layer_utils.py print_summary),
 * followed by three lines Keras does not give: multiply-accumulates,
 * weight bytes and activation arena bytes.
 *
 * Requires: a shaped and planned graph. Changes nothing.
 *
 * Rows are "items": a top-level node, or a `layer` group shown as one row
 * (opened with --expand). Rows come in Keras's functional order: by depth
 * from the outputs, deepest first, ties broken by the order a depth-first
 * walk from the outputs first meets them (Keras's _map_graph_network). */
#include "rnc.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ row formatting */

/* First occurrence of pat within s[0..n), or -1 (Python's str.find). */
static int find_in(const char *s, int n, const char *pat) {
    int m = (int)strlen(pat);
    for (int i = 0; i + m <= n; i++)
        if (!memcmp(s + i, pat, (size_t)m)) return i;
    return -1;
}

static void pad_to(Buf *b, size_t start, int target) {
    while ((int)(b->len - start) < target) buf_append(b, " ", 1);
}

static void repeat(Buf *b, const char *s, int n) {
    for (int i = 0; i < n; i++) buf_append(b, s, strlen(s));
}

/* Keras's print_row: each field is cut to its column (minus two spaces of
 * gutter, except the last column), preferring a break right after "),",
 * "},", "]," or "',"; the rest wraps onto further lines. `nested` frames
 * the row with '|' as expand_nested does. Appends the lines to b. */
void summary_row(Buf *b, const char *const *fields, const int *positions,
                 int ncols, int nested) {
    enum { MAX_COLS = 8 };
    const char *left[MAX_COLS];
    int nleft[MAX_COLS];
    if (ncols > MAX_COLS) die("summary_row: %d columns", ncols);
    for (int c = 0; c < ncols; c++) {
        left[c] = fields[c];
        nleft[c] = (int)strlen(fields[c]);
    }
    static const char *const breaks[] = {"),", "},", "],", "',"};
    for (;;) {
        bool any = false;
        for (int c = 0; c < ncols; c++) any |= nleft[c] > 0;
        if (!any) return;
        size_t start = b->len;
        for (int c = 0; c < ncols; c++) {
            int from = c ? positions[c - 1] : 0;
            int space = c != ncols - 1 ? 2 : 0;
            int cutoff = positions[c] - from - space;
            if (cutoff < 0) cutoff = 0;
            int fit = nleft[c] < cutoff ? nleft[c] : cutoff;
            int best = -1;
            for (int k = 0; k < 4; k++) {
                int at = find_in(left[c], fit, breaks[k]);
                if (at >= 0 && (best < 0 || at + 2 < best)) best = at + 2;
            }
            if (best >= 0) cutoff = fit = best;
            if (c == 0) {
                repeat(b, "|", nested);
                buf_append(b, " ", 1);
            }
            buf_append(b, left[c], (size_t)fit);
            repeat(b, " ", space);
            int adv = cutoff < nleft[c] ? cutoff : nleft[c];
            left[c] += adv;
            nleft[c] -= adv;
            pad_to(b, start, positions[c] - nested);
        }
        repeat(b, "|", nested);
        buf_append(b, "\n", 1);
    }
}

/* ------------------------------------------------------------ the rows */

typedef struct Item {
    GNode *node;  /* a layer, or */
    Group *group; /* a `layer` group shown as one row */
    int *in;      /* item indices it reads (nodes: with repeats) */
    int nin, nout;
    int first;    /* id of its first node: creation order */
    int last;     /* id of its last node (scans stop there: no n^2) */
} Item;

typedef struct Summary {
    Graph *g;
    Arena *a;
    Item *items;
    int nitems;
    int *item_of; /* node id -> top-level item */
    bool chain, expand;
    int ncols, line, pos[4];
    Buf out;
} Summary;

/* The group holding n directly under `scope` (NULL: top level), or NULL
 * when n sits in scope itself. */
static Group *child_group(const GNode *n, const Group *scope) {
    for (Group *q = n->group; q; q = q->parent)
        if (q->parent == scope) return q;
    return NULL;
}

static bool inside(const GNode *n, const Group *scope) {
    if (!scope) return true;
    for (Group *q = n->group; q; q = q->parent)
        if (q == scope) return true;
    return false;
}

/* How a reader in `scope` names the tensor of node u: the row holding u
 * in the innermost scope that contains both. */
static const char *row_name(const GNode *u, const Group *scope) {
    while (scope && !inside(u, scope)) scope = scope->parent;
    Group *q = child_group(u, scope);
    return q ? q->name : u->name;
}

static void build_items(Summary *s) {
    Graph *g = s->g;
    s->items = arena_alloc(s->a, (size_t)(g->nnodes + 1) * sizeof *s->items);
    s->item_of = arena_alloc(s->a, (size_t)(g->nnodes + 1) * sizeof(int));
    for (int i = 0; i < g->nnodes; i++) {
        GNode *n = g->nodes[i];
        Group *q = child_group(n, NULL);
        int k = -1;
        if (q) /* a group's row goes where its first node is */
            for (int j = s->nitems - 1; j >= 0 && k < 0; j--)
                if (s->items[j].group == q) k = j;
        if (k < 0) {
            k = s->nitems++;
            s->items[k] = (Item){.node = q ? NULL : n, .group = q,
                                 .first = i};
        }
        s->item_of[i] = k;
        s->items[k].last = i;
    }
    /* Inputs: a node's own, a group's the distinct outside tensors. */
    for (int k = 0; k < s->nitems; k++) {
        Item *it = &s->items[k];
        int cap = 0;
        for (int i = it->first; i <= it->last; i++)
            if (s->item_of[i] == k) cap += g->nodes[i]->nin;
        it->in = arena_alloc(s->a, (size_t)(cap + 1) * sizeof(int));
        for (int i = it->first; i <= it->last; i++) {
            if (s->item_of[i] != k) continue;
            GNode *n = g->nodes[i];
            for (int j = 0; j < n->nin; j++) {
                int src = s->item_of[n->in[j]->id];
                if (src == k) continue;
                bool dup = false;
                for (int t = 0; it->group && t < it->nin; t++)
                    dup |= it->in[t] == src;
                if (!dup) it->in[it->nin++] = src;
            }
        }
        for (int j = 0; j < it->nin; j++) s->items[it->in[j]].nout++;
    }
}

/* A single line of layers, as Keras's sequential_like test sees it. */
static bool is_chain(const Summary *s) {
    const Graph *g = s->g;
    if (g->ninputs != 1 || g->noutputs != 1) return false;
    for (int k = 0; k < s->nitems; k++) {
        const Item *it = &s->items[k];
        bool is_in = it->node && it->node->op == OP_INPUT;
        bool is_out = s->item_of[g->outputs[0]->id] == k;
        if (it->nin != (is_in ? 0 : 1)) return false;
        if (it->nout != (is_out ? 0 : 1)) return false;
    }
    return true;
}

/* Keras's _build_map from the outputs then _map_graph_network's depths:
 * fills order[] with the items sorted by depth (deepest first), then by
 * the pre-order index of the depth-first walk. */
static int *item_order(Summary *s) {
    int n = s->nitems;
    int *index = arena_alloc(s->a, (size_t)n * sizeof(int) + 1);
    int *depth = arena_alloc(s->a, (size_t)n * sizeof(int) + 1);
    int *post = arena_alloc(s->a, (size_t)n * sizeof(int) + 1);
    int *stack = arena_alloc(s->a, (size_t)n * sizeof(int) + 1);
    int *next = arena_alloc(s->a, (size_t)n * sizeof(int) + 1);
    char *state = arena_alloc(s->a, (size_t)n + 1); /* 0 new 1 open 2 done */
    int nindex = 0, npost = 0;
    for (int k = 0; k < n; k++) index[k] = -1;
    /* Roots: the outputs, then (not in Keras: it drops them) any row
     * nothing reads, latest first, so that every row is shown. */
    int nroots = 0;
    int *roots = arena_alloc(s->a, (size_t)(n + s->g->noutputs) * sizeof(int));
    for (int i = 0; i < s->g->noutputs; i++)
        roots[nroots++] = s->item_of[s->g->outputs[i]->id];
    for (int k = n - 1; k >= 0; k--)
        if (s->items[k].nout == 0) roots[nroots++] = k;
    for (int r = 0; r < nroots; r++) {
        int sp = 0;
        if (state[roots[r]]) continue;
        stack[sp++] = roots[r];
        next[roots[r]] = 0;
        state[roots[r]] = 1;
        index[roots[r]] = nindex++;
        while (sp) {
            int k = stack[sp - 1];
            Item *it = &s->items[k];
            if (next[k] < it->nin) {
                int u = it->in[next[k]++];
                if (state[u]) continue; /* done, or a cycle (none here) */
                if (index[u] < 0) index[u] = nindex++;
                state[u] = 1;
                next[u] = 0;
                stack[sp++] = u;
            } else {
                state[k] = 2;
                post[npost++] = k;
                sp--;
            }
        }
    }
    for (int p = npost - 1; p >= 0; p--) {
        int k = post[p];
        for (int j = 0; j < s->items[k].nin; j++) {
            int u = s->items[k].in[j];
            if (depth[u] < depth[k] + 1) depth[u] = depth[k] + 1;
        }
    }
    /* Insertion sort: stable and n is small. */
    int *order = arena_alloc(s->a, (size_t)n * sizeof(int) + 1);
    for (int k = 0; k < n; k++) {
        int j = k;
        while (j > 0 && (depth[order[j - 1]] < depth[k] ||
                         (depth[order[j - 1]] == depth[k] &&
                          index[order[j - 1]] > index[k]))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = k;
    }
    return order;
}

static int64_t group_params(const Graph *g, const Group *q) {
    int64_t p = 0;
    for (int i = 0; i < g->nnodes; i++)
        if (inside(g->nodes[i], q)) p += g->nodes[i]->params;
    return p;
}

/* "['a[0][0]', 'b[0][0]']" from the names. */
static void connections(Buf *b, const char *const *names, int n) {
    buf_append(b, "[", 1);
    for (int i = 0; i < n; i++)
        buf_printf(b, "%s'%s[0][0]'", i ? ", " : "", names[i]);
    buf_append(b, "]", 1);
}

static void print_fields(Summary *s, const char *title, const Shape *shape,
                         bool input, int64_t params, const char *const *ins,
                         int nins, int nested) {
    char sh[128], shp[132], pr[32];
    shape_format(shape, sh, sizeof sh);
    snprintf(shp, sizeof shp, input ? "[%s]" : "%s", sh);
    snprintf(pr, sizeof pr, "%lld", (long long)params);
    Buf conn = {0};
    connections(&conn, ins, nins);
    const char *fields[4] = {title, shp, pr, conn.data};
    summary_row(&s->out, fields, s->pos, s->ncols, nested);
    buf_free(&conn);
}

static void print_node(Summary *s, GNode *n, const Group *scope,
                       int nested) {
    const char *title = arena_printf(s->a, "%s (%s)", n->name,
                                     op_info[n->op].klass);
    const char **ins = arena_alloc(s->a, (size_t)(n->nin + 1) * sizeof *ins);
    for (int j = 0; j < n->nin; j++) ins[j] = row_name(n->in[j], scope);
    print_fields(s, title, &n->out, n->op == OP_INPUT, n->params, ins,
                 n->nin, nested);
}

static void print_line(Summary *s, const char *edge, const char *fill,
                       int nfill) {
    buf_printf(&s->out, "%s", edge);
    repeat(&s->out, fill, nfill);
    buf_printf(&s->out, "%s\n", edge);
}

static void bars(char *out, int n) {
    memset(out, '|', (size_t)n);
    out[n] = 0;
}

static void print_group(Summary *s, Group *q, int nested, bool last);

/* The rows directly inside q, in creation order (a subclassed layer's
 * tracking order): its own layers and its child groups, each expanded in
 * turn. Their Connected to names what feeds them, inside q or outside
 * (Keras would print [] for layers of a nested model). */
static void print_inside(Summary *s, Group *q, int nested) {
    Graph *g = s->g;
    Item *rows = arena_alloc(s->a, (size_t)g->nnodes * sizeof *rows + 1);
    int nrows = 0;
    for (int i = 0; i < g->nnodes; i++) {
        GNode *n = g->nodes[i];
        if (!inside(n, q)) continue;
        Group *c = child_group(n, q);
        bool seen = false;
        for (int k = 0; c && k < nrows && !seen; k++) seen = rows[k].group == c;
        if (!seen) rows[nrows++] = (Item){.node = c ? NULL : n, .group = c};
    }
    for (int k = 0; k < nrows; k++) {
        bool last = k == nrows - 1;
        if (rows[k].group) {
            print_group(s, rows[k].group, nested, last);
            continue;
        }
        print_node(s, rows[k].node, q, nested);
        if (!last) {
            char e[64];
            bars(e, nested < 63 ? nested : 63);
            print_line(s, e, " ", s->line - 2 * nested);
        }
    }
}

/* Keras's print_layer for a nested model: the row, then (expanded) its
 * layers framed by '|' and '¯'; no blank line after an expanded row,
 * as Keras (its is_nested_last is left true by the loop). */
static void print_group(Summary *s, Group *q, int nested, bool last) {
    Graph *g = s->g;
    const char *title = arena_printf(s->a, "%s (%s)", q->name, q->klass);
    const char **ins = arena_alloc(s->a, (size_t)g->nnodes * sizeof *ins + 1);
    int nins = 0;
    const Group *outer = q->parent;
    for (int i = 0; i < g->nnodes; i++) {
        GNode *n = g->nodes[i];
        if (!inside(n, q)) continue;
        for (int j = 0; j < n->nin; j++) {
            if (inside(n->in[j], q)) continue;
            const char *nm = row_name(n->in[j], outer);
            bool dup = false;
            for (int t = 0; t < nins && !dup; t++) dup = !strcmp(ins[t], nm);
            if (!dup) ins[nins++] = nm;
        }
    }
    print_fields(s, title, &q->result->out, false, group_params(g, q), ins,
                 nins, nested);
    char e[64], e1[64];
    bars(e, nested < 62 ? nested : 62);
    bars(e1, nested < 62 ? nested + 1 : 63);
    if (s->expand) {
        print_line(s, e1, "\xc2\xaf", s->line - 2 * nested - 2);
        print_inside(s, q, nested + 1);
        print_line(s, e, "\xc2\xaf", s->line - 2 * nested);
        return;
    }
    if (!last) print_line(s, e, " ", s->line - 2 * nested);
}

void summary_print(FILE *out, Graph *g, bool expand) {
    Summary s = {.g = g, .a = arena_new(), .expand = expand};
    build_items(&s);
    s.chain = is_chain(&s);
    /* Keras: positions [.45, .85, 1.] of 65, or [.33, .55, .67, 1.] of
     * 98, truncated to whole columns. */
    static const double seq[] = {.45, .85, 1.}, fun[] = {.33, .55, .67, 1.};
    s.line = s.chain ? 65 : 98;
    s.ncols = s.chain ? 3 : 4;
    for (int c = 0; c < s.ncols; c++)
        s.pos[c] = (int)(s.line * (s.chain ? seq[c] : fun[c]));

    buf_printf(&s.out, "Model: \"%s\"\n", g->name);
    print_line(&s, "", "_", s.line);
    const char *head[4] = {"Layer (type)", "Output Shape", "Param #",
                           "Connected to"};
    summary_row(&s.out, head, s.pos, s.ncols, 0);
    print_line(&s, "", "=", s.line);
    int *order = item_order(&s);
    for (int r = 0; r < s.nitems; r++) {
        Item *it = &s.items[order[r]];
        if (it->group) {
            print_group(&s, it->group, 0, false);
        } else {
            print_node(&s, it->node, NULL, 0);
            print_line(&s, "", " ", s.line);
        }
    }
    print_line(&s, "", "=", s.line);

    Totals t = graph_totals(g);
    char a[32], b[32], c[32];
    format_thousands(t.params, a, sizeof a);
    format_thousands(t.trainable, b, sizeof b);
    format_thousands(t.params - t.trainable, c, sizeof c);
    buf_printf(&s.out, "Total params: %s\nTrainable params: %s\n"
               "Non-trainable params: %s\n", a, b, c);
    print_line(&s, "", "_", s.line);

    format_thousands(t.macs, a, sizeof a);
    buf_printf(&s.out, "Multiply-accumulates: %s (%.2f G)\n", a,
               (double)t.macs / 1e9);
    format_thousands(t.weight_bytes, a, sizeof a);
    buf_printf(&s.out, "Weights (float32): %s bytes (%.2f MiB)\n", a,
               (double)t.weight_bytes / (1024.0 * 1024.0));
    format_thousands(g->arena_floats * 4, a, sizeof a);
    buf_printf(&s.out, "Activation arena: %s bytes (%.2f MiB)\n", a,
               (double)g->arena_floats * 4 / (1024.0 * 1024.0));
    fwrite(s.out.data, 1, s.out.len, out);
    buf_free(&s.out);
    arena_free(s.a);
}
