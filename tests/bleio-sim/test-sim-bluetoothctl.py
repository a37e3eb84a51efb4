#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""BlueZ's own bluetoothctl, unchanged, driven through a pseudo-terminal
against `bleio-sim run` with the demo scenario. Each step is one TAP test
case; a step waits (bounded) for what bluetoothctl prints and checks it.

Usage: test-sim-bluetoothctl.py BLEIO_SIM [BLUETOOTHCTL]
"""

import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time

DEMO_NAME = "InterestingPeripheral"
TIMEOUT = 15.0
ADDR = r"[0-9A-F]{2}(?::[0-9A-F]{2}){5}"
# Colours, cursor movement and readline's prompt markers.
NOISE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|[\x01\x02\r]")
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
HEART_RATE_MEASUREMENT = "00002a37-0000-1000-8000-00805f9b34fb"
# Where a printed line starts: readline may have redrawn the prompt and
# padding in front of what bluetoothctl prints while it waits for input.
LINE = r"^(?:\[[^\]\n]*\]#)?[ \t]*"


class StepFailed(Exception):
    pass


class Terminal:
    """A child on a pseudo-terminal, with expect-style reading."""

    def __init__(self, argv, env):
        master, slave = os.openpty()
        # A wide terminal, so readline never wraps a line we parse.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 400, 0, 0))
        pid = os.fork()
        if pid == 0:
            os.close(master)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            if slave > 2:
                os.close(slave)
            os.execvpe(argv[0], argv, env)
        os.close(slave)
        self.pid = pid
        self.fd = master
        self.text = ""      # everything read, cleaned of escape codes
        self.pos = 0        # what expect() has consumed
        self.status = None

    def _read(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            data = b""
        if not data:
            return None
        self.text += NOISE.sub("", data.decode("utf-8", "replace"))
        return True

    def expect(self, pattern, timeout=TIMEOUT, flags=re.M):
        """Waits until @pattern appears after what was consumed; returns the
        match and consumes up to its end."""
        regex = re.compile(pattern, flags)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.text, self.pos)
            if match:
                self.pos = match.end()
                return match
            left = deadline - time.monotonic()
            if left <= 0:
                raise StepFailed("no /%s/ within %.0f s; bluetoothctl printed:\n%s"
                                 % (pattern, timeout, self.text[self.pos:][-3000:]))
            if self._read(left) is None:
                raise StepFailed("bluetoothctl ended while waiting for /%s/; it printed:\n%s"
                                 % (pattern, self.text[self.pos:][-3000:]))

    def expect_any(self, patterns, timeout=TIMEOUT):
        """Waits for the first of several patterns; returns (index, match)."""
        regexes = [re.compile(p, re.M) for p in patterns]
        deadline = time.monotonic() + timeout
        while True:
            found = []
            for i, regex in enumerate(regexes):
                match = regex.search(self.text, self.pos)
                if match:
                    found.append((match.start(), i, match))
            if found:
                _, i, match = min(found, key=lambda f: f[0])
                self.pos = match.end()
                return i, match
            left = deadline - time.monotonic()
            if left <= 0:
                raise StepFailed("none of %s within %.0f s; bluetoothctl printed:\n%s"
                                 % (patterns, timeout, self.text[self.pos:][-3000:]))
            if self._read(left) is None:
                raise StepFailed("bluetoothctl ended while waiting for %s" % patterns)

    def expect_all(self, patterns, timeout=TIMEOUT):
        """Waits until every pattern appeared after what was consumed, in
        any order (bluetoothctl prints property changes and command results
        as they come); consumes up to the last of them."""
        regexes = [re.compile(p, re.M) for p in patterns]
        deadline = time.monotonic() + timeout
        while True:
            matches = [r.search(self.text, self.pos) for r in regexes]
            if all(matches):
                self.pos = max(m.end() for m in matches)
                return matches
            left = deadline - time.monotonic()
            missing = [p for p, m in zip(patterns, matches) if not m]
            if left <= 0:
                raise StepFailed("no %s within %.0f s; bluetoothctl printed:\n%s"
                                 % (missing, timeout, self.text[self.pos:][-3000:]))
            if self._read(left) is None:
                raise StepFailed("bluetoothctl ended while waiting for %s" % missing)

    def drain(self, quiet=0.3):
        """Reads until nothing comes for @quiet seconds."""
        while self._read(quiet):
            pass

    def send(self, line):
        os.write(self.fd, (line + "\n").encode())

    def between(self, command, timeout=TIMEOUT):
        """Runs @command, then `version` as an end marker; returns what
        @command printed."""
        self.send(command)
        self.send("version")
        start = self.pos
        match = self.expect(r"^Version \d+\.\d+", timeout)
        return self.text[start:match.start()]

    def wait_exit(self, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.status = status
                return os.waitstatus_to_exitcode(status)
            self._read(0.05)
        return None

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait_exit(5) is None:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)


class Run:
    def __init__(self, sim, bluetoothctl):
        self.sim = sim
        self.bluetoothctl = bluetoothctl
        self.term = None
        self.bus = None
        self.address = None
        self.attributes = []    # (kind, path, uuid)
        self.count = 0
        self.failed = 0

    # --- helpers ---

    def control(self, method, *args):
        """Calls org.bleio.Sim1 with gdbus on the private bus."""
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus)
        argv = ["gdbus", "call", "--system", "--dest", "org.bluez",
                "--object-path", "/org/bleio/sim",
                "--method", "org.bleio.Sim1." + method] + list(args)
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.execvpe("gdbus", argv, env)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise StepFailed("gdbus call %s %s failed" % (method, args))

    def attribute(self, uuid):
        for kind, path, attr_uuid in self.attributes:
            if attr_uuid == uuid and kind == "Characteristic":
                return path
        raise StepFailed("list-attributes showed no characteristic %s" % uuid)

    def flags(self, path):
        info = self.term.between("attribute-info " + path)
        return set(re.findall(r"^\s*Flags: (\S+)", info, re.M))

    def select(self, path):
        self.term.send("select-attribute " + path)
        # The prompt names the selected attribute from its service on.
        self.term.expect(re.escape(path[path.index("/service"):]) + r"\]#")

    # --- steps, in order ---

    def step_start(self):
        """bleio-sim run starts bluetoothctl on the private bus; it finds the
        simulated controller and registers its agent."""
        script = 'echo "BUS=$DBUS_SYSTEM_BUS_ADDRESS"; exec "$0"'
        env = dict(os.environ, TERM="dumb", LC_ALL="C.UTF-8")
        self.term = Terminal([self.sim, "run", "--", "sh", "-c", script,
                              self.bluetoothctl], env)
        self.bus = self.term.expect(r"^BUS=(unix:\S+)$").group(1)
        self.term.expect(r"Agent registered")
        self.term.expect(r"\[bluetooth\]#")

    def step_list(self):
        """`list` shows the controller as the default one."""
        self.term.send("list")
        match = self.term.expect(r"^Controller (%s) (.+?) \[default\]" % ADDR)
        self.controller = match.group(1)

    def step_show(self):
        """`show` prints the controller's properties."""
        out = self.term.between("show")
        for pattern in (r"^Controller %s \((public|random)\)" % re.escape(self.controller),
                        r"^\s+Name: \S", r"^\s+Alias: \S", r"^\s+Powered: yes",
                        r"^\s+Discoverable: (yes|no)", r"^\s+Pairable: (yes|no)",
                        r"^\s+Discovering: no", r"^\s+UUID: "):
            if not re.search(pattern, out, re.M):
                raise StepFailed("`show` printed no /%s/:\n%s" % (pattern, out))

    def step_scan(self):
        """`scan le` starts discovery and the demo peripheral appears."""
        self.term.send("scan le")
        self.term.expect(r"Discovery started")
        self.term.expect(r"Discovering: yes")
        match = self.term.expect(r"\[NEW\] Device (%s) %s$" % (ADDR, DEMO_NAME))
        self.address = match.group(1)
        # The crowd of other advertisers shows up too.
        self.term.expect(r"\[NEW\] Device (?!%s)%s " % (self.address, ADDR))
        self.term.send("scan off")
        self.term.expect(r"Discovery stopped")

    def step_info(self):
        """`devices` lists the peripheral and `info` decodes its advertised
        data (name, services, manufacturer and service data, TX power)."""
        # bluetoothd drops RSSI and TxPower when discovery stops: scan again
        # until the next advertisement brings TxPower back.
        self.term.send("scan le")
        self.term.expect(r"Discovering: yes")
        self.term.expect(r"\[CHG\] Device %s TxPower: -?\d+$" % self.address)
        out = self.term.between("devices")
        if not re.search(r"^Device %s %s$" % (self.address, DEMO_NAME), out, re.M):
            raise StepFailed("`devices` does not list %s:\n%s" % (DEMO_NAME, out))
        out = self.term.between("info " + self.address)
        for pattern in (r"^Device %s \((public|random)\)" % self.address,
                        r"^\s+Name: %s$" % DEMO_NAME, r"^\s+Alias: %s$" % DEMO_NAME,
                        r"^\s+Paired: no", r"^\s+Trusted: no", r"^\s+Blocked: no",
                        r"^\s+Connected: no",
                        r"^\s+UUID: Heart Rate\s+\(0000180d-0000-1000-8000-00805f9b34fb\)",
                        r"^\s+UUID: Battery Service\s+\(0000180f-",
                        r"^\s+ManufacturerData Key: 0x[0-9a-f]{4}$",
                        r"^\s+ServiceData Key: [0-9a-f-]{36}$",
                        r"^\s+TxPower: -?\d+$"):
            if not re.search(pattern, out, re.M):
                raise StepFailed("`info` printed no /%s/:\n%s" % (pattern, out))
        self.term.send("scan off")
        self.term.expect(r"Discovery stopped")

    def step_connect(self):
        """`connect` succeeds and services get resolved."""
        self.term.send("connect " + self.address)
        self.term.expect(r"Attempting to connect to " + self.address)
        self.term.expect_all([r"Connection successful",
                              r"Device %s Connected: yes" % self.address,
                              r"Device %s ServicesResolved: yes" % self.address,
                              r"\[%s\]#" % DEMO_NAME], 30)

    def step_list_attributes(self):
        """`menu gatt` then `list-attributes` lists the demo's services."""
        self.term.send("menu gatt")
        self.term.expect(r"list-attributes")
        self.term.drain()
        self.term.pos = len(self.term.text)
        out = self.term.between("list-attributes")
        self.attributes = re.findall(
            r"^(Primary Service|Secondary Service|Characteristic|Descriptor)"
            r"(?: \(Handle 0x[0-9a-fA-F]+\))?\n\s+(/org/bluez/\S+)\n\s+"
            r"([0-9a-f-]{36})$", out, re.M)
        uuids = {uuid[4:8] for kind, path, uuid in self.attributes
                 if kind == "Primary Service"}
        for wanted in ("180d", "180f", "180a"):
            if wanted not in uuids:
                raise StepFailed("no service 0x%s in list-attributes:\n%s" % (wanted, out))
        for kind, path, uuid in self.attributes:
            if not path.startswith("/org/bluez/hci0/dev_" + self.address.replace(":", "_")):
                raise StepFailed("attribute %s is not under the device" % path)
        self.attribute(HEART_RATE_MEASUREMENT)
        self.attribute(BATTERY_LEVEL)

    def step_read(self):
        """`select-attribute` the battery level, then `read` shows its byte."""
        self.select(self.attribute(BATTERY_LEVEL))
        self.term.send("read")
        self.term.expect(r"Attempting to read " + re.escape(self.attribute(BATTERY_LEVEL)))
        match = self.term.expect(LINE + r"([0-9a-f]{2}) {2,}\S? *$")
        level = int(match.group(1), 16)
        if level > 100:
            raise StepFailed("battery level %d is over 100" % level)

    def step_write(self):
        """`write` to a characteristic that accepts writes, and read it back."""
        target = None
        for kind, path, uuid in self.attributes:
            if kind != "Characteristic":
                continue
            flags = self.flags(path)
            if "write" in flags and "read" in flags and not any(
                    f.startswith(("encrypt", "secure", "authenticated")) for f in flags):
                target = path
                break
        if target is None:
            raise StepFailed("no readable, writable characteristic without security")
        self.select(target)
        self.term.send('write "0x5a 0xa5 0x01"')
        self.term.expect(r"Attempting to write " + re.escape(target))
        # bluetoothctl prints nothing when a write succeeds: give it time
        # to finish, so the read does not overlap it.
        self.term.drain(1.0)
        if re.search(r"Failed to write", self.term.text[self.term.pos:]):
            raise StepFailed(self.term.text[self.term.pos:])
        self.term.send("read")
        self.term.expect(r"Attempting to read " + re.escape(target))
        self.term.expect(LINE + r"5a a5 01 {2,}")

    def step_notify(self):
        """`notify on` on the heart rate measurement; a pushed notification
        shows as a Value change; `notify off` stops."""
        path = self.attribute(HEART_RATE_MEASUREMENT)
        self.select(path)
        self.term.send("notify on")
        self.term.expect(r"Notifying: yes")
        self.term.expect(r"Notify started")
        self.control("Notify", path, "[byte 0x16, 0x7b]")
        self.term.expect(r"Attribute %s Value:\n" % re.escape(path) + LINE + r"16 7b {2,}")
        self.term.send("notify off")
        self.term.expect(r"Notify stopped")

    def step_pair(self):
        """`pair` with bluetoothctl's own agent confirming the passkey."""
        self.term.send("back")
        self.term.send("pair " + self.address)
        start = self.term.expect(r"Attempting to pair with " + self.address).end()
        asked = False
        while True:
            i, match = self.term.expect_any([
                r"Confirm passkey \d+ \(yes/no\):",
                r"Authorize service.*\(yes/no\):|Accept pairing \(yes/no\):",
                r"Enter passkey \(number in 0-999999\):",
                r"Pairing successful",
                r"Failed to pair: .*$",
            ], 30)
            if i in (0, 1):
                asked = True
                self.term.send("yes")
            elif i == 2:
                raise StepFailed("asked for a passkey: the demo's passkey is unknown here")
            elif i == 3:
                break
            else:
                raise StepFailed(match.group(0))
        # Paired may have been printed before the result: search again from
        # the pair command on.
        self.term.pos = start
        self.term.expect_all([r"Pairing successful",
                              r"Device %s Paired: yes" % self.address])
        # The demo peripheral displays and confirms (DisplayYesNo) and
        # bluetoothctl's agent is KeyboardDisplay: numeric comparison, so
        # its agent must have been asked to confirm.
        if not asked:
            raise StepFailed("paired without asking bluetoothctl's agent anything")

    def step_disconnect(self):
        """`disconnect` ends the connection."""
        self.term.send("disconnect " + self.address)
        self.term.expect(r"Attempting to disconnect from " + self.address)
        self.term.expect_all([r"Successful disconnected",
                              r"Device %s ServicesResolved: no" % self.address,
                              r"Device %s Connected: no" % self.address])

    def step_remove(self):
        """`remove` deletes the device."""
        self.term.send("remove " + self.address)
        self.term.expect_all([r"\[DEL\] Device %s" % self.address,
                              r"Device has been removed"])

    def step_quit(self):
        """`quit` ends bluetoothctl, and bleio-sim run returns its status 0."""
        self.term.send("quit")
        status = self.term.wait_exit()
        if status is None:
            raise StepFailed("bleio-sim run did not exit after quit")
        if status != 0:
            raise StepFailed("bleio-sim run exited with %d" % status)

    def run(self):
        steps = [self.step_start, self.step_list, self.step_show,
                 self.step_scan, self.step_info, self.step_connect, self.step_list_attributes,
                 self.step_read, self.step_write, self.step_notify,
                 self.step_pair, self.step_disconnect, self.step_remove,
                 self.step_quit]
        print("1..%d" % len(steps), flush=True)
        alive = True
        for step in steps:
            self.count += 1
            name = step.__name__[len("step_"):] + ": " + " ".join(step.__doc__.split())
            if not alive:
                print("not ok %d - %s # bluetoothctl is gone" % (self.count, name))
                self.failed += 1
                continue
            try:
                step()
                print("ok %d - %s" % (self.count, name), flush=True)
            except StepFailed as e:
                self.failed += 1
                print("not ok %d - %s" % (self.count, name))
                for line in str(e).splitlines():
                    print("# " + line)
                sys.stdout.flush()
                # Start over from a fresh prompt if bluetoothctl still runs.
                if self.term is None or self.term.wait_exit(0) is not None:
                    alive = False
                else:
                    self.term.drain()
                    self.term.pos = len(self.term.text)
        if self.term is not None:
            self.term.kill()
        return 1 if self.failed else 0


def main():
    if len(sys.argv) < 2:
        print("usage: %s BLEIO_SIM [BLUETOOTHCTL]" % sys.argv[0], file=sys.stderr)
        return 2
    bluetoothctl = sys.argv[2] if len(sys.argv) > 2 else "bluetoothctl"
    return Run(sys.argv[1], bluetoothctl).run()


if __name__ == "__main__":
    sys.exit(main())
