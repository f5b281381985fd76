#!/usr/bin/python3
"""Turns the golden packet captures (tests/data/golden/*.txt) into seed files for
codec_fuzz: one file per packet, prefixed by the selector byte codec_fuzz reads first
(0 = MQTT 3.1, 1 = 3.1.1, 2 = 5.0).

Usage: golden_seeds.py GOLDEN_DIR OUT_DIR
"""
import hashlib
import pathlib
import sys

SELECTOR = {"3.1": 0, "3.1.1": 1, "5": 2}


def main() -> None:
    golden, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(golden.glob("*.txt")):
        for line in path.read_text().splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) < 4 or fields[1] not in SELECTOR:
                continue
            data = bytes([SELECTOR[fields[1]]]) + bytes.fromhex(fields[3])
            name = "golden-" + hashlib.sha1(data).hexdigest()[:16]
            (out / name).write_bytes(data)


if __name__ == "__main__":
    main()
