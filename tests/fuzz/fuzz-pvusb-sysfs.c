/*
 * fuzz-pvusb-sysfs.c - two parsers of the host layer, libxl_pvusb_host.c:
 * libxl__usbhost_busid_is_valid (every busid read back from xenstore goes
 * through it before it is used in a sysfs path) and sysfs_read_attr_int
 * (static there: the numbers the kernel shows in
 * /sys/bus/usb/devices/<busid>/<attr>).
 *
 * The file is included, not linked, to reach them without changing it;
 * if they are renamed, rename them here.  The attribute is a real file in
 * a temp root reached through the test suite's fake sysfs
 * (tests/harness/sysfsmock.so, preloaded by tests/fuzz/run.sh: the code
 * opens /sys/bus/usb/devices/1-1/<attr> as always).
 *
 * Byte 0: bit 0 clear, the rest (cut at a NUL) is a busid; set, the rest
 * is the attribute file's content, read with base 16 (bit 1) or 10, up
 * to 255, 0xffff, LONG_MAX or 0 (bits 2-3), and with bit 4 the file is
 * absent.
 *
 * Checked against the grammar, written here another way (regular
 * expressions): a busid is "<bus>-<port>[.<port>]...", numbers without a
 * leading zero, fewer than 32 characters; an attribute is its first line
 * (of the first 255 bytes), all digits of its base (hex may start with
 * 0x), within [0, max]; an absent file is ERROR_NOTFOUND.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include "libxl_pvusb_host.c"  /* the top dir is on the include path */

#include <dlfcn.h>
#include <regex.h>

#include "fuzz.h"
#include "sysfsmock.h"

#define BUSID "1-1"
#define DEV_DIR "/sys/bus/usb/devices/1-1"   /* of BUSID */
#define ATTR "fuzzattr"
#define LINE_MAX_READ 255   /* what sysfs_read_line reads */

static char root[PATH_MAX], attr_path[PATH_MAX + 64];
static regex_t busid_re, dec_re, hex_re;

static void cleanup(void)
{
    char path[PATH_MAX + 64];
    static const char *const dirs[] = {
        DEV_DIR, "/sys/bus/usb/devices",
        "/sys/bus/usb", "/sys/bus", "/sys", "",
    };
    size_t i;

    unlink(attr_path);
    for (i = 0; i < ARRAY_SIZE(dirs); i++) {
        snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
        rmdir(path);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const dirs[] = {
        "/sys", "/sys/bus", "/sys/bus/usb", "/sys/bus/usb/devices",
        DEV_DIR,
    };
    const char *tmp = getenv("TMPDIR");
    char tmpl[PATH_MAX], path[PATH_MAX + 64];
    size_t i;

    (void)argc;
    (void)argv;
    if (!dlsym(RTLD_DEFAULT, "sysfsmock_bind")) {
        fprintf(stderr, "fuzz-pvusb-sysfs: run it with LD_PRELOAD="
                "tests/harness/sysfsmock.so (tests/fuzz/run.sh does)\n");
        exit(1);
    }
    snprintf(tmpl, sizeof(tmpl), "%s/pvusb-fuzz.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(tmpl) && realpath(tmpl, root), "%s: %s", tmpl,
               strerror(errno));
    atexit(cleanup);
    for (i = 0; i < ARRAY_SIZE(dirs); i++) {
        snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
        FUZZ_CHECK(!mkdir(path, 0755), "mkdir %s: %s", path,
                   strerror(errno));
    }
    snprintf(attr_path, sizeof(attr_path),
             "%s" DEV_DIR "/" ATTR, root);
    setenv(SYSFSMOCK_ROOT_ENV, root, 1);

    FUZZ_CHECK(!regcomp(&busid_re, "^(0|[1-9][0-9]*)-(0|[1-9][0-9]*)"
                        "([.](0|[1-9][0-9]*))*$", REG_EXTENDED | REG_NOSUB),
               "regcomp");
    FUZZ_CHECK(!regcomp(&dec_re, "^[0-9]+$", REG_EXTENDED | REG_NOSUB),
               "regcomp");
    FUZZ_CHECK(!regcomp(&hex_re, "^(0[xX])?[0-9a-fA-F]+$",
                        REG_EXTENDED | REG_NOSUB), "regcomp");
    return 0;
}

static void check_busid(const char *busid)
{
    bool want = !regexec(&busid_re, busid, 0, NULL, 0) &&
                strlen(busid) < 32;

    FUZZ_CHECK(libxl__usbhost_busid_is_valid(busid) == want,
               "libxl__usbhost_busid_is_valid(\"%s\") is %d", busid, !want);
}

/* The value of the digits of s in base, saturated at LONG_MAX + 1. */
static unsigned long long ref_value(const char *s, int base)
{
    unsigned __int128 v = 0;

    if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    for (; *s; s++) {
        v = v * base + (isdigit((unsigned char)*s) ? *s - '0' :
                        tolower((unsigned char)*s) - 'a' + 10);
        if (v > (unsigned long long)LONG_MAX)
            v = (unsigned long long)LONG_MAX + 1;
    }
    return (unsigned long long)v;
}

static void check_attr(const uint8_t *data, size_t size, uint8_t b0)
{
    static const long maxes[4] = { 255, 0xffff, LONG_MAX, 0 };
    int base = b0 & 2 ? 16 : 10;
    long max = maxes[(b0 >> 2) & 3], val = -12345;
    bool absent = b0 & 16;
    char line[LINE_MAX_READ + 1];
    size_t n = size < LINE_MAX_READ ? size : LINE_MAX_READ;
    bool want_ok;
    int fd, rc;
    GC_INIT(fuzz_ctx());

    unlink(attr_path);
    if (!absent) {
        fd = open(attr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        FUZZ_CHECK(fd >= 0, "%s: %s", attr_path, strerror(errno));
        FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "write: %s",
                   strerror(errno));
        close(fd);
    }

    rc = sysfs_read_attr_int(gc, BUSID, ATTR, base, max, &val);

    if (absent) {
        FUZZ_CHECK(rc == ERROR_NOTFOUND, "absent: %d", rc);
        GC_FREE;
        return;
    }
    memcpy(line, data, n);
    line[n] = '\0';
    line[strcspn(line, "\n")] = '\0';
    want_ok = !regexec(base == 16 ? &hex_re : &dec_re, line, 0, NULL, 0) &&
              ref_value(line, base) <= (unsigned long long)max;
    FUZZ_CHECK(rc == (want_ok ? 0 : ERROR_FAIL), "\"%s\" base %d max %ld: "
               "%d", line, base, max, rc);
    if (want_ok)
        FUZZ_CHECK((unsigned long long)val == ref_value(line, base),
                   "\"%s\" base %d: %ld", line, base, val);
    GC_FREE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (!size)
        return 0;
    if (data[0] & 1) {
        check_attr(data + 1, size - 1, data[0]);
        return 0;
    }
    s = fuzz_strdup(data + 1, size - 1);
    check_busid(s);
    free(s);
    return 0;
}
