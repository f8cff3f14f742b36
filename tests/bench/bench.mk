# make bench: attach/detach cost vs. number of domains (tests/bench/README.md).
# Not part of make check.  Included by the top-level Makefile after
# tests/tests.mk, whose harness objects, flags and preloads it reuses.

BENCH_BIN    := tests/bench/bin/bench-pvusb
BENCH_XSCNT  := tests/bench/xscount.o
BENCH_OBJS   := tests/bench/bench-pvusb.o $(BENCH_XSCNT)
# libxenstore functions that send xenstored no request: not counted
BENCH_XS_LOCAL := xs_open xs_close xs_fileno xs_check_watch xs_read_watch

$(BENCH_OBJS): %.o: %.c tests/bench/xscount.h $(wildcard tests/harness/*.h) \
               $(GEN_HDRS)
	$(CC) $(TEST_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# Every libxenstore function xscount.o wraps is linked with --wrap; the
# link is refused if the library calls one that is neither wrapped nor
# known to send nothing (its requests would go uncounted).
$(BENCH_BIN): $(BENCH_OBJS) $(HARNESS_OBJS) libxlpvusb.a
	@mkdir -p $(@D)
	@wrapped=" $$(nm $(BENCH_XSCNT) | sed -n 's/.* T __wrap_//p' | \
	           tr '\n' ' ') $(BENCH_XS_LOCAL) "; \
	for f in $$(nm -u libxlpvusb.a | sed -n 's/^ *U \(xs_.*\)/\1/p'); do \
	    case "$$wrapped" in *" $$f "*) ;; \
	    *) echo "$@: libxlpvusb.a calls $$f, which" \
	            "tests/bench/xscount.c does not count" >&2; exit 1;; \
	    esac; \
	done
	$(CC) $(LDFLAGS) -o $@ $(BENCH_OBJS) $(HARNESS_OBJS) libxlpvusb.a \
	    $(PKG_LIBS) -lpthread \
	    $$(nm $(BENCH_XSCNT) | sed -n 's/.* T __wrap_/-Wl,--wrap=/p')

bench: $(BENCH_BIN) $(TEST_PRELOADS)
	tests/run-test $(BENCH_BIN)

bench-clean:
	rm -rf tests/bench/bin
	rm -f $(BENCH_OBJS)

.PHONY: bench-clean
clean: bench-clean
