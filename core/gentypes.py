#!/usr/bin/env python3
"""Generates the C of the IDL's types.

    gentypes.py libxl_types.idl <outdir>

writes, into outdir, one file per emitter:
  _libxl_pvusb_types.h           the types and their public functions
  _libxl_pvusb_types_json.h      the public _gen_json functions
  _libxl_pvusb_types_internal.h  the hidden libxl__<name>_parse_json
  _libxl_pvusb_types.c           all of their implementations
The C API and the JSON form are libxl's; docs/idl.md describes them.
"""

import os
import sys

import idl

CHECK_S = "if (s != yajl_gen_status_ok) goto out;"
CHECK_RC = "if (rc) return rc;"


def indent(lines, n=1):
    return [("    " * n + l) if l else l for l in lines]


def block(head, body):
    return [head + " {"] + indent(body) + ["}"]


class Locals(object):
    """The local variables a generated function turns out to need."""

    def __init__(self):
        self.decls = []

    def need(self, decl):
        if decl not in self.decls:
            self.decls.append(decl)

    def lines(self):
        return self.decls + ([""] if self.decls else [])


def wrap(line, width=80):
    """Splits a long line after commas outside strings, continuing under
    the first open parenthesis or brace (or 8 columns in, if that is too
    far)."""
    opener = line.find("(") + 1 or line.find("{ ") + 2
    if len(line) <= width or opener < 1:
        return [line]
    lead = len(line) - len(line.lstrip())
    col = opener
    if col > width // 2:
        col = lead + 8
    pieces, start, quoted = [], 0, False
    for (i, c) in enumerate(line):
        if c == '"' and line[i - 1] != "\\":
            quoted = not quoted
        elif c == "," and not quoted and line[i + 1:i + 2] == " ":
            pieces.append(line[start:i + 1])
            start = i + 2
    pieces.append(line[start:])
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines.append(" " * col + piece)
    return lines


def wrapped(lines):
    return [w for l in lines for w in wrap(l)]


def function(proto, local, body):
    """A C function; body lines "label:" stay at the left margin."""
    inner = [l if l.endswith(":") and " " not in l else "    " + l
             if l else l for l in local.lines() + body]
    return wrapped([proto, "{"] + inner + ["}", ""])


def member_fields(ty, prefix):
    """(field, C expression) for each field of struct ty at prefix."""
    return [(f, prefix + f.name) for f in ty.fields]


def union_members(f, prefix):
    """(member struct, its C prefix, its JSON key) for KeyedUnion field f."""
    return [(m, "%s%s.%s." % (prefix, f.name, m.member),
             "%s.%s" % (f.type.keyvar.name, m.member))
            for m in f.type.members]


def keyvar(f, prefix):
    return prefix + f.type.keyvar.name


def raw(ty):
    return ty.typename[len(idl.NAMESPACE):]


def int_limits(ty):
    """The C range of integer type ty, as limits.h/stdint.h name it."""
    if ty.signed:
        if ty.bits != 32:
            raise ValueError("%s: signed integers are int" % ty.typename)
        return ("INT_MIN", "INT_MAX")
    return ("0", "UINT%d_MAX" % ty.bits)


#----- the types header -----

def c_decl(ty, name):
    if isinstance(ty, idl.Array):
        return ["int %s;" % ty.lenvar, "%s *%s;" % (ty.elem_type.typename,
                                                     name)]
    if isinstance(ty, idl.KeyedUnion):
        members = []
        for m in ty.members:
            members += block("struct", c_struct_fields(m))
            members[-1] += " %s;" % m.member
        return (c_decl(ty.keyvar.type, ty.keyvar.name) +
                block("union", members)[:-1] + ["} %s;" % name])
    if ty.typename.endswith("*"):
        return ["%s%s;" % (ty.typename, name)]
    return ["%s %s;" % (ty.typename, name)]


def c_struct_fields(ty):
    lines = []
    for f in ty.fields:
        lines += c_decl(f.type, f.name)
    return lines


