/* onnx_fold.c: every live node's output shapes, in ONNX's own terms (NCHW),
 * with its attributes checked and decoded into ONode.a, and constants
 * folded: the shape arithmetic PyTorch exports (Shape, Gather, Unsqueeze,
 * Concat, Slice, Cast, Div, ... on int64) ends as constants here, so that
 * `x.view(x.size(0), -1)` or ShuffleNet's chunk reach onnx_map.c as plain
 * numbers.
 *
 * Requires: the graph built and sorted (import_onnx.c). Changes: the
 * shapes and constants of the values, the nodes' Attrs. A node that cannot
 * be taken is reported and its outputs left unknown (rank -1); nodes that
 * read an unknown value are skipped without a second message. */
#include "onnx.h"

#include <math.h>
#include <string.h>

typedef bool (*InferFn)(Onnx *o, ONode *n);

typedef struct OpRule {
    const char *op;
    int min_in, max_in;   /* inputs given (the first min_in required) */
    int max_out;          /* outputs that may be used */
    const char *attrs;    /* the attributes understood, space separated */
    InferFn infer;
} OpRule;

/* ----------------------------------------------------------- helpers */

static OValue *in(const ONode *n, int k) { return k < n->nin ? n->in[k] : NULL; }

static void set_shape(OValue *v, int rank, const int64_t *dims, DType dt) {
    if (!v) return;
    v->rank = rank;
    v->dt = dt;
    for (int i = 0; i < rank; i++) v->dims[i] = dims[i];
}

static void same_shape(ONode *n) {
    set_shape(n->out[0], n->in[0]->rank, n->in[0]->dims, n->in[0]->dt);
}

static bool norm_axis(Onnx *o, ONode *n, int64_t ax, int rank, int *out) {
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
static bool const_ints(Onnx *o, ONode *n, int k, const char *what,
                       int64_t *out, int max, int *count) {
    OValue *v = in(n, k);
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
static bool const_scalar(Onnx *o, ONode *n, int k, const char *what,
                         double def, double *out, bool *given) {
    OValue *v = in(n, k);
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

static bool need_const(Onnx *o, ONode *n, int k, const char *what) {
    if (in(n, k) && in(n, k)->c) return true;
    onnx_node_error(o, n, "%s must be a constant (an initializer)", what);
    return false;
}

static bool need_runtime_rank(Onnx *o, ONode *n, int rank) {
    if (n->in[0]->rank == rank) return true;
    onnx_node_error(o, n, "needs a rank-%d input, not rank %d", rank,
                    n->in[0]->rank);
    return false;
}

/* A shape for a tensor computed at run time: every dim at least 1 and
 * the count within ONNX_MAX_ELEMS. */
static bool runtime_ok(Onnx *o, ONode *n, int rank, const int64_t *dims) {
    for (int i = 0; i < rank; i++)
        if (dims[i] < 1) {
            onnx_node_error(o, n, "an output dimension is %lld",
                            (long long)dims[i]);
            return false;
        }
    if (dims_count(rank, dims) < 0) {
        onnx_node_error(o, n, "the output holds over 2^29 values");
        return false;
    }
    return true;
}

static bool all_const(const ONode *n) {
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
        if (k < 0 || dims[k] == 1) st[i] = 0;
        else {
            st[i] = s;
            s *= dims[k];
        }
    }
}

/* NumPy broadcasting of two shapes. */
static bool broadcast(Onnx *o, ONode *n, const OValue *a, const OValue *b,
                      int *rank, int64_t *dims) {
    int r = a->rank > b->rank ? a->rank : b->rank;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            onnx_node_error(o, n, "shapes do not broadcast (axis %d: %lld and "
                            "%lld)", i, (long long)da, (long long)db);
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

static bool infer_constant(Onnx *o, ONode *n) {
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
        onnx_node_error(o, n, "has no value rnc reads (value, value_float, "
                        "value_int, value_floats, value_ints)");
        return false;
    }
    if (v->rank < 0) v->rank = 0;
    v->dt = v->c->dt;
    return true;
}

static bool infer_identity(Onnx *o, ONode *n) {
    (void)o;
    same_shape(n);
    n->out[0]->c = n->in[0]->c;
    return true;
}

static bool infer_shape(Onnx *o, ONode *n) {
    int r = n->in[0]->rank;
    int64_t start = attr_int(o, n, "start", 0), end = attr_int(o, n, "end", r);
    if (start < 0) start += r;
    if (end < 0) end += r;
    if (start < 0) start = 0;
    if (end > r) end = r;
    if (end < start) end = start;
    OValue *v = n->out[0];
    v->c = const_new(o, DT_INT64, end - start);
    for (int64_t i = start; i < end; i++) v->c->i[i - start] = n->in[0]->dims[i];
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

static bool fold_binary(Onnx *o, ONode *n, const OValue *a, const OValue *b,
                        OValue *out) {
    int r;
    int64_t dims[ONNX_MAX_RANK], sa[ONNX_MAX_RANK], sb[ONNX_MAX_RANK];
    if (!broadcast(o, n, a, b, &r, dims)) return false;
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
        if (ints) c->i[i] = v >= -9e18 && v <= 9e18 ? (int64_t)v : 0;
        else c->f[i] = (float)v;
    }
    out->c = c;
    set_shape(out, r, dims, c->dt);
    return true;
}

static bool infer_binary(Onnx *o, ONode *n) {
    if (!strcmp(n->op, "Max") || !strcmp(n->op, "Min")) {
        if (n->nin == 1) return infer_identity(o, n);
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
    if (a->c && b->c) return fold_binary(o, n, a, b, n->out[0]);
    int r;
    int64_t dims[ONNX_MAX_RANK];
    if (!broadcast(o, n, a, b, &r, dims) || !runtime_ok(o, n, r, dims))
        return false;
    set_shape(n->out[0], r, dims, DT_FLOAT);
    return true;
}

static bool infer_cast(Onnx *o, ONode *n) {
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
            onnx_node_error(o, n, "casts a tensor computed at run time to "
                            "integers");
            return false;
        }
        same_shape(n);
        return true;
    }
    v->c = const_new(o, to_float ? DT_FLOAT : DT_INT64, x->c->count);
    for (int64_t i = 0; i < x->c->count; i++) {
        double d = const_get(x->c, i);
        if (to_float) v->c->f[i] = (float)d;
        else if (to == 9) v->c->i[i] = d != 0;
        else v->c->i[i] = d >= -9e18 && d <= 9e18 ? (int64_t)d : 0;
    }
    set_shape(v, x->rank, x->dims, v->c->dt);
    return true;
}

static bool infer_gather(Onnx *o, ONode *n) {
    OValue *x = n->in[0], *idx = n->in[1];
    int axis;
    if (!norm_axis(o, n, attr_int(o, n, "axis", 0), x->rank, &axis)) return false;
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
                                (long long)const_get(idx->c, j), (long long)len);
                return false;
            }
            for (int64_t b = 0; b < inner; b++, at++) {
                int64_t src = (a * len + k) * inner + b;
                if (x->c->dt == DT_FLOAT) v->c->f[at] = x->c->f[src];
                else v->c->i[at] = x->c->i[src];
            }
        }
    set_shape(v, r, dims, x->c->dt);
    return true;
}

