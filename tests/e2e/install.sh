#!/bin/bash
# install.sh: `make install` into a temporary prefix, the installed rnc
# used with the source tree out of sight, then `make uninstall`.
#
# With the tree hidden (a tmpfs mounted over it in a private mount
# namespace, which vanishes with the process however it ends; where
# namespaces are not allowed, the tree stays and a note says so):
# --cflags/--libs and pkg-config give the prefix's paths (through a link
# too; a lone copy of rnc says it finds no runtime); the installed
# example is summarized, compiled, built with pkg-config and run; --run
# computes the same numbers; the manual page renders from the prefix;
# bash completion completes a flag. Then uninstall leaves no file behind.
# The same under the sanitizers: the installed rnc is the one under test.
. "$(dirname "$0")/lib.sh"
P=$T/prefix
mkdir -p "$T/work"

# make, as the suite's own pass built it (BUILD relative to the tree).
mk() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$ROOT" \
        --no-print-directory BUILD="${BUILD#"$ROOT"/}" SAN="${SAN:-0}" "$@"
}

if mk install PREFIX="$P" >"$T/make.log" 2>&1; then ok; else
    bad "make install PREFIX=$P"; tail -5 "$T/make.log" | sed 's/^/    /' >&2
    finish; exit; fi
for f in bin/rnc include/rnrt.h lib/librnrt.a lib/pkgconfig/rnrt.pc \
         share/man/man1/rnc.1 share/doc/rnc/README.md share/doc/rnc/docs/cli.md \
         share/doc/rnc/examples/small_residual.rn \
         share/bash-completion/completions/rnc; do
    if [ -f "$P/$f" ]; then ok; else bad "make install: no $f"; fi
done

# The checks on the installed tool, run where the tree cannot be seen.
# Each prints "ok" or "bad WHAT".
cat >"$T/installed.sh" <<'EOF'
P=$1 ROOT=$2 SANFLAGS=$3
export PATH=$P/bin:$PATH PKG_CONFIG_PATH=$P/lib/pkgconfig
cd "$(dirname "$P")/work" || exit 1
say() { if [ "$1" = 0 ]; then echo ok; else echo "bad $2"; fi; }
ex=$P/share/doc/rnc/examples/small_residual.rn

[ -e "$ROOT/Makefile" ]; say $((1 - $?)) "the source tree is still visible"
[ "$(command -v rnc)" = "$P/bin/rnc" ]; say $? "rnc on PATH is not the installed one"
c=$(rnc --cflags) l=$(rnc --libs)
[ "$c" = "-I$P/include" ]; say $? "rnc --cflags: '$c'"
[ "$l" = "-L$P/lib -lrnimg -lrnrt -lm -lpthread -Wl,--as-needed -lpng -ljpeg -Wl,--no-as-needed" ]; say $? "rnc --libs: '$l'"
# A link to the installed rnc finds the same; a copy alone finds nothing
# and says so.
mkdir -p links lonely && ln -s "$P/bin/rnc" links/rnc && cp "$P/bin/rnc" lonely/
[ "$(links/rnc --cflags)" = "$c" ]; say $? "a link to rnc: --cflags"
lonely/rnc --libs >lonely.out 2>lonely.err
[ $? = 1 ] && [ ! -s lonely.out ] &&
    grep -q "^rnc: error: cannot find the runtime beside $PWD/lonely/rnc" lonely.err
say $? "a lone copy of rnc: --libs: $(cat lonely.err)"
pc=$(pkg-config --cflags --libs rnrt | sed 's/ *$//')
[ "$pc" = "$c $l" ]; say $? "pkg-config --cflags --libs rnrt: '$pc', rnc: '$c $l'"

rnc --summary "$ex" >summary.txt 2>&1 &&
    grep -q '^Model: "small_residual"' summary.txt &&
    grep -q '^Total params: 297,697$' summary.txt
say $? "rnc --summary of the installed example"
rnc --init-weights w.safetensors --seed 1 "$ex"; say $? "rnc --init-weights"
/usr/bin/python3 -c 'import numpy as np; np.save("x.npy",
    np.linspace(-1, 1, 3072, dtype=np.float32).reshape(32, 32, 3))'
say $? "write x.npy"
rnc "$ex" -o m.c --main; say $? "rnc -o m.c --main"
# shellcheck disable=SC2046,SC2086
cc -std=c11 -O1 $SANFLAGS m.c $(pkg-config --cflags --libs rnrt) -o m \
    2>cc.err; say $? "cc with pkg-config: $(head -3 cc.err)"
./m w.safetensors x.npy aot.npy; say $? "the built program"
rnc --run "$ex" --weights w.safetensors --input x.npy --output jit.npy \
    >run.out 2>run.err && grep -q 'compile' run.err
say $? "rnc --run: $(head -3 run.err)"
cmp -s aot.npy jit.npy; say $? "--run and the built program differ"

MANWIDTH=80 man -M "$P/share/man" --warnings rnc >man.txt 2>man.err &&
    [ ! -s man.err ] && grep -q 'pkg-config --cflags --libs rnrt' man.txt
say $? "man -M PREFIX/share/man rnc: $(head -3 man.err)"
comp=$(bash -c '_filedir() { :; }
    . "$1/share/bash-completion/completions/rnc"
    COMP_WORDS=(rnc --summ); COMP_CWORD=1; _rnc; echo "${COMPREPLY[*]}"' \
    sh "$P")
[ "$comp" = "--summary" ]; say $? "bash completion of --summ: '$comp'"
EOF

hide=(unshare --mount --propagation private -- sh -c \
      'mount -t tmpfs -o size=1m rnc-hidden "$0" && exec bash "$@"' "$ROOT")
case $T in "$ROOT"/*) hide=() ;; esac
if [ ${#hide[@]} -eq 0 ] || ! "${hide[@]}" -c true 2>/dev/null; then
    echo "  note: cannot hide the source tree here (no mount namespace);" \
         "the installed rnc runs beside it" >&2
    hide=(bash)
    sed -i '/the source tree is still visible/d' "$T/installed.sh"
fi
"${hide[@]}" "$T/installed.sh" "$P" "$ROOT" "$SANFLAGS" >"$T/results" 2>&1
while read -r word what; do
    case $word in
    ok) ok ;;
    bad) bad "installed: $what" ;;
    *) bad "installed: $word $what" ;;
    esac
done <"$T/results"
n=$(grep -c '^ok$' "$T/results")
if [ "$n" -ge 16 ]; then ok; else bad "only $n checks of the installed rnc ran"; fi

if mk uninstall PREFIX="$P" >"$T/make.log" 2>&1; then ok; else
    bad "make uninstall"; tail -5 "$T/make.log" | sed 's/^/    /' >&2; fi
left=$(find "$P" ! -type d)
if [ -z "$left" ]; then ok; else
    bad "make uninstall left:"; echo "$left" | sed 's/^/    /' >&2; fi
finish
