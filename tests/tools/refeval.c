/* refeval: a plain reference evaluator of rnc's graph, for differential
 * testing of the code generator (tests/e2e/differential.sh).
 *
 *   refeval [--make-inputs SEED] MODEL.rn WEIGHTS.safetensors DIR
 *
 * Parses and elaborates MODEL.rn with rnc's front end, reads every weight
 * by its Keras name and layout (asked of the file with the shapes written
 * here from the op definitions, not from the compiler), reads DIR/in<i>.npy
 * for each input (written first, uniform in [-1, 1), with --make-inputs),
 * and writes DIR/ref<i>.npy ([1, ...]) for each output. Prints "NIN NOUT".
 *
 * Deliberately naive: double precision, one loop nest per op, straight
 * from the definitions of language.md (TensorFlow's padding as resolved by
 * shape_infer, avgpool counting real pixels, maxpool ignoring padding,
 * depthwise channel c*mult+m, batchnorm with its epsilon, flatten in NHWC
 * order, softmax over the last axis). Shares no code with the generator or
 * the kernels. */
#include "rnc.h"
#include "rnrt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A tensor of one batch item; a flat one is 1x1xC. */
typedef struct T {
    int h, w, c;
    double *v;
} T;

static double *at(const T *t, int y, int x, int ch) {
    return &t->v[((size_t)y * (size_t)t->w + (size_t)x) * (size_t)t->c +
                 (size_t)ch];
}

static T tensor(const Shape *s) {
    T t = {1, 1, (int)s->d[0], NULL};
    if (s->rank == 3) t = (T){(int)s->d[0], (int)s->d[1], (int)s->d[2], NULL};
    t.v = calloc((size_t)t.h * (size_t)t.w * (size_t)t.c, sizeof(double));
    if (!t.v) die("out of memory");
    return t;
}

static _Noreturn void fatal(const char *msg) {
    fprintf(stderr, "refeval: %s\n", msg);
    exit(1);
}

/* Weight NODE.suffix with exactly these dims, as doubles. */
static double *weight(rn_safetensors *st, const GNode *n, const char *suffix,
                      int rank, rn_i64 d0, rn_i64 d1, rn_i64 d2, rn_i64 d3) {
    rn_i64 dims[4] = {d0, d1, d2, d3};
    size_t count = 1;
    for (int i = 0; i < rank; i++) count *= (size_t)dims[i];
    float *f = malloc(count * sizeof *f);
    double *d = malloc(count * sizeof *d);
    char name[512], err[512];
    snprintf(name, sizeof name, "%s.%s", n->path, suffix);
    if (!f || !d) die("out of memory");
    if (rn_st_read_f32(st, name, rank, dims, f, err, sizeof err) != 0)
        fatal(err);
    for (size_t i = 0; i < count; i++) d[i] = f[i];
    free(f);
    return d;
}

static double softplus(double x) {
    return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
}

static double clip(double x, double lo, double hi) {
    return x < lo ? lo : x > hi ? hi : x;
}

/* The activation words as Keras defines them (keras/activations.py). */
static double act1(Act a, double x) {
    switch (a) {
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_RELU6: return clip(x, 0, 6);
    case ACT_SIGMOID: return 1 / (1 + exp(-x));
    case ACT_TANH: return tanh(x);
    case ACT_SILU: return x / (1 + exp(-x));
    case ACT_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case ACT_GELU_TANH:
        return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    case ACT_HARD_SIGMOID: return clip(0.2 * x + 0.5, 0, 1);
    case ACT_HARD_SWISH: return x * clip(x + 3, 0, 6) / 6;
    case ACT_ELU: return x > 0 ? x : exp(x) - 1;
    case ACT_SELU:
        return 1.0507009873554804934 *
               (x > 0 ? x : 1.6732632423543772848 * (exp(x) - 1));
    case ACT_SOFTPLUS: return softplus(x);
    case ACT_SOFTSIGN: return x / (1 + fabs(x));
    case ACT_EXPONENTIAL: return exp(x);
    case ACT_MISH: return x * tanh(softplus(x));
    case ACT_LEAKY_RELU: return x > 0 ? x : 0.2 * x;
    default: return x;
    }
}

