/* lower.c: the planned graph as a list of steps (rnc.h's Lower), the one
 * representation every emitter prints, as QBE hands one function from pass
 * to pass.
 *
 * Requires: shapes and counts (shape.c), the fusion marks (compiler/passes/,
 * or none) and the arena plan (plan.c). Changes nothing in the graph; the
 * Lower lives in the graph's arena.
 *
 * A layer with code of its own (node_has_code) is one step. The step says
 * everything its code needs that is not an attribute of the layer: where
 * its inputs, output and residual are (Place), the shape it reads (a folded
 * zeropad's input), its padding, which activation its kernel's epilogue
 * applies and which runs after it, its kernel's descriptor (the runtime's
 * rn_conv, rn_dw or rn_deconv, filled with literals; a convolution's
 * algorithm chosen by the runtime's own rule, rn_conv_algo, now rather
 * than at each run), whether its work is spread over threads and in how
 * many items, and what the load prepares for it (packing, batchnorm
 * folding) into which slots. The summary's rows say, for the inspection
 * hook, which step computes each row and whether its own value is whole
 * once it is complete. Lowering also checks the plan's promises: an
 * output's buffer fits in the arena and overlaps none of the step's inputs
 * (but for elementwise ops that may work in place). */
#include "rnc.h"

#include <stdlib.h>
#include <string.h>

/* Work below this many multiply-accumulates (or pool taps) is not worth
 * handing to other threads. */
enum { SPLIT_MIN_WORK = 100000 };

/* A dense layer over one vector streams its weights once: split over
 * threads by units, each thread read half of every row (and the
 * prefetchers the other half too): 1280 x 1000 from memory took 140 us on
 * one thread, 110 on two. By chunks of rows, each a contiguous stream,
 * it took 66. At most DENSE_CHUNKS chunks of at least DENSE_CHUNK_MACS
 * (256 KB of weights); fixed by the shape, not the thread count. */
enum { DENSE_CHUNKS = 8, DENSE_CHUNK_MACS = 65536 };

/* Where n's value is: its storage's buffer, a concat slice, or the
 * caller's input. */
static Place place_of(const Graph *g, const GNode *n) {
    const GNode *s = node_storage(n);
    Place p = {-1, 0, false, 0};
    if (s->slice_of) {
        p.off = s->slice_of->arena_off;
        p.slice = true;
        p.coff = s->slice_off;
        return p;
    }
    if (s->op == OP_INPUT) {
        for (int i = 0; i < g->ninputs; i++)
            if (g->inputs[i] == s) p.input = i;
        if (p.input < 0) die("lower: input node %s is not a graph input", s->name);
        return p;
    }
    if (s->arena_off < 0) die("lower: %s has no arena offset", s->name);
    p.off = s->arena_off;
    return p;
}

static void collect_tensors(Lower *L) {
    Graph *g = L->g;
    L->tensors = arena_alloc(g->arena, sizeof *L->tensors *
                                           (size_t)(MAX_WEIGHTS * g->nnodes + 1));
    L->wfirst = arena_alloc(g->arena, sizeof *L->wfirst * (size_t)(g->nnodes + 1));
    for (int i = 0; i < g->nnodes; i++) {
        GNode *n = g->nodes[i];
        if (n->id != i) die("lower: node %s has id %d at position %d", n->name, n->id, i);
        WeightSpec ws[MAX_WEIGHTS];
        int k = node_weights(n, ws);
        L->wfirst[i] = L->ntensors;
        for (int j = 0; j < k; j++) {
            Tensor *t = &L->tensors[L->ntensors++];
            t->node = n;
            t->suffix = ws[j].suffix;
            t->name = arena_printf(g->arena, "%s.%s", n->path, ws[j].suffix);
            t->rank = ws[j].rank;
            t->count = 1;
            for (int d = 0; d < t->rank; d++) {
                t->dims[d] = ws[j].dims[d];
                t->count *= t->dims[d];
            }
        }
    }
}

int lower_weight(const Lower *L, const GNode *n, const char *suffix) {
    for (int i = L->wfirst[n->id]; i < L->ntensors; i++) {
        if (L->tensors[i].node != n) break;
        if (!strcmp(L->tensors[i].suffix, suffix)) return i;
    }
    return -1;
}