/* Axes of Squeeze/Unsqueeze/Reduce*: the attribute before opset 13 (18
 * for the reductions), an input from then on. Sorted, normalized to rank
 * r, unique. naxes -1 when none are given. */
static bool get_axes(Onnx *o, ONode *n, int from_input_opset, int k, int r,
                     int *axes, int *naxes) {
    int64_t raw[ONNX_MAX_RANK];
    int cnt = -1;
    if (o->opset >= from_input_opset) {
        if (in(n, k) && !const_ints(o, n, k, "axes", raw, ONNX_MAX_RANK, &cnt))
            return false;
    } else {
        const Onnx__AttributeProto *a = onnx_attr(n, "axes");
        if (a && (cnt = attr_ints(o, n, "axes", raw, ONNX_MAX_RANK)) < 0)
            return false;
    }
    *naxes = cnt;
    for (int i = 0; i < cnt; i++) {
        if (!norm_axis(o, n, raw[i], r, &axes[i])) return false;
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
        if (!runtime_ok(o, n, r, dims)) return false;
        set_shape(v, r, dims, DT_FLOAT);
        return true;
    }
    set_shape(v, r, dims, x->c->dt);
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
        if (c->dt == DT_FLOAT) c->f[i] = x->c->f[src];
        else c->i[i] = x->c->i[src];
    }
    v->c = c;
    return true;
}

static bool infer_unsqueeze(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    /* the axes index the output, of rank r + naxes */
    int64_t raw[ONNX_MAX_RANK];
    int cnt = 0;
    if (o->opset >= 13) {
        if (!const_ints(o, n, 1, "axes", raw, ONNX_MAX_RANK, &cnt)) return false;
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
        if (!norm_axis(o, n, raw[i], r, &a)) return false;
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

static bool infer_squeeze(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axes[ONNX_MAX_RANK], na;
    if (!get_axes(o, n, 13, 1, x->rank, axes, &na)) return false;
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

static bool infer_reshape(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int64_t want[ONNX_MAX_RANK];
    int r;
    if (!const_ints(o, n, 1, "the shape", want, ONNX_MAX_RANK, &r)) return false;
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

static bool infer_flatten(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axis;
    if (!norm_axis(o, n, attr_int(o, n, "axis", 1), x->rank + 1, &axis))
        return false;
    int64_t dims[2] = {dims_count(axis, x->dims), 1};
    for (int i = axis; i < x->rank; i++) dims[1] *= x->dims[i];
    return finish_view(o, n, 2, dims, NULL);
}

static bool infer_transpose(Onnx *o, ONode *n) {
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

static bool infer_concat(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axis;
    if (!norm_axis(o, n, attr_int(o, n, "axis", 0), x->rank, &axis))
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
        if (!runtime_ok(o, n, x->rank, dims)) return false;
        set_shape(n->out[0], x->rank, dims, DT_FLOAT);
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
                if (dt == DT_FLOAT) c->f[at] = (float)d;
                else c->i[at] = (int64_t)d;
            }
        }
    n->out[0]->c = c;
    set_shape(n->out[0], x->rank, dims, dt);
    return true;
}

/* Slice: starts, ends, axes, steps as inputs. A constant input is folded;
 * a runtime one may be cut on one axis with step 1 (a.axis, start, stop). */
static bool infer_slice(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int64_t st[ONNX_MAX_RANK], en[ONNX_MAX_RANK], ax[ONNX_MAX_RANK],
        sp[ONNX_MAX_RANK];
    int ns, ne, na = -1, np = -1;
    if (!const_ints(o, n, 1, "starts", st, ONNX_MAX_RANK, &ns) ||
        !const_ints(o, n, 2, "ends", en, ONNX_MAX_RANK, &ne) ||
        (in(n, 3) && !const_ints(o, n, 3, "axes", ax, ONNX_MAX_RANK, &na)) ||
        (in(n, 4) && !const_ints(o, n, 4, "steps", sp, ONNX_MAX_RANK, &np)))
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
        if (!norm_axis(o, n, na >= 0 ? ax[i] : i, x->rank, &a)) return false;
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
            onnx_node_error(o, n, "slices %s (rnc slices one axis with step "
                            "1)", ncut > 1 ? "several axes" : "with a step");
            return false;
        }
        n->a.axis = cut;
        n->a.start = cut >= 0 ? b[cut] : 0;
        n->a.stop = cut >= 0 ? b[cut] + dims[cut] : 0;
        if (!runtime_ok(o, n, x->rank, dims)) return false;
        set_shape(n->out[0], x->rank, dims, DT_FLOAT);
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
        if (x->c->dt == DT_FLOAT) v->c->f[i] = x->c->f[src];
        else v->c->i[i] = x->c->i[src];
    }
    set_shape(v, x->rank, dims, x->c->dt);
    return true;
}

static bool infer_constant_of_shape(Onnx *o, ONode *n) {
    int64_t dims[ONNX_MAX_RANK];
    int r;
    if (!const_ints(o, n, 0, "the shape", dims, ONNX_MAX_RANK, &r)) return false;
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
        if (c->dt == DT_FLOAT) c->f[i] = val ? val->f[0] : 0;
        else c->i[i] = val->i[0];
    }
    n->out[0]->c = c;
    set_shape(n->out[0], r, dims, c->dt);
    return true;
}

