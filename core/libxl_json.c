/*
 * libxl_json.c - JSON helpers behind the generated types; see
 * libxl_json.h.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#include <limits.h>
#include <strings.h>

#include "libxl_json.h"

/* How much of a bad string value a log message quotes. */
#define JSON_QUOTE_MAX 64

/*----- generation -----*/

yajl_gen libxl__yajl_gen_alloc(void)
{
    yajl_gen hand = yajl_gen_alloc(NULL);

    if (!hand) {
        fprintf(stderr, "libxl: cannot allocate a JSON generator\n");
        abort();
    }
    yajl_gen_config(hand, yajl_gen_beautify, 1);
    return hand;
}

size_t libxl__utf8_len(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned long cp;
    size_t n, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    /* overlong, a surrogate, or beyond U+10FFFF */
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return n;
}

yajl_gen_status libxl__yajl_gen_asciiz(yajl_gen hand, const char *str)
{
    static const char replacement[] = "\xef\xbf\xbd";     /* U+FFFD */
    yajl_gen_status s;
    const char *p;
    char *fixed, *q;
    size_t n;

    if (!str)
        return yajl_gen_null(hand);
    for (p = str; *p && (n = libxl__utf8_len(p)); p += n)
        ;
    if (!*p)
        return yajl_gen_string(hand, (const unsigned char *)str, strlen(str));
    /* Not UTF-8 (a device's descriptor strings are what it says): each
     * byte that is not part of a character becomes U+FFFD, so that the
     * JSON is valid. */
    fixed = q = malloc(strlen(str) * 3 + 1);
    if (!fixed)
        return yajl_gen_in_error_state;
    for (p = str; *p; p += n) {
        n = libxl__utf8_len(p);
        if (n) {
            memcpy(q, p, n);
            q += n;
        } else {
            memcpy(q, replacement, 3);
            q += 3;
            n = 1;
        }
    }
    s = yajl_gen_string(hand, (const unsigned char *)fixed, q - fixed);
    free(fixed);
    return s;
}

char *libxl__json_gen_finish(libxl_ctx *ctx, const char *type,
                             yajl_gen hand, yajl_gen_status s)
{
    GC_INIT(ctx);
    const unsigned char *buf;
    size_t len;
    char *ret = NULL;

    if (s == yajl_gen_status_ok)
        s = yajl_gen_get_buf(hand, &buf, &len);
    if (s == yajl_gen_status_ok)
        ret = libxl__strdup(NOGC, (const char *)buf);
    else if (ctx)
        LOG(ERROR, "unable to convert %s to JSON: yajl error %d", type, s);
    yajl_gen_free(hand);
    GC_FREE;
    return ret;
}

/*----- enumerations -----*/

const char *libxl__enum_to_string(const libxl_enum_string_table *t, int e)
{
    for (; t->s; t++) {
        if (t->v == e)
            return t->s;
    }
    return NULL;
}

int libxl__enum_from_string(const libxl_enum_string_table *t,
                            const char *s, int *e)
{
    if (!s)
        return ERROR_INVAL;
    for (; t->s; t++) {
        if (!strcasecmp(t->s, s)) {
            *e = t->v;
            return 0;
        }
    }
    return ERROR_INVAL;
}

/*----- parsing -----*/

yajl_val libxl__json_parse(libxl__gc *gc, const char *type, const char *s)
{
    char err[256] = "";
    yajl_val o;

    if (!s) {
        if (CTX)
            LOG(ERROR, "%s: no JSON text", type);
        return NULL;
    }
    /* yajl_complete_parse lets a string left open at the end of the text
     * pass ("{} \"" parses as {}); the newline a string may not hold
     * makes yajl see it. */
    o = yajl_tree_parse(GCSPRINTF("%s\n", s), err, sizeof(err));
    if (!o && CTX) {
        /* yajl goes on with the text and a caret, over several lines */
        err[strcspn(err, "\n")] = '\0';
        LOG(ERROR, "%s: invalid JSON: %s", type, err);
    }
    return o;
}

