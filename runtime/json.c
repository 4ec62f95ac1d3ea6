/* json.c: a strict JSON reader (see json.h). Recursive descent over a byte
 * buffer with a depth limit; values live in one arena freed with the
 * document. Errors name the byte offset in the text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

enum { MAX_DEPTH = 64, BLOCK_SIZE = 64 * 1024 };

typedef struct Block Block;
struct Block {
    Block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

struct rn_json_doc {
    Block *blocks;
    rn_json *root;
};

typedef struct Parser {
    const unsigned char *s;
    size_t len, pos;
    int depth;
    rn_json_doc *doc;
    char *err;
    size_t errlen;
    int failed;
} Parser;

static void fail(Parser *p, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = 1;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->err && p->errlen)
        snprintf(p->err, p->errlen, "%s at byte %zu", msg, p->pos);
}

static void *doc_alloc(Parser *p, size_t size) {
    size = (size + 15) & ~(size_t)15;
    Block *b = p->doc->blocks;
    if (!b || b->size - b->used < size) {
        size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;
        b = malloc(sizeof *b + cap);
        if (!b) {
            fail(p, "out of memory");
            return NULL;
        }
        b->size = cap;
        b->used = 0;
        b->next = p->doc->blocks;
        p->doc->blocks = b;
    }
    void *r = b->data + b->used;
    b->used += size;
    return r;
}

static void skip_ws(Parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int peek(Parser *p) { return p->pos < p->len ? p->s[p->pos] : -1; }

static int hex4(Parser *p, unsigned *out) {
    if (p->len - p->pos < 4) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p->s[p->pos + i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v << 4 | (unsigned)d;
    }
    p->pos += 4;
    *out = v;
    return 0;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | cp >> 18);
    o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the valid UTF-8 sequence at s[0..n) starting with a byte
 * >= 0x80, or 0: no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else return 0;
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return len;
}

/* At the opening quote. Decoded text is never longer than the raw text, so
 * one allocation of the raw length suffices. */
static const char *parse_string(Parser *p) {
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len) {
        fail(p, "unterminated string");
        return NULL;
    }
    unsigned char *out = doc_alloc(p, end - start + 1), *o = out;
    if (!out) return NULL;
    while (p->pos < end) {
        unsigned char c = p->s[p->pos];
        if (c < 0x20) {
            fail(p, "control character 0x%02x in a string", c);
            return NULL;
        }
        if (c >= 0x80) {
            size_t n = utf8_seq(p->s + p->pos, end - p->pos);
            if (!n) {
                fail(p, "invalid UTF-8 in a string");
                return NULL;
            }
            memcpy(o, p->s + p->pos, n);
            o += n;
            p->pos += n;
            continue;
        }
        p->pos++;
        if (c != '\\') {
            *o++ = c;
            continue;
        }
        c = p->s[p->pos++];
        switch (c) {
        case '"': case '\\': case '/': *o++ = c; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (hex4(p, &cp) != 0) {
                fail(p, "bad \\u escape");
                return NULL;
            }
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                fail(p, "lone low surrogate \\u%04x", cp);
                return NULL;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (p->pos + 2 > end || p->s[p->pos] != '\\' ||
                    p->s[p->pos + 1] != 'u') {
                    fail(p, "lone high surrogate \\u%04x", cp);
                    return NULL;
                }
                p->pos += 2;
                if (hex4(p, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
                    fail(p, "bad surrogate pair");
                    return NULL;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp == 0) {
                fail(p, "\\u0000 in a string is not supported");
                return NULL;
            }
            o += put_utf8(o, cp);
            break;
        }
        default:
            p->pos--;
            fail(p, "bad escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
            return NULL;
        }
    }
    *o = 0;
    p->pos = end + 1;
    return (const char *)out;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

static void parse_number(Parser *p, rn_json *v) {
    size_t start = p->pos;
    int neg = 0, integral = 1;
    if (peek(p) == '-') {
        neg = 1;
        p->pos++;
    }
    if (peek(p) == '0') p->pos++;
    else if (is_digit(peek(p)))
        while (is_digit(peek(p))) p->pos++;
    else {
        fail(p, "bad number");
        return;
    }
    size_t int_end = p->pos;
    if (peek(p) == '.') {
        integral = 0;
        p->pos++;
        if (!is_digit(peek(p))) {
            fail(p, "bad number");
            return;
        }
        while (is_digit(peek(p))) p->pos++;
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        integral = 0;
        p->pos++;
        if (peek(p) == '+' || peek(p) == '-') p->pos++;
        if (!is_digit(peek(p))) {
            fail(p, "bad number");
            return;
        }
        while (is_digit(peek(p))) p->pos++;
    }
    v->kind = RN_JSON_NUMBER;
    /* The value as a double: strtod on a NUL-terminated copy (the text is
     * not terminated; a long number goes to the document's arena). */
    size_t n = p->pos - start;
    char small[64], *copy = n < sizeof small ? small : doc_alloc(p, n + 1);
    if (!copy) return;
    memcpy(copy, p->s + start, n);
    copy[n] = 0;
    v->number = strtod(copy, NULL);
    if (!integral) return;
    /* Accumulate negatively so LLONG_MIN fits; too large stays NUMBER. */
    long long acc = 0;
    for (size_t i = start + (size_t)neg; i < int_end; i++) {
        int d = p->s[i] - '0';
        if (acc < (-0x7fffffffffffffffLL - 1 + d) / 10) return;
        acc = acc * 10 - d;
    }
    if (!neg) {
        if (acc == -0x7fffffffffffffffLL - 1) return;
        acc = -acc;
    }
    v->kind = RN_JSON_INT;
    v->integer = acc;
}

static int word(Parser *p, const char *w) {
    size_t n = strlen(w);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0) return 0;
    p->pos += n;
    return 1;
}

