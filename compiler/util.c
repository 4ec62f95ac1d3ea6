/* util.c: the compilation arena, growable buffers, numbers as text, files,
 * die(), and the model names the generated C can take. */
#define _POSIX_C_SOURCE 200809L
#include "rnc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The arena is a list of chunks; big requests get a chunk of their own. */
typedef struct Chunk {
    struct Chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} Chunk;

struct Arena {
    Chunk *head;
};

enum { CHUNK_SIZE = 64 * 1024 };

Arena *arena_new(void) {
    Arena *a = calloc(1, sizeof *a);
    if (!a) die("out of memory");
    return a;
}

void arena_free(Arena *a) {
    if (!a) return;
    for (Chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

void *arena_alloc(Arena *a, size_t size) {
    size = (size + 15) & ~(size_t)15;
    Chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t cap = size > CHUNK_SIZE ? size : CHUNK_SIZE;
        c = malloc(sizeof *c + cap);
        if (!c) die("out of memory (%zu bytes)", size);
        c->used = 0;
        c->size = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n) {
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(Arena *a, const char *s) {
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(Arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) die("arena_printf: bad format");
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static void buf_reserve(Buf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) die("out of memory (%zu bytes)", cap);
    b->data = p;
    b->cap = cap;
}

void buf_append(Buf *b, const char *s, size_t n) {
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void buf_printf(Buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) die("buf_printf: bad format");
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_free(Buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* 1234567 -> "1,234,567" (Python's "{:,}"). */
void format_thousands(int64_t v, char *out, size_t outlen) {
    char digits[32];
    bool neg = v < 0;
    snprintf(digits, sizeof digits, "%llu",
             neg ? 0ull - (unsigned long long)v : (unsigned long long)v);
    int n = (int)strlen(digits), k = 0;
    char tmp[48];
    if (neg) tmp[k++] = '-';
    for (int i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0) tmp[k++] = ',';
        tmp[k++] = digits[i];
    }
    tmp[k] = 0;
    snprintf(out, outlen, "%s", tmp);
}

const char *arena_thousands(Arena *a, int64_t v) {
    char s[48];
    format_thousands(v, s, sizeof s);
    return arena_strdup(a, s);
}

_Noreturn void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rnc: internal error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* Source files are capped so that a huge file is an error, not an OOM. */
enum { MAX_SOURCE = 16 << 20 };

char *read_whole_file(const char *path, size_t *len) {
    return read_file_max(path, MAX_SOURCE, len);
}

char *read_file_max(const char *path, size_t max, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    for (;;) {
        if (!p) die("out of memory");
        size_t got = fread(p + n, 1, cap - n - 1, f);
        n += got;
        if (n < cap - 1) break;
        if (cap >= max) {
            free(p);
            fclose(f);
            errno = EFBIG;
            return NULL;
        }
        cap *= 2;
        p = realloc(p, cap);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(p);
        errno = EIO;
        return NULL;
    }
    p[n] = 0;
    if (len) *len = n;
    return p;
}

/* ---------------------------------------------------------- model names */

/* C's keywords (C11, and the asm and typeof of GNU C). */
static const char *const c_keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do",
    "double", "else", "enum", "extern", "float", "for", "goto", "if",
    "inline", "int", "long", "register", "restrict", "return", "short",
    "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
    "unsigned", "void", "volatile", "while", "asm", "typeof", NULL};

/* What the headers generated code includes (stdio.h, stdlib.h, string.h,
 * stddef.h) declare or define, as glibc has them in its default mode (a
 * model is compiled with `cc` as it comes): every name declared at file
 * scope there is taken (their top-level declarations and macros, those
 * starting with '_' left out: the rule below refuses the reserved ones). */
static const char *const libc_names[] = {
    "BIG_ENDIAN", "BUFSIZ", "BYTE_ORDER", "EOF", "EXIT_FAILURE", "EXIT_SUCCESS",
    "FD_CLR", "FD_ISSET", "FD_SET", "FD_SETSIZE", "FD_ZERO", "FILE",
    "FILENAME_MAX", "FOPEN_MAX", "LITTLE_ENDIAN", "L_ctermid", "L_tmpnam",
    "MB_CUR_MAX", "NFDBITS", "NULL", "PDP_ENDIAN", "P_tmpdir", "RAND_MAX",
    "SEEK_CUR", "SEEK_END", "SEEK_SET", "TMP_MAX", "WCONTINUED", "WEXITED",
    "WEXITSTATUS", "WIFCONTINUED", "WIFEXITED", "WIFSIGNALED", "WIFSTOPPED",
    "WNOHANG", "WNOWAIT", "WSTOPPED", "WSTOPSIG", "WTERMSIG", "WUNTRACED",
    "a64l", "abort", "abs", "aligned_alloc", "alloca", "arc4random",
    "arc4random_buf", "arc4random_uniform", "at_quick_exit", "atexit", "atof",
    "atoi", "atol", "atoll", "bcmp", "bcopy", "be16toh", "be32toh", "be64toh",
    "blkcnt_t", "blksize_t", "bsearch", "bzero", "caddr_t", "calloc",
    "clearenv", "clearerr", "clearerr_unlocked", "clock_t", "clockid_t",
    "ctermid", "daddr_t", "dev_t", "div", "div_t", "dprintf", "drand48",
    "drand48_data", "drand48_r", "ecvt", "ecvt_r", "erand48", "erand48_r",
    "exit", "explicit_bzero", "fclose", "fcvt", "fcvt_r", "fd_mask", "fd_set",
    "fdopen", "feof", "feof_unlocked", "ferror", "ferror_unlocked", "fflush",
    "fflush_unlocked", "ffs", "ffsl", "ffsll", "fgetc", "fgetc_unlocked",
    "fgetpos", "fgets", "fileno", "fileno_unlocked", "flockfile", "fmemopen",
    "fopen", "fpos_t", "fprintf", "fputc", "fputc_unlocked", "fputs", "fread",
    "fread_unlocked", "free", "freopen", "fsblkcnt_t", "fscanf", "fseek",
    "fseeko", "fsetpos", "fsfilcnt_t", "fsid_t", "ftell", "ftello",
    "ftrylockfile", "funlockfile", "fwrite", "fwrite_unlocked", "gcvt", "getc",
    "getc_unlocked", "getchar", "getchar_unlocked", "getdelim", "getenv",
    "getline", "getloadavg", "getsubopt", "getw", "gid_t", "htobe16", "htobe32",
    "htobe64", "htole16", "htole32", "htole64", "id_t", "index", "initstate",
    "initstate_r", "ino_t", "int16_t", "int32_t", "int64_t", "int8_t",
    "jrand48", "jrand48_r", "key_t", "l64a", "labs", "lcong48", "lcong48_r",
    "ldiv", "ldiv_t", "le16toh", "le32toh", "le64toh", "llabs", "lldiv",
    "lldiv_t", "locale_t", "loff_t", "lrand48", "lrand48_r", "malloc",
    "max_align_t", "mblen", "mbstowcs", "mbtowc", "memccpy", "memchr", "memcmp",
    "memcpy", "memmove", "memset", "mkdtemp", "mkstemp", "mkstemps", "mktemp",
    "mode_t", "mrand48", "mrand48_r", "nlink_t", "nrand48", "nrand48_r",
    "off_t", "offsetof", "on_exit", "open_memstream", "pclose", "perror",
    "pid_t", "popen", "posix_memalign", "printf", "pselect", "pthread_attr_t",
    "pthread_barrier_t", "pthread_barrierattr_t", "pthread_cond_t",
    "pthread_condattr_t", "pthread_key_t", "pthread_mutex_t",
    "pthread_mutexattr_t", "pthread_once_t", "pthread_rwlock_t",
    "pthread_rwlockattr_t", "pthread_spinlock_t", "pthread_t", "ptrdiff_t",
    "putc", "putc_unlocked", "putchar", "putchar_unlocked", "putenv", "puts",
    "putw", "qecvt", "qecvt_r", "qfcvt", "qfcvt_r", "qgcvt", "qsort", "quad_t",
    "quick_exit", "rand", "rand_r", "random", "random_data", "random_r",
    "realloc", "reallocarray", "realpath", "register_t", "remove", "rename",
    "renameat", "rewind", "rindex", "rpmatch", "scanf", "seed48", "seed48_r",
    "select", "setbuf", "setbuffer", "setenv", "setlinebuf", "setstate",
    "setstate_r", "setvbuf", "sigset_t", "size_t", "snprintf", "sprintf",
    "srand", "srand48", "srand48_r", "srandom", "srandom_r", "sscanf",
    "ssize_t", "stderr", "stdin", "stdout", "stpcpy", "stpncpy", "strcasecmp",
    "strcasecmp_l", "strcat", "strchr", "strcmp", "strcoll", "strcoll_l",
    "strcpy", "strcspn", "strdup", "strerror", "strerror_l", "strerror_r",
    "strlen", "strncasecmp", "strncasecmp_l", "strncat", "strncmp", "strncpy",
    "strndup", "strnlen", "strpbrk", "strrchr", "strsep", "strsignal", "strspn",
    "strstr", "strtod", "strtof", "strtok", "strtok_r", "strtol", "strtold",
    "strtoll", "strtoq", "strtoul", "strtoull", "strtouq", "strxfrm",
    "strxfrm_l", "suseconds_t", "system", "tempnam", "time_t", "timer_t",
    "timespec", "timeval", "tmpfile", "tmpnam", "tmpnam_r", "u_char", "u_int",
    "u_int16_t", "u_int32_t", "u_int64_t", "u_int8_t", "u_long", "u_quad_t",
    "u_short", "uid_t", "uint", "ulong", "ungetc", "unsetenv", "ushort",
    "va_arg", "va_copy", "va_end", "va_list", "va_start", "valloc", "vdprintf",
    "vfprintf", "vfscanf", "vprintf", "vscanf", "vsnprintf", "vsprintf",
    "vsscanf", "wchar_t", "wcstombs", "wctomb", NULL
};

/* What the other headers a standalone file includes (math.h, pthread.h,
 * stdatomic.h, stdbool.h, stdint.h, fcntl.h, unistd.h, sys/stat.h, time.h,
 * errno.h, sched.h, arm_neon.h) declare and the runtime's text pasted into
 * it uses (tests/unit/test_names.c checks that list against the file). */
static const char *const standalone_names[] = {
    "CLOCK_MONOTONIC", "EEXIST", "EINTR", "HUGE_VALF", "O_CREAT", "O_EXCL",
    "O_RDONLY", "O_WRONLY", "S_ISDIR", "S_ISREG", "atomic_compare_exchange_weak",
    "atomic_fetch_add", "atomic_fetch_sub", "atomic_init", "atomic_load",
    "atomic_store", "bool", "clock_gettime", "close", "erff", "expm1f",
    "float32x4_t", "fstat", "fsync", "getpid", "int32x4_t", "log1pf", "mkdir",
    "open", "pthread_cond_broadcast", "pthread_cond_destroy",
    "pthread_cond_init", "pthread_cond_signal", "pthread_cond_wait",
    "pthread_create", "pthread_join", "pthread_mutex_destroy",
    "pthread_mutex_init", "pthread_mutex_lock", "pthread_mutex_unlock", "read",
    "sched_yield", "sqrt", "stat", "sysconf", "unlink", "vaddq_f32",
    "vaddq_s32", "vcvtnq_s32_f32", "vdivq_f32", "vdupq_n_f32", "vdupq_n_s32",
    "vfmaq_f32", "vld1q_dup_f32", "vld1q_f32", "vmaxq_f32", "vminq_f32",
    "vmulq_f32", "vrecpeq_f32", "vrecpsq_f32", "vreinterpretq_f32_s32",
    "vrndmq_f32", "vshlq_n_s32", "vst1q_f32", "vsubq_f32", "write", NULL};

/* What the generated C names itself: its locals, parameters, functions
 * and the library functions it calls (tests/unit/test_names.c checks that
 * every bare identifier of the code emit_c and emit_standalone write for
 * the model is refused here). Its layer functions (L3_conv2d) and
 * numbered parameters (input0, output2) are refused by rule. */
static const char *const code_names[] = {
    "a", "argc", "argv", "atoi", "b", "c", "calloc", "ctx", "d", "dims", "done",
    "e", "end", "err", "errlen", "errno", "exit", "expf", "f", "fabsf", "fail",
    "flag", "fprintf", "free", "g", "hi", "hook", "i", "images", "in",
    "in_paths", "inputs", "io", "iy", "j", "k", "kernel", "kx", "ky", "layer",
    "ldk", "lead", "lo", "m", "main", "malloc", "med", "memcpy", "memset",
    "min", "missing", "n", "nthreads", "o0", "o1", "out", "outputs", "oy", "p",
    "packed", "path", "printf", "prof", "profile", "prog", "r", "rank", "rc",
    "realloc", "repeat", "rows", "s", "scale", "size_t", "snprintf", "sqrtf",
    "st", "stderr", "strcmp", "strtol", "t", "t0", "t1", "tanhf", "text",
    "threads", "tr", "trace", "v", "value", "w", "want", "weights_path", "ws",
    "x", "y", "y0", "y1", "yr", NULL
};

static bool listed(const char *const *list, const char *s) {
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], s)) return true;
    return false;
}

/* s is PREFIX followed by one or more digits, then `tail` or its end. */
static bool numbered(const char *s, const char *prefix, char tail) {
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) || !(s[n] >= '0' && s[n] <= '9')) return false;
    const char *p = s + n;
    while (*p >= '0' && *p <= '9') p++;
    return *p == tail;
}

const char *model_name_problem(const char *name) {
    if (listed(c_keywords, name)) return "is a C keyword";
    if (listed(libc_names, name) || listed(standalone_names, name))
        return "is a name the C library's headers declare";
    if (listed(code_names, name) || numbered(name, "L", '_') ||
        numbered(name, "input", 0) || numbered(name, "output", 0))
        return "is a name the generated C already uses";
    if (!strncmp(name, "rn_", 3) || !strncmp(name, "RN_", 3))
        return "starts with rn_, the runtime's prefix";
    if (name[0] == '_') /* C11 7.1.3: all such names, at file scope */
        return "is reserved in C (it starts with an underscore)";
    return NULL;
}

const char *model_name_safe(Arena *a, const char *name) {
    if (!model_name_problem(name)) return name;
    const char *s = arena_printf(a, "%s_model", name);
    return model_name_problem(s) ? arena_printf(a, "model_%s", name) : s;
}
