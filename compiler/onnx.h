/* onnx.h: what the files of the ONNX importer share (private to
 * them; the rest of the compiler sees import_onnx() in rnc.h):
 *
 *   import_onnx.c  reads the protobuf, checks the graph (names, cycles,
 *                  initializers), names layers, reports errors, drives
 *   onnx_infer.c   every node's output shapes in ONNX terms (NCHW), its
 *                  attributes decoded (the layer ops' rules)
 *   onnx_window.c  the rules of the ops on H and W (windows, Pad, Resize)
 *   onnx_fold.c    constants folded, the views' shapes, shared helpers
 *   onnx_patterns.c  the subgraphs the language has one op for
 *   onnx_layout.c  which .rn tensor and axes hold each ONNX value; views
 *   onnx_map.c     the layers of the .rn, NCHW turned into NHWC
 *   onnx_weights.c the layers that own weights, transposed to Keras's
 *                  layouts
 *
 * Every stage reports a node it cannot take and goes on (its outputs are
 * then unknown, and nodes reading them are skipped quietly), so that one
 * run lists everything a model needs that rnc lacks. */
#ifndef ONNX_H
#define ONNX_H

#include "onnx.pb-c.h"
#include "rnc.h"

/* Limits that keep a damaged or hostile file from exhausting memory or
 * time; each is a clear error when passed. */
#define ONNX_MAX_FILE ((size_t)2 << 30) /* protobuf's own limit */
enum {
    ONNX_MAX_RANK = 6,       /* axes of any tensor */
    ONNX_MAX_NODES = 100000, /* nodes, values and initializers each */
    ONNX_MAX_SMALL = 65536,  /* kernel, stride, dilation, pads, groups */
};
/* Values of one tensor (2 GiB as float). */
#define ONNX_MAX_ELEMS ((int64_t)1 << 29)
/* One axis of a tensor computed at run time: the language's bound on
 * channels and units. */
#define ONNX_MAX_DIM ((int64_t)1 << 24)
/* Values of one constant folded here. */
#define ONNX_MAX_FOLD ((int64_t)1 << 24)
/* Values an import may make (folded constants, transposed weights) beyond
 * twice the initializers'. */
#define ONNX_BUDGET_BASE ((int64_t)1 << 26)

typedef enum { DT_FLOAT, DT_INT64 } DType;

/* A constant tensor: an initializer, a Constant node, or a folded value. */
typedef struct Const {
    DType dt;
    int64_t count;
    float *f;   /* DT_FLOAT */
    int64_t *i; /* DT_INT64 */
} Const;

/* How the .rn holds an ONNX value (onnx_layout.c). The .rn tensor is
 * [H, W, C] or [N]; axis[k] is the .rn axis that ONNX axis k is, or -1 for
 * a size-1 axis the .rn leaves out (the batch, a kept reduced axis). A .rn
 * axis no ONNX axis names has size 1. A flat [N] made by flattening an
 * image keeps that image's shape in `from` and the order in which ONNX
 * flattened its axes in `order` (2, 0, 1 for PyTorch's C, H, W; 0, 1, 2
 * when the orders agree). */
typedef struct Layout {
    const char *var;
    Shape shape;
    int8_t axis[ONNX_MAX_RANK];
    Shape from; /* rank 0 unless a flattened image */
    int8_t order[3];
} Layout;

typedef struct OValue {
    const char *name;
    int producer; /* node index; -1 for graph inputs and initializers */
    int rank;     /* -1: unknown (the producer failed) */
    int64_t dims[ONNX_MAX_RANK];
    DType dt;
    Const *c;  /* the value when it is a constant */
    int *uses; /* nodes reading it (a node once per input slot) */
    int nuses;
    bool is_output; /* a graph output */
    Layout *lay;    /* onnx_map.c, onnx_layout.c */
} OValue;

