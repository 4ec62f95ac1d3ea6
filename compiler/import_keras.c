/* import_keras.c: `rnc --import model.json`, a Keras model in the TF.js
 * layers format, written as a readable .rn program and its weights.
 *
 * Requires: model.json (modelTopology: Keras's model.to_json() config,
 * directly or under model_config as Python's converter writes it; or a
 * bare config) and the shards of its weightsManifest. Produces: OUT.rn and
 * OUT.safetensors, written together atomically, or every problem listed as
 * "model.json: layer NAME (Class): reason" and nothing written.
 *
 * The steps: read the configs (keras_config.c); give import.c (the
 * writer both importers share) one .rn line per layer in each model's
 * order (keras_layers.c makes the call), a nested model becoming a `layer`
 * definition called once, so that it shows as one summary row and its
 * weights are prefixed by its name, as Keras shows it; read the manifest
 * and its shards and match each weight to its layer (keras_weights.c);
 * import.c reads the text back through the front end (parse, elaborate:
 * rnc's own shapes, parameter counts and weights; an error there is told
 * by the Keras layer of its line, each line's source) and asks for each
 * node's weights, taken here from the manifest by name and shape; both
 * files are written together.
 *
 * Choices:
 *  - names: every op keeps its Keras name (name="..."); variables are the
 *    names made identifiers (import.c's rule); the model's name is the
 *    output file's stem, Keras's name is in the opening comment;
 *  - a nested model's `layer` definition is named after its class
 *    (functional, sequential: the summary row shows "Functional"), with a
 *    suffix when there are several; trainable=false goes on its call when
 *    the nested model itself is frozen (Keras 3 records that), on each op
 *    when its layers are (Keras 2 records that);
 *  - a layer called more than once (shared weights) and multi-output
 *    nested models are refused; the `training` argument of a call is
 *    ignored (inference);
 *  - every stage runs as far as it can, so one pass lists every problem.
 */
#define _POSIX_C_SOURCE 200809L
#include "import_keras.h"
#include "rnrt.h"

#include <errno.h>
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

/* ------------------------------------------------------------ emission */

static bool chain_trainable(const KModel *m) {
    for (; m; m = m->parent)
        if (!m->trainable) return false;
    return true;
}

/* The statements go to import.c's writer, each with its Keras layer as
 * the source: a reading-back error is told by layer. */
typedef struct Emit {
    Imp *im;
    ImportModel *m;
} Emit;

static bool emit_model(Emit *em, KModel *m);

static void source(Emit *em, KLayer *l) {
    char nb[240];
    import_source(em->m,
                  arena_printf(em->im->a, "layer %s (%s)",
                               rn_json_printable(nb, sizeof nb, l->scoped),
                               l->klass),
                  l);
}

/* The input's shape from batch_input_shape / batch_shape (batch first) or
 * input_shape, into *out. */
static bool input_shape(Imp *im, KLayer *l, const rn_json *cfg2, Shape *out) {
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
    out->rank = rank;
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
        out->d[i - skip] = d;
    }
    l->rank = rank;
    const rn_json *sparse = kj_get(l->cfg, "sparse");
    if (sparse && sparse->kind == RN_JSON_BOOL &&
        kj_get(l->cfg, "sparse")->boolean)
        kerr(im, l, "sparse inputs are not supported");
    return true;
}

/* A nested model: its definition, then (by the caller) a call of it. */
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
    for (int i = 0; i < m->nin; i++) m->inputs[i]->rank = l->src[i]->rank;
    if (!emit_model(em, m)) return;
    c->op = m->def;
    l->rank = m->outputs[0]->rank;
    if (!m->trainable && chain_trainable(l->owner))
        kl_arg(c, "trainable=false");
}

/* One layer's line. */
static void emit_layer(Emit *em, KLayer *l) {
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
    /* a source that was told about has no variable */
    bool inputs_ok = true;
    for (int k = 0; k < l->nin; k++) inputs_ok &= l->src[k]->var != NULL;
    if (im->nerrs == before && c.op && inputs_ok) {
        const char **in =
            arena_alloc(im->a, (size_t)(l->nin ? l->nin : 1) * sizeof *in);
        for (int k = 0; k < l->nin; k++) in[k] = l->src[k]->var;
        source(em, l);
        /* the arguments after their leading ", " */
        l->var = import_layer(em->m, c.op, l->name, in, l->nin,
                              c.args.data ? c.args.data + 2 : NULL);
        if (c.note) import_note(em->m, c.note);
        l->emitted = true;
    }
    buf_free(&c.args);
}

/* A model's statements: `input`s and `output`s at the top, a `layer`
 * definition for a nested model. */
