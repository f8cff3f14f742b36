/*
 * host.c - the host's USB devices, as the library lists them.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdlib.h>
#include <string.h>

#include "xlusb.h"

void hostdevs_get(struct hostdevs *h)
{
    h->dev = libxl_usb_hostdev_list(ctx, &h->num);
}

void hostdevs_free(struct hostdevs *h)
{
    libxl_usb_hostdev_list_free(h->dev, h->num);
    h->dev = NULL;
    h->num = 0;
}

bool hostdev_is_assigned(const libxl_usb_hostdev *dev)
{
    return dev->domid >= 0;
}

int hostdev_owner_error(const libxl_usb_hostdev *dev)
{
    char *name = domain_label(dev->domid);

    fail("device %s is already assigned to domain %s (controller %d"
         " port %d); to take it back: xlusb usbdev-detach %s %d %d",
         dev->busid, name, dev->ctrl, dev->port, name, dev->ctrl,
         dev->port);
    free(name);
    return 1;
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
