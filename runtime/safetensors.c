/* safetensors.c: reading and writing safetensors files.
 *
 * Layout: 8-byte little-endian header length N, N bytes of JSON header
 * (padded with spaces), then the data section. rn_st_open reads the whole
 * file and validates every header entry and the byte ranges before any
 * tensor is handed out: a damaged file is refused with a message naming the
 * file and the tensor, never half-used. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "rnrt.h"
#include "internal.h"

/* A header larger than this is refused before it is parsed. */
#define MAX_HEADER ((unsigned long long)100 * 1000 * 1000)

/* The dtypes safetensors knows, with their size in bits (F4 and F6 pack
 * several values per byte). */
typedef struct Dtype {
    const char *name;
    int bits;
} Dtype;

static const Dtype dtypes[] = {
    {"BOOL", 8},     {"U8", 8},       {"I8", 8},        {"F8_E5M2", 8},
    {"F8_E4M3", 8},  {"F8_E8M0", 8},  {"I16", 16},      {"U16", 16},
    {"F16", 16},     {"BF16", 16},    {"I32", 32},      {"U32", 32},
    {"F32", 32},     {"F64", 64},     {"I64", 64},      {"U64", 64},
    {"C64", 64},     {"F4", 4},       {"F6_E2M3", 6},   {"F6_E3M2", 6},
};

typedef struct Tensor {
    const char *name;      /* in the JSON document */
    const Dtype *dtype;
    const rn_json *shape;  /* array of non-negative integers */
    unsigned long long begin, end; /* within the data section */
    int used;
} Tensor;

struct rn_safetensors {
    char *path;
    unsigned char *file;
    size_t size;
    const unsigned char *data; /* the data section */
    unsigned long long data_size;
    rn_json_doc *doc;
    int n;
    Tensor *tensors;  /* header order */
    Tensor **sorted;  /* by name, for lookups */
};

/* "[3, 3, 3, 32]" into buf (cut short if it does not fit). */
static const char *dims_str(char *buf, size_t size, int rank,
                            const rn_i64 *dims, const rn_json *shape) {
    size_t o = 0;
    buf[0] = 0;
    o += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && o < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%lld", i ? ", " : "",
                              dims ? dims[i] : shape->items[i]->integer);
    if (o < size) snprintf(buf + o, size - o, "]");
    return buf;
}

/* Reads the whole file; NULL with a message on failure. */
static unsigned char *read_file(const char *path, size_t *size, char *err,
                                size_t errlen) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        rn_set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rn_set_err(err, errlen, "cannot read %s: not a regular file", path);
        close(fd);
        return NULL;
    }
    size_t n = (size_t)st.st_size, got = 0;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        rn_set_err(err, errlen, "%s: out of memory for %zu bytes", path, n);
        close(fd);
        return NULL;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            rn_set_err(err, errlen, "cannot read %s: %s", path,
                    r < 0 ? strerror(errno) : "file shrank while reading");
            free(buf);
            close(fd);
            return NULL;
        }
        got += (size_t)r;
    }
    close(fd);
    *size = n;
    return buf;
}

static const Dtype *find_dtype(const char *name) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtypes[i].name, name) == 0) return &dtypes[i];
    return NULL;
}

static int is_count(const rn_json *v) {
    return v && v->kind == RN_JSON_INT && v->integer >= 0;
}

