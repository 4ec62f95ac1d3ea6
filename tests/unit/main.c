/* The CUnit runner: each module's test file registers its own suite. */
#include <CUnit/Basic.h>
#include <stdio.h>

#include "unit.h"

int main(void) {
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    register_frontend_tests();
    register_shape_tests();
    register_summary_tests();
    register_runtime_tests();
    register_emit_tests();
    register_jit_tests();
    register_weights_tests();
    register_conv_tests();
    register_passes_tests();
    register_inspect_tests();
    register_import_tests();
    register_keras_tests();
    register_names_tests();
    CU_basic_set_mode(CU_BRM_NORMAL);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return failed || run == 0 ? 1 : 0;
}
