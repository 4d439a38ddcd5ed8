"""The fault matrix (docs/reliability.md) and the security review (docs/security.md) name the
tests that prove each claim: every test they name must exist, so the evidence cannot silently go
stale when tests are renamed or moved."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RELIABILITY = ROOT / "docs" / "reliability.md"
SECURITY = ROOT / "docs" / "security.md"
REFERENCE = re.compile(r"`((?:[\w./-]+|…)?\.py|…)(?:::([\w…\[\]-]+))?`")


def _section(path: Path, heading: str) -> str:
    """The text under a ``## heading`` of ``path``, up to the next ``## `` heading."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match is not None, f"{path.relative_to(ROOT)} has no '## {heading}' section"
    return match.group(1)


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


def _check(evidence: str, where: str) -> int:
    """Every test file and test named in ``evidence`` exists; returns how many tests were named."""
    previous: Path | None = None
    checked = 0
    for file_name, test_name in REFERENCE.findall(evidence):
        if not file_name.startswith(("tests/", "test_", "…")):
            continue
        path = _resolve(file_name, previous)
        assert path.is_file(), f"{where} names {file_name}, which does not exist"
        if test_name:
            assert _has_test(path, test_name), f"{where} names {path.relative_to(ROOT)}::{test_name}, which does not exist"
            checked += 1
        previous = path
    return checked


def test_every_test_named_in_the_fault_matrix_exists():
    checked = _check(_section(RELIABILITY, "Fault matrix"), "the fault matrix (docs/reliability.md)")
    assert checked >= 20, f"only {checked} test references in the fault matrix: has its format changed?"


def test_every_test_named_in_the_security_review_exists():
    # The whole page: each claim's "*Tests*:" line, under its own heading.
    checked = _check(SECURITY.read_text(encoding="utf-8"), "the security review (docs/security.md)")
    assert checked >= 6, f"only {checked} test references in the security review: has its format changed?"


def test_the_reliability_and_security_evidence_together_name_at_least_25_tests():
    checked = (_check(_section(RELIABILITY, "Fault matrix"), "the fault matrix")
               + _check(SECURITY.read_text(encoding="utf-8"), "the security review"))
    assert checked >= 25, f"only {checked} test references found: has the docs' format changed?"
