/* test_runtime.c: the runtime's readers, writers, pool and helpers.
 * Runs from tests/unit (the Makefile cd's there): data is in ../data. The
 * damaged-file corpus and the valid files come from tools/make_bad_files.py
 * (NumPy wrote the valid .npy files). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "rnrt.h"
#include "unit.h"

#define BAD_DIR "../data/bad/"
#define OK_DIR "../data/ok/"

/* ------------------------------------------------------------ helpers */

static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static int same_bytes(const char *a, const char *b) {
    size_t la, lb;
    unsigned char *x = slurp(a, &la), *y = slurp(b, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

/* A fresh directory under /tmp for files the tests write. */
static void temp_dir(char *buf, size_t size) {
    snprintf(buf, size, "/tmp/rnrt_test_XXXXXX");
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        exit(2);
    }
}

static void remove_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    char path[512];
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (rmdir(path) != 0) unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static float value(int i) { return (float)i * 0.5f - 3.0f; }

/* ----------------------------------------------------- the bad corpus */

/* "w=2,3;b=3": reads each tensor; returns -1 at the first refused read,
 * then checks that nothing is left unused. */
static int st_reads(rn_safetensors *st, char *reads, char *err, size_t n) {
    float buf[64];
    for (char *item = strtok(reads, ";"); item; item = strtok(NULL, ";")) {
        char *eq = strchr(item, '=');
        if (!eq) return -2;
        *eq = 0;
        rn_i64 dims[8];
        int rank = 0;
        /* strtok cannot nest: the dims are parsed by hand. */
        for (char *p = eq + 1; *p && rank < 8;) {
            dims[rank++] = strtoll(p, &p, 10);
            if (*p == ',') p++;
        }
        rn_i64 count = 1;
        for (int i = 0; i < rank; i++) count *= dims[i];
        if (count > 64) return -2;
        if (rn_st_read_f32(st, item, rank, dims, buf, err, n) != 0) return -1;
    }
    return rn_st_check_all_used(st, err, n);
}

static int in_manifest(char **names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return 1;
    return 0;
}

static void test_bad_corpus(void) {
    FILE *m = fopen(BAD_DIR "MANIFEST", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    char line[1024], *names[256];
    int nnames = 0, refused = 0, wrong = 0;
    while (fgets(line, sizeof line, m)) {
        if (line[0] == '#' || line[0] == '\n') continue;
        line[strcspn(line, "\n")] = 0;
        char *fields[4] = {0};
        char *p = line;
        for (int i = 0; i < 4 && p; i++) {
            fields[i] = p;
            p = strchr(p, '\t');
            if (p) *p++ = 0;
        }
        CU_ASSERT_PTR_NOT_NULL_FATAL(fields[2]);
        if (nnames < 256) names[nnames++] = strdup(fields[0]);
        char path[512], err[512] = "", reads[256] = "";
        snprintf(path, sizeof path, BAD_DIR "%s", fields[0]);
        if (fields[3]) snprintf(reads, sizeof reads, "%s", fields[3]);
        int r;
        if (!strcmp(fields[1], "st")) {
            rn_safetensors *st = rn_st_open(path, err, sizeof err);
            r = st ? st_reads(st, reads, err, sizeof err) : -1;
            rn_st_close(st);
        } else {
            rn_array a;
            r = rn_npy_read(path, &a, err, sizeof err);
            CU_ASSERT(a.data == NULL && a.rank == 0);
            if (r == 0) rn_array_free(&a);
        }
        /* Refused, with the expected words, naming the file. */
        int ok = r == -1 && strstr(err, fields[2]) && strstr(err, path);
        if (!ok) {
            fprintf(stderr, "\n  %s: got r=%d, \"%s\"; want \"%s\"", fields[0],
                    r, err, fields[2]);
            wrong++;
        }
        refused += r == -1;
    }
    fclose(m);
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT(refused >= 60);
    /* Every file of the corpus is in the manifest, so none goes untested. */
    DIR *d = opendir(BAD_DIR);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "MANIFEST")) continue;
        if (!in_manifest(names, nnames, e->d_name)) {
            fprintf(stderr, "\n  %s is not in the MANIFEST", e->d_name);
            CU_FAIL("corpus file missing from MANIFEST");
        }
    }
    closedir(d);
    for (int i = 0; i < nnames; i++) free(names[i]);
}