static bool infer_range(Onnx *o, ONode *n) {
    double v[3];
    static const char *const what[3] = {"start", "limit", "delta"};
    for (int k = 0; k < 3; k++)
        if (!const_scalar(o, n, k, what[k], 0, &v[k], NULL)) return false;
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
        if (ints) c->i[i] = (int64_t)x;
        else c->f[i] = (float)x;
    }
    n->out[0]->c = c;
    int64_t d = c->count;
    set_shape(n->out[0], 1, &d, c->dt);
    return true;
}

/* ------------------------------------------------------------ layers */

/* kernel_shape, strides, dilations, pads and auto_pad of a window over
 * the input's H, W (ONNX pads [t, l, b, r] stored as t, b, l, r); the
 * output H, W into out. */
static bool window(Onnx *o, ONode *n, const int64_t *hw,
                   const int64_t *kernel, bool ceil_ok, int64_t *out) {
    Attrs *a = &n->a;
    int64_t k[2], s[2] = {1, 1}, d[2] = {1, 1}, p[4] = {0, 0, 0, 0};
    int cnt = attr_ints(o, n, "kernel_shape", k, 2);
    if (kernel) {
        if (cnt >= 0 && (cnt != 2 || k[0] != kernel[0] || k[1] != kernel[1])) {
            onnx_node_error(o, n, "kernel_shape disagrees with the weights");
            return false;
        }
        k[0] = kernel[0];
        k[1] = kernel[1];
    } else if (cnt != 2) {
        onnx_node_error(o, n, "needs a 2-D kernel_shape");
        return false;
    }
    if ((onnx_attr(n, "strides") && attr_ints(o, n, "strides", s, 2) != 2) ||
        (onnx_attr(n, "dilations") && attr_ints(o, n, "dilations", d, 2) != 2) ||
        (onnx_attr(n, "pads") && attr_ints(o, n, "pads", p, 4) != 4)) {
        onnx_node_error(o, n, "strides, dilations and pads must be 2-D");
        return false;
    }
    for (int i = 0; i < 2; i++)
        if (k[i] < 1 || s[i] < 1 || d[i] < 1 || k[i] > ONNX_MAX_SMALL ||
            s[i] > ONNX_MAX_SMALL || d[i] > ONNX_MAX_SMALL) {
            onnx_node_error(o, n, "kernel, strides or dilations out of range");
            return false;
        }
    for (int i = 0; i < 4; i++)
        if (p[i] < 0 || p[i] > ONNX_MAX_SMALL) {
            onnx_node_error(o, n, "pads out of range");
            return false;
        }
    const char *ap = attr_str(o, n, "auto_pad", "NOTSET");
    for (int i = 0; i < 2; i++) {
        int64_t ek = (k[i] - 1) * d[i] + 1, lo = p[i], hi = p[i + 2];
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            int64_t total = ((hw[i] + s[i] - 1) / s[i] - 1) * s[i] + ek - hw[i];
            if (total < 0) total = 0;
            lo = ap[5] == 'U' ? total / 2 : total - total / 2;
            hi = total - lo;
        } else if (!strcmp(ap, "VALID")) {
            lo = hi = 0;
        } else if (strcmp(ap, "NOTSET")) {
            onnx_node_error(o, n, "auto_pad %s", ap);
            return false;
        }
        int64_t span = hw[i] + lo + hi - ek;
        if (span < 0) {
            onnx_node_error(o, n, "the kernel is larger than the padded input");
            return false;
        }
        out[i] = span / s[i] + 1;
        if (ceil_ok && a->ceil) {
            out[i] = (span + s[i] - 1) / s[i] + 1;
            /* PyTorch's rule: the last window starts inside the input or
             * its top/left padding */
            if ((out[i] - 1) * s[i] >= hw[i] + lo) out[i]--;
        }
        a->k[i] = (int)k[i];
        a->s[i] = (int)s[i];
        a->d[i] = (int)d[i];
        a->pads[2 * i] = (int)lo;
        a->pads[2 * i + 1] = (int)hi;
    }
    return true;
}