/* The activation layers with arguments, one value at a time. */
static double layer_act1(const GNode *n, double x) {
    switch (n->op) {
    case OP_RELU:
        if (x < n->threshold) return n->negative_slope * (x - n->threshold);
        return n->has_max && x > n->max_value ? n->max_value : x;
    case OP_ELU: return x > 0 ? x : n->alpha * (exp(x) - 1);
    case OP_LEAKY_RELU: return x > 0 ? x : n->alpha * x;
    default: /* an Activation layer's hard_sigmoid */
        return clip(n->alpha * x + n->beta, 0, 1);
    }
}

static void activate(T *t, Act a) {
    for (int y = 0; y < t->h; y++)
        for (int x = 0; x < t->w; x++) {
            double *p = at(t, y, x, 0);
            if (a == ACT_SOFTMAX) {
                double mx = p[0], sum = 0;
                for (int c = 1; c < t->c; c++) mx = p[c] > mx ? p[c] : mx;
                for (int c = 0; c < t->c; c++) sum += exp(p[c] - mx);
                for (int c = 0; c < t->c; c++) p[c] = exp(p[c] - mx) / sum;
            } else {
                for (int c = 0; c < t->c; c++) p[c] = act1(a, p[c]);
            }
        }
}

/* The input pixel of output (oy, ox) and tap (ky, kx), or false when it is
 * padding. */
static bool tap(const GNode *n, const T *in, int oy, int ox, int ky, int kx,
                int *iy, int *ix) {
    *iy = oy * n->sh - n->pad_t + ky * (n->dh ? n->dh : 1);
    *ix = ox * n->sw - n->pad_l + kx * (n->dw ? n->dw : 1);
    return *iy >= 0 && *iy < in->h && *ix >= 0 && *ix < in->w;
}

static void conv2d(const GNode *n, rn_safetensors *st, const T *in, T *o) {
    int groups = n->groups ? n->groups : 1;
    int cin_g = in->c / groups, cout_g = o->c / groups;
    double *k = weight(st, n, "kernel", 4, n->kh, n->kw, cin_g, o->c);
    double *b = n->bias ? weight(st, n, "bias", 1, o->c, 0, 0, 0) : NULL;
    for (int oy = 0; oy < o->h; oy++)
        for (int ox = 0; ox < o->w; ox++)
            for (int f = 0; f < o->c; f++) {
                int g = f / cout_g;
                double s = b ? b[f] : 0;
                for (int ky = 0; ky < n->kh; ky++)
                    for (int kx = 0; kx < n->kw; kx++) {
                        int iy, ix;
                        if (!tap(n, in, oy, ox, ky, kx, &iy, &ix)) continue;
                        for (int ci = 0; ci < cin_g; ci++)
                            s += *at(in, iy, ix, g * cin_g + ci) *
                                 k[(((size_t)ky * n->kw + kx) * cin_g + ci) *
                                       o->c + f];
                    }
                *at(o, oy, ox, f) = s;
            }
    free(k);
    free(b);
}

static void depthwise(const GNode *n, rn_safetensors *st, const T *in, T *o) {
    int mult = n->multiplier ? n->multiplier : 1;
    double *k = weight(st, n, "depthwise_kernel", 4, n->kh, n->kw, in->c,
                       mult);
    double *b = n->bias ? weight(st, n, "bias", 1, o->c, 0, 0, 0) : NULL;
    for (int oy = 0; oy < o->h; oy++)
        for (int ox = 0; ox < o->w; ox++)
            for (int c = 0; c < in->c; c++)
                for (int m = 0; m < mult; m++) {
                    double s = b ? b[c * mult + m] : 0;
                    for (int ky = 0; ky < n->kh; ky++)
                        for (int kx = 0; kx < n->kw; kx++) {
                            int iy, ix;
                            if (tap(n, in, oy, ox, ky, kx, &iy, &ix))
                                s += *at(in, iy, ix, c) *
                                     k[(((size_t)ky * n->kw + kx) * in->c +
                                        c) * mult + m];
                        }
                    *at(o, oy, ox, c * mult + m) = s;
                }
    free(k);
    free(b);
}

