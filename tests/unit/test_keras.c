/* test_keras.c: the Keras importer's pieces that end-to-end runs reach
 * only by chance: IEEE half to float for all 65536 halves (against the
 * table method tfjs's io decodes with), uint8 / uint16 / int32 weights
 * dequantized as tfjs does, and weight names in each form a converter
 * writes (":0", a nested model's scope, Keras 3's LAYER/INDEX). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import_keras.h"
#include "rnrt.h"
#include "unit.h"

/* tfjs-core's getFloat16Decoder (after van der Zijp, "Fast Half Float
 * Conversions"): three tables, then one addition. */
static uint32_t table_half(uint16_t h) {
    static uint32_t mant[2048], expo[64], off[64];
    if (!mant[1]) {
        for (uint32_t i = 1; i < 1024; i++) {
            uint32_t m = i << 13, e = 0;
            while (!(m & 0x00800000)) {
                e -= 0x00800000;
                m <<= 1;
            }
            m &= ~0x00800000u;
            e += 0x38800000;
            mant[i] = m | e;
        }
        for (uint32_t i = 1024; i < 2048; i++)
            mant[i] = 0x38000000 + ((i - 1024) << 13);
        expo[31] = 0x47800000;
        expo[32] = 0x80000000;
        expo[63] = 0xc7800000;
        for (uint32_t i = 1; i < 31; i++) expo[i] = i << 23;
        for (uint32_t i = 33; i < 63; i++)
            expo[i] = 0x80000000 + ((i - 32) << 23);
        for (int i = 0; i < 64; i++) off[i] = 1024;
        off[0] = off[32] = 0;
    }
    return mant[off[h >> 10] + (h & 0x3ff)] + expo[h >> 10];
}

static void test_half_all(void) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = kw_half((uint16_t)h);
        uint32_t bits;
        memcpy(&bits, &f, 4);
        if (bits != table_half((uint16_t)h)) {
            CU_FAIL("kw_half differs from tfjs's tables");
            printf("\n  half 0x%04x: 0x%08x, tables 0x%08x\n", h, bits,
                   table_half((uint16_t)h));
            return;
        }
    }
    CU_PASS("65536 halves");
    CU_ASSERT_EQUAL(kw_half(0x3c00), 1.0f);
    CU_ASSERT_EQUAL(kw_half(0x0001), ldexpf(1, -24)); /* smallest subnormal */
    CU_ASSERT_EQUAL(kw_half(0xc000), -2.0f);
    CU_ASSERT(isinf(kw_half(0x7c00)) && isnan(kw_half(0x7e00)));
}

/* ---- a small model through keras_convert */

static char dir[64];

static void put(const char *name, const void *data, size_t n) {
    char p[160];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fwrite(data, 1, n, f) == n);
    fclose(f);
}

/* Imports dir/model.json; 0 and the weights file read back on success. */
static int convert(rn_safetensors **st, char *errs, size_t errlen) {
    char rn_path[160], st_path[160];
    snprintf(rn_path, sizeof rn_path, "%s/out.rn", dir);
    snprintf(st_path, sizeof st_path, "%s/out.safetensors", dir);
    FILE *e = fmemopen(errs, errlen, "w");
    Buf rn = {0};
    unsigned char *bytes = NULL;
    size_t len = 0;
    int rc = keras_convert(dir, rn_path, st_path, "unit", NULL, e, &rn, &bytes,
                           &len);
    fclose(e);
    *st = NULL;
    if (rc == 0) {
        FILE *f = fopen(st_path, "wb");
        fwrite(bytes, 1, len, f);
        fclose(f);
        char err[256];
        *st = rn_st_open(st_path, err, sizeof err);
        CU_ASSERT(*st != NULL);
    }
    buf_free(&rn);
    free(bytes);
    return rc;
}

/* Dense 2 -> 3 with a batch norm after it; `names` the manifest's four
 * names of dense kernel, dense bias, and (two of) the batch norm's. */
static const char *model_json(const char *kname, const char *bname,
                              const char *quant) {
    static char buf[4096];
    snprintf(buf, sizeof buf,
        "{\"modelTopology\": {\"class_name\": \"Sequential\", \"config\": "
        "{\"name\": \"outer\", \"layers\": ["
        " {\"class_name\": \"Sequential\", \"config\": {\"name\": \"inner\","
        "  \"layers\": [{\"class_name\": \"Dense\", \"config\": {\"name\": "
        "  \"d\", \"units\": 3, \"batch_input_shape\": [null, 2]}}]}},"
        " {\"class_name\": \"Dense\", \"config\": {\"name\": \"e\", "
        "  \"units\": 1, \"use_bias\": false}}]}},"
        " \"weightsManifest\": [{\"paths\": [\"w.bin\"], \"weights\": ["
        "  {\"name\": \"%s\", \"shape\": [2, 3], \"dtype\": \"float32\"%s},"
        "  {\"name\": \"%s\", \"shape\": [3], \"dtype\": \"int32\"},"
        "  {\"name\": \"e/kernel\", \"shape\": [3, 1], "
        "\"dtype\": \"float16\"}]}]}",
        kname, quant, bname);
    return buf;
}

