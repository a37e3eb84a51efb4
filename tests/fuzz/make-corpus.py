#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/)
from what real bluetoothd 5.66 exported (tests/data/bluez-5.66: the
GetManagedObjects replies, the Device1 property sets, every
PropertiesChanged signal) and from well-known advertisement payloads.
Types come from the introspection XML there; values are serialised with
GLib (python3-gi), exactly as GDBus would hand them to the library.

Usage: /usr/bin/python3 tests/fuzz/make-corpus.py [DATA_DIR]   (default tests/data/bluez-5.66)
The generated files are committed; rerun only to refresh the seeds.
Inputs found by fuzzing are added by hand as crash-* files and are kept."""
import glob
import hashlib
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

import gi
gi.require_version('GLib', '2.0')
from gi.repository import GLib

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', 'data', 'bluez-5.66')
CORPUS = os.path.join(HERE, 'corpus')

# property types per interface, from the introspection dumps
TYPES = {}
for path in glob.glob(os.path.join(SHARED, 'introspect-*.xml')):
    text = open(path).read()
    text = re.sub(r'<!DOCTYPE[^>]*>', '', text)
    for iface in ET.fromstring(text).iter('interface'):
        for prop in iface.iter('property'):
            TYPES.setdefault(iface.get('name'), {})[prop.get('name')] = prop.get('type')


def guess(value):
    if isinstance(value, bool):
        return 'b'
    if isinstance(value, int):
        return 'i'
    if isinstance(value, str):
        return 'ay' if value.startswith('bytes:') else 's'
    if isinstance(value, list):
        return 'a' + (guess(value[0]) if value else 's')
    if isinstance(value, dict):
        return 'a{sv}'
    raise ValueError(value)


def to_py(sig, value):
    """@value as the Python value GLib.Variant(@sig, ...) takes."""
    if sig == 'v':
        return GLib.Variant(guess(value), to_py(guess(value), value))
    if sig == 'ay':
        return bytes.fromhex(value[len('bytes:'):]) if isinstance(value, str) else bytes(value)
    if sig.startswith('a{'):
        key_sig, val_sig = sig[2], sig[3:-1]
        out = {}
        for k, v in value.items():
            if key_sig in 'qyuin':
                k = int(k) if k.isdigit() else ord(k)
            out[k] = to_py(val_sig, v)
        return out
    if sig.startswith('a'):
        return [to_py(sig[1:], v) for v in value]
    return value


def props_py(interface, values):
    types = TYPES.get(interface, {})
    return {k: GLib.Variant(types.get(k) or guess(v), to_py(types.get(k) or guess(v), v))
            for k, v in values.items()}


def props(interface, values):
    return GLib.Variant('a{sv}', props_py(interface, values))


def data(variant):
    return bytes(variant.get_data_as_bytes().get_data())


def write(target, name, payload):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(payload)


def load(name):
    with open(os.path.join(SHARED, name)) as f:
        return json.load(f)


# GetManagedObjects replies
devices = []
for name in ('objects-idle.json', 'objects-connected.json', 'objects-after-disconnect.json'):
    objects = load(name)
    reply = GLib.Variant('a{oa{sa{sv}}}', {
        path: {iface: props_py(iface, p) for iface, p in ifaces.items()}
        for path, ifaces in objects.items()})
    write('fuzz-managed-objects', 'seed-' + name.replace('.json', ''), b'\0' + data(reply))
    for path, ifaces in objects.items():
        if 'org.bluez.Device1' in ifaces:
            devices.append((name.replace('objects-', '').replace('.json', '') + path.replace('/org/bluez/', '-').replace('/', '-'), ifaces['org.bluez.Device1']))

for name in ('device-props-discovered.json', 'device-props-connected-paired.json'):
    devices.append((name.replace('.json', ''), load(name)))

for name, dev in devices:
    heard = dict(dev, RSSI=-60)
    if 'Adapter' not in heard:
        heard['Adapter'] = '/org/bluez/hci0'
    for tag, values in (('', dev), ('-heard', heard)):
        blob = data(props('org.bluez.Device1', values))
        write('fuzz-ad-build', 'seed-%s%s' % (name, tag), b'\0' + blob)
        # minimum RSSI -100, no prefixes
        write('fuzz-device-props', 'seed-%s%s' % (name, tag), bytes([0x9c, 0, 0]) + blob)
    # prefixes: the complete name structure of the device
    if 'Name' in dev:
        n = dev['Name'].encode()
        prefix = bytes([len(n) + 1, 0x09]) + n
        write('fuzz-device-props', 'seed-%s-prefix' % name,
              bytes([0x9c, len(prefix)]) + prefix + b'\0' + data(props('org.bluez.Device1', heard)))

# every PropertiesChanged signal bluetoothd sent
for i, sig in enumerate(load('signals-discovery-to-disconnect.json')):
    if sig['signal'] != 'PropertiesChanged':
        continue
    args = GLib.Variant('(sa{sv}as)', (sig['interface'],
                                       props_py(sig['interface'], sig['changed']),
                                       sig['invalidated']))
    write('fuzz-properties-changed', 'seed-signal-%02d' % i, b'\0' + data(args))
# a characteristic's notification and a device's advertisement update
write('fuzz-properties-changed', 'seed-value',
      b'\0' + data(GLib.Variant('(sa{sv}as)', ('org.bluez.GattCharacteristic1',
                                              {'Value': GLib.Variant('ay', b'\x06\x48')}, []))))
write('fuzz-properties-changed', 'seed-advert',
      b'\0' + data(GLib.Variant('(sa{sv}as)', ('org.bluez.Device1', {
          'RSSI': GLib.Variant('n', -42),
          'ManufacturerData': GLib.Variant('a{qv}', {0x004c: GLib.Variant('ay', bytes.fromhex('0215' + '00' * 21))}),
          'ServiceData': GLib.Variant('a{sv}', {'0000feaa-0000-1000-8000-00805f9b34fb': GLib.Variant('ay', b'\x10\x00')}),
      }, ['TxPower']))))

# advertisement payloads: [prefix length][prefixes][advertisement]
adverts = {
    'flags-name-uuid16': bytes.fromhex('020106') + b'\x16\x09InterestingPeripheral' + bytes.fromhex('05030d180f18'),
    'ibeacon': bytes.fromhex('0201061aff4c000215') + bytes(range(16)) + bytes.fromhex('00010002c5'),
    'eddystone-url': bytes.fromhex('0201060303aafe0f16aafe10eb03676f6f676c6507'),
    'service-data-128': bytes.fromhex('1121') + bytes(range(16)) + b'\x42',
    'padded': bytes.fromhex('0201060000000000'),
    'truncated': bytes.fromhex('020106ff09'),
    'empty-structure': bytes.fromhex('01ff0201'),
}
for name, adv in adverts.items():
    write('fuzz-ad', 'seed-' + name, b'\0' + adv)
write('fuzz-ad', 'seed-prefix-name', b'\x05\x04\x09Inte' + adverts['flags-name-uuid16'])
write('fuzz-ad', 'seed-prefix-two', b'\x07\x02\x01\x06\x03\xff\x4c\x00' + adverts['ibeacon'])

# UUIDs: strings and bytes
for i, s in enumerate([b'180d', b'0x180D', b'0000180d-0000-1000-8000-00805f9b34fb',
                       b'6e400001-b5a3-f393-e0a9-e50e24dcca9e', b'0X2a37',
                       b'6E400001-B5A3-F393-E0A9-E50E24DCCA9E', bytes.fromhex('0d18'),
                       bytes.fromhex('9ecadc240ee5a9e093f3a3b50100406e'),
                       b'0000180d-0000-1000-8000-00805f9b34fg']):
    write('fuzz-uuid', 'seed-%02d' % i, s)

# addresses: string, NUL, BlueZ address type
for i, s in enumerate([b'00:AA:01:01:00:01\0public', b'C0:11:22:33:44:55\0random',
                       b'4a:11:22:33:44:55\0random', b'00:aa:01:01:00:01', b'12:34:56:78:9A:BC\0bogus',
                       b'12:34:56:78:9A:B\0random', b'12-34-56-78-9A-BC\0public']):
    write('fuzz-address', 'seed-%02d' % i, s)

# Hand-made regressions: values of the wrong type where the library once
# took them on trust (a Primary that is not a boolean reached
# g_variant_get_boolean(), a GLib critical).
svc = '/org/bluez/hci0/dev_00_AA_01_01_00_01/service0008'
write('fuzz-managed-objects', 'regress-primary-not-boolean', b'\0' + data(GLib.Variant('a{oa{sa{sv}}}', {
    svc: {'org.bluez.GattService1': {
        'UUID': GLib.Variant('s', '0000180d-0000-1000-8000-00805f9b34fb'),
        'Primary': GLib.Variant('s', 'yes'),
        'Device': GLib.Variant('o', '/org/bluez/hci0/dev_00_AA_01_01_00_01')}},
    svc + '/char0009': {'org.bluez.GattCharacteristic1': {
        'UUID': GLib.Variant('u', 0x2a37),
        'Flags': GLib.Variant('s', 'notify'),
        'MTU': GLib.Variant('s', '517')}},
    svc + '/char0009/desc000b': {'org.bluez.GattDescriptor1': {
        'UUID': GLib.Variant('ay', b'\x02\x29')}},
    '/org/bluez/hci0/dev_00_AA_01_01_00_01': {'org.bluez.Device1': {
        'Adapter': GLib.Variant('o', '/org/bluez/hci0'),
        'Address': GLib.Variant('ay', b'\0\xaa\x01\x01\0\x01'),
        'AddressType': GLib.Variant('b', True),
        'RSSI': GLib.Variant('s', '-60'),
        'ManufacturerData': GLib.Variant('a{sv}', {'76': GLib.Variant('s', 'x')}),
        'ServiceData': GLib.Variant('a{qv}', {1: GLib.Variant('ay', b'\1')})}},
})))
