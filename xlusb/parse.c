/*
 * parse.c - strict parsing of xlusb's arguments: numbers, USB ids,
 * key=value words, domains.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xlusb.h"

int parse_number(const char *s, unsigned long min, unsigned long max,
                 unsigned long *val_r)
{
    unsigned long val;
    char *end;
    int base = 10;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    /* strtoul would take spaces, a sign, and "0x" again after "0x". */
    if (!*s || strspn(s, base == 16 ? "0123456789abcdefABCDEF"
                                    : "0123456789") != strlen(s))
        return -1;
    errno = 0;
    val = strtoul(s, &end, base);
    if (errno || *end || val < min || val > max)
        return -1;
    *val_r = val;
    return 0;
}

int int_arg(const char *what, const char *s, int min, int max, int *val_r)
{
    unsigned long val;

    if (!s)
        return 0;
    if (parse_number(s, min, max, &val))
        return usage_error("bad %s '%s': expected a number from %d to %d",
                           what, s, min, max);
    *val_r = (int)val;
    return 0;
}

int parse_usb_id(const char *s, uint16_t *val_r)
{
    unsigned long val;
    size_t n;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    n = strlen(s);
    if (n < 1 || n > 4 || strspn(s, "0123456789abcdefABCDEF") != n)
        return -1;
    val = strtoul(s, NULL, 16);
    *val_r = (uint16_t)val;
    return 0;
}

int parse_keywords(int argc, char **argv, const char *const *keys,
                   int nkeys, const char **vals)
{
    const char *eq;
    size_t keylen;
    int i, k;

    for (k = 0; k < nkeys; k++)
        vals[k] = NULL;
    for (i = 0; i < argc; i++) {
        eq = strchr(argv[i], '=');
        if (!eq)
            return usage_error("expected key=value, not '%s'", argv[i]);
        keylen = eq - argv[i];
        for (k = 0; k < nkeys; k++)
            if (strlen(keys[k]) == keylen &&
                !strncmp(keys[k], argv[i], keylen))
                break;
        if (k == nkeys)
            return usage_error("unknown key in '%s'", argv[i]);
        if (vals[k])
            return usage_error("%s= given twice", keys[k]);
        if (!eq[1])
            return usage_error("no value in '%s'", argv[i]);
        vals[k] = eq + 1;
    }
    return 0;
}

int find_domain(const char *spec, uint32_t *domid_r)
{
    unsigned long domid;
    char *name;

    if (!parse_number(spec, 0, UINT32_MAX, &domid)) {
        /* Numbers are domids, as in xl; the name tells that it exists. */
        name = libxl_domid_to_name(ctx, domid);
        if (!name)
            return fail("no domain with id %lu (see 'xl list')", domid);
        free(name);
        *domid_r = domid;
        return 0;
    }
    if (libxl_name_to_domid(ctx, spec, domid_r))
        return fail("no domain named '%s' (see 'xl list')", spec);
    return 0;
}

int open_domain(const char *spec, uint32_t *domid_r, char **name_r)
{
    if (ctx_open() || find_domain(spec, domid_r))
        return 1;
    *name_r = domain_label(*domid_r);
    return 0;
}

char *domain_label(uint32_t domid)
{
    return domain_label_in(ctx, domid);
}

char *domain_label_in(libxl_ctx *c, uint32_t domid)
{
    char *label = libxl_domid_to_name(c, domid);

    if (!label && asprintf(&label, "%u", domid) < 0) {
        perror("xlusb");
        exit(1);
    }
    return label;
}

/*
 * Local variables:
 * mode: C
 * c-basic-offset: 4
 * indent-tabs-mode: nil
 * End:
 */
