/* embed.c: the weights a standalone model builds in (--embed-weights),
 * read and prepared at compile time: what a generated M_load does at run
 * time (emit_api.c), done once here by the same runtime functions, so
 * that the built-in arrays are exactly what a load of the same file would
 * make, and the model's load prepares nothing.
 *
 * Requires a Lower (its tensors and preparations). Reads the safetensors
 * file with the runtime's checks (names, shapes, dtype, damage, tensors
 * left over: the message names the tensor). Changes nothing in the graph;
 * the arrays are malloc'd (embed_free). */
#include "rnc.h"

#include <stdlib.h>
#include <string.h>

static float *floats(int64_t n) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    if (!p) die("out of memory (%lld floats)", (long long)n);
    return p;
}

static void drop(Embedded *E, int t) {
    if (t < 0) return;
    free(E->w[t]);
    E->w[t] = NULL;
}

static const float *opt(const Embedded *E, int t) { return t >= 0 ? E->w[t] : NULL; }

/* A conv2d's packing (per group, a folded batchnorm's scale in it, its bias
 * folded), or a depthwise kernel's batchnorm scaling. */
static void prep_conv(Embedded *E, const Lower *L, const Prep *p) {
    float *scale = NULL;
    if (p->mean >= 0) {
        scale = floats(p->cout);
        E->fb[p->fb] = floats(p->cout);
        rn_k_bn_fold_bias((int)p->cout, opt(E, p->gamma), opt(E, p->beta), E->w[p->mean],
                          E->w[p->var], p->eps, opt(E, p->bias), scale, E->fb[p->fb]);
    }
    if (p->kind == PREP_CONV) {
        const Step *s = &L->steps[p->step];
        for (int g = 0; g < p->groups; g++) {
            const rn_conv *c =
                g == p->groups - 1 && s->conv_last_index >= 0 ? &s->conv_last : &s->conv;
            E->pk[p->pk + g] = floats(rn_conv_packed_floats(c));
            E->pk_floats[p->pk + g] = rn_conv_packed_floats(c);
            rn_conv_pack(c, E->w[p->kernel] + g * s->gcout, (int)p->cout,
                         scale ? scale + g * s->gcout : NULL, E->pk[p->pk + g]);
        }
        if (s->conv_mt_index >= 0) { /* its algorithm on more threads: slot pk + 1 */
            E->pk[p->pk + 1] = floats(rn_conv_packed_floats(&s->conv_mt));
            E->pk_floats[p->pk + 1] = rn_conv_packed_floats(&s->conv_mt);
            rn_conv_pack(&s->conv_mt, E->w[p->kernel], (int)p->cout, scale, E->pk[p->pk + 1]);
        }
        drop(E, p->kernel);
    } else if (scale) {
        rn_k_scale_channels(E->w[p->kernel], L->tensors[p->kernel].count / p->cout,
                            (int)p->cout, scale);
    }
    free(scale);
    if (p->mean >= 0) { /* folded: the statistics are not needed */
        drop(E, p->gamma);
        drop(E, p->beta);
        drop(E, p->mean);
        drop(E, p->var);
        drop(E, p->bias);
    }
}

int embed_prepare(const Lower *L, const char *path, Embedded *E, char *err,
                  size_t errlen) {
    memset(E, 0, sizeof *E);
    E->nw = L->ntensors;
    E->w = calloc((size_t)L->ntensors + 1, sizeof *E->w);
    E->pk = calloc((size_t)L->npk + 1, sizeof *E->pk);
    E->pk_floats = calloc((size_t)L->npk + 1, sizeof *E->pk_floats);
    E->fb = calloc((size_t)L->nfb + 1, sizeof *E->fb);
    E->bn = calloc(2 * (size_t)L->nbn + 1, sizeof *E->bn);
    if (!E->w || !E->pk || !E->pk_floats || !E->fb || !E->bn) die("out of memory");
    rn_safetensors *st = rn_st_open(path, err, errlen);
    if (!st) return -1;
    for (int i = 0; i < L->ntensors; i++) {
        const Tensor *t = &L->tensors[i];
        rn_i64 dims[4];
        for (int d = 0; d < t->rank; d++) dims[d] = t->dims[d];
        E->w[i] = floats(t->count);
        if (rn_st_read_f32(st, t->name, t->rank, dims, E->w[i], err, errlen) != 0) {
            rn_st_close(st);
            return -1;
        }
    }
    int rc = rn_st_check_all_used(st, err, errlen);
    rn_st_close(st);
    if (rc != 0) return -1;
    /* in the order of the generated load: convolutions, deconvolutions,
     * batchnorms */
    for (int i = 0; i < L->nprep; i++)
        if (L->preps[i].kind == PREP_CONV || L->preps[i].kind == PREP_DW_FOLD)
            prep_conv(E, L, &L->preps[i]);
    for (int i = 0; i < L->nprep; i++) {
        const Prep *p = &L->preps[i];
        if (p->kind != PREP_DECONV) continue;
        float *k = floats(L->tensors[p->kernel].count);
        rn_deconv_pack(&L->steps[p->step].deconv, E->w[p->kernel], k);
        free(E->w[p->kernel]);
        E->w[p->kernel] = k;
    }
    for (int i = 0; i < L->nprep; i++) {
        const Prep *p = &L->preps[i];
        if (p->kind != PREP_BN) continue;
        E->bn[2 * p->bn] = floats(p->cout);
        E->bn[2 * p->bn + 1] = floats(p->cout);
        rn_k_bn_fold((int)p->cout, opt(E, p->gamma), opt(E, p->beta), E->w[p->mean],
                     E->w[p->var], p->eps, E->bn[2 * p->bn], E->bn[2 * p->bn + 1]);
    }
    return 0;
}

void embed_free(Embedded *E, const Lower *L) {
    for (int i = 0; E->w && i < L->ntensors; i++) free(E->w[i]);
    for (int i = 0; E->pk && i < L->npk; i++) free(E->pk[i]);
    for (int i = 0; E->fb && i < L->nfb; i++) free(E->fb[i]);
    for (int i = 0; E->bn && i < 2 * L->nbn; i++) free(E->bn[i]);
    free(E->w);
    free(E->pk);
    free(E->pk_floats);
    free(E->fb);
    free(E->bn);
    memset(E, 0, sizeof *E);
}