/* ------------------------------------------------------- valid files */

static void test_st_small(void) {
    char err[256];
    rn_safetensors *st = rn_st_open(OK_DIR "small.safetensors", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(rn_st_count(st), 2);
    CU_ASSERT_STRING_EQUAL(rn_st_name(st, 0), "conv2d.bias");
    CU_ASSERT_STRING_EQUAL(rn_st_name(st, 1), "conv2d.kernel");
    CU_ASSERT_PTR_NULL(rn_st_name(st, 2));
    float k[12], b[3];
    rn_i64 kd[] = {2, 2, 1, 3}, bd[] = {3};
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "conv2d.kernel", 4, kd, k, err, sizeof err), 0);
    for (int i = 0; i < 12; i++) CU_ASSERT_EQUAL(k[i], value(i));
    CU_ASSERT_EQUAL(rn_st_check_all_used(st, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unexpected tensor 'conv2d.bias'"));
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "conv2d.bias", 1, bd, b, err, sizeof err), 0);
    for (int i = 0; i < 3; i++) CU_ASSERT_EQUAL(b[i], value(i));
    CU_ASSERT_EQUAL(rn_st_check_all_used(st, err, sizeof err), 0);
    /* A read after a refused one still works: refusal changes nothing. */
    rn_i64 wrong[] = {3, 1};
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "conv2d.bias", 2, wrong, b, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "has shape [3], expected [3, 1]"));
    rn_st_close(st);
}

