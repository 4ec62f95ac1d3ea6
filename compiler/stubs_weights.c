/* stubs_weights.c: placeholder until --init-weights lands. */
#include "rnc.h"

int weights_init(const Graph *g, const char *p, uint64_t s, bool r, char *e, size_t l) { (void)g; (void)p; (void)s; (void)r; (void)e; (void)l; return -1; }