DIR_COMMENT = {
    idl.DIR_IN: "/* Passed to the library. */",
    idl.DIR_OUT: "/* Filled in by the library. */",
}


def header_enum(ty):
    t = ty.typename
    values = ["%s = %d," % (v.name, v.value) for v in ty.values]
    return (["typedef enum %s {" % t] + indent(values) + ["} %s;" % t] + [
        "char *%s_to_json(libxl_ctx *ctx, %s p);" % (t, t),
        "int %s_from_json(libxl_ctx *ctx, %s *p, const char *s);" % (t, t),
        "const char *%s_to_string(%s p);" % (t, t),
        "int %s_from_string(const char *s, %s *e);" % (t, t),
        "extern libxl_enum_string_table %s_string_table[];" % t,
    ])


def header_struct(ty):
    t = ty.typename
    lines = [DIR_COMMENT[ty.dir]] if ty.dir in DIR_COMMENT else []
    lines += ["typedef struct %s {" % t] + indent(c_struct_fields(ty)) + [
        "} %s;" % t,
        "void %s_dispose(%s *p);" % (t, t),
        "void %s_copy(libxl_ctx *ctx, %s *dst, const %s *src);" % (t, t, t),
        "void %s_init(%s *p);" % (t, t),
    ]
    for f in ty.fields:
        if isinstance(f.type, idl.KeyedUnion):
            k = f.type.keyvar
            lines.append("void %s_init_%s(%s *p, %s %s);" %
                         (t, k.name, t, k.type.typename, k.name))
    lines += [
        "char *%s_to_json(libxl_ctx *ctx, %s *p);" % (t, t),
        "int %s_from_json(libxl_ctx *ctx, %s *p, const char *s);" % (t, t),
    ]
    return lines


def emit_types_header(types):
    lines = [
        "/*",
        " * The types of libxl PVUSB and their functions; included by",
        " * libxl_core.h (which defines libxl_ctx, libxl_domid, libxl_devid",
        " * and libxl_enum_string_table) with default visibility.",
        " *",
        " * Every struct has _init (after which _dispose is safe), _dispose",
        " * (frees what the struct owns and initialises it again, so it may",
        " * be called twice), _copy (deep; dst's old contents are not freed),",
        " * _to_json (malloc'd text, or NULL) and _from_json (0, or",
        " * ERROR_INVAL logged through ctx, p then left initialised).",
        " * ctx may be NULL everywhere: nothing is logged then.",
        " */",
        "",
    ]
    for ty in types:
        if isinstance(ty, idl.Enumeration):
            lines += header_enum(ty)
        else:
            lines += header_struct(ty)
        lines.append("")
    return lines


#----- the JSON header -----

def emit_json_header(types):
    lines = [
        "#include <yajl/yajl_gen.h>",
        "",
        '#include "libxl_core.h"',
        "",
        "#pragma GCC visibility push(default)",
        "",
    ]
    # Public in libxl's libxl_json.h too (xl uses it): a C string as a
    # JSON string, or null; bytes that are not UTF-8 become U+FFFD.
    lines.append("yajl_gen_status libxl__yajl_gen_asciiz(yajl_gen hand, "
                 "const char *str);")
    for ty in types:
        lines.append("yajl_gen_status %s_gen_json(yajl_gen hand, %s *p);" %
                     (ty.typename, ty.typename))
    return lines + ["", "#pragma GCC visibility pop"]


#----- the internal header -----

def parse_json_proto(ty):
    return ("int libxl__%s_parse_json(libxl__gc *gc, const yajl_val o, "
            "%s *p)" % (raw(ty), ty.typename))


def emit_internal_header(types):
    lines = ["#include <yajl/yajl_tree.h>", ""]
    for ty in types:
        lines.append("_hidden %s;" % parse_json_proto(ty))
    return lines


#----- implementation: init, dispose, copy -----

def init_value(ty, lvalue):
    """Statements giving a zeroed lvalue of type ty its initial value."""
    if isinstance(ty, idl.Struct):
        return ["%s_init(&%s);" % (ty.typename, lvalue)]
    if ty.init_val is not None:
        return ["%s = %s;" % (lvalue, ty.init_val)]
    return []