static void check_weights(rn_safetensors *st, const float *kernel) {
    float k[6], b[3], e[3];
    char err[256];
    CU_ASSERT(rn_st_read_f32(st, "inner.d.kernel", 2, (rn_i64[]){2, 3}, k,
                             err, sizeof err) == 0);
    CU_ASSERT(rn_st_read_f32(st, "inner.d.bias", 1, (rn_i64[]){3}, b, err,
                             sizeof err) == 0);
    CU_ASSERT(rn_st_read_f32(st, "e.kernel", 2, (rn_i64[]){3, 1}, e, err,
                             sizeof err) == 0);
    CU_ASSERT(rn_st_check_all_used(st, err, sizeof err) == 0);
    for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(k[i], kernel[i]);
    CU_ASSERT(b[0] == -7 && b[1] == 0 && b[2] == 2147483647.0f);
    CU_ASSERT(e[0] == 1 && e[1] == -2 && e[2] == 0.5f);
}

static void test_names_and_dtypes(void) {
    snprintf(dir, sizeof dir, "/tmp/rnc-unit-keras-XXXXXX");
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    /* float32 kernel, int32 bias, float16 kernel: 24 + 12 + 6 bytes */
    unsigned char w[64];
    float k[6] = {0.5f, -1.25f, 3, 1e-3f, -0.0f, 7};
    int32_t b[3] = {-7, 0, 2147483647};
    uint16_t h[3] = {0x3c00, 0xc000, 0x3800};
    memcpy(w, k, 24);
    memcpy(w + 24, b, 12);
    memcpy(w + 36, h, 6);
    put("w.bin", w, 42);
    static const char *const names[][2] = {
        {"d/kernel", "d/bias"},              /* as tfjs writes them */
        {"d/kernel:0", "d/bias:0"},          /* Python TensorFlow's slot */
        {"inner/d/kernel:0", "inner/d/bias"}, /* the nested model's scope */
        {"outer/inner/d/kernel", "outer/inner/d/bias"},
        {"d/0", "d/1"},                      /* Keras 3: by position */
        {"_layer_checkpoint_dependencies/d/vars/0", "d/vars/1"},
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        const char *j = model_json(names[i][0], names[i][1], "");
        put("model.json", j, strlen(j));
        rn_safetensors *st;
        char errs[1024] = "";
        CU_ASSERT(convert(&st, errs, sizeof errs) == 0);
        if (st) check_weights(st, k);
        else printf("\n  %s: %s", names[i][0], errs);
        rn_st_close(st);
    }
    /* a wrong scope names no layer */
    const char *j = model_json("other/d/kernel", "d/bias", "");
    put("model.json", j, strlen(j));
    rn_safetensors *st;
    char errs[1024] = "";
    CU_ASSERT(convert(&st, errs, sizeof errs) == 1);
    CU_ASSERT(strstr(errs, "no layer 'd' in that scope") != NULL);
    rn_st_close(st);
}

static void test_quantized(void) {
    /* uint8 kernel: v * scale + min in double, then float (tfjs) */
    unsigned char w[64] = {0, 1, 2, 128, 254, 255};
    int32_t b[3] = {-7, 0, 2147483647};
    uint16_t h[3] = {0x3c00, 0xc000, 0x3800};
    memcpy(w + 6, b, 12);
    memcpy(w + 18, h, 6);
    put("w.bin", w, 24);
    const double scale = 0.0123456789, min = -1.5;
    char q[160];
    snprintf(q, sizeof q, ", \"quantization\": {\"dtype\": \"uint8\", "
             "\"min\": %.17g, \"scale\": %.17g, \"original_dtype\": "
             "\"float32\"}", min, scale);
    const char *j = model_json("d/kernel", "d/bias", q);
    put("model.json", j, strlen(j));
    float want[6];
    for (int i = 0; i < 6; i++) want[i] = (float)(w[i] * scale + min);
    rn_safetensors *st;
    char errs[1024] = "";
    CU_ASSERT(convert(&st, errs, sizeof errs) == 0);
    if (st) check_weights(st, want);
    rn_st_close(st);

    /* uint16 */
    uint16_t u[6] = {0, 1, 300, 40000, 65534, 65535};
    memcpy(w, u, 12);
    memcpy(w + 12, b, 12);
    memcpy(w + 24, h, 6);
    put("w.bin", w, 30);
    snprintf(q, sizeof q, ", \"quantization\": {\"dtype\": \"uint16\", "
             "\"min\": %.17g, \"scale\": %.17g}", min, scale);
    j = model_json("d/kernel", "d/bias", q);
    put("model.json", j, strlen(j));
    for (int i = 0; i < 6; i++) want[i] = (float)(u[i] * scale + min);
    CU_ASSERT(convert(&st, errs, sizeof errs) == 0);
    if (st) check_weights(st, want);
    rn_st_close(st);

    /* a shard one byte short is refused, naming the group */
    put("w.bin", w, 29);
    CU_ASSERT(convert(&st, errs, sizeof errs) == 1);
    CU_ASSERT(strstr(errs, "group 1: its shards hold 29 bytes, its weights "
                           "take 30") != NULL);
    static const char *const files[] = {"w.bin", "model.json",
                                        "out.safetensors"};
    char p[160];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

void register_keras_tests(void) {
    CU_pSuite s = unit_suite("keras");
    CU_add_test(s, "half to float, all 65536", test_half_all);
    CU_add_test(s, "weight names and dtypes", test_names_and_dtypes);
    CU_add_test(s, "quantized weights, short shard", test_quantized);
}
