#!/usr/bin/python3
"""Check bluetti-sim --modbus-tcp with an independent Modbus TCP implementation (pymodbus,
Debian's python3-pymodbus), against the firmware behaviour of LOCAL.md §1.3-§1.8.

    mbtcp_peer.py behaviour PORT   every rule of the open map, one connection
    mbtcp_peer.py fragile PORT N   after N+1 connections within a minute, no answers
Exit 0 on success, 1 with one FAIL line per broken rule, 77 if pymodbus is missing."""
import socket
import struct
import sys
import time

try:
    from pymodbus.client import ModbusTcpClient
    from pymodbus.pdu import ExceptionResponse
except ImportError:
    print("pymodbus not installed (apt-get install python3-pymodbus): skipped")
    sys.exit(77)

fails = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        fails.append(what)


def client(port):
    c = ModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
    assert c.connect(), "connect"
    return c


def regs(rr):
    return getattr(rr, "registers", None)


def exc_code(rr):
    return rr.exception_code if isinstance(rr, ExceptionResponse) else None


def raw(port, adu, wait=0.7):
    """Send raw bytes on a fresh connection; return what came back within wait seconds."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(wait)
    s.sendall(adu)
    data = b""
    try:
        while True:
            chunk = s.recv(300)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    s.close()
    return data


def behaviour(port):
    c = client(port)
    # §1.3: reads inside the map answer the internal registers' values.
    r = regs(c.read_holding_registers(50001, 9, slave=1))
    check(r is not None and len(r) == 9, "read 50001 x9 (internal 120, 142-149) answers 9 registers")
    r = regs(c.read_holding_registers(50214, 3, slave=1))
    check(r is not None and 495 <= r[0] <= 505, "50214 = grid frequency 1300 in 0.1 Hz (%s)" % r)
    r = regs(c.read_holding_registers(51002, 1, slave=1))
    check(r is not None and 4000 <= r[0] <= 6000, "51002 = pack voltage 6003 in 0.01 V (%s)" % r)
    r = regs(c.read_holding_registers(50001, 31, slave=1))
    check(r is not None and len(r) == 31, "read across runs 50001-50031 answers 31 registers")
    # §1.4/§1.8: a one-register read of an unmapped address, or inside a run: exception 2.
    check(exc_code(c.read_holding_registers(50032, 1, slave=1)) == 2, "unmapped 50032 x1 -> exception 02")
    check(exc_code(c.read_holding_registers(50005, 1, slave=1)) == 2, "50005 x1 (not a run start) -> exception 02")
    # other function codes: address first, then exception 1
    check(exc_code(c.read_input_registers(50001, 1, slave=1)) == 1, "FC04 at mapped 50001 -> exception 01")
    check(exc_code(c.read_input_registers(50032, 1, slave=1)) == 2, "FC04 at unmapped 50032 -> exception 02")
    # writes: the echo names the internal register; RO refused
    w = c.write_register(57005, 1, slave=1)
    check(getattr(w, "address", None) == 2012 and getattr(w, "value", None) == 1,
          "FC06 57005 = 1 (DC output) echoes internal 2012 (%s)" % w)
    check(exc_code(c.write_register(50001, 1, slave=1)) == 2, "FC06 to read-only 50001 -> exception 02")
    check(exc_code(c.write_register(57002, 1, slave=1)) == 2, "FC06 to unmapped 57002 -> exception 02")
    w = c.write_registers(57016, [15, 95], slave=1)
    check(getattr(w, "address", None) == 57016 and getattr(w, "count", None) == 2,
          "FC16 57016 x2 (SOC low/high) answers with the public address (%s)" % w)
    r = regs(c.read_holding_registers(57016, 2, slave=1))
    check(r == [15, 95], "read-back 57016 x2 = [15, 95] (%s)" % r)
    # unit 100 reaches the summary slave like unit 1
    r = regs(c.read_holding_registers(50214, 1, slave=100))
    check(r is not None and 495 <= r[0] <= 505, "unit 100 answers like unit 1")
    c.close()

    # §1.5: a multi-register read touching an unmapped address gets no reply at all, and the
    # connection stays up (a following request on the same socket is answered).
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(0.8)
    s.sendall(struct.pack(">HHHBBHH", 7, 0, 6, 1, 3, 50030, 5))
    try:
        got = s.recv(300)
    except socket.timeout:
        got = None
    check(got is None, "50030 x5 (50032 unmapped) -> no reply")
    s.sendall(struct.pack(">HHHBBHH", 8, 0, 6, 1, 3, 50214, 1))
    try:
        got = s.recv(300)
    except socket.timeout:
        got = b""
    check(len(got) == 11 and got[:2] == b"\x00\x08", "the same connection answers the next request")
    # §1.8: more than 91 registers always meets silence, never exception 3
    s.sendall(struct.pack(">HHHBBHH", 9, 0, 6, 1, 3, 55101, 92))
    try:
        got = s.recv(300)
    except socket.timeout:
        got = None
    check(got is None, "55101 x92 -> no reply (the longest run is 91)")
    # another unit id: ignored
    s.sendall(struct.pack(">HHHBBHH", 10, 0, 6, 5, 3, 50214, 1))
    try:
        got = s.recv(300)
    except socket.timeout:
        got = None
    check(got is None, "unit 5 -> no reply")
    s.close()

    # one client at a time: a second connection is served only after the first closes
    a = socket.create_connection(("127.0.0.1", port))
    a.sendall(struct.pack(">HHHBBHH", 1, 0, 6, 1, 3, 50214, 1))
    a.settimeout(1)
    check(len(a.recv(300)) == 11, "first client served")
    b = socket.create_connection(("127.0.0.1", port))
    b.settimeout(0.6)
    b.sendall(struct.pack(">HHHBBHH", 2, 0, 6, 1, 3, 50214, 1))
    try:
        got = b.recv(300)
    except socket.timeout:
        got = None
    check(got is None, "second client waits while the first is connected")
    a.close()
    b.settimeout(2)
    try:
        got = b.recv(300)
    except socket.timeout:
        got = None
    check(got is not None and len(got) == 11, "second client served once the first closed")
    b.close()

    # a broken MBAP header (protocol id 1) closes the connection
    check(raw(port, struct.pack(">HHHBBHH", 1, 1, 6, 1, 3, 50214, 1)) == b"",
          "protocol id 1 -> connection closed without a reply")


def fragile(port, n):
    for i in range(n + 1):
        c = client(port)
        r = regs(c.read_holding_registers(50214, 1, slave=1))
        c.close()
        if i < n:
            check(r is not None, "connection %d answered" % (i + 1))
        time.sleep(0.05)
    c = client(port)
    check(regs(c.read_holding_registers(50214, 1, slave=1)) is None,
          "after %d connections within a minute the device no longer answers" % (n + 1))
    c.close()


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "behaviour":
        behaviour(port)
    else:
        fragile(port, int(sys.argv[3]))
    sys.exit(1 if fails else 0)