/* Checks one tensor entry and fills t. */
static int check_entry(rn_safetensors *st, const char *name, const rn_json *e,
                       Tensor *t, char *err, size_t errlen) {
    char nb[128], sb[256];
    const char *path = st->path;
    rn_json_printable(nb, sizeof nb, name);
    for (const char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            rn_set_err(err, errlen, "%s: tensor name '%s' contains control "
                    "characters", path, nb);
            return -1;
        }
    if (e->kind != RN_JSON_OBJECT) {
        rn_set_err(err, errlen, "%s: tensor '%s': entry is not an object", path,
                nb);
        return -1;
    }
    for (int i = 0; i < e->n; i++) {
        const char *k = e->keys[i];
        if (strcmp(k, "dtype") && strcmp(k, "shape") &&
            strcmp(k, "data_offsets")) {
            char kb[64];
            rn_set_err(err, errlen, "%s: tensor '%s': unexpected key '%s'", path,
                    nb, rn_json_printable(kb, sizeof kb, k));
            return -1;
        }
    }
    const rn_json *dt = rn_json_get(e, "dtype"), *sh = rn_json_get(e, "shape"),
                  *off = rn_json_get(e, "data_offsets");
    const char *missing = !dt ? "dtype" : !sh ? "shape" : !off ? "data_offsets"
                                                              : NULL;
    if (missing) {
        rn_set_err(err, errlen, "%s: tensor '%s': missing \"%s\"", path, nb,
                missing);
        return -1;
    }
    if (dt->kind != RN_JSON_STRING) {
        rn_set_err(err, errlen, "%s: tensor '%s': \"dtype\" is not a string",
                path, nb);
        return -1;
    }
    if (!(t->dtype = find_dtype(dt->string))) {
        char db[64];
        rn_set_err(err, errlen, "%s: tensor '%s': unknown dtype '%s'", path, nb,
                rn_json_printable(db, sizeof db, dt->string));
        return -1;
    }
    int shape_ok = sh->kind == RN_JSON_ARRAY;
    for (int i = 0; shape_ok && i < sh->n; i++)
        shape_ok = is_count(sh->items[i]);
    if (!shape_ok) {
        rn_set_err(err, errlen, "%s: tensor '%s': \"shape\" must be an array of "
                "non-negative integers", path, nb);
        return -1;
    }
    if (off->kind != RN_JSON_ARRAY || off->n != 2 || !is_count(off->items[0]) ||
        !is_count(off->items[1])) {
        rn_set_err(err, errlen, "%s: tensor '%s': \"data_offsets\" must be "
                "[begin, end] of non-negative integers", path, nb);
        return -1;
    }
    t->name = name;
    t->shape = sh;
    t->begin = (unsigned long long)off->items[0]->integer;
    t->end = (unsigned long long)off->items[1]->integer;
    dims_str(sb, sizeof sb, sh->n, NULL, sh);
    /* Size in bits, every step checked against overflow. */
    unsigned long long bits = (unsigned long long)t->dtype->bits;
    for (int i = 0; i < sh->n; i++) {
        unsigned long long d = (unsigned long long)sh->items[i]->integer;
        if (d && bits > ~0ULL / d) {
            rn_set_err(err, errlen, "%s: tensor '%s': shape %s of %s is too "
                    "large (its size overflows 64 bits)", path, nb, sb,
                    t->dtype->name);
            return -1;
        }
        bits *= d;
    }
    if (bits % 8) {
        rn_set_err(err, errlen, "%s: tensor '%s': shape %s of %s is not a whole "
                "number of bytes", path, nb, sb, t->dtype->name);
        return -1;
    }
    if (t->begin > t->end) {
        rn_set_err(err, errlen, "%s: tensor '%s': data_offsets [%llu, %llu] are "
                "reversed", path, nb, t->begin, t->end);
        return -1;
    }
    if (t->end > st->data_size) {
        rn_set_err(err, errlen, "%s: tensor '%s': data_offsets [%llu, %llu] run "
                "past the end of the data (%llu bytes)", path, nb, t->begin,
                t->end, st->data_size);
        return -1;
    }
    if (t->end - t->begin != bits / 8) {
        rn_set_err(err, errlen, "%s: tensor '%s': data_offsets [%llu, %llu] do "
                "not match shape %s of %s (%llu bytes)", path, nb, t->begin,
                t->end, sb, t->dtype->name, bits / 8);
        return -1;
    }
    return 0;
}

