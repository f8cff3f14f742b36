# xlusb's man page, bash completion and `make demo-fakehost`.  Included by
# the Makefile after tests/tests.mk (it uses TEST_PRELOADS).

XLUSB_MAN := docs/xlusb.1

all: $(XLUSB_MAN)

$(XLUSB_MAN): docs/xlusb.pod
	pod2man --errors=die --section=1 --center="Xen USB passthrough" \
	    --release="libxl PVUSB $(VERSION)" --name=XLUSB $< $@

# tests/bin/demo is built by tests.mk's tests/bin/% rule from tests/demo.c.
# The same commands on the test harness's private xenstored and fake host:
# no Xen, no root.
.PHONY: demo-fakehost
demo-fakehost: tests/bin/demo $(TEST_PRELOADS) xlusb/xlusb
	tests/run-test tests/bin/demo

.PHONY: install-xlusb uninstall-xlusb clean-xlusb
install: install-xlusb
install-xlusb: $(XLUSB_MAN)
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(COMPLDIR)
	install -m 644 $(XLUSB_MAN) $(DESTDIR)$(MANDIR)/man1/xlusb.1
	install -m 644 docs/xlusb.bash-completion $(DESTDIR)$(COMPLDIR)/xlusb

uninstall: uninstall-xlusb
uninstall-xlusb:
	rm -f $(DESTDIR)$(MANDIR)/man1/xlusb.1 $(DESTDIR)$(COMPLDIR)/xlusb

clean: clean-xlusb
clean-xlusb:
	rm -f $(XLUSB_MAN)
