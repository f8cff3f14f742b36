/*
 * layout.c - the layout of every type the PVUSB adapter passes between a
 * caller built for Debian's libxenlight and this library: built twice,
 * against /usr/include/libxl.h and against this library's <libxl.h>
 * (compat/libxl.h); test-adapter checks that both print the same.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stddef.h>
#include <stdio.h>
#include <libxl.h>

#define TYPE(t) printf("%s size %zu align %zu\n", #t, sizeof(t), \
                       _Alignof(t))
#define FIELD(t, f) printf("%s.%s offset %zu size %zu\n", #t, #f, \
                           offsetof(t, f), sizeof(((t *)0)->f))
#define VALUE(v) printf("%s = %lld\n", #v, (long long)(v))

int main(void)
{
    TYPE(libxl_device_usbctrl);
    FIELD(libxl_device_usbctrl, type);
    FIELD(libxl_device_usbctrl, devid);
    FIELD(libxl_device_usbctrl, version);
    FIELD(libxl_device_usbctrl, ports);
    FIELD(libxl_device_usbctrl, backend_domid);
    FIELD(libxl_device_usbctrl, backend_domname);
    TYPE(libxl_device_usbdev);
    FIELD(libxl_device_usbdev, ctrl);
    FIELD(libxl_device_usbdev, port);
    FIELD(libxl_device_usbdev, type);
    FIELD(libxl_device_usbdev, u);
    FIELD(libxl_device_usbdev, u.hostdev.hostbus);
    FIELD(libxl_device_usbdev, u.hostdev.hostaddr);
    TYPE(libxl_usbctrlinfo);
    FIELD(libxl_usbctrlinfo, type);
    FIELD(libxl_usbctrlinfo, devid);
    FIELD(libxl_usbctrlinfo, version);
    FIELD(libxl_usbctrlinfo, ports);
    FIELD(libxl_usbctrlinfo, backend);
    FIELD(libxl_usbctrlinfo, backend_id);
    FIELD(libxl_usbctrlinfo, frontend);
    FIELD(libxl_usbctrlinfo, frontend_id);
    FIELD(libxl_usbctrlinfo, state);
    FIELD(libxl_usbctrlinfo, evtch);
    FIELD(libxl_usbctrlinfo, ref_urb);
    FIELD(libxl_usbctrlinfo, ref_conn);
    TYPE(libxl_asyncop_how);
    FIELD(libxl_asyncop_how, callback);
    FIELD(libxl_asyncop_how, u.for_event);
    FIELD(libxl_asyncop_how, u.for_callback);
    TYPE(libxl_usbctrl_type);
    VALUE(LIBXL_USBCTRL_TYPE_AUTO);
    VALUE(LIBXL_USBCTRL_TYPE_PV);
    VALUE(LIBXL_USBCTRL_TYPE_DEVICEMODEL);
    VALUE(LIBXL_USBCTRL_TYPE_QUSB);
    TYPE(libxl_usbdev_type);
    VALUE(LIBXL_USBDEV_TYPE_HOSTDEV);
    TYPE(libxl_devid);
    TYPE(libxl_domid);
    TYPE(libxl_ev_user);
    VALUE(LIBXL_HAVE_PVUSB);
    VALUE(ERROR_NONSPECIFIC);
    VALUE(ERROR_VERSION);
    VALUE(ERROR_FAIL);
    VALUE(ERROR_NI);
    VALUE(ERROR_NOMEM);
    VALUE(ERROR_INVAL);
    VALUE(ERROR_BADFAIL);
    VALUE(ERROR_GUEST_TIMEDOUT);
    VALUE(ERROR_TIMEDOUT);
    VALUE(ERROR_NOPARAVIRT);
    VALUE(ERROR_NOT_READY);
    VALUE(ERROR_OSEVENT_REG_FAIL);
    VALUE(ERROR_BUFFERFULL);
    VALUE(ERROR_UNKNOWN_CHILD);
    VALUE(ERROR_LOCK_FAIL);
    VALUE(ERROR_JSON_CONFIG_EMPTY);
    VALUE(ERROR_DEVICE_EXISTS);
    VALUE(ERROR_CHECKPOINT_DEVOPS_DOES_NOT_MATCH);
    VALUE(ERROR_CHECKPOINT_DEVICE_NOT_SUPPORTED);
    VALUE(ERROR_VNUMA_CONFIG_INVALID);
    VALUE(ERROR_DOMAIN_NOTFOUND);
    VALUE(ERROR_ABORTED);
    VALUE(ERROR_NOTFOUND);
    VALUE(ERROR_DOMAIN_DESTROYED);
    VALUE(ERROR_FEATURE_REMOVED);
    VALUE(ERROR_PROTOCOL_ERROR_QMP);
    VALUE(ERROR_UNKNOWN_QMP_ERROR);
    VALUE(ERROR_QMP_GENERIC_ERROR);
    VALUE(ERROR_QMP_COMMAND_NOT_FOUND);
    VALUE(ERROR_QMP_DEVICE_NOT_ACTIVE);
    VALUE(ERROR_QMP_DEVICE_NOT_FOUND);
    VALUE(ERROR_QEMU_API);
    return 0;
}
