# xlusbd: the daemon, its man page and its systemd unit.  Included by the
# Makefile.

UDEV_CFLAGS := $(shell pkg-config --cflags libudev)
UDEV_LIBS   := $(shell pkg-config --libs libudev)
XLUSBD_MAN  := docs/xlusbd.8
UNITDIR     ?= $(PREFIX)/lib/systemd/system

all: xlusbd/xlusbd $(XLUSBD_MAN)

xlusbd/xlusbd.o: xlusbd/xlusbd.c $(GEN_HDRS) libxl_pvusb.h core/libxl_core.h
	$(CC) $(CPPFLAGS_ALL) $(UDEV_CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

xlusbd/xlusbd: xlusbd/xlusbd.o libxlpvusb.a
	$(CC) $(LDFLAGS) -o $@ $< libxlpvusb.a $(PKG_LIBS) $(UDEV_LIBS) -lpthread

$(XLUSBD_MAN): docs/xlusbd.pod
	pod2man --errors=die --section=8 --center="Xen USB passthrough" \
	    --release="libxl PVUSB $(VERSION)" --name=XLUSBD $< $@

.PHONY: install-xlusbd uninstall-xlusbd clean-xlusbd
install: install-xlusbd
install-xlusbd: xlusbd/xlusbd $(XLUSBD_MAN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(UNITDIR)
	install -m 755 xlusbd/xlusbd $(DESTDIR)$(BINDIR)
	install -m 644 $(XLUSBD_MAN) $(DESTDIR)$(MANDIR)/man8/xlusbd.8
	sed -e 's|@BINDIR@|$(BINDIR)|' xlusbd/xlusbd.service.in \
	    > $(DESTDIR)$(UNITDIR)/xlusbd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/xlusbd.service

uninstall: uninstall-xlusbd
uninstall-xlusbd:
	rm -f $(DESTDIR)$(BINDIR)/xlusbd $(DESTDIR)$(MANDIR)/man8/xlusbd.8 \
	    $(DESTDIR)$(UNITDIR)/xlusbd.service

clean: clean-xlusbd
clean-xlusbd:
	rm -f xlusbd/xlusbd xlusbd/xlusbd.o $(XLUSBD_MAN)
