#!/bin/bash
# deb.sh: `make deb` builds the Debian package: its control fields, its
# files (owned by root, under /usr), and lintian finding no error. Then,
# as root with apt-get (CI on a fresh Debian 12), the package is installed
# with `apt-get install ./rnc_*.deb`, smoke-tested (summary, compile, build
# with pkg-config, run, --run, the manual page) and purged, so the machine
# is as before. The install is skipped, with a note, when not root, when
# an rnc is already installed system-wide (it stays as it was), or when
# RNC_DEB_INSTALL=0. Runs in the plain pass only: the package is built
# from build/, and the sanitizer pass would test the same package again.
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2

if [ "${SAN:-0}" = 1 ]; then
    echo "  note: deb.sh runs in the plain pass only" >&2; finish; exit; fi
if ! command -v dpkg-deb >/dev/null 2>&1; then
    echo "  note: no dpkg-deb: not a Debian system, no package" >&2
    finish; exit; fi

version=$("$RNC" --version | sed 's/^rnc //')-1
deb=build/rnc_${version}_$(dpkg --print-architecture).deb
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory \
    BUILD=build SAN=0 deb >"$T/make.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ -f "$deb" ]; then ok; else
    bad "make deb (exit $rc, $deb)"; tail -5 "$T/make.log" | sed 's/^/    /' >&2
    finish; exit; fi

# Control fields.
dpkg-deb -f "$deb" >"$T/control"
for want in "Package: rnc" "Version: $version" "Depends: libc6 (>= 2." \
             ", tcc" "Built-Using: tcc (= " "Section: devel" "Maintainer: "; do
    if grep -qF "$want" "$T/control"; then ok; else
        bad "$deb: no '$want' in its control file"; fi
done
# Files: where Debian wants them, root's, nothing outside /usr.
dpkg-deb -c "$deb" >"$T/files"
for f in usr/bin/rnc usr/lib/librnrt.a usr/include/rnrt.h usr/lib/librnimg.a usr/include/rnimg.h \
         usr/lib/pkgconfig/rnrt.pc usr/share/man/man1/rnc.1.gz \
         usr/share/doc/rnc/copyright usr/share/doc/rnc/changelog.Debian.gz \
         usr/share/doc/rnc/docs/cli.md usr/share/bash-completion/completions/rnc; do
    if grep -q " \./$f$" "$T/files"; then ok; else bad "$deb: no /$f"; fi
done
if awk '$2 != "root/root" || $6 !~ /^\.\/(usr\/.*)?$/ { bad = 1 }
        END { exit bad }' "$T/files"
then ok; else bad "$deb: a file outside /usr or not owned by root"; fi
if dpkg-deb --fsys-tarfile "$deb" |
    tar -xO ./usr/bin/rnc >"$T/rnc.bin" &&
    ! readelf -S "$T/rnc.bin" | grep -q '\.debug_'
then ok; else bad "$deb: /usr/bin/rnc is not stripped"; fi

# lintian: no error (make_deb.sh saved its report beside the package).
if command -v lintian >/dev/null 2>&1; then
    if [ -f "$deb.lintian" ] && ! grep -q '^E:' "$deb.lintian"; then ok; else
        bad "lintian reports errors:"; grep '^E:' "$deb.lintian" | sed 's/^/    /' >&2
    fi
else
    echo "  note: lintian is not installed: the package is not checked" >&2
fi

# Installed system-wide, smoke-tested, purged.
why_not=
if [ "${RNC_DEB_INSTALL:-1}" = 0 ]; then why_not="RNC_DEB_INSTALL=0"
elif [ "$(id -u)" -ne 0 ]; then why_not="not root"
elif ! command -v apt-get >/dev/null 2>&1; then why_not="no apt-get"
fi
if [ -n "$why_not" ]; then
    echo "  note: the package is not installed ($why_not)" >&2; finish; exit; fi

