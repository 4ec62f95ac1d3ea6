/* stubs_shape.c: placeholders until shapes, plan, summary and dot land. */
#include "rnc.h"

const OpInfo op_info[OP__COUNT] = {
#define X(id, op, base, cls) {op, base, cls},
    RN_OPS(X)
#undef X
};
const char *const act_names[] = {"none", "relu", "relu6", "sigmoid", "tanh", "softmax"};
bool shape_infer(GNode *n, char *e, size_t l) { (void)n; (void)e; (void)l; return false; }
void shape_format(const Shape *s, char *o, size_t l) { (void)s; (void)o; (void)l; }
int64_t shape_count(const Shape *s) { (void)s; return 0; }
int node_weights(const GNode *n, WeightSpec o[4]) { (void)n; (void)o; return 0; }
Totals graph_totals(const Graph *g) { (void)g; Totals t = {0}; return t; }
void plan_arena(Graph *g) { (void)g; }
void summary_print(FILE *o, Graph *g, bool e) { (void)o; (void)g; (void)e; }
void dot_print(FILE *o, const Graph *g) { (void)o; (void)g; }