static bool infer_conv(Onnx *o, ONode *n) {
    if (!need_runtime_rank(o, n, 4) || !need_const(o, n, 1, "the weight"))
        return false;
    OValue *x = n->in[0], *w = n->in[1], *b = in(n, 2);
    bool transpose = !strcmp(n->op, "ConvTranspose");
    int64_t g = attr_int(o, n, "group", 1);
    n->a.group = g;
    if (w->rank != 4) {
        onnx_node_error(o, n, "a weight of rank %d (rnc convolves 2-D images)",
                        w->rank);
        return false;
    }
    if (g < 1 || g > ONNX_MAX_SMALL || x->dims[1] % g) {
        onnx_node_error(o, n, "group %lld does not divide the %lld input "
                        "channels", (long long)g, (long long)x->dims[1]);
        return false;
    }
    int64_t cout = transpose ? w->dims[1] * g : w->dims[0];
    if ((transpose ? w->dims[0] != x->dims[1]
                   : w->dims[1] * g != x->dims[1] || cout % g) || cout < 1) {
        onnx_node_error(o, n, "weight [%lld, %lld, ...] does not fit %lld "
                        "input channels in %lld groups", (long long)w->dims[0],
                        (long long)w->dims[1], (long long)x->dims[1],
                        (long long)g);
        return false;
    }
    if (b && (!b->c || b->c->count != cout)) {
        onnx_node_error(o, n, "the bias must be a constant of %lld values",
                        (long long)cout);
        return false;
    }
    int64_t hw[2], dims[4];
    if (transpose) {
        if (g != 1) {
            onnx_node_error(o, n, "a grouped transposed convolution");
            return false;
        }
        if (onnx_attr(n, "output_shape")) {
            onnx_node_error(o, n, "output_shape (give pads instead)");
            return false;
        }
        const char *ap = attr_str(o, n, "auto_pad", "NOTSET");
        if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID")) {
            onnx_node_error(o, n, "auto_pad %s", ap);
            return false;
        }
        int64_t op[2] = {0, 0};
        if (onnx_attr(n, "output_padding") &&
            attr_ints(o, n, "output_padding", op, 2) != 2) {
            onnx_node_error(o, n, "output_padding must be 2-D");
            return false;
        }
        /* window() checks the attributes (its sizes are not these: a
         * transposed convolution grows its input) */
        int64_t xin[2] = {x->dims[2], x->dims[3]}, unused[2];
        int64_t big[2] = {ONNX_MAX_ELEMS, ONNX_MAX_ELEMS};
        if (!window(o, n, big, w->dims + 2, false, unused)) return false;
        for (int i = 0; i < 2; i++) {
            if (op[i] < 0 || (op[i] >= n->a.s[i] && op[i] >= n->a.d[i])) {
                onnx_node_error(o, n, "output_padding %lld", (long long)op[i]);
                return false;
            }
            n->a.out_pad[i] = (int)op[i];
            hw[i] = (xin[i] - 1) * n->a.s[i] - n->a.pads[2 * i] -
                    n->a.pads[2 * i + 1] + (int64_t)n->a.d[i] * (n->a.k[i] - 1) +
                    1 + op[i];
        }
    } else if (!window(o, n, x->dims + 2, w->dims + 2, false, hw)) {
        return false;
    }
    dims[0] = x->dims[0];
    dims[1] = cout;
    dims[2] = hw[0];
    dims[3] = hw[1];
    if (!runtime_ok(o, n, 4, dims)) return false;
    set_shape(n->out[0], 4, dims, DT_FLOAT);
    return true;
}

static bool infer_pool(Onnx *o, ONode *n) {
    if (!need_runtime_rank(o, n, 4)) return false;
    n->a.ceil = attr_int(o, n, "ceil_mode", 0) != 0;
    n->a.count_pad = attr_int(o, n, "count_include_pad", 0) != 0;
    if (attr_int(o, n, "storage_order", 0) != 0) {
        onnx_node_error(o, n, "storage_order 1");
        return false;
    }
    int64_t hw[2];
    if (!window(o, n, n->in[0]->dims + 2, NULL, true, hw)) return false;
    if (n->a.d[0] != 1 || n->a.d[1] != 1) {
        onnx_node_error(o, n, "a dilated pooling window");
        return false;
    }
    for (int i = 0; i < 4; i++)
        if (n->a.pads[i] >= n->a.k[i / 2]) {
            onnx_node_error(o, n, "pads must be smaller than the window");
            return false;
        }
    int64_t dims[4] = {n->in[0]->dims[0], n->in[0]->dims[1], hw[0], hw[1]};
    if (!runtime_ok(o, n, 4, dims)) return false;
    set_shape(n->out[0], 4, dims, DT_FLOAT);
    return true;
}

static bool infer_global_pool(Onnx *o, ONode *n) {
    if (!need_runtime_rank(o, n, 4)) return false;
    int64_t dims[4] = {n->in[0]->dims[0], n->in[0]->dims[1], 1, 1};
    set_shape(n->out[0], 4, dims, DT_FLOAT);
    n->a.keep = true;
    n->a.naxes = 2;
    n->a.axes[0] = 2;
    n->a.axes[1] = 3;
    return true;
}

static bool infer_reduce(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axes[ONNX_MAX_RANK], na;
    if (!get_axes(o, n, 18, 1, x->rank, axes, &na)) return false;
    if (na < 0) {
        onnx_node_error(o, n, "reduces every axis");
        return false;
    }
    n->a.keep = attr_int(o, n, "keepdims", 1) != 0;
    n->a.naxes = na;
    bool red[ONNX_MAX_RANK] = {false};
    for (int i = 0; i < na; i++) {
        n->a.axes[i] = axes[i];
        red[axes[i]] = true;
    }
    int64_t dims[ONNX_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++)
        if (!red[i]) dims[r++] = x->dims[i];
        else if (n->a.keep) dims[r++] = 1;
    set_shape(n->out[0], r, dims, DT_FLOAT);
    return true;
}

static bool vector_const(Onnx *o, ONode *n, int k, int64_t c,
                         const char *what) {
    OValue *v = in(n, k);
    if (v && v->c && v->c->count == c) return true;
    onnx_node_error(o, n, "%s must be a constant of %lld values", what,
                    (long long)c);
    return false;
}

static bool infer_batchnorm(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    if (x->rank < 2) {
        onnx_node_error(o, n, "a rank-%d input", x->rank);
        return false;
    }
    int64_t c = x->dims[1];
    static const char *const what[4] = {"scale", "bias", "mean", "var"};
    for (int k = 1; k <= 4; k++)
        if (!vector_const(o, n, k, c, what[k - 1])) return false;
    if (attr_int(o, n, "training_mode", 0) != 0) {
        onnx_node_error(o, n, "training_mode 1 (export the model in eval "
                        "mode)");
        return false;
    }
    n->a.eps = attr_float(o, n, "epsilon", 1e-5);
    (void)attr_float(o, n, "momentum", 0.9);
    same_shape(n);
    return true;
}