/* Whether n's work items are spread over the pool: several of them, and
 * enough work to pay for the handoff. */
/* The chunks of a dense layer over one vector (DENSE_CHUNKS). */
static int dense_chunks(const GNode *n) {
    int64_t c = n->macs / DENSE_CHUNK_MACS, rows = n->macs / n->filters;
    if (c > DENSE_CHUNKS) c = DENSE_CHUNKS;
    if (c > rows) c = rows;
    return c > 1 ? (int)c : 1;
}

static bool splits(const GNode *n) {
    int64_t rows = n->out.d[0], work;
    switch (n->op) {
    case OP_CONV2D: /* the kernel's items split channels too */
        return n->macs >= SPLIT_MIN_WORK;
    case OP_DENSE:
        if (n->out.rank == 1) return dense_chunks(n) > 1; /* by rows */
        work = n->macs;
        break;
    case OP_DEPTHWISE_CONV2D:
    case OP_SEPARABLE_CONV2D:
    case OP_CONV2D_TRANSPOSE:
        work = n->macs;
        break;
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        work = shape_count(&n->out) * n->kh * n->kw;
        break;
    default:
        return false;
    }
    return rows > 1 && work >= SPLIT_MIN_WORK;
}

/* The plan's promises (internal bugs if broken): the output's buffer fits
 * in the arena and overlaps no input's, except an elementwise op writing
 * in place over an input of the same size; a conv's residual it may
 * overlap only as exactly (an in-place add, plan.c). */
static void check_input(const GNode *n, const GNode *in, bool in_place_ok) {
    const GNode *o = node_owner(n), *s = node_owner(in);
    if (s->op == OP_INPUT) return;
    int64_t cnt = o == n ? plan_floats(n) : shape_count(&o->out);
    int64_t scnt = shape_count(&s->out);
    bool overlap = s->arena_off < o->arena_off + cnt && o->arena_off < s->arena_off + scnt;
    if (overlap && !(in_place_ok && s->arena_off == o->arena_off))
        die("lower: %s: arena slot overlaps its input %s", n->name, s->name);
}

static void check_plan(const Graph *g, const GNode *n) {
    bool elementwise = n->op == OP_BATCHNORM || n->op == OP_ACTIVATION ||
                       n->op == OP_RESCALE || node_is_merge(n) || n->op == OP_RELU ||
                       n->op == OP_ELU || n->op == OP_LEAKY_RELU || n->op == OP_SOFTMAX ||
                       n->op == OP_PRELU || n->op == OP_LAYERNORM ||
                       n->op == OP_NORMALIZATION;
    const GNode *o = node_owner(n);
    int64_t cnt = o == n ? plan_floats(n) : shape_count(&o->out);
    if (o->arena_off < 0 || o->arena_off + cnt > g->arena_floats)
        die("lower: %s: arena slot [%lld, +%lld) outside the arena (%lld)", n->name,
            (long long)o->arena_off, (long long)cnt, (long long)g->arena_floats);
    for (int i = 0; i < n->nin; i++) check_input(n, node_read(n, i), elementwise);
    if (node_pre_scale(n)) check_input(n, node_pre_scale(n), false);
    if (n->residual) check_input(n, n->residual, true); /* may be in place */
}

static int dil(int d) { return d ? d : 1; }

/* The descriptor of one call of a conv step: `per` groups of gi input and
 * go output channels side by side (block-diagonal when per > 1); a
 * prologue (fuse_prologue.c) when the conv has one. */
static rn_conv conv_call_desc(const Step *s, int per, int gi, int go) {
    const GNode *n = s->node;
    rn_conv c = {
        .ih = (int)s->in_shape->d[0], .iw = (int)s->in_shape->d[1],
        .cin = per * gi, .oh = (int)n->out.d[0], .ow = (int)n->out.d[1],
        .cout = per * go, .kh = n->kh, .kw = n->kw, .sh = n->sh, .sw = n->sw,
        .dh = dil(n->dh), .dw = dil(n->dw), .pad_t = s->pad_t, .pad_l = s->pad_l,
        .ldi = (int)s->ldi, .ldo = (int)s->ldo,
        .act = act_in_epilogue(s->act) ? (int)s->act : RN_ACT_NONE,
        .groups = per > 1 ? per : 0, .algo = RN_CONV_AUTO,
        .pre = n->pre_bn || n->pre_mul, .pre_act = n->pre_bn ? (int)n->pre_act : 0};
    c.algo = rn_conv_algo(&c);
    return c;
}

