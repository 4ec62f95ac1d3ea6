#!/bin/sh
# make_deb.sh STAGE BUILD VERSION: packs BUILD/rnc_VERSION-1_ARCH.deb with
# dpkg-deb from STAGE, a `make install DESTDIR=STAGE PREFIX=/usr` (the
# Makefile's deb target makes it). Done as Debian's helpers would:
# binaries stripped, the man page and changelog compressed with gzip -9n,
# the copyright file, md5sums, everything owned by root. Then lintian
# checks the package where it is installed: an error (E:) fails the build.
#
# Depends: the libc6 that the binary's symbol versions need; libpng16-16
# and libjpeg62-turbo (rnc --run decodes images); and tcc: its
# libtcc1.a holds the helpers that tcc-compiled code calls for 64-bit
# unsigned <-> float conversions, which compiler/jit.c links when present.
# Recommends: libpng-dev and libjpeg62-turbo-dev, which `rnc --libs` names
# (-lpng -ljpeg) for programs built from generated code.
# Built-Using: tcc, whose libtcc.a (LGPL) is linked into rnc statically.
set -eu
STAGE=$1 BUILD=$2 VERSION=$3
HERE=$(dirname "$0")
PKG_VERSION=$VERSION-1
ARCH=$(dpkg --print-architecture)
DEB=$BUILD/rnc_${PKG_VERSION}_$ARCH.deb
DOC=$STAGE/usr/share/doc/rnc

# The changelog's newest entry must be this version.
top=$(sed -n '1s/^rnc (\([^)]*\)).*/\1/p' "$HERE/deb/changelog")
if [ "$top" != "$PKG_VERSION" ]; then
    echo "make_deb.sh: packaging/deb/changelog starts at '$top', not" \
         "$PKG_VERSION: add an entry" >&2
    exit 1
fi

strip --remove-section=.comment --remove-section=.note --strip-unneeded \
    "$STAGE/usr/bin/rnc"
strip --strip-debug --remove-section=.comment --remove-section=.note \
    --enable-deterministic-archives "$STAGE/usr/lib/librnrt.a"
gzip -9nf "$STAGE/usr/share/man/man1/rnc.1"
install -m 644 "$HERE/deb/copyright" "$DOC/copyright"
gzip -9nc "$HERE/deb/changelog" >"$DOC/changelog.Debian.gz"
chmod 644 "$DOC/changelog.Debian.gz"
find "$STAGE" -type d -exec chmod 755 {} +

glibc=$(objdump -T "$STAGE/usr/bin/rnc" | grep -o 'GLIBC_[0-9.]*' |
    sed 's/GLIBC_//' | sort -uV | tail -n 1)
built_using=$(dpkg-query -W -f='${source:Package} (= ${source:Version})' \
    libtcc-dev)
size=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f 1)

mkdir -p "$STAGE/DEBIAN"
cat >"$STAGE/DEBIAN/control" <<CONTROL
Package: rnc
Version: $PKG_VERSION
Architecture: $ARCH
Maintainer: rnc maintainers <maintainers@rnc.example>
Installed-Size: $size
Depends: libc6 (>= $glibc), tcc, libpng16-16, libjpeg62-turbo
Recommends: libpng-dev, libjpeg62-turbo-dev
Suggests: gcc | c-compiler, pkg-config, graphviz
Built-Using: $built_using
Section: devel
Priority: optional
Description: compiler from neural network descriptions to specialized C
 rnc reads a convolutional network written in a small language (.rn),
 checks it, prints a Keras-style summary, and writes C in which every
 dimension is a constant, linked against a small runtime (librnrt):
 safetensors weights in, NumPy .npy arrays in and out. It can also
 compile a model in memory with libtcc and run it at once.
 .
 This package holds the rnc compiler, the librnrt static library, its
 header and pkg-config file, the manual page and the documentation.
CONTROL
(cd "$STAGE" && find usr -type f -print0 | LC_ALL=C sort -z |
    xargs -0 md5sum) >"$STAGE/DEBIAN/md5sums"
chmod 644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
if command -v lintian >/dev/null 2>&1; then
    lintian "$DEB" 2>/dev/null | tee "$DEB.lintian"
    if grep -q '^E:' "$DEB.lintian"; then
        echo "make_deb.sh: lintian reports errors" >&2
        exit 1
    fi
else
    echo "make_deb.sh: lintian is not installed: not checked"
fi
