/* onnx_fold.c: what the ONNX ops that move or compute on constants give:
 * the shape arithmetic PyTorch exports (Shape, Gather, Unsqueeze, Concat,
 * Slice, Cast, Div, ... on int64) folded to constants here, so that
 * `x.view(x.size(0), -1)` or ShuffleNet's chunk reach onnx_map.c as plain
 * numbers; and the output shapes of the views (Reshape, Flatten,
 * Transpose, Squeeze, Unsqueeze, Concat, Slice) on tensors computed at
 * run time. Also the helpers every shape rule shares (onnx_infer.c).
 *
 * Requires: the node's inputs known (onnx_infer). Changes: the node's
 * outputs (shape, constant) and Attrs; false after reporting. */
#include "onnx.h"

#include <math.h>
#include <string.h>

/* ----------------------------------------------------------- helpers */

OValue *fold_in(const ONode *n, int k) { return k < n->nin ? n->in[k] : NULL; }

void fold_set_shape(OValue *v, int rank, const int64_t *dims, DType dt) {
    if (!v) return;
    v->rank = rank;
    v->dt = dt;
    for (int i = 0; i < rank; i++) v->dims[i] = dims[i];
}

void fold_same_shape(ONode *n) {
    fold_set_shape(n->out[0], n->in[0]->rank, n->in[0]->dims, n->in[0]->dt);
}

bool fold_axis(Onnx *o, ONode *n, int64_t ax, int rank, int *out) {
    if (ax < -rank || ax >= (rank ? rank : 1)) {
        onnx_node_error(o, n, "axis %lld is outside rank %d", (long long)ax,
                        rank);
        return false;
    }
    *out = (int)(ax < 0 ? ax + rank : ax);
    return true;
}

/* A constant input as integers (at most max); false with a message when
 * it is not a constant. */
bool fold_ints(Onnx *o, ONode *n, int k, const char *what, int64_t *out,
               int max, int *count) {
    OValue *v = fold_in(n, k);
    if (!v || !v->c) {
        onnx_node_error(o, n, "%s must be a constant", what);
        return false;
    }
    if (v->c->count > max) {
        onnx_node_error(o, n, "%s has %lld values (at most %d)", what,
                        (long long)v->c->count, max);
        return false;
    }
    for (int64_t i = 0; i < v->c->count; i++) {
        if (v->c->dt == DT_INT64) {
            out[i] = v->c->i[i];
            continue;
        }
        double d = v->c->f[i];
        if (!(d >= -9e18 && d <= 9e18)) {
            onnx_node_error(o, n, "%s holds %g", what, d);
            return false;
        }
        out[i] = (int64_t)d;
    }
    *count = (int)v->c->count;
    return true;
}

/* A constant scalar input (one value), or def when left out. */
bool fold_scalar(Onnx *o, ONode *n, int k, const char *what, double def,
                 double *out, bool *given) {
    OValue *v = fold_in(n, k);
    *out = def;
    if (given) *given = false;
    if (!v) return true;
    if (!v->c || v->c->count != 1) {
        onnx_node_error(o, n, "%s must be a constant of one value", what);
        return false;
    }
    *out = const_get(v->c, 0);
    if (given) *given = true;
    return true;
}

bool fold_need_const(Onnx *o, ONode *n, int k, const char *what) {
    if (fold_in(n, k) && fold_in(n, k)->c) return true;
    onnx_node_error(o, n, "%s must be a constant (an initializer)", what);
    return false;
}

bool fold_need_rank(Onnx *o, ONode *n, int rank) {
    if (n->in[0]->rank == rank) return true;
    onnx_node_error(o, n, "needs a rank-%d input, not rank %d", rank,
                    n->in[0]->rank);
    return false;
}

/* A shape for a tensor computed at run time: every dim at least 1 and
 * the count within ONNX_MAX_ELEMS. */
