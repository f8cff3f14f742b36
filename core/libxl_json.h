/*
 * libxl_json.h - JSON helpers behind the generated types (gen/
 * _libxl_pvusb_types.c): yajl generation with libxl's conventions, strict
 * parsing of a yajl_tree with a log message naming the field, and the
 * enumeration string tables.  All hidden but libxl__yajl_gen_asciiz.
 *
 * Parse helpers take `where`, the path of the value being parsed
 * ("libxl_domain_usb_config.usbdevs[2].type.hostdev.hostbus"), and on a
 * wrong value log "<where>: expected <what>, got <value>" through the
 * gc's ctx (nothing is logged when the ctx is NULL) and return
 * ERROR_INVAL.
 *
 * SPDX-License-Identifier: LGPL-2.1-only
 */
#ifndef LIBXL_JSON_H
#define LIBXL_JSON_H

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "libxl_internal.h"
#include "_libxl_pvusb_types_json.h"

/*----- generation -----*/

/* A generator that beautifies as libxl's does.  Aborts if out of memory. */
_hidden yajl_gen libxl__yajl_gen_alloc(void);
/* The length of the UTF-8 character str starts with (1 for ASCII, NUL
 * included), or 0 if it is not one: a stray or missing continuation
 * byte, an overlong form, a surrogate, beyond U+10FFFF. */
_hidden size_t libxl__utf8_len(const char *str);
/* libxl__yajl_gen_asciiz (str as a JSON string, or null if str is NULL;
 * bytes of str that are not UTF-8 written as U+FFFD, so the JSON is
 * always valid) is public, as in libxl: _libxl_pvusb_types_json.h. */
/*
 * Ends a _to_json: if s (what generating returned) is ok, returns the
 * text, malloc'd; else logs (ctx may be NULL) and returns NULL.  Frees
 * hand either way.
 */
_hidden char *libxl__json_gen_finish(libxl_ctx *ctx, const char *type,
                                     yajl_gen hand, yajl_gen_status s);

/*----- enumerations -----*/

/* The table's string for e, or NULL. */
_hidden const char *libxl__enum_to_string(const libxl_enum_string_table *t,
                                          int e);
/* Case-insensitive lookup of s (NULL is refused): 0 or ERROR_INVAL. */
_hidden int libxl__enum_from_string(const libxl_enum_string_table *t,
                                    const char *s, int *e);

/*----- parsing -----*/

/*
 * Parses text s (the JSON form of a `type`).  Returns the tree (the
 * caller frees it with yajl_tree_free), or NULL after logging why.
 */
_hidden yajl_val libxl__json_parse(libxl__gc *gc, const char *type,
                                   const char *s);
/* The value of key in object o (the first, if repeated), or NULL if it is
 * absent or null. */
_hidden yajl_val libxl__json_map_get(const yajl_val o, const char *key);

/* Logs that o is not what was expected; returns ERROR_INVAL. */
_hidden int libxl__json_error(libxl__gc *gc, const yajl_val o,
                              const char *where, const char *expected);

/* Each of these parses o strictly; 0, or logged ERROR_INVAL. */
_hidden int libxl__json_check_map(libxl__gc *gc, const yajl_val o,
                                  const char *where);
_hidden int libxl__json_array_len(libxl__gc *gc, const yajl_val o,
                                  const char *where, int *len_r);
_hidden int libxl__json_parse_int(libxl__gc *gc, const yajl_val o,
                                  const char *where, long long min,
                                  long long max, long long *val_r);
_hidden int libxl__json_parse_bool(libxl__gc *gc, const yajl_val o,
                                   const char *where, bool *val_r);
/* A string (malloc'd into *val_r) or null (NULL). */
_hidden int libxl__json_parse_string(libxl__gc *gc, const yajl_val o,
                                     const char *where, char **val_r);
/* One of t's strings, case-insensitively. */
_hidden int libxl__json_parse_enum(libxl__gc *gc, const yajl_val o,
                                   const char *where,
                                   const libxl_enum_string_table *t,
                                   int *val_r);

#endif /* LIBXL_JSON_H */