static void dense(const GNode *n, rn_safetensors *st, const T *in, T *o) {
    double *k = weight(st, n, "kernel", 2, in->c, o->c, 0, 0);
    double *b = n->bias ? weight(st, n, "bias", 1, o->c, 0, 0, 0) : NULL;
    for (int u = 0; u < o->c; u++) {
        double s = b ? b[u] : 0;
        for (int i = 0; i < in->c; i++) s += in->v[i] * k[(size_t)i * o->c + u];
        o->v[u] = s;
    }
    free(k);
    free(b);
}

static void batchnorm(const GNode *n, rn_safetensors *st, const T *in, T *o) {
    double *g = !n->no_scale ? weight(st, n, "gamma", 1, in->c, 0, 0, 0) : NULL;
    double *b = !n->no_center ? weight(st, n, "beta", 1, in->c, 0, 0, 0) : NULL;
    double *m = weight(st, n, "moving_mean", 1, in->c, 0, 0, 0);
    double *v = weight(st, n, "moving_variance", 1, in->c, 0, 0, 0);
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++)
            for (int c = 0; c < in->c; c++)
                *at(o, y, x, c) = (*at(in, y, x, c) - m[c]) /
                                      sqrt(v[c] + n->epsilon) * (g ? g[c] : 1) +
                                  (b ? b[c] : 0);
    free(g), free(b), free(m), free(v);
}

/* Keras's LayerNormalization over each pixel's channels (biased
 * variance). */
static void layernorm(const GNode *n, rn_safetensors *st, const T *in, T *o) {
    double *g = !n->no_scale ? weight(st, n, "gamma", 1, in->c, 0, 0, 0) : NULL;
    double *b = !n->no_center ? weight(st, n, "beta", 1, in->c, 0, 0, 0) : NULL;
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++) {
            double mean = 0, var = 0;
            for (int c = 0; c < in->c; c++) mean += *at(in, y, x, c) / in->c;
            for (int c = 0; c < in->c; c++) {
                double d = *at(in, y, x, c) - mean;
                var += d * d / in->c;
            }
            for (int c = 0; c < in->c; c++)
                *at(o, y, x, c) = (*at(in, y, x, c) - mean) / sqrt(var + n->epsilon) *
                                      (g ? g[c] : 1) + (b ? b[c] : 0);
        }
    free(g), free(b);
}

/* Keras's Normalization: (x - mean) / max(sqrt(variance), 1e-7). */
static void normalization(const GNode *n, rn_safetensors *st, const T *in,
                          T *o) {
    double *m = NULL, *v = NULL;
    if (!n->norm_mean) {
        m = weight(st, n, "mean", 1, in->c, 0, 0, 0);
        v = weight(st, n, "variance", 1, in->c, 0, 0, 0);
        free(weight(st, n, "count", 0, 0, 0, 0, 0)); /* read: it must exist */
    }
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++)
            for (int c = 0; c < in->c; c++) {
                int k = n->norm_n > 1 ? c : 0;
                double mu = m ? m[c] : n->norm_mean[k];
                double sd = sqrt(v ? v[c] : n->norm_var[k]);
                *at(o, y, x, c) = (*at(in, y, x, c) - mu) / (sd > 1e-7 ? sd : 1e-7);
            }
    free(m), free(v);
}

/* alpha has the input's shape with the shared axes (bit k: Keras axis k)
 * of size 1. */
static void prelu(const GNode *n, rn_safetensors *st, const T *in, T *o) {
    bool flat = n->out.rank == 1;
    int ah = n->shared_axes & 2 || flat ? 1 : in->h;
    int aw = n->shared_axes & 4 || flat ? 1 : in->w;
    int ac = n->shared_axes & (flat ? 2 : 8) ? 1 : in->c;
    double *a = flat ? weight(st, n, "alpha", 1, ac, 0, 0, 0)
                     : weight(st, n, "alpha", 3, ah, aw, ac, 0);
    for (int y = 0; y < in->h; y++)
        for (int x = 0; x < in->w; x++)
            for (int c = 0; c < in->c; c++) {
                double v = *at(in, y, x, c);
                double al = a[((size_t)(ah > 1 ? y : 0) * aw + (aw > 1 ? x : 0)) * ac +
                              (ac > 1 ? c : 0)];
                *at(o, y, x, c) = v > 0 ? v : al * v;
            }
    free(a);
}

