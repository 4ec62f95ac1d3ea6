/* paste.c: the parts of the runtime a standalone model needs, as text.
 *
 * The runtime's sources are built into rnc as bytes (Makefile:
 * runtime_text.inc), so a standalone file is made from the same source as
 * librnrt.a: one implementation. Each file is cut into top-level items (a
 * declaration, a function, a #define, a whole #if...#endif block) by a
 * small scanner that knows C's comments, strings and brackets; each item
 * knows the names it defines and the identifiers it mentions. Starting
 * from the identifiers of the model's own code and of the kernel headers
 * it pastes whole, the items those reach are taken, in the sources' order,
 * and nothing else: a model without depthwise layers gets no depthwise
 * code, one without --main no .npy reader.
 *
 * In the pasted text every function has internal linkage (a `static`
 * prototype made from the header's declaration comes first), so that two
 * models link into one program; and the names private to a runtime .c
 * file (its static functions, types, macros, constants: anything not
 * named rn_ or RN_) are prefixed rn_FILE_, so that files do not collide
 * with each other nor with the model's names (which never start with
 * rn_). Requires the runtime's sources to keep to this file's view of C:
 * top-level items start at the beginning of a line, and a function's body
 * opens after its parameter list's ')'. Changes nothing but its outputs. */
#include "rnc.h"

#include <stdlib.h>
#include <string.h>

typedef struct RuntimeFile {
    const char *path; /* runtime/NAME */
    const char *text;
} RuntimeFile;

#include "runtime_text.inc"

enum { NFILES = sizeof runtime_files / sizeof runtime_files[0] };

typedef enum ItemKind {
    IT_DECL,    /* a typedef, struct, enum or variable */
    IT_FUNC,    /* a function definition */
    IT_PROTO,   /* a function declaration */
    IT_DEFINE,  /* #define NAME */
    IT_UNDEF,   /* #undef NAME */
    IT_INCLUDE, /* #include <...> (system) or "..." (ours: dropped) */
    IT_COND,    /* #if ... #endif, whole */
    IT_OTHER,   /* any other directive: dropped */
} ItemKind;

typedef struct Item {
    ItemKind kind;
    int file;
    const char *text; /* from its leading comment to its end */
    size_t len;
    const char **defs; /* the names it defines */
    int ndefs;
    const char **uses; /* the identifiers it mentions */
    int nuses;
    bool is_static;    /* declared static (functions, prototypes) */
    bool exported;     /* an IT_FUNC, or an IT_COND holding one, not static */
    bool taken;
} Item;

/* A name an item defines: the index of every definition, sorted by name. */
typedef struct Def {
    const char *name;
    int item;
} Def;

typedef struct Paste {
    Arena *a;
    Item *items;
    int nitems, cap;
    Def *defs;
    int ndefs;
    const char *stem[NFILES]; /* "kernels" of runtime/kernels.c */
    bool is_c[NFILES];
} Paste;

/* ------------------------------------------------------------- scanning */

static bool ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

/* Past a comment, string or character literal starting at p (or p itself
 * when none starts there). */
static const char *skip_literal(const char *p, const char *end) {
    if (p + 1 < end && p[0] == '/' && p[1] == '*') {
        const char *q = strstr(p + 2, "*/");
        return q && q < end ? q + 2 : end;
    }
    if (p + 1 < end && p[0] == '/' && p[1] == '/') {
        while (p < end && *p != '\n') p++;
        return p;
    }
    if (*p == '"' || *p == '\'') {
        char q = *p++;
        while (p < end && *p != q) p += *p == '\\' ? 2 : 1;
        return p < end ? p + 1 : end;
    }
    return p;
}

/* Past a preprocessor line (with its continuations), at the newline. */
static const char *line_end(const char *p, const char *end) {
    while (p < end && *p != '\n') {
        const char *q = skip_literal(p, end);
        if (q != p) p = q;
        else p += *p == '\\' && p + 1 < end ? 2 : 1;
    }
    return p;
}

/* The directive word of a line starting at p ("if", "define", ...), or
 * NULL when the line is not a directive. */