static bool emit_model(Emit *em, KModel *m) {
    Imp *im = em->im;
    if (!m || m->nin == 0 || m->nout == 0 || !m->inputs || !m->outputs)
        return false;
    KLayer **order = arena_alloc(im->a, (size_t)(m->n + 1) * sizeof *order);
    int n = kc_order(im, m, order);
    if (n < 0) return false;
    if (m->self) {
        const char **names =
            arena_alloc(im->a, (size_t)m->nin * sizeof *names);
        const char **vars = arena_alloc(im->a, (size_t)m->nin * sizeof *vars);
        for (int i = 0; i < m->nin; i++) names[i] = m->inputs[i]->name;
        source(em, m->self);
        m->def = import_begin(em->m, m->sequential ? "sequential" : "functional",
                              names, m->nin, vars);
        for (int i = 0; i < m->nin; i++) {
            m->inputs[i]->var = vars[i];
            m->inputs[i]->emitted = true;
        }
    }
    for (int i = 0; i < m->nin && !m->self; i++) {
        KLayer *in = m->inputs[i];
        Shape shape;
        if (!input_shape(im, in, m->cfg, &shape)) continue;
        source(em, in);
        in->var = import_input(em->m, in->name, &shape);
        in->emitted = true;
    }
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
        emit_layer(em, l);
    }
    for (int i = 0; i < m->nout; i++) {
        KLayer *o = m->outputs[i];
        if (m->self) {
            source(em, o);
            import_end(em->m, o->var); /* NULL after an error */
            break;
        }
        if (o->var) {
            source(em, o);
            import_output(em->m, o->var);
        }
    }
    return true;
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

/* What the weight function needs. */
typedef struct Gather {
    Imp *im;
    KWeights *w;
    bool read; /* the manifest was read whole */
} Gather;

/* import.c's weight function: the weight `spec` (the k-th) of layer src
 * from its manifest tensors, by name (or Keras 3's index) and shape.
 * Errors by layer. */
static const float *weight_of(void *ctx, void *src, const WeightSpec *spec,
                              int k) {
    Gather *g = ctx;
    Imp *im = g->im;
    KLayer *l = src;
    if (!g->read) return NULL; /* told by kw_read */
    KTensor *found = NULL, *other = NULL;
    for (int x = l->tensors; x; x = g->w->t[x - 1].next) {
        KTensor *kt = &g->w->t[x - 1];
        if (!(kt->param ? !strcmp(kt->param, spec->suffix) : kt->index == k))
            continue;
        kt->used = true;
        if (found) other = found;
        found = kt;
    }
    char want[96], have[96];
    fmt_dims(want, sizeof want, spec->rank, spec->dims);
    if (other) {
        char a[120], b[120];
        kerr(im, l, "the manifest has two weights '%s': '%s' and '%s'",
             spec->suffix, rn_json_printable(a, sizeof a, other->name),
             rn_json_printable(b, sizeof b, found->name));
        return NULL;
    }
    if (!found) {
        kerr(im, l, "the manifest has no weight '%s' %s", spec->suffix, want);
        return NULL;
    }
    bool same = found->rank == spec->rank;
    for (int d = 0; same && d < found->rank; d++)
        same = found->dims[d] == spec->dims[d];
    if (!same) {
        fmt_dims(have, sizeof have, found->rank, found->dims);
        kerr(im, l, "weight '%s' has shape %s, the layer needs %s",
             spec->suffix, have, want);
        return NULL;
    }
    return found->data;
}

/* What the manifest has beyond the weights taken, for layers of the
 * program (a layer rnc dropped, reaching no output, may keep its). */
static void unused_weights(Imp *im, const KWeights *w) {
    for (int x = 0; x < w->n; x++) {
        KTensor *kt = &w->t[x];
        if (kt->used || !kt->layer || !kt->layer->emitted) continue;
        char nb[160];
        kerr(im, kt->layer, "the manifest's weight '%s' is not one of this "
             "layer's", rn_json_printable(nb, sizeof nb, kt->name));
    }
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
    Emit em = {.im = &im, .m = import_new(a, stem)};
    const char *base = strrchr(weights_path, '/');
    base = base ? base + 1 : weights_path;
    char nb[240];
    import_comment(em.m, "Imported by rnc --import from the Keras model \"%s\"",
                   rn_json_printable(nb, sizeof nb, im.top ? im.top->name : ""));
    import_comment(em.m, "(%s, %s); its weights are %s.",
                   im.top ? im.top->klass : "?",
                   im.keras3 ? "Keras 3" : "Keras 2 / TF.js", base);
    bool configs_ok = im.top && im.nerrs == 0;
    bool whole = im.top && emit_model(&em, im.top) && im.nerrs == 0;
    bool read = kw_read(&im, manifest, &w);
    /* the layers must be known for certain before weights go to them */
    if (read && configs_ok) kw_match(&im, &w);
    if (!whole) goto done;
    Gather g = {.im = &im, .w = &w, .read = read};
    import_weights_from(em.m, weight_of, &g);
    char err[512];
    void *bytes;
    if (import_encode(em.m, rn_path, weights_path, rn, &bytes, stlen, err,
                      sizeof err) != 0 && err[0]) {
        kerr(&im, NULL, "%s", err);
    } else {
        *st = bytes;
        unused_weights(&im, &w); /* the program read back */
    }
    if (im.nerrs == 0) {
        rc = 0;
    } else {
        buf_free(rn);
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
