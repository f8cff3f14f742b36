# make bench: this library and Debian's libxenlight side by side
# (tests/bench/README.md).  Not part of make check.  Included by the
# top-level Makefile after tests/tests.mk, whose harness objects, flags
# and preloads it reuses.

BENCH_DIR    := tests/bench
BENCH_BIN    := $(BENCH_DIR)/bin/bench-pvusb
BENCH_LIBXL  := $(BENCH_DIR)/bin/bench-libxl
BENCH_COUNT  := $(BENCH_DIR)/count.so
LIBXENLIGHT  := $(firstword $(wildcard /usr/lib/*/libxenlight.so))
# libxenstore functions that send xenstored no request (not counted), and
# libxenlight's xs_suspend_evtchn_port (domain suspend: not measured)
BENCH_XS_LOCAL := xs_open xs_close xs_fileno xs_check_watch xs_read_watch \
                  xs_path_is_subpath xs_daemon_destroy_postfork
BENCH_XS_UNMEASURED := xs_suspend_evtchn_port

# A preload: built without -fvisibility=hidden, not linked to libxenstore.
$(BENCH_COUNT): $(BENCH_DIR)/count.c $(BENCH_DIR)/count.h
	$(CC) $(PKG_CFLAGS) $(ALL_CFLAGS) -fPIC -shared -o $@ $< -ldl -lpthread

$(BENCH_BIN): $(BENCH_DIR)/bench-pvusb.c $(BENCH_DIR)/count.h \
              $(HARNESS_OBJS) libxlpvusb.a $(wildcard tests/harness/*.h)
	@mkdir -p $(@D)
	$(CC) $(TEST_CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(HARNESS_OBJS) \
	    libxlpvusb.a $(PKG_LIBS) -lpthread

# Debian's libxenlight (libxen-dev), nothing of this library's.
$(BENCH_LIBXL): $(BENCH_DIR)/bench-libxl.c $(BENCH_DIR)/count.h \
                tests/harness/sysfsmock.h
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -Itests/harness $(ALL_CFLAGS) -o $@ $< \
	    -lxenlight -lxentoollog

# Refuses to measure if this library, xlusb or libxenlight calls a
# libxenstore function that count.so neither counts nor knows to send
# nothing: its requests would go uncounted.
$(BENCH_DIR)/bin/.xs-checked: $(BENCH_COUNT) libxlpvusb.a xlusb/xlusb \
                              $(LIBXENLIGHT)
	@mkdir -p $(@D)
	@counted=" $$(nm -D --defined-only $(BENCH_COUNT) | \
	           sed -n 's/.* T \(xs_.*\)/\1/p' | tr '\n' ' ') \
	           $(BENCH_XS_LOCAL) "; \
	for f in $$(nm -u libxlpvusb.a | sed -n 's/^ *U \(xs_.*\)/\1/p'; \
	            nm -D --undefined-only $(LIBXENLIGHT) | \
	            sed -n 's/^ *U \(xs_[a-z_]*\).*/\1/p' | \
	            grep -vx '$(BENCH_XS_UNMEASURED)'); do \
	    case "$$counted" in *" $$f "*) ;; \
	    *) echo "bench: $$f is called but $(BENCH_DIR)/count.c" \
	            "does not count it" >&2; exit 1;; \
	    esac; \
	done
	@touch $@

# libxenlight's records go to /var/lib/xen: a private tmpfs there, in a
# mount namespace of the bench's own (root, or unprivileged user
# namespaces); TMPDIR on tmpfs for the rest of the fake host.
BENCH_TMPDIR ?= /dev/shm
bench: $(BENCH_BIN) $(BENCH_LIBXL) $(BENCH_COUNT) $(BENCH_DIR)/bin/.xs-checked \
       $(TEST_PRELOADS) xlusb/xlusb
	TMPDIR=$(BENCH_TMPDIR) TEST_TIMEOUT=600 \
	LD_PRELOAD=$(CURDIR)/$(BENCH_COUNT) \
	unshare --mount $$( [ "$$(id -u)" = 0 ] || echo --map-root-user ) \
	    sh -c 'mkdir -p /var/lib/xen && \
	           mount -t tmpfs -o mode=0755 bench /var/lib/xen && \
	           exec tests/run-test $(BENCH_BIN)'

bench-clean:
	rm -rf $(BENCH_DIR)/bin
	rm -f $(BENCH_COUNT)

.PHONY: bench-clean
clean: bench-clean
