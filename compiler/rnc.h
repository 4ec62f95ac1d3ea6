/* rnc.h: the one header of the compiler, sectioned by the file that
 * implements each part (as chibicc.h and QBE's all.h are).
 *
 * Data flows one way:
 *   source -> parse (grammar/) -> Ast -> elaborate.c -> Graph
 *          -> shape.c (called by elaborate on every new node)
 *          -> passes/ -> plan.c -> summary.c / dot.c / memory.c
 *          -> lower.c (steps) -> emit_c.c (and jit.c) / emit_standalone.c
 */
#ifndef RNC_H
#define RNC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rnrt.h" /* the kernels' descriptors that steps hold (lower.c) */

#define RNC_VERSION "0.1.0"

/* ---------------------------------------------------------------- util.c */

/* One arena per compilation; everything the compiler allocates lives in it
 * and goes at once with arena_free. Allocation failure aborts (internal). */
typedef struct Arena Arena;
Arena *arena_new(void);
void arena_free(Arena *a);
void *arena_alloc(Arena *a, size_t size); /* zeroed, 16-byte aligned */
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A growable byte buffer (malloc-backed, not arena: outputs can be large). */
typedef struct Buf {
    char *data;
    size_t len, cap;
} Buf;
void buf_printf(Buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_append(Buf *b, const char *s, size_t n);
void buf_free(Buf *b);

/* 1234567 -> "1,234,567" (Python's "{:,}"), into out or the arena. */
void format_thousands(int64_t v, char *out, size_t outlen);
const char *arena_thousands(Arena *a, int64_t v);

/* An internal compiler bug: message and abort (never for user errors). */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole file, NUL-terminated; NULL with errno set on failure
 * (EFBIG past 16 MiB: sources). read_file_max takes its own cap. */
char *read_whole_file(const char *path, size_t *len);
char *read_file_max(const char *path, size_t max, size_t *len);
/* Files are written by the runtime's rn_write_files_atomic (rnrt.h): a
 * temporary in the same folder renamed into place, all of model.c and
 * model.h staged before either is renamed. */
/* Why a model name cannot prefix the generated C (a C keyword, a name the
 * C library's headers or the generated code use, rn_..., reserved), or
 * NULL when it can. model_name_safe: the name, or NAME_model (model_NAME)
 * when the name cannot be: what a file's stem or an import gives. */
const char *model_name_problem(const char *name);
const char *model_name_safe(Arena *a, const char *name);

/* --------------------------------------------------------------- paths.c */

/* `rnc --cflags` (cflags true) or `--libs`: prints what a C compiler needs
 * to build generated code against the runtime beside this rnc (an install
 * or the build tree), or an error on stderr. Returns the exit status. */
int runtime_flags_print(FILE *out, const char *argv0, bool cflags);

/* ---------------------------------------------------------------- diag.c */

typedef struct Loc {
    int line, col; /* 1-based; 0 = no location */
} Loc;

/* The source text being compiled, for messages with the line and a caret. */
typedef struct Source {
    const char *path; /* as the user named it */
    const char *text; /* NUL-terminated */
    size_t len;
} Source;

/* Where diagnostics go. Errors print as
 *   FILE:LINE:COL: error: MESSAGE
 *     <source line>
 *     <caret>
 * and count in nerrors; notes ("called from here") follow their error. */
typedef struct Diag {
    const Source *src;
    FILE *out;
    int nerrors;
    int max_errors; /* stop reporting after this many (0 = 20) */
} Diag;
void diag_init(Diag *d, const Source *src, FILE *out);
void diag_error(Diag *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_note(Diag *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The closest of `cands` (NULL-terminated) to `word` by edit distance, or
 * NULL when none is close enough to suggest ("did you mean 'padding'?"). */
const char *did_you_mean(const char *word, const char *const *cands);

/* ---------------------------------------------------- grammar/ and ast.c */

/* Operators of Ast BINARY/UNARY nodes. */
typedef enum {
    BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_MOD,
    BIN_EQ, BIN_NE, BIN_LT, BIN_LE, BIN_GT, BIN_GE,
    BIN_AND, BIN_OR,
    UN_NEG, UN_NOT,
} AstOp;

typedef enum {
    /* expressions */
    AST_INT,    /* ival */
    AST_FLOAT,  /* fval */
    AST_BOOL,   /* ival: 0 or 1 */
    AST_STRING, /* str: the unescaped text of "..." */
    AST_NAME,   /* str: a variable, an enum word (same, relu) or a callee */
    AST_LIST,   /* args: the items */
    AST_BINARY, /* op, lhs, rhs */
    AST_UNARY,  /* op (UN_NEG, UN_NOT), lhs */
    AST_COND,   /* cond ? lhs : rhs */
    AST_CALL,   /* str: callee; args: positional exprs then AST_KWARGs */
    AST_KWARG,  /* str: the keyword; lhs: the value (only inside args) */
    /* statements */
    AST_MODEL,  /* str: model name */
    AST_INPUT,  /* str: name; args: the dimensions (1 or 3 exprs) */
    AST_ASSIGN, /* str: name; lhs: value */
    AST_OUTPUT, /* lhs: value */
    AST_FUNC,   /* str: name; ival: 1 for `layer`, 0 for `block`;
                   args: AST_PARAMs; body: statements */
    AST_PARAM,  /* str: name; lhs: default value or NULL */
    AST_RETURN, /* lhs: value */
    AST_FOR,    /* str: loop variable; lhs: the list; body */
    AST_IF,     /* cond; body: then-statements; els: an AST_IF (else if),
                   a statement list (else), or NULL */
} AstKind;

typedef struct Ast Ast;
struct Ast {
    AstKind kind;
    Loc loc;   /* of the node's first token; for calls, of the callee name */
    Ast *next; /* next statement / list item / argument / parameter */
    const char *str;
    int64_t ival;
    double fval;
    AstOp op;
    Ast *lhs, *rhs, *cond;
    Ast *args, *body, *els;
};

/* Parses a whole source into its statement list. Reports every syntax
 * error it can through `d` (several per run) and returns NULL if any. */
Ast *parse_source(const Source *src, Arena *a, Diag *d);
Ast *ast_new(Arena *a, AstKind kind, Loc loc);

/* ------------------------------------------------------------- the graph */

/* Tensor shapes, batch implicit: rank 3 is [H, W, C], rank 1 is [N]. */
typedef struct Shape {
    int rank;
    int64_t d[3];
} Shape;

/* Activation functions, the words of `activation=` and of the standalone
 * ops (Keras's definitions; docs/language.md). The first six codes are
 * also the runtime's (rn_k_act; conv.c and depthwise.c fuse 1 and 2). */
typedef enum {
    ACT_NONE,         /* identity; also what `linear` means */
    ACT_RELU,
    ACT_RELU6,
    ACT_SIGMOID,
    ACT_TANH,
    ACT_SOFTMAX,      /* over the last axis */
    ACT_SILU,         /* x * sigmoid(x); also `swish` */
    ACT_GELU,         /* 0.5 x (1 + erf(x / sqrt 2)) */
    ACT_GELU_TANH,    /* the tanh approximation of gelu */
    ACT_HARD_SIGMOID, /* clip(alpha x + beta, 0, 1): 0.2, 0.5 unless an
                         Activation layer's GNode says otherwise */
    ACT_HARD_SWISH,   /* x * relu6(x + 3) / 6; also `hard_silu` */
    ACT_ELU,          /* alpha 1 */
    ACT_SELU,
    ACT_SOFTPLUS,
    ACT_SOFTSIGN,
    ACT_EXPONENTIAL,
    ACT_MISH,
    ACT_LEAKY_RELU,   /* slope 0.2 (Keras 3's activation) */
    ACT__COUNT
} Act;
extern const char *const act_names[]; /* "none","relu",... by Act */

/* UpSampling2D's interpolation. */
typedef enum {
    INTERP_NEAREST,  /* repeats pixels */
    INTERP_BILINEAR, /* half-pixel centers, or align_corners */
} Interp;

typedef enum {
    PAD_VALID,    /* no padding */
    PAD_SAME,     /* TensorFlow's rule, odd pixel bottom/right */
    PAD_EXPLICIT, /* pad_t/b/l/r as written */
} PadMode;

/* Layer kinds, one table: enum, DSL op name, Keras auto-name base, Keras
 * class name. OP_ACTIVATION covers every activation word used as an op
 * (relu(x), swish(x), ...: a Keras `Activation` layer); its function is
 * in GNode.act. The Keras activation layers with arguments (ReLU, ELU,
 * LeakyReLU, Softmax, PReLU) are kinds of their own. */
#define RN_OPS(X)                                                        \
    X(INPUT, "input", "input", "InputLayer")                             \
    X(CONV2D, "conv2d", "conv2d", "Conv2D")                              \
    X(DEPTHWISE_CONV2D, "depthwise_conv2d", "depthwise_conv2d",          \
      "DepthwiseConv2D")                                                 \
    X(SEPARABLE_CONV2D, "separable_conv2d", "separable_conv2d",          \
      "SeparableConv2D")                                                 \
    X(CONV2D_TRANSPOSE, "conv2d_transpose", "conv2d_transpose",          \
      "Conv2DTranspose")                                                 \
    X(DENSE, "dense", "dense", "Dense")                                  \
    X(BATCHNORM, "batchnorm", "batch_normalization",                     \
      "BatchNormalization")                                              \
    X(LAYERNORM, "layernorm", "layer_normalization",                     \
      "LayerNormalization")                                              \
    X(NORMALIZATION, "normalization", "normalization", "Normalization")  \
    X(ACTIVATION, "activation", "activation", "Activation")              \
    X(RELU, "relu", "re_lu", "ReLU")                                     \
    X(ELU, "elu", "elu", "ELU")                                          \
    X(LEAKY_RELU, "leaky_relu", "leaky_re_lu", "LeakyReLU")              \
    X(SOFTMAX, "softmax", "softmax", "Softmax")                          \
    X(PRELU, "prelu", "p_re_lu", "PReLU")                                \
    X(MAXPOOL, "maxpool", "max_pooling2d", "MaxPooling2D")               \
    X(AVGPOOL, "avgpool", "average_pooling2d", "AveragePooling2D")       \
    X(GLOBAL_AVGPOOL, "global_avgpool", "global_average_pooling2d",      \
      "GlobalAveragePooling2D")                                          \
    X(GLOBAL_MAXPOOL, "global_maxpool", "global_max_pooling2d",          \
      "GlobalMaxPooling2D")                                              \
    X(FLATTEN, "flatten", "flatten", "Flatten")                          \
    X(RESCALE, "rescale", "rescaling", "Rescaling")                      \
    X(ADD, "add", "add", "Add")                                          \
    X(SUBTRACT, "subtract", "subtract", "Subtract")                      \
    X(MULTIPLY, "multiply", "multiply", "Multiply")                      \
    X(MAXIMUM, "maximum", "maximum", "Maximum")                          \
    X(MINIMUM, "minimum", "minimum", "Minimum")                          \
    X(AVERAGE, "average", "average", "Average")                          \
    X(CONCAT, "concat", "concatenate", "Concatenate")                    \
    X(DROPOUT, "dropout", "dropout", "Dropout")                          \
    X(ZEROPAD, "zeropad", "zero_padding2d", "ZeroPadding2D")              \
    X(RESHAPE, "reshape", "reshape", "Reshape")                          \
    X(CROP, "crop", "cropping2d", "Cropping2D")                          \
    X(UPSAMPLE, "upsample", "up_sampling2d", "UpSampling2D")             \
    X(CHANNEL_SHUFFLE, "channel_shuffle", "channel_shuffle",             \
      "ChannelShuffle")                                                  \
    X(CHANNEL_SLICE, "channel_slice", "channel_slice", "ChannelSlice")

typedef enum {
#define X(id, op, base, cls) OP_##id,
    RN_OPS(X)
#undef X
    OP__COUNT
} OpKind;

typedef struct OpInfo {
    const char *op;    /* DSL name */
    const char *base;  /* Keras auto-name base: conv2d, conv2d_1, ... */
    const char *klass; /* Keras class name for the summary */
} OpInfo;
extern const OpInfo op_info[OP__COUNT];

/* A `layer` call: shown as one summary row unless --expand. Groups nest. */
typedef struct Group Group;
struct Group {
    const char *name;  /* in its scope: "residual_unit_4" */
    const char *path;  /* dotted from the top: "outer.residual_unit_4" */
    const char *klass; /* CamelCase of the layer's name: "ResidualUnit" */
    Group *parent;
    bool frozen;       /* trainable=false on it or on a group around it */
    Loc loc;           /* the call site */
    struct GNode *result; /* the node the layer returns */
};

typedef struct GNode GNode;
struct GNode {
    int id;           /* index in Graph.nodes: a topological order */
    OpKind op;
    const char *name; /* Keras layer name within its group: "conv2d_1" */
    const char *path; /* dotted full name, the weight prefix:
                         "residual_unit_4.conv2d_1" */
    Group *group;     /* innermost `layer` instance, NULL at top level */
    Loc loc;          /* the op call in the source */
    Loc site;         /* outermost call site when inside a block/layer */
    GNode **in;       /* inputs */
    int nin;
    Shape out;        /* output shape (set by shape_infer) */

    /* attributes, by op:
     *  CONV2D:           filters, k*, s*, d*, pad*, groups, bias, act
     *  DEPTHWISE_CONV2D: multiplier, k*, s*, d*, pad*, bias, act
     *  SEPARABLE_CONV2D: filters, multiplier, k*, s*, d*, pad*, bias, act;
     *                    scratch (its depthwise result)
     *  CONV2D_TRANSPOSE: filters, k*, s*, d*, pad*, opad_*, bias, act:
     *                    output pixel o = i*s + k*d - pad_t (pad_l); the
     *                    size as Keras's deconv_output_length gives (SAME,
     *                    VALID, output_padding opad_* when opad_given) or
     *                    PyTorch's (explicit pads); pad_b/pad_r resolved
     *                    to PyTorch's terms (what the output passes beyond
     *                    is output padding)
     *  DENSE:            filters (= units), bias, act; on [H, W, C] it acts
     *                    on C at every pixel
     *  BATCHNORM:        epsilon, no_center, no_scale
     *  LAYERNORM:        epsilon, no_center, no_scale
     *  NORMALIZATION:    norm_mean, norm_var (constants of norm_n values,
     *                    1 or C) or, when NULL, weights
     *  ACTIVATION:       act; alpha, beta (hard_sigmoid only)
     *  RELU:             has_max, max_value, negative_slope, threshold
     *  ELU, LEAKY_RELU:  alpha
     *  SOFTMAX:          nothing (over the last axis)
     *  PRELU:            shared_axes
     *  ADD, SUBTRACT, MULTIPLY, MAXIMUM, MINIMUM, AVERAGE: nothing; the
     *                    operands broadcast (node_is_merge)
     *  MAXPOOL/AVGPOOL:  k* (pool size), s*, pad*, ceil_mode; AVGPOOL
     *                    also count_include_pad
     *  GLOBAL_*POOL:     keepdims
     *  RESCALE:          scale, offset
     *  DROPOUT:          rate
     *  ZEROPAD:          pad_t/b/l/r (explicit)
     *  RESHAPE:          target (as written: one entry may be -1); no code,
     *                    its value is its input's (node_is_alias)
     *  CROP:             pad_t/b/l/r: the rows and columns cut off
     *  UPSAMPLE:         kh, kw (the factors), interp, align_corners
     *  CHANNEL_SHUFFLE:  groups
     *  CHANNEL_SLICE:    start, stop (channels [start, stop)) */
    int64_t filters;
    int kh, kw, sh, sw, dh, dw;
    PadMode padding;
    int pad_t, pad_b, pad_l, pad_r; /* resolved by shape_infer for SAME */
    int groups, multiplier;
    int opad_h, opad_w; /* CONV2D_TRANSPOSE's output padding as written */
    bool opad_given;  /* ... given (else Keras's None) */
    int64_t scratch;  /* floats of working space after the output in its
                         arena slot (separable: the depthwise result) */
    bool bias;
    bool frozen;      /* trainable=false (or inside a frozen group): its
                         parameters count as non-trainable */
    Act act;
    double epsilon, scale, offset, rate;
    bool no_center, no_scale; /* BATCHNORM, LAYERNORM: Keras's
                                 center=False (no beta), scale=False (no
                                 gamma) */
    const double *norm_mean, *norm_var; /* NORMALIZATION's constants */
    int64_t norm_n;
    double alpha, beta;
    bool has_max;     /* RELU: max_value given (else no upper clip) */
    double max_value, negative_slope, threshold;
    int shared_axes;  /* PRELU: bit k set for Keras axis k (1..3) shared */
    bool ceil_mode;   /* pools: PyTorch's output size rounding up */
    bool count_include_pad; /* avgpool: divide by the padded window */
    bool keepdims;    /* global pools: output [1, 1, C] */
    Shape target;     /* RESHAPE */
    Interp interp;    /* UPSAMPLE */
    bool align_corners;
    int64_t start, stop; /* CHANNEL_SLICE */

    /* counts (set by shape_infer) */
    int64_t params;    /* all, as Keras counts */
    int64_t trainable; /* params minus BatchNorm moving statistics; 0 when
                          frozen */
    int64_t macs;      /* multiply-accumulates of one inference */

    /* memory plan (set by plan.c), in floats from the arena's start;
     * -1 for graph inputs (read from the caller's buffer) */
    int64_t arena_off;
    int last_use;      /* id of the last node that reads this output */

    /* fusion (set by compiler/passes/; all zero when no pass ran) */
    GNode *absorbed_by; /* runs inside that node's epilogue (a batchnorm,
                           residual add or activation); its output is the
                           absorber's buffer and it has no code of its own */
    GNode *fold_bn;     /* conv/depthwise: the batchnorm folded into its
                           kernel (scale) and bias at load */
    GNode *residual;    /* conv2d: the add operand its epilogue adds */
    Act epi_act;        /* conv/depthwise/dense: the activation of an absorbed
                           node, applied last (the node's own act is NONE) */
    GNode *slice_of;    /* writes its output straight into this concat's
                           buffer, channels from slice_off (no copy) */
    int64_t slice_off;
    bool sliced;        /* concat: every operand writes into its buffer */
    GNode *view_of;     /* concat: its operands are the first ones of this
                           sliced concat's, so its value is that buffer's
                           first channels (no code, no buffer): its readers
                           (convs) read them with the longer pixel stride */
    bool pad_folded;    /* zeropad: the conv reading it pads instead; its
                           value is its input's (no code, no buffer) */
    GNode *pre_bn;      /* conv2d: the batchnorm (then pre_act) its prologue
                           applies to its input as it reads it
                           (fuse_prologue.c): it reads pre_bn's input */
    Act pre_act;
    GNode *pre_mul;     /* conv2d: the multiply of an image by a channel
                           scale (one pixel) its prologue applies instead:
                           it reads the image (node_read, node_pre_scale) */
};

/* One buffer of the activation arena (set by plan.c): the node that owns
 * it, its place in floats (size rounded up to the alignment), and its life
 * in steps: a step is the id of a node whose code runs (node_exec); the
 * buffer is live in steps [birth, end], end = nnodes for a graph output. */
typedef struct PlanBuf {
    GNode *owner;
    int64_t off, size;
    int birth, end;
} PlanBuf;

typedef struct Graph {
    const char *name; /* model name: `model NAME` or the file's stem */
    GNode **nodes;    /* topological order */
    int nnodes, cap;
    GNode **inputs;
    int ninputs;
    GNode **outputs;
    int noutputs;
    Group **groups;   /* in creation order */
    int ngroups, gcap;
    int64_t arena_floats; /* activation arena size (set by plan.c) */
    PlanBuf *bufs;        /* the arena's buffers, by birth (set by plan.c) */
    int nbufs;
    Arena *arena;
} Graph;

/* ----------------------------------------------------------- elaborate.c */

/* Evaluates the program (blocks, layers, loops, conditionals, compile-time
 * values) into a flat graph; every new node goes through shape_infer.
 * `default_name` names the model when there is no `model` statement.
 * Reports through `d`; returns NULL if any error. */
Graph *elaborate(Ast *prog, const char *default_name, Arena *a, Diag *d);

/* ------------------------------------------------------------- import.c */

/* What an importer (import_onnx.c, import_keras.c) builds and import.c
 * writes: a .rn program (an opening comment, `layer` definitions, inputs,
 * one layer a line, outputs) and the weights its layers own. Strings are
 * copied; weight data is borrowed until import_check or import_write
 * returns. */
typedef struct ImportModel ImportModel;

/* A model named `name` (made a valid model name: `name_model` when the
 * name is one the generated C cannot take). */
ImportModel *import_new(Arena *a, const char *name);
/* One line of the comment that opens the file ("# " is added). */
void import_comment(ImportModel *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The source of the statements that follow, until the next call: how
 * messages name it ("layer conv1 (Conv2D)") and the importer's handle
 * (given back to the weight function). With a source, an error in reading
 * a statement back is the source model's (import_check returns it as
 * "SOURCE: message"); without one (NULL), the importer checked it and a
 * failure is rnc's own bug (an internal error). */
void import_source(ImportModel *m, const char *who, void *src);
/* `input VAR[dims]` (rank 3 or 1, top level only), VAR derived from name;
 * returns VAR. */
const char *import_input(ImportModel *m, const char *name, const Shape *s);
/* `layer DEF(PARAMS) {`: the statements that follow go into a definition
 * until import_end. DEF is derived from def (unique among definitions),
 * the parameters' variables from params (into vars). Returns DEF, which
 * import_layer then calls as an op, once; its layers' weights are named
 * CALL.NAME.SUFFIX. Definitions may be opened inside definitions. */
const char *import_begin(ImportModel *m, const char *def,
                         const char *const *params, int nparams,
                         const char **vars);
/* `return VAR` and `}`. */
void import_end(ImportModel *m, const char *var);
/* `VAR = OP(IN..., ARGS, name="NAME")`: in are variables returned before
 * in the same definition (or the top level), args the other arguments as
 * .rn text ("64, 3, stride=2") or NULL. NAME is `name` made printable and
 * unique in its scope (a repeat gets _1, _2, ...); VAR is a readable
 * identifier derived from it. Returns VAR. */
const char *import_layer(ImportModel *m, const char *op, const char *name,
                         const char *const *in, int nin, const char *args);
/* A comment at the end of the last layer's line. */
void import_note(ImportModel *m, const char *note);
/* A weight of the last layer: NAME.SUFFIX, float32, dims in the layout the
 * op's .rn weights have; data holds their product of floats. */
void import_weight(ImportModel *m, const char *suffix, int rank,
                   const int64_t *dims, const float *data);
/* Where the weights of layers given none by import_weight come from: once
 * the program reads back, fn is asked for each weight such a layer owns,
 * in the graph's order (spec: the name suffix and shape the program
 * expects, k its place among the layer's weights; src the layer's
 * source handle). It returns the data (spec's shape, float32), or NULL
 * after telling the problem itself; import_check then fails. */
struct WeightSpec; /* ops.c's, below */
typedef const float *(*ImportWeightFn)(void *ctx, void *src,
                                       const struct WeightSpec *spec, int k);
void import_weights_from(ImportModel *m, ImportWeightFn fn, void *ctx);
/* `output VAR` (top level only). */
void import_output(ImportModel *m, const char *var);
/* The layer name of the value VAR holds (an input's: VAR): what the text
 * shows may be another variable (VAR is the importer's handle). */
const char *import_name_of(ImportModel *m, const char *var);
/* A number as the importers write it: the shortest decimal that reads back
 * as the same float32 (1e-5, not 1e-05 or 9.99999975e-06), or 1/k when
 * that is shorter (1/6, 1/127.5). False (and the shortest double) when
 * float32 cannot hold it. */
bool import_number(char *out, size_t n, double v);
/* Appends the program text to *text (layers that feed no output left out)
 * and reads it back like any .rn, then gathers the weights the program
 * expects (given ones must be exactly those). -1 with err for what the
 * program cannot hold (an input that feeds no output, too many layers) or
 * a source's error (see import_source); with an empty err when the weight
 * function told the problems. A text that does not compile at a statement
 * without source, or given weights that disagree, are internal errors
 * (die). rn_path names the text in messages. */
int import_check(ImportModel *m, const char *rn_path, Buf *text, char *err,
                 size_t errlen);
/* import_check, then the safetensors file's bytes (malloc'd) in *st. */
int import_encode(ImportModel *m, const char *rn_path,
                  const char *weights_path, Buf *text, void **st,
                  size_t *stlen, char *err, size_t errlen);
/* import_encode, then the text and the weights written together and
 * atomically. 0, or -1 with err and nothing written. */
int import_write(ImportModel *m, const char *rn_path,
                 const char *weights_path, char *err, size_t errlen);

/* -------------------------------------------------------- import_onnx.c */

/* What --import takes beyond the model: the H, W, C of image inputs whose
 * sizes the model leaves symbolic (0: not given). */
typedef struct ImportOptions {
    int64_t input_hwc[3];
} ImportOptions;
/* An ONNX model as PyTorch's exporter writes it (opset 11 to 17): the .rn
 * statements and weights. data/len hold the file, path names it in
 * messages. Everything that cannot be imported is reported to errs, one
 * line each (PATH: node NAME (OpType): reason); NULL then. */
ImportModel *import_onnx(const char *path, const void *data, size_t len,
                         const char *model_name, const ImportOptions *opt,
                         Arena *a, FILE *errs);
/* The same, reading the file (at most 2 GiB). */
ImportModel *import_onnx_file(const char *path, const char *model_name,
                              const ImportOptions *opt, Arena *a, FILE *errs);
/* Is the file ONNX: its .onnx extension, or how ONNX files begin? */
bool import_is_onnx(const char *path);

/* ------------------------------------------------------- import_keras.c */

/* `rnc --import MODEL` for Keras's TF.js layers format: MODEL is model.json
 * or a directory holding one, its weight shards beside it. Writes the .rn
 * program and its safetensors weights together, or lists every problem on
 * `errs` and writes nothing. `stem` names the model (what the .rn's file
 * name gives it); opt (or NULL) gives the sizes an input leaves None.
 * Returns the exit status (0, or 1 for a bad model). */
int keras_import(const char *model, const char *rn_path,
                 const char *weights_path, const char *stem,
                 const ImportOptions *opt, FILE *errs);
/* The same without writing: the .rn text in *rn and the safetensors file's
 * bytes in *st (malloc'd; freed by the caller) when it returns 0. */
int keras_convert(const char *model, const char *rn_path,
                  const char *weights_path, const char *stem,
                  const ImportOptions *opt, FILE *errs, Buf *rn,
                  unsigned char **st, size_t *stlen);

/* -------------------------------------------------------------- shape.c */

/* Computes n->out, the resolved SAME paddings, params, trainable and macs
 * from the inputs' shapes and the attributes. On a user error writes a
 * message in the user's words (no location) to err and returns false. */
bool shape_infer(GNode *n, char *err, size_t errlen);
/* Formats a shape as Keras prints it: "(None, 32, 32, 3)" / "(None, 10)" */
void shape_format(const Shape *s, char *out, size_t outlen);
int64_t shape_count(const Shape *s); /* elements per batch item */
bool shape_equal(const Shape *a, const Shape *b);
/* add, subtract, multiply, maximum, minimum, average: elementwise over
 * operands of one rank that broadcast (each axis equal or 1). */
bool node_is_merge(const GNode *n);
/* flatten, dropout, reshape and a folded zeropad: no code, no buffer; the
 * value is the input's floats in the same order. */
bool node_is_alias(const GNode *n);

/* The weight tensors a node owns, in Keras's names and layouts. */
enum { MAX_WEIGHTS = 4 };
typedef struct WeightSpec {
    const char *suffix; /* "kernel", "bias", "gamma", "beta", "moving_mean",
                           "moving_variance", "depthwise_kernel" */
    int rank;
    int64_t dims[4];
    bool trainable;
} WeightSpec;
/* Fills out[] (at most MAX_WEIGHTS) and returns how many. */
int node_weights(const GNode *n, WeightSpec out[MAX_WEIGHTS]);

/* Totals over the graph. */
typedef struct Totals {
    int64_t params, trainable, macs, weight_bytes;
} Totals;
Totals graph_totals(const Graph *g);

/* ------------------------------------------------------ compiler/passes/ */

/* Passes over the shaped graph, run in this order by passes_run (run.c)
 * before the plan. They keep every node (the summary shows each layer) and
 * only set the fusion fields of GNode. */
void passes_run(Graph *g);           /* run.c: all of them, in order */
void pass_fold_batchnorm(Graph *g);  /* fold_batchnorm.c */
void pass_fuse_residual(Graph *g);   /* fuse_residual.c */
void pass_fuse_activation(Graph *g); /* fuse_activation.c */
void pass_concat_slices(Graph *g);   /* concat_slices.c */
void pass_fold_zeropad(Graph *g);    /* fold_zeropad.c */
void pass_fuse_prologue(Graph *g);   /* fuse_prologue.c */
/* What node n's code reads as input i: in[i], or for a conv with a
 * prologue, its batchnorm's input or its multiply's image. */
const GNode *node_read(const GNode *n, int i);
/* A conv's prologue scale of one pixel (pre_mul's operand), or NULL. */
const GNode *node_pre_scale(const GNode *n);
/* uses.c: how many input slots read v (plus one per graph output it is),
 * for the passes; and what their marks mean, for every stage after them
 * (the one place that reads absorbed_by, slice_of, sliced, pad_folded):
 * the node whose code computes v (its absorber's when fused), the node
 * whose code computes v's floats (through aliases too), the node whose
 * buffer holds v (a slice's concat), whether v has code of its own, the
 * activation v's code applies last, and the activations a convolution's
 * epilogue applies on registers. */
int pass_readers(const Graph *g, const GNode *v);
GNode *node_exec(const GNode *v);
GNode *node_storage(const GNode *v);
const GNode *node_owner(const GNode *v);
bool node_has_code(const GNode *v);
Act node_act(const GNode *v);
bool act_in_epilogue(Act a);

/* --------------------------------------------------------------- plan.c */

/* Plans the activation arena by liveness: sets every node's arena_off and
 * last_use and g->arena_floats. Flatten, dropout and reshape alias their
 * input; a node absorbed by a fusion pass has its absorber's buffer, a
 * concat slice's producer writes into the concat's, and a node's scratch
 * follows its output in its buffer. */
void plan_arena(Graph *g);
/* Floats of n's buffer: its output, then its scratch, each aligned. */
int64_t plan_floats(const GNode *n);
/* Where n's scratch starts in the arena (after plan_arena). */
int64_t plan_scratch_offset(const GNode *n);

/* ------------------------------------------------------------ summary.c */

void summary_print(FILE *out, Graph *g, bool expand);
/* Keras's print_row: fields cut to their columns, wrapped after "),"
 * "}," "]," "',"; appends the lines to b (exported for the unit tests). */
void summary_row(Buf *b, const char *const *fields, const int *positions,
                 int ncols, int nested);

/* ------------------------------------------------------------- memory.c */

/* `rnc --memory`: every layer with its buffer, weight bytes, the bytes live
 * during its step and the arena's top, read from the plan (g->bufs). */
void memory_print(FILE *out, const Graph *g);
/* "4096", "64K", "3M", "1G" (powers of 1024) -> bytes; false if malformed. */
bool memory_parse_bytes(const char *s, int64_t *out);
/* --max-arena / --max-weights (bytes; -1: no limit): an error through d,
 * at the layer at the arena's peak (with what is alive there) or the
 * heaviest layer; false when over. */
bool memory_check_limits(const Graph *g, int64_t max_arena,
                         int64_t max_weights, Diag *d);

/* ------------------------------------------------------------ compare.c */

/* `rnc --compare REF_DIR DIR [--tol T]`: the table on out; returns the exit
 * status (0: every common layer within tolerance, 1 otherwise). */
int compare_traces(FILE *out, const char *ref_dir, const char *dir, double tol);

/* ---------------------------------------------------------------- dot.c */

void dot_print(FILE *out, const Graph *g);

/* -------------------------------------------------------------- lower.c */

/* The planned graph as the list of steps that every emitter prints (the
 * runtime-linked C and the JIT's, emit_c.c and emit_api.c; the standalone
 * C, emit_standalone.c): each layer with code of its own is one step that
 * holds its kernel and algorithm, where it reads and writes, its epilogue,
 * its split over threads, the weights it needs and what the load prepares
 * for it. Decided here once, from the fusion marks (passes/uses.c) and the
 * plan (plan.c); the emitters read no fusion mark and place no buffer. */

/* Where a step reads or writes floats. */
typedef struct Place {
    int input;   /* >= 0: the caller's input of this index; -1: the arena */
    int64_t off; /* the arena: the first float of the buffer that holds it */
    bool slice;  /* a concat's channel slice, from channel coff of each pixel */
    int64_t coff;
} Place;

/* One weight tensor of the model, as the safetensors file names it. */
typedef struct Tensor {
    const GNode *node;
    const char *suffix; /* "kernel", "bias", ... */
    const char *name;   /* "PATH.suffix" */
    int rank;
    int64_t dims[4];
    int64_t count;
} Tensor;

typedef enum StepKind {
    STEP_CONV,      /* conv2d: direct or Winograd (conv.algo, chosen here),
                       weights packed at load, one call per group */
    STEP_DEPTHWISE, /* depthwise_conv2d, by output rows (dw) */
    STEP_SEPARABLE, /* separable_conv2d by rows: depthwise (dw) into the
                       step's scratch, then the 1x1 */
    STEP_DECONV,    /* conv2d_transpose by rows (deconv), kernel packed */
    STEP_DENSE,     /* dense: by units (flat) or rows (on an image) */
    STEP_POOL,      /* maxpool, avgpool: windows, by rows */
    STEP_SIMPLE,    /* one runtime call or a short loop, by node->op */
} StepKind;

typedef enum PrepKind {
    PREP_CONV,    /* a conv2d's kernel packed per group (pk slots), times a
                     folded batchnorm's scale, whose bias is folded (fb) */
    PREP_DW_FOLD, /* a depthwise kernel scaled in place by its folded
                     batchnorm, whose bias is folded (fb) */
    PREP_DECONV,  /* a conv2d_transpose's kernel repacked in place */
    PREP_BN,      /* a batchnorm of its own: scale and shift (bn slot) */
} PrepKind;

/* What the load prepares from the file's tensors (indices into
 * Lower.tensors, -1 for none). */
typedef struct Prep {
    PrepKind kind;
    int step;
    int kernel, bias, gamma, beta, mean, var;
    double eps;
    int64_t cout;   /* all groups' output channels */
    int groups;
    int pk, fb, bn; /* first packed slot (one per group), folded bias, the
                       scale and shift pair; -1 for none */
} Prep;

typedef struct Step {
    StepKind kind;
    const GNode *node;     /* the layer: attributes, names, line */
    Place *in;             /* its inputs' values, in node->in order */
    int nin;
    const Shape *in_shape; /* what its code reads from in[0] (a folded
                              zeropad's input's shape) */
    Place out;
    int64_t ldo;           /* floats between its output pixels */
    /* the epilogue: bias (and a folded batchnorm), residual, activation */
    const GNode *bn;       /* the batchnorm folded into its weights */
    const GNode *res;      /* the value its epilogue adds, or NULL */
    Place res_at;
    Act act;               /* applied last */
    Act act_after;         /* the part applied as a pass over its output
                              after the kernel (none: in the epilogue) */
    /* the kernel */
    rn_conv conv;          /* STEP_CONV: one call's, .algo chosen: a
                              grouped conv's calls each take a super-group
                              of conv.groups groups, block-diagonal */
    rn_conv conv_last;     /* the last call's (fewer groups), when
                              conv_last_index >= 0 */
    int conv_last_index;   /* its place in M_convs, or -1: as conv */
    rn_conv conv_mt;       /* the algorithm on more than one thread, when
                              it is not conv's (rn_conv_algo_on): its place
                              in M_convs conv_index + 1, its packed weights
                              slot pk + 1; else conv_mt_index is -1 */
    int conv_mt_index;
    int64_t gcin, gcout;   /* a call's channels in and out (its offsets) */
    int pre_slot;          /* a prologue's (conv.pre) scale and shift pair
                              of batchnorm slots, or -1: then its scale
                              is a value's, at pre_scale_at (no shift) */
    Place pre_scale_at;
    rn_dw dw;              /* STEP_DEPTHWISE, STEP_SEPARABLE */
    rn_deconv deconv;      /* STEP_DECONV */
    int groups;            /* STEP_CONV: calls (super-groups); else 1 */
    int pad_t, pad_l;      /* its padding over what it reads */
    const GNode *pad_from; /* a zeropad folded into that padding */
    int64_t ldi;           /* floats between its input pixels: in_shape's
                              channels, or a concat view's buffer's */
    const GNode *slice_of; /* writes this concat's channels from out.coff */
    int64_t scratch_off;   /* STEP_SEPARABLE: its depthwise result */
    /* a global average pool right after a depthwise conv, over its
     * output: the conv's rows each leave their channels' means in the
     * scratch (m->ws, row y at y * channels) while they are in cache, and
     * the pool takes the mean of those (squeeze-excite's squeeze) */
    bool row_means;        /* STEP_DEPTHWISE: leaves them */
    bool from_row_means;   /* the pool (STEP_SIMPLE): reads them */
    /* the split over threads */
    bool split;            /* its work items spread over the pool */
    int64_t items;         /* rows (units); 0: the kernel's work items */
    int chunks;            /* a dense layer over one vector: its items are
                              chunks of its input rows, each one's partial
                              sums at m->ws + chunk * units, added in order
                              after (the same bits on any thread count);
                              0: one item of all units */
    /* weights: the load's preparation, and the slots it fills */
    int prep, pk, fb, bn_slot;
    int conv_index, deconv_index; /* among the steps of its kind */
} Step;

/* The summary's rows, for the inspection hook and table: the graph's nodes
 * in order, then one row per `layer` instance. */
typedef enum RowKind {
    ROW_INPUT,  /* a graph input: the caller's buffer */
    ROW_CODE,   /* a layer with a step of its own */
    ROW_FUSED,  /* computed in another layer's step */
    ROW_FOLDED, /* a zeropad folded into the next conv's padding */
    ROW_ALIAS,  /* no code, no copy: its input's floats, or a concat whose
                   operands wrote into it */
    ROW_GROUP,  /* a `layer` instance: the value of the layer it returns */
} RowKind;

typedef struct Row {
    RowKind kind;
    const GNode *node;   /* the node (ROW_GROUP: the layer's result) */
    const char *name, *klass;
    int64_t macs;
    int code;            /* the row whose step computes it, -1 for none */
    int after;           /* its value is complete after this node's place
                            in the run */
    bool whole;          /* that value is its own and whole at `value` */
    Place value;
} Row;

typedef struct Lower {
    Graph *g;
    Tensor *tensors;     /* in node order, then node_weights order */
    int ntensors;
    int *wfirst;         /* by node id: its first tensor */
    Step *steps;         /* in graph order */
    int nsteps;
    int *step_of;        /* by node id: its own step, or -1 */
    Prep *preps;         /* in graph order */
    int nprep;
    Row *rows;           /* g->nnodes + g->ngroups */
    int nrows;
    int nconv, ndeconv, npk, nfb, nbn; /* steps and slots of each kind */
    int64_t ws_floats;   /* the convs' scratch, per thread (any target) */
    bool threads;        /* lower()'s: may run on more than one thread */
} Lower;

/* Lowers a planned graph (arena memory). With `threads` the model may run
 * on more than one thread (not static memory): a conv whose algorithm
 * depends on the thread count gets both (Step.conv_mt). Internal errors die (a plan that
 * overlaps a step's input with its output, ...). */
Lower *lower(Graph *g, bool threads);
/* The index of n's weight tensor `suffix`, or -1. */
int lower_weight(const Lower *L, const GNode *n, const char *suffix);
/* Whether any step spreads its work over the pool. */
bool lower_splits(const Lower *L);

/* ------------------------------------------------------------- emit_c.c */

typedef struct EmitOptions {
    const char *cmdline;  /* for the banner */
    const char *src_path; /* the .rn file, for comments and #line */
    const char *header_name; /* what model.c includes: "model.h" */
    bool with_main;       /* add a standalone main() */
    bool for_jit;         /* no system headers; runtime handed over */
    bool line_directives; /* #line: each layer's C names its .rn line */
    const char *c_path;   /* the .c file, for the #line after a layer */
    bool standalone;      /* emit_standalone: no runtime, no rnc header */
    const char *embed_weights; /* standalone: these weights built in */
    bool static_memory;   /* standalone: static arena, one instance */
} EmitOptions;
/* Writes the C of the whole model into c and its header into h. */
void emit_c(Graph *g, const EmitOptions *o, Buf *c, Buf *h);

/* ------------------------------------------------------ emit_standalone.c */

/* `rnc M.rn -o M.c --standalone`: a self-contained model.c (the C library
 * and POSIX threads only; the runtime parts it uses pasted in, paste.c)
 * and its model.h. With o->embed_weights, the weights read and prepared
 * now (embed.c) are built in, into wc when over EMBED_SPLIT_BYTES (the
 * caller writes it as M_weights.c beside M.c), else into c. Returns 0, or
 * -1 with a message naming the tensor when the weights are bad. */
enum { EMBED_SPLIT_BYTES = 4 << 20 };
/* The line between the pasted runtime and the model's own code. */
#define STANDALONE_MODEL_MARK "\n/* ---- the model */\n"
int emit_standalone(Graph *g, const EmitOptions *o, Buf *c, Buf *h, Buf *wc,
                    char *err, size_t errlen);

/* paste.c: the runtime's text that the identifiers of `code` (the model's
 * own C) reach, for a standalone file: the system headers it includes into
 * head; its types, the kernel headers named in `kernels` (a NULL-ended
 * list of runtime/kernel/ files, pasted whole) and its functions, made
 * static, into body. */
void paste_runtime(Arena *a, const char *code, const char *const *kernels,
                   Buf *head, Buf *body);

/* embed.c: the weights as a load of the file leaves them (the runtime's
 * own preparations), for building in. */
typedef struct Embedded {
    float **w;          /* by tensor; NULL when the load frees it */
    int nw;
    float **pk;         /* packed conv weights, by slot */
    int64_t *pk_floats;
    float **fb;         /* folded biases, by slot (their step's channels) */
    float **bn;         /* batchnorms' scale and shift pairs */
} Embedded;
int embed_prepare(const Lower *L, const char *path, Embedded *E, char *err,
                  size_t errlen);
void embed_free(Embedded *E, const Lower *L);

/* ------------------------------------------------------------ emit_io.c */

/* Output i is a class output, which --labels names and whose top 5 is
 * printed: a softmax output, or, when the model has none, a flat one. */
bool emit_class_output(const Graph *g, int i);
/* The line over output i's printout: "output NAME [10], softmax, top 5:"
 * (top5), or "output NAME [1, 2, 3]:". */
void emit_output_heading(const Graph *g, int i, bool top5, char *buf,
                         size_t len);

/* ------------------------------------------------------------ weights.c */

/* Writes a safetensors file with Keras's initializers (glorot-uniform
 * kernels, zero biases, betas and PReLU alphas, unit gammas, statistics
 * 0 and 1); `random` also draws everything that is not a kernel (positive
 * variances). Deterministic for a seed. 0 on success. */
int weights_init(const Graph *g, const char *path, uint64_t seed, bool random,
                 char *err, size_t errlen);
/* Keras's _compute_fans of a kernel shape (for glorot), and the seed of a
 * tensor's own generator (seed and "PATH.suffix"); exported for tests. */
void weights_glorot_fans(const WeightSpec *w, double *fan_in, double *fan_out);
uint64_t weights_tensor_seed(uint64_t seed, const char *name);

/* --------------------------------------------------------- graph_json.c */

/* `rnc --graph-json`: the elaborated graph as JSON (nodes, attributes,
 * resolved paddings, weight names and shapes) for tools/reference.py. */
void graph_json_print(FILE *out, const Graph *g);

/* ---------------------------------------------------------------- jit.c */

typedef struct JitOptions {
    const char *weights_path;   /* NULL: seeded random weights */
    const char *const *inputs;  /* .npy paths, g->ninputs of them or NULL */
    const char *const *outputs; /* .npy paths to write, or NULL */
    int threads;
    int repeat;
    uint64_t seed;
    const char *trace_dir; /* --trace: every row's value (an unfused graph) */
    bool profile;          /* --profile: the per-layer table after the runs */
    const bool *images; /* per input: decode it as an image (rnimg.h); or NULL */
    const struct rn_img_norm *norm; /* for image inputs; NULL: [0, 1] */
    const char *labels_path; /* names for the class outputs' top 5, or NULL */
} JitOptions;
/* Compiles the model in memory with libtcc and runs it as `rnc --run`
 * describes. Returns the process exit status (0, 1 bad data, ...). */
int jit_run(Graph *g, const JitOptions *o, const char *src_path);

/* The libtcc layer under jit_run, also for tests. jit_compile compiles
 * `code` after a prelude (rnrt.h and the prototypes of the libc functions
 * generated code may use: jit.c's JIT_LIBC) and links it in memory; NULL
 * with tcc's messages in err on
 * failure. jit_function finds a function (NULL if absent): cast it to its
 * real type. jit_free releases the code. */
typedef struct JitCode JitCode;
typedef void (*JitFn)(void);
JitCode *jit_compile(const char *code, char *err, size_t errlen);
JitFn jit_function(JitCode *j, const char *name);
void jit_free(JitCode *j);

#endif
