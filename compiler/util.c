/* util.c: the compilation arena, growable buffers, numbers as text, files,
 * and die(). */
#define _POSIX_C_SOURCE 200809L
#include "rnc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The arena is a list of chunks; big requests get a chunk of their own. */
typedef struct Chunk {
    struct Chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} Chunk;

struct Arena {
    Chunk *head;
};

enum { CHUNK_SIZE = 64 * 1024 };

Arena *arena_new(void) {
    Arena *a = calloc(1, sizeof *a);
    if (!a) die("out of memory");
    return a;
}

void arena_free(Arena *a) {
    if (!a) return;
    for (Chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

void *arena_alloc(Arena *a, size_t size) {
    size = (size + 15) & ~(size_t)15;
    Chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t cap = size > CHUNK_SIZE ? size : CHUNK_SIZE;
        c = malloc(sizeof *c + cap);
        if (!c) die("out of memory (%zu bytes)", size);
        c->used = 0;
        c->size = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n) {
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(Arena *a, const char *s) {
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(Arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) die("arena_printf: bad format");
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static void buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) die("out of memory (%zu bytes)", cap);
    b->data = p;
    b->cap = cap;
}

void buf_append(Buf *b, const char *s, size_t n) {
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void buf_printf(Buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) die("buf_printf: bad format");
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_free(Buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* 1234567 -> "1,234,567" (Python's "{:,}"). */
void format_thousands(int64_t v, char *out, size_t outlen) {
    char digits[32];
    bool neg = v < 0;
    snprintf(digits, sizeof digits, "%llu",
             neg ? 0ull - (unsigned long long)v : (unsigned long long)v);
    int n = (int)strlen(digits), k = 0;
    char tmp[48];
    if (neg) tmp[k++] = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) tmp[k++] = ',';
        tmp[k++] = digits[i];
    }
    tmp[k] = 0;
    snprintf(out, outlen, "%s", tmp);
}

const char *arena_thousands(Arena *a, int64_t v) {
    char s[48];
    format_thousands(v, s, sizeof s);
    return arena_strdup(a, s);
}

_Noreturn void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rnc: internal error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* Source files are capped so that a huge file is an error, not an OOM. */
enum { MAX_SOURCE = 16 << 20 };

char *read_whole_file(const char *path, size_t *len) {
    return read_file_max(path, MAX_SOURCE, len);
}

char *read_file_max(const char *path, size_t max, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    for (;;) {
        if (!p) die("out of memory");
        size_t got = fread(p + n, 1, cap - n - 1, f);
        n += got;
        if (n < cap - 1) break;
        if (cap >= max) {
            free(p);
            fclose(f);
            errno = EFBIG;
            return NULL;
        }
        cap *= 2;
        p = realloc(p, cap);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(p);
        errno = EIO;
        return NULL;
    }
    p[n] = 0;
    if (len) *len = n;
    return p;
}
