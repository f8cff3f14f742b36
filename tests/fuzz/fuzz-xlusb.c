/*
 * fuzz-xlusb.c - xlusb's argument parsing: the key=value words of
 * usbctrl-attach, usbdev-attach and usbdev-detach, the DevId of
 * usbctrl-detach, and parse.c's number, USB id and key=value parsers.
 *
 * Linked with xlusb's objects but main.c, whose globals this file
 * defines instead: ctx_open() fails (no xenstore is touched), so each
 * command returns after parsing its words, before anything else.  The
 * commands' parse functions are static; they are reached through the
 * commands' entry points (main_usbdev_attach & co.), as main calls them
 * once it has checked the number of arguments.
 *
 * Input: byte 0 picks what is called; the rest, split at NUL bytes, is
 * argv (as the command gets it: the arguments after the command name).
 *
 * Checked: a command refuses its words with exactly one usage error, or
 * accepts them and goes on to open the context; parse_number,
 * parse_usb_id and parse_keywords agree with the grammar xlusb.h gives
 * them (written here again, another way).
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xlusb.h"
#include "fuzz.h"

#define MAX_ARGS 24

/*----- what main.c defines -----*/

libxl_ctx *ctx;
bool json_output;
bool live_only;
bool dry_run;
static int usage_errors, fails, ctx_opens;

void log_actions(void)
{
}

static void format_message(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static void format_message(const char *fmt, va_list ap)
{
    char buf[512];

    vsnprintf(buf, sizeof(buf), fmt, ap);
}

int usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    format_message(fmt, ap);
    va_end(ap);
    usage_errors++;
    return 1;
}

int fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    format_message(fmt, ap);
    va_end(ap);
    fails++;
    return 1;
}

int ctx_open(void)
{
    ctx_opens++;
    return 1;
}

/* Reached only once ctx_open has succeeded, which it never does here. */
libxl_ctx *ctx_another(void)
{
    ctx_opens++;
    return NULL;
}

/*----- the grammar, again -----*/

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 99;
}

/* Digits of base only, at least one: the value (saturated past
 * ULONG_MAX), or -1 if not such digits. */
static int digits(const char *s, int base, unsigned __int128 *val_r)
{
    unsigned __int128 v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (digit_value(*s) >= base)
            return -1;
        v = v * base + digit_value(*s);
        if (v > ULONG_MAX)
            v = (unsigned __int128)ULONG_MAX + 1;
    }
    *val_r = v;
    return 0;
}

/* "decimal ("008" is 8), or hex after "0x"; no sign, no spaces, nothing
 * after it" */
static int ref_parse_number(const char *s, unsigned long min,
                            unsigned long max, unsigned long *val_r)
{
    unsigned __int128 v;
    int base = 10;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (digits(s, base, &v) || v < min || v > max)
        return -1;
    *val_r = (unsigned long)v;
    return 0;
}

/* "1 to 4 hex digits, optionally after "0x"" */
static int ref_parse_usb_id(const char *s, uint16_t *val_r)
{
    unsigned __int128 v;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    if (strlen(s) > 4 || digits(s, 16, &v))
        return -1;
    *val_r = (uint16_t)v;
    return 0;
}

/*----- the target -----*/

/* The bounds parse_number is called with, and a few more. */
static const unsigned long bounds[8] = {
    0, 1, 31, 127, 255, INT_MAX, UINT32_MAX, ULONG_MAX
};

static void check_parse_number(const char *s, uint8_t b)
{
    unsigned long min = bounds[b & 7], max = bounds[(b >> 3) & 7];
    unsigned long got = 0xdead, want = 0xbeef;
    int r = parse_number(s, min, max, &got);
    int ref = ref_parse_number(s, min, max, &want);

    FUZZ_CHECK(r == ref, "parse_number(\"%s\", %lu, %lu): %d, expected %d",
               s, min, max, r, ref);
    FUZZ_CHECK(r || got == want, "parse_number(\"%s\"): %lu, expected %lu",
               s, got, want);
}

