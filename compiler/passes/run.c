/* run.c: the fusion passes in the one order every caller runs them.
 *
 * Requires a shaped graph (elaborate.c); sets only the fusion fields of
 * its nodes (see each pass's file). main.c runs this before the plan
 * unless --no-fuse or --trace asks for every layer's own code; the unit
 * tests run it to see what main.c sees. */
#include "rnc.h"

void passes_run(Graph *g) {
    pass_fold_batchnorm(g);
    pass_fuse_residual(g);
    pass_fuse_activation(g);
    pass_fold_zeropad(g);
    pass_fuse_prologue(g);
    pass_concat_slices(g); /* last: the views' readers are prologue convs */
}