static void test_st_mixed(void) {
    char err[256];
    rn_safetensors *st = rn_st_open(OK_DIR "mixed.safetensors", err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(rn_st_count(st), 5);
    float s = 0, e[1];
    rn_i64 ed[] = {0, 3};
    /* The name was written as "caf\u00e9.scalar". */
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "caf\xc3\xa9.scalar", 0, NULL, &s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(s, -3.0f);
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "empty", 2, ed, e, err, sizeof err), 0);
    rn_i64 hd[] = {4};
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "half", 1, hd, e, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "dtype F16, expected F32"));
    CU_ASSERT_EQUAL(rn_st_check_all_used(st, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "unexpected tensor 'half'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "(and 2 more)"));
    rn_st_close(st);
    CU_ASSERT_PTR_NULL(rn_st_open(OK_DIR "no_such.safetensors", err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open " OK_DIR "no_such.safetensors"));
    CU_ASSERT_PTR_NULL(rn_st_open(OK_DIR, err, sizeof err));
}

typedef struct NpyCase {
    const char *file;
    int rank;
    rn_i64 dims[4];
    int v1; /* written by np.save: rn_npy_write must match it byte for byte */
} NpyCase;

static void test_npy_valid(void) {
    static const NpyCase cases[] = {
        {"a2x3.npy", 2, {2, 3}, 1},     {"a5.npy", 1, {5}, 1},
        {"scalar.npy", 0, {0}, 1},      {"img.npy", 4, {1, 4, 4, 3}, 1},
        {"empty.npy", 2, {0, 4}, 1},    {"a2x3_v2.npy", 2, {2, 3}, 0},
        {"a2x3_v3.npy", 2, {2, 3}, 0},
    };
    char dir[64], err[256], in[256], out[320];
    temp_dir(dir, sizeof dir);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const NpyCase *k = &cases[c];
        snprintf(in, sizeof in, OK_DIR "%s", k->file);
        rn_array a;
        int r = rn_npy_read(in, &a, err, sizeof err);
        CU_ASSERT_EQUAL_FATAL(r, 0);
        CU_ASSERT_EQUAL(a.rank, k->rank);
        rn_i64 count = 1;
        for (int i = 0; i < k->rank; i++) {
            CU_ASSERT_EQUAL(a.dims[i], k->dims[i]);
            count *= k->dims[i];
        }
        CU_ASSERT_EQUAL(a.count, count);
        for (rn_i64 i = 0; i < count; i++) CU_ASSERT_EQUAL(a.data[i], value((int)i));
        snprintf(out, sizeof out, "%s/%s", dir, k->file);
        CU_ASSERT_EQUAL(rn_npy_write(out, a.rank, a.dims, a.data, err, sizeof err), 0);
        if (k->v1 && !same_bytes(in, out)) {
            fprintf(stderr, "\n  %s: rn_npy_write differs from np.save", k->file);
            CU_FAIL("npy bytes differ from NumPy's");
        }
        rn_array b;
        CU_ASSERT_EQUAL(rn_npy_read(out, &b, err, sizeof err), 0);
        CU_ASSERT_EQUAL(b.count, a.count);
        if (a.count && b.count == a.count)
            CU_ASSERT(memcmp(a.data, b.data, (size_t)a.count * 4) == 0);
        rn_array_free(&a);
        rn_array_free(&b);
        CU_ASSERT_PTR_NULL(b.data);
    }
    remove_dir(dir);
}

/* ------------------------------------------------------- round trips */

static void test_st_round_trip(void) {
    char dir[64], path[128], path2[128], err[256];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    snprintf(path2, sizeof path2, "%s/w2.safetensors", dir);
    float a[60], b[7], c = 1.5f;
    for (int i = 0; i < 60; i++) a[i] = value(i) * 1e-3f + (float)i * 1e5f;
    for (int i = 0; i < 7; i++) b[i] = -value(i);
    rn_st_tensor t[] = {
        {"conv \"quoted\" \\ name", 4, {3, 1, 4, 5}, a},
        {"bias.\xc3\xa9", 1, {7}, b},
        {"scalar", 0, {0}, &c},
        {"empty", 2, {0, 5}, NULL},
    };
    CU_ASSERT_EQUAL_FATAL(rn_st_write(path, t, 4, err, sizeof err), 0);
    /* Data starts 8-byte aligned; the header length field says so. */
    size_t len;
    unsigned char *bytes = slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(bytes);
    if (len < 8) free(bytes);
    CU_ASSERT_FATAL(len >= 8);
    unsigned long long hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | bytes[i];
    CU_ASSERT_EQUAL((8 + hlen) % 8, 0);
    CU_ASSERT_EQUAL(len, 8 + hlen + (60 + 7 + 1) * 4);
    if (len == 8 + hlen + (60 + 7 + 1) * 4)
        CU_ASSERT(memcmp(bytes + 8 + hlen, a, sizeof a) == 0);
    free(bytes);

    rn_safetensors *st = rn_st_open(path, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_EQUAL(rn_st_count(st), 4);
    for (int i = 0; i < 4; i++) CU_ASSERT_STRING_EQUAL(rn_st_name(st, i), t[i].name);
    float ra[60], rb[7], rc, re[1];
    CU_ASSERT_EQUAL(rn_st_read_f32(st, t[0].name, 4, t[0].dims, ra, err, sizeof err), 0);
    CU_ASSERT_EQUAL(rn_st_read_f32(st, t[1].name, 1, t[1].dims, rb, err, sizeof err), 0);
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "scalar", 0, NULL, &rc, err, sizeof err), 0);
    CU_ASSERT_EQUAL(rn_st_read_f32(st, "empty", 2, t[3].dims, re, err, sizeof err), 0);
    CU_ASSERT(memcmp(ra, a, sizeof a) == 0);
    CU_ASSERT(memcmp(rb, b, sizeof b) == 0);
    CU_ASSERT_EQUAL(rc, c);
    CU_ASSERT_EQUAL(rn_st_check_all_used(st, err, sizeof err), 0);
    rn_st_close(st);
    /* Deterministic: the same tensors give the same bytes. */
    CU_ASSERT_EQUAL(rn_st_write(path2, t, 4, err, sizeof err), 0);
    CU_ASSERT(same_bytes(path, path2));

    /* Tensors the writer refuses, leaving the file as it was. */
    rn_st_tensor dup[] = {{"x", 1, {7}, b}, {"x", 1, {7}, b}};
    CU_ASSERT_EQUAL(rn_st_write(path, dup, 2, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "two tensors named 'x'"));
    rn_st_tensor bad[] = {{"ctl\x01", 1, {7}, b}};
    CU_ASSERT_EQUAL(rn_st_write(path, bad, 1, err, sizeof err), -1);
    rn_st_tensor neg[] = {{"n", 2, {-1, 7}, b}};
    CU_ASSERT_EQUAL(rn_st_write(path, neg, 1, err, sizeof err), -1);
    rn_st_tensor meta[] = {{"__metadata__", 1, {7}, b}};
    CU_ASSERT_EQUAL(rn_st_write(path, meta, 1, err, sizeof err), -1);
    CU_ASSERT(same_bytes(path, path2));
    CU_ASSERT_EQUAL(count_entries(dir), 2);
    remove_dir(dir);
}

/* A write that fails leaves the previous file as it was, and no temp file. */
static void test_atomic_write(void) {
    char dir[64], sub[128], path[160], err[256];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.npy", dir);
    float v[3] = {1, 2, 3};
    rn_i64 d3[] = {3};
    CU_ASSERT_EQUAL(rn_write_file_atomic(path, "old", 3, err, sizeof err), 0);

    /* The directory does not exist. */
    snprintf(sub, sizeof sub, "%s/missing/x.npy", dir);
    CU_ASSERT_EQUAL(rn_npy_write(sub, 1, d3, v, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, sub));
    rn_st_tensor t[] = {{"v", 1, {3}, v}};
    snprintf(sub, sizeof sub, "%s/missing/w.safetensors", dir);
    CU_ASSERT_EQUAL(rn_st_write(sub, t, 1, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot write"));

    /* The target is a directory: rename fails after the temp file is made. */
    snprintf(sub, sizeof sub, "%s/isdir", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/isdir/inner", dir);
    CU_ASSERT_EQUAL(rn_write_file_atomic(path, "keep", 4, err, sizeof err), 0);
    CU_ASSERT_EQUAL(rn_npy_write(sub, 1, d3, v, err, sizeof err), -1);
    CU_ASSERT_EQUAL(count_entries(sub), 1);

    /* A directory that is not writable (root writes anyway: skip then). */
    if (geteuid() != 0) {
        snprintf(path, sizeof path, "%s/x.npy", dir);
        CU_ASSERT_EQUAL(chmod(dir, 0555), 0);
        CU_ASSERT_EQUAL(rn_npy_write(path, 1, d3, v, err, sizeof err), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "Permission denied"));
        chmod(dir, 0755);
    }
    /* The disk fills up mid-write (as root too): a file size limit makes
     * write(2) fail with EFBIG once the temp file holds 4 KiB. */
    snprintf(path, sizeof path, "%s/x.npy", dir);
    struct rlimit lim, small;
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &lim), 0);
    small = lim;
    small.rlim_cur = 4096;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    static float big[4096];
    rn_i64 dbig[] = {4096};
    rn_st_tensor tb[] = {{"big", 1, {4096}, big}};
    if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
        int r1 = rn_npy_write(path, 1, dbig, big, err, sizeof err);
        int r2 = rn_st_write(path, tb, 1, err, sizeof err);
        setrlimit(RLIMIT_FSIZE, &lim);
        CU_ASSERT_EQUAL(r1, -1);
        CU_ASSERT_EQUAL(r2, -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "File too large"));
    } else {
        CU_FAIL("setrlimit");
    }
    signal(SIGXFSZ, prev);
    size_t len;
    unsigned char *old = slurp(path, &len);
    CU_ASSERT(old && len == 3 && memcmp(old, "old", 3) == 0);
    free(old);
    CU_ASSERT_EQUAL(count_entries(dir), 2); /* x.npy and isdir: no leftovers */

    /* A successful write replaces it, with the umask's permissions. */
    CU_ASSERT_EQUAL(rn_npy_write(path, 1, d3, v, err, sizeof err), 0);
    struct stat sb;
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
    mode_t mask = umask(022);
    umask(mask);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0666 & ~mask);
    rn_array a;
    CU_ASSERT_EQUAL(rn_npy_read(path, &a, err, sizeof err), 0);
    CU_ASSERT(a.count == 3 && a.data[2] == 3.0f);
    rn_array_free(&a);
    remove_dir(sub);
    remove_dir(dir);
}

