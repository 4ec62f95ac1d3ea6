/* onnx_layout.c: how the .rn holds each ONNX value. A Layout names the
 * .rn tensor and says which ONNX axis is which .rn axis, so that
 * Transpose, Squeeze, Unsqueeze and reshapes that only add or drop size-1
 * axes write no layer: they move the map (lay_view). A flatten remembers
 * the order in which ONNX flattened the image's axes (PyTorch's C, H, W),
 * so that the dense layer after it can permute its kernel's rows
 * (lay_flat_row).
 *
 * Requires: the values' shapes (onnx_infer). Changes: Layouts, and the
 * ImportModel for the flatten and reshape layers a view needs. */
#include "onnx.h"

#include <string.h>

/* ----------------------------------------------------------- layouts */

Layout *lay_new(Onnx *o, const char *var, Shape s) {
    Layout *l = arena_alloc(o->a, sizeof *l);
    l->var = var;
    l->shape = s;
    for (int i = 0; i < ONNX_MAX_RANK; i++) l->axis[i] = -1;
    return l;
}

/* ONNX [1, C, H, W] as .rn [H, W, C]. */
Layout *lay_image(Onnx *o, const char *var, const OValue *v) {
    Layout *l =
        lay_new(o, var, (Shape){3, {v->dims[2], v->dims[3], v->dims[1]}});
    l->axis[1] = 2;
    l->axis[2] = 0;
    l->axis[3] = 1;
    return l;
}

/* ONNX [1, N] as .rn [N]. */
Layout *lay_flat(Onnx *o, const char *var, const OValue *v) {
    Layout *l = lay_new(o, var, (Shape){1, {v->dims[v->rank - 1]}});
    l->axis[v->rank - 1] = 0;
    return l;
}

/* Is ONNX axis k of v .rn axis want (or a size-1 axis where the .rn has
 * size 1 too)? */
bool lay_axis_is(const OValue *v, int k, int want) {
    const Layout *l = v->lay;
    return l->axis[k] == want ||
           (l->axis[k] < 0 && v->dims[k] == 1 && want < l->shape.rank &&
            l->shape.d[want] == 1);
}

bool lay_is_image(const OValue *v) {
    return v->lay && v->rank == 4 && v->lay->shape.rank == 3 &&
           v->dims[0] == 1 && v->lay->axis[0] < 0 && lay_axis_is(v, 1, 2) &&
           lay_axis_is(v, 2, 0) && lay_axis_is(v, 3, 1);
}

/* Is ONNX axis k of v the .rn channel (last) axis? */
bool lay_is_channel(const OValue *v, int k) {
    return v->lay && lay_axis_is(v, k, v->lay->shape.rank - 1);
}

/* A copy of v's layout under a new variable (or the same). */
Layout *lay_relabel(Onnx *o, const OValue *v, const char *var) {
    Layout *l = arena_alloc(o->a, sizeof *l);
    *l = *v->lay;
    l->var = var;
    return l;
}

/* The .rn variable of an NCHW value an image op reads; a [1, C, 1, 1]
 * held flat is reshaped to [1, 1, C] first. NULL after an error. */
const char *lay_image_var(Onnx *o, ONode *n, OValue *v) {
    if (lay_is_image(v)) return v->lay->var;
    if (v->rank == 4 && v->lay && v->lay->shape.rank == 1 && v->dims[0] == 1 &&
        v->dims[2] == 1 && v->dims[3] == 1 &&
        v->lay->shape.d[0] == v->dims[1]) {
        const char *r = import_layer(
            o->m, "reshape", arena_printf(o->a, "%s.reshape", n->name),
            &v->lay->var, 1,
            arena_printf(o->a, "[1, 1, %lld]", (long long)v->dims[1]));
        v->lay = lay_image(o, r, v);
        return r;
    }
    onnx_node_error(o, n,
                    "reads a tensor that is not an NCHW image in rnc's "
                    "layout (after a Transpose or Reshape rnc cannot follow)");
    return NULL;
}

/* ------------------------------------------------------------- views */

const char *lay_dims_text(Onnx *o, const OValue *v) {
    const char *s = "";
    for (int i = 0; i < v->rank; i++)
        s = arena_printf(o->a, "%s%s%lld", s, i ? ", " : "",
                         (long long)v->dims[i]);
    return s;
}

/* The order in which ONNX flattens the .rn axes of v (ONNX axes from
 * `from` on); false when they do not form a flat order rnc can follow. */
