/* tmpfile.h: the readers under test take a path, so each input goes to a
 * private temporary file first (in /dev/shm when there is one), removed
 * again after the read. */
#ifndef FUZZ_TMPFILE_H
#define FUZZ_TMPFILE_H
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *fuzz_write_tmp(const char *ext, const unsigned char *data,
                                  size_t size) {
    static char path[256]; /* harness-only: one name per process */
    if (!path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(path, sizeof path, "%s/rnc-fuzz-%ld%s", dir, (long)getpid(),
                 ext);
    }
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    if (fclose(f) != 0) abort();
    return path;
}
#endif
