/* test_emit.c: placeholder until the module's suite lands. */
#include "unit.h"

void register_emit_tests(void) {}
