"""The IDL vocabulary: libxl_types.idl is Python data built from these.

Names and meaning follow libxl's idl.txt: builtins (bool, integer, uint8,
uint16, uint32, string, libxl_domid, libxl_devid), Enumeration, Struct,
KeyedUnion and Array; a field is (name, type) or (name, type, {'init_val':
"C expression"}).  Every type may carry an init_val, the value _init gives
it and the value that JSON leaves out; without one, the default is zero.
"""

import os

DIR_NONE = 0
DIR_IN = 1      # passed to the library
DIR_OUT = 2     # filled in by the library
DIR_BOTH = 3

NAMESPACE = "libxl_"


class Type(object):
    """A C type.  typename is its C name; named types are those libxl's
    generator emits functions for (enumerations and structs)."""

    def __init__(self, typename, init_val=None, dir=DIR_BOTH):
        self.typename = typename
        self.init_val = init_val
        self.dir = dir

    def owns_memory(self):
        """Whether _dispose has something to free in a value of this type."""
        return False


class Builtin(Type):
    """A type the generator knows by kind: "bool", "integer" or "string"."""

    def __init__(self, typename, kind, init_val=None):
        Type.__init__(self, typename, init_val)
        self.kind = kind

    def owns_memory(self):
        return self.kind == "string"


class Number(Builtin):
    """An integer of `bits` bits; JSON parsing enforces its range."""

    def __init__(self, typename, signed, bits, init_val=None):
        Builtin.__init__(self, typename, "integer", init_val)
        self.signed = signed
        self.bits = bits


class UInt(Number):
    def __init__(self, bits, init_val=None):
        Number.__init__(self, "uint%d_t" % bits, False, bits, init_val)


class EnumerationValue(object):
    def __init__(self, enum, value, name):
        self.value = value
        self.valuename = name.upper()
        self.name = enum.value_namespace + enum.rawname.upper() + "_" + \
            self.valuename
        self.string = name.lower()      # what _to_string and JSON give


class Enumeration(Type):
    """Enumeration("usbctrl_type", [(0, "AUTO"), ...]) is the C enum
    libxl_usbctrl_type with values LIBXL_USBCTRL_TYPE_AUTO...; libxl_error
    uses value_namespace="" to get ERROR_*."""

    def __init__(self, rawname, values, value_namespace=None, init_val=None,
                 dir=DIR_BOTH):
        Type.__init__(self, NAMESPACE + rawname, init_val, dir)
        self.rawname = rawname
        if value_namespace is None:
            value_namespace = NAMESPACE.upper()
        self.value_namespace = value_namespace
        self.values = [EnumerationValue(self, v, n) for (v, n) in values]

    def lookup(self, string):
        for v in self.values:
            if v.string == string:
                return v
        raise ValueError("%s has no value %s" % (self.typename, string))


class Field(object):
    def __init__(self, name, type, init_val=None):
        self.name = name
        self.type = type
        self.init_val = init_val if init_val is not None else type.init_val


def _fields(fields):
    result = []
    for f in fields:
        props = f[2] if len(f) > 2 else {}
        result.append(Field(f[0], f[1], props.get('init_val')))
    return result


class Struct(Type):
    """Struct("device_usbctrl", [fields]) is libxl_device_usbctrl;
    Struct(None, [fields]) is an anonymous member of a KeyedUnion."""

    def __init__(self, rawname, fields, dir=DIR_BOTH):
        typename = NAMESPACE + rawname if rawname is not None else None
        Type.__init__(self, typename, None, dir)
        self.rawname = rawname
        self.fields = _fields(fields)

    def owns_memory(self):
        return any(f.type.owns_memory() for f in self.fields)


class KeyedUnion(Type):
    """A field ("u", KeyedUnion(None, keytype, "type", [(name, Struct)]))
    is, in C, `keytype type; union { struct {...} name; ... } u;`.  Each
    member name is the lower-case name of a keytype value."""

    def __init__(self, typename, keytype, keyvar, members):
        if typename is not None:
            raise ValueError("a KeyedUnion is anonymous")
        Type.__init__(self, None)
        self.keyvar = Field(keyvar, keytype)
        self.members = []
        for (name, struct) in members:
            if not isinstance(struct, Struct) or struct.rawname is not None:
                raise ValueError("KeyedUnion member %s must be an "
                                 "anonymous Struct" % name)
            struct.member = name
            struct.enumvalue = keytype.lookup(name)
            self.members.append(struct)

    def owns_memory(self):
        return any(m.owns_memory() for m in self.members)


class Array(Type):
    """A field ("usbctrls", Array(elem, "num_usbctrls")) is, in C,
    `int num_usbctrls; elem *usbctrls;`."""

    def __init__(self, elem_type, lenvar):
        Type.__init__(self, None)
        self.elem_type = elem_type
        self.lenvar = lenvar

    def owns_memory(self):
        return True


BUILTINS = {
    "bool": Builtin("bool", "bool"),
    "integer": Number("int", True, 32),
    "uint8": UInt(8),
    "uint16": UInt(16),
    "uint32": UInt(32),
    "string": Builtin("char *", "string"),
    "libxl_domid": Number("libxl_domid", False, 32),
    "libxl_devid": Number("libxl_devid", True, 32, init_val="-1"),
}


def parse(path):
    """Runs the IDL file; returns its named types in definition order."""
    scope = dict(BUILTINS)
    for cls in (Type, Builtin, Number, UInt, Enumeration, Struct,
                KeyedUnion, Array):
        scope[cls.__name__] = cls
    scope.update(DIR_NONE=DIR_NONE, DIR_IN=DIR_IN, DIR_OUT=DIR_OUT,
                 DIR_BOTH=DIR_BOTH)
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    exec(code, scope)
    types = [t for t in scope.values()
             if isinstance(t, (Enumeration, Struct)) and t.typename]
    for t in types:
        if scope.get(t.typename) is not t:
            raise ValueError("%s: %s must be bound to the name %s" %
                             (path, t.typename, t.typename))
    return types


def stamp(idlpath, generator):
    return ("generated from %s by %s; do not edit" %
            (os.path.basename(idlpath), os.path.basename(generator)))
