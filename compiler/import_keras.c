/* import_keras.c: `rnc --import model.json`, a Keras model in the TF.js
 * layers format, written as a readable .rn program and its weights.
 *
 * Requires: model.json (modelTopology: Keras's model.to_json() config,
 * directly or under model_config as Python's converter writes it; or a
 * bare config) and the shards of its weightsManifest. Produces: OUT.rn and
 * OUT.safetensors, written together atomically, or every problem listed as
 * "model.json: layer NAME (Class): reason" and nothing written.
 *
 * The steps: read the configs (keras_config.c); write one .rn line per
 * layer in each model's order (keras_layers.c makes the call), a nested
 * model becoming a `layer` definition called once, so that it shows as one
 * summary row and its weights are prefixed by its name, as Keras shows it;
 * read the manifest and its shards and match each weight to its layer
 * (keras_weights.c); read the text back through the front end (parse,
 * elaborate: rnc's own shapes, parameter counts and weights; an error
 * there is told by the layer of its line); take each node's weights from
 * the manifest by name and shape; write both files.
 *
 * Choices:
 *  - names: every op keeps its Keras name (name="..."); variables are the
 *    names made identifiers (other characters become '_', clashes with the
 *    language's words get '_', repeats get _2, _3, ...); the model's name
 *    is the output file's stem, Keras's name is in the opening comment;
 *  - a nested model's `layer` definition is named after its class
 *    (functional, sequential: the summary row shows "Functional"), with a
 *    suffix when there are several; trainable=false goes on its call when
 *    the nested model itself is frozen (Keras 3 records that), on each op
 *    when its layers are (Keras 2 records that);
 *  - a layer called more than once (shared weights) and multi-output
 *    nested models are refused; the `training` argument of a call is
 *    ignored (inference);
 *  - every stage runs as far as it can, so one pass lists every problem.
 * This file does not use import.c, the writer of the ONNX importer: that
 * one writes flat programs and takes a program that does not compile or
 * weights that disagree as internal errors, while Keras's nested models
 * need `layer` definitions and a bad model.json is a user error to be told
 * by layer. They share rn_st_encode and the language's words (is_word).
 */
#define _POSIX_C_SOURCE 200809L
#include "elab.h" /* is_word: the enum words */
#include "import_keras.h"
#include "rnrt.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { MAX_INT = 1 << 30 }; /* input sizes; rnc checks more */

/* ------------------------------------------------------------- errors */

void kerr(Imp *im, const KLayer *l, const char *fmt, ...) {
    im->nerrs++;
    if (im->nerrs > KMAX_ERRORS) return;
    char msg[768], nb[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (l)
        fprintf(im->errs, "%s: layer %s (%s): %s\n", im->path,
                rn_json_printable(nb, sizeof nb, l->scoped), l->klass, msg);
    else
        fprintf(im->errs, "%s: %s\n", im->path, msg);
}

/* ------------------------------------------------------------ the text */

/* .rn text, with the layer each line came from (for read-back errors). */
typedef struct Text {
    Buf b;
    KLayer **who;
    int nlines, cap;
} Text;

static void text_grow(Imp *im, Text *t, int n) {
    if (t->nlines + n <= t->cap) return;
    int cap = t->cap ? t->cap : 64;
    while (cap < t->nlines + n) cap *= 2;
    KLayer **who = arena_alloc(im->a, (size_t)cap * sizeof *who);
    if (t->nlines) memcpy(who, t->who, (size_t)t->nlines * sizeof *who);
    t->who = who;
    t->cap = cap;
}

static void text_line(Imp *im, Text *t, KLayer *l, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void text_line(Imp *im, Text *t, KLayer *l, const char *fmt, ...) {
    char small[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) die("text_line: bad format");
    if ((size_t)n < sizeof small) {
        buf_append(&t->b, small, (size_t)n);
    } else {
        char *big = malloc((size_t)n + 1);
        if (!big) die("out of memory");
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        buf_append(&t->b, big, (size_t)n);
        free(big);
    }
    buf_append(&t->b, "\n", 1);
    text_grow(im, t, 1);
    t->who[t->nlines++] = l;
}

static void text_cat(Imp *im, Text *dst, Text *src) {
    if (src->b.len) buf_append(&dst->b, src->b.data, src->b.len);
    text_grow(im, dst, src->nlines);
    if (src->nlines)
        memcpy(dst->who + dst->nlines, src->who,
               (size_t)src->nlines * sizeof *src->who);
    dst->nlines += src->nlines;
    buf_free(&src->b);
}

/* --------------------------------------------------------- identifiers */

/* The identifiers taken in one .rn scope (a set, open addressing). */
typedef struct Idents {
    const char **slot;
    size_t cap, n;
} Idents;


static bool idents_has(const Idents *s, const char *name) {
    if (!s->cap) return false;
    for (size_t i = kj_hash(name) & (s->cap - 1); s->slot[i];
         i = (i + 1) & (s->cap - 1))
        if (!strcmp(s->slot[i], name)) return true;
    return false;
}

static void idents_add(Imp *im, Idents *s, const char *name) {
    if (2 * (s->n + 1) > s->cap) {
        const char **old = s->slot;
        size_t oldcap = s->cap;
        s->cap = oldcap ? 2 * oldcap : 64;
        s->slot = arena_alloc(im->a, s->cap * sizeof *s->slot);
        s->n = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i]) idents_add(im, s, old[i]);
    }
    size_t i = kj_hash(name) & (s->cap - 1);
    while (s->slot[i]) i = (i + 1) & (s->cap - 1);
    s->slot[i] = name;
    s->n++;
}

