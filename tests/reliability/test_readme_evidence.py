"""The README's fault matrix and security review name the tests that prove each claim: every
test they name must exist, so the evidence cannot silently go stale when tests are renamed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = re.compile(r"<!-- BEGIN reliability \(issue 8\) -->(.*?)<!-- END reliability \(issue 8\) -->", re.S)
REFERENCE = re.compile(r"`((?:[\w./-]+|…)?\.py|…)(?:::([\w…\[\]-]+))?`")


def _resolve(name: str, previous: Path | None) -> Path:
    if name == "…":
        assert previous is not None, "'…::' with no file named before it"
        return previous
    if "/" in name:
        return ROOT / name
    found = sorted((ROOT / "tests").rglob(name))
    assert len(found) == 1, f"{name}: {len(found)} files with that name under tests/"
    return found[0]


def _has_test(path: Path, name: str) -> bool:
    text = path.read_text(encoding="utf-8")
    name = name.split("[")[0]
    if name.endswith("…"):  # a shortened name: a prefix
        return re.search(rf"^def {re.escape(name[:-1])}\w*\(", text, re.M) is not None
    return re.search(rf"^def {re.escape(name)}\(", text, re.M) is not None


def test_every_test_named_in_the_reliability_and_security_evidence_exists():
    section = SECTION.search((ROOT / "README.md").read_text(encoding="utf-8")).group(1)
    evidence = section.split("### Fuzzing")[0] + section.split("### Security review")[1].split("### Benchmarks")[0]
    previous: Path | None = None
    checked = 0
    for file_name, test_name in REFERENCE.findall(evidence):
        if not file_name.startswith(("tests/", "test_", "…")):
            continue
        path = _resolve(file_name, previous)
        assert path.is_file(), f"README names {file_name}, which does not exist"
        if test_name:
            assert _has_test(path, test_name), f"README names {path.relative_to(ROOT)}::{test_name}, which does not exist"
            checked += 1
        previous = path
    assert checked >= 25, f"only {checked} test references found: has the README's format changed?"