# One install at a time on this machine; wait for apt's lock, too.
lock=/run/lock
[ -d "$lock" ] || lock=/tmp
exec 9>"$lock/rnc-deb-test.lock"
flock -w 600 9 || { bad "waited 10 minutes for $lock/rnc-deb-test.lock"; finish; exit; }
if dpkg-query -W -f='${Status}' rnc 2>/dev/null | grep -q "ok installed" ||
   [ -e /usr/bin/rnc ]; then
    echo "  note: an rnc is installed system-wide already: left as it is," \
         "the package is not installed" >&2
    finish; exit
fi
apt=(apt-get -y -q -o DPkg::Lock::Timeout=300)
purge() { DEBIAN_FRONTEND=noninteractive "${apt[@]}" purge rnc >"$T/purge.log" 2>&1; }
trap 'purge; rm -rf "$T"' EXIT
if DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "./$deb" >"$T/apt.log" 2>&1
then ok; else
    bad "apt-get install ./$deb"; tail -8 "$T/apt.log" | sed 's/^/    /' >&2
    finish; exit; fi

cd "$T" || exit 2
cp "$ROOT/examples/small_residual.rn" . || exit 2
ex=small_residual.rn
LIBS="-lrnimg -lrnrt -lm -lpthread -Wl,--as-needed -lpng -ljpeg -Wl,--no-as-needed"
check "installed: rnc is /usr/bin/rnc" test "$(command -v rnc)" = /usr/bin/rnc
check "installed: rnc --cflags is -I/usr/include" \
    test "$(rnc --cflags)" = "-I/usr/include"
check "installed: rnc --libs is -L/usr/lib ..." \
    test "$(rnc --libs)" = "-L/usr/lib $LIBS"
check "installed: pkg-config --libs rnrt" \
    test "$(pkg-config --libs rnrt | sed 's/ *$//')" = "$LIBS"
rnc --summary "$ex" >"$T/summary"
if grep -q '^Total params: 297,697$' "$T/summary"; then ok; else
    bad "installed: rnc --summary"; fi
check "installed: rnc --init-weights" rnc --init-weights w.safetensors "$ex"
check "installed: rnc -o m.c --main" rnc "$ex" -o m.c --main
# shellcheck disable=SC2046
check "installed: cc with pkg-config" \
    cc -std=c11 -O1 m.c $(pkg-config --cflags --libs rnrt) -o m
/usr/bin/python3 -c 'import numpy as np; np.save("x.npy",
    np.linspace(-1, 1, 3072, dtype=np.float32).reshape(32, 32, 3))'
check "installed: the built program" ./m w.safetensors x.npy aot.npy
check "installed: rnc --run" rnc --run "$ex" --weights w.safetensors \
    --input x.npy --output jit.npy
check "installed: --run equals the built program" cmp aot.npy jit.npy
# Docker's Debian images tell dpkg not to unpack manual pages.
if [ ! -e /usr/share/man/man1/rnc.1.gz ] &&
   grep -qs '^path-exclude=*/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
    echo "  note: dpkg excludes /usr/share/man here: no manual page" >&2
else
    check "installed: man -w rnc" \
        test "$(man -w rnc)" = /usr/share/man/man1/rnc.1.gz
    if MANWIDTH=80 man --warnings rnc 2>&1 | grep -q '^ *rnc --run MODEL.rn'
    then ok; else bad "installed: man rnc renders"; fi
fi

if purge; then ok; else bad "apt-get purge rnc"; sed 's/^/    /' "$T/purge.log" >&2; fi
trap 'rm -rf "$T"' EXIT
if dpkg-query -W -f='${Status}' rnc 2>/dev/null | grep -q "ok installed" ||
   [ -e /usr/bin/rnc ] || [ -e /usr/lib/librnrt.a ] || [ -e /usr/include/rnrt.h ] ||
   [ -e /usr/share/doc/rnc ]
then bad "apt-get purge rnc left it behind"; else ok; fi
finish
