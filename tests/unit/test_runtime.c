/* test_runtime.c: placeholder until the module's suite lands. */
#include "unit.h"

void register_runtime_tests(void) {}
