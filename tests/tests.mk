# Tests: every tests/test-*.c is a TAP program (tests/harness/tap.h), run
# by prove through tests/run-test, which preloads the fake sysfs.

TEST_SRCS    := $(wildcard tests/test-*.c)
TEST_BINS    := $(patsubst tests/%.c,tests/bin/%,$(TEST_SRCS)) \
                tests/bin/test-gentypes
# The preloads: each tests/harness/<name>.c becomes <name>.so.
PRELOAD_SRCS := tests/harness/xsshim.c tests/harness/sysfsmock.c \
                tests/harness/qmpredirect.c tests/harness/xcmock.c \
                tests/harness/udevfake.c
HARNESS_SRCS := $(filter-out $(PRELOAD_SRCS),$(wildcard tests/harness/*.c))
HARNESS_OBJS := $(patsubst %.c,%.o,$(HARNESS_SRCS))
TEST_CPPFLAGS = $(CPPFLAGS_ALL) -Itests/harness -DTEST_TOPDIR=\"$(CURDIR)\"
TEST_PRELOADS := $(PRELOAD_SRCS:.c=.so)

$(HARNESS_OBJS): %.o: %.c $(wildcard tests/harness/*.h) $(GEN_HDRS)
	$(CC) $(TEST_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The preloads are built without -fvisibility=hidden: a hidden wrapper
# intercepts nothing.
$(TEST_PRELOADS): %.so: %.c $(wildcard tests/harness/*mock.h)
	$(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $< -ldl

gen/gentest.c: core/gentest.py libxl_types.idl core/idl.py
	@mkdir -p gen
	$(PYTHON) core/gentest.py libxl_types.idl $@

tests/bin/test-gentypes: gen/gentest.c $(HARNESS_OBJS) libxlpvusb.a
	@mkdir -p tests/bin
	$(CC) $(TEST_CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(HARNESS_OBJS) \
	    libxlpvusb.a $(PKG_LIBS) -lpthread

tests/bin/%: tests/%.c $(HARNESS_OBJS) libxlpvusb.a \
             $(wildcard tests/harness/*.h)
	@mkdir -p tests/bin
	$(CC) $(TEST_CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(HARNESS_OBJS) \
	    libxlpvusb.a $(PKG_LIBS) -lpthread

TESTS_READY := $(TEST_BINS) $(TEST_PRELOADS) xlusb/xlusb xlusbd/xlusbd

# The library logs at debug level in tests; the suite run shows errors only
# (TEST_LOGLEVEL=debug make check for everything).
TEST_LOGLEVEL ?= error
export TEST_LOGLEVEL

check: $(TESTS_READY)
	prove -j2 --exec tests/run-test $(TEST_BINS)

VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full \
            --suppressions=$(CURDIR)/tests/valgrind.supp \
            --errors-for-leak-kinds=definite --show-leak-kinds=definite
check-valgrind: $(TESTS_READY)
	TEST_VALGRIND="$(VALGRIND)" prove -j2 --exec tests/run-test $(TEST_BINS)

# The same suite built with ASan + UBSan, in a copy of the tree
# (build/asan): see tests/asan/run.sh.
check-asan:
	tests/asan/run.sh

tests-clean:
	rm -rf tests/bin build/asan
	rm -f $(HARNESS_OBJS) $(TEST_PRELOADS)