/* The language's keywords; with its enum words (is_word), names a
 * variable must not take (a variable would hide `activation=relu`). */
static const char *const keywords[] = {
    "model", "input", "output", "block", "layer", "return", "for", "in",
    "if", "else", "true", "false", "and", "or", "not", NULL};

static bool reserved(const char *id) {
    for (int i = 0; keywords[i]; i++)
        if (!strcmp(keywords[i], id)) return true;
    return is_word(id);
}

/* A fresh identifier in scope `s` made from a Keras name. */
static const char *ident(Imp *im, Idents *s, const char *name) {
    size_t n = strlen(name);
    char *id = arena_alloc(im->a, n + 2);
    char *o = id;
    if (name[0] >= '0' && name[0] <= '9') *o++ = '_';
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_';
        *o++ = ok ? c : '_';
    }
    *o = 0;
    if (!id[0]) id = "x";
    if (reserved(id)) id = arena_printf(im->a, "%s_", id);
    const char *out = id;
    for (int k = 2; idents_has(s, out); k++)
        out = arena_printf(im->a, "%s_%d", id, k);
    idents_add(im, s, out);
    return out;
}

/* ------------------------------------------------------------ emission */

static bool chain_trainable(const KModel *m) {
    for (; m; m = m->parent)
        if (!m->trainable) return false;
    return true;
}

/* Definition names over the whole file. */
typedef struct Emit {
    Imp *im;
    Idents defs;
    Text defs_text;
} Emit;

static bool emit_model(Emit *em, KModel *m, Text *out);

/* The input's shape from batch_input_shape / batch_shape (batch first) or
 * input_shape; "[224, 224, 3]" in out. */
static bool input_shape(Imp *im, KLayer *l, const rn_json *cfg2, Buf *out) {
    const rn_json *s = kj_list(kj_get(l->cfg, "batch_input_shape"));
    int skip = 1;
    if (!s) s = kj_list(kj_get(l->cfg, "batch_shape"));
    if (!s) s = kj_list(kj_get(cfg2, "build_input_shape"));
    if (!s) {
        s = kj_list(kj_get(l->cfg, "input_shape"));
        skip = 0;
    }
    if (!s) {
        kerr(im, l, "the input has no shape (batch_input_shape or "
             "batch_shape)");
        return false;
    }
    int rank = s->n - skip;
    if (rank != 1 && rank != 3) {
        kerr(im, l, "inputs of rank %d are not supported: rnc's tensors are "
             "[N] or [H, W, C]", rank > 0 ? rank : 0);
        return false;
    }
    buf_printf(out, "[");
    for (int i = skip; i < s->n; i++) {
        int64_t d;
        const int64_t *given = im->opt ? im->opt->input_hwc : NULL;
        if (s->items[i]->kind == RN_JSON_NULL && rank == 3 && given &&
            given[i - skip] > 0) {
            d = given[i - skip]; /* --input-shape */
        } else if (s->items[i]->kind == RN_JSON_NULL) {
            kerr(im, l, "the input's size is not fixed (None in its shape): "
                 "rnc needs every size; give it with --input-shape H,W,C");
            return false;
        } else if (!kj_int(s->items[i], &d) || d < 1 || d > MAX_INT) {
            kerr(im, l, "the input's shape has a bad size");
            return false;
        }
        buf_printf(out, "%s%lld", i > skip ? ", " : "", (long long)d);
    }
    buf_printf(out, "]");
    l->rank = rank;
    const rn_json *sparse = kj_get(l->cfg, "sparse");
    if (sparse && sparse->kind == RN_JSON_BOOL &&
        kj_get(l->cfg, "sparse")->boolean)
        kerr(im, l, "sparse inputs are not supported");
    return true;
}