static bool infer_layernorm(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axis;
    if (!norm_axis(o, n, attr_int(o, n, "axis", -1), x->rank, &axis))
        return false;
    if (axis != x->rank - 1) {
        onnx_node_error(o, n, "normalizes from axis %d (rnc normalizes the "
                        "last axis)", axis);
        return false;
    }
    int64_t c = x->dims[axis];
    if (!vector_const(o, n, 1, c, "scale") ||
        (in(n, 2) && !vector_const(o, n, 2, c, "bias")))
        return false;
    (void)attr_int(o, n, "stash_type", 1);
    n->a.axis = axis;
    n->a.eps = attr_float(o, n, "epsilon", 1e-5);
    same_shape(n);
    return true;
}

static bool infer_unary(Onnx *o, ONode *n) {
    Attrs *a = &n->a;
    if (n->in[0]->c) {
        onnx_node_error(o, n, "an activation of a constant");
        return false;
    }
    if (!strcmp(n->op, "LeakyRelu")) a->alpha = attr_float(o, n, "alpha", 0.01);
    if (!strcmp(n->op, "Elu")) a->alpha = attr_float(o, n, "alpha", 1.0);
    if (!strcmp(n->op, "Selu")) {
        a->alpha = attr_float(o, n, "alpha", 1.67326319217681884765625);
        a->beta = attr_float(o, n, "gamma", 1.05070102214813232421875);
    }
    if (!strcmp(n->op, "HardSigmoid")) {
        a->alpha = attr_float(o, n, "alpha", 0.2);
        a->beta = attr_float(o, n, "beta", 0.5);
    }
    if (!strcmp(n->op, "Softmax")) {
        OValue *x = n->in[0];
        int axis;
        if (!norm_axis(o, n, attr_int(o, n, "axis", o->opset >= 13 ? -1 : 1),
                       x->rank, &axis))
            return false;
        /* before opset 13 the input is seen as 2-D, [:axis] x [axis:] */
        for (int i = axis; o->opset < 13 && i < x->rank - 1; i++)
            if (x->dims[i] != 1) {
                onnx_node_error(o, n, "a softmax over several axes");
                return false;
            }
        a->axis = o->opset < 13 ? x->rank - 1 : axis;
    }
    if (!strcmp(n->op, "Clip")) {
        double lo, hi;
        if (!const_scalar(o, n, 1, "min", -INFINITY, &lo, &a->has_lo) ||
            !const_scalar(o, n, 2, "max", INFINITY, &hi, &a->has_hi))
            return false;
        a->lo = lo;
        a->hi = hi;
    }
    same_shape(n);
    return true;
}

static bool infer_prelu(Onnx *o, ONode *n) {
    if (!need_const(o, n, 1, "the slope")) return false;
    int r;
    int64_t dims[ONNX_MAX_RANK];
    if (!broadcast(o, n, n->in[0], n->in[1], &r, dims)) return false;
    if (r != n->in[0]->rank) {
        onnx_node_error(o, n, "the slope has a higher rank than the input");
        return false;
    }
    same_shape(n);
    return true;
}

static bool infer_gemm(Onnx *o, ONode *n) {
    OValue *a = n->in[0], *b = n->in[1], *c = in(n, 2);
    Attrs *at = &n->a;
    at->trans_a = attr_int(o, n, "transA", 0) != 0;
    at->trans_b = attr_int(o, n, "transB", 0) != 0;
    at->alpha = attr_float(o, n, "alpha", 1);
    at->beta = attr_float(o, n, "beta", 1);
    if (a->rank != 2 || at->trans_a || a->c) {
        onnx_node_error(o, n, "the first input must be a [1, K] tensor "
                        "computed at run time, not transposed");
        return false;
    }
    if (!need_const(o, n, 1, "the second input") || b->rank != 2) return false;
    int64_t k = at->trans_b ? b->dims[1] : b->dims[0];
    int64_t units = at->trans_b ? b->dims[0] : b->dims[1];
    if (k != a->dims[1] || units < 1) {
        onnx_node_error(o, n, "shapes [%lld, %lld] and [%lld, %lld] do not "
                        "multiply", (long long)a->dims[0], (long long)a->dims[1],
                        (long long)b->dims[0], (long long)b->dims[1]);
        return false;
    }
    if (c && (!c->c || (c->c->count != units && c->c->count != 1))) {
        onnx_node_error(o, n, "C must be a constant of %lld values or one",
                        (long long)units);
        return false;
    }
    int64_t dims[2] = {a->dims[0], units};
    set_shape(n->out[0], 2, dims, DT_FLOAT);
    return true;
}

static bool infer_matmul(Onnx *o, ONode *n) {
    OValue *a = n->in[0], *b = n->in[1];
    if (a->c || !b->c || b->rank != 2 || a->rank < 2) {
        onnx_node_error(o, n, "multiplies a tensor computed at run time by a "
                        "constant matrix only");
        return false;
    }
    if (a->dims[a->rank - 1] != b->dims[0]) {
        onnx_node_error(o, n, "inner dimensions %lld and %lld differ",
                        (long long)a->dims[a->rank - 1], (long long)b->dims[0]);
        return false;
    }
    int64_t dims[ONNX_MAX_RANK];
    for (int i = 0; i < a->rank; i++) dims[i] = a->dims[i];
    dims[a->rank - 1] = b->dims[1];
    if (!runtime_ok(o, n, a->rank, dims)) return false;
    set_shape(n->out[0], a->rank, dims, DT_FLOAT);
    return true;
}