/* The kernels' descriptors, with the step's shapes and padding. A grouped
 * conv runs in calls of as many groups as the runtime's rule takes
 * (rn_conv_group_call: all of them on the grouped kernel, else as many
 * side by side as fill a block of output channels); the last call takes
 * the groups left. */
static void conv_desc(Step *s) {
    int groups = s->node->groups > 1 ? s->node->groups : 1;
    int gi = (int)s->in_shape->d[2] / groups, go = (int)s->node->out.d[2] / groups;
    rn_conv whole = conv_call_desc(s, groups, gi, go);
    int per = rn_conv_group_call(&whole);
    s->groups = (groups + per - 1) / per;
    s->gcin = (int64_t)per * gi;
    s->gcout = (int64_t)per * go;
    s->conv = conv_call_desc(s, per, gi, go);
    int last = groups - (s->groups - 1) * per;
    if (last != per) s->conv_last = conv_call_desc(s, last, gi, go);
}

/* The same conv on more than one thread, when that changes its algorithm
 * (rn_conv_algo_on; a conv of one call whose work is split); else a
 * descriptor with no channels. */
static rn_conv conv_mt_desc(const Step *s) {
    rn_conv c = s->conv, none = {0};
    if (s->groups != 1 || !s->split) return none;
    c.algo = RN_CONV_AUTO;
    c.algo = rn_conv_algo_on(&c, 2);
    return c.algo != s->conv.algo ? c : none;
}

static void dw_desc(Step *s, int64_t ldo, int act) {
    const GNode *n = s->node;
    const Shape *is = s->in_shape;
    s->dw = (rn_dw){
        .ih = (int)is->d[0], .iw = (int)is->d[1], .c = (int)is->d[2],
        .oh = (int)n->out.d[0], .ow = (int)n->out.d[1],
        .mult = n->multiplier > 0 ? n->multiplier : 1, .kh = n->kh, .kw = n->kw,
        .sh = n->sh, .sw = n->sw, .dh = dil(n->dh), .dw = dil(n->dw),
        .pad_t = s->pad_t, .pad_l = s->pad_l, .ldi = (int)is->d[2], .ldo = (int)ldo,
        .act = act};
}

static void deconv_desc(Step *s) {
    const GNode *n = s->node;
    const Shape *is = s->in_shape;
    s->deconv = (rn_deconv){
        .ih = (int)is->d[0], .iw = (int)is->d[1], .cin = (int)is->d[2],
        .oh = (int)n->out.d[0], .ow = (int)n->out.d[1], .cout = (int)n->out.d[2],
        .kh = n->kh, .kw = n->kw, .sh = n->sh, .sw = n->sw, .dh = n->dh,
        .dw = n->dw, .pad_t = n->pad_t, .pad_l = n->pad_l};
}

static int add_prep(Lower *L, PrepKind kind, int step, const GNode *n,
                    const char *kernel) {
    const GNode *b = n->fold_bn;
    Prep *p = &L->preps[L->nprep];
    *p = (Prep){kind, step, kernel ? lower_weight(L, n, kernel) : -1,
                lower_weight(L, n, "bias"), -1, -1, -1, -1, 0.0,
                n->out.d[n->out.rank - 1], 1, -1, -1, -1};
    if (kind == PREP_BN) b = n; /* its own statistics */
    if (b) {
        p->gamma = lower_weight(L, b, "gamma");
        p->beta = lower_weight(L, b, "beta");
        p->mean = lower_weight(L, b, "moving_mean");
        p->var = lower_weight(L, b, "moving_variance");
        p->eps = b->epsilon;
        if (p->mean < 0 || p->var < 0) die("lower: batchnorm %s lacks a tensor", b->name);
    }
    if (kernel && p->kernel < 0) die("lower: %s has no %s", n->name, kernel);
    return L->nprep++;
}

