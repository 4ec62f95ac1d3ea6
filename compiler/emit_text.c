/* emit_text.c: the code generator's small pieces of text: float literals
 * that read back exactly, names made safe for identifiers, comments and
 * string literals, and the C expressions of a step's places and weights.
 * The bottom of the code generator: the other emit_*.c files call these
 * and these call nothing of theirs.
 *
 * Requires an Emitter with its Lower; changes nothing but the strings it
 * makes in the graph's arena. */
#include "emit_c.h"

#include <math.h>
#include <string.h>

/* A float literal that reads back to the same float: %.9g, kept a floating
 * constant ("1" -> "1.0f"). */
const char *emit_float(Emitter *e, double v) {
    char s[48];
    if (!isfinite((float)v)) /* a value beyond float: the largest float */
        return v < 0 ? "-3.402823466e+38f" : "3.402823466e+38f";
    snprintf(s, sizeof s, "%.9g", (double)(float)v);
    if (!strpbrk(s, ".e")) strcat(s, ".0");
    return arena_printf(e->g->arena, "%sf", s);
}

/* A name safe inside a comment or an identifier: anything but [A-Za-z0-9_.]
 * becomes '_' (layer names given with name="..." may hold any text). */
const char *emit_safe(Emitter *e, const char *s, bool ident) {
    char *t = arena_strdup(e->g->arena, s ? s : "");
    for (char *p = t; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' ||
                  (*p == '.' && !ident) || (*p == '-' && !ident);
        if (!ok) *p = '_';
    }
    return t;
}

/* Text for inside a C comment: nothing unprintable, and '_' between the
 * characters of any comment start or end, trigraph or line splice, so
 * that a layer name holding one stays plain text. */
const char *emit_comment(Emitter *e, const char *s) {
    Buf b = {0};
    for (const char *p = s ? s : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 32 || c > 126 || c == '\\')
            buf_append(&b, "?", 1);
        else
            buf_append(&b, p, 1);
        if ((p[0] == '*' && p[1] == '/') || (p[0] == '/' && p[1] == '*') ||
            (p[0] == '?' && p[1] == '?'))
            buf_append(&b, "_", 1);
    }
    const char *r = arena_strdup(e->g->arena, b.data ? b.data : "");
    buf_free(&b);
    return r;
}

/* A C string literal of s (octal escapes for anything unusual). */
const char *emit_string(Emitter *e, const char *s) {
    Buf b = {0};
    buf_append(&b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 32 || *p > 126 || *p == '"' || *p == '\\' || *p == '?')
            buf_printf(&b, "\\%03o", *p);
        else
            buf_append(&b, (const char *)p, 1);
    }
    buf_append(&b, "\"", 1);
    const char *r = arena_strdup(e->g->arena, b.data);
    buf_free(&b);
    return r;
}

/* The C expression of a place: the caller's input buffer or the arena; a
 * concat slice starts at its channel offset. */
const char *emit_place(Emitter *e, Place p) {
    if (p.input >= 0) return arena_printf(e->g->arena, "m->in[%d]", p.input);
    if (p.slice)
        return arena_printf(e->g->arena, "(m->arena + %lld + %lld)", (long long)p.off,
                            (long long)p.coff);
    return arena_printf(e->g->arena, "(m->arena + %lld)", (long long)p.off);
}

/* Weight tensor t of the instance, or a null pointer for -1. */
const char *emit_tensor(Emitter *e, int t) {
    return t < 0 ? "(const float *)0" : arena_printf(e->g->arena, "m->w[%d]", t);
}

/* A conv's bias: folded with its batchnorm at load, or its own tensor. */
const char *emit_bias(Emitter *e, const Step *s) {
    if (s->fb >= 0) return arena_printf(e->g->arena, "m->fb[%d]", s->fb);
    return emit_tensor(e, lower_weight(e->L, s->node, "bias"));
}
