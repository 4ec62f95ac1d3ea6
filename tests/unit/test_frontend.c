/* test_frontend.c: placeholder until the module's suite lands. */
#include "unit.h"

void register_frontend_tests(void) {}
