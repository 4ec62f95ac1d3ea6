/* import_keras.h: what import_keras.c (the topology and the .rn text) and
 * keras_weights.c (the manifest, its shards and the weight matching) share.
 * Private to the two; the rest of the compiler sees keras_import() and
 * keras_convert() in rnc.h. */
#ifndef IMPORT_KERAS_H
#define IMPORT_KERAS_H

#include "json.h"
#include "rnc.h"

/* Limits that keep a hostile model.json from exhausting memory or time;
 * each is a clear error when passed. */
enum {
    KMAX_LAYERS = 50000,     /* layers over all models, nested included */
    KMAX_DEPTH = 16,         /* models nested inside models */
    KMAX_INBOUND = 4096,     /* tensors into one layer */
    KMAX_NAME = 200,         /* a layer name (as .rn's name="...") */
    KMAX_ERRORS = 100,       /* errors listed before "and N more" */
    KMAX_GROUPS = 10000,     /* weight groups of the manifest */
    KMAX_TENSORS = 200000,   /* weights of the manifest */
    KMAX_SHARDS = 100000,    /* shard files over all groups */
    KMAX_RANK = 8,           /* dimensions of one weight */
};
/* Weights: at most 2^30 floats (4 GiB) after dequantizing, as
 * --init-weights; a single tensor at most 2^29 (what shape.c allows). */
#define KMAX_FLOATS ((int64_t)1 << 30)
#define KMAX_TENSOR ((int64_t)1 << 29)

typedef struct KModel KModel;
typedef struct KLayer KLayer;

/* One Keras layer of one model (a nested model is a layer of its parent
 * whose `sub` is that model). */
struct KLayer {
    const char *name;   /* Keras's name */
    const char *klass;  /* class_name, aliases resolved ("Conv2D") */
    const rn_json *cfg; /* its config object */
    const char *module; /* Keras 3's module ("keras.src.ops.numpy": an op
                           called on tensors, not a layer), or NULL */
    const rn_json *kwargs; /* its call's keyword arguments, or NULL */
    const rn_json *args;   /* Keras 3: its call's arguments, or NULL */
    KModel *owner;      /* the model it belongs to */
    KModel *sub;        /* a nested model, or NULL */
    const char **in;    /* names of the layers whose outputs it reads */
    int nin;
    KLayer **src;       /* the same, resolved */
    bool trainable;     /* its own flag */
    bool emitted;       /* has a line in the .rn */
    int tensors;        /* its manifest weights: 1 + index of the first in
                           KWeights.t, chained by KTensor.next; 0: none */
    int mark;           /* topological sort: 0 new, 1 on the stack, 2 done */
    int rank;           /* rank of its output without the batch: 1 or 3;
                           0 when unknown (after an error) */
    const char *var;    /* the .rn variable holding its output */
    const char *scoped; /* "outer/inner/name" for messages */
};

struct KModel {
    const char *name;
    const char *klass;  /* "Functional", "Model" or "Sequential" */
    bool sequential;
    bool trainable;     /* its own flag (Keras 3 writes one) */
    KLayer **layers;    /* in the config's order */
    int n;
    KLayer **inputs, **outputs;
    int nin, nout;
    const rn_json *cfg; /* its config */
    KModel *parent;
    KLayer *self;       /* the layer it is in its parent; NULL at the top */
    const char *def;    /* its `layer` definition in the .rn */
    int depth;
};

/* The state of one import. */
typedef struct Imp {
    Arena *a;
    const char *path;   /* model.json as the user named it */
    const char *dir;    /* where the shards are */
    FILE *errs;
    const ImportOptions *opt; /* --input-shape, or NULL */
    int nerrs;
    bool keras3;        /* Keras 3 semantics (hard_sigmoid is x/6 + 1/2) */
    int nlayers;        /* over all models */
    KModel *top;
    KLayer **all;       /* every layer of every model, for weight names */
    int nall, capall;
} Imp;

/* A weight of the manifest, read and dequantized. */
typedef struct KTensor {
    const char *name;   /* as the manifest names it */
    int rank;
    int64_t dims[KMAX_RANK];
    int64_t count;
    float *data;        /* malloc'd */
    KLayer *layer;      /* the layer it belongs to, once matched */
    const char *param;  /* "kernel", ...; NULL when given by index */
    int index;          /* position in the layer's weights, or -1 */
    bool used;
    int next;           /* 1 + index of the layer's next weight; 0: none */
} KTensor;

typedef struct KWeights {
    KTensor *t;
    int n;
} KWeights;

/* import_keras.c: the error of a layer (NULL: of the file), counted;
 * "model.json: layer NAME (Class): message" on Imp.errs. */
void kerr(Imp *im, const KLayer *l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* keras_config.c: JSON helpers shared by the Keras files. kj_get is NULL
 * for an absent or null field; kj_list also unwraps Keras's tuple and
 * TensorShape objects; kj_int takes integral numbers. */
const rn_json *kj_get(const rn_json *obj, const char *key);
const char *kj_str(const rn_json *v);
const rn_json *kj_list(const rn_json *v);
bool kj_int(const rn_json *v, int64_t *out);
bool kj_num(const rn_json *v, double *out);
uint64_t kj_hash(const char *s);
/* The model of a topology ({class_name, config}) with its nested models,
 * NULL when it cannot be read; kc_order puts the layers that reach the
 * outputs in order (inputs first), -1 on a cycle. */
KModel *kc_parse(Imp *im, const rn_json *topology);
int kc_order(Imp *im, KModel *m, KLayer **order);
bool kc_is_input(const KLayer *l);
bool kc_is_model(const char *klass);

/* keras_layers.c */
/* One layer's .rn call being built. */
typedef struct Call {
    Imp *im;
    KLayer *l;
    Buf args;          /* ", 16, 3, stride=2, ..." after the inputs */
    const char *op;    /* the op, or the nested model's definition */
    bool weights;      /* it owns weights (trainable=false may apply) */
    const char *note;  /* a comment at the end of the line */
    int nin;           /* inputs wanted: 1, 2, or -2 (two or more) */
} Call;
/* Fills the call from c->l's config (op, arguments, note, the rank of
 * its output); what cannot be imported is told through kerr. */
void kl_translate(Call *c);
/* Appends ", TEXT" to the call's arguments. */
void kl_arg(Call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* What keras_ops.c shares with it: a layer's error, a config field, a
 * number as import.c writes it (import_number), ", KEY=NUMBER". */
void kl_bad(Call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const rn_json *kl_field(Call *c, const char *key);
void kl_fmt_num(char *out, size_t n, double v);
void kl_arg_num(Call *c, const char *key, double v);

/* keras_ops.c: the numbers of v (a number, or nested lists of them,
 * flattened; in the arena); x * scale + offset (NULL: 1, 0); Keras 2's
 * TFOpLambda; a Keras 3 op on tensors. Errors through kerr. */
bool kl_numbers(Call *c, const rn_json *v, double **out, int *n);
void kl_affine(Call *c, const rn_json *scale, const rn_json *offset,
               const char *what);
void kl_tf_op(Call *c);
void kl_keras3_op(Call *c);

/* keras_weights.c: reads the manifest's groups and shards (paths relative
 * to im->dir) into dequantized float tensors, and matches each to a layer
 * by name. Errors go through kerr; false if any. */
bool kw_read(Imp *im, const rn_json *manifest, KWeights *w);
void kw_match(Imp *im, KWeights *w);
void kw_free(KWeights *w);
/* IEEE half to float, exactly (as tfjs's float16 decoder). */
float kw_half(uint16_t h);

#endif
