"""Fuzzing the CSV importer (``monitor.csvio.read_interchange_csv``): the campaign's generators
and the checks made on every input.

Inputs are valid interchange files (random readings, metadata, markers, both time styles)
mutated in ways a damaged, hand-edited or hostile file would be: characters flipped, inserted
(CSV-special ones favoured) and deleted, lines duplicated, swapped and cut, cells replaced by
huge, odd or non-numeric values, stray quotes and NUL bytes, non-UTF-8 bytes, plus pure noise.
On each input: the importer returns a recording or raises ``CsvFormatError``, nothing else;
and no reading comes out that the file does not hold (each temperature is a number written in
the file, never more readings than data cells).
"""

from __future__ import annotations

import io
import math
import random
import re
import tempfile
from pathlib import Path

from monitor.csvio import CsvFormatError, read_interchange_csv, write_interchange_csv
from monitor.model import Limb, Marker, MarkerKind, ProbeStatus, Reading

_SPECIAL = [",", ";", "\n", "\r", '"', "#", ":", "\x00", " ", "\t", "e", "-", "+", ".", "nan", "inf", "1e999",
            "﻿", "é", "\u2028", "ok", "left", "=cmd|' /C calc'!A0", "9" * 6]
_ODD_CELLS = ["", "nan", "-inf", "1e308", "-0", "0x1F", "31,5", "３１", " 31 ", "1_000", "open_circuit", "OK",
              "2026-11-23T10:00:00", "2026-11-23T10:00:00+14:00",
              "-1", "4294967296"]
_TOKEN = re.compile(r"[^,\r\n\"\s\x00]+")
_TOKEN_SPREADSHEET = re.compile(r"[^;\r\n\"\s\x00]+")  # ';'-separated with decimal commas