def init_body(ty):
    lines = ["memset(p, 0, sizeof(*p));"]
    for (f, lv) in member_fields(ty, "p->"):
        if isinstance(f.type, idl.KeyedUnion):
            lines += init_value(f.type.keyvar.type, keyvar(f, "p->"))
        elif isinstance(f.type, idl.Struct):
            lines += init_value(f.type, lv)
        elif f.init_val is not None:
            lines.append("%s = %s;" % (lv, f.init_val))
    return lines


def init_keyvar_fn(ty, f):
    k = f.type.keyvar
    for m in f.type.members:
        if any(mf.init_val is not None or isinstance(mf.type, idl.Struct)
               for mf in m.fields):
            raise ValueError("%s: members of a KeyedUnion are initialised "
                             "by zeroing" % ty.typename)
    kv = keyvar(f, "p->")
    default = k.type.init_val if k.type.init_val is not None else "0"
    return function("void %s_init_%s(%s *p, %s %s)" %
                    (ty.typename, k.name, ty.typename, k.type.typename,
                     k.name), Locals(),
                    ["assert(%s == %s);" % (kv, default),
                     "%s = %s;" % (kv, k.name)])


def dispose_value(ty, lvalue):
    if isinstance(ty, idl.Struct):
        return ["%s_dispose(&%s);" % (ty.typename, lvalue)]
    if ty.owns_memory():
        return ["free(%s);" % lvalue]
    return []


def dispose_fields(ty, prefix, local):
    lines = []
    for (f, lv) in member_fields(ty, prefix):
        if not f.type.owns_memory():
            continue
        if isinstance(f.type, idl.Array):
            elem = dispose_value(f.type.elem_type, lv + "[i]")
            if elem:
                local.need("int i;")
                lines += block("for (i = 0; i < %s%s; i++)" %
                               (prefix, f.type.lenvar), elem)
            lines.append("free(%s);" % lv)
        elif isinstance(f.type, idl.KeyedUnion):
            lines += union_switch(f, prefix, local, dispose_fields)
        else:
            lines += dispose_value(f.type, lv)
    return lines


def union_switch(f, prefix, local, member_body):
    """switch on the key of union field f, member_body for each member."""
    lines = ["switch (%s) {" % keyvar(f, prefix)]
    for (m, mprefix, _) in union_members(f, prefix):
        lines += ["case %s:" % m.enumvalue.name]
        lines += indent(member_body(m, mprefix, local) + ["break;"])
    return lines + ["default:", "    break;", "}"]


def copy_value(ty, dst, src):
    if isinstance(ty, idl.Struct):
        return ["%s_copy(ctx, &%s, &%s);" % (ty.typename, dst, src)]
    if ty.owns_memory():
        return ["%s = libxl__strdup(NOGC, %s);" % (dst, src)]
    return ["%s = %s;" % (dst, src)]


def copy_fields(ty, dst, src, local):
    """Deep copies of what a shallow copy of ty from src to dst shares."""
    lines = []
    for (f, dlv) in member_fields(ty, dst):
        slv = src + f.name
        if not f.type.owns_memory():
            continue
        if isinstance(f.type, idl.Array):
            local.need("int i;")
            n = src + f.type.lenvar
            lines.append("%s = %s ? libxl__calloc(NOGC, %s, sizeof(*%s)) "
                         ": NULL;" % (dlv, n, n, dlv))
            lines += block("for (i = 0; i < %s; i++)" % n,
                           copy_value(f.type.elem_type, dlv + "[i]",
                                      slv + "[i]"))
        elif isinstance(f.type, idl.KeyedUnion):
            lines += union_switch(
                f, src, local,
                lambda m, mprefix, loc:
                    copy_fields(m, dst + mprefix[len(src):], mprefix, loc))
        else:
            lines += copy_value(f.type, dlv, slv)
    return lines