static bool infer_pad(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int64_t p[2 * ONNX_MAX_RANK];
    int cnt;
    if (!need_runtime_rank(o, n, 4) ||
        !const_ints(o, n, 1, "pads", p, 2 * ONNX_MAX_RANK, &cnt))
        return false;
    double value;
    if (!const_scalar(o, n, 2, "constant_value", 0, &value, NULL)) return false;
    const char *mode = attr_str(o, n, "mode", "constant");
    if (strcmp(mode, "constant") || value != 0) {
        onnx_node_error(o, n, "mode %s with value %g (rnc pads with zeros)",
                        mode, value);
        return false;
    }
    if (cnt != 8 || p[0] || p[1] || p[4] || p[5]) {
        onnx_node_error(o, n, "pads other axes than height and width");
        return false;
    }
    int64_t dims[4] = {x->dims[0], x->dims[1], x->dims[2] + p[2] + p[6],
                       x->dims[3] + p[3] + p[7]};
    for (int i = 2; i < 8; i++)
        if (p[i] < 0 || p[i] > ONNX_MAX_SMALL) {
            onnx_node_error(o, n, "pads of %lld", (long long)p[i]);
            return false;
        }
    n->a.pads[0] = (int)p[2];
    n->a.pads[1] = (int)p[6];
    n->a.pads[2] = (int)p[3];
    n->a.pads[3] = (int)p[7];
    if (!runtime_ok(o, n, 4, dims)) return false;
    set_shape(n->out[0], 4, dims, DT_FLOAT);
    return true;
}

/* Resize (scales or sizes) and Upsample (scales): whole factors on H, W. */
static bool infer_resize(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    bool upsample = !strcmp(n->op, "Upsample");
    OValue *sc = in(n, upsample ? 1 : 2), *sz = upsample ? NULL : in(n, 3);
    if (!need_runtime_rank(o, n, 4)) return false;
    if (sc && sc->c && sc->c->count == 0) sc = NULL;
    int64_t dims[4];
    if (sc && sc->c && sc->c->count == 4) {
        for (int i = 0; i < 4; i++) {
            double f = const_get(sc->c, i);
            if (!(f >= 1 && f <= ONNX_MAX_SMALL) || f != floor(f) ||
                (i < 2 && f != 1)) {
                onnx_node_error(o, n, "scale %g on axis %d (rnc resizes H "
                                "and W by whole factors)", f, i);
                return false;
            }
            dims[i] = x->dims[i] * (int64_t)f;
        }
    } else if (sz && sz->c && sz->c->count == 4) {
        for (int i = 0; i < 4; i++) {
            dims[i] = (int64_t)const_get(sz->c, i);
            if (dims[i] < x->dims[i] || dims[i] % x->dims[i] ||
                (i < 2 && dims[i] != x->dims[i]) ||
                dims[i] / x->dims[i] > ONNX_MAX_SMALL) {
                onnx_node_error(o, n, "size %lld on axis %d (rnc resizes H "
                                "and W by whole factors)", (long long)dims[i], i);
                return false;
            }
        }
    } else {
        onnx_node_error(o, n, "needs constant scales or sizes for 4 axes");
        return false;
    }
    n->a.scale[0] = (int)(dims[2] / x->dims[2]);
    n->a.scale[1] = (int)(dims[3] / x->dims[3]);
    const char *mode = attr_str(o, n, "mode", "nearest");
    const char *ct = upsample ? "asymmetric"
                              : attr_str(o, n, "coordinate_transformation_mode",
                                         "half_pixel");
    const char *nm = attr_str(o, n, "nearest_mode", "round_prefer_floor");
    (void)attr_float(o, n, "cubic_coeff_a", -0.75);
    (void)attr_float(o, n, "extrapolation_value", 0);
    if (!upsample && attr_int(o, n, "exclude_outside", 0)) {
        onnx_node_error(o, n, "exclude_outside 1");
        return false;
    }
    bool nearest = !strcmp(mode, "nearest"), linear = !strcmp(mode, "linear");
    if (nearest && !strcmp(ct, "asymmetric") &&
        (upsample || !strcmp(nm, "floor"))) {
        n->a.mode = "nearest";
    } else if (linear && !upsample &&
               (!strcmp(ct, "half_pixel") || !strcmp(ct, "pytorch_half_pixel"))) {
        n->a.mode = "bilinear";
    } else if (linear && !upsample && !strcmp(ct, "align_corners")) {
        n->a.mode = "bilinear";
        n->a.align = true;
    } else {
        onnx_node_error(o, n, "mode %s with %s coordinates%s%s (rnc has "
                        "nearest with asymmetric/floor, and linear with "
                        "half_pixel or align_corners)", mode, ct,
                        nearest ? " and nearest_mode " : "", nearest ? nm : "");
        return false;
    }
    if (!runtime_ok(o, n, 4, dims)) return false;
    set_shape(n->out[0], 4, dims, DT_FLOAT);
    return true;
}

