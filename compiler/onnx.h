/* onnx.h: what the three files of the ONNX importer share (private to
 * them; the rest of the compiler sees import_onnx() in rnc.h):
 *
 *   import_onnx.c  reads the protobuf, checks the graph (names, cycles,
 *                  initializers), names layers, reports errors, drives
 *   onnx_fold.c    every node's output shapes in ONNX terms (NCHW), its
 *                  attributes decoded, and constants folded
 *   onnx_map.c     patterns recognised, then layers of the .rn written
 *                  with NCHW turned into NHWC and weights transposed
 *
 * Every stage reports a node it cannot take and goes on (its outputs are
 * then unknown, and nodes reading them are skipped quietly), so that one
 * run lists everything a model needs that rnc lacks. */
#ifndef ONNX_H
#define ONNX_H

#include "rnc.h"
#include "onnx.pb-c.h"

/* Limits that keep a damaged or hostile file from exhausting memory or
 * time; each is a clear error when passed. */
#define ONNX_MAX_FILE ((size_t)2 << 30)   /* protobuf's own limit */
enum {
    ONNX_MAX_RANK = 6,          /* axes of any tensor */
    ONNX_MAX_NODES = 100000,    /* nodes, values and initializers each */
    ONNX_MAX_SMALL = 65536,     /* kernel, stride, dilation, pads, groups */
};
#define ONNX_MAX_ELEMS ((int64_t)1 << 29)   /* of one tensor (2 GiB float) */
#define ONNX_MAX_FOLD ((int64_t)1 << 24)    /* of one constant folded here */
#define ONNX_BUDGET_BASE ((int64_t)1 << 26) /* values made beyond twice the
                                               initializers' */

typedef enum { DT_FLOAT, DT_INT64 } DType;

/* A constant tensor: an initializer, a Constant node, or a folded value. */
typedef struct Const {
    DType dt;
    int64_t count;
    float *f;   /* DT_FLOAT */
    int64_t *i; /* DT_INT64 */
} Const;

/* How the .rn holds an ONNX value (set by onnx_map.c). The .rn tensor is
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
    Shape from;       /* rank 0 unless a flattened image */
    int8_t order[3];
} Layout;

typedef struct OValue {
    const char *name;
    int producer;     /* node index; -1 for graph inputs and initializers */
    int rank;         /* -1: unknown (the producer failed) */
    int64_t dims[ONNX_MAX_RANK];
    DType dt;
    Const *c;         /* the value when it is a constant */
    int *uses;        /* nodes reading it (a node once per input slot) */
    int nuses;
    bool is_output;   /* a graph output */
    Layout *lay;      /* onnx_map.c */
} OValue;

/* Attributes decoded by onnx_fold.c, by op:
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
    int64_t *split;     /* Split: sizes of the outputs */
    int64_t start, stop; /* Slice on one axis */
} Attrs;

typedef struct ONode {
    int index;
    const Onnx__NodeProto *p;
    const char *label;  /* for messages: the node's name or "#index" */
    const char *op;     /* op_type */
    OValue **in;        /* NULL where an optional input is left out */
    int nin;
    OValue **out;
    int nout;
    const char *scope;  /* PyTorch's module path ("layer1.0.conv1") or "" */
    const char *name;   /* the layer name it gives */
    bool live;          /* feeds a graph output */
    bool done;          /* emitted, or absorbed into another node's layer */
    int pattern;        /* onnx_map.c: the pattern it belongs to, or -1 */
    Attrs a;
} ONode;

typedef struct ImportOptions ImportOptions;

typedef struct Onnx {
    Arena *a;
    const char *path;   /* the model file, for messages */
    FILE *errs;
    int nerrors;
    int64_t opset;
    const Onnx__ModelProto *model;
    OValue **values;
    int nvalues;
    ONode *nodes;
    int nnodes;
    int *order;         /* node indices in a topological order */
    OValue **inputs;    /* runtime graph inputs */
    int ninputs;
    OValue **outputs;
    int noutputs;
    const ImportOptions *opt;
    ImportModel *m;
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
int attr_ints(Onnx *o, const ONode *n, const char *name, int64_t *out,
              int max);
/* A TensorProto decoded (dims checked, data length checked): the Const
 * and its dims; false with a message in err. */
bool onnx_tensor(Onnx *o, const Onnx__TensorProto *t, Const **c, int *rank,
                 int64_t *dims, char *err, size_t errlen);
OValue *onnx_new_value(Onnx *o, const char *name);
/* Counts n values made; false (once reported, at node n) past the budget. */
bool onnx_spend(Onnx *o, const ONode *n, int64_t count);

/* onnx_fold.c */
/* Shapes, attributes and constants of every live node, in order. */
void onnx_infer(Onnx *o);
int64_t dims_count(int rank, const int64_t *dims); /* -1 past ONNX_MAX_ELEMS */
Const *const_new(Onnx *o, DType dt, int64_t count);
double const_get(const Const *c, int64_t i);

/* onnx_map.c */
/* Recognises patterns, then writes every live node as .rn layers. */
void onnx_map(Onnx *o);

#endif