def struct_basics(ty):
    t = ty.typename
    local = Locals()
    dispose = dispose_fields(ty, "p->", local)
    lines = function("void %s_dispose(%s *p)" % (t, t), local,
                     ["if (!p)", "    return;"] + dispose +
                     ["%s_init(p);" % t])

    local = Locals()
    copy = copy_fields(ty, "dst->", "src->", local)
    copy.insert(0, "*dst = *src;")
    if not any("ctx" in l for l in copy):
        copy.insert(0, "(void)ctx; /* allocation failure aborts */")
    lines += function("void %s_copy(libxl_ctx *ctx, %s *dst, const %s *src)"
                      % (t, t, t), local, copy)

    lines += function("void %s_init(%s *p)" % (t, t), Locals(),
                      init_body(ty))
    for f in ty.fields:
        if isinstance(f.type, idl.KeyedUnion):
            lines += init_keyvar_fn(ty, f)
    return lines


#----- implementation: JSON generation -----

def gen_value(ty, lvalue):
    if isinstance(ty, (idl.Struct, idl.Enumeration)):
        call = "%s_gen_json(hand, &%s)" % (ty.typename, lvalue)
    elif ty.kind == "integer":
        call = "yajl_gen_integer(hand, %s)" % lvalue
    elif ty.kind == "bool":
        call = "yajl_gen_bool(hand, %s)" % lvalue
    else:
        call = "libxl__yajl_gen_asciiz(hand, %s)" % lvalue
    return ["s = %s;" % call, CHECK_S]


def gen_key(key):
    return ['s = libxl__yajl_gen_asciiz(hand, "%s");' % key, CHECK_S]


def gen_map(ty, prefix, local):
    """The JSON object of the fields of ty at prefix, defaults left out."""
    lines = ["s = yajl_gen_map_open(hand);", CHECK_S]
    for (f, lv) in member_fields(ty, prefix):
        if isinstance(f.type, idl.KeyedUnion):
            lines += union_switch(
                f, prefix, local,
                lambda m, mprefix, loc:
                    gen_key(keyvar(f, "") + "." + m.member) +
                    gen_map(m, mprefix, loc))
            continue
        body = gen_key(f.name)
        if isinstance(f.type, idl.Array):
            local.need("int i;")
            n = prefix + f.type.lenvar
            test = "%s && %s" % (lv, n)
            body += ["s = yajl_gen_array_open(hand);", CHECK_S]
            body += block("for (i = 0; i < %s; i++)" % n,
                          gen_value(f.type.elem_type, lv + "[i]"))
            body += ["s = yajl_gen_array_close(hand);", CHECK_S]
        else:
            test = lv if f.init_val is None else "%s != %s" % (lv,
                                                               f.init_val)
            body += gen_value(f.type, lv)
        lines += block("if (%s)" % test, body)
    return lines + ["s = yajl_gen_map_close(hand);", CHECK_S]


def to_json_fn(ty, param):
    t = ty.typename
    local = Locals()
    local.need("yajl_gen hand = libxl__yajl_gen_alloc();")
    return function("char *%s_to_json(libxl_ctx *ctx, %s)" % (t, param),
                    local,
                    ['return libxl__json_gen_finish(ctx, "%s", hand,' % t,
                     "           %s_gen_json(hand, %sp));" %
                     (t, "&" if isinstance(ty, idl.Enumeration) else "")])


def struct_json(ty):
    t = ty.typename
    local = Locals()
    local.need("yajl_gen_status s;")
    body = gen_map(ty, "p->", local)
    lines = function("yajl_gen_status %s_gen_json(yajl_gen hand, %s *p)" %
                     (t, t), local, body + ["", "out:", "return s;"])
    return lines + to_json_fn(ty, t + " *p")


#----- implementation: JSON parsing -----

