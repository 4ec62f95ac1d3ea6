/* internal.h: helpers shared by the runtime's own files (not part of the
 * API in rnrt.h). */
#ifndef RN_INTERNAL_H
#define RN_INTERNAL_H

#include <stddef.h>

/* Formats a message into the caller's err buffer (ignored when NULL). */
void rn_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