/* A nested model: its definition, then a call of it. */
static void emit_nested(Emit *em, KLayer *l, Call *c) {
    Imp *im = em->im;
    KModel *m = l->sub;
    if (!m) return;
    if (m->nout != 1) {
        kerr(im, l, "a nested model with %d outputs is not supported: it "
             "must have one", m->nout);
        return;
    }
    if (l->nin != m->nin) {
        kerr(im, l, "the nested model takes %d inputs, the call gives %d",
             m->nin, l->nin);
        return;
    }
    m->def = ident(im, &em->defs, m->sequential ? "sequential" : "functional");
    for (int i = 0; i < m->nin; i++) m->inputs[i]->rank = l->src[i]->rank;
    Text body = {0};
    if (emit_model(em, m, &body)) {
        text_cat(im, &em->defs_text, &body);
        text_line(im, &em->defs_text, NULL, "%s", "");
    } else {
        buf_free(&body.b);
    }
    c->op = m->def;
    l->rank = m->outputs[0]->rank;
    if (!m->trainable && chain_trainable(l->owner))
        kl_arg(c, "trainable=false");
}

/* `VAR = OP(INPUTS, ARGS, name="NAME")  # NOTE`, wrapped after a comma
 * past LINE_WIDTH with continuation lines indented four more spaces (a
 * call may go on inside its parentheses). */
static void put_call(Imp *im, Text *out, KLayer *l, const char *indent,
                     const Call *c) {
    enum { LINE_WIDTH = 100 };
    int n = l->nin + 2;
    for (const char *p = c->args.data; p && *p; p++) n += *p == ',';
    const char **item = arena_alloc(im->a, (size_t)n * sizeof *item);
    int k = 0;
    for (int i = 0; i < l->nin; i++) item[k++] = l->src[i]->var;
    /* the arguments: ", a, b=[1, 2], ..." split at commas outside brackets
     * and strings */
    const char *p = c->args.data ? c->args.data : "";
    while (*p) {
        p += 2; /* ", " */
        const char *start = p;
        int depth = 0;
        bool quoted = false;
        for (; *p && (depth || quoted || *p != ','); p++) {
            if (*p == '"') quoted = !quoted;
            else if (!quoted && *p == '[') depth++;
            else if (!quoted && *p == ']') depth--;
        }
        item[k++] = arena_strndup(im->a, start, (size_t)(p - start));
    }
    item[k++] = arena_printf(im->a, "name=\"%s\"", l->name);
    Buf line = {0};
    buf_printf(&line, "%s%s = %s(", indent, l->var, c->op);
    for (int i = 0; i < k; i++) {
        size_t w = strlen(item[i]) + 1;
        if (i > 0 && line.len + 1 + w > LINE_WIDTH) {
            text_line(im, out, l, "%s", line.data);
            line.len = 0;
            buf_printf(&line, "%s    %s", indent, item[i]);
        } else {
            buf_printf(&line, "%s%s", i ? " " : "", item[i]);
        }
        buf_printf(&line, "%s", i + 1 < k ? "," : ")");
    }
    text_line(im, out, l, "%s%s%s", line.data, c->note ? "  # " : "",
              c->note ? c->note : "");
    buf_free(&line);
}

