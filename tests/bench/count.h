/*
 * count.h - the xenstore requests and fsyncs of every process of a bench
 * run, counted by tests/bench/count.so (preloaded into the bench programs
 * and what they run: xlusb, bench-libxl).
 *
 * $BENCH_COUNTS names a file holding one struct bench_counts, which
 * count.so increments (atomically, through a shared mapping) and the
 * bench reads: the counts of whatever ran between two reads, in any
 * process.  count.so interposes every libxenstore function that sends
 * xenstored a request (Debian's libxenlight calls libxenstore.so, and
 * this library too: libxlpvusb.a is linked into the programs, libxenstore
 * is not) and counts one request per call: in libxenstore 4.17 each is
 * exactly one request and one reply (xs_talkv), but for xs_directory of a
 * listing larger than 4096 bytes, which fails with E2BIG and is redone in
 * XS_DIRECTORY_PART requests: those calls are counted apart (big_dirs),
 * and the bench says so if any happened.  The functions that send
 * nothing (xs_open, xs_close, xs_fileno, xs_check_watch, xs_read_watch,
 * xs_path_is_subpath, xs_daemon_destroy_postfork) are not interposed, nor
 * is xs_suspend_evtchn_port (libxenlight's, for suspending a domain: not
 * on the measured paths); bench.mk refuses to build if a program calls
 * any other libxenstore function that count.so does not count.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef TESTS_BENCH_COUNT_H
#define TESTS_BENCH_COUNT_H

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define BENCH_COUNTS_ENV "BENCH_COUNTS"

enum xsc_fn {
    XSC_DIRECTORY,
    XSC_READ,
    XSC_WRITE,
    XSC_MKDIR,
    XSC_RM,
    XSC_GET_PERMISSIONS,
    XSC_SET_PERMISSIONS,
    XSC_WATCH,
    XSC_UNWATCH,
    XSC_TRANSACTION_START,
    XSC_TRANSACTION_END,
    XSC_INTRODUCE_DOMAIN,
    XSC_RELEASE_DOMAIN,
    XSC_RESUME_DOMAIN,
    XSC_SET_TARGET,
    XSC_GET_DOMAIN_PATH,
    XSC_IS_DOMAIN_INTRODUCED,
    XSC_NUM
};

struct bench_counts {
    unsigned long xs[XSC_NUM];  /* requests, by function */
    unsigned long big_dirs;     /* xs_directory calls beyond 4096 bytes */
    unsigned long fsyncs;       /* fsync and fdatasync calls */
};

/* $BENCH_COUNTS mapped shared, or NULL if it is unset or cannot be. */
static inline struct bench_counts *bench_counts_map(void)
{
    const char *path = getenv(BENCH_COUNTS_ENV);
    void *m;
    int fd;

    if (!path)
        return NULL;
    fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    m = mmap(NULL, sizeof(struct bench_counts), PROT_READ | PROT_WRITE,
             MAP_SHARED, fd, 0);
    close(fd);
    return m == MAP_FAILED ? NULL : m;
}

#endif /* TESTS_BENCH_COUNT_H */
