# libxl PVUSB - USB passthrough for Xen guests.  Plain GNU make.

PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include/xlpvusb
BINDIR     ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
COMPLDIR   ?= $(PREFIX)/share/bash-completion/completions
DESTDIR    ?=

MAJOR   := 1
VERSION := 1.0.0
SONAME  := libxlpvusb.so.$(MAJOR)

PKGS    := xenstore xencontrol xentoollog yajl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wmissing-declarations -Wshadow -Wformat-nonliteral
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS)
CPPFLAGS_ALL = -D_GNU_SOURCE -I. -Icore -Igen $(PKG_CFLAGS) $(CPPFLAGS)
LIB_CFLAGS = $(ALL_CFLAGS) -fPIC -fvisibility=hidden
PYTHON  ?= python3

GEN_HDRS := gen/_libxl_pvusb_types.h gen/_libxl_pvusb_types_json.h \
            gen/_libxl_pvusb_types_internal.h
GEN_SRCS := gen/_libxl_pvusb_types.c
CORE_SRCS := $(wildcard core/*.c)
LIB_SRCS := libxl_pvusb.c libxl_pvusb_host.c libxl_pvusb_decl.c $(CORE_SRCS) $(GEN_SRCS)
LIB_OBJS := $(patsubst %.c,%.o,$(LIB_SRCS))
PUB_HDRS := libxl_pvusb.h core/libxl_core.h gen/_libxl_pvusb_types.h \
            gen/_libxl_pvusb_types_json.h compat/libxl.h compat/libxl_utils.h

CLI_SRCS := $(wildcard xlusb/*.c)
CLI_OBJS := $(patsubst %.c,%.o,$(CLI_SRCS))

.PHONY: all check check-valgrind check-asan bench debs demo e2e install \
        uninstall clean
all: libxlpvusb.so libxlpvusb.a xlusb/xlusb

# ---- generated types -------------------------------------------------
GEN_DEPS := libxl_types.idl core/idl.py core/gentypes.py
$(GEN_HDRS) $(GEN_SRCS) &: $(GEN_DEPS)
	@mkdir -p gen
	$(PYTHON) core/gentypes.py libxl_types.idl gen

# ---- the library -----------------------------------------------------
$(LIB_OBJS): %.o: %.c $(GEN_HDRS) $(wildcard core/*.h) libxl_pvusb.h \
             libxl_pvusb_internal.h libxl_osdeps.h
	$(CC) $(CPPFLAGS_ALL) $(LIB_CFLAGS) -c -o $@ $<

libxlpvusb.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined $(LDFLAGS) \
	    -o $@.$(VERSION) $^ $(PKG_LIBS) -lpthread
	ln -sf $@.$(VERSION) $(SONAME)
	ln -sf $(SONAME) $@

libxlpvusb.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

# ---- the command -----------------------------------------------------
$(CLI_OBJS): %.o: %.c $(GEN_HDRS) libxl_pvusb.h core/libxl_core.h \
             $(wildcard xlusb/*.h)
	$(CC) $(CPPFLAGS_ALL) $(ALL_CFLAGS) -c -o $@ $<

xlusb/xlusb: $(CLI_OBJS) libxlpvusb.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) libxlpvusb.a $(PKG_LIBS) -lpthread

# ---- tests -----------------------------------------------------------
include tests/tests.mk
include tests/bench/bench.mk
include tests/crash/crash.mk
include tests/race/race.mk
include xlusb/xlusb.mk
include xlusbd/xlusbd.mk
include adapter/adapter.mk
include tests/adapter/adapter.mk
include tests/fuzz/fuzz.mk

# ---- Debian packages (debian/), built in a copy of the tree into -------
# build/deb/ and checked by lintian; kept while the tree is unchanged
# (scripts/build-debs.sh).
debs:
	scripts/build-debs.sh

# ---- on a real Xen (tests/e2e; needs root, QEMU, debootstrap) --------
# dom0 runs the scenario on the packages, installed there with dpkg -i.
e2e: debs
	tests/e2e/run.sh
demo: debs
	tests/e2e/demo.sh

# ---- install ---------------------------------------------------------
install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(BINDIR)
	install -m 644 $(PUB_HDRS) $(DESTDIR)$(INCLUDEDIR)
	install -m 755 libxlpvusb.so.$(VERSION) $(DESTDIR)$(LIBDIR)
	ln -sf libxlpvusb.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libxlpvusb.so
	install -m 644 libxlpvusb.a $(DESTDIR)$(LIBDIR)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    libxlpvusb.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/libxlpvusb.pc
	install -m 755 xlusb/xlusb $(DESTDIR)$(BINDIR)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/,$(notdir $(PUB_HDRS)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)
	rm -f $(DESTDIR)$(LIBDIR)/libxlpvusb.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libxlpvusb.so \
	    $(DESTDIR)$(LIBDIR)/libxlpvusb.a \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/libxlpvusb.pc \
	    $(DESTDIR)$(BINDIR)/xlusb

clean: tests-clean
	rm -rf gen build/deb
	rm -f $(LIB_OBJS) $(CLI_OBJS) libxlpvusb.so* libxlpvusb.a xlusb/xlusb