static void pool(const GNode *n, const T *in, T *o) {
    for (int oy = 0; oy < o->h; oy++)
        for (int ox = 0; ox < o->w; ox++)
            for (int c = 0; c < o->c; c++) {
                double mx = -INFINITY, sum = 0;
                int count = 0, padded = 0;
                for (int ky = 0; ky < n->kh; ky++)
                    for (int kx = 0; kx < n->kw; kx++) {
                        int iy, ix;
                        bool real = tap(n, in, oy, ox, ky, kx, &iy, &ix);
                        /* count_include_pad: inside [-pad, size + pad) */
                        padded += iy >= -n->pad_t && iy < in->h + n->pad_b &&
                                  ix >= -n->pad_l && ix < in->w + n->pad_r;
                        if (!real) continue;
                        double v = *at(in, iy, ix, c);
                        mx = v > mx ? v : mx;
                        sum += v;
                        count++;
                    }
                if (count == 0) fatal("a pooling window of padding only");
                *at(o, oy, ox, c) = n->op == OP_MAXPOOL ? mx
                                    : sum / (n->count_include_pad ? padded : count);
            }
}

static void global_pool(const GNode *n, const T *in, T *o) {
    for (int c = 0; c < in->c; c++) {
        double mx = -INFINITY, sum = 0;
        for (int y = 0; y < in->h; y++)
            for (int x = 0; x < in->w; x++) {
                double v = *at(in, y, x, c);
                mx = v > mx ? v : mx;
                sum += v;
            }
        o->v[c] = n->op == OP_GLOBAL_MAXPOOL ? mx : sum / (in->h * in->w);
    }
}

/* TensorFlow's resize: in_f = (d + 0.5) * in / out - 0.5 (or d * (in - 1)
 * / (out - 1) aligned), between floor and ceil clamped to the image. */
static void resize_src(int d, int in, int out, bool aligned, int *lo, int *hi,
                       double *t) {
    double f = aligned ? (out > 1 ? (double)d * (in - 1) / (out - 1) : 0)
                       : (d + 0.5) * in / out - 0.5;
    double fl = floor(f);
    *lo = fl < 0 ? 0 : (int)fl;
    *hi = ceil(f) > in - 1 ? in - 1 : (int)ceil(f);
    if (*hi < 0) *hi = 0;
    *t = f - fl;
}

static void upsample(const GNode *n, const T *in, T *o) {
    for (int y = 0; y < o->h; y++)
        for (int x = 0; x < o->w; x++)
            for (int c = 0; c < o->c; c++) {
                if (n->interp == INTERP_NEAREST) {
                    *at(o, y, x, c) = *at(in, y / n->kh, x / n->kw, c);
                    continue;
                }
                int y0, y1, x0, x1;
                double ty, tx;
                resize_src(y, in->h, o->h, n->align_corners, &y0, &y1, &ty);
                resize_src(x, in->w, o->w, n->align_corners, &x0, &x1, &tx);
                double top = *at(in, y0, x0, c) * (1 - tx) + *at(in, y0, x1, c) * tx;
                double bot = *at(in, y1, x0, c) * (1 - tx) + *at(in, y1, x1, c) * tx;
                *at(o, y, x, c) = top * (1 - ty) + bot * ty;
            }
}

/* An operand's value at output position (y, x, c): its sizes are the
 * output's or 1 (broadcast). */
static double bcast(const T *t, int y, int x, int c) {
    return *at(t, t->h > 1 ? y : 0, t->w > 1 ? x : 0, t->c > 1 ? c : 0);
}

