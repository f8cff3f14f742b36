# Fuzzing (`make fuzz`): libFuzzer targets, tests/fuzz/fuzz-*.c, built
# with clang (ASan + UBSan) straight from the sources into tests/fuzz/bin
# with objects of their own, so the gcc build in the tree is untouched;
# run by tests/fuzz/run.sh for FUZZ_SECONDS each, from a copy of their
# seed corpus (tests/fuzz/corpus/<target>/).  Included by the Makefile
# after tests/tests.mk (the sysfs target preloads its sysfsmock.so).

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_BIN     := tests/fuzz/bin
FUZZ_OBJ     := $(FUZZ_BIN)/obj
# -fno-sanitize-recover: a UBSan finding aborts, so libFuzzer keeps the
# input, as it does for ASan's.
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=gnu11 $(WARN) -g -O1 -fno-omit-frame-pointer \
                $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_CPPFLAGS = $(CPPFLAGS_ALL) -Itests/fuzz -Itests/harness -Ixlusb

# <target>: the type whose _from_json a json-<target> fuzzes
FUZZ_JSON := usb-config:domain_usb_config usbctrl:device_usbctrl \
             usbdev:device_usbdev usb-hostdev:usb_hostdev
FUZZ_TARGETS := $(foreach j,$(FUZZ_JSON),json-$(firstword $(subst :, ,$(j)))) \
                xlusb-args qmp pvusb-sysfs
FUZZ_BINS := $(addprefix $(FUZZ_BIN)/,$(FUZZ_TARGETS))

FUZZ_CORE_OBJS := $(patsubst %.c,$(FUZZ_OBJ)/%.o,$(CORE_SRCS) $(GEN_SRCS) \
                    tests/fuzz/fuzz.c)
FUZZ_PVUSB_OBJ := $(FUZZ_OBJ)/libxl_pvusb.o $(FUZZ_OBJ)/libxl_pvusb_host.o \
                  $(FUZZ_OBJ)/libxl_pvusb_decl.o
FUZZ_CLI_OBJS  := $(patsubst %.c,$(FUZZ_OBJ)/%.o,\
                    $(filter-out xlusb/main.c,$(CLI_SRCS)))
FUZZ_HDRS := $(GEN_HDRS) $(wildcard core/*.h) libxl_pvusb.h \
             libxl_pvusb_internal.h libxl_osdeps.h \
             $(wildcard xlusb/*.h) tests/fuzz/fuzz.h tests/harness/sysfsmock.h
FUZZ_LIBS := $(PKG_LIBS) -lpthread

.PHONY: fuzz fuzz-build fuzz-clean
fuzz: fuzz-build tests/harness/sysfsmock.so
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) \
	    tests/fuzz/run.sh $(FUZZ_TARGETS)
fuzz-build: $(FUZZ_BINS)

$(FUZZ_OBJ)/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

# One json-* program per type, from one source.
define fuzz_json_rule
$(FUZZ_BIN)/json-$(1): tests/fuzz/fuzz-json.c $(FUZZ_CORE_OBJS) \
                       $(FUZZ_PVUSB_OBJ) $(FUZZ_HDRS)
	$$(FUZZ_CC) $$(FUZZ_CPPFLAGS) $$(FUZZ_CFLAGS) -DFUZZ_TYPE=$(2) \
	    -fsanitize=fuzzer -o $$@ $$< $(FUZZ_CORE_OBJS) $(FUZZ_PVUSB_OBJ) \
	    $$(FUZZ_LIBS)
endef
$(foreach j,$(FUZZ_JSON),$(eval $(call fuzz_json_rule,$(firstword \
    $(subst :, ,$(j))),$(lastword $(subst :, ,$(j))))))

$(FUZZ_BIN)/qmp: tests/fuzz/fuzz-qmp.c $(FUZZ_CORE_OBJS) $(FUZZ_PVUSB_OBJ) \
                 $(FUZZ_HDRS)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_CORE_OBJS) $(FUZZ_PVUSB_OBJ) $(FUZZ_LIBS)

$(FUZZ_BIN)/xlusb-args: tests/fuzz/fuzz-xlusb.c $(FUZZ_CLI_OBJS) \
                        $(FUZZ_CORE_OBJS) $(FUZZ_PVUSB_OBJ) $(FUZZ_HDRS)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_CLI_OBJS) $(FUZZ_CORE_OBJS) $(FUZZ_PVUSB_OBJ) $(FUZZ_LIBS)

# libxl_pvusb_host.c is #included by the target, so not linked.
$(FUZZ_BIN)/pvusb-sysfs: tests/fuzz/fuzz-pvusb-sysfs.c libxl_pvusb_host.c \
                         $(FUZZ_CORE_OBJS) $(FUZZ_HDRS)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_CORE_OBJS) $(FUZZ_LIBS) -ldl

clean: fuzz-clean
fuzz-clean:
	rm -rf $(FUZZ_BIN)
