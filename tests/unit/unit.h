/* unit.h: one register function per module's CUnit suite. */
#ifndef UNIT_H
#define UNIT_H
#include <CUnit/CUnit.h>

void register_frontend_tests(void); /* test_frontend.c: lexer, parser, elaboration */
void register_shape_tests(void);    /* test_shape.c: shapes, counts, plan */
void register_summary_tests(void);  /* test_summary.c: summary formatting, dot */
void register_runtime_tests(void);  /* test_runtime.c: safetensors, npy, pool */
void register_emit_tests(void);     /* test_emit.c: code generation, weights */
void register_jit_tests(void);      /* test_jit.c: libtcc in memory */
void register_weights_tests(void);  /* test_weights.c: --init-weights */
void register_conv_tests(void);     /* test_conv.c: packed direct convolution */
void register_passes_tests(void);   /* test_passes.c: fusion passes, fused plan */
void register_inspect_tests(void);  /* test_inspect.c: plan buffers, trace, profile */
void register_import_tests(void);   /* test_import.c: the importers' writer */
void register_keras_tests(void);    /* test_keras.c: the Keras importer (halves, weights) */
void register_names_tests(void);    /* test_names.c: model names the generated C cannot take */

/* Adds a suite or aborts the run. */
CU_pSuite unit_suite(const char *name);
#endif