/* Attributes decoded by onnx_infer.c and onnx_fold.c, by op:
 *  Conv/ConvTranspose/pools: k, s, d, pads (t, b, l, r), group, out_pad,
 *      ceil, count_pad; auto_pad resolved into pads
 *  axis ops: axis (normalized), perm, axes/naxes, keep
 *  activations/normalization: alpha, beta, eps, lo/hi (Clip)
 *  Resize: mode, scale[2] (integer factors), align */
typedef struct Attrs {
    int k[2], s[2], d[2], pads[4], out_pad[2];
    int64_t group;
    bool ceil, count_pad, keep, trans_a, trans_b, align;
    int axis;
    int perm[ONNX_MAX_RANK];
    int axes[ONNX_MAX_RANK];
    int naxes;
    double alpha, beta, eps, lo, hi;
    bool has_lo, has_hi;
    const char *mode;
    int scale[2];
    int64_t *split;      /* Split: sizes of the outputs */
    int64_t start, stop; /* Slice on one axis */
} Attrs;

typedef struct ONode {
    int index;
    const Onnx__NodeProto *p;
    const char *label; /* for messages: the node's name or "#index" */
    const char *op;    /* op_type */
    OValue **in;       /* NULL where an optional input is left out */
    int nin;
    OValue **out;
    int nout;
    const char *scope; /* PyTorch's module path ("layer1.0.conv1") or "" */
    const char *name;  /* the layer name it gives (onnx_name_layers) */
    bool live;         /* feeds a graph output */
    bool done;         /* emitted, or absorbed into another node's layer */
    bool owner;        /* gives its module's value: it has the module's name */
    int pattern;       /* onnx_patterns.c: its pattern, or -1 */
    Attrs a;
} ONode;

typedef struct ImportOptions ImportOptions;

typedef struct Onnx {
    Arena *a;
    const char *path; /* the model file, for messages */
    FILE *errs;
    int nerrors;
    int64_t opset;
    const Onnx__ModelProto *model;
    OValue **values;
    int nvalues;
    ONode *nodes;
    int nnodes;
    int *order;      /* node indices in a topological order */
    OValue **inputs; /* runtime graph inputs */
    int ninputs;
    OValue **outputs;
    int noutputs;
    const ImportOptions *opt;
    ImportModel *m;
    bool bad_number;       /* onnx_map.c: a number of the text not finite */
    int64_t budget, spent; /* values made here (folded constants, weights
                              transposed): at most budget, set from the
                              initializers' size, so no file costs memory
                              or time out of proportion to itself */
} Onnx;

