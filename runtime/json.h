/* json.h: a strict JSON reader for the safetensors header (internal to the
 * runtime; not part of rnrt.h). RFC 8259 exactly: no comments, no trailing
 * commas, no duplicate keys at any level, strings valid UTF-8 without raw
 * control characters; \u0000 is refused because names are C strings. */
#ifndef RN_JSON_H
#define RN_JSON_H

#include <stddef.h>

typedef enum rn_json_kind {
    RN_JSON_NULL,
    RN_JSON_BOOL,   /* boolean */
    RN_JSON_INT,    /* integer that fits a long long: integer */
    RN_JSON_NUMBER, /* any other number (fraction, exponent, too large) */
    RN_JSON_STRING, /* string */
    RN_JSON_ARRAY,  /* n, items */
    RN_JSON_OBJECT, /* n, keys, items (in file order) */
} rn_json_kind;

typedef struct rn_json rn_json;
struct rn_json {
    rn_json_kind kind;
    int boolean;
    long long integer;
    double number;      /* INT and NUMBER: the value (strtod; may be inf) */
    const char *string; /* NUL-terminated UTF-8 */
    int n;
    const char **keys;
    rn_json **items;
};

typedef struct rn_json_doc rn_json_doc;

/* Parses text[0..len) as one JSON value followed only by whitespace. On
 * error returns NULL with a message giving the byte offset. */
rn_json_doc *rn_json_parse(const char *text, size_t len, char *err,
                           size_t errlen);
const rn_json *rn_json_root(const rn_json_doc *doc);
void rn_json_free(rn_json_doc *doc);
/* The value under `key` in an object, or NULL. */
const rn_json *rn_json_get(const rn_json *obj, const char *key);
/* 1 if s is valid UTF-8 (as strings in a parsed document are). */
int rn_json_valid_utf8(const char *s);
/* Copies s into buf for a message: control characters become \xNN and
 * long strings are cut with "...". Returns buf. */
const char *rn_json_printable(char *buf, size_t bufsize, const char *s);

#endif