/* One layer's line. */
static void emit_layer(Emit *em, KLayer *l, Idents *vars, Text *out,
                       const char *indent) {
    Imp *im = em->im;
    Call c = {.im = im, .l = l, .nin = 1};
    int before = im->nerrs;
    if (l->nin > 0) l->rank = l->src[0]->rank;
    if (kc_is_model(l->klass)) {
        c.nin = l->nin;
        emit_nested(em, l, &c); /* a bad nested model was told already */
    } else {
        kl_translate(&c);
    }
    if (c.nin > 0 && l->nin != c.nin)
        kerr(im, l, "takes %d input%s, the model gives it %d", c.nin,
             c.nin == 1 ? "" : "s", l->nin);
    else if (c.nin == -2 && l->nin < 2)
        kerr(im, l, "takes two inputs or more, the model gives it %d", l->nin);
    if (c.weights && !l->trainable && chain_trainable(l->owner))
        kl_arg(&c, "trainable=false");
    l->var = ident(im, vars, l->name);
    bool inputs_ok = true; /* a source that was told about has no variable */
    for (int k = 0; k < l->nin; k++) inputs_ok &= l->src[k]->var != NULL;
    if (im->nerrs == before && c.op && inputs_ok) {
        put_call(im, out, l, indent, &c);
        l->emitted = true;
    }
    buf_free(&c.args);
}

/* A model's statements: `input`s and `output`s at the top, a `layer`
 * definition for a nested model. */
static bool emit_model(Emit *em, KModel *m, Text *out) {
    Imp *im = em->im;
    if (!m || m->nin == 0 || m->nout == 0 || !m->inputs || !m->outputs)
        return false;
    KLayer **order = arena_alloc(im->a, (size_t)(m->n + 1) * sizeof *order);
    int n = kc_order(im, m, order);
    if (n < 0) return false;
    Idents vars = {0};
    const char *indent = m->self ? "    " : "";
    m->path = m->self ? (m->parent->path[0]
                             ? arena_printf(im->a, "%s.%s", m->parent->path,
                                            m->self->name)
                             : m->self->name)
                      : "";
    Buf params = {0};
    for (int i = 0; i < m->nin; i++) {
        KLayer *in = m->inputs[i];
        in->var = ident(im, &vars, in->name);
        in->emitted = true;
        if (m->self) {
            buf_printf(&params, "%s%s", i ? ", " : "", in->var);
            continue;
        }
        Buf shape = {0};
        if (input_shape(im, in, m->cfg, &shape))
            text_line(im, out, in, "input %s%s", in->var, shape.data);
        buf_free(&shape);
    }
    if (m->self)
        text_line(im, out, m->self, "layer %s(%s) {", m->def,
                  params.data ? params.data : "");
    else
        text_line(im, out, NULL, "%s", "");
    buf_free(&params);
    for (int i = 0; i < n; i++) {
        KLayer *l = order[i];
        if (kc_is_input(l)) {
            bool listed = false;
            for (int k = 0; k < m->nin; k++) listed |= m->inputs[k] == l;
            if (!listed)
                kerr(im, l, "an InputLayer that is not among the model's "
                     "inputs");
            continue;
        }
        l->path = m->path[0] ? arena_printf(im->a, "%s.%s", m->path, l->name)
                             : l->name;
        emit_layer(em, l, &vars, out, indent);
    }
    if (!m->self) text_line(im, out, NULL, "%s", "");
    for (int i = 0; i < m->nout; i++) {
        KLayer *o = m->outputs[i];
        if (!o->var) continue;
        if (m->self) text_line(im, out, o, "    return %s", o->var);
        else text_line(im, out, o, "output %s", o->var);
    }
    if (m->self) text_line(im, out, m->self, "}");
    return true;
}

/* ------------------------------------------------------ reading back */