typedef struct Writer {
    const char *path;
    char fill;
    int failures;
} Writer;

static void *writer_main(void *arg) {
    Writer *w = arg;
    char buf[20000], err[256];
    memset(buf, w->fill, sizeof buf);
    for (int i = 0; i < 20; i++)
        w->failures += rn_write_file_atomic(w->path, buf, sizeof buf, err,
                                            sizeof err) != 0;
    return NULL;
}

/* Writers racing on one path: each write lands whole, temp names never
 * collide, and nothing is left behind. */
static void test_atomic_concurrent(void) {
    char dir[64], path[128];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/race.bin", dir);
    Writer w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (Writer){path, (char)('a' + i), 0};
        pthread_create(&th[i], NULL, writer_main, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(w[i].failures, 0);
    }
    size_t len;
    unsigned char *got = slurp(path, &len);
    CU_ASSERT_FATAL(got && len == 20000);
    int uniform = got[0] >= 'a' && got[0] <= 'd';
    for (size_t i = 1; i < len; i++) uniform &= got[i] == got[0];
    CU_ASSERT(uniform);
    free(got);
    CU_ASSERT_EQUAL(count_entries(dir), 1);
    remove_dir(dir);
}

/* ------------------------------------------------------------- json */

static void test_json(void) {
    char err[256];
    const char *ok = " {\"s\":\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\","
                     "\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                     "\"big\":9223372036854775808,\"r\":-1.5e3,\"z\":-0,"
                     "\"a\":[true,false,null,[],{}]} \n";
    rn_json_doc *doc = rn_json_parse(ok, strlen(ok), err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    const rn_json *root = rn_json_root(doc);
    CU_ASSERT_EQUAL(root->n, 7);
    CU_ASSERT_STRING_EQUAL(rn_json_get(root, "s")->string,
                           "q\"b\\s/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    CU_ASSERT_EQUAL(rn_json_get(root, "max")->kind, RN_JSON_INT);
    CU_ASSERT_EQUAL(rn_json_get(root, "max")->integer, 9223372036854775807LL);
    CU_ASSERT_EQUAL(rn_json_get(root, "min")->integer, -9223372036854775807LL - 1);
    CU_ASSERT_EQUAL(rn_json_get(root, "big")->kind, RN_JSON_NUMBER);
    CU_ASSERT_EQUAL(rn_json_get(root, "r")->kind, RN_JSON_NUMBER);
    CU_ASSERT_EQUAL(rn_json_get(root, "z")->kind, RN_JSON_INT);
    CU_ASSERT_EQUAL(rn_json_get(root, "a")->n, 5);
    CU_ASSERT_PTR_NULL(rn_json_get(root, "nope"));
    rn_json_free(doc);

    static const char *bad[] = {
        "", "  ", "01", "1.", "1e", "-", "[1,]", "{,}", "{\"a\":1,}",
        "tru", "\"\t\"", "\"\\x\"", "\"\\u12\"", "\"\\udc00\"", "{\"a\" 1}",
        "[1 2]", "{\"a\":1}{", "\"unterminated", "{1:2}", "[\"\xe0\x80\x80\"]",
        "[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]", "\"\\u0000\"", "nul",
        "{\"a\":{\"b\":1,\"b\":2}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        doc = rn_json_parse(bad[i], strlen(bad[i]), err, sizeof err);
        if (doc) fprintf(stderr, "\n  accepted bad JSON [%s]", bad[i]);
        CU_ASSERT_PTR_NULL(doc);
        rn_json_free(doc);
    }
    /* The length bounds the text: no reading past it. */
    doc = rn_json_parse("[1]garbage", 3, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(doc);
    rn_json_free(doc);
    char pb[16];
    CU_ASSERT_STRING_EQUAL(rn_json_printable(pb, sizeof pb, "a\x01" "b"), "a\\x01b");
    CU_ASSERT_STRING_EQUAL(rn_json_printable(pb, sizeof pb, "abcdefghijklmnopq"), "abcdefghi...");
}

/* ------------------------------------------------------------- pool */

typedef struct Count {
    atomic_int *hits;
    atomic_int calls;
    int nthreads;
    atomic_int busy[64]; /* tasks running per worker index: at most 1 */
    atomic_int bad_worker;
} Count;

static void count_task(void *ctx, int i, int w) {
    Count *c = ctx;
    if (w < 0 || w >= c->nthreads || atomic_fetch_add(&c->busy[w], 1) != 0) {
        atomic_fetch_add(&c->bad_worker, 1);
        return;
    }
    /* Uneven work, so that threads interleave differently each run. */
    volatile int spin = 0;
    for (int k = 0; k < (i % 7) * 50; k++) spin = spin + k;
    atomic_fetch_add(&c->hits[i], 1);
    atomic_fetch_add(&c->calls, 1);
    atomic_fetch_sub(&c->busy[w], 1);
}

/* Runs `runs` jobs on p and checks every task ran exactly once each time,
 * each on a worker index in range that no other task held meanwhile. */
static int check_pool(rn_pool *p, int ntasks, int runs) {
    atomic_int *hits = calloc((size_t)ntasks + 1, sizeof *hits);
    int bad = 0;
    for (int r = 0; r < runs; r++) {
        Count c;
        memset(&c, 0, sizeof c); /* atomics all 0 */
        c.hits = hits;
        c.nthreads = rn_pool_threads(p);
        for (int i = 0; i < ntasks; i++) atomic_store(&hits[i], 0);
        rn_pool_run(p, ntasks, count_task, &c);
        bad += atomic_load(&c.calls) != ntasks;
        bad += atomic_load(&c.bad_worker);
        for (int i = 0; i < ntasks; i++) bad += atomic_load(&hits[i]) != 1;
    }
    free(hits);
    return bad;
}

/* rn_alloc: small blocks from malloc, big ones 2 MiB aligned (Linux),
 * every byte writable and kept, free() frees them. */
static void test_alloc(void) {
    static const size_t sizes[] = {0, 1, 4096, (1u << 20) - 4, 1u << 20, (5u << 20) + 12};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        unsigned char *p = rn_alloc(sizes[k]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT((uintptr_t)p % 16 == 0);
#ifdef __linux__
        if (sizes[k] >= 1u << 20) CU_ASSERT((uintptr_t)p % (2u << 20) == 0);
#endif
        for (size_t i = 0; i < sizes[k]; i++) p[i] = (unsigned char)i;
        int same = 1;
        for (size_t i = 0; i < sizes[k]; i++) same &= p[i] == (unsigned char)i;
        CU_ASSERT(same);
        free(p);
    }
}

static void test_pool_exactly_once(void) {
    static const int threads[] = {1, 2, 3, 4, 8, 17};
    static const int tasks[] = {0, 1, 2, 3, 5, 16, 17, 100, 1000};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        rn_pool *p = rn_pool_new(threads[t]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL(rn_pool_threads(p), threads[t]);
        for (size_t k = 0; k < sizeof tasks / sizeof tasks[0]; k++) {
            int bad = check_pool(p, tasks[k], 30);
            if (bad) fprintf(stderr, "\n  pool %d threads, %d tasks: %d wrong",
                             threads[t], tasks[k], bad);
            CU_ASSERT_EQUAL(bad, 0);
        }
        rn_pool_free(p);
    }
    CU_ASSERT_EQUAL(rn_pool_threads(NULL), 1);
    CU_ASSERT_EQUAL(check_pool(NULL, 10, 2), 0);
    rn_pool *p = rn_pool_new(0);
    CU_ASSERT_EQUAL(rn_pool_threads(p), 1);
    rn_pool_free(p);
    p = rn_pool_new(1000);
    CU_ASSERT_EQUAL(rn_pool_threads(p), 64);
    rn_pool_free(p);
    rn_pool_free(NULL);
}

/* The pool's caller also works: with one worker asleep (a long gap between
 * runs), a job still completes, and the results are visible on return. */
static void sum_task(void *ctx, int i, int w) {
    (void)w;
    ((long long *)ctx)[i] = (long long)i * i;
}

static void test_pool_sleep_wake(void) {
    rn_pool *p = rn_pool_new(3);
    long long out[50];
    for (int r = 0; r < 3; r++) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL); /* long enough for the workers to sleep */
        memset(out, 0, sizeof out);
        rn_pool_run(p, 50, sum_task, out);
        long long s = 0;
        for (int i = 0; i < 50; i++) s += out[i];
        CU_ASSERT_EQUAL(s, 49LL * 50 * 99 / 6);
    }
    rn_pool_free(p);
}

typedef struct Who {
    pthread_t ids[64];
} Who;

static void who_task(void *ctx, int i, int w) {
    (void)w;
    double t0 = rn_now_ms();
    while (rn_now_ms() - t0 < 0.05) {
    }
    ((Who *)ctx)->ids[i] = pthread_self();
}

/* The workers really take tasks: a job long enough is shared out. */
static void test_pool_shares(void) {
    rn_pool *p = rn_pool_new(4);
    Who w;
    int distinct = 1;
    for (int r = 0; r < 20 && distinct < 2; r++) {
        rn_pool_run(p, 64, who_task, &w);
        for (int i = 1; i < 64; i++)
            if (!pthread_equal(w.ids[i], w.ids[0])) distinct = 2;
    }
    CU_ASSERT_EQUAL(distinct, 2);
    rn_pool_free(p);
}

/* Each worker owns the tasks [n*w/T, n*(w+1)/T) (T threads) and runs them
 * from the front; others take from the back. So, in every run, whatever
 * the timing: the tasks of a share that its owner ran are a prefix of the
 * share, started in increasing order, and the stolen ones are the rest;
 * with 2 threads (one thief a share) these start in decreasing order. */
typedef struct Order {
    atomic_int seq;
    int by[256], at[256]; /* worker and start of each task */
} Order;

static void order_task(void *ctx, int i, int w) {
    Order *o = ctx;
    o->by[i] = w;
    o->at[i] = atomic_fetch_add(&o->seq, 1);
    volatile int spin = 0;
    for (int k = 0; k < (i % 5) * 200; k++) spin = spin + k;
}

static int check_order(rn_pool *p, int ntasks) {
    Order o;
    memset(&o, 0, sizeof o);
    rn_pool_run(p, ntasks, order_task, &o);
    int bad = 0, T = rn_pool_threads(p);
    for (int w = 0; w < T; w++) {
        int lo = ntasks * w / T, hi = ntasks * (w + 1) / T, own = 1;
        int last_own = -1, last_stolen = ntasks;
        for (int i = lo; i < hi; i++) {
            if (o.by[i] != w) {
                own = 0;
                if (T == 2) bad += o.at[i] > last_stolen; /* backwards */
                last_stolen = o.at[i];
                continue;
            }
            bad += !own;               /* an owned task after a stolen one */
            bad += o.at[i] < last_own; /* the owner goes forward */
            last_own = o.at[i];
        }
    }
    return bad;
}

static void test_pool_affinity(void) {
    static const int threads[] = {2, 3, 4};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        rn_pool *p = rn_pool_new(threads[t]);
        int bad = 0;
        for (int r = 0; r < 50; r++) {
            if (r % 10 == 0) { /* workers asleep: the caller steals all */
                struct timespec ts = {0, 5 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            bad += check_order(p, 4 + r * 5);
        }
        CU_ASSERT_EQUAL(bad, 0);
        rn_pool_free(p);
    }
}

static void *pool_thread(void *arg) {
    rn_pool *p = arg;
    long bad = 0;
    for (int i = 0; i < 20; i++) bad += check_pool(p, 37 + i, 10);
    return (void *)bad;
}

/* Several pools at once, driven from different threads. */
static void test_pool_many(void) {
    rn_pool *p[3] = {rn_pool_new(2), rn_pool_new(3), rn_pool_new(4)};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, pool_thread, p[i]);
    for (int i = 0; i < 3; i++) {
        void *bad;
        pthread_join(th[i], &bad);
        CU_ASSERT_PTR_NULL(bad);
        rn_pool_free(p[i]);
    }
}

static void nop_task(void *ctx, int i, int w) {
    (void)ctx;
    (void)i;
    (void)w;
}

/* Back-to-back runs (one per layer) must stay cheap. The bound is loose, to
 * hold under sanitizers and valgrind; the figure is printed. */
static void test_pool_overhead(void) {
    rn_pool *p = rn_pool_new(2);
    int n = 2000;
    double t0 = rn_now_ms();
    for (int i = 0; i < n; i++) rn_pool_run(p, 8, nop_task, NULL);
    double us = (rn_now_ms() - t0) * 1000.0 / n;
    fprintf(stderr, "\n  pool: %.2f us per run (2 threads, 8 tasks) ", us);
    CU_ASSERT(us < 2000.0);
    rn_pool_free(p);
}

/* ------------------------------------------------------------ util */

static void test_rng(void) {
    rn_rng r;
    rn_rng_seed(&r, 0);
    /* splitmix64's published first outputs for seed 0. */
    CU_ASSERT_EQUAL(rn_rng_next(&r), 0xe220a8397b1dcdafULL);
    CU_ASSERT_EQUAL(rn_rng_next(&r), 0x6e789e6aa1b965f4ULL);
    CU_ASSERT_EQUAL(rn_rng_next(&r), 0x06c45d188009454fULL);
    /* Values computed in Python from the same definition. */
    rn_rng_seed(&r, 12345);
    CU_ASSERT_EQUAL(rn_rng_uniform(&r), 0.1330796480178833f);
    CU_ASSERT_EQUAL(rn_rng_uniform(&r), 0.20481657981872559f);
    CU_ASSERT_EQUAL(rn_rng_uniform(&r), 0.11954253911972046f);
    CU_ASSERT_DOUBLE_EQUAL(rn_rng_normal(&r), -1.8619122844359999, 1e-6);

    rn_rng a, b;
    rn_rng_seed(&a, 7);
    rn_rng_seed(&b, 7);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= rn_rng_next(&a) == rn_rng_next(&b);
    CU_ASSERT(same);
    rn_rng_seed(&b, 8);
    CU_ASSERT(rn_rng_next(&a) != rn_rng_next(&b));

    double sum = 0, sq = 0, lo = 1, hi = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = rn_rng_uniform(&a);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        sum += u;
    }
    CU_ASSERT(lo >= 0.0 && hi < 1.0);
    CU_ASSERT_DOUBLE_EQUAL(sum / n, 0.5, 0.01);
    sum = 0;
    int finite = 1;
    for (int i = 0; i < n; i++) {
        double z = rn_rng_normal(&a);
        finite &= isfinite(z);
        sum += z;
        sq += z * z;
    }
    CU_ASSERT(finite);
    CU_ASSERT_DOUBLE_EQUAL(sum / n, 0.0, 0.02);
    CU_ASSERT_DOUBLE_EQUAL(sq / n, 1.0, 0.02);
}