static StepKind step_kind(OpKind op) {
    switch (op) {
    case OP_CONV2D: return STEP_CONV;
    case OP_DEPTHWISE_CONV2D: return STEP_DEPTHWISE;
    case OP_SEPARABLE_CONV2D: return STEP_SEPARABLE;
    case OP_CONV2D_TRANSPOSE: return STEP_DECONV;
    case OP_DENSE: return STEP_DENSE;
    case OP_MAXPOOL:
    case OP_AVGPOOL: return STEP_POOL;
    default: return STEP_SIMPLE;
    }
}

/* Floats between the pixels a step reads from in0 (shape is): a concat
 * view or a concat slice (concat_slices.c) at its concat's stride. */
static int64_t in_stride(const GNode *in0, const Shape *is) {
    if (!in0 || !is) return 0;
    if (in0->view_of) return in0->view_of->out.d[2];
    const GNode *st = node_storage(in0);
    if (st->slice_of && !in0->pad_folded) return st->slice_of->out.d[2];
    return is->d[is->rank - 1];
}

/* The step of node n (which has code), and what the load prepares. */
static void make_step(Lower *L, GNode *n) {
    Graph *g = L->g;
    int si = L->nsteps++;
    Step *s = &L->steps[si];
    L->step_of[n->id] = si;
    check_plan(g, n);
    s->kind = step_kind(n->op);
    s->node = n;
    s->nin = n->nin;
    s->in = arena_alloc(g->arena, sizeof *s->in * (size_t)(n->nin + 1));
    for (int i = 0; i < n->nin; i++) s->in[i] = place_of(g, node_read(n, i));
    s->out = place_of(g, n);
    s->slice_of = n->slice_of;
    s->ldo = n->slice_of ? n->slice_of->out.d[2] : n->out.d[n->out.rank - 1];
    const GNode *in0 = n->nin ? node_read(n, 0) : NULL;
    s->in_shape = in0 && in0->pad_folded ? &in0->in[0]->out : in0 ? &in0->out : NULL;
    s->pad_from = in0 && in0->pad_folded ? in0 : NULL;
    s->ldi = in_stride(in0, s->in_shape);
    s->pad_t = n->pad_t + (s->pad_from ? s->pad_from->pad_t : 0);
    s->pad_l = n->pad_l + (s->pad_from ? s->pad_from->pad_l : 0);
    s->bn = n->fold_bn;
    s->res = n->residual ? node_storage(n->residual) : NULL;
    if (n->residual) s->res_at = place_of(g, n->residual);
    s->act = node_act(n);
    s->act_after = s->act;
    s->groups = n->groups > 1 ? n->groups : 1;
    s->split = splits(n);
    s->items = n->out.d[0];
    s->prep = s->pk = s->fb = s->bn_slot = s->conv_index = s->deconv_index = -1;
    s->conv_last_index = s->conv_mt_index = s->pre_slot = -1;
    switch (s->kind) {
    case STEP_CONV:
        if (act_in_epilogue(s->act)) s->act_after = ACT_NONE;
        conv_desc(s);
        s->items = 0; /* the kernel's work items */
        if (L->threads) s->conv_mt = conv_mt_desc(s);
        s->conv_index = L->nconv++;
        if (s->conv_mt.cout) s->conv_mt_index = L->nconv++;
        if (s->conv_last.cout) s->conv_last_index = L->nconv++;
        if (rn_conv_scratch_floats(&s->conv) > L->ws_floats)
            L->ws_floats = rn_conv_scratch_floats(&s->conv);
        if (s->conv_mt_index >= 0 && rn_conv_scratch_floats(&s->conv_mt) > L->ws_floats)
            L->ws_floats = rn_conv_scratch_floats(&s->conv_mt);
        if (s->conv_last_index >= 0 && rn_conv_scratch_floats(&s->conv_last) > L->ws_floats)
            L->ws_floats = rn_conv_scratch_floats(&s->conv_last);
        s->prep = add_prep(L, PREP_CONV, si, n, "kernel");
        L->preps[s->prep].groups = s->groups;
        if (n->pre_bn) { /* the prologue's scale and shift */
            int b = add_prep(L, PREP_BN, si, n->pre_bn, NULL);
            s->pre_slot = L->preps[b].bn = L->nbn++;
        }
        if (n->pre_mul) s->pre_scale_at = place_of(g, node_pre_scale(n));
        s->pk = L->preps[s->prep].pk = L->npk;
        L->npk += s->groups;
        if (s->conv_mt_index >= 0) L->npk++; /* its second packing: slot pk + 1 */
        break;
    case STEP_DEPTHWISE:
        if (act_in_epilogue(s->act)) s->act_after = ACT_NONE;
        dw_desc(s, s->ldo, act_in_epilogue(s->act) ? (int)s->act : RN_ACT_NONE);
        if (n->fold_bn) s->prep = add_prep(L, PREP_DW_FOLD, si, n, "depthwise_kernel");
        break;
    case STEP_SEPARABLE:
        dw_desc(s, s->in_shape->d[2] * n->multiplier, RN_ACT_NONE);
        s->scratch_off = plan_scratch_offset(n);
        break;
    case STEP_DECONV:
        deconv_desc(s);
        s->deconv_index = L->ndeconv++;
        s->prep = add_prep(L, PREP_DECONV, si, n, "kernel");
        break;
    case STEP_DENSE:
        if (n->out.rank == 1 && s->split) { /* by chunks of rows (DENSE_CHUNKS) */
            s->chunks = dense_chunks(n);
            s->items = s->chunks;
            if ((int64_t)s->chunks * n->filters > L->ws_floats)
                L->ws_floats = (int64_t)s->chunks * n->filters;
        }
        break;
    case STEP_SIMPLE:
        if (n->op == OP_BATCHNORM) {
            s->prep = add_prep(L, PREP_BN, si, n, NULL);
            s->bn_slot = L->preps[s->prep].bn = L->nbn++;
        }
        break;
    default:
        break;
    }
    if (s->prep >= 0 && n->fold_bn) s->fb = L->preps[s->prep].fb = L->nfb++;
}