static bool infer_split(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axis;
    if (!norm_axis(o, n, attr_int(o, n, "axis", 0), x->rank, &axis)) return false;
    n->a.axis = axis;
    int64_t sizes[ONNX_MAX_SMALL < 4096 ? ONNX_MAX_SMALL : 4096];
    int cnt = -1, nout = n->nout;
    if (nout < 1 || nout > 4096) {
        onnx_node_error(o, n, "%d outputs", nout);
        return false;
    }
    if (o->opset >= 13) {
        if (in(n, 1) && !const_ints(o, n, 1, "split", sizes, nout, &cnt))
            return false;
    } else if (onnx_attr(n, "split")) {
        cnt = attr_ints(o, n, "split", sizes, nout);
        if (cnt < 0) return false;
    }
    int64_t total = 0;
    if (cnt < 0) {
        if (x->dims[axis] % nout) {
            onnx_node_error(o, n, "splits %lld in %d equal parts",
                            (long long)x->dims[axis], nout);
            return false;
        }
        cnt = nout;
        for (int i = 0; i < nout; i++) sizes[i] = x->dims[axis] / nout;
    }
    if (cnt != nout) {
        onnx_node_error(o, n, "%d sizes for %d outputs", cnt, nout);
        return false;
    }
    n->a.split = arena_alloc(o->a, (size_t)nout * sizeof *n->a.split);
    for (int i = 0; i < nout; i++) {
        if (sizes[i] < 1 || sizes[i] > x->dims[axis] - total) {
            onnx_node_error(o, n, "split sizes do not add up to %lld",
                            (long long)x->dims[axis]);
            return false;
        }
        total += sizes[i];
        n->a.split[i] = sizes[i];
    }
    if (total != x->dims[axis]) {
        onnx_node_error(o, n, "split sizes do not add up to %lld",
                        (long long)x->dims[axis]);
        return false;
    }
    if (x->c) {
        onnx_node_error(o, n, "splits a constant");
        return false;
    }
    for (int i = 0; i < nout; i++) {
        int64_t dims[ONNX_MAX_RANK];
        for (int d = 0; d < x->rank; d++) dims[d] = x->dims[d];
        dims[axis] = sizes[i];
        set_shape(n->out[i], x->rank, dims, DT_FLOAT);
    }
    return true;
}

/* ------------------------------------------------------------- table */

static const OpRule rules[] = {
    {"Constant", 0, 0, 1, "value value_float value_int value_floats value_ints",
     infer_constant},
    {"Identity", 1, 1, 1, "", infer_identity},
    {"Dropout", 1, 3, 1, "seed", infer_identity},
    {"Shape", 1, 1, 1, "start end", infer_shape},
    {"Gather", 2, 2, 1, "axis", infer_gather},
    {"Unsqueeze", 1, 2, 1, "axes", infer_unsqueeze},
    {"Squeeze", 1, 2, 1, "axes", infer_squeeze},
    {"Concat", 1, 4096, 1, "axis", infer_concat},
    {"Slice", 3, 5, 1, "", infer_slice},
    {"Cast", 1, 1, 1, "to saturate", infer_cast},
    {"Add", 2, 2, 1, "", infer_binary},
    {"Sub", 2, 2, 1, "", infer_binary},
    {"Mul", 2, 2, 1, "", infer_binary},
    {"Div", 2, 2, 1, "", infer_binary},
    {"Pow", 2, 2, 1, "", infer_binary},
    {"Max", 1, 2, 1, "", infer_binary},
    {"Min", 1, 2, 1, "", infer_binary},
    {"ConstantOfShape", 1, 1, 1, "value", infer_constant_of_shape},
    {"Range", 3, 3, 1, "", infer_range},
    {"Reshape", 2, 2, 1, "allowzero", infer_reshape},
    {"Flatten", 1, 1, 1, "axis", infer_flatten},
    {"Transpose", 1, 1, 1, "perm", infer_transpose},
    {"Conv", 2, 3, 1, "auto_pad dilations group kernel_shape pads strides",
     infer_conv},
    {"ConvTranspose", 2, 3, 1, "auto_pad dilations group kernel_shape pads "
     "strides output_padding output_shape", infer_conv},
    {"MaxPool", 1, 1, 1, "auto_pad ceil_mode dilations kernel_shape pads "
     "storage_order strides", infer_pool},
    {"AveragePool", 1, 1, 1, "auto_pad ceil_mode count_include_pad "
     "kernel_shape pads strides", infer_pool},
    {"GlobalAveragePool", 1, 1, 1, "", infer_global_pool},
    {"GlobalMaxPool", 1, 1, 1, "", infer_global_pool},
    {"ReduceMean", 1, 2, 1, "axes keepdims", infer_reduce},
    {"ReduceMax", 1, 2, 1, "axes keepdims", infer_reduce},
    {"BatchNormalization", 5, 5, 1, "epsilon momentum training_mode",
     infer_batchnorm},
    {"LayerNormalization", 2, 3, 1, "axis epsilon stash_type", infer_layernorm},
    {"Relu", 1, 1, 1, "", infer_unary},
    {"LeakyRelu", 1, 1, 1, "alpha", infer_unary},
    {"Elu", 1, 1, 1, "alpha", infer_unary},
    {"Selu", 1, 1, 1, "alpha gamma", infer_unary},
    {"Sigmoid", 1, 1, 1, "", infer_unary},
    {"Tanh", 1, 1, 1, "", infer_unary},
    {"Softmax", 1, 1, 1, "axis", infer_unary},
    {"HardSigmoid", 1, 1, 1, "alpha beta", infer_unary},
    {"HardSwish", 1, 1, 1, "", infer_unary},
    {"Softplus", 1, 1, 1, "", infer_unary},
    {"Softsign", 1, 1, 1, "", infer_unary},
    {"Exp", 1, 1, 1, "", infer_unary},
    {"Neg", 1, 1, 1, "", infer_unary},
    {"Erf", 1, 1, 1, "", infer_unary},
    {"Sqrt", 1, 1, 1, "", infer_unary},
    {"Clip", 1, 3, 1, "", infer_unary},
    {"PRelu", 2, 2, 1, "", infer_prelu},
    {"Gemm", 2, 3, 1, "alpha beta transA transB", infer_gemm},
    {"MatMul", 2, 2, 1, "", infer_matmul},
    {"Pad", 2, 3, 1, "mode", infer_pad},
    {"Resize", 1, 4, 1, "coordinate_transformation_mode cubic_coeff_a "
     "exclude_outside extrapolation_value mode nearest_mode", infer_resize},
    {"Upsample", 2, 2, 1, "mode", infer_resize},
    {"Split", 1, 2, 4096, "axis split", infer_split},
};
enum { NRULES = sizeof rules / sizeof rules[0] };