/* import_onnx.c */
void onnx_node_error(Onnx *o, const ONode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void onnx_error(Onnx *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Attributes of a node: present? and typed getters (a wrong type is a
 * node error and gives the default). */
const Onnx__AttributeProto *onnx_attr(const ONode *n, const char *name);
int64_t attr_int(Onnx *o, const ONode *n, const char *name, int64_t def);
double attr_float(Onnx *o, const ONode *n, const char *name, double def);
const char *attr_str(Onnx *o, const ONode *n, const char *name,
                     const char *def);
/* INTS into out (at most max); the count, or -1 when absent or bad. */
int attr_ints(Onnx *o, const ONode *n, const char *name, int64_t *out, int max);
/* A TensorProto decoded (dims checked, data length checked): the Const
 * and its dims; false with a message in err. */
bool onnx_tensor(Onnx *o, const Onnx__TensorProto *t, Const **c, int *rank,
                 int64_t *dims, char *err, size_t errlen);
OValue *onnx_new_value(Onnx *o, const char *name);
/* Counts n values made; false (once reported, at node n) past the budget. */
bool onnx_spend(Onnx *o, const ONode *n, int64_t count);

/* import_onnx.c: the layer names, after onnx_infer. */
void onnx_name_layers(Onnx *o);

/* import_onnx.c, for the other stages */
int64_t dims_count(int rank, const int64_t *dims); /* -1 past ONNX_MAX_ELEMS */
Const *const_new(Onnx *o, DType dt, int64_t count);
double const_get(const Const *c, int64_t i);

/* onnx_infer.c: shapes, attributes and constants of every live node, in
 * order. */
void onnx_infer(Onnx *o);

/* onnx_fold.c: the rules of the constant and view ops (each checks node
 * n, sets its outputs and Attrs, or reports and returns false) ... */
bool fold_constant(Onnx *o, ONode *n);
bool fold_identity(Onnx *o, ONode *n);
bool fold_dropout(Onnx *o, ONode *n);
bool fold_shape(Onnx *o, ONode *n);
bool fold_binary(Onnx *o, ONode *n);
bool fold_cast(Onnx *o, ONode *n);
bool fold_gather(Onnx *o, ONode *n);
bool fold_unsqueeze(Onnx *o, ONode *n);
bool fold_squeeze(Onnx *o, ONode *n);
bool fold_reshape(Onnx *o, ONode *n);
bool fold_flatten(Onnx *o, ONode *n);
bool fold_transpose(Onnx *o, ONode *n);
bool fold_concat(Onnx *o, ONode *n);
bool fold_slice(Onnx *o, ONode *n);
bool fold_constant_of_shape(Onnx *o, ONode *n);
bool fold_range(Onnx *o, ONode *n);
/* ... and the helpers of every rule: input k or NULL; set an output's
 * shape; an axis normalized to rank; constant inputs as integers or one
 * number (def when left out); the checks that report. */
OValue *fold_in(const ONode *n, int k);
void fold_set_shape(OValue *v, int rank, const int64_t *dims, DType dt);
void fold_same_shape(ONode *n);
bool fold_axis(Onnx *o, ONode *n, int64_t ax, int rank, int *out);
bool fold_ints(Onnx *o, ONode *n, int k, const char *what, int64_t *out,
               int max, int *count);
bool fold_scalar(Onnx *o, ONode *n, int k, const char *what, double def,
                 double *out, bool *given);
bool fold_need_const(Onnx *o, ONode *n, int k, const char *what);
bool fold_need_rank(Onnx *o, ONode *n, int rank);
bool fold_runtime_ok(Onnx *o, ONode *n, int rank, const int64_t *dims);
bool fold_all_const(const ONode *n);
/* The axes of Squeeze/Reduce*: the attribute before from_input_opset, input
 * k from then on; sorted, normalized to rank r; *naxes -1 when none. */
bool fold_axes(Onnx *o, ONode *n, int from_input_opset, int k, int r, int *axes,
               int *naxes);
bool fold_broadcast(Onnx *o, ONode *n, const OValue *a, const OValue *b,
                    int *rank, int64_t *dims);

/* onnx_window.c: the rules of the ops on H and W (each checks node n,
 * decodes its attributes, sets its outputs' shapes, or reports and
 * returns false). */
bool infer_conv(Onnx *o, ONode *n); /* Conv, ConvTranspose */
bool infer_pool(Onnx *o, ONode *n); /* MaxPool, AveragePool */
bool infer_global_pool(Onnx *o, ONode *n);
bool infer_reduce(Onnx *o, ONode *n); /* ReduceMean, ReduceMax */
bool infer_pad(Onnx *o, ONode *n);
bool infer_resize(Onnx *o, ONode *n); /* Resize, Upsample */

/* onnx_patterns.c */
typedef enum {
    PAT_SILU,       /* x * Sigmoid(x) */
    PAT_HARD_SWISH, /* x * HardSigmoid(x), alpha 1/6, beta 1/2 */
    PAT_GELU,       /* 0.5 x (1 + erf(x / sqrt 2)) */
    PAT_GELU_TANH,  /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    PAT_LAYERNORM,  /* eps, gamma, beta (either may be NULL) */
    PAT_SHUFFLE,    /* groups */
} PatKind;

enum { MAX_TNODES = 10 }; /* nodes of the longest pattern */

typedef struct Pattern {
    PatKind kind;
    OValue *x;           /* its input */
    ONode *first, *root; /* the layer is named after first; root's output
                            is the result */
    ONode *nodes[MAX_TNODES];
    int nnodes;
    double eps;
    const Const *gamma, *beta;
    int groups;
} Pattern;

typedef struct Patterns {
    Pattern *p;
    int n, cap;
} Patterns;

/* Finds the patterns among the live nodes; each node found gets the index
 * of its pattern in ONode.pattern. */
void onnx_patterns(Onnx *o, Patterns *ps);
/* Is u live, not yet taken by a pattern or a layer, with a known output
 * computed at run time? */
bool onnx_node_free(const ONode *u);
/* A constant of c values along the last axis of a rank-r value ([c],
 * [1, c], ...). */
bool onnx_channel_vector(const OValue *v, int r, int64_t c);
/* Equal within float32 rounding of an attribute. */
bool onnx_near(double v, double k);

/* onnx_layout.c: a new Layout; ONNX [1, C, H, W] as .rn [H, W, C]; ONNX
 * [1, N] as .rn [N]; v's layout under another variable. */
Layout *lay_new(Onnx *o, const char *var, Shape s);
Layout *lay_image(Onnx *o, const char *var, const OValue *v);
Layout *lay_flat(Onnx *o, const char *var, const OValue *v);
Layout *lay_relabel(Onnx *o, const OValue *v, const char *var);
/* Is ONNX axis k of v .rn axis want (or a size-1 axis where the .rn has
 * size 1 too)? Is v an NCHW image held as [H, W, C]? Is its ONNX axis k
 * the .rn channel (last) axis? */
bool lay_axis_is(const OValue *v, int k, int want);
bool lay_is_image(const OValue *v);
bool lay_is_channel(const OValue *v, int k);
/* The variable of v for an op that reads an NCHW image (a [1, C, 1, 1]
 * held flat is reshaped first, named after node n); NULL after an error. */
const char *lay_image_var(Onnx *o, ONode *n, OValue *v);
/* out, a flatten of x from ONNX axis `from`: a flatten layer `name` when
 * x is an image, the same tensor when it is flat already. */
void lay_flatten(Onnx *o, OValue *x, OValue *out, int from, const char *name);
/* Transpose, Flatten, Reshape, Squeeze, Unsqueeze: out's layout. */
void lay_view(Onnx *o, ONode *n);
/* The .rn element that ONNX feature f of a flat value held in l is. */
int64_t lay_flat_row(const Layout *l, int64_t f);
/* "1, 3, 224, 224" */
const char *lay_dims_text(Onnx *o, const OValue *v);

/* onnx_map.c: finds the patterns, then writes every live node as .rn
 * layers. */
void onnx_map(Onnx *o);
/* ... and what onnx_weights.c shares with it: the layer of node n
 * (`VAR = OP(x, ARGS, name=n's name)`); the shortest decimal of a float32
 * attribute; "3" or "[3, 1]"; ", stride=..., padding=..., dilation=..." of
 * a window (a pool's stride defaults to its size); n floats of the
 * import's budget; a constant's values along x's channel axis (NULL when
 * it varies along another). */
const char *map_emit1(Onnx *o, const ONode *n, const char *op, const char *x,
                      const char *args);
const char *map_num(Onnx *o, double v);
const char *map_pair(Onnx *o, int a, int b);
const char *map_window_args(Onnx *o, const Attrs *a, bool pool);
float *map_floats(Onnx *o, int64_t n);
float *map_channel_values(Onnx *o, const OValue *x, const OValue *c,
                          int64_t *nch);

/* onnx_weights.c: the nodes whose layers own weights. */
void map_conv(Onnx *o, ONode *n);           /* Conv */
void map_conv_transpose(Onnx *o, ONode *n); /* ConvTranspose */
void map_batchnorm(Onnx *o, ONode *n);
void map_layernorm(Onnx *o, ONode *n, OValue *x, OValue *out, double eps,
                   const Const *gamma, const Const *beta);
void map_gemm(Onnx *o, ONode *n);
void map_matmul(Onnx *o, ONode *n); /* with the Add of its bias */
void map_prelu(Onnx *o, ONode *n);

#endif
