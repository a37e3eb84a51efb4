#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The gateway example (examples/gateway.c) under `bleio-sim run`.

Usage: test-gateway.py BLEIO_SIM GATEWAY DEMO_SCENARIO SENSORS_SCENARIO

Runs the gateway for a few seconds against the demo scenario's crowd and
against tests/gateway/sensors.json, parses every stdout line as JSON and
checks the decoded readings against the values those scenarios define.
Prints TAP.
"""

import json
import subprocess
import sys

bleio_sim, gateway, demo_path, sensors_path = sys.argv[1:5]
DURATION = "4"

results = []


def check(name, fn):
    try:
        fn()
        results.append((True, name, ""))
    except AssertionError as e:
        results.append((False, name, str(e)))
    except Exception as e:  # a crash of the check itself is a failure too
        results.append((False, name, f"{type(e).__name__}: {e}"))


def run(scenario, *extra):
    cmd = [bleio_sim, "run", "--scenario", scenario, "--", gateway,
           "--duration", DURATION, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    return proc


def parse(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr}"
    lines = proc.stdout.splitlines()
    assert lines, "no output"
    readings = []
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise AssertionError(f"line {n} is not JSON ({e}): {line!r}")
        assert isinstance(obj, dict), f"line {n} is not an object"
        readings.append(obj)
    return readings


def first(readings, address, kind):
    for r in readings:
        if r["address"] == address and r["kind"] == kind:
            return r
    raise AssertionError(f"no {kind} reading from {address}")


def expect(reading, **fields):
    for key, want in fields.items():
        got = reading.get(key)
        if isinstance(want, float):
            ok = isinstance(got, (int, float)) and abs(got - want) < 1e-9
        else:
            ok = got == want
        assert ok, f"{reading['address']} {reading['kind']}: {key} = {got!r}, wanted {want!r}"


# ---- the demo scenario's crowd -------------------------------------------

demo = json.load(open(demo_path))
demo_proc = run(demo_path)
demo_lines = []


def demo_parses():
    demo_lines.extend(parse(demo_proc))


check("demo: every line is a JSON object", demo_parses)


def demo_common_fields():
    for r in demo_lines:
        for key, kind in (("address", str), ("address_type", str), ("rssi", int),
                          ("connectable", bool), ("kind", str)):
            assert isinstance(r.get(key), kind), f"{key} missing or wrong in {r}"
        assert -127 <= r["rssi"] <= 20, r


check("demo: address, address_type, rssi, connectable, kind on every line",
      demo_common_fields)


def demo_every_data_advertiser():
    # Every advertiser of the scenario that carries manufacturer or service
    # data gives at least one reading; the others give none.
    want = {p["address"] for p in demo["peripherals"]
            if p.get("manufacturer_data") or p.get("service_data")}
    got = {r["address"] for r in demo_lines}
    assert len(want) >= 8, want
    assert got == want, f"missing {sorted(want - got)}, unexpected {sorted(got - want)}"


check("demo: one reading or more from each of the crowd's data advertisers",
      demo_every_data_advertiser)


def demo_non_connectable_included():
    quiet = {r["address"] for r in demo_lines if r["connectable"] is False}
    for address in ("4C:00:00:00:00:01", "C1:EA:00:00:00:02", "C1:EA:00:00:00:03",
                    "F2:00:00:00:00:07", "C2:00:00:00:00:0B"):
        assert address in quiet, f"{address} missing among the non-connectable"
    assert first(demo_lines, "00:AA:01:01:00:01", "manufacturer")["connectable"] is True


check("demo: non-connectable beacons are included (and flagged so)",
      demo_non_connectable_included)


def demo_ibeacon():
    # manufacturer_data 0x004c: 0215 e2c56db5dffb48d2b060d0f5a71096e0 0001 0002 c5
    expect(first(demo_lines, "4C:00:00:00:00:01", "ibeacon"),
           address_type="random", company_id=0x004C,
           uuid="e2c56db5-dffb-48d2-b060-d0f5a71096e0", major=1, minor=2, tx_power=-59)


check("demo: iBeacon decoded", demo_ibeacon)


def demo_eddystone():
    # feaa: 00 e8 0102030405060708090a 0b0c0d0e0f10
    expect(first(demo_lines, "C1:EA:00:00:00:02", "eddystone-uid"),
           tx_power=-24, namespace="0102030405060708090a", instance="0b0c0d0e0f10")
    # feaa: 10 ec 03 "bleio.org" 00 -> https:// + bleio.org + ".com/" (0x00)
    expect(first(demo_lines, "C1:EA:00:00:00:03", "eddystone-url"),
           tx_power=-20, url="https://bleio.org.com/")


check("demo: Eddystone UID and URL decoded", demo_eddystone)


def demo_unknown_as_hex():
    expect(first(demo_lines, "F2:00:00:00:00:07", "manufacturer"),
           company_id=0x0059, data="deadbeef")
    expect(first(demo_lines, "E0:00:00:00:00:06", "manufacturer"),
           company_id=0x0157, data="0102", name="FitnessBand")
    expect(first(demo_lines, "8C:00:00:00:00:0A", "manufacturer"),
           company_id=0x0075, data="4204010180", name="Speaker")
    expect(first(demo_lines, "00:AA:01:01:00:01", "manufacturer"),
           company_id=0xFFFF, data="00010203", name="InterestingPeripheral")
    expect(first(demo_lines, "00:AA:01:01:00:01", "service-data"),
           uuid="0x9999", data="0001020304")
    expect(first(demo_lines, "C2:00:00:00:00:0B", "service-data"),
           uuid="0xfe9a", data="0a1b2c", name="Tag")


check("demo: other manufacturer and service data as hex with company id / uuid",
      demo_unknown_as_hex)


def demo_summary():
    assert "0 dropped" in demo_proc.stderr, demo_proc.stderr
    assert f"{len(demo_lines)} readings" in demo_proc.stderr, demo_proc.stderr


check("demo: summary on stderr counts every line, nothing dropped", demo_summary)

# ---- sensors.json: the decoders' values ----------------------------------

sensors_proc = run(sensors_path)
sensor_lines = []


def sensors_parse():
    sensor_lines.extend(parse(sensors_proc))


check("sensors: every line is a JSON object", sensors_parse)


def sensors_environmental():
    # ATC: a4c138000001 00eb 2d 5c 0b54 07 (big-endian, 0.1 degC)
    expect(first(sensor_lines, "A4:C1:38:00:00:01", "environmental"),
           format="atc", temperature_c=23.5, humidity_percent=45, battery_percent=92,
           battery_mv=2900, counter=7, name="ATC_000001", connectable=False)
    # pvvx: 02000038c1a4 f3fd 851a b90b 58 11 05 (little-endian, 0.01 units)
    expect(first(sensor_lines, "A4:C1:38:00:00:02", "environmental"),
           format="pvvx", temperature_c=-5.25, humidity_percent=67.89,
           battery_mv=3001, battery_percent=88, counter=17)


check("sensors: 0x181A temperature, humidity, battery (ATC and pvvx)",
      sensors_environmental)


def sensors_battery():
    expect(first(sensor_lines, "C0:00:00:00:00:03", "battery"), battery_percent=77)


check("sensors: 0x180F battery level", sensors_battery)


def sensors_tlm():
    # 20 00 0bb8 1780 00000064 00000e10: 3000 mV, 23.5 degC (8.8 fixed),
    # 100 advertisements, 3600 x 0.1 s
    expect(first(sensor_lines, "C1:EA:00:00:00:04", "eddystone-tlm"),
           battery_mv=3000, temperature_c=23.5, advertisements=100, uptime_s=360.0)


check("sensors: Eddystone TLM", sensors_tlm)


def sensors_ibeacon_and_128():
    expect(first(sensor_lines, "4C:00:00:00:00:05", "ibeacon"),
           uuid="fda50693-a4e2-4fb1-afcf-c6eb07647825", major=10001, minor=19641,
           tx_power=-65)
    expect(first(sensor_lines, "D0:00:00:00:00:06", "service-data"),
           uuid="12345678-1234-5678-1234-56789abcdef0", data="beef", connectable=True)


check("sensors: iBeacon and 128-bit service data", sensors_ibeacon_and_128)


def sensors_all_six():
    assert len({r["address"] for r in sensor_lines}) == 6


check("sensors: a reading from each of the six advertisers", sensors_all_six)


# ---- --passive: through the simulator's advertisement monitors ----------

passive_proc = run(demo_path, "--passive")


def passive_flags_advertisers():
    # With no prefixes the monitor hears the advertisers that send Flags:
    # each of the crowd's data advertisers with Flags, and no other.
    lines = parse(passive_proc)
    want = {p["address"] for p in demo["peripherals"]
            if p.get("advertising_flags") and (p.get("manufacturer_data") or p.get("service_data"))}
    got = {r["address"] for r in lines}
    assert want, "the demo has data advertisers with Flags"
    assert got == want, f"missing {sorted(want - got)}, unexpected {sorted(got - want)}"


check("passive: readings from the data advertisers that send Flags", passive_flags_advertisers)

print(f"1..{len(results)}")
for n, (ok, name, why) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {n} - {name}")
    for line in why.splitlines():
        print(f"# {line}")
if not all(ok for ok, _, _ in results):
    print("# demo stderr: " + demo_proc.stderr.replace("\n", "\n# "))
    print("# sensors stderr: " + sensors_proc.stderr.replace("\n", "\n# "))
sys.exit(0 if all(ok for ok, _, _ in results) else 1)