bool fold_runtime_ok(Onnx *o, ONode *n, int rank, const int64_t *dims) {
    for (int i = 0; i < rank; i++)
        if (dims[i] < 1 || dims[i] > ONNX_MAX_DIM) {
            onnx_node_error(o, n,
                            "an output dimension is %lld (rnc takes 1 "
                            "to 2^24)",
                            (long long)dims[i]);
            return false;
        }
    if (dims_count(rank, dims) < 0) {
        onnx_node_error(o, n, "the output holds over 2^29 values");
        return false;
    }
    return true;
}

bool fold_all_const(const ONode *n) {
    for (int k = 0; k < n->nin; k++)
        if (n->in[k] && !n->in[k]->c) return false;
    return true;
}

/* Row-major strides of dims broadcast against an output of rank r
 * (0 on broadcast axes). */
static void bstrides(int rank, const int64_t *dims, int r, int64_t *st) {
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        int k = i - (r - rank);
        if (k < 0 || dims[k] == 1)
            st[i] = 0;
        else {
            st[i] = s;
            s *= dims[k];
        }
    }
}

/* NumPy broadcasting of two shapes. */
bool fold_broadcast(Onnx *o, ONode *n, const OValue *a, const OValue *b,
                    int *rank, int64_t *dims) {
    int r = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            onnx_node_error(o, n,
                            "shapes do not broadcast (axis %d: %lld and "
                            "%lld)",
                            i, (long long)da, (long long)db);
            return false;
        }
        dims[i] = da == 1 ? db : da;
    }
    *rank = r;
    return true;
}

/* ----------------------------------------------------------- constants */

static bool fold_limit(Onnx *o, ONode *n, int64_t count) {
    if (count >= 0 && count <= ONNX_MAX_FOLD) return true;
    onnx_node_error(o, n, "a constant of over 2^24 values");
    return false;
}

bool fold_constant(Onnx *o, ONode *n) {
    const Onnx__AttributeProto *a = onnx_attr(n, "value");
    OValue *v = n->out[0];
    char err[256];
    if (a && a->type == 4 && a->t) {
        if (!onnx_tensor(o, a->t, &v->c, &v->rank, v->dims, err, sizeof err)) {
            v->rank = -1;
            onnx_node_error(o, n, "value: %s", err);
            return false;
        }
        v->dt = v->c->dt;
        return true;
    }
    if ((a = onnx_attr(n, "value_float")) && a->type == 1) {
        v->c = const_new(o, DT_FLOAT, 1);
        v->c->f[0] = a->f;
    } else if ((a = onnx_attr(n, "value_int")) && a->type == 2) {
        v->c = const_new(o, DT_INT64, 1);
        v->c->i[0] = a->i;
    } else if ((a = onnx_attr(n, "value_floats")) && a->type == 6) {
        v->c = const_new(o, DT_FLOAT, (int64_t)a->n_floats);
        for (size_t i = 0; i < a->n_floats; i++) v->c->f[i] = a->floats[i];
        v->rank = 1;
        v->dims[0] = (int64_t)a->n_floats;
    } else if ((a = onnx_attr(n, "value_ints")) && a->type == 7) {
        v->c = const_new(o, DT_INT64, (int64_t)a->n_ints);
        for (size_t i = 0; i < a->n_ints; i++) v->c->i[i] = a->ints[i];
        v->rank = 1;
        v->dims[0] = (int64_t)a->n_ints;
    } else {
        onnx_node_error(o, n,
                        "has no value rnc reads (value, value_float, "
                        "value_int, value_floats, value_ints)");
        return false;
    }
    if (v->rank < 0) v->rank = 0;
    v->dt = v->c->dt;
    return true;
}

bool fold_identity(Onnx *o, ONode *n) {
    (void)o;
    fold_same_shape(n);
    n->out[0]->c = n->in[0]->c;
    return true;
}

/* Dropout is the identity at inference; a training_mode that says
 * otherwise is refused. */