/* ------------------------------------------------------------------ rows */

/* The row of the node whose code computes n: n, its absorber, or -1 (an
 * input, an alias, a sliced concat, a folded zero padding). */
static int code_row(const GNode *n) {
    if (n->absorbed_by) return node_exec(n)->id;
    return node_has_code(n) ? n->id : -1;
}

/* Whether n's own value is whole in its place once its row is complete:
 * not for a node whose code also runs a fused batchnorm, add or
 * activation after it (the buffer then holds the last one's value, the
 * node with the highest id among those its code runs), nor for a conv
 * writing a concat's slice or a folded zero padding. */
static bool own_value(const Graph *g, const int *last_fused, const GNode *n) {
    if (n->pad_folded || n->slice_of || n->view_of) return false;
    if (n->op == OP_FLATTEN || n->op == OP_DROPOUT) return own_value(g, last_fused, n->in[0]);
    if (n->op == OP_INPUT) return true;
    int exec = code_row(n);
    if (exec < 0) return true; /* a sliced concat, complete after its operands */
    if (g->nodes[exec]->slice_of) return false;
    return last_fused[exec] == n->id;
}

static RowKind row_kind(const GNode *n) {
    if (n->op == OP_INPUT) return ROW_INPUT;
    if (node_has_code(n)) return ROW_CODE;
    if (n->absorbed_by) return ROW_FUSED;
    if (n->pad_folded) return ROW_FOLDED;
    return ROW_ALIAS;
}

typedef struct GroupAt {
    const Group *group;
    int index;
} GroupAt;

static int by_address(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const GroupAt *)a)->group;
    uintptr_t y = (uintptr_t)((const GroupAt *)b)->group;
    return (x > y) - (x < y);
}

