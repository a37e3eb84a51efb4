#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns the btmon trace that bleio-e2e-record-advertising prints
(advertising-btmon.txt) into advertising-on-air.json: for each case (the
"= record: case NAME register" notes), what bluetoothd asked the kernel
(MGMT Add Extended Advertising Parameters/Data) and what the kernel sent
the controller (HCI LE Set Advertising Parameters, Data, Scan Response,
Enable) on hci1 until the case's next note.

    summarize-adv-btmon.py advertising-btmon.txt > advertising-on-air.json
    summarize-adv-btmon.py --trace advertising-btmon.txt > advertising-btmon-hci1.txt

    summarize-adv-btmon.py --table advertising-register.json advertising-on-air.json

--table prints the Markdown table of tests/e2e/README.md ("Recorded
facts"): each case's answer and what went on air.
--trace keeps only the notes and hci1's advertising and connection blocks
of the trace (the whole one is large: ATT traffic of both sides).
"""
import json
import re
import sys

# A block is a header line (no indentation) and its indented lines.
HEADER = re.compile(r'^[<>@=] ')


def blocks(lines):
    block = None
    for line in lines:
        if HEADER.match(line):
            if block:
                yield block
            block = [line.rstrip()]
        elif block is not None and line.strip():
            block.append(line.rstrip())
    if block:
        yield block


def body(block):
    return [l.strip() for l in block[1:]]


def field(lines, name):
    for l in lines:
        if l.startswith(name + ':'):
            return l[len(name) + 1:].strip()
    return None


def ad_fields(lines):
    """The decoded AD structures after the Length line, as btmon prints
    them: the top-level entries with their detail lines joined."""
    out = []
    for l in lines:
        if l.startswith('Length:') or l.startswith('Instance:'):
            continue
        out.append(l)
    return out


def summarize(text):
    """One entry per note that starts a case: the commands seen on hci1
    until the next note, and "on_air", what the controller was left with
    then. The kernel sends advertising data, scan response and parameters
    only when they change, so on_air carries over from earlier cases."""
    cases = []
    current = None
    state = {'parameters': None, 'advertising_data': None, 'scan_response': None,
             'enabled': None, 'random_address': None}

    def close():
        if current is not None:
            current['on_air'] = json.loads(json.dumps(state))

    for block in blocks(text.splitlines()):
        head = block[0]
        if '[hci1]' not in head and not head.startswith('= record:'):
            continue
        m = re.match(r'^= record: (.*?)(\s+\[hci\d\])?\s+[0-9.]+$', head)
        if m:
            close()
            note = m.group(1)
            cm = re.match(r'case (\S+) register$', note)
            if 'unregister' not in note and (note.startswith('case ')
                                             or note.startswith('timeout-2')
                                             or note.startswith('discovered')
                                             or note.startswith('link')):
                name = cm.group(1) if cm else note
                current = {'case': name, 'mgmt': [], 'hci': []}
                cases.append(current)
            else:
                current = None
            continue
        b = body(block)
        entry = None
        if head.startswith('@ MGMT Command: Add Extended Adve') and b:
            if any(l.startswith('Flags:') for l in b):
                i = b.index(next(x for x in b if x.startswith('Flags:')))
                entry = ('mgmt', {
                    'command': 'Add Extended Advertising Parameters',
                    'flags_value': field(b, 'Flags'),
                    'flags': [l for l in b[i + 1:]
                              if not re.match(r'^(Duration|Timeout|Min advertising interval|Max advertising interval|TX power):', l)],
                    'duration': field(b, 'Duration'),
                    'timeout': field(b, 'Timeout'),
                    'min_interval': field(b, 'Min advertising interval'),
                    'max_interval': field(b, 'Max advertising interval'),
                    'tx_power': field(b, 'TX power'),
                })
            else:
                entry = ('mgmt', {'command': 'Add Extended Advertising Data',
                                  'lines': [l for l in b if not l.startswith('Instance:')]})
        elif head.startswith('@ MGMT Event: Command Complete') or head.startswith('@ MGMT Event: Command Status'):
            if not b or 'Advertising' not in b[0]:
                continue
            entry = ('mgmt', {'reply': b[0].split(' (')[0], 'status': field(b, 'Status'),
                              'details': [l for l in b[1:] if not l.startswith('Status:')
                                          and not l.startswith('Instance:')]})
        elif head.startswith('< HCI Command:') and '(0x08|0x0006)' in head:
            state['parameters'] = {
                'min_interval': field(b, 'Min advertising interval'),
                'max_interval': field(b, 'Max advertising interval'),
                'type': field(b, 'Type'),
                'own_address_type': field(b, 'Own address type'),
                'channel_map': field(b, 'Channel map'),
                'filter_policy': field(b, 'Filter policy'),
            }
            entry = ('hci', dict(command='LE Set Advertising Parameters', **state['parameters']))
        elif head.startswith('< HCI Command:') and '(0x08|0x0008)' in head:
            state['advertising_data'] = {'length': field(b, 'Length'), 'fields': ad_fields(b)}
            entry = ('hci', dict(command='LE Set Advertising Data', **state['advertising_data']))
        elif head.startswith('< HCI Command:') and '(0x08|0x0009)' in head:
            state['scan_response'] = {'length': field(b, 'Length'), 'fields': ad_fields(b)}
            entry = ('hci', dict(command='LE Set Scan Response Data', **state['scan_response']))
        elif head.startswith('< HCI Command:') and '(0x08|0x000a)' in head:
            state['enabled'] = field(b, 'Advertising')
            entry = ('hci', {'command': 'LE Set Advertise Enable', 'advertising': state['enabled']})
        elif head.startswith('< HCI Command:') and '(0x08|0x0005)' in head:
            state['random_address'] = field(b, 'Address')
            entry = ('hci', {'command': 'LE Set Random Address', 'address': state['random_address']})
        elif head.startswith('< HCI Command:'):
            entry = ('hci', {'command': head.split(':', 1)[1].split('(')[0].strip()})
        elif head.startswith('> HCI Event:') and ('Connect' in head or 'LE Meta' in head
                                                 or 'Disconn' in head):
            entry = ('hci', {'event': head[len('> HCI Event: '):].split('  ')[0], 'lines': b[:3]})
        if entry and current is not None:
            current[entry[0]].append(entry[1])
    close()
    return cases


KEEP = re.compile(r'\(0x08\|0x000[5689a]\)|Add Extended Adve|Remove Advertising|'
                  r'Advertising Added|Advertising Removed|MGMT Event: Command (Complete|Status)|'
                  r'Disconnect|LE Meta Event|Device Connected|Device Disconnected')


def trace(text):
    out = []
    for block in blocks(text.splitlines()):
        head = block[0]
        if head.startswith('= record:') or ('[hci1]' in head and KEEP.search(head)):
            if head.startswith('@ MGMT Event: Command') and not any(
                    'Advertising' in l for l in block[1:2]):
                continue
            out.extend(block)
    return '\n'.join(out) + '\n'


def short_fields(fields):
    """AD fields as btmon decoded them, one entry per structure."""
    out = []
    for l in fields or []:
        if re.match(r'^(Flags|Company|Data|16-bit|128-bit|Service Data|Appearance|Name|TX power|Unknown EIR)', l):
            out.append(l.replace('|', '/'))
    return '; '.join(out) if out else '(empty)'


def table(register_path, on_air_path):
    with open(register_path) as f:
        register = {c['case']: c for c in json.load(f)['cases']}
    with open(on_air_path) as f:
        on_air = {c['case']: c for c in json.load(f)['cases']}
    lines = ['| case | answer | MGMT flags, TX power | on air: PDU, address, interval | advertising data | scan response |',
             '|---|---|---|---|---|---|']
    for name, r in register.items():
        answer = r['register']
        if 'error' in answer:
            text = '%s: %s' % (answer['error'].replace('org.bluez.Error.', ''), answer['message'])
        else:
            text = 'ok'
        a = on_air.get(name)
        if 'error' in answer or a is None:
            lines.append('| %s | %s | | | | |' % (name, text))
            continue
        m = a['mgmt_parameters'] or {}
        o = a['on_air']
        p = o['parameters'] or {}
        pdu = (p.get('type') or '').split(' - ')[-1].split(' (')[0]
        addr = (p.get('own_address_type') or '').split(' (')[0]
        interval = '%s-%s ms' % ((p.get('min_interval') or '').split('.')[0],
                                 (p.get('max_interval') or '').split('.')[0])
        flags = ', '.join(m.get('flags') or []) or 'none'
        lines.append('| %s | %s | %s; %s | %s, %s, %s | %s | %s |' % (
            name, text, flags, m.get('tx_power', '').split(' (')[0], pdu, addr, interval,
            short_fields((o['advertising_data'] or {}).get('fields')),
            short_fields((o['scan_response'] or {}).get('fields'))))
    return '\n'.join(lines) + '\n'


def main():
    args = sys.argv[1:]
    if args and args[0] == '--table':
        sys.stdout.write(table(args[1], args[2]))
        return
    keep_trace = args and args[0] == '--trace'
    if keep_trace:
        args = args[1:]
    with open(args[0], encoding='utf-8', errors='replace') as f:
        text = f.read()
    if keep_trace:
        sys.stdout.write(trace(text))
        return
    cases = []
    for c in summarize(text):
        params = [m for m in c['mgmt'] if m.get('command') == 'Add Extended Advertising Parameters']
        data = [m for m in c['mgmt'] if m.get('command') == 'Add Extended Advertising Data']
        cases.append({
            'case': c['case'],
            'mgmt_parameters': params[0] if params else None,
            'mgmt_data': data[0]['lines'] if data else None,
            'mgmt_replies': ['%s: %s%s' % (m['reply'], m['status'],
                                           ('; ' + ', '.join(m['details'])) if m['details'] else '')
                             for m in c['mgmt'] if 'reply' in m],
            'hci': [h.get('command') or h.get('event') for h in c['hci']],
            'on_air': c['on_air'],
        })
    json.dump({'source': 'btmon trace of bleio-e2e-record-advertising (advertising-btmon.txt), '
                         'hci1 only, per case until the next note; on_air is what the '
                         'controller was left with (data and parameters are sent only '
                         'when they change, so they carry over from earlier cases)',
               'cases': cases}, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