static int check_metadata(const char *path, const rn_json *m, char *err,
                          size_t errlen) {
    if (m->kind != RN_JSON_OBJECT) {
        rn_set_err(err, errlen, "%s: __metadata__ is not an object", path);
        return -1;
    }
    for (int i = 0; i < m->n; i++)
        if (m->items[i]->kind != RN_JSON_STRING) {
            char kb[64];
            rn_set_err(err, errlen, "%s: __metadata__ value '%s' is not a string",
                    path, rn_json_printable(kb, sizeof kb, m->keys[i]));
            return -1;
        }
    return 0;
}

static int cmp_offsets(const void *a, const void *b) {
    const Tensor *x = *(Tensor *const *)a, *y = *(Tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

static int cmp_names(const void *a, const void *b) {
    return strcmp((*(Tensor *const *)a)->name, (*(Tensor *const *)b)->name);
}

/* The tensors' ranges, sorted, must tile the data section exactly. Uses
 * st->sorted as scratch, then leaves it sorted by name. */
static int check_coverage(rn_safetensors *st, char *err, size_t errlen) {
    char a[128], b[128];
    qsort(st->sorted, (size_t)st->n, sizeof *st->sorted, cmp_offsets);
    unsigned long long at = 0;
    const Tensor *prev = NULL;
    for (int i = 0; i < st->n; i++) {
        const Tensor *t = st->sorted[i];
        rn_json_printable(a, sizeof a, t->name);
        if (t->begin > at) {
            rn_set_err(err, errlen, "%s: bytes [%llu, %llu) of the data belong "
                    "to no tensor (a gap before tensor '%s')", st->path, at,
                    t->begin, a);
            return -1;
        }
        if (t->begin < at) {
            rn_set_err(err, errlen, "%s: tensor '%s' (data_offsets [%llu, %llu]) "
                    "overlaps tensor '%s' (data_offsets [%llu, %llu])",
                    st->path, a, t->begin, t->end,
                    rn_json_printable(b, sizeof b, prev->name), prev->begin,
                    prev->end);
            return -1;
        }
        at = t->end;
        prev = t;
    }
    if (at != st->data_size) {
        rn_set_err(err, errlen, "%s: %llu trailing bytes after the last tensor",
                st->path, st->data_size - at);
        return -1;
    }
    qsort(st->sorted, (size_t)st->n, sizeof *st->sorted, cmp_names);
    return 0;
}

static int parse_header(rn_safetensors *st, char *err, size_t errlen) {
    const char *path = st->path;
    if (st->size < 8) {
        rn_set_err(err, errlen, "%s: file too short for a safetensors header "
                "(%zu bytes)", path, st->size);
        return -1;
    }
    unsigned long long hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | st->file[i];
    if (hlen > MAX_HEADER) {
        rn_set_err(err, errlen, "%s: header length %llu exceeds the limit of "
                "%llu bytes", path, hlen, MAX_HEADER);
        return -1;
    }
    if (hlen > st->size - 8) {
        rn_set_err(err, errlen, "%s: header length %llu runs past the end of "
                "the file (%zu bytes)", path, hlen, st->size);
        return -1;
    }
    st->data = st->file + 8 + hlen;
    st->data_size = st->size - 8 - hlen;
    char jerr[200];
    st->doc = rn_json_parse((const char *)st->file + 8, (size_t)hlen, jerr,
                            sizeof jerr);
    if (!st->doc) {
        rn_set_err(err, errlen, "%s: header is not valid JSON: %s", path, jerr);
        return -1;
    }
    const rn_json *root = rn_json_root(st->doc);
    if (root->kind != RN_JSON_OBJECT) {
        rn_set_err(err, errlen, "%s: header is not a JSON object", path);
        return -1;
    }
    st->tensors = calloc((size_t)root->n + 1, sizeof *st->tensors);
    st->sorted = calloc((size_t)root->n + 1, sizeof *st->sorted);
    if (!st->tensors || !st->sorted) {
        rn_set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (int i = 0; i < root->n; i++) {
        if (strcmp(root->keys[i], "__metadata__") == 0) {
            if (check_metadata(path, root->items[i], err, errlen) != 0)
                return -1;
            continue;
        }
        Tensor *t = &st->tensors[st->n];
        if (check_entry(st, root->keys[i], root->items[i], t, err, errlen))
            return -1;
        st->sorted[st->n++] = t;
    }
    return check_coverage(st, err, errlen);
}

rn_safetensors *rn_st_open(const char *path, char *err, size_t errlen) {
    unsigned int one = 1;
    unsigned char first;
    memcpy(&first, &one, 1);
    if (first != 1) {
        rn_set_err(err, errlen, "%s: big-endian hosts are not supported", path);
        return NULL;
    }
    rn_safetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->path = malloc(strlen(path) + 1))) {
        free(st);
        rn_set_err(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    strcpy(st->path, path);
    st->file = read_file(path, &st->size, err, errlen);
    if (!st->file || parse_header(st, err, errlen) != 0) {
        rn_st_close(st);
        return NULL;
    }
    return st;
}

void rn_st_close(rn_safetensors *st) {
    if (!st) return;
    rn_json_free(st->doc);
    free(st->tensors);
    free(st->sorted);
    free(st->file);
    free(st->path);
    free(st);
}

int rn_st_count(const rn_safetensors *st) { return st->n; }

const char *rn_st_name(const rn_safetensors *st, int i) {
    return i >= 0 && i < st->n ? st->tensors[i].name : NULL;
}

static Tensor *find(const rn_safetensors *st, const char *name) {
    Tensor key = {0}, *kp = &key;
    key.name = name;
    Tensor **r = bsearch(&kp, st->sorted, (size_t)st->n, sizeof *st->sorted,
                         cmp_names);
    return r ? *r : NULL;
}

int rn_st_read_f32(rn_safetensors *st, const char *name, int rank,
                   const rn_i64 *dims, float *dst, char *err, size_t errlen) {
    char nb[128], have[256], want[256];
    rn_json_printable(nb, sizeof nb, name);
    Tensor *t = find(st, name);
    if (!t) {
        rn_set_err(err, errlen, "no tensor '%s' in %s", nb, st->path);
        return -1;
    }
    if (strcmp(t->dtype->name, "F32") != 0) {
        rn_set_err(err, errlen, "%s: tensor '%s' has dtype %s, expected F32",
                st->path, nb, t->dtype->name);
        return -1;
    }
    int same = rank == t->shape->n;
    for (int i = 0; same && i < rank; i++)
        same = dims[i] == t->shape->items[i]->integer;
    if (!same) {
        rn_set_err(err, errlen, "%s: tensor '%s' has shape %s, expected %s",
                st->path, nb,
                dims_str(have, sizeof have, t->shape->n, NULL, t->shape),
                dims_str(want, sizeof want, rank < 0 ? 0 : rank, dims, NULL));
        return -1;
    }
    /* The host is little-endian (checked at open): the bytes are floats. */
    if (t->end > t->begin) memcpy(dst, st->data + t->begin, t->end - t->begin);
    t->used = 1;
    return 0;
}

int rn_st_check_all_used(const rn_safetensors *st, char *err, size_t errlen) {
    int unused = 0, first = -1;
    for (int i = 0; i < st->n; i++)
        if (!st->tensors[i].used && unused++ == 0) first = i;
    if (!unused) return 0;
    char nb[128];
    rn_json_printable(nb, sizeof nb, st->tensors[first].name);
    if (unused == 1)
        rn_set_err(err, errlen, "unexpected tensor '%s' in %s", nb, st->path);
    else
        rn_set_err(err, errlen, "unexpected tensor '%s' in %s (and %d more)", nb,
                st->path, unused - 1);
    return -1;
}

/* ------------------------------------------------------------- writing */

typedef struct Buf {
    char *p;
    size_t len, cap;
    int oom;
} Buf;

static void buf_add(Buf *b, const char *fmt, ...) {
    if (b->oom) return;
    if (!b->p) { /* vsnprintf into a null pointer plus 0 is undefined */
        if (!(b->p = malloc(b->cap = 256))) {
            b->oom = 1;
            return;
        }
    }
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names must read back: valid UTF-8, no control characters, unique. */
static int check_names(const char *path, const rn_st_tensor *t, int n,
                       char *err, size_t errlen) {
    char nb[128];
    const char **names = malloc((size_t)(n ? n : 1) * sizeof *names);
    if (!names) {
        rn_set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        names[i] = t[i].name;
        int bad = !rn_json_valid_utf8(t[i].name) ||
                  strcmp(t[i].name, "__metadata__") == 0;
        for (const char *c = t[i].name; *c; c++)
            bad |= (unsigned char)*c < 0x20 || *c == 0x7f;
        if (bad) {
            rn_set_err(err, errlen, "%s: cannot write a tensor named '%s'", path,
                    rn_json_printable(nb, sizeof nb, t[i].name));
            free(names);
            return -1;
        }
    }
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            rn_set_err(err, errlen, "%s: two tensors named '%s'", path,
                    rn_json_printable(nb, sizeof nb, names[i]));
            free(names);
            return -1;
        }
    free(names);
    return 0;
}

void *rn_st_encode(const char *path, const rn_st_tensor *t, int n,
                   size_t *len, char *err, size_t errlen) {
    if (n < 0 || (n > 0 && !t)) {
        rn_set_err(err, errlen, "%s: bad tensor list", path);
        return NULL;
    }
    if (check_names(path, t, n, err, errlen) != 0) return NULL;
    Buf h = {0};
    unsigned long long offset = 0;
    buf_add(&h, "{");
    for (int i = 0; i < n; i++) {
        char nb[128];
        unsigned long long count = 1;
        int ok = t[i].rank >= 0 && t[i].rank <= 4;
        for (int d = 0; ok && d < t[i].rank; d++) {
            ok = t[i].dims[d] >= 0;
            unsigned long long v = (unsigned long long)t[i].dims[d];
            if (ok && v && count > (~0ULL >> 3) / v) ok = 0;
            else count *= v;
        }
        if (!ok || (count && !t[i].data) || offset > ~0ULL / 2) {
            rn_set_err(err, errlen, "%s: tensor '%s' has a bad shape or no data",
                    path, rn_json_printable(nb, sizeof nb, t[i].name));
            free(h.p);
            return NULL;
        }
        buf_add(&h, "%s\"", i ? "," : "");
        for (const char *c = t[i].name; *c; c++)
            buf_add(&h, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
        buf_add(&h, "\":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t[i].rank; d++)
            buf_add(&h, "%s%lld", d ? "," : "", t[i].dims[d]);
        buf_add(&h, "],\"data_offsets\":[%llu,%llu]}", offset,
                offset + count * 4);
        offset += count * 4;
    }
    buf_add(&h, "}");
    /* Pad with spaces so the data starts 8-byte aligned, as the reference
     * writer does. */
    while (!h.oom && (8 + h.len) % 8) buf_add(&h, " ");
    size_t total = 8 + h.len + (size_t)offset;
    unsigned char *file = h.oom || offset > (~(size_t)0) / 2
                              ? NULL : malloc(total);
    if (!file) {
        rn_set_err(err, errlen, "%s: out of memory", path);
        free(h.p);
        return NULL;
    }
    for (int i = 0; i < 8; i++)
        file[i] = (unsigned char)((unsigned long long)h.len >> (8 * i));
    memcpy(file + 8, h.p, h.len);
    size_t at = 8 + h.len;
    for (int i = 0; i < n; i++) {
        size_t bytes = 4;
        for (int d = 0; d < t[i].rank; d++) bytes *= (size_t)t[i].dims[d];
        if (bytes) memcpy(file + at, t[i].data, bytes);
        at += bytes;
    }
    free(h.p);
    *len = total;
    return file;
}

int rn_st_write(const char *path, const rn_st_tensor *t, int n, char *err,
                size_t errlen) {
    size_t total;
    void *file = rn_st_encode(path, t, n, &total, err, errlen);
    if (!file) return -1;
    int r = rn_write_file_atomic(path, file, total, err, errlen);
    free(file);
    return r;
}