static void check_parse_usb_id(const char *s)
{
    uint16_t got = 0xdead, want = 0xbeef;
    int r = parse_usb_id(s, &got);
    int ref = ref_parse_usb_id(s, &want);

    FUZZ_CHECK(r == ref, "parse_usb_id(\"%s\"): %d, expected %d", s, r, ref);
    FUZZ_CHECK(r || got == want, "parse_usb_id(\"%s\"): %#x, expected %#x",
               s, got, want);
}

static void check_parse_keywords(int argc, char **argv)
{
    static const char *const keys[] = {
        "type", "hostbus", "hostaddr", "busid", "controller", "port", "p",
    };
    const int nkeys = ARRAY_SIZE(keys);
    const char *vals[ARRAY_SIZE(keys)];
    int i, k, r, given = 0;

    r = parse_keywords(argc, argv, keys, nkeys, vals);
    FUZZ_CHECK(r == 0 || r == 1, "parse_keywords: %d", r);
    FUZZ_CHECK(usage_errors == r, "parse_keywords: %d, %d usage errors",
               r, usage_errors);
    if (r)
        return;
    /* Each word is key=value with a known key, given once, a value. */
    for (i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');

        FUZZ_CHECK(eq && eq[1], "accepted '%s'", argv[i]);
        for (k = 0; k < nkeys; k++)
            if (vals[k] == eq + 1)
                break;
        FUZZ_CHECK(k < nkeys, "'%s': no value points into it", argv[i]);
        FUZZ_CHECK(strlen(keys[k]) == (size_t)(eq - argv[i]) &&
                   !strncmp(keys[k], argv[i], eq - argv[i]),
                   "'%s' taken as %s=", argv[i], keys[k]);
    }
    for (k = 0; k < nkeys; k++)
        given += vals[k] != NULL;
    FUZZ_CHECK(given == argc, "%d words, %d values", argc, given);
}

/* A command as main runs it, once it has checked the argument count. */
static void check_command(int (*fn)(int, char **), int min_args,
                          int max_args, int argc, char **argv)
{
    int status;

    if (argc < min_args || (max_args >= 0 && argc > max_args))
        return;                 /* main refuses these itself */
    status = fn(argc, argv);
    FUZZ_CHECK(status == 1, "status %d without a context", status);
    FUZZ_CHECK((usage_errors == 1 && !ctx_opens) ||
               (!usage_errors && ctx_opens == 1),
               "%d usage errors, %d context opened", usage_errors,
               ctx_opens);
    FUZZ_CHECK(!fails, "a failure message without a context");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *argv[MAX_ARGS + 1];
    int argc = 0;
    size_t i, start;
    uint8_t b0;

    if (!size)
        return 0;
    b0 = data[0];
    buf = malloc(size);         /* data[1..] and a final NUL */
    FUZZ_CHECK(buf, "out of memory");
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    for (start = 0, i = 0; i < size; i++) {
        if (buf[i])
            continue;
        if (argc == MAX_ARGS)
            break;
        argv[argc++] = buf + start;
        start = i + 1;
    }
    argv[argc] = NULL;
    usage_errors = fails = ctx_opens = 0;

    /* The counts are main.c's cmd_table's. */
    switch (b0 & 7) {
    case 0:
        check_command(main_usbctrl_attach, 1, -1, argc, argv);
        break;
    case 1:
        check_command(main_usbctrl_detach, 2, 2, argc, argv);
        break;
    case 2:
    case 3:
        check_command(main_usbdev_attach, 2, -1, argc, argv);
        break;
    case 4:
        check_command(main_usbdev_detach, 3, 3, argc, argv);
        break;
    case 5:
        for (i = 0; i < (size_t)argc; i++)
            check_parse_number(argv[i], (uint8_t)((b0 >> 3) ^ (i * 9)));
        break;
    case 6:
        for (i = 0; i < (size_t)argc; i++)
            check_parse_usb_id(argv[i]);
        break;
    case 7:
        check_parse_keywords(argc, argv);
        break;
    }
    free(buf);
    return 0;
}
