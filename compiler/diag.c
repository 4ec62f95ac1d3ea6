/* diag.c: located diagnostics and "did you mean" suggestions.
 *
 * Messages follow chibicc's verror_at: the location, the message, the
 * source line and a caret under the column. Tabs in the line are copied
 * into the caret line so the caret stays aligned in any terminal. */
#include "rnc.h"

#include <stdlib.h>
#include <string.h>

void diag_init(Diag *d, const Source *src, FILE *out) {
    d->src = src;
    d->out = out;
    d->nerrors = 0;
    d->max_errors = 20;
}

static int max_errors(const Diag *d) {
    return d->max_errors > 0 ? d->max_errors : 20;
}

enum { WINDOW = 70 }; /* source characters shown either side of a caret */

/* Prints the source line of `loc` and a caret under its column. */
static void show_line(const Diag *d, Loc loc) {
    const char *text = d->src->text;
    size_t len = d->src->len, start = 0;
    int line = 1;
    for (size_t i = 0; i < len && line < loc.line; i++) {
        if (text[i] == '\n') {
            line++;
            start = i + 1;
        }
    }
    if (line != loc.line || start >= len) return; /* e.g. end of file */
    size_t end = start;
    while (end < len && text[end] != '\n' && text[end] != '\r' && text[end])
        end++;
    /* a long line shows as a window around the column */
    size_t at = start + (size_t)(loc.col > 0 ? loc.col - 1 : 0);
    if (at > end) at = end;
    const char *pre = "", *post = "";
    if (at - start > WINDOW) {
        start = at - WINDOW;
        pre = "...";
    }
    if (end - at > WINDOW) {
        end = at + WINDOW;
        post = "...";
    }
    fprintf(d->out, "  %s%.*s%s\n  %s", pre, (int)(end - start), text + start,
            post, *pre ? "   " : "");
    for (size_t i = start; i < at; i++)
        fputc(text[i] == '\t' ? '\t' : ' ', d->out);
    fputs("^\n", d->out);
}

static void report(Diag *d, Loc loc, const char *kind, const char *fmt,
                   va_list ap) {
    if (loc.line > 0)
        fprintf(d->out, "%s:%d:%d: %s: ", d->src->path, loc.line, loc.col,
                kind);
    else
        fprintf(d->out, "%s: %s: ", d->src->path, kind);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    if (loc.line > 0) show_line(d, loc);
}

void diag_error(Diag *d, Loc loc, const char *fmt, ...) {
    d->nerrors++;
    if (d->nerrors > max_errors(d)) {
        if (d->nerrors == max_errors(d) + 1)
            fprintf(d->out, "%s: too many errors, stopping here\n",
                    d->src->path);
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    report(d, loc, "error", fmt, ap);
    va_end(ap);
}

void diag_note(Diag *d, Loc loc, const char *fmt, ...) {
    if (d->nerrors > max_errors(d)) return; /* its error was not shown */
    va_list ap;
    va_start(ap, fmt);
    report(d, loc, "note", fmt, ap);
    va_end(ap);
}

/* Levenshtein distance over two rows; words here are short. */
static size_t edit_distance(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    size_t *prev = malloc((nb + 1) * sizeof *prev);
    size_t *cur = malloc((nb + 1) * sizeof *cur);
    if (!prev || !cur) die("out of memory");
    for (size_t j = 0; j <= nb; j++) prev[j] = j;
    for (size_t i = 1; i <= na; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    size_t dist = prev[nb];
    free(prev);
    free(cur);
    return dist;
}

const char *did_you_mean(const char *word, const char *const *cands) {
    size_t len = strlen(word);
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    const char *best = NULL;
    size_t best_dist = limit + 1;
    for (; *cands; cands++) {
        size_t dist = edit_distance(word, *cands);
        if (dist < best_dist) {
            best = *cands;
            best_dist = dist;
        }
    }
    return best;
}
