#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""libbleio through GObject Introspection, as a Python program sees it.

Usage: test-gi.py BUILD_LIB_DIR GIR_FILE MAP_FILE PUBLIC_HEADER...

Loads Bleio-0.1.typelib from the build tree with python3-gi and checks:
  - the typelib and the shared library come from the build tree, not from
    an installed copy;
  - every function the version script exports (but the *_get_type ones,
    which GI calls itself) can be called from Python;
  - the error domain and its codes, and the values each public header
    declares, behave as their C documentation says.
A value header's checks run whenever that header is in the public list, so
a header cannot become public without its checks passing.
"""

import os
import re
import sys
import traceback
import xml.etree.ElementTree as ET

libdir, gir_path, map_path = sys.argv[1:4]
headers = {os.path.basename(h) for h in sys.argv[4:]}

os.environ.setdefault("GI_TYPELIB_PATH", libdir)

try:
    import gi
    gi.require_version("GLib", "2.0")
    gi.require_version("Gio", "2.0")
    gi.require_version("Bleio", "0.1")
    from gi.repository import Bleio, Gio, GLib, GObject
except (ImportError, ValueError) as e:
    print(f"cannot load Bleio through GI ({e}); python3-gi and the typelib "
          f"in {libdir} are needed")
    sys.exit(1)

failures = []
checks = 0


def check(name):
    def wrap(fn):
        global checks
        checks += 1
        try:
            fn()
            print(f"ok - {name}")
        except Exception:
            failures.append(name)
            print(f"not ok - {name}")
            traceback.print_exc(file=sys.stdout)
        return fn
    return wrap


def expect_error(fn, code):
    try:
        fn()
    except GLib.Error as e:
        assert e.domain == "bleio-error-quark", f"domain {e.domain}"
        assert e.code == int(code), f"code {e.code}, wanted {int(code)}"
        return e
    raise AssertionError("no GLib.Error raised")


@check("typelib and library come from the build tree")
def _():
    repo = gi.Repository.get_default()
    typelib = repo.get_typelib_path("Bleio")
    assert os.path.realpath(os.path.dirname(typelib)) == os.path.realpath(libdir), typelib
    Bleio.error_quark()  # GI opens the library on the first call
    with open("/proc/self/maps") as maps:
        mapped = {line.split()[-1] for line in maps if "libbleio.so" in line}
    assert mapped, "libbleio.so is not mapped"
    for path in mapped:
        assert os.path.realpath(os.path.dirname(path)) == os.path.realpath(libdir), path


def exported_functions():
    text = re.sub(r"/\*.*?\*/", "", open(map_path).read(), flags=re.S)
    body = text.split("global:", 1)[1].split("local:", 1)[0]
    names = {n.strip() for n in body.split(";") if n.strip()}
    return {n for n in names if not n.endswith("_get_type")}


def gir_callables():
    """c:identifier -> (container or None, Python name, introspectable)."""
    ns = {"core": "http://www.gtk.org/introspection/core/1.0",
          "c": "http://www.gtk.org/introspection/c/1.0"}
    root = ET.parse(gir_path).getroot()
    namespace = root.find("core:namespace", ns)
    cid = "{%s}identifier" % ns["c"]
    found = {}
    for el in namespace:
        tag = el.tag.split("}")[1]
        if tag == "function":
            found[el.get(cid)] = (None, el.get("name"), el.get("introspectable", "1"))
            continue
        for sub in el:
            stag = sub.tag.split("}")[1]
            if stag in ("function", "method", "constructor"):
                found[sub.get(cid)] = (el.get("name"), sub.get("name"),
                                       sub.get("introspectable", "1"))
    return found


# C-only functions, (skip) in their doc comments, and why a binding cannot
# use them. Each must stay out of the typelib, and nothing else may.
NOT_BINDABLE = {
    "bleio_ad_iter_init": "the iterator points into caller-owned memory",
    "bleio_ad_iter_next": "the iterator points into caller-owned memory",
    "bleio_uuid_pack_into": "writes into a caller's buffer in place",
    "bleio_characteristic_buffer_readinto": "fills a caller-sized buffer; use read()",
    "bleio_packet_buffer_readinto": "fills a caller-sized buffer; use read_packet()",
    "bleio_adapter_set_pairing_callbacks":
        "three callbacks share one user_data, which GI cannot express",
}


@check("every exported function is callable from Python")
def _():
    gir = gir_callables()
    problems = []
    for symbol in sorted(exported_functions()):
        if symbol not in gir:
            problems.append(f"{symbol}: not in {os.path.basename(gir_path)}")
            continue
        container, name, introspectable = gir[symbol]
        if symbol in NOT_BINDABLE:
            if introspectable != "0":
                problems.append(f"{symbol}: should be (skip): {NOT_BINDABLE[symbol]}")
            continue
        if introspectable == "0":
            problems.append(f"{symbol}: marked introspectable=\"0\" (fix its annotations)")
            continue
        owner = getattr(Bleio, container) if container else Bleio
        if not callable(getattr(owner, name, None)):
            where = f"Bleio.{container}.{name}" if container else f"Bleio.{name}"
            problems.append(f"{symbol}: {where} is missing from the typelib")
    assert not problems, "\n  " + "\n  ".join(problems)


@check("error domain, codes and their names")
def _():
    assert GLib.quark_to_string(Bleio.error_quark()) == "bleio-error-quark"
    expected = ["BLUETOOTH", "CONNECTION", "ROLE", "SECURITY", "TIMEOUT",
                "IN_PROGRESS", "NOT_SUPPORTED", "NOT_PERMITTED",
                "INVALID_ARGUMENT", "NO_ADAPTER", "BLUEZ_UNAVAILABLE",
                "DOES_NOT_EXIST", "ALREADY_EXISTS", "NOT_READY",
                "NOT_AUTHORIZED", "INVALID_VALUE"]
    for value, name in enumerate(expected):
        assert int(getattr(Bleio.Error, name)) == value, name
        nick = Bleio.error_code_to_string(getattr(Bleio.Error, name))
        assert nick == name.lower().replace("_", "-"), (name, nick)
    # Codes added later need no edit here: each must still have a name.
    for value in Bleio.Error.__enum_values__.values():
        nick = Bleio.error_code_to_string(value)
        assert nick and nick != "unknown", (value, nick)


@check("a BlueZ D-Bus error maps into the Bleio domain")
def _():
    remote = Gio.DBusError.new_for_dbus_error("org.bluez.Error.InProgress", "In Progress")
    mapped = Bleio.error_from_dbus(remote)
    assert mapped.domain == "bleio-error-quark", mapped.domain
    assert mapped.code == int(Bleio.Error.IN_PROGRESS), mapped.code
    assert mapped.message == "In Progress", mapped.message
    cancelled = GLib.Error.new_literal(Gio.io_error_quark(), "gone", int(Gio.IOErrorEnum.CANCELLED))
    kept = Bleio.error_from_dbus(cancelled)
    assert kept.matches(Gio.io_error_quark(), int(Gio.IOErrorEnum.CANCELLED))


if "bleio-uuid.h" in headers:
    @check("Uuid: parse, size, values, formatting, errors")
    def _():
        short = Bleio.Uuid.new_from_string("180D")
        assert short.get_size() == 16
        assert short.get_uuid16() == 0x180D
        assert short.to_string() == "0x180d"
        assert short.to_bluez_string() == "0000180d-0000-1000-8000-00805f9b34fb"
        ok, _unused = short.get_uuid128()
        assert not ok, "a 16-bit UUID has no 128-bit bytes"

        on_base = Bleio.Uuid.new_from_string("0000180D-0000-1000-8000-00805F9B34FB")
        assert on_base.get_size() == 16
        assert on_base.equal(short) and on_base.hash() == short.hash()

        text = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
        long = Bleio.Uuid.new_from_string(text)
        assert long.get_size() == 128
        assert long.to_string() == text
        ok, raw = long.get_uuid128()
        assert ok and bytes(raw) == bytes.fromhex(text.replace("-", ""))[::-1]
        assert not long.equal(short)

        from_bytes = Bleio.Uuid.new_from_bytes(bytes(raw))
        assert from_bytes.equal(long)
        assert Bleio.Uuid.new_from_uuid16(0x2A19).to_string() == "0x2a19"
        assert Bleio.Uuid.new_from_bytes(b"\x19\x2a").get_uuid16() == 0x2A19

        e = expect_error(lambda: Bleio.Uuid.new_from_string("not-a-uuid"),
                         Bleio.Error.INVALID_ARGUMENT)
        assert "not-a-uuid" in e.message, e.message
        expect_error(lambda: Bleio.Uuid.new_from_bytes(b"\x01\x02\x03"),
                     Bleio.Error.INVALID_ARGUMENT)
        assert short.copy().equal(short)


if "bleio-address.h" in headers:
    @check("Address: parse, bytes, type, formatting, errors")
    def _():
        addr = Bleio.Address.new_from_string("C8:1D:00:11:22:33",
                                             Bleio.AddressType.RANDOM_STATIC)
        assert bytes(addr.get_bytes()) == bytes([0x33, 0x22, 0x11, 0x00, 0x1D, 0xC8])
        assert addr.get_address_type() == Bleio.AddressType.RANDOM_STATIC
        assert addr.get_bluez_address_type() == "random"
        assert addr.to_bluez_string() == "C8:1D:00:11:22:33"
        assert "c8:1d:00:11:22:33" in addr.to_string().lower()
        same = Bleio.Address.new(bytes(addr.get_bytes()), Bleio.AddressType.RANDOM_STATIC)
        assert same.equal(addr) and same.hash() == addr.hash()
        public = Bleio.Address.new(bytes(addr.get_bytes()), Bleio.AddressType.PUBLIC)
        assert not public.equal(addr), "equality includes the type"
        assert int(Bleio.AddressType.PUBLIC) == 0
        assert int(Bleio.AddressType.RANDOM_PRIVATE_NON_RESOLVABLE) == 3
        expect_error(lambda: Bleio.Address.new_from_string("C8:1D:00", Bleio.AddressType.PUBLIC),
                     Bleio.Error.INVALID_ARGUMENT)


if "bleio-ad.h" in headers:
    @check("advertisement codec: validate and prefix matching")
    def _():
        # Flags (0x06), then the complete local name "Pi".
        adv = bytes([0x02, 0x01, 0x06, 0x03, 0x09, ord("P"), ord("i")])
        assert Bleio.ad_validate(adv)
        expect_error(lambda: Bleio.ad_validate(bytes([0x05, 0x09, 0x41])),
                     Bleio.Error.INVALID_VALUE)
        name_prefix = bytes([0x02, 0x09, ord("P")])
        other = bytes([0x02, 0x09, ord("Q")])
        assert Bleio.ad_matches(adv, name_prefix, True)
        assert not Bleio.ad_matches(adv, other, True)
        assert Bleio.ad_matches(adv, other + name_prefix, False)
        assert not Bleio.ad_matches(adv, other + name_prefix, True)


def signal_params(cls, name):
    GObject.TypeClass.ref(cls.__gtype__)  # signals exist once the class does
    sid = GObject.signal_lookup(name, cls)
    assert sid, f"{cls.__name__} has no signal {name!r}"
    return [t.name for t in GObject.signal_query(sid).param_types]


if "bleio-adapter.h" in headers:
    @check("Adapter: a GObject, and a clean error without a system bus")
    def _():
        assert GObject.type_is_a(Bleio.Adapter, GObject.Object)
        # The test environment points the system bus at nothing: the error
        # must come back as BLUEZ_UNAVAILABLE through GI, not a crash.
        e = expect_error(lambda: Bleio.Adapter.get_default(None),
                         Bleio.Error.BLUEZ_UNAVAILABLE)
        assert e.message, "empty message"


if "bleio-scan.h" in headers:
    @check("ScanResults: 'entry' and 'done' signals with their types")
    def _():
        assert signal_params(Bleio.ScanResults, "entry") == ["BleioScanEntry"]
        assert signal_params(Bleio.ScanResults, "done") == []


if "bleio-connection.h" in headers:
    @check("Connection: 'disconnected' signal and its reasons")
    def _():
        assert signal_params(Bleio.Connection, "disconnected") == ["BleioDisconnectReason"]
        assert int(Bleio.DisconnectReason.LOCAL) == 0
        assert int(Bleio.DisconnectReason.REMOTE) == 1


if "bleio-characteristic.h" in headers:
    @check("Characteristic: property flags carry the Bluetooth Core bits")
    def _():
        P = Bleio.CharacteristicProperties
        bits = {"BROADCAST": 0x01, "READ": 0x02, "WRITE_NO_RESPONSE": 0x04,
                "WRITE": 0x08, "NOTIFY": 0x10, "INDICATE": 0x20}
        for name, bit in bits.items():
            assert int(getattr(P, name)) == bit, (name, int(getattr(P, name)))
        both = P.READ | P.NOTIFY
        assert int(both) == 0x12 and both & P.NOTIFY
        assert GObject.type_is_a(Bleio.Characteristic, GObject.Object)
        assert [int(Bleio.WriteType.DEFAULT), int(Bleio.WriteType.REQUEST),
                int(Bleio.WriteType.COMMAND)] == [0, 1, 2]


for page in filter(None, os.environ.get("BLEIO_DOC_PAGES", "").split(os.pathsep)):
    text = open(page, encoding="utf-8").read()
    for n, block in enumerate(re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)):
        @check(f"the Python example {n + 1} of {os.path.basename(page)} runs")
        def _(block=block):
            exec(compile(block, f"{os.path.basename(page)}:python{n + 1}", "exec"), {})


print(f"{checks - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures or checks == 0 else 0)