static void flat_order(const OValue *v, int from, int8_t *order) {
    bool seen[3] = {false};
    int k = 0;
    for (int i = from; i < v->rank; i++) {
        int ax = v->lay->axis[i];
        if (ax >= 0 && !seen[ax]) {
            order[k++] = (int8_t)ax;
            seen[ax] = true;
        }
    }
    for (int ax = 0; ax < 3; ax++)
        if (!seen[ax]) order[k++] = (int8_t)ax;
}

/* The layout of out, a flatten of x at ONNX axis `from`, emitting the
 * flatten layer when x is an image. */
void lay_flatten(Onnx *o, OValue *x, OValue *out, int from, const char *name) {
    const Layout *l = x->lay;
    if (l->shape.rank == 1) {
        Layout *f = lay_relabel(o, x, l->var);
        for (int i = 0; i < ONNX_MAX_RANK; i++) f->axis[i] = -1;
        f->axis[out->rank - 1] = 0;
        out->lay = f;
        return;
    }
    int8_t order[3];
    flat_order(x, from, order);
    int64_t big[3];
    int nb = 0;
    for (int i = 0; i < 3; i++)
        if (l->shape.d[order[i]] > 1) big[nb++] = order[i];
    bool same = true;
    for (int i = 1; i < nb; i++) same = same && big[i - 1] < big[i];
    const char *y = import_layer(o->m, "flatten", name, &l->var, 1, NULL);
    Layout *f = lay_new(o, y, (Shape){1, {shape_count(&l->shape)}});
    f->axis[out->rank - 1] = 0;
    if (!same) {
        f->from = l->shape;
        memcpy(f->order, order, sizeof order);
    }
    out->lay = f;
}

/* out has x's dims with size-1 axes put in or taken out: the same .rn
 * tensor. False when the other dims differ. */
static bool unit_view(Onnx *o, const OValue *x, OValue *out) {
    Layout *l = lay_relabel(o, x, x->lay->var);
    int i = 0;
    for (int k = 0; k < out->rank; k++) {
        l->axis[k] = -1;
        if (out->dims[k] == 1) continue;
        while (i < x->rank && x->dims[i] == 1) i++;
        if (i == x->rank || x->dims[i] != out->dims[k]) return false;
        l->axis[k] = x->lay->axis[i++];
    }
    while (i < x->rank && x->dims[i] == 1) i++;
    if (i != x->rank) return false;
    for (int k = out->rank; k < ONNX_MAX_RANK; k++) l->axis[k] = -1;
    out->lay = l;
    return true;
}

void lay_view(Onnx *o, ONode *n) {
    OValue *x = n->in[0], *out = n->out[0];
    if (!strcmp(n->op, "Transpose")) {
        Layout *l = lay_relabel(o, x, x->lay->var);
        for (int i = 0; i < out->rank; i++)
            l->axis[i] = x->lay->axis[n->a.perm[i]];
        out->lay = l;
        return;
    }
    /* a flatten behind the batch, [1, ...] -> [1, N], is a layer of its
     * own (named after the node) unless the value is flat already */
    bool to_flat = (out->rank == 2 && out->dims[0] == 1) || out->rank == 1;
    if (to_flat && strcmp(n->op, "Squeeze")) {
        lay_flatten(o, x, out, 0, n->name);
        return;
    }
    if (unit_view(o, x, out)) return;
    if (to_flat) {
        lay_flatten(o, x, out, 0, n->name);
        return;
    }
    onnx_node_error(o, n,
                    "reshapes [%s] into [%s], which moves elements in "
                    "a way rnc cannot follow",
                    lay_dims_text(o, x), lay_dims_text(o, out));
}

/* The rows of a dense kernel for a flat input held in `l`: ONNX feature f
 * is .rn element row(f). */
int64_t lay_flat_row(const Layout *l, int64_t f) {
    if (l->from.rank != 3) return f;
    int64_t d[3], coord[3];
    for (int j = 2; j >= 0; j--) {
        int64_t size = l->from.d[l->order[j]];
        d[j] = f % size;
        f /= size;
    }
    for (int j = 0; j < 3; j++) coord[l->order[j]] = d[j];
    return (coord[0] * l->from.d[1] + coord[1]) * l->from.d[2] + coord[2];
}

/* A dense layer from x (K features on its last ONNX axis) with kernel
 * rows k(f, u) and an optional bias; result into `out`. */