static void test_threads_env(void) {
    const char *saved = getenv("RNC_THREADS");
    char *copy = saved ? strdup(saved) : NULL;
    static const struct { const char *v; int want; } cases[] = {
        {"4", 4}, {"1", 1}, {"0", 1}, {"-3", 1}, {"64", 64}, {"65", 64},
        {"100000000000000000000", 1}, {"abc", 1}, {"3x", 1}, {"", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("RNC_THREADS", cases[i].v, 1);
        CU_ASSERT_EQUAL(rn_threads_from_env(), cases[i].want);
    }
    unsetenv("RNC_THREADS");
    CU_ASSERT_EQUAL(rn_threads_from_env(), 1);
    if (copy) setenv("RNC_THREADS", copy, 1);
    free(copy);
}

static void test_median_min_clock(void) {
    double med, min;
    double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2};
    rn_median_min(odd, 3, &med, &min);
    CU_ASSERT(med == 2 && min == 1);
    rn_median_min(even, 4, &med, &min);
    CU_ASSERT(med == 2.5 && min == 1);
    CU_ASSERT(odd[0] == 3 && even[0] == 4); /* the input is not sorted */
    rn_median_min(odd, 0, &med, &min);
    CU_ASSERT(med == 0 && min == 0);
    double t0 = rn_now_ms();
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
    double dt = rn_now_ms() - t0;
    CU_ASSERT(dt >= 4.9 && dt < 5000);
}