static void make_rows(Lower *L) {
    Graph *g = L->g;
    Arena *a = g->arena;
    L->nrows = g->nnodes + g->ngroups;
    L->rows = arena_alloc(a, sizeof *L->rows * (size_t)(L->nrows + 1));
    int *last_fused = arena_alloc(a, sizeof(int) * (size_t)(g->nnodes + 1));
    for (int i = 0; i < g->nnodes; i++) last_fused[i] = i;
    for (int i = 0; i < g->nnodes; i++) {
        int exec = code_row(g->nodes[i]);
        if (exec >= 0 && i > last_fused[exec]) last_fused[exec] = i;
    }
    for (int i = 0; i < g->nnodes; i++) {
        const GNode *n = g->nodes[i];
        L->rows[i] = (Row){row_kind(n), n, n->path, op_info[n->op].klass, n->macs,
                           code_row(n), i, own_value(g, last_fused, n), place_of(g, n)};
    }
    /* each node's MACs count in every group around it: the groups sorted
     * by address, so that a node finds its groups' indices */
    GroupAt *by = arena_alloc(a, sizeof *by * (size_t)(g->ngroups + 1));
    for (int k = 0; k < g->ngroups; k++) by[k] = (GroupAt){g->groups[k], k};
    qsort(by, (size_t)g->ngroups, sizeof *by, by_address);
    for (int k = 0; k < g->ngroups; k++) {
        const Group *q = g->groups[k];
        L->rows[g->nnodes + k] = (Row){ROW_GROUP, q->result, q->path, q->klass, 0, -1,
                                       q->result->id, L->rows[q->result->id].whole,
                                       L->rows[q->result->id].value};
    }
    for (int i = 0; i < g->nnodes; i++)
        for (const Group *q = g->nodes[i]->group; q; q = q->parent) {
            GroupAt key = {q, 0}, *hit = bsearch(&key, by, (size_t)g->ngroups,
                                                 sizeof *by, by_address);
            if (!hit) die("lower: a node's group is not in the graph");
            L->rows[g->nnodes + hit->index].macs += g->nodes[i]->macs;
        }
}

/* A global average pool whose step comes right after the depthwise conv
 * it reads, the conv's whole output in its own buffer: the conv's rows
 * leave their means in the scratch (no conv runs between the two to use
 * it) and the pool reads those instead of the image: it read the image
 * again, from the other core's cache at two threads (EfficientNet-B0's 16
 * pools 0.13 ms on one thread, 0.18 on two). Each row's means are its
 * own, summed in row order: the same result at any thread count. */
static void fuse_row_means(Lower *L) {
    for (int i = 1; i < L->nsteps; i++) {
        Step *s = &L->steps[i], *d = &L->steps[i - 1];
        const GNode *n = s->node, *dn = d->node;
        if (s->kind != STEP_SIMPLE || n->op != OP_GLOBAL_AVGPOOL || d->kind != STEP_DEPTHWISE ||
            d->slice_of || d->out.slice || s->in[0].slice || s->in[0].off != d->out.off ||
            dn->out.rank != 3 || d->ldo != dn->out.d[2] || !shape_equal(s->in_shape, &dn->out))
            continue;
        d->row_means = s->from_row_means = true;
        if (dn->out.d[0] * dn->out.d[2] > L->ws_floats) L->ws_floats = dn->out.d[0] * dn->out.d[2];
    }
}

Lower *lower(Graph *g, bool threads) {
    Lower *L = arena_alloc(g->arena, sizeof *L);
    L->g = g;
    L->threads = threads;
    collect_tensors(L);
    size_t nb = (size_t)(g->nnodes + 1);
    L->steps = arena_alloc(g->arena, sizeof *L->steps * nb);
    L->preps = arena_alloc(g->arena, sizeof *L->preps * nb);
    L->step_of = arena_alloc(g->arena, sizeof *L->step_of * nb);
    for (int i = 0; i < g->nnodes; i++) {
        L->step_of[i] = -1;
        if (node_has_code(g->nodes[i])) make_step(L, g->nodes[i]);
    }
    fuse_row_means(L);
    make_rows(L);
    return L;
}

bool lower_splits(const Lower *L) {
    for (int i = 0; i < L->nsteps; i++)
        if (L->steps[i].split) return true;
    return false;
}
