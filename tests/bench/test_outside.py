"""The outside check (bench/outside): patients written from the physiology, not from our simulator.

A small run (2 seeds per class at 1 Hz) that every case runs, every class is in the table, and no
confirmation without a block is one a working block could not also have given (not a block's twin).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from bench.outside.evaluate import evaluate, format_table, summarise, tagged, truth, twin
from bench.outside.patients import CLASSES, make_case


@pytest.fixture(scope="module")
def rows():
    return evaluate(seeds=2, rates=(1.0,))


def test_every_case_ran_and_every_class_is_in_the_table(rows):
    assert len(rows) == 2 * len(CLASSES)
    assert {r["outcome"] for r in rows} <= {"confirmed", "not_confirmed", "insufficient_data"}
    summary = summarise(rows)
    assert [(s["cls"], s["n"]) for s in summary] == [(cls, 2) for cls in sorted(CLASSES)]
    table = format_table(summary)
    for cls in CLASSES:
        assert f"| {cls} | 1 Hz | 2 |" in table


def test_no_false_confirmation_that_is_not_a_blocks_twin(rows):
    false = [r for tag, r in tagged(rows) if tag == "FALSE"]
    assert [(r["cls"], r["seed"], r["twin"]["why_not"]) for r in false if not r["twin"]["twin"]] == []


def test_a_working_block_is_met_by_the_truth_and_a_body_warming_alone_is_not():
    block = make_case("block", 1)
    met, margin = truth(block, with_data=False)
    assert met is not None and block.inj_s < met and margin > 0
    assert truth(block, with_data=True)[0] == met  # no probe off the skin in this case
    alone = make_case("sys-only", 1)
    assert truth(alone, with_data=False)[0] is None
    assert twin(alone, alone.inj_s + 2999)["twin"]  # both feet warming with the body: a block's readings too


def test_a_tape_peeling_in_steps_is_no_blocks_twin():
    # The other foot fell 0.7 °C within a minute: faster than a foot cools after a block.
    case = make_case("sys-loose-steps", 13)
    result = twin(case, case.inj_s + 22.4 * 60)
    assert not result["twin"]
    assert any(w.startswith("fell") for w in result["why_not"])


def test_the_same_seed_gives_the_same_readings():
    a, b = make_case("hand-block", 3), make_case("hand-block", 3)
    for limb in ("left", "right"):
        assert np.array_equal(a.readings(limb, 1.0)[1], b.readings(limb, 1.0)[1])


def test_the_generator_does_not_import_the_project_s_simulator_or_core():
    code = "import sys, bench.outside.patients; print([m for m in sys.modules if m.split('.')[0] == 'monitor'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_prints_the_table_and_json():
    cmd = [sys.executable, "-m", "bench.outside", "--seeds", "1", "--rate", "1.0", "0.2", "--classes", "block"]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "| block | 1 Hz | 1 |" in text and "| block | 0.2 Hz | 1 |" in text
    data = json.loads(subprocess.run(cmd + ["--json"], capture_output=True, text=True, check=True).stdout)
    assert [(s["cls"], s["rate"]) for s in data["classes"]] == [("block", 1.0), ("block", 0.2)]
    assert len(data["cases"]) == 2
