/* test_jit.c: placeholder until the module's suite lands. */
#include "unit.h"

void register_jit_tests(void) {}