static void merge(const GNode *n, T *vals, T *o) {
    for (int y = 0; y < o->h; y++)
        for (int x = 0; x < o->w; x++)
            for (int c = 0; c < o->c; c++) {
                double r = bcast(&vals[n->in[0]->id], y, x, c);
                for (int k = 1; k < n->nin; k++) {
                    double v = bcast(&vals[n->in[k]->id], y, x, c);
                    switch (n->op) {
                    case OP_SUBTRACT: r -= v; break;
                    case OP_MULTIPLY: r *= v; break;
                    case OP_MAXIMUM: r = v > r ? v : r; break;
                    case OP_MINIMUM: r = v < r ? v : r; break;
                    default: r += v; break; /* add, average */
                    }
                }
                *at(o, y, x, c) = n->op == OP_AVERAGE ? r / n->nin : r;
            }
}

static void eval_node(const GNode *n, rn_safetensors *st, T *vals, T *o) {
    const T *in = n->nin ? &vals[n->in[0]->id] : NULL;
    size_t count = (size_t)o->h * (size_t)o->w * (size_t)o->c;
    switch (n->op) {
    case OP_INPUT: break; /* filled by the caller */
    case OP_CONV2D: conv2d(n, st, in, o); activate(o, n->act); break;
    case OP_DEPTHWISE_CONV2D: depthwise(n, st, in, o); activate(o, n->act); break;
    case OP_DENSE: dense(n, st, in, o); activate(o, n->act); break;
    case OP_BATCHNORM: batchnorm(n, st, in, o); break;
    case OP_LAYERNORM: layernorm(n, st, in, o); break;
    case OP_NORMALIZATION: normalization(n, st, in, o); break;
    case OP_ACTIVATION:
    case OP_SOFTMAX:
        memcpy(o->v, in->v, count * sizeof *o->v);
        if (n->act == ACT_HARD_SIGMOID)
            for (size_t i = 0; i < count; i++) o->v[i] = layer_act1(n, o->v[i]);
        else
            activate(o, n->op == OP_SOFTMAX ? ACT_SOFTMAX : n->act);
        break;
    case OP_RELU: case OP_ELU: case OP_LEAKY_RELU:
        for (size_t i = 0; i < count; i++) o->v[i] = layer_act1(n, in->v[i]);
        break;
    case OP_PRELU: prelu(n, st, in, o); break;
    case OP_MAXPOOL: case OP_AVGPOOL: pool(n, in, o); break;
    case OP_GLOBAL_AVGPOOL: case OP_GLOBAL_MAXPOOL: global_pool(n, in, o); break;
    case OP_CROP:
        for (int y = 0; y < o->h; y++)
            for (int x = 0; x < o->w; x++)
                for (int c = 0; c < o->c; c++)
                    *at(o, y, x, c) = *at(in, y + n->pad_t, x + n->pad_l, c);
        break;
    case OP_UPSAMPLE: upsample(n, in, o); break;
    case OP_CHANNEL_SHUFFLE: {
        int per = in->c / n->groups;
        for (size_t p = 0; p < count / (size_t)in->c; p++)
            for (int c = 0; c < in->c; c++)
                o->v[p * (size_t)in->c + (size_t)c] =
                    in->v[p * (size_t)in->c + (size_t)((c % n->groups) * per + c / n->groups)];
        break;
    }
    case OP_CHANNEL_SLICE:
        for (size_t p = 0; p < count / (size_t)o->c; p++)
            for (int c = 0; c < o->c; c++)
                o->v[p * (size_t)o->c + (size_t)c] =
                    in->v[p * (size_t)in->c + (size_t)(n->start + c)];
        break;
    case OP_RESHAPE:
    case OP_FLATTEN: case OP_DROPOUT: /* NHWC order is the flat order */
        memcpy(o->v, in->v, count * sizeof *o->v);
        break;
    case OP_RESCALE:
        for (size_t i = 0; i < count; i++)
            o->v[i] = in->v[i] * n->scale + n->offset;
        break;
    case OP_ADD: case OP_SUBTRACT: case OP_MULTIPLY: case OP_MAXIMUM:
    case OP_MINIMUM: case OP_AVERAGE:
        merge(n, vals, o);
        break;
    case OP_CONCAT: {
        int c0 = 0;
        for (int k = 0; k < n->nin; k++) {
            const T *p = &vals[n->in[k]->id];
            for (int y = 0; y < o->h; y++)
                for (int x = 0; x < o->w; x++)
                    for (int c = 0; c < p->c; c++)
                        *at(o, y, x, c0 + c) = *at(p, y, x, c);
            c0 += p->c;
        }
        break;
    }
    case OP_ZEROPAD:
        for (int y = 0; y < in->h; y++)
            for (int x = 0; x < in->w; x++)
                for (int c = 0; c < in->c; c++)
                    *at(o, y + n->pad_t, x + n->pad_l, c) = *at(in, y, x, c);
        break;
    case OP__COUNT: die("bad op");
    }
}

