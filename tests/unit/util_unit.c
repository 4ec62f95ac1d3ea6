/* util_unit.c: helpers shared by the unit suites. */
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

CU_pSuite unit_suite(const char *name) {
    CU_pSuite s = CU_add_suite(name, NULL, NULL);
    if (!s) {
        fprintf(stderr, "cannot add suite %s\n", name);
        exit(2);
    }
    return s;
}
