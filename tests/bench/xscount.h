/*
 * xscount.h - counts the xenstore requests this process makes.
 *
 * The bench is linked with -Wl,--wrap=<f> for every libxenstore function
 * xscount.c defines a __wrap_<f> for (tests/bench/bench.mk derives the
 * list from xscount.o), so every call from the library (libxlpvusb.a is
 * linked in statically) goes through a counter and then to the real
 * function.  Each counted function sends exactly one request to
 * xenstored and waits for its reply (libxenstore 4.17, xs_talkv), with
 * one exception: xs_directory falls back to several XS_DIRECTORY_PART
 * requests when the listing exceeds 4096 bytes, which the bench never
 * reaches (its largest listing, /local/domain with 501 entries, is ~2 kB).
 * The functions that send nothing (xs_open, xs_close, xs_fileno,
 * xs_check_watch, xs_read_watch) are not wrapped; bench.mk refuses to
 * link if the library calls any other unwrapped xs_ function.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef TESTS_BENCH_XSCOUNT_H
#define TESTS_BENCH_XSCOUNT_H

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
    XSC_GET_DOMAIN_PATH,
    XSC_IS_DOMAIN_INTRODUCED,
    XSC_NUM
};

struct xsc_counts {
    unsigned long n[XSC_NUM];
};

/* The function's name without "xs_", e.g. "read". */
const char *xsc_name(enum xsc_fn fn);

/* Requests made since the last xsc_reset, by function. */
void xsc_reset(void);
void xsc_get(struct xsc_counts *c);
unsigned long xsc_total(const struct xsc_counts *c);

#endif /* TESTS_BENCH_XSCOUNT_H */
