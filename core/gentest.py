#!/usr/bin/env python3
"""Generates a TAP test of the generated types.

    gentest.py libxl_types.idl <out.c>

For every struct, ROUNDS times: fill one with random values, then
to_json -> from_json -> to_json must give the same text, so must a _copy,
and _dispose twice must be safe and give back an initialised struct.  For
every enumeration: _to_string/_from_string (any case) and _to_json/
_from_json of each value, and refusal of what is not a value.

The random sequence is seeded from TEST_SEED if set, else from the clock;
the seed is printed as a TAP comment so a failure can be replayed.
"""

import sys

import gentypes
import idl
from gentypes import Locals, block, function, raw

PRELUDE = r'''#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define ROUNDS 100

static unsigned long long rng_state;

/* xorshift64*: the same sequence everywhere for a given seed. */
static unsigned long long rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* In [min, max], with the bounds and 0 more often than their share. */
static long long rnd_range(long long min, long long max)
{
    switch (rnd() % 8) {
    case 0:
        return min;
    case 1:
        return max;
    case 2:
        if (min <= 0 && max >= 0)
            return 0;
        return min;
    default:
        return min + (long long)(rnd() % ((unsigned long long)(max - min)
                                          + 1));
    }
}

static bool rnd_bool(void)
{
    return rnd() % 2;
}

/* NULL, "" or pieces chosen to need escaping in JSON, and UTF-8. */
static char *rnd_string(void)
{
    static const char *const pieces[] = {
        "a", "Z", "0", " ", "\"", "\\", "/", "\t", "\n", "\x01", "\x7f",
        "\\u0000", "{", "}", "[", "]", ":", ",", "null", "\xc3\xa9",
        "\xe2\x9c\x93", "\xf0\x9d\x84\x9e", "usb", "3-1.2",
    };
    char buf[256] = "";
    int i, n;

    switch (rnd() % 8) {
    case 0:
        return NULL;
    case 1:
        return strdup("");
    default:
        n = 1 + rnd() % 12;
        for (i = 0; i < n; i++)
            strcat(buf, pieces[rnd() % ARRAY_LEN(pieces)]);
        return strdup(buf);
    }
}

static int rnd_enum(const libxl_enum_string_table *t)
{
    int n = 0;

    while (t[n].s)
        n++;
    return t[rnd() % n].v;
}

/* s with the case of each letter flipped at random (malloc'd). */
static char *rnd_case(const char *s)
{
    char *r = strdup(s);
    char *c;

    for (c = r; *c; c++) {
        if (rnd_bool())
            *c = islower((unsigned char)*c) ? toupper((unsigned char)*c)
                                            : tolower((unsigned char)*c);
    }
    return r;
}
'''


def fill_value(ty, lvalue):
    if isinstance(ty, idl.Struct):
        return ["fill_%s(&%s);" % (raw(ty), lvalue)]
    if isinstance(ty, idl.Enumeration):
        return ["%s = rnd_enum(%s_string_table);" % (lvalue, ty.typename)]
    if ty.kind == "integer":
        return ["%s = rnd_range(%s, %s);" % ((lvalue,) +
                                              gentypes.int_limits(ty))]
    return ["%s = rnd_%s();" % (lvalue, ty.kind)]


def fill_fields(ty, prefix, local):
    lines = []
    for (f, lv) in gentypes.member_fields(ty, prefix):
        if isinstance(f.type, idl.Array):
            local.need("int i;")
            n = prefix + f.type.lenvar
            lines += ["%s = rnd() %% 4;" % n,
                      "%s = %s ? calloc(%s, sizeof(*%s)) : NULL;" %
                      (lv, n, n, lv)]
            lines += block("for (i = 0; i < %s; i++)" % n,
                           gentypes.init_value(f.type.elem_type, lv + "[i]")
                           + fill_value(f.type.elem_type, lv + "[i]"))
        elif isinstance(f.type, idl.KeyedUnion):
            lines += fill_union(ty, f, prefix, local)
        else:
            lines += fill_value(f.type, lv)
    return lines


def fill_union(ty, f, prefix, local):
    """Leaves the key unset (no member) or sets a random member."""
    members = gentypes.union_members(f, prefix)
    lines = ["switch (rnd() %% %d) {" % (len(members) + 1)]
    for (i, (m, mprefix, _)) in enumerate(members):
        lines += ["case %d:" % (i + 1)]
        lines += gentypes.indent(
            ["%s_init_%s(p, %s);" % (ty.typename, f.type.keyvar.name,
                                      m.enumvalue.name)] +
            fill_fields(m, mprefix, local) + ["break;"])
    return lines + ["default:", "    break;", "}"]