static void npy_path(char *out, size_t n, const char *dir, const char *what,
                     int i) {
    snprintf(out, n, "%s/%s%d.npy", dir, what, i);
}

int main(int argc, char **argv) {
    int a = 1;
    long long seed = -1;
    if (argc > 2 && !strcmp(argv[1], "--make-inputs")) {
        seed = atoll(argv[2]);
        a = 3;
    }
    if (argc - a != 3) {
        fprintf(stderr, "usage: refeval [--make-inputs SEED] MODEL.rn "
                        "WEIGHTS.safetensors DIR\n");
        return 2;
    }
    const char *src_path = argv[a], *w_path = argv[a + 1], *dir = argv[a + 2];
    size_t len;
    char *text = read_whole_file(src_path, &len);
    if (!text) fatal("cannot read the model");
    Source src = {src_path, text, len};
    Diag d;
    diag_init(&d, &src, stderr);
    Arena *arena = arena_new();
    Ast *prog = parse_source(&src, arena, &d);
    Graph *g = prog ? elaborate(prog, "model", arena, &d) : NULL;
    if (!g) return 1;

    char err[512], path[1024];
    rn_safetensors *st = rn_st_open(w_path, err, sizeof err);
    if (!st) fatal(err);
    T *vals = calloc((size_t)g->nnodes, sizeof *vals);
    if (!vals) die("out of memory");
    for (int i = 0; i < g->nnodes; i++) vals[i] = tensor(&g->nodes[i]->out);

    for (int i = 0; i < g->ninputs; i++) {
        T *t = &vals[g->inputs[i]->id];
        size_t count = (size_t)t->h * (size_t)t->w * (size_t)t->c;
        const Shape *s = &g->inputs[i]->out;
        rn_i64 dims[4] = {1, s->d[0], s->d[1], s->d[2]};
        npy_path(path, sizeof path, dir, "in", i);
        if (seed >= 0) {
            float *f = malloc(count * sizeof *f);
            rn_rng r;
            rn_rng_seed(&r, (unsigned long long)seed * 31 + (unsigned)i);
            for (size_t k = 0; k < count; k++)
                f[k] = 2 * rn_rng_uniform(&r) - 1;
            if (rn_npy_write(path, s->rank + 1, dims, f, err, sizeof err))
                fatal(err);
            free(f);
        }
        rn_array arr;
        if (rn_npy_read(path, &arr, err, sizeof err) != 0) fatal(err);
        if ((size_t)arr.count != count) fatal("an input of the wrong size");
        for (size_t k = 0; k < count; k++) t->v[k] = arr.data[k];
        rn_array_free(&arr);
    }
    for (int i = 0; i < g->nnodes; i++)
        eval_node(g->nodes[i], st, vals, &vals[i]);
    if (rn_st_check_all_used(st, err, sizeof err) != 0) fatal(err);

    for (int i = 0; i < g->noutputs; i++) {
        const GNode *n = g->outputs[i];
        const T *t = &vals[n->id];
        size_t count = (size_t)t->h * (size_t)t->w * (size_t)t->c;
        float *f = malloc(count * sizeof *f);
        for (size_t k = 0; k < count; k++) f[k] = (float)t->v[k];
        rn_i64 dims[4] = {1, n->out.d[0], n->out.d[1], n->out.d[2]};
        npy_path(path, sizeof path, dir, "ref", i);
        if (rn_npy_write(path, n->out.rank + 1, dims, f, err, sizeof err))
            fatal(err);
        free(f);
    }
    printf("%d %d\n", g->ninputs, g->noutputs);
    for (int i = 0; i < g->nnodes; i++) free(vals[i].v);
    free(vals);
    rn_st_close(st);
    arena_free(arena);
    free(text);
    return 0;
}