class CsvCampaign:
    def __init__(self, seed: int, kinds: tuple[str, ...] | None = None) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.counts: dict[str, int] = {}
        self._mutators = {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("mut_")}
        if kinds is not None:
            self._mutators = {k: v for k, v in self._mutators.items() if k in kinds}
        self._tmp = Path(tempfile.mkdtemp(prefix="sympatherm-csvfuzz-")) / "input.csv"

    # ---- valid files -------------------------------------------------------------------------
    def readings(self) -> list[Reading]:
        r = self.rng
        out = []
        t = r.uniform(-100, 1000)
        for i in range(r.randint(0, 25)):
            t += r.choice((0.0, 0.1, 1.0, r.uniform(0, 30)))
            wall = 1.7e9 + t
            for limb in Limb:
                if r.random() < 0.15:
                    continue
                status = r.choice((ProbeStatus.OK,) * 6 + tuple(ProbeStatus))
                celsius = None if status is not ProbeStatus.OK and r.random() < 0.5 else round(r.uniform(10, 45), 3)
                out.append(Reading(limb, celsius, status, round(t, 3), wall, r.choice((None, i)), source="csv"))
        return out

    def valid_text(self) -> tuple[str, list[Reading]]:
        r = self.rng
        readings = self.readings()
        metadata = {"blocked": r.choice(("left", "right", None)), "injection_s": r.choice((None, 540.0)),
                    "patient_id": r.choice(("", "PT-1", "=HYPERLINK(\"x\")"))}
        markers = [Marker(r.choice(list(MarkerKind)), round(r.uniform(0, 900), 1), r.choice(("", "a,b", "note")))
                   for _ in range(r.randint(0, 3))]
        buf = io.StringIO()
        write_interchange_csv(buf, readings, metadata, markers=markers)
        text = buf.getvalue()
        if r.random() < 0.2:  # the timestamp style instead of time_s
            lines = text.splitlines()
            for i, line in enumerate(lines):
                if line.startswith("time_s"):
                    lines[i] = "timestamp" + line[len("time_s"):]
                    for j in range(i + 1, len(lines)):
                        cells = lines[j].split(",")
                        cells[0] = f"2026-11-23T10:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
                        lines[j] = ",".join(cells)
                    break
            text = "\n".join(lines) + "\n"
        if r.random() < 0.15:  # as a spreadsheet saves it: ';' with decimal commas, or tabs
            lines = text.splitlines()
            sep = r.choice((";", "\t"))
            for i, line in enumerate(lines):
                if not line.startswith("#"):
                    cells = line.split(",")
                    if sep == ";":
                        cells = [c.replace(".", ",") for c in cells]
                    lines[i] = sep.join(cells)
            text = "\n".join(lines) + "\n"
        return text, readings

    # ---- mutations ---------------------------------------------------------------------------------
    def mut_none(self, text: str) -> str:
        return text

    def mut_flip_chars(self, text: str) -> str:
        chars = list(text)
        for _ in range(self.rng.randint(1, 4)):
            if chars:
                chars[self.rng.randrange(len(chars))] = chr(self.rng.randint(1, 0x2FF))
        return "".join(chars)

    def mut_insert_special(self, text: str) -> str:
        for _ in range(self.rng.randint(1, 4)):
            at = self.rng.randint(0, len(text))
            text = text[:at] + self.rng.choice(_SPECIAL) + text[at:]
        return text

    def mut_delete_range(self, text: str) -> str:
        if not text:
            return text
        a = self.rng.randrange(len(text))
        return text[:a] + text[a + self.rng.randint(1, 40):]

    def mut_lines(self, text: str) -> str:
        lines = text.split("\n")
        r = self.rng
        op = r.choice(("dup", "swap", "drop", "cut"))
        if len(lines) < 2:
            return text + text
        i, j = r.randrange(len(lines)), r.randrange(len(lines))
        if op == "dup":
            lines.insert(i, lines[j])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "drop":
            del lines[i]
        else:
            lines = lines[:i]
        return "\n".join(lines)

    def mut_odd_cell(self, text: str) -> str:
        lines = text.split("\n")
        i = self.rng.randrange(len(lines))
        cells = lines[i].split(",")
        cells[self.rng.randrange(len(cells))] = self.rng.choice(_ODD_CELLS)
        lines[i] = ",".join(cells)
        return "\n".join(lines)

    def mut_extra_columns(self, text: str) -> str:
        lines = text.split("\n")
        i = self.rng.randrange(len(lines))
        lines[i] += "," * self.rng.randint(1, 3) + self.rng.choice(("x", "", '"q"'))
        return "\n".join(lines)

    def mut_noise(self, text: str) -> str:
        alphabet = "0123456789.,-+e\n#:\" abcdefghijklmnopqrstuvwxyz_"
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(0, 300)))

    def mut_header_noise(self, text: str) -> str:
        cols = ["time_s", "timestamp", "left_c", "right_c", "left_status", "right_status", "left_seq",
                "right_seq", "wall_time", "other", ""]
        head = ",".join(self.rng.sample(cols, self.rng.randint(1, len(cols))))
        body = "\n".join(",".join(self.rng.choice(_ODD_CELLS) for _ in range(self.rng.randint(1, 9)))
                         for _ in range(self.rng.randint(0, 6)))
        return head + "\n" + body + "\n"

    def mut_huge_integer_cell(self, text: str) -> str:
        lines = text.split("\n")
        i = self.rng.randrange(len(lines))
        cells = lines[i].split(",")
        cells[self.rng.randrange(len(cells))] = str(self.rng.choice((2**63, 2**64 + 7, 10**30, -(2**70))))
        lines[i] = ",".join(cells)
        return "\n".join(lines)

    def mut_extreme_timestamp(self, text: str) -> str:
        lines = text.split("\n")
        i = self.rng.randrange(len(lines))
        cells = lines[i].split(",")
        cells[0] = self.rng.choice(("0001-01-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00"))
        lines[i] = ",".join(cells)
        return "\n".join(lines)

    def mut_huge_field(self, text: str) -> str:
        at = text.find("\n", text.find("time") if "time" in text else 0) + 1
        return text[:at] + '0,"' + "3" * self.rng.choice((131_073, 300_000)) + '"\n' + text[at:]

    # ---- the checks ---------------------------------------------------------------------------------
    def check_text(self, text: str, kind: str) -> None:
        try:
            rec = read_interchange_csv(io.StringIO(text, newline=""))
        except CsvFormatError as exc:
            if not str(exc) or "\n" in str(exc).strip():
                self.fail(kind, text, "the error is not one plain line")
            return
        except Exception as exc:  # noqa: BLE001 - any other exception escaping is the failure
            self.fail(kind, text, f"{type(exc).__name__}: {exc}")
        self.check_nothing_invented(rec.readings, text, kind)

    def check_bytes(self, data: bytes, kind: str) -> None:
        self._tmp.write_bytes(data)
        try:
            rec = read_interchange_csv(self._tmp)
        except CsvFormatError:
            return
        except Exception as exc:  # noqa: BLE001
            self.fail(kind, data.decode("latin-1"), f"{type(exc).__name__}: {exc}")
        self.check_nothing_invented(rec.readings, data.decode("utf-8-sig", "replace"), kind)

    def check_nothing_invented(self, readings: list[Reading], text: str, kind: str) -> None:
        numbers = set()
        tokens = _TOKEN.findall(text) + [t.replace(",", ".") for t in _TOKEN_SPREADSHEET.findall(text)]
        for token in tokens:
            try:
                numbers.add(float(token))
            except ValueError:
                pass
        rows = text.count("\n") + text.count("\r") + text.count("\u2028") + 1
        if len(readings) > 2 * rows:
            self.fail(kind, text, f"{len(readings)} readings from {rows} lines")
        for r in readings:
            if r.celsius is not None and r.celsius not in numbers and not math.isnan(r.celsius):
                self.fail(kind, text, f"reading {r.celsius} is not a number written in the file")

    def fail(self, kind: str, text: str, detail: str) -> None:
        raise AssertionError(f"seed {self.seed}, mutation {kind}: {detail}; input {text[:2000]!r}")

    # ---- one input -----------------------------------------------------------------------------------
    def one(self) -> None:
        kind = self.rng.choice(sorted(self._mutators))
        text, _ = self.valid_text()
        mutated = self._mutators[kind](text)
        for _ in range(self.rng.choice((0, 0, 0, 1, 2))):
            mutated = self._mutators[self.rng.choice(sorted(self._mutators))](mutated)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self.rng.random() < 0.05:  # through a real file, with bytes that may not be UTF-8
            data = bytearray(mutated.encode("utf-8", "surrogatepass"))
            for _ in range(self.rng.randint(0, 3)):
                if data:
                    data[self.rng.randrange(len(data))] = self.rng.randint(0x80, 0xFF)
            self.check_bytes(bytes(data), kind + "/file")
        else:
            self.check_text(mutated, kind)

    def run(self, target: int) -> dict[str, int]:
        for _ in range(target):
            self.one()
        return dict(self.counts)