static const char *directive(const char *p, const char *end, size_t *n) {
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (p >= end || *p != '#') return NULL;
    p++;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    const char *w = p;
    while (p < end && ident_char(*p)) p++;
    *n = (size_t)(p - w);
    return w;
}

static bool word_is(const char *w, size_t n, const char *s) {
    return n == strlen(s) && !strncmp(w, s, n);
}

/* A list of identifiers, with the characters that follow each one (past
 * blanks) and the bracket depth it sits at, for the names' rules. */
typedef struct Tok {
    const char *s;
    size_t n;
    char punct;   /* a punctuation token when s is NULL */
    int depth;    /* () and {} and [] around it */
} Tok;

static Tok *tokens(Arena *a, const char *p, const char *end, int *count) {
    int cap = 64, n = 0, depth = 0;
    Tok *t = arena_alloc(a, sizeof *t * (size_t)cap);
    while (p < end) {
        const char *q = skip_literal(p, end);
        if (q != p) {
            p = q;
            continue;
        }
        if (n + 1 >= cap) {
            Tok *b = arena_alloc(a, sizeof *t * (size_t)cap * 2);
            memcpy(b, t, sizeof *t * (size_t)n);
            t = b;
            cap *= 2;
        }
        if (ident_start(*p)) {
            const char *s = p;
            while (p < end && ident_char(*p)) p++;
            t[n++] = (Tok){s, (size_t)(p - s), 0, depth};
        } else if (*p >= '0' && *p <= '9') {
            while (p < end && (ident_char(*p) || *p == '.')) p++;
        } else if (strchr("(){}[];,=*", *p)) {
            if (strchr(")}]", *p)) depth--;
            t[n++] = (Tok){NULL, 0, *p, depth};
            if (strchr("({[", *p)) depth++;
            p++;
        } else {
            p++;
        }
    }
    *count = n;
    return t;
}

static bool tok_is(const Tok *t, const char *s) {
    return t->s && word_is(t->s, t->n, s);
}

static void add_name(Paste *P, const char ***list, int *n, const char *s, size_t len) {
    for (int i = 0; i < *n; i++)
        if (strlen((*list)[i]) == len && !strncmp((*list)[i], s, len)) return;
    const char **b = arena_alloc(P->a, sizeof *b * (size_t)(*n + 1));
    if (*n) memcpy(b, *list, sizeof *b * (size_t)*n);
    b[(*n)++] = arena_strndup(P->a, s, len);
    *list = b;
}

/* The names a C item (not a directive) defines, and its kind. */
static ItemKind c_item_names(Paste *P, Item *it, const Tok *t, int n) {
    int brace = -1, paren = -1;
    for (int i = 0; i < n; i++) {
        if (t[i].depth != 0 || t[i].s) continue;
        if (t[i].punct == '{' && brace < 0) brace = i;
        /* the first parenthesis that is not an __attribute__'s */
        if (t[i].punct == '(' && paren < 0 && !(i > 0 && tok_is(&t[i - 1], "__attribute__")))
            paren = i;
    }
    bool typedef_ = n && tok_is(&t[0], "typedef");
    for (int i = 0; i < n && (paren < 0 || i < paren); i++)
        it->is_static |= t[i].depth == 0 && tok_is(&t[i], "static");
    /* struct, union and enum tags; an enum's constants */
    for (int i = 0; i + 1 < n; i++) {
        if ((tok_is(&t[i], "struct") || tok_is(&t[i], "union") || tok_is(&t[i], "enum")) &&
            t[i + 1].s && t[i].depth == 0 && i + 2 < n && t[i + 2].punct == '{')
            add_name(P, &it->defs, &it->ndefs, t[i + 1].s, t[i + 1].n);
        if (tok_is(&t[i], "enum") && t[i].depth == 0)
            for (int j = i + 1; j < n && !(t[j].punct == '}' && t[j].depth == 0); j++)
                if (t[j].s && t[j].depth == 1 &&
                    (t[j - 1].punct == '{' || t[j - 1].punct == ','))
                    add_name(P, &it->defs, &it->ndefs, t[j].s, t[j].n);
    }
    if (typedef_) { /* typedef ... NAME; or typedef R (*NAME)(...); */
        for (int i = 0; i + 2 < n; i++)
            if (t[i].punct == '(' && t[i].depth == 0 && t[i + 1].punct == '*' && t[i + 2].s) {
                add_name(P, &it->defs, &it->ndefs, t[i + 2].s, t[i + 2].n);
                return IT_DECL;
            }
        for (int i = n - 1; i >= 0; i--)
            if (t[i].s && t[i].depth == 0 && !tok_is(&t[i], "__attribute__")) {
                add_name(P, &it->defs, &it->ndefs, t[i].s, t[i].n);
                break;
            }
        return IT_DECL;
    }
    bool assign = false;
    for (int i = 0; i < n && (paren < 0 || i < paren); i++)
        assign |= t[i].punct == '=' && t[i].depth == 0;
    if (paren > 0 && !assign && t[paren - 1].s) { /* a function */
        add_name(P, &it->defs, &it->ndefs, t[paren - 1].s, t[paren - 1].n);
        return brace > paren ? IT_FUNC : IT_PROTO;
    }
    for (int i = 0; i + 1 < n; i++) /* variables: the name before = [ , ; */
        if (t[i].s && t[i].depth == 0 && !t[i + 1].s && strchr("=[,;", t[i + 1].punct) &&
            !(brace >= 0 && i > brace))
            add_name(P, &it->defs, &it->ndefs, t[i].s, t[i].n);
    return IT_DECL;
}

