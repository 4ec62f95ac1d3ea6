#!/bin/bash
# manpage.sh: man/rnc.1 renders without a warning (groff -ww, and man -l
# where man-db is installed) and carries rnc's version; and the manual
# page, docs/cli.md and `rnc --help` name the same flags:
#   - each flag --help lists has an entry (a .TP tag) in the manual page's
#     OPTIONS and a row in docs/cli.md's Flags table;
#   - neither names a long flag that --help does not list.
# A failure says which flag is missing where: a new flag in main.c's usage
# text needs its entry in both documents.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2
MAN=man/rnc.1
CLI=docs/cli.md

# The flags of a text: words that start with - or -- after a line start,
# a space, a bracket or a bar (as usage texts write them).
flags_of() {
    grep -oE -- '(^|[][ |",(])--?[a-z][a-z0-9-]*' | sed 's/^[][ |",(]*//' |
        LC_ALL=C sort -u
}
# The manual page's source as text: \- is -, font escapes dropped,
# comments dropped.
man_text() {
    grep -v '^\.\\"' "$MAN" | sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\&//g'
}

# Rendering.
if groff -man -ww -z "$MAN" >"$T/groff.err" 2>&1 && [ ! -s "$T/groff.err" ]
then ok; else bad "groff -man -ww -z $MAN warns:"
    head -10 "$T/groff.err" | sed 's/^/    /' >&2; fi
if command -v man >/dev/null 2>&1; then
    if MANWIDTH=80 man -l --warnings "$MAN" >"$T/man.txt" 2>"$T/man.err" &&
       [ ! -s "$T/man.err" ] && grep -q '^OPTIONS' "$T/man.txt"
    then ok; else bad "man -l --warnings $MAN:"
        head -10 "$T/man.err" | sed 's/^/    /' >&2; fi
fi
version=$("$RNC" --version | sed 's/^rnc //')
if grep -q "^\.TH RNC 1 [0-9-]* \"rnc $version\"" "$MAN"; then ok; else
    bad "$MAN: its .TH line does not say \"rnc $version\" (rnc --version)"; fi

# The flags of each.
"$RNC" --help | flags_of >"$T/help"
if [ "$(wc -l <"$T/help")" -ge 15 ]; then ok; else
    bad "rnc --help lists only $(wc -l <"$T/help") flags"; fi
# Manual page entries: the tag line after each .TP inside OPTIONS.
man_text | awk '/^\.SH/ { opts = ($2 == "OPTIONS") } \
                opts && tag { print; tag = 0 } \
                opts && /^\.TP/ { tag = 1 }' | flags_of >"$T/man_entries"
man_text | flags_of | grep -- '^--' >"$T/man_all"
# docs/cli.md rows: the first cell of each row of the Flags table.
awk '/^## / { flags = ($0 == "## Flags") } flags && /^\| `/' "$CLI" |
    cut -d'|' -f2 | tr '`' ' ' | flags_of >"$T/cli_entries"
tr '`' ' ' <"$CLI" | flags_of | grep -- '^--' >"$T/cli_all"

while read -r f; do
    if grep -qxF -- "$f" "$T/man_entries"; then ok; else
        bad "$f is in rnc --help but has no entry in $MAN's OPTIONS" \
            "(add: .TP / .B \\-\\-${f#--} ...)"; fi
    if grep -qxF -- "$f" "$T/cli_entries"; then ok; else
        bad "$f is in rnc --help but has no row in $CLI's Flags table"; fi
done <"$T/help"
while read -r f; do
    if grep -qxF -- "$f" "$T/help"; then ok; else
        bad "$MAN names $f, which rnc --help does not list"; fi
done <"$T/man_all"
while read -r f; do
    if grep -qxF -- "$f" "$T/help"; then ok; else
        bad "$CLI names $f, which rnc --help does not list"; fi
done <"$T/cli_all"
finish
