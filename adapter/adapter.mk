# The PVUSB adapter (adapter/libxl_pvusb_adapter.c says what it is):
# the library's objects in one relocatable object, its twelve entry
# points renamed (adapter/adapter_names.h), linked with the adapter under
# a version script that exports libxenlight's twelve names only.

ADAPTER := adapter/libxlpvusb-adapter.so

all: $(ADAPTER)

adapter/rename.map: adapter/adapter_names.h
	sed -n 's/^#define \(libxl_[a-z_]*\) \(libxl__[a-z_]*\)$$/\1 \2/p' \
	    $< > $@
adapter/exports.map: adapter/adapter_names.h
	{ echo '{ global:'; \
	  sed -n 's/^#define \(libxl_[a-z_]*\) .*/    \1;/p' $<; \
	  echo '  local: *; };'; } > $@

adapter/pvusb.o: $(LIB_OBJS) adapter/rename.map
	$(LD) -r -o $@.tmp $(LIB_OBJS)
	objcopy --redefine-syms=adapter/rename.map $@.tmp $@
	rm -f $@.tmp

adapter/libxl_pvusb_adapter.o: adapter/libxl_pvusb_adapter.c \
        adapter/adapter_names.h $(GEN_HDRS) libxl_pvusb.h core/libxl_core.h
	$(CC) $(CPPFLAGS_ALL) $(LIB_CFLAGS) -c -o $@ $<

$(ADAPTER): adapter/libxl_pvusb_adapter.o adapter/pvusb.o \
            adapter/exports.map
	$(CC) -shared -Wl,--no-undefined \
	    -Wl,--version-script=adapter/exports.map $(LDFLAGS) -o $@ \
	    adapter/libxl_pvusb_adapter.o adapter/pvusb.o $(PKG_LIBS) -lpthread

.PHONY: install-adapter uninstall-adapter clean-adapter
install: install-adapter
install-adapter: $(ADAPTER)
	install -d $(DESTDIR)$(LIBDIR)
	install -m 755 $(ADAPTER) $(DESTDIR)$(LIBDIR)

uninstall: uninstall-adapter
uninstall-adapter:
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(ADAPTER))

clean: clean-adapter
clean-adapter:
	rm -f adapter/*.o adapter/*.map $(ADAPTER)

# tests/e2e carries the adapter into the test dom0
e2e: $(ADAPTER)
