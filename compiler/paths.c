/* paths.c: where the runtime is, for `rnc --cflags` and `rnc --libs`.
 *
 * Generated code needs rnrt.h and librnrt.a. rnc finds them from its own
 * location (/proc/self/exe, else argv[0]), so one binary works wherever it
 * was built or installed, and after the source tree is gone:
 *   PREFIX/bin/rnc  ->  PREFIX/include/rnrt.h, PREFIX/lib/librnrt.a
 *   TREE/BUILD/rnc  ->  TREE/runtime/rnrt.h,   TREE/BUILD/librnrt.a
 * No path is compiled in, so `make install PREFIX=...` rebuilds nothing,
 * and a DESTDIR-staged or moved install works as well.
 *
 * Requires nothing; changes nothing but its output. `rnc --run` needs none
 * of this: jit.c embeds rnrt.h and hands librnrt's functions over itself. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "rnc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PATH_LEN = 4096 };

/* What a program built from generated code links, after -L: librnimg.a
 * first (images in: only a main() with an image input pulls it), then
 * the runtime; the image decoders only where librnimg.a is pulled in
 * (--as-needed). packaging/rnrt.pc.in's Libs says the same. */
#define RUNTIME_LIBS \
    "-lrnimg -lrnrt -lm -lpthread -Wl,--as-needed -lpng -ljpeg -Wl,--no-as-needed"

/* The folder holding the running rnc, symlinks resolved (so ./rnc in the
 * tree, a link to build/rnc, is found as build/rnc). */
static bool exe_dir(const char *argv0, char *dir) {
    if (!realpath("/proc/self/exe", dir) &&
        !(argv0 && strchr(argv0, '/') && realpath(argv0, dir)))
        return false;
    char *slash = strrchr(dir, '/');
    if (!slash) return false;
    *slash = 0; /* "/usr/bin/rnc" -> "/usr/bin"; "/rnc" -> "" (the root) */
    return true;
}

static bool readable(const char *dir, const char *file) {
    char path[PATH_LEN];
    int n = snprintf(path, sizeof path, "%s/%s", dir, file);
    return n > 0 && n < (int)sizeof path && access(path, R_OK) == 0;
}

typedef struct RuntimeDirs {
    char include[PATH_LEN]; /* holds rnrt.h */
    char lib[PATH_LEN];     /* holds librnrt.a */
} RuntimeDirs;

/* 0 and the two folders, or -1 and a message naming where it looked. */
static int runtime_dirs(const char *argv0, RuntimeDirs *d, char *err,
                        size_t errlen) {
    char bin[PATH_LEN], up[PATH_LEN];
    if (!exe_dir(argv0, bin)) {
        snprintf(err, errlen, "cannot tell where rnc is (/proc/self/exe: %s)",
                 strerror(errno));
        return -1;
    }
    snprintf(up, sizeof up, "%s", bin);
    char *slash = strrchr(up, '/');
    if (slash) *slash = 0; else up[0] = 0;

    snprintf(d->include, sizeof d->include, "%s/include", up);
    snprintf(d->lib, sizeof d->lib, "%s/lib", up);
    if (readable(d->include, "rnrt.h") && readable(d->lib, "librnrt.a"))
        return 0; /* installed */
    snprintf(d->include, sizeof d->include, "%s/runtime", up);
    snprintf(d->lib, sizeof d->lib, "%s", bin);
    if (readable(d->include, "rnrt.h") && readable(d->lib, "librnrt.a"))
        return 0; /* the build tree */
    snprintf(err, errlen,
             "cannot find the runtime beside %s/rnc: looked for "
             "%s/include/rnrt.h with %s/lib/librnrt.a (an install) and "
             "%s/runtime/rnrt.h with %s/librnrt.a (the build tree)",
             bin, up, up, up, bin);
    return -1;
}

int runtime_flags_print(FILE *out, const char *argv0, bool cflags) {
    RuntimeDirs d;
    char err[5 * PATH_LEN + 256];
    if (runtime_dirs(argv0, &d, err, sizeof err) != 0) {
        fprintf(stderr, "rnc: error: %s\n", err);
        return 1;
    }
    if (cflags) fprintf(out, "-I%s\n", d.include);
    else fprintf(out, "-L%s %s\n", d.lib, RUNTIME_LIBS);
    return fflush(out) == 0 ? 0 : 1;
}