/* The program through the front end, errors caught and told by layer. */
static Graph *read_back(Imp *im, Text *t, const char *rn_path,
                        const char *stem, Arena *a) {
    char *msg = NULL;
    size_t msglen = 0;
    FILE *mem = open_memstream(&msg, &msglen);
    if (!mem) die("out of memory");
    Source src = {rn_path, t->b.data, t->b.len};
    Diag d;
    diag_init(&d, &src, mem);
    d.max_errors = 1;
    Ast *prog = parse_source(&src, a, &d);
    Graph *g = prog ? elaborate(prog, stem, a, &d) : NULL;
    fclose(mem);
    if (!g) {
        /* "OUT.rn:LINE:COL: error: MESSAGE" -> the layer of that line */
        size_t plen = strlen(rn_path);
        int line = 0, col = 0, at = 0;
        KLayer *who = NULL;
        const char *body = msg;
        if (msg && !strncmp(msg, rn_path, plen) &&
            sscanf(msg + plen, ":%d:%d: error: %n", &line, &col, &at) == 2 &&
            at > 0) {
            body = msg + plen + at;
            if (line >= 1 && line <= t->nlines) who = t->who[line - 1];
        }
        char *nl = body ? strchr(body, '\n') : NULL;
        if (nl) *nl = 0;
        if (who)
            kerr(im, who, "%s", body);
        else
            kerr(im, NULL, "the imported program does not compile: %s",
                 body && *body ? body : "(no message)");
    }
    free(msg);
    return g;
}

/* ------------------------------------------------------------- weights */

static void fmt_dims(char *out, size_t n, int rank, const int64_t *d) {
    size_t at = 0;
    at += (size_t)snprintf(out, n, "[");
    for (int i = 0; i < rank && at < n; i++)
        at += (size_t)snprintf(out + at, n - at, "%s%lld", i ? ", " : "",
                               (long long)d[i]);
    if (at < n) snprintf(out + at, n - at, "]");
}

/* Every weight of every node from its manifest tensor; the safetensors
 * list in t (names in the arena). Errors by layer. */
static int gather_weights(Imp *im, Graph *g, KWeights *w, rn_st_tensor **out) {
    int cap = 0;
    for (int i = 0; i < g->nnodes; i++) {
        WeightSpec ws[4];
        cap += node_weights(g->nodes[i], ws);
    }
    rn_st_tensor *t = arena_alloc(im->a, (size_t)(cap ? cap : 1) * sizeof *t);
    int n = 0;
    /* the layer of each node, through a table of paths */
    size_t mcap = 16;
    while (mcap < 2 * (size_t)im->nall + 2) mcap *= 2;
    KLayer **slot = arena_alloc(im->a, mcap * sizeof *slot);
    for (int i = 0; i < im->nall; i++) {
        KLayer *l = im->all[i];
        if (!l->path) continue;
        size_t s = kj_hash(l->path) & (mcap - 1);
        while (slot[s]) s = (s + 1) & (mcap - 1);
        slot[s] = l;
    }
    for (int i = 0; i < g->nnodes; i++) {
        GNode *node = g->nodes[i];
        WeightSpec ws[4];
        int k = node_weights(node, ws);
        if (!k) continue;
        KLayer *l = NULL;
        for (size_t s = kj_hash(node->path) & (mcap - 1); slot[s];
             s = (s + 1) & (mcap - 1))
            if (!strcmp(slot[s]->path, node->path)) {
                l = slot[s];
                break;
            }
        if (!l) die("import: node '%s' has no Keras layer", node->path);
        l->in_graph = true;
        for (int j = 0; j < k; j++) {
            KTensor *found = NULL, *other = NULL;
            for (int x = l->tensors; x; x = w->t[x - 1].next) {
                KTensor *kt = &w->t[x - 1];
                if (!(kt->param ? !strcmp(kt->param, ws[j].suffix)
                                : kt->index == j))
                    continue;
                kt->used = true;
                if (found) other = found;
                found = kt;
            }
            char want[96], have[96];
            fmt_dims(want, sizeof want, ws[j].rank, ws[j].dims);
            if (other) {
                char a[120], b[120];
                kerr(im, l, "the manifest has two weights '%s': '%s' and '%s'",
                     ws[j].suffix, rn_json_printable(a, sizeof a, other->name),
                     rn_json_printable(b, sizeof b, found->name));
                continue;
            }
            if (!found) {
                kerr(im, l, "the manifest has no weight '%s' %s", ws[j].suffix,
                     want);
                continue;
            }
            bool same = found->rank == ws[j].rank;
            for (int d = 0; same && d < found->rank; d++)
                same = found->dims[d] == ws[j].dims[d];
            if (!same) {
                fmt_dims(have, sizeof have, found->rank, found->dims);
                kerr(im, l, "weight '%s' has shape %s, the layer needs %s",
                     ws[j].suffix, have, want);
                continue;
            }
            rn_st_tensor *st = &t[n++];
            st->name = arena_printf(im->a, "%s.%s", node->path, ws[j].suffix);
            st->rank = ws[j].rank;
            for (int d = 0; d < ws[j].rank; d++) st->dims[d] = ws[j].dims[d];
            st->data = found->data;
        }
    }
    /* what the manifest has beyond that, for layers in the graph (a
     * layer rnc dropped, reaching no output, may keep its weights) */
    for (int x = 0; x < w->n; x++) {
        KTensor *kt = &w->t[x];
        if (kt->used || !kt->layer ||
            !(kt->layer->in_graph || kt->layer->emitted))
            continue;
        char nb[160];
        kerr(im, kt->layer, "the manifest's weight '%s' is not one of this "
             "layer's", rn_json_printable(nb, sizeof nb, kt->name));
    }
    *out = t;
    return n;
}