static Item *new_item(Paste *P, int file, const char *s, const char *e) {
    if (P->nitems == P->cap) {
        int cap = P->cap ? 2 * P->cap : 256;
        Item *b = arena_alloc(P->a, sizeof *b * (size_t)cap);
        if (P->nitems) memcpy(b, P->items, sizeof *b * (size_t)P->nitems);
        P->items = b;
        P->cap = cap;
    }
    Item *it = &P->items[P->nitems++];
    *it = (Item){.file = file, .text = s, .len = (size_t)(e - s)};
    return it;
}

static void scan_items(Paste *P, int file, const char *p, const char *end, Item *into);

/* The identifiers an item mentions (repeats and all). */
static void item_uses(Paste *P, Item *it) {
    int n;
    Tok *t = tokens(P->a, it->text, it->text + it->len, &n);
    it->uses = arena_alloc(P->a, sizeof *it->uses * (size_t)(n + 1));
    for (int i = 0; i < n; i++)
        if (t[i].s) it->uses[it->nuses++] = arena_strndup(P->a, t[i].s, t[i].n);
}

/* One directive item starting at p (a line, or a whole #if block); returns
 * its end. Items of a #if block are scanned into it for their names; a
 * header guard's #ifndef is transparent: its inside is scanned as items of
 * their own. */
static const char *directive_item(Paste *P, int file, const char *start,
                                  const char *p, const char *end, Item *into) {
    size_t wn;
    const char *w = directive(p, end, &wn);
    const char *e = line_end(p, end);
    if (word_is(w, wn, "if") || word_is(w, wn, "ifdef") || word_is(w, wn, "ifndef")) {
        const char *body = e < end ? e + 1 : end, *q = body, *last = body;
        int nest = 1;
        while (q < end && nest > 0) {
            size_t n;
            const char *d = directive(q, end, &n);
            last = q;
            if (d && (word_is(d, n, "if") || word_is(d, n, "ifdef") || word_is(d, n, "ifndef")))
                nest++;
            else if (d && word_is(d, n, "endif"))
                nest--;
            q = line_end(q, end);
            if (q < end) q++;
        }
        /* a guard: #ifndef X / #define X ... #endif at the file's end */
        size_t dn;
        const char *d2 = directive(body, end, &dn);
        if (!into && word_is(w, wn, "ifndef") && d2 && word_is(d2, dn, "define") &&
            q >= end - 1) {
            const char *inner = line_end(body, end);
            scan_items(P, file, inner, last, NULL);
            return q;
        }
        if (into) { /* nested: its names are the outer block's */
            scan_items(P, file, body, last, into);
            return q;
        }
        Item *it = new_item(P, file, start, q);
        it->kind = IT_COND;
        scan_items(P, file, body, last, it);
        item_uses(P, it);
        return q;
    }
    Item *it = into ? NULL : new_item(P, file, start, e);
    Item tmp = {0};
    Item *names = it ? it : &tmp;
    if (word_is(w, wn, "define") || word_is(w, wn, "undef")) {
        const char *s = w + wn;
        while (*s == ' ' || *s == '\t') s++;
        const char *n0 = s;
        while (s < e && ident_char(*s)) s++;
        names->kind = w[0] == 'd' ? IT_DEFINE : IT_UNDEF;
        add_name(P, &names->defs, &names->ndefs, n0, (size_t)(s - n0));
    } else {
        names->kind = word_is(w, wn, "include") ? IT_INCLUDE : IT_OTHER;
    }
    if (into && names->kind == IT_DEFINE)
        add_name(P, &into->defs, &into->ndefs, names->defs[0], strlen(names->defs[0]));
    if (it) item_uses(P, it);
    return e;
}