def struct_test(ty):
    t = ty.typename
    r = raw(ty)
    local = Locals()
    fill = fill_fields(ty, "p->", local)
    lines = function("static void fill_%s(%s *p)" % (r, t), local, fill)

    local = Locals()
    for decl in ["%s a, b, c;" % t, "char *init_json, *ja, *jb, *jc;",
                 "int round;"]:
        local.need(decl)
    body = ["%s_init(&a);" % t,
            "init_json = %s_to_json(NULL, &a);" % t,
            "ASSERT(init_json);"]
    body += block("for (round = 0; round < ROUNDS; round++)", [
        "%s_init(&a);" % t,
        "fill_%s(&a);" % r,
        "ja = %s_to_json(NULL, &a);" % t,
        "ASSERT(ja);",
        "CHECK_INT_EQ(%s_from_json(NULL, &b, ja), 0);" % t,
        "jb = %s_to_json(NULL, &b);" % t,
        "CHECK_STR_EQ(jb, ja);",
        "%s_copy(NULL, &c, &a);" % t,
        "jc = %s_to_json(NULL, &c);" % t,
        "CHECK_STR_EQ(jc, ja);",
        "free(jb);",
        "free(jc);",
        "%s_dispose(&a);" % t,
        "%s_dispose(&a);" % t,
        "jb = %s_to_json(NULL, &a);" % t,
        "CHECK_STR_EQ(jb, init_json);",
        "%s_dispose(&b);" % t,
        "%s_dispose(&b);" % t,
        "%s_dispose(&c);" % t,
        "free(ja);",
        "free(jb);",
    ])
    body += ["free(init_json);"]
    return lines + function("static void test_%s(void)" % r, local, body)


def enum_test(ty):
    t = ty.typename
    local = Locals()
    for decl in ["const libxl_enum_string_table *v;", "%s e;" % t,
                 "char *s, *json;"]:
        local.need(decl)
    not_a_value = max(v.value for v in ty.values) + 1
    body = block("for (v = %s_string_table; v->s; v++)" % t, [
        "CHECK_STR_EQ(%s_to_string(v->v), v->s);" % t,
        "s = rnd_case(v->s);",
        "CHECK_INT_EQ(%s_from_string(s, &e), 0);" % t,
        "CHECK_INT_EQ(e, v->v);",
        "free(s);",
        "json = %s_to_json(NULL, v->v);" % t,
        "ASSERT(json);",
        "CHECK_INT_EQ(%s_from_json(NULL, &e, json), 0);" % t,
        "CHECK_INT_EQ(e, v->v);",
        "free(json);",
    ])
    body += [
        "CHECK_NULL(%s_to_string((%s)%d));" % (t, t, not_a_value),
        'CHECK(%s_from_string("no such value", &e) != 0);' % t,
        "CHECK(%s_from_string(NULL, &e) != 0);" % t,
        'CHECK(%s_from_json(NULL, &e, "\\"no such value\\"") != 0);' % t,
    ]
    return function("static void test_%s(void)" % raw(ty), local, body)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: gentest.py <idl> <out.c>\n")
        return 2
    (idlpath, outpath) = argv[1:]
    types = idl.parse(idlpath)
    lines = PRELUDE.split("\n")
    table = []
    for ty in types:
        if isinstance(ty, idl.Enumeration):
            lines += enum_test(ty)
            table.append('{ "%s strings", test_%s },' % (ty.typename,
                                                        raw(ty)))
        else:
            lines += struct_test(ty)
            table.append('{ "%s round trips", test_%s },' % (ty.typename,
                                                            raw(ty)))
    lines += ["static const struct test tests[] = {"]
    lines += gentypes.indent(table) + ["};", ""]
    local = Locals()
    local.need('const char *seed = getenv("TEST_SEED");')
    lines += function("int main(int argc, char **argv)", local, [
        "rng_state = seed ? strtoull(seed, NULL, 0)",
        "                 : (unsigned long long)time(NULL) * 1000003u +",
        "                   (unsigned long long)getpid();",
        "if (!rng_state)",
        "    rng_state = 1; /* xorshift stays at 0 */",
        'printf("# TEST_SEED=%llu\\n", rng_state);',
        "fflush(stdout);",
        "return tap_main(argc, argv, tests, ARRAY_LEN(tests));",
    ])
    gentypes.write(outpath, idl.stamp(idlpath, argv[0]), lines, guard=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
