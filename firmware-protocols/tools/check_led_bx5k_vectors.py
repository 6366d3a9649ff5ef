#!/usr/bin/env python3
"""Checks firmware-protocols/vectors/led-bx5k.json against firmware-protocols/led-bx5k.md.

Written from the protocol document alone (it shares no code with devices/led-bx5k/): the
CRC-16/ARC is computed bit by bit, the escaping and the frame are rebuilt from the document's
tables, and every header field is compared with what the document says hall-edge sends.
Prints one line per failure and exits 1 when there is any; prints a summary and exits 0 otherwise.
"""
import json
import sys
from pathlib import Path

ESCAPES = {0xA5: b"\xa6\x02", 0xA6: b"\xa6\x01", 0x5A: b"\x5b\x02", 0x5B: b"\x5b\x01"}
HOST = 0x8000


def crc16_arc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def escape(packet: bytes) -> bytes:
    return b"".join(ESCAPES.get(b, bytes([b])) for b in packet)


def frame(packet: bytes) -> bytes:
    return b"\xa5" * 8 + escape(packet) + b"\x5a"


def check_packet(name: str, packet: bytes, dest: int, src: int, failures: list) -> None:
    def fail(what: str) -> None:
        failures.append(f"{name}: {what}")

    if len(packet) < 21:
        return fail(f"packet of {len(packet)} bytes is shorter than the 21-byte minimum")
    if int.from_bytes(packet[0:2], "little") != dest:
        fail("destination address")
    if int.from_bytes(packet[2:4], "little") != src:
        fail("source address")
    if packet[4:10] != bytes(6):
        fail("reserved bytes 4..9 not zero")
    if packet[10] != 0xFE or packet[11] != 0x02:
        fail("device type / protocol version")
    payload_length = len(packet) - 19 - 2
    if int.from_bytes(packet[12:14], "little") != 5 + payload_length:
        fail("data length is not 5 + payload length")
    if packet[17:19] != bytes(2):
        fail("reserved bytes 17..18 not zero")
    if int.from_bytes(packet[-2:], "little") != crc16_arc(packet[:-2]):
        fail("CRC-16/ARC does not match")


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "vectors" / "led-bx5k.json"
    vectors = json.loads(path.read_text(encoding="utf-8"))
    failures: list = []
    if crc16_arc(b"123456789") != 0xBB3D:
        failures.append("CRC-16/ARC check value")
    for v in vectors["escapes"]:
        if escape(bytes.fromhex(v["raw"])) != bytes.fromhex(v["escaped"]):
            failures.append(f"escape {v['raw']}")
    for v in vectors["requests"]:
        packet = bytes.fromhex(v["packet"])
        check_packet(v["name"], packet, v["destination"], HOST, failures)
        if packet[16] != v["responseFlag"]:
            failures.append(f"{v['name']}: response flag")
        if packet[-2:].hex() != v["crc"]:
            failures.append(f"{v['name']}: crc field")
        if frame(packet).hex() != v["frame"]:
            failures.append(f"{v['name']}: frame is not preamble + escaped packet + 5A")
    for v in vectors["replies"]:
        packet = bytes.fromhex(v["packet"])
        check_packet(v["name"], packet, HOST, v["source"], failures)
        if (packet[14], packet[15], packet[19]) != (v["group"], v["command"], v["code"]):
            failures.append(f"{v['name']}: group, command or status code")
        if packet[20:-2].hex() != v["dataHex"]:
            failures.append(f"{v['name']}: reply data")
        if frame(packet).hex() != v["frame"]:
            failures.append(f"{v['name']}: frame")
    for v in vectors["captures"]:
        packet = bytes.fromhex(v["packet"])
        if int.from_bytes(packet[-2:], "little") != crc16_arc(packet[:-2]):
            failures.append(f"capture {v['name']}: CRC-16/ARC")
        if frame(packet).hex() != v["frame"]:
            failures.append(f"capture {v['name']}: frame")
    for line in failures:
        print(line)
    counts = {k: len(vectors[k]) for k in ("requests", "replies", "escapes", "captures")}
    print(json.dumps({"checked": counts, "failures": len(failures)}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