/* Cuts [p, end) of file into items (or, with `into`, adds the names the
 * items define to that #if block's item). */
static void scan_items(Paste *P, int file, const char *p, const char *end, Item *into) {
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n')) p++;
        if (p >= end) break;
        const char *start = p;
        while (p + 1 < end && p[0] == '/' && (p[1] == '*' || p[1] == '/')) {
            p = skip_literal(p, end); /* leading comments belong to the item */
            while (p < end && (*p == ' ' || *p == '\t' || *p == '\n')) p++;
        }
        if (p >= end) break;
        size_t wn;
        if (directive(p, end, &wn)) {
            p = directive_item(P, file, start, p, end, into);
            continue;
        }
        /* a C item: to the ';' at depth 0, or a function's closing brace */
        const char *q = p;
        int depth = 0;
        bool func = false;
        char prev = 0;
        while (q < end) {
            const char *r = skip_literal(q, end);
            if (r != q) {
                q = r;
                continue;
            }
            char c = *q++;
            if (c == '#' && depth == 0) { /* a directive inside: stop before it */
                q--;
                break;
            }
            if (c == '(' || c == '{' || c == '[') {
                if (c == '{' && depth == 0 && prev == ')') func = true;
                depth++;
            } else if (c == ')' || c == '}' || c == ']') {
                depth--;
                if (c == '}' && depth == 0 && func) break;
            } else if (c == ';' && depth == 0) {
                break;
            }
            if (c != ' ' && c != '\t' && c != '\n') prev = c;
        }
        int n;
        Tok *t = tokens(P->a, p, q, &n);
        if (into) {
            Item tmp = {0};
            tmp.kind = c_item_names(P, &tmp, t, n);
            for (int i = 0; i < tmp.ndefs; i++)
                add_name(P, &into->defs, &into->ndefs, tmp.defs[i], strlen(tmp.defs[i]));
            if (tmp.kind == IT_FUNC && !tmp.is_static) into->exported = true;
        } else {
            Item *it = new_item(P, file, start, q);
            it->kind = c_item_names(P, it, t, n);
            it->exported = it->kind == IT_FUNC && !it->is_static;
            item_uses(P, it);
        }
        p = q;
    }
}

/* -------------------------------------------------------------- choosing */

static bool is_header(const char *path) { return path[strlen(path) - 1] == 'h'; }

static bool in_kernel_dir(const char *path) { return strstr(path, "/kernel/") != NULL; }

static int by_name(const void *a, const void *b) {
    return strcmp(((const Def *)a)->name, ((const Def *)b)->name);
}

/* The definitions of name: [*first, return value). */
static int defs_of(const Paste *P, const char *name, int *first) {
    int lo = 0, hi = P->ndefs;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (strcmp(P->defs[mid].name, name) < 0) lo = mid + 1;
        else hi = mid;
    }
    *first = lo;
    while (hi < P->ndefs && !strcmp(P->defs[hi].name, name)) hi++;
    return hi;
}

/* Whether name is private to file f (a runtime .c file): defined there and
 * not the runtime's (rn_, RN_). */
static bool local_to(const Paste *P, int f, const char *name) {
    if (f < 0 || !P->is_c[f] || !strncmp(name, "rn_", 3) || !strncmp(name, "RN_", 3))
        return false;
    int i, end = defs_of(P, name, &i);
    for (; i < end; i++)
        if (P->items[P->defs[i].item].file == f) return true;
    return false;
}