void register_runtime_tests(void) {
    CU_pSuite s = unit_suite("runtime");
    CU_add_test(s, "damaged files are refused (MANIFEST)", test_bad_corpus);
    CU_add_test(s, "safetensors: small valid file", test_st_small);
    CU_add_test(s, "safetensors: other dtypes, scalar, empty", test_st_mixed);
    CU_add_test(s, "npy: NumPy's files read, rewritten byte-exact", test_npy_valid);
    CU_add_test(s, "safetensors: write/read round trip", test_st_round_trip);
    CU_add_test(s, "atomic writes keep the old file", test_atomic_write);
    CU_add_test(s, "atomic writes racing on one path", test_atomic_concurrent);
    CU_add_test(s, "strict JSON", test_json);
    CU_add_test(s, "pool: every task exactly once", test_pool_exactly_once);
    CU_add_test(s, "pool: wakes sleeping workers", test_pool_sleep_wake);
    CU_add_test(s, "pool: several pools at once", test_pool_many);
    CU_add_test(s, "pool: workers take tasks", test_pool_shares);
    CU_add_test(s, "pool: own share forward, stolen from the back", test_pool_affinity);
    CU_add_test(s, "pool: overhead per run", test_pool_overhead);
    CU_add_test(s, "rng: splitmix64, uniform, normal", test_rng);
    CU_add_test(s, "RNC_THREADS", test_threads_env);
    CU_add_test(s, "median, min, clock", test_median_min_clock);
    CU_add_test(s, "rn_alloc: big blocks on 2 MiB pages", test_alloc);
}
