/*
 * demo.c - `make demo-fakehost`: tests/demo.sh, run on the test harness's
 * fake host: a private real xenstored with a pv guest web01 (domain 1), a fake
 * /sys/bus/usb with a keyboard (1-1) and a USB stick (1-2), and the
 * simulated backend.  One TAP test, so that the harness tears it all
 * down however the script ends.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <stdlib.h>

#include "harness.h"

static void demo(void)
{
    char statedir[] = "/tmp/xlusb-demo.XXXXXX";
    char rm[64];

    xs_start();
    fakedom_create(1, "web01", "pv");
    sysfs_setup("base");
    sysfs_setup("keyboard");
    sysfs_setup("stick");
    simbackend_start(false);
    ASSERT(mkdtemp(statedir));
    setenv("LIBXL_PVUSB_STATE_DIR", statedir, 1);

    fflush(NULL);
    CHECK_INT_EQ(system("sh " TEST_TOPDIR "/tests/demo.sh"), 0);
    snprintf(rm, sizeof(rm), "rm -rf %s", statedir);
    CHECK_INT_EQ(system(rm), 0);
}

static const struct test tests[] = {
    { "demo: xlusb on a fake host", demo },
};

int main(int argc, char **argv)
{
    return tap_main(argc, argv, tests, ARRAY_LEN(tests));
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