def parse_value(ty, src, where, lvalue, local):
    """Parses yajl value src (at path `where`) into lvalue of type ty."""
    if isinstance(ty, idl.Struct):
        return ["rc = %s_parse(gc, %s, %s, &%s);" % (raw(ty), src, where,
                                                    lvalue), CHECK_RC]
    if isinstance(ty, idl.Enumeration):
        local.need("int e;")
        return ["rc = libxl__json_parse_enum(gc, %s, %s, %s_string_table, "
                "&e);" % (src, where, ty.typename), CHECK_RC,
                "%s = e;" % lvalue]
    if ty.kind == "integer":
        local.need("long long v;")
        return ["rc = libxl__json_parse_int(gc, %s, %s, %s, %s, &v);" %
                ((src, where) + int_limits(ty)), CHECK_RC,
                "%s = v;" % lvalue]
    return ["rc = libxl__json_parse_%s(gc, %s, %s, &%s);" %
            (ty.kind, src, where, lvalue), CHECK_RC]


def parse_array(f, prefix, local):
    local.need("int i, n;")
    lv = prefix + f.name
    elem = f.type.elem_type
    init = init_value(elem, lv + "[i]")
    lines = [
        'const char *w = GCSPRINTF("%%s.%s", where);' % f.name,
        "",
        "rc = libxl__json_array_len(gc, x, w, &n);",
        CHECK_RC,
        "%s = n ? libxl__calloc(NOGC, n, sizeof(*%s)) : NULL;" % (lv, lv),
        "%s%s = n;" % (prefix, f.type.lenvar),
    ]
    if init:
        lines += block("for (i = 0; i < n; i++)", init)
    return lines + block("for (i = 0; i < n; i++)",
                         parse_value(elem, "x->u.array.values[i]",
                                     'GCSPRINTF("%s[%d]", w, i)',
                                     lv + "[i]", local))


def member_parse_fn(ty, m):
    return "%s_%s_parse" % (raw(ty), m.member)


def parse_union(ty, f, prefix):
    lines = []
    kv = keyvar(f, prefix)
    k = f.type.keyvar
    default = k.type.init_val if k.type.init_val is not None else "0"
    for (i, (m, mprefix, key)) in enumerate(union_members(f, prefix)):
        where = 'GCSPRINTF("%%s.%s", where)' % key
        body = []
        if i:
            body += block("if (%s != %s)" % (kv, default),
                          ["return libxl__json_error(gc, x, %s," % where,
                           '           "no other %s.* member");' % k.name])
        body += ["%s_init_%s(p, %s);" % (ty.typename, k.name,
                                          m.enumvalue.name),
                 "rc = %s(gc, x, %s, p);" % (member_parse_fn(ty, m),
                                             where), CHECK_RC]
        lines += ['x = libxl__json_map_get(o, "%s");' % key]
        lines += block("if (x)", body)
    return lines


def parse_fields(ty, prefix, local):
    lines = ["rc = libxl__json_check_map(gc, o, where);", CHECK_RC]
    for (f, lv) in member_fields(ty, prefix):
        if isinstance(f.type, idl.KeyedUnion):
            lines += parse_union(ty, f, prefix)
            continue
        lines.append('x = libxl__json_map_get(o, "%s");' % f.name)
        if isinstance(f.type, idl.Array):
            body = parse_array(f, prefix, local)
        else:
            body = parse_value(f.type, "x",
                               'GCSPRINTF("%%s.%s", where)' % f.name, lv,
                               local)
        lines += block("if (x)", body)
    return lines + ["return 0;"]


def parse_fn(name, ty, fields_of, prefix):
    local = Locals()
    local.need("yajl_val x;")
    local.need("int rc;")
    body = parse_fields(fields_of, prefix, local)
    return function("static int %s(libxl__gc *gc, const yajl_val o, "
                    "const char *where, %s *p)" % (name, ty.typename),
                    local, body)


def from_json_fn(ty, parse_expr, before, after):
    t = ty.typename
    local = Locals()
    local.need("GC_INIT(ctx);")
    local.need('yajl_val o = libxl__json_parse(gc, "%s", s);' % t)
    local.need("int rc;")
    return function("int %s_from_json(libxl_ctx *ctx, %s *p, const char *s)"
                    % (t, t), local,
                    before + ["rc = o ? %s : ERROR_INVAL;" % parse_expr] +
                    after + ["yajl_tree_free(o);", "GC_FREE;", "return rc;"])


