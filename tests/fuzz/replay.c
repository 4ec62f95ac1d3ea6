/* replay.c: runs a fuzz harness over files without libFuzzer, so that the
 * regressions in tests/fuzz/regressions/ run in every suite pass (with gcc,
 * and under ASan+UBSan in the SAN=1 pass). Usage: replay FILE... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0, n;
        do {
            if (len == cap) {
                cap = cap ? 2 * cap : 4096;
                if (!(buf = realloc(buf, cap))) return 2;
            }
            n = fread(buf + len, 1, cap - len, f);
            len += n;
        } while (n > 0);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
    }
    printf("replayed %d file(s)\n", argc - 1);
    return 0;
}
