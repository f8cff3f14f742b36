# make check-race: the concurrency suite (tests/race/test-race.c), N
# xlusb processes at once, many rounds, outcomes counted.  Not part of
# make check: it takes minutes.  Included by the top-level Makefile after
# tests/tests.mk, whose harness objects, flags and preloads it reuses.
# RACE_ROUNDS=<n> changes the rounds of the 16-attach, reconcile and
# xlusbd scenarios (20).

RACE_BIN := tests/race/bin/test-race

$(RACE_BIN): tests/race/test-race.c $(HARNESS_OBJS) libxlpvusb.a \
             $(wildcard tests/harness/*.h)
	@mkdir -p $(@D)
	$(CC) $(TEST_CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(HARNESS_OBJS) \
	    libxlpvusb.a $(PKG_LIBS) -lpthread

# Figures ("# race: ...") go to stderr, which prove shows without -v.
check-race: $(RACE_BIN) $(TEST_PRELOADS) xlusb/xlusb
	prove --exec tests/run-test $(RACE_BIN)

race-clean:
	rm -rf tests/race/bin

.PHONY: check-race race-clean
clean: race-clean
