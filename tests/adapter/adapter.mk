# The adapter's test programs (tests/test-adapter.c runs them): a caller
# and a layout printer built against Debian's /usr/include/libxl.h only,
# and the same printer against this library's <libxl.h> (the libxenctrl
# stand-in is the harness's xcmock.so, preloaded by tests/run-test).
# Never with our -I flags for the Debian side.

ADAPTER_TEST_FILES := tests/bin/adapter-caller tests/bin/adapter-layout-debian \
                      tests/bin/adapter-layout-ours

check check-valgrind: $(ADAPTER) $(ADAPTER_TEST_FILES)

tests/bin/adapter-caller: tests/adapter/caller.c
	@mkdir -p tests/bin
	$(CC) $(ALL_CFLAGS) -o $@ $< -lxenlight -lxentoollog
tests/bin/adapter-layout-debian: tests/adapter/layout.c
	@mkdir -p tests/bin
	$(CC) $(ALL_CFLAGS) -o $@ $<
tests/bin/adapter-layout-ours: tests/adapter/layout.c $(GEN_HDRS) \
        compat/libxl.h libxl_pvusb.h core/libxl_core.h
	@mkdir -p tests/bin
	$(CC) -Icompat $(CPPFLAGS_ALL) $(ALL_CFLAGS) -o $@ $<
