/*
 * fuzz.h - what the libFuzzer targets (tests/fuzz/fuzz-*.c) share: a
 * context that logs into nothing, and a check that aborts (so that
 * libFuzzer records the input) with a message.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef TESTS_FUZZ_H
#define TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "libxl_pvusb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * A context for the code under test to log through and run its event
 * loop in, without a xenstore connection (the parsers and the QMP client
 * need none): every message is formatted, so a bad format argument is
 * found, then dropped.  Made once.
 */
libxl_ctx *fuzz_ctx(void);
/* Messages logged at XTL_ERROR or above since the last call. */
int fuzz_errors_logged(void);

/* The input as a NUL-terminated string (malloc'd; cut at a NUL). */
char *fuzz_strdup(const uint8_t *data, size_t size);

/* Aborts with "fuzz: <file>:<line>: <message>" unless cond holds. */
#define FUZZ_CHECK(cond, ...)                                           \
    do {                                                                \
        if (!(cond))                                                    \
            fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);          \
    } while (0)
void fuzz_fail(const char *file, int line, const char *cond,
               const char *fmt, ...)
    __attribute__((noreturn, format(printf, 4, 5)));

#endif /* TESTS_FUZZ_H */