static int cmp_key(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static rn_json *parse_value(Parser *p);

/* Items of an array or object, collected in a growing buffer, then copied
 * into the arena. Keys are checked for duplicates by sorting a copy. */
static rn_json *parse_container(Parser *p, int object) {
    rn_json *v = doc_alloc(p, sizeof *v);
    if (!v) return NULL;
    memset(v, 0, sizeof *v);
    v->kind = object ? RN_JSON_OBJECT : RN_JSON_ARRAY;
    if (++p->depth > MAX_DEPTH) {
        fail(p, "nesting deeper than %d", MAX_DEPTH);
        return NULL;
    }
    int close = object ? '}' : ']';
    p->pos++;
    size_t n = 0, cap = 0;
    rn_json **items = NULL;
    const char **keys = NULL;
    skip_ws(p);
    if (peek(p) == close) p->pos++;
    else for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            rn_json **ni = realloc(items, cap * sizeof *ni);
            if (ni) items = ni;
            const char **nk = object ? realloc(keys, cap * sizeof *nk) : NULL;
            if (nk) keys = nk;
            if (!ni || (object && !nk) || cap > 0x7fffffff) {
                fail(p, "out of memory");
                break;
            }
        }
        skip_ws(p);
        if (object) {
            if (peek(p) != '"') {
                fail(p, "expected a string key");
                break;
            }
            if (!(keys[n] = parse_string(p))) break;
            skip_ws(p);
            if (peek(p) != ':') {
                fail(p, "expected ':'");
                break;
            }
            p->pos++;
        }
        if (!(items[n] = parse_value(p))) break;
        n++;
        skip_ws(p);
        if (peek(p) == ',') {
            p->pos++;
            continue;
        }
        if (peek(p) == close) {
            p->pos++;
            break;
        }
        fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    if (!p->failed && n > 0) {
        v->n = (int)n;
        v->items = doc_alloc(p, n * sizeof *items);
        if (v->items) memcpy(v->items, items, n * sizeof *items);
        if (object && (v->keys = doc_alloc(p, n * sizeof *keys))) {
            memcpy(v->keys, keys, n * sizeof *keys);
            qsort(keys, n, sizeof *keys, cmp_key);
            for (size_t i = 1; i < n; i++)
                if (strcmp(keys[i - 1], keys[i]) == 0) {
                    char buf[80];
                    fail(p, "duplicate key '%s'",
                         rn_json_printable(buf, sizeof buf, keys[i]));
                    break;
                }
        }
    }
    free(items);
    free(keys);
    p->depth--;
    return p->failed ? NULL : v;
}

static rn_json *parse_value(Parser *p) {
    skip_ws(p);
    int c = peek(p);
    if (c == '{' || c == '[') return parse_container(p, c == '{');
    rn_json *v = doc_alloc(p, sizeof *v);
    if (!v) return NULL;
    memset(v, 0, sizeof *v);
    if (c == '"') {
        v->kind = RN_JSON_STRING;
        v->string = parse_string(p);
    } else if (c == '-' || is_digit(c)) {
        parse_number(p, v);
    } else if (word(p, "true")) {
        v->kind = RN_JSON_BOOL;
        v->boolean = 1;
    } else if (word(p, "false")) {
        v->kind = RN_JSON_BOOL;
    } else if (word(p, "null")) {
        v->kind = RN_JSON_NULL;
    } else {
        fail(p, c < 0 ? "unexpected end" : "unexpected character");
    }
    return p->failed ? NULL : v;
}

rn_json_doc *rn_json_parse(const char *text, size_t len, char *err,
                           size_t errlen) {
    rn_json_doc *doc = calloc(1, sizeof *doc);
    if (!doc) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    Parser p = {(const unsigned char *)text, len, 0, 0, doc, err, errlen, 0};
    doc->root = parse_value(&p);
    if (doc->root) {
        skip_ws(&p);
        if (p.pos != len) fail(&p, "trailing characters after the value");
    }
    if (p.failed) {
        rn_json_free(doc);
        return NULL;
    }
    return doc;
}

const rn_json *rn_json_root(const rn_json_doc *doc) { return doc->root; }

void rn_json_free(rn_json_doc *doc) {
    if (!doc) return;
    for (Block *b = doc->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(doc);
}

const rn_json *rn_json_get(const rn_json *obj, const char *key) {
    if (!obj || obj->kind != RN_JSON_OBJECT) return NULL;
    for (int i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0) return obj->items[i];
    return NULL;
}

int rn_json_valid_utf8(const char *s) {
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq(u + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

const char *rn_json_printable(char *buf, size_t bufsize, const char *s) {
    size_t o = 0;
    if (bufsize < 8) {
        if (bufsize) buf[0] = 0;
        return buf;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (o + 8 > bufsize) { /* room for \xNN or "..." and the NUL */
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(buf + o, bufsize - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = 0;
    return buf;
}