yajl_val libxl__json_map_get(const yajl_val o, const char *key)
{
    size_t i;

    /* As libxl: null is an absent member (libxl writes null for an
     * enumeration value it has no name for, and reads it back as the
     * default). */
    for (i = 0; i < o->u.object.len; i++) {
        if (!strcmp(o->u.object.keys[i], key))
            return YAJL_IS_NULL(o->u.object.values[i]) ? NULL
                                                       : o->u.object.values[i];
    }
    return NULL;
}

/* o, as a log message shows it. */
static const char *json_describe(libxl__gc *gc, const yajl_val o)
{
    switch (o->type) {
    case yajl_t_string:
        return GCSPRINTF("\"%.*s\"%s", JSON_QUOTE_MAX, o->u.string,
                         strlen(o->u.string) > JSON_QUOTE_MAX ? "..." : "");
    case yajl_t_number:
        return o->u.number.r;
    case yajl_t_object:
        return "an object";
    case yajl_t_array:
        return "an array";
    case yajl_t_true:
        return "true";
    case yajl_t_false:
        return "false";
    default:
        return "null";
    }
}

int libxl__json_error(libxl__gc *gc, const yajl_val o, const char *where,
                      const char *expected)
{
    if (CTX)
        LOG(ERROR, "%s: expected %s, got %s", where, expected,
            json_describe(gc, o));
    return ERROR_INVAL;
}

int libxl__json_check_map(libxl__gc *gc, const yajl_val o,
                          const char *where)
{
    if (!YAJL_IS_OBJECT(o))
        return libxl__json_error(gc, o, where, "an object");
    return 0;
}

int libxl__json_array_len(libxl__gc *gc, const yajl_val o,
                          const char *where, int *len_r)
{
    if (!YAJL_IS_ARRAY(o))
        return libxl__json_error(gc, o, where, "an array");
    if (o->u.array.len > INT_MAX)
        return libxl__json_error(gc, o, where, "a shorter array");
    *len_r = o->u.array.len;
    return 0;
}

int libxl__json_parse_int(libxl__gc *gc, const yajl_val o,
                          const char *where, long long min, long long max,
                          long long *val_r)
{
    if (!YAJL_IS_INTEGER(o) || YAJL_GET_INTEGER(o) < min ||
        YAJL_GET_INTEGER(o) > max)
        return libxl__json_error(gc, o, where,
                   GCSPRINTF("an integer in [%lld, %lld]", min, max));
    *val_r = YAJL_GET_INTEGER(o);
    return 0;
}

int libxl__json_parse_bool(libxl__gc *gc, const yajl_val o,
                           const char *where, bool *val_r)
{
    if (!YAJL_IS_TRUE(o) && !YAJL_IS_FALSE(o))
        return libxl__json_error(gc, o, where, "true or false");
    *val_r = YAJL_IS_TRUE(o);
    return 0;
}

int libxl__json_parse_string(libxl__gc *gc, const yajl_val o,
                             const char *where, char **val_r)
{
    if (YAJL_IS_NULL(o)) {
        *val_r = NULL;
        return 0;
    }
    if (!YAJL_IS_STRING(o))
        return libxl__json_error(gc, o, where, "a string or null");
    *val_r = libxl__strdup(NOGC, o->u.string);
    return 0;
}

int libxl__json_parse_enum(libxl__gc *gc, const yajl_val o,
                           const char *where,
                           const libxl_enum_string_table *t, int *val_r)
{
    const char *expected;

    if (YAJL_IS_STRING(o) && !libxl__enum_from_string(t, o->u.string, val_r))
        return 0;
    expected = GCSPRINTF("one of \"%s\"", t->s);
    for (t++; t->s; t++)
        expected = GCSPRINTF("%s, \"%s\"", expected, t->s);
    return libxl__json_error(gc, o, where, expected);
}