static void take(Paste *P, Item *it, int **work, int *nwork);

/* Takes the items that define `name` as seen from file f (-1: from the
 * model's code, which sees the runtime's names only). */
static void take_name(Paste *P, int f, const char *name, int **work, int *nwork) {
    bool local = local_to(P, f, name);
    int i, end = defs_of(P, name, &i);
    for (; i < end; i++) {
        Item *it = &P->items[P->defs[i].item];
        if (it->taken || (local && it->file != f) || (!local && local_to(P, it->file, name)))
            continue;
        if (it->kind == IT_INCLUDE || it->kind == IT_OTHER || it->kind == IT_UNDEF)
            continue;
        if (it->kind == IT_PROTO && !it->is_static) continue; /* made static below */
        take(P, it, work, nwork);
    }
}

static void take(Paste *P, Item *it, int **work, int *nwork) {
    it->taken = true;
    (*work)[(*nwork)++] = (int)(it - P->items);
}

/* ------------------------------------------------------------- emitting */

/* The item's text with the names private to its file prefixed rn_STEM_
 * (not where they follow . or ->: members). */
static void put_renamed(const Paste *P, const Item *it, Buf *out) {
    const char *p = it->text, *end = it->text + it->len;
    char last = 0, before = 0; /* the last two non-blank characters copied */
    while (p < end) {
        const char *q = skip_literal(p, end);
        if (q != p) {
            buf_append(out, p, (size_t)(q - p));
            p = q;
            before = last, last = 'x';
            continue;
        }
        if (ident_start(*p)) {
            const char *s = p;
            while (p < end && ident_char(*p)) p++;
            char *name = arena_strndup(P->a, s, (size_t)(p - s));
            bool member = last == '.' || (last == '>' && before == '-');
            if (!member && local_to(P, it->file, name))
                buf_printf(out, "rn_%s_", P->stem[it->file]);
            buf_append(out, s, (size_t)(p - s));
            before = last, last = 'x';
            continue;
        }
        if (*p >= '0' && *p <= '9') { /* a number: 1e-7f is no identifier */
            const char *s = p;
            while (p < end && (ident_char(*p) || *p == '.' ||
                               ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E'))))
                p++;
            buf_append(out, s, (size_t)(p - s));
            before = last, last = '0';
            continue;
        }
        if (*p != ' ' && *p != '\t' && *p != '\n') before = last, last = *p;
        buf_append(out, p, 1);
        p++;
    }
    buf_append(out, "\n", 1);
}

/* A header's declaration of an exported function, made static. */
static void put_static_proto(const Item *it, Buf *out) {
    const char *p = it->text, *end = it->text + it->len;
    for (;;) { /* past its comment */
        while (p < end && (*p == ' ' || *p == '\n')) p++;
        const char *q = skip_literal(p, end);
        if (q == p) break;
        p = q;
    }
    buf_printf(out, "static %.*s\n", (int)(end - p), p);
}

static void load(Paste *P) {
    for (int f = 0; f < NFILES; f++) {
        const char *path = runtime_files[f].path, *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path, *dot = strrchr(base, '.');
        P->stem[f] = arena_strndup(P->a, base, (size_t)(dot - base));
        P->is_c[f] = !is_header(path);
        if (in_kernel_dir(path)) continue; /* pasted whole */
        const char *t = runtime_files[f].text;
        scan_items(P, f, t, t + strlen(t), NULL);
    }
    for (int i = 0; i < P->nitems; i++) P->ndefs += P->items[i].ndefs;
    P->defs = arena_alloc(P->a, sizeof *P->defs * (size_t)(P->ndefs + 1));
    P->ndefs = 0;
    for (int i = 0; i < P->nitems; i++)
        for (int k = 0; k < P->items[i].ndefs; k++)
            P->defs[P->ndefs++] = (Def){P->items[i].defs[k], i};
    qsort(P->defs, (size_t)P->ndefs, sizeof *P->defs, by_name);
}

/* Takes the items reachable from the identifiers of text (the model's
 * code, or a kernel header). */
static void take_from(Paste *P, const char *text, int **work, int *nwork) {
    Item root = {.text = text, .len = strlen(text), .file = -1};
    item_uses(P, &root);
    for (int k = 0; k < root.nuses; k++) take_name(P, -1, root.uses[k], work, nwork);
}

void paste_runtime(Arena *a, const char *code, const char *const *kernels, Buf *head,
                   Buf *body) {
    Paste P = {.a = a};
    load(&P);
    int *work = arena_alloc(a, sizeof *work * (size_t)(P.nitems + 1)), nwork = 0;
    take_from(&P, code, &work, &nwork);
    for (int k = 0; kernels && kernels[k]; k++)
        for (int f = 0; f < NFILES; f++)
            if (strstr(runtime_files[f].path, kernels[k]))
                take_from(&P, runtime_files[f].text, &work, &nwork);
    while (nwork > 0) {
        Item *it = &P.items[work[--nwork]];
        for (int k = 0; k < it->nuses; k++) take_name(&P, it->file, it->uses[k], &work, &nwork);
    }
    /* the #undef of a taken #define; a file's #if blocks that define
     * nothing (its includes) and its system headers, once it gives any */
    bool used[NFILES] = {false};
    for (int i = 0; i < P.nitems; i++) used[P.items[i].file] |= P.items[i].taken;
    for (int i = 0; i < P.nitems; i++) {
        Item *it = &P.items[i];
        if (it->kind == IT_UNDEF)
            for (int j = 0; j < i; j++)
                if (P.items[j].taken && P.items[j].kind == IT_DEFINE &&
                    P.items[j].file == it->file && !strcmp(P.items[j].defs[0], it->defs[0]))
                    it->taken = true;
        if (it->kind == IT_COND && it->ndefs == 0 && used[it->file] &&
            !strstr(arena_strndup(a, it->text, it->len), "__cplusplus"))
            it->taken = true;
    }
    for (int f = 0; f < NFILES; f++) /* system headers, each once */
        for (int i = 0; i < P.nitems && used[f]; i++) {
            Item *it = &P.items[i];
            if (it->file != f || it->kind != IT_INCLUDE || !memchr(it->text, '<', it->len))
                continue;
            const char *line = strchr(it->text, '#');
            char *inc = arena_strndup(a, line, it->len - (size_t)(line - it->text));
            if (!head->data || !strstr(head->data, inc)) buf_printf(head, "%s\n", inc);
        }
    /* headers' types; kernel headers; static prototypes; the functions */
    for (int i = 0; i < P.nitems; i++)
        if (P.items[i].taken && !P.is_c[P.items[i].file]) put_renamed(&P, &P.items[i], body);
    for (int k = 0; kernels && kernels[k]; k++)
        for (int f = 0; f < NFILES; f++) {
            if (!strstr(runtime_files[f].path, kernels[k])) continue;
            buf_printf(body, "\n/* ---- %s */\n", runtime_files[f].path);
            for (const char *p = runtime_files[f].text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
                if (strncmp(p, "#include \"", 10)) buf_append(body, p, n);
                p += n;
            }
        }
    bool protos = false;
    for (int i = 0; i < P.nitems; i++) {
        const Item *it = &P.items[i];
        if (!it->taken || !it->exported) continue;
        for (int k = 0; k < it->ndefs; k++) {
            bool found = false;
            for (int j = 0; j < P.nitems && !found; j++) {
                const Item *d = &P.items[j];
                if (d->kind == IT_PROTO && !P.is_c[d->file] && d->ndefs &&
                    !strcmp(d->defs[0], it->defs[k])) {
                    if (!protos) buf_printf(body, "\n/* ---- the runtime's functions, "
                                                  "private to this file */\n");
                    protos = true;
                    put_static_proto(d, body);
                    found = true;
                }
            }
            if (!found && it->kind == IT_FUNC)
                die("paste: %s has no declaration in a runtime header", it->defs[k]);
        }
    }
    int file = -1;
    for (int i = 0; i < P.nitems; i++) {
        const Item *it = &P.items[i];
        if (!it->taken || !P.is_c[it->file]) continue;
        if (it->file != file) buf_printf(body, "\n/* ---- %s */\n", runtime_files[it->file].path);
        file = it->file;
        put_renamed(&P, it, body);
    }
}
