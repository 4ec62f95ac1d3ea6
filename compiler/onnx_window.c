/* onnx_window.c: the rules of the ONNX ops that work on an image's height
 * and width: Conv and ConvTranspose, the pools, the global pools and the
 * reductions over H and W, Pad, and Resize. Each checks node n, decodes
 * its attributes into ONode.a (windows: kernel, strides, dilations and
 * pads, auto_pad resolved into explicit pads) and sets its output's shape
 * in ONNX's own terms (NCHW); or reports why not and returns false.
 *
 * Requires: the node's inputs known (onnx_infer.c calls these from its
 * table). Changes: n->a and n's outputs' shapes. */
#include "onnx.h"

#include <math.h>
#include <string.h>

/* kernel_shape, strides, dilations, pads and auto_pad of a window over
 * the input's H, W (ONNX pads [t, l, b, r] stored as t, b, l, r); the
 * output H, W into out. */
static bool window(Onnx *o, ONode *n, const int64_t *hw, const int64_t *kernel,
                   bool ceil_ok, int64_t *out) {
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
        (onnx_attr(n, "dilations") &&
         attr_ints(o, n, "dilations", d, 2) != 2) ||
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

bool infer_conv(Onnx *o, ONode *n) {
    if (!fold_need_rank(o, n, 4) || !fold_need_const(o, n, 1, "the weight"))
        return false;
    OValue *x = n->in[0], *w = n->in[1], *b = fold_in(n, 2);
    bool transpose = !strcmp(n->op, "ConvTranspose");
    int64_t g = attr_int(o, n, "group", 1);
    n->a.group = g;
    if (w->rank != 4) {
        onnx_node_error(o, n, "a weight of rank %d (rnc convolves 2-D images)",
                        w->rank);
        return false;
    }
    if (g < 1 || g > ONNX_MAX_SMALL || x->dims[1] % g) {
        onnx_node_error(o, n,
                        "group %lld does not divide the %lld input "
                        "channels",
                        (long long)g, (long long)x->dims[1]);
        return false;
    }
    int64_t cout = transpose ? w->dims[1] * g : w->dims[0];
    if ((transpose ? w->dims[0] != x->dims[1]
                   : w->dims[1] * g != x->dims[1] || cout % g) ||
        cout < 1) {
        onnx_node_error(o, n,
                        "weight [%lld, %lld, ...] does not fit %lld "
                        "input channels in %lld groups",
                        (long long)w->dims[0], (long long)w->dims[1],
                        (long long)x->dims[1], (long long)g);
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
                    n->a.pads[2 * i + 1] +
                    (int64_t)n->a.d[i] * (n->a.k[i] - 1) + 1 + op[i];
        }
    } else if (!window(o, n, x->dims + 2, w->dims + 2, false, hw)) {
        return false;
    }
    dims[0] = x->dims[0];
    dims[1] = cout;
    dims[2] = hw[0];
    dims[3] = hw[1];
    if (!fold_runtime_ok(o, n, 4, dims)) return false;
    fold_set_shape(n->out[0], 4, dims, DT_FLOAT);
    return true;
}

bool infer_pool(Onnx *o, ONode *n) {
    if (!fold_need_rank(o, n, 4)) return false;
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
    if (!fold_runtime_ok(o, n, 4, dims)) return false;
    fold_set_shape(n->out[0], 4, dims, DT_FLOAT);
    return true;
}

bool infer_global_pool(Onnx *o, ONode *n) {
    if (!fold_need_rank(o, n, 4)) return false;
    int64_t dims[4] = {n->in[0]->dims[0], n->in[0]->dims[1], 1, 1};
    fold_set_shape(n->out[0], 4, dims, DT_FLOAT);
    n->a.keep = true;
    n->a.naxes = 2;
    n->a.axes[0] = 2;
    n->a.axes[1] = 3;
    return true;
}

bool infer_reduce(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int axes[ONNX_MAX_RANK], na;
    if (!fold_axes(o, n, 18, 1, x->rank, axes, &na)) return false;
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
        if (!red[i])
            dims[r++] = x->dims[i];
        else if (n->a.keep)
            dims[r++] = 1;
    fold_set_shape(n->out[0], r, dims, DT_FLOAT);
    return true;
}

bool infer_pad(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    int64_t p[2 * ONNX_MAX_RANK];
    int cnt;
    if (!fold_need_rank(o, n, 4) ||
        !fold_ints(o, n, 1, "pads", p, 2 * ONNX_MAX_RANK, &cnt))
        return false;
    double value;
    if (!fold_scalar(o, n, 2, "constant_value", 0, &value, NULL)) return false;
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
    if (!fold_runtime_ok(o, n, 4, dims)) return false;
    fold_set_shape(n->out[0], 4, dims, DT_FLOAT);
    return true;
}

/* Resize (scales or sizes) and Upsample (scales): whole factors on H, W. */
bool infer_resize(Onnx *o, ONode *n) {
    OValue *x = n->in[0];
    bool upsample = !strcmp(n->op, "Upsample");
    OValue *sc = fold_in(n, upsample ? 1 : 2),
           *sz = upsample ? NULL : fold_in(n, 3);
    if (!fold_need_rank(o, n, 4)) return false;
    if (sc && sc->c && sc->c->count == 0) sc = NULL;
    int64_t dims[4];
    if (sc && sc->c && sc->c->count == 4) {
        for (int i = 0; i < 4; i++) {
            double f = const_get(sc->c, i);
            if (!(f >= 1 && f <= ONNX_MAX_SMALL) || f != floor(f) ||
                (i < 2 && f != 1)) {
                onnx_node_error(o, n,
                                "scale %g on axis %d (rnc resizes H "
                                "and W by whole factors)",
                                f, i);
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
                onnx_node_error(o, n,
                                "size %lld on axis %d (rnc resizes H "
                                "and W by whole factors)",
                                (long long)dims[i], i);
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
               (!strcmp(ct, "half_pixel") ||
                !strcmp(ct, "pytorch_half_pixel"))) {
        n->a.mode = "bilinear";
    } else if (linear && !upsample && !strcmp(ct, "align_corners")) {
        n->a.mode = "bilinear";
        n->a.align = true;
    } else {
        onnx_node_error(o, n,
                        "mode %s with %s coordinates%s%s (rnc has "
                        "nearest with asymmetric/floor, and linear with "
                        "half_pixel or align_corners)",
                        mode, ct, nearest ? " and nearest_mode " : "",
                        nearest ? nm : "");
        return false;
    }
    if (!fold_runtime_ok(o, n, 4, dims)) return false;
    fold_set_shape(n->out[0], 4, dims, DT_FLOAT);
    return true;
}