/* --------------------------------------------------------- entry points */

/* model.json, or the model.json inside a directory. */
static bool find_model(Imp *im, const char *model, const char **json) {
    struct stat st;
    if (stat(model, &st) != 0) {
        fprintf(im->errs, "rnc: error: %s: %s\n", model, strerror(errno));
        return false;
    }
    if (S_ISDIR(st.st_mode)) {
        size_t n = strlen(model);
        while (n > 1 && model[n - 1] == '/') n--;
        im->dir = arena_strndup(im->a, model, n);
        *json = arena_printf(im->a, "%s%smodel.json", im->dir,
                             n == 1 && im->dir[0] == '/' ? "" : "/");
        if (stat(*json, &st) != 0) {
            fprintf(im->errs, "rnc: error: %s: %s\n", *json, strerror(errno));
            return false;
        }
    } else {
        *json = model;
        const char *slash = strrchr(model, '/');
        im->dir = slash ? arena_strndup(im->a, model, (size_t)(slash - model))
                        : ".";
        if (slash == model) im->dir = "/";
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(im->errs, "rnc: error: %s: not a regular file\n", *json);
        return false;
    }
    im->path = *json;
    return true;
}

/* The topology object ({class_name, config}) and the manifest. */
static const rn_json *find_topology(Imp *im, const rn_json *root,
                                    const rn_json **manifest) {
    *manifest = kj_get(root, "weightsManifest");
    const rn_json *topo = kj_get(root, "modelTopology");
    if (!topo && kj_get(root, "class_name")) topo = root; /* a bare config */
    const rn_json *version = kj_get(topo, "keras_version");
    if (topo && kj_get(topo, "model_config"))
        topo = kj_get(topo, "model_config");
    const char *format = kj_str(kj_get(root, "format"));
    if (format && !strcmp(format, "graph-model")) {
        kerr(im, NULL, "a TF.js graph model (a converted TensorFlow graph): "
             "rnc imports Keras models in the layers format "
             "(tensorflowjs_converter --output_format tfjs_layers_model)");
        return NULL;
    }
    if (!topo || !kj_get(topo, "class_name")) {
        kerr(im, NULL, "no Keras model: expected 'modelTopology' with "
             "'class_name' and 'config' (the TF.js layers format)");
        return NULL;
    }
    const char *v = kj_str(version);
    if (v && v[0] == '3') im->keras3 = true;
    return topo;
}

/* Keras 3 writes batch_shape where Keras 2 wrote batch_input_shape. */
static void detect_keras3(Imp *im) {
    for (int i = 0; i < im->nall; i++)
        if (kj_get(im->all[i]->cfg, "batch_shape")) im->keras3 = true;
}

