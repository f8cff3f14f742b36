/*
 * harness_internal.h - what the harness files share with each other and
 * not with the tests.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef TESTS_HARNESS_INTERNAL_H
#define TESTS_HARNESS_INTERNAL_H

#ifndef TEST_TOPDIR
#error "TEST_TOPDIR (the source tree) must be defined by the build"
#endif

/*
 * Runs fn when the test child exits (normally, through a failed ASSERT or
 * a SKIP), last registered first; registering the same fn twice is one
 * registration.  Never runs in processes forked from the test child.
 * fn must be idempotent: tests may also call the stop functions.
 */
void harness_at_exit(void (*fn)(void));

/*
 * The running test's scratch directory: created empty by tap_main before
 * the test child starts and removed by it once the child has ended,
 * however it ended.  Short enough for an AF_UNIX socket path below it.
 */
const char *harness_scratch(void);

/* Recursive removal / copy (symlinks copied as symlinks, merged into an
 * existing dst).  Return 0 or -1 with errno set. */
int harness_rmtree(const char *dir);
int harness_copytree(const char *src, const char *dst);

/* Milliseconds (truncated) and microseconds on the monotonic clock.  A
 * deadline "ms from now" must be kept in microseconds: one computed from
 * two truncated readings may be reached up to 1 ms early. */
long long harness_now_ms(void);
long long harness_now_us(void);

#endif /* TESTS_HARNESS_INTERNAL_H */