/* Is word one of the space-separated words of list? */
static bool in_list(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, word, n)) return true;
        p += len + (e != NULL);
    }
    return false;
}

/* The checks every op shares: domain, counts of inputs and used outputs,
 * attributes known. */
static bool check_node(Onnx *o, ONode *n, const OpRule *r) {
    bool ok = true;
    const char *d = n->p->domain;
    if (d && *d && strcmp(d, "ai.onnx")) {
        onnx_node_error(o, n, "operator of domain '%s'", d);
        return false;
    }
    if (n->nin < r->min_in || n->nin > r->max_in) {
        onnx_node_error(o, n, "%d inputs (takes %d to %d)", n->nin, r->min_in,
                        r->max_in);
        return false;
    }
    for (int k = 0; k < r->min_in; k++)
        if (!n->in[k]) {
            onnx_node_error(o, n, "input %d is left out", k);
            return false;
        }
    if (n->nout < 1 || !n->out[0]) {
        onnx_node_error(o, n, "has no output");
        return false;
    }
    for (int k = r->max_out; k < n->nout; k++)
        if (n->out[k] && (n->out[k]->nuses || n->out[k]->is_output)) {
            onnx_node_error(o, n, "output %d is used (rnc computes only the "
                            "first %d)", k, r->max_out);
            ok = false;
        }
    for (size_t i = 0; i < n->p->n_attribute; i++) {
        const char *name = n->p->attribute[i]->name ? n->p->attribute[i]->name : "";
        if (!in_list(r->attrs, name)) {
            onnx_node_error(o, n, "attribute '%s' is not supported",
                            name[0] ? name : "(no name)");
            ok = false;
        }
    }
    return ok;
}

/* The runtime graph inputs: float, NCHW images or [N, F] vectors, batch
 * 1 (a symbolic batch is taken as 1; --input-shape gives symbolic H, W). */
static void infer_inputs(Onnx *o) {
    const Onnx__GraphProto *g = o->model->graph;
    for (int i = 0; i < o->ninputs; i++) {
        OValue *v = o->inputs[i];
        const Onnx__ValueInfoProto *vi = NULL;
        for (size_t k = 0; k < g->n_input && !vi; k++)
            if (g->input[k]->name && !strcmp(g->input[k]->name, v->name))
                vi = g->input[k];
        const Onnx__TypeProto__Tensor *t =
            vi && vi->type ? vi->type->tensor_type : NULL;
        const char *nm = v->name;
        if (!t || !t->shape || (t->has_elem_type && t->elem_type != 1)) {
            onnx_error(o, "input '%s' is not a float tensor with a shape", nm);
            continue;
        }
        size_t r = t->shape->n_dim;
        if (r != 2 && r != 4) {
            onnx_error(o, "input '%s' has rank %zu (rnc takes [N, C, H, W] "
                       "images and [N, F] vectors)", nm, r);
            continue;
        }
        bool ok = true;
        for (size_t k = 0; k < r && ok; k++) {
            const Onnx__TensorShapeProto__Dimension *d = t->shape->dim[k];
            bool sym = d->value_case !=
                       ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            int64_t val = sym ? 0 : d->dim_value;
            if (k == 0) {
                if (!sym && val != 1) {
                    onnx_error(o, "input '%s' has batch %lld (rnc compiles "
                               "batch 1)", nm, (long long)val);
                    ok = false;
                }
                val = 1;
            } else if (r == 4 && o->opt && o->opt->input_hwc[0] > 0) {
                static const int from[4] = {0, 2, 0, 1};
                int64_t given = o->opt->input_hwc[from[k]];
                if (!sym && val != given) {
                    onnx_error(o, "input '%s' has %s %lld, not %lld as "
                               "--input-shape says", nm,
                               k == 1 ? "channels" : k == 2 ? "height" : "width",
                               (long long)val, (long long)given);
                    ok = false;
                }
                val = given;
            } else if (sym) {
                onnx_error(o, "input '%s' has a symbolic %s; give the size "
                           "with --input-shape H,W,C", nm,
                           r == 2 ? "width" : k == 1 ? "channel count"
                                  : k == 2 ? "height" : "width");
                ok = false;
            }
            if (ok && (val < 1 || val > (1 << 24))) {
                onnx_error(o, "input '%s' has a dimension of %lld", nm,
                           (long long)val);
                ok = false;
            }
            v->dims[k] = val;
        }
        if (ok && dims_count((int)r, v->dims) < 0) {
            onnx_error(o, "input '%s' holds over 2^29 values", nm);
            ok = false;
        }
        if (ok) {
            v->rank = (int)r;
            v->dt = DT_FLOAT;
        }
    }
}

void onnx_infer(Onnx *o) {
    infer_inputs(o);
    for (int j = 0; j < o->nnodes; j++) {
        ONode *n = &o->nodes[o->order[j]];
        if (!n->live) continue;
        bool known = true;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] && n->in[k]->rank < 0) known = false;
        if (!known) continue; /* reported where it went unknown */
        const OpRule *r = NULL;
        for (int i = 0; i < NRULES && !r; i++)
            if (!strcmp(rules[i].op, n->op)) r = &rules[i];
        if (!r) {
            onnx_node_error(o, n, "operator %s is not supported", n->op);
            continue;
        }
        if (!check_node(o, n, r)) continue;
        if (!r->infer(o, n) || !onnx_spend(o, n, 0)) {
            for (int k = 0; k < n->nout; k++)
                if (n->out[k]) n->out[k]->rank = -1;
        } else if (all_const(n) && strcmp(n->op, "Shape") &&
                   !n->out[0]->c) {
            onnx_node_error(o, n, "computes on constants only, which rnc "
                            "does not fold for this operator");
            n->out[0]->rank = -1;
        }
    }
}