int keras_convert(const char *model, const char *rn_path,
                  const char *weights_path, const char *stem,
                  const ImportOptions *opt, FILE *errs, Buf *rn,
                  unsigned char **st, size_t *stlen) {
    Arena *a = arena_new();
    Imp im = {.a = a, .errs = errs, .path = model, .opt = opt};
    KWeights w = {0};
    rn_json_doc *doc = NULL;
    char *text = NULL;
    int rc = 1;
    *st = NULL;
    *stlen = 0;
    *rn = (Buf){0};
    const char *json;
    if (!find_model(&im, model, &json)) goto done;
    size_t len;
    text = read_whole_file(json, &len);
    if (!text) {
        fprintf(errs, "rnc: error: %s: %s\n", json,
                errno == EFBIG ? "file too large (over 16 MiB)"
                               : strerror(errno));
        goto done;
    }
    char jerr[256];
    doc = rn_json_parse(text, len, jerr, sizeof jerr);
    if (!doc) {
        kerr(&im, NULL, "not valid JSON: %s", jerr);
        goto done;
    }
    const rn_json *manifest;
    const rn_json *topo = find_topology(&im, rn_json_root(doc), &manifest);
    if (!topo) goto done;
    /* Every stage runs as far as it can, so that one pass lists all it
     * finds; the text is read back only when it is whole. */
    im.top = kc_parse(&im, topo);
    detect_keras3(&im);
    Emit em = {.im = &im};
    Text body = {0};
    bool configs_ok = im.top && im.nerrs == 0;
    bool whole = im.top && emit_model(&em, im.top, &body) && im.nerrs == 0;
    bool read = kw_read(&im, manifest, &w);
    /* the layers must be known for certain before weights go to them */
    if (read && configs_ok) kw_match(&im, &w);
    if (!whole) {
        buf_free(&body.b);
        buf_free(&em.defs_text.b);
        goto done;
    }
    /* the file: a header, the definitions, the model */
    Text all = {0};
    const char *base = strrchr(weights_path, '/');
    base = base ? base + 1 : weights_path;
    char nb[240];
    text_line(&im, &all, NULL, "# Imported by rnc --import from the Keras "
              "model \"%s\"", rn_json_printable(nb, sizeof nb, im.top->name));
    text_line(&im, &all, NULL, "# (%s, %s); its weights are %s.",
              im.top->klass, im.keras3 ? "Keras 3" : "Keras 2 / TF.js", base);
    text_line(&im, &all, NULL, "%s", "");
    text_cat(&im, &all, &em.defs_text);
    text_cat(&im, &all, &body);
    Arena *ga = arena_new();
    Graph *g = read_back(&im, &all, rn_path, stem, ga);
    rn_st_tensor *t = NULL;
    int nt = g && read ? gather_weights(&im, g, &w, &t) : 0;
    char err[512];
    if (g && im.nerrs == 0 &&
        !(*st = rn_st_encode(weights_path, t, nt, stlen, err, sizeof err))) {
        fprintf(errs, "rnc: error: %s\n", err);
        im.nerrs++;
    }
    arena_free(ga);
    if (im.nerrs == 0) {
        *rn = all.b;
        rc = 0;
    } else {
        buf_free(&all.b);
        free(*st);
        *st = NULL;
    }
done:
    if (im.nerrs > KMAX_ERRORS)
        fprintf(errs, "%s: ... and %d more errors\n", im.path,
                im.nerrs - KMAX_ERRORS);
    kw_free(&w);
    rn_json_free(doc);
    free(text);
    arena_free(a);
    return rc;
}

int keras_import(const char *model, const char *rn_path,
                 const char *weights_path, const char *stem,
                 const ImportOptions *opt, FILE *errs) {
    Buf rn;
    unsigned char *st;
    size_t stlen;
    int rc = keras_convert(model, rn_path, weights_path, stem, opt, errs, &rn,
                           &st, &stlen);
    if (rc != 0) return rc;
    char err[512];
    const char *paths[2] = {rn_path, weights_path};
    const void *data[2] = {rn.data, st};
    size_t lens[2] = {rn.len, stlen};
    if (rn_write_files_atomic(2, paths, data, lens, err, sizeof err) != 0) {
        fprintf(errs, "rnc: error: %s\n", err);
        rc = 1;
    }
    buf_free(&rn);
    free(st);
    return rc;
}