bool fold_dropout(Onnx *o, ONode *n) {
    double train;
    if (!fold_scalar(o, n, 2, "training_mode", 0, &train, NULL)) return false;
    if (train != 0) {
        onnx_node_error(o, n, "training_mode true (export in eval mode)");
        return false;
    }
    return fold_identity(o, n);
}

bool fold_shape(Onnx *o, ONode *n) {
    int r = n->in[0]->rank;
    int64_t start = attr_int(o, n, "start", 0), end = attr_int(o, n, "end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    if (start < 0) start = 0;
    if (end > r) end = r;
    if (end < start) end = start;
    OValue *v = n->out[0];
    v->c = const_new(o, DT_INT64, end - start);
    for (int64_t i = start; i < end; i++)
        v->c->i[i - start] = n->in[0]->dims[i];
    v->rank = 1;
    v->dims[0] = end - start;
    v->dt = DT_INT64;
    return true;
}

/* Elementwise arithmetic on constants, with broadcasting. */
static double arith(const char *op, double a, double b, bool ints) {
    if (!strcmp(op, "Add")) return a + b;
    if (!strcmp(op, "Sub")) return a - b;
    if (!strcmp(op, "Mul")) return a * b;
    if (!strcmp(op, "Div")) {
        if (!ints) return a / b;
        return b == 0 ? 0 : trunc(a / b);
    }
    if (!strcmp(op, "Pow")) return pow(a, b);
    if (!strcmp(op, "Max")) return a > b ? a : b;
    if (!strcmp(op, "Min")) return a < b ? a : b;
    return 0;
}

static bool fold_arith(Onnx *o, ONode *n, const OValue *a, const OValue *b,
                       OValue *out) {
    int r;
    int64_t dims[ONNX_MAX_RANK], sa[ONNX_MAX_RANK], sb[ONNX_MAX_RANK];
    if (!fold_broadcast(o, n, a, b, &r, dims)) return false;
    int64_t count = dims_count(r, dims);
    if (!fold_limit(o, n, count)) return false;
    bool ints = a->c->dt == DT_INT64 && b->c->dt == DT_INT64;
    Const *c = const_new(o, ints ? DT_INT64 : DT_FLOAT, count);
    bstrides(a->rank, a->dims, r, sa);
    bstrides(b->rank, b->dims, r, sb);
    for (int64_t i = 0; i < count; i++) {
        int64_t rest = i, ia = 0, ib = 0;
        for (int d = r - 1; d >= 0; d--) {
            int64_t x = rest % dims[d];
            rest /= dims[d];
            ia += x * sa[d];
            ib += x * sb[d];
        }
        double v = arith(n->op, const_get(a->c, ia), const_get(b->c, ib), ints);
        if (ints)
            c->i[i] = v >= -9e18 && v <= 9e18 ? (int64_t)v : 0;
        else
            c->f[i] = (float)v;
    }
    out->c = c;
    fold_set_shape(out, r, dims, c->dt);
    return true;
}

bool fold_binary(Onnx *o, ONode *n) {
    if (!strcmp(n->op, "Max") || !strcmp(n->op, "Min")) {
        if (n->nin == 1) return fold_identity(o, n);
        if (n->nin != 2) {
            onnx_node_error(o, n, "takes two inputs here, not %d", n->nin);
            return false;
        }
    }
    OValue *a = n->in[0], *b = n->in[1];
    if (!b) {
        onnx_node_error(o, n, "needs two inputs");
        return false;
    }
    if (a->c && b->c) return fold_arith(o, n, a, b, n->out[0]);
    int r;
    int64_t dims[ONNX_MAX_RANK];
    if (!fold_broadcast(o, n, a, b, &r, dims) ||
        !fold_runtime_ok(o, n, r, dims))
        return false;
    fold_set_shape(n->out[0], r, dims, DT_FLOAT);
    return true;
}

bool fold_cast(Onnx *o, ONode *n) {
    int64_t to = attr_int(o, n, "to", 0);
    bool to_float = to == 1 || to == 10 || to == 11;
    bool to_int = to == 2 || to == 3 || to == 4 || to == 5 || to == 6 ||
                  to == 7 || to == 9 || to == 12 || to == 13;
    if (!to_float && !to_int) {
        onnx_node_error(o, n, "a cast to data type %lld", (long long)to);
        return false;
    }
    OValue *x = n->in[0], *v = n->out[0];
    if (!x->c) {
        if (!to_float || x->dt != DT_FLOAT) {
            onnx_node_error(o, n,
                            "casts a tensor computed at run time to "
                            "integers");
            return false;
        }
        fold_same_shape(n);
        return true;
    }
    v->c = const_new(o, to_float ? DT_FLOAT : DT_INT64, x->c->count);
    for (int64_t i = 0; i < x->c->count; i++) {
        double d = const_get(x->c, i);
        if (to_float)
            v->c->f[i] = (float)d;
        else if (to == 9)
            v->c->i[i] = d != 0;
        else
            v->c->i[i] = d >= -9e18 && d <= 9e18 ? (int64_t)d : 0;
    }
    fold_set_shape(v, x->rank, x->dims, v->c->dt);
    return true;
}

bool fold_gather(Onnx *o, ONode *n) {
    OValue *x = n->in[0], *idx = n->in[1];
    int axis;
    if (!fold_axis(o, n, attr_int(o, n, "axis", 0), x->rank, &axis))
        return false;
    if (!x->c || !idx->c) {
        onnx_node_error(o, n, "gathers from a tensor computed at run time");
        return false;
    }
    if (x->rank == 0 || x->rank + idx->rank - 1 > ONNX_MAX_RANK) {
        onnx_node_error(o, n, "ranks %d and %d", x->rank, idx->rank);
        return false;
    }
    int r = 0;
    int64_t dims[ONNX_MAX_RANK];
    for (int i = 0; i < axis; i++) dims[r++] = x->dims[i];
    for (int i = 0; i < idx->rank; i++) dims[r++] = idx->dims[i];
    for (int i = axis + 1; i < x->rank; i++) dims[r++] = x->dims[i];
    int64_t count = dims_count(r, dims);
    if (!fold_limit(o, n, count)) return false;
    int64_t outer = dims_count(axis, x->dims), inner = 1, len = x->dims[axis];
    for (int i = axis + 1; i < x->rank; i++) inner *= x->dims[i];
    OValue *v = n->out[0];
    v->c = const_new(o, x->c->dt, count);
    int64_t at = 0;
    for (int64_t a = 0; a < outer; a++)
        for (int64_t j = 0; j < idx->c->count; j++) {
            int64_t k = (int64_t)const_get(idx->c, j);
            if (k < 0) k += len;
            if (k < 0 || k >= len) {
                onnx_node_error(o, n, "index %lld is outside %lld",
                                (long long)const_get(idx->c, j),
                                (long long)len);
                return false;
            }
            for (int64_t b = 0; b < inner; b++, at++) {
                int64_t src = (a * len + k) * inner + b;
                if (x->c->dt == DT_FLOAT)
                    v->c->f[at] = x->c->f[src];
                else
                    v->c->i[at] = x->c->i[src];
            }
        }
    fold_set_shape(v, r, dims, x->c->dt);
    return true;
}

/* Axes of Squeeze/Unsqueeze/Reduce*: the attribute before opset 13 (18
 * for the reductions), an input from then on. Sorted, normalized to rank
 * r, unique. naxes -1 when none are given. */
bool fold_axes(Onnx *o, ONode *n, int from_input_opset, int k, int r, int *axes,
               int *naxes) {
    int64_t raw[ONNX_MAX_RANK];
    int cnt = -1;
    if (o->opset >= from_input_opset) {
        if (fold_in(n, k) &&
            !fold_ints(o, n, k, "axes", raw, ONNX_MAX_RANK, &cnt))
            return false;
    } else {
        const Onnx__AttributeProto *a = onnx_attr(n, "axes");
        if (a && (cnt = attr_ints(o, n, "axes", raw, ONNX_MAX_RANK)) < 0)
            return false;
    }
    *naxes = cnt;
    for (int i = 0; i < cnt; i++) {
        if (!fold_axis(o, n, raw[i], r, &axes[i])) return false;
        for (int j = 0; j < i; j++)
            if (axes[j] == axes[i]) {
                onnx_node_error(o, n, "axis %d is given twice", axes[i]);
                return false;
            }
    }
    for (int i = 1; i < cnt; i++) /* insertion sort */
        for (int j = i; j > 0 && axes[j - 1] > axes[j]; j--) {
            int t = axes[j];
            axes[j] = axes[j - 1];
            axes[j - 1] = t;
        }
    return true;
}

/* Output shapes that only move data (Reshape, Flatten, Squeeze,
 * Unsqueeze, Transpose): a constant input moves with them. */
static bool finish_view(Onnx *o, ONode *n, int r, const int64_t *dims,
                        const int *perm) {
    OValue *x = n->in[0], *v = n->out[0];
    if (!x->c) {
        if (!fold_runtime_ok(o, n, r, dims)) return false;
        fold_set_shape(v, r, dims, DT_FLOAT);
        return true;
    }
    fold_set_shape(v, r, dims, x->c->dt);
    if (!perm) { /* same order of elements */
        v->c = x->c;
        return true;
    }
    Const *c = const_new(o, x->c->dt, x->c->count);
    int64_t st[ONNX_MAX_RANK], s = 1;
    for (int i = x->rank - 1; i >= 0; i--) {
        st[i] = s;
        s *= x->dims[i];
    }
    for (int64_t i = 0; i < c->count; i++) {
        int64_t rest = i, src = 0;
        for (int d = r - 1; d >= 0; d--) {
            src += (rest % dims[d]) * st[perm[d]];
            rest /= dims[d];
        }
        if (c->dt == DT_FLOAT)
            c->f[i] = x->c->f[src];
        else
            c->i[i] = x->c->i[src];
    }
    v->c = c;
    return true;
}

bool fold_unsqueeze(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    /* the axes index the output, of rank r + naxes */
    int64_t raw[ONNX_MAX_RANK];
    int cnt = 0;
    if (o->opset >= 13) {
        if (!fold_ints(o, n, 1, "axes", raw, ONNX_MAX_RANK, &cnt)) return false;
    } else if ((cnt = attr_ints(o, n, "axes", raw, ONNX_MAX_RANK)) < 0) {
        onnx_node_error(o, n, "needs axes");
        return false;
    }
    int r = x->rank + cnt;
    if (r > ONNX_MAX_RANK) {
        onnx_node_error(o, n, "the output has rank %d (at most %d)", r,
                        ONNX_MAX_RANK);
        return false;
    }
    bool is_new[ONNX_MAX_RANK] = {false};
    for (int i = 0; i < cnt; i++) {
        int a;
        if (!fold_axis(o, n, raw[i], r, &a)) return false;
        if (is_new[a]) {
            onnx_node_error(o, n, "axis %d is given twice", a);
            return false;
        }
        is_new[a] = true;
    }
    int64_t dims[ONNX_MAX_RANK];
    for (int i = 0, k = 0; i < r; i++) dims[i] = is_new[i] ? 1 : x->dims[k++];
    return finish_view(o, n, r, dims, NULL);
}

bool fold_squeeze(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axes[ONNX_MAX_RANK], na;
    if (!fold_axes(o, n, 13, 1, x->rank, axes, &na)) return false;
    bool drop[ONNX_MAX_RANK] = {false};
    for (int i = 0; i < x->rank; i++) drop[i] = na < 0 && x->dims[i] == 1;
    for (int i = 0; i < na; i++) {
        if (x->dims[axes[i]] != 1) {
            onnx_node_error(o, n, "squeezes axis %d of size %lld", axes[i],
                            (long long)x->dims[axes[i]]);
            return false;
        }
        drop[axes[i]] = true;
    }
    int64_t dims[ONNX_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++)
        if (!drop[i]) dims[r++] = x->dims[i];
    return finish_view(o, n, r, dims, NULL);
}

bool fold_reshape(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int64_t want[ONNX_MAX_RANK];
    int r;
    if (!fold_ints(o, n, 1, "the shape", want, ONNX_MAX_RANK, &r)) return false;
    bool allowzero = attr_int(o, n, "allowzero", 0) != 0;
    int64_t known = 1, total = dims_count(x->rank, x->dims);
    int infer = -1;
    for (int i = 0; i < r; i++) {
        if (want[i] == 0 && !allowzero) {
            if (i >= x->rank) {
                onnx_node_error(o, n, "copies axis %d of a rank-%d input", i,
                                x->rank);
                return false;
            }
            want[i] = x->dims[i];
        }
        if (want[i] == -1 && infer < 0) {
            infer = i;
            continue;
        }
        if (want[i] < 0 || (want[i] && known > ONNX_MAX_ELEMS / want[i])) {
            onnx_node_error(o, n, "a bad shape (%lld)", (long long)want[i]);
            return false;
        }
        known *= want[i];
    }
    if (infer >= 0) {
        if (known == 0 || total % known) {
            onnx_node_error(o, n, "cannot infer the -1 of the shape");
            return false;
        }
        want[infer] = total / known;
    } else if (known != total) {
        onnx_node_error(o, n, "reshapes %lld values into %lld",
                        (long long)total, (long long)known);
        return false;
    }
    return finish_view(o, n, r, want, NULL);
}

bool fold_flatten(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axis;
    if (!fold_axis(o, n, attr_int(o, n, "axis", 1), x->rank + 1, &axis))
        return false;
    int64_t dims[2] = {dims_count(axis, x->dims), 1};
    for (int i = axis; i < x->rank; i++) dims[1] *= x->dims[i];
    return finish_view(o, n, 2, dims, NULL);
}

bool fold_transpose(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int64_t p[ONNX_MAX_RANK];
    int cnt = attr_ints(o, n, "perm", p, ONNX_MAX_RANK);
    bool seen[ONNX_MAX_RANK] = {false};
    if (cnt < 0) { /* reverses the axes */
        cnt = x->rank;
        for (int i = 0; i < cnt; i++) p[i] = cnt - 1 - i;
    }
    if (cnt != x->rank) {
        onnx_node_error(o, n, "perm has %d axes for rank %d", cnt, x->rank);
        return false;
    }
    int64_t dims[ONNX_MAX_RANK];
    for (int i = 0; i < cnt; i++) {
        if (p[i] < 0 || p[i] >= cnt || seen[p[i]]) {
            onnx_node_error(o, n, "perm is not a permutation");
            return false;
        }
        seen[p[i]] = true;
        n->a.perm[i] = (int)p[i];
        dims[i] = x->dims[p[i]];
    }
    return finish_view(o, n, cnt, dims, n->a.perm);
}

bool fold_concat(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axis;
    if (!fold_axis(o, n, attr_int(o, n, "axis", 0), x->rank, &axis))
        return false;
    n->a.axis = axis;
    int64_t dims[ONNX_MAX_RANK];
    for (int i = 0; i < x->rank; i++) dims[i] = x->dims[i];
    dims[axis] = 0;
    bool consts = true;
    for (int k = 0; k < n->nin; k++) {
        OValue *v = n->in[k];
        if (!v) {
            onnx_node_error(o, n, "input %d is left out", k);
            return false;
        }
        consts = consts && v->c;
        bool fits = v->rank == x->rank;
        for (int i = 0; fits && i < x->rank; i++)
            fits = i == axis || v->dims[i] == x->dims[i];
        if (!fits || v->dims[axis] > ONNX_MAX_ELEMS) {
            onnx_node_error(o, n, "input %d does not fit the others", k);
            return false;
        }
        dims[axis] += v->dims[axis];
    }
    int64_t count = dims_count(x->rank, dims);
    if (!consts) {
        if (!fold_runtime_ok(o, n, x->rank, dims)) return false;
        fold_set_shape(n->out[0], x->rank, dims, DT_FLOAT);
        return true;
    }
    if (!fold_limit(o, n, count)) return false;
    DType dt = DT_INT64;
    for (int k = 0; k < n->nin; k++)
        if (n->in[k]->c->dt == DT_FLOAT) dt = DT_FLOAT;
    Const *c = const_new(o, dt, count);
    int64_t outer = dims_count(axis, x->dims), at = 0;
    for (int64_t a = 0; a < outer; a++)
        for (int k = 0; k < n->nin; k++) {
            OValue *v = n->in[k];
            int64_t len = v->c->count / (outer ? outer : 1);
            for (int64_t j = 0; j < len; j++, at++) {
                double d = const_get(v->c, a * len + j);
                if (dt == DT_FLOAT)
                    c->f[at] = (float)d;
                else
                    c->i[at] = (int64_t)d;
            }
        }
    n->out[0]->c = c;
    fold_set_shape(n->out[0], x->rank, dims, dt);
    return true;
}

/* Slice: starts, ends, axes, steps as inputs. A constant input is folded;
 * a runtime one may be cut on one axis with step 1 (a.axis, start, stop). */
bool fold_slice(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int64_t st[ONNX_MAX_RANK], en[ONNX_MAX_RANK], ax[ONNX_MAX_RANK],
        sp[ONNX_MAX_RANK];
    int ns, ne, na = -1, np = -1;
    if (!fold_ints(o, n, 1, "starts", st, ONNX_MAX_RANK, &ns) ||
        !fold_ints(o, n, 2, "ends", en, ONNX_MAX_RANK, &ne) ||
        (fold_in(n, 3) &&
         !fold_ints(o, n, 3, "axes", ax, ONNX_MAX_RANK, &na)) ||
        (fold_in(n, 4) && !fold_ints(o, n, 4, "steps", sp, ONNX_MAX_RANK, &np)))
        return false;
    if (ne != ns || (na >= 0 && na != ns) || (np >= 0 && np != ns)) {
        onnx_node_error(o, n, "starts, ends, axes and steps differ in length");
        return false;
    }
    /* per axis: first index, step, length (ONNX's clamping rules) */
    int64_t b[ONNX_MAX_RANK], step[ONNX_MAX_RANK], dims[ONNX_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        b[i] = 0;
        step[i] = 1;
        dims[i] = x->dims[i];
    }
    bool seen[ONNX_MAX_RANK] = {false};
    int cut = -1, ncut = 0;
    for (int i = 0; i < ns; i++) {
        int a;
        if (!fold_axis(o, n, na >= 0 ? ax[i] : i, x->rank, &a)) return false;
        if (seen[a]) {
            onnx_node_error(o, n, "axis %d is sliced twice", a);
            return false;
        }
        seen[a] = true;
        int64_t d = x->dims[a], sp_ = np >= 0 ? sp[i] : 1;
        int64_t lo = st[i] < 0 ? st[i] + d : st[i];
        int64_t hi = en[i] < 0 ? en[i] + d : en[i];
        if (sp_ == 0 || sp_ < -ONNX_MAX_ELEMS || sp_ > ONNX_MAX_ELEMS) {
            onnx_node_error(o, n, "a step of %lld", (long long)sp_);
            return false;
        }
        if (sp_ > 0) {
            lo = lo < 0 ? 0 : lo > d ? d : lo;
            hi = hi < 0 ? 0 : hi > d ? d : hi;
            dims[a] = hi > lo ? (hi - lo + sp_ - 1) / sp_ : 0;
        } else {
            lo = lo < 0 ? 0 : lo > d - 1 ? d - 1 : lo;
            hi = hi < -1 ? -1 : hi > d - 1 ? d - 1 : hi;
            dims[a] = lo > hi ? (lo - hi - sp_ - 1) / -sp_ : 0;
        }
        b[a] = lo;
        step[a] = sp_;
        if (dims[a] != d || sp_ != 1) {
            cut = a;
            ncut++;
        }
    }
    if (!x->c) {
        if (ncut > 1 || (cut >= 0 && step[cut] != 1)) {
            onnx_node_error(o, n,
                            "slices %s (rnc slices one axis with step "
                            "1)",
                            ncut > 1 ? "several axes" : "with a step");
            return false;
        }
        n->a.axis = cut;
        n->a.start = cut >= 0 ? b[cut] : 0;
        n->a.stop = cut >= 0 ? b[cut] + dims[cut] : 0;
        if (!fold_runtime_ok(o, n, x->rank, dims)) return false;
        fold_set_shape(n->out[0], x->rank, dims, DT_FLOAT);
        return true;
    }
    int64_t count = dims_count(x->rank, dims);
    OValue *v = n->out[0];
    v->c = const_new(o, x->c->dt, count);
    int64_t stride[ONNX_MAX_RANK], m = 1;
    for (int i = x->rank - 1; i >= 0; i--) {
        stride[i] = m;
        m *= x->dims[i];
    }
    for (int64_t i = 0; i < count; i++) {
        int64_t rest = i, src = 0;
        for (int d = x->rank - 1; d >= 0; d--) {
            src += (b[d] + rest % dims[d] * step[d]) * stride[d];
            rest /= dims[d];
        }
        if (x->c->dt == DT_FLOAT)
            v->c->f[i] = x->c->f[src];
        else
            v->c->i[i] = x->c->i[src];
    }
    fold_set_shape(v, x->rank, dims, x->c->dt);
    return true;
}

bool fold_constant_of_shape(Onnx *o, ONode *n) {
    int64_t dims[ONNX_MAX_RANK];
    int r;
    if (!fold_ints(o, n, 0, "the shape", dims, ONNX_MAX_RANK, &r)) return false;
    int64_t count = dims_count(r, dims);
    if (!fold_limit(o, n, count)) return false;
    const Onnx__AttributeProto *a = onnx_attr(n, "value");
    Const *val = NULL;
    int vr;
    int64_t vd[ONNX_MAX_RANK];
    char err[256];
    if (a && (a->type != 4 || !a->t ||
              !onnx_tensor(o, a->t, &val, &vr, vd, err, sizeof err) ||
              val->count != 1)) {
        onnx_node_error(o, n, "value must be a tensor of one value");
        return false;
    }
    Const *c = const_new(o, val ? val->dt : DT_FLOAT, count);
    for (int64_t i = 0; i < count; i++) {
        if (c->dt == DT_FLOAT)
            c->f[i] = val ? val->f[0] : 0;
        else
            c->i[i] = val->i[0];
    }
    n->out[0]->c = c;
    fold_set_shape(n->out[0], r, dims, c->dt);
    return true;
}

bool fold_range(Onnx *o, ONode *n) {
    double v[3];
    static const char *const what[3] = {"start", "limit", "delta"};
    for (int k = 0; k < 3; k++)
        if (!fold_scalar(o, n, k, what[k], 0, &v[k], NULL)) return false;
    if (v[2] == 0 || !isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2])) {
        onnx_node_error(o, n, "a bad range");
        return false;
    }
    double len = ceil((v[1] - v[0]) / v[2]);
    if (len < 0) len = 0;
    if (!fold_limit(o, n, len > 1e18 ? -1 : (int64_t)len)) return false;
    bool ints = n->in[0]->c->dt == DT_INT64;
    Const *c = const_new(o, ints ? DT_INT64 : DT_FLOAT, (int64_t)len);
    for (int64_t i = 0; i < c->count; i++) {
        double x = v[0] + (double)i * v[2];
        if (ints)
            c->i[i] = (int64_t)x;
        else
            c->f[i] = (float)x;
    }
    n->out[0]->c = c;
    int64_t d = c->count;
    fold_set_shape(n->out[0], 1, &d, c->dt);
    return true;
}