def struct_parse(ty):
    t = ty.typename
    lines = []
    for f in ty.fields:
        if isinstance(f.type, idl.KeyedUnion):
            for (m, mprefix, _) in union_members(f, "p->"):
                lines += parse_fn(member_parse_fn(ty, m), ty, m,
                                  mprefix)
    lines += parse_fn(raw(ty) + "_parse", ty, ty, "p->")
    lines += function(parse_json_proto(ty), Locals(),
                      ['return %s_parse(gc, o, "%s", p);' % (raw(ty), t)])
    return lines + from_json_fn(
        ty, "libxl__%s_parse_json(gc, o, p)" % raw(ty),
        ["%s_init(p);" % t], ["if (rc)", "    %s_dispose(p);" % t])


def enum_fns(ty):
    t = ty.typename
    table = ["{ .s = \"%s\", .v = %s }," % (v.string, v.name)
             for v in ty.values]
    lines = ["libxl_enum_string_table %s_string_table[] = {" % t]
    lines += indent(table + ["{ NULL, -1 },"]) + ["};", ""]
    lines += function("const char *%s_to_string(%s p)" % (t, t), Locals(),
                      ["return libxl__enum_to_string(%s_string_table, p);"
                       % t])

    local = Locals()
    local.need("int v;")
    local.need("int rc = libxl__enum_from_string(%s_string_table, s, &v);"
               % t)
    lines += function("int %s_from_string(const char *s, %s *e)" % (t, t),
                      local, ["if (!rc)", "    *e = v;", "return rc;"])

    lines += function("yajl_gen_status %s_gen_json(yajl_gen hand, %s *p)" %
                      (t, t), Locals(),
                      ["return libxl__yajl_gen_asciiz(hand, "
                       "%s_to_string(*p));" % t])
    lines += to_json_fn(ty, t + " p")

    local = Locals()
    local.need("int v;")
    local.need('int rc = libxl__json_parse_enum(gc, o, "%s", '
               '%s_string_table, &v);' % (t, t))
    lines += function(parse_json_proto(ty), local,
                      ["if (!rc)", "    *p = v;", "return rc;"])
    return lines + from_json_fn(ty, "libxl__%s_parse_json(gc, o, p)"
                                % raw(ty), [], [])


def emit_impl(types):
    lines = [
        "#include <assert.h>",
        "#include <limits.h>",
        "",
        '#include "libxl_internal.h"',
        '#include "libxl_json.h"',
        "",
    ]
    for ty in types:
        if isinstance(ty, idl.Enumeration):
            lines += enum_fns(ty)
        else:
            lines += struct_basics(ty) + struct_json(ty) + struct_parse(ty)
    return lines


#----- output -----

def write(path, stamp, lines, guard=True):
    name = os.path.basename(path)
    head = ["/* %s */" % stamp, ""]
    tail = []
    if guard:
        g = name.upper().replace(".", "_")
        head += ["#ifndef %s" % g, "#define %s" % g, ""]
        tail = ["", "#endif /* %s */" % g]
    while lines and lines[-1] == "":
        lines.pop()
    with open(path, "w") as f:
        f.write("\n".join(head + wrapped(lines) + tail) + "\n")


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: gentypes.py <idl> <outdir>\n")
        return 2
    (idlpath, outdir) = argv[1:]
    types = idl.parse(idlpath)
    stamp = idl.stamp(idlpath, argv[0])
    out = lambda name: os.path.join(outdir, name)
    write(out("_libxl_pvusb_types.h"), stamp, emit_types_header(types))
    write(out("_libxl_pvusb_types_json.h"), stamp, emit_json_header(types))
    write(out("_libxl_pvusb_types_internal.h"), stamp,
          emit_internal_header(types))
    write(out("_libxl_pvusb_types.c"), stamp, emit_impl(types), guard=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
