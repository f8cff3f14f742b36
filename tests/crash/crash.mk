# make check-crash: the crash points suite (tests/crash/test-crash.c).
# Every mutating step of eleven operations (three of them xlusbd itself)
# is a crash point: the operation is killed there (tests/crash/killat.so),
# run once more, and the whole host must be consistent.  Not part of make check: it runs each
# operation some hundred times.  Included by the top-level Makefile after
# tests/tests.mk, whose harness objects, flags and preloads it reuses.

CRASH_DIR  := tests/crash
CRASH_BIN  := $(CRASH_DIR)/bin/test-crash
# One program per operation (links to test-crash, which runs the test its
# name ends with), so that prove -j2 keeps both cores busy; the longest
# first.
CRASH_OPS  := xlusbd-reboot usbctrl-detach destroy-all usb-reconcile-reboot \
              usbdev-attach-autoctrl killat usb-reconcile-replug \
              usbdev-detach-composite usbdev-attach-composite \
              usbdev-attach-keyboard xlusbd-replug xlusbd-death
CRASH_PROGS := $(addprefix $(CRASH_DIR)/bin/crash-,$(CRASH_OPS))
CRASH_READY := $(CRASH_PROGS) $(CRASH_DIR)/bin/destroy-all \
               $(CRASH_DIR)/killat.so $(TEST_PRELOADS) xlusb/xlusb \
               xlusbd/xlusbd

# A preload: built without -fvisibility=hidden (a hidden wrapper
# intercepts nothing), and not linked to libxenstore, which it finds in
# the process it is preloaded into.
$(CRASH_DIR)/killat.so: $(CRASH_DIR)/killat.c
	$(CC) $(PKG_CFLAGS) $(ALL_CFLAGS) -fPIC -shared -o $@ $< -ldl -lpthread

$(CRASH_BIN): $(CRASH_DIR)/test-crash.c $(HARNESS_OBJS) libxlpvusb.a \
              $(wildcard tests/harness/*.h)
	@mkdir -p $(@D)
	$(CC) $(TEST_CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(HARNESS_OBJS) \
	    libxlpvusb.a $(PKG_LIBS) -lpthread

$(CRASH_PROGS): $(CRASH_BIN)
	ln -sf test-crash $@

$(CRASH_DIR)/bin/destroy-all: $(CRASH_DIR)/destroy-all.c libxlpvusb.a \
                              $(GEN_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(ALL_CFLAGS) -o $@ $< libxlpvusb.a \
	    $(PKG_LIBS) -lpthread

# The host is made anew for each crash point, some 670 times: on a tmpfs
# that takes ~25 ms, on a disk ten times as long.  The harness and the
# suite put their scratch dirs in $TMPDIR.
CRASH_TMPDIR ?= $(shell test -d /dev/shm -a -w /dev/shm && echo /dev/shm \
                  || echo $${TMPDIR:-/tmp})

check-crash: $(CRASH_READY)
	TMPDIR=$(CRASH_TMPDIR) prove -j2 --exec tests/run-test $(CRASH_PROGS)

crash-clean:
	rm -rf $(CRASH_DIR)/bin
	rm -f $(CRASH_DIR)/killat.so

.PHONY: check-crash crash-clean
clean: crash-clean
