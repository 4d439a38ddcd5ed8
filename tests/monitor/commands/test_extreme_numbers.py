"""Every numeric flag of every command, driven through the real parser with extreme numbers.

A number is either refused by argparse (exit code 2, one line naming the flag, before any file
is created) or accepted inside the range `monitor/commands/_common.py` writes down; never a
traceback. The defects found by hand each have their own test below, through ``main`` as typed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import cli, paths
from monitor.commands import _common
from monitor.commands._common import NumberIn, WholeNumberIn
from monitor.store import SessionStore

# The words each command needs to parse at all, before the numeric flag under test.
_BASE = {"record": ["record", "--demo"], "simulate": ["simulate", "--pty"],
         "demo": ["demo", "--snapshot", "x.png"], "analyze": ["analyze", "x.csv"]}

EXTREMES = ["inf", "-inf", "+inf", "nan", "-nan", "NaN", "1e308", "-1e308", "1e999", "-1e999", "0", "-0", "0.0",
            "-0.0", "1e-320", "-1e-320", "4.9e-324", "9" * 400, "-" + "9" * 400, "1" + "0" * 5000,
            str(2**64), str(-(2**63)), "4294967296", "-1", "1e10", "172801", "0x10", "1_000", " 5 ", "",
            "five", "--5", "1e", "٣"]


def _numeric_flags() -> list[tuple[str, str, argparse.Action]]:
    """(command, flag, action) for every option of every command that takes a number."""
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    found = []
    for command, p in sub.choices.items():
        for action in p._actions:
            if action.option_strings and action.type in (float, int, NumberIn, WholeNumberIn) or \
                    isinstance(action.type, NumberIn | WholeNumberIn):
                found.append((command, action.option_strings[0], action))
    return found


NUMERIC_FLAGS = _numeric_flags()


def test_every_numeric_flag_is_range_checked():
    untyped = [(c, f) for c, f, a in NUMERIC_FLAGS if a.type in (float, int)]
    assert not untyped, f"these flags take any float or int, inf and nan included: {untyped}"
    assert {(c, f) for c, f, _ in NUMERIC_FLAGS} >= {
        ("record", "--baud"), ("record", "--speed"), ("record", "--seed"), ("record", "--duration"),
        ("record", "--core-c"), ("record", "--room-c"), ("record", "--injection-at"), ("record", "--status-every"),
        ("simulate", "--speed"), ("simulate", "--seed"), ("simulate", "--rate"),
        ("demo", "--speed"), ("demo", "--seed"), ("demo", "--rate"), ("demo", "--after"),
        ("analyze", "--injection-at"), ("analyze", "--core-c")}


def _parser_that_only_notes(given_args: list[argparse.Namespace]) -> argparse.ArgumentParser:
    """The real parser, every command's work replaced by a note of the arguments it was given."""
    parser = _real_build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for p in sub.choices.values():
        p.set_defaults(func=lambda args: given_args.append(args) or 0)
    return parser


_real_build_parser = cli.build_parser


def _run_main(argv: list[str]) -> tuple[int, str, argparse.Namespace | None]:
    """``cli.main(argv)`` as typed, but nothing is run: only parsed (exit code, stderr, arguments)."""
    given_args: list[argparse.Namespace] = []
    err = io.StringIO()
    cli.build_parser = lambda: _parser_that_only_notes(given_args)  # type: ignore[assignment]
    try:
        with contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        cli.build_parser = _real_build_parser  # type: ignore[assignment]
    return code, err.getvalue(), given_args[0] if given_args else None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flag=st.sampled_from(NUMERIC_FLAGS),
       text=st.one_of(st.sampled_from(EXTREMES), st.floats().map(repr), st.integers().map(str),
                      st.integers(min_value=-(10**40), max_value=10**40).map(str),
                      st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:e}")))
def test_extreme_numbers_are_refused_in_one_line_or_accepted_in_range(flag, text):
    command, option, action = flag
    code, err, args = _run_main([*_BASE.get(command, [command]), f"{option}={text}"])
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()
        if command not in _BASE:  # a command added since: at least one plain line, whatever it lacks
            assert lines and len(lines[-1]) < 300, err
            return
        assert lines[-1].startswith(f"sympatherm {command}: error: argument {option}"), err
        assert len(lines[-1]) < 200, "one short line, however long the number typed"
        return
    assert code == 0 and args is not None, err
    value = getattr(args, action.dest)
    assert math.isfinite(value) and action.type.low <= value <= action.type.high
    assert not (isinstance(value, float) and math.copysign(1.0, value) < 0 and value == 0.0)


@pytest.mark.parametrize("argv, flag", [
    (["record", "--demo", "--speed", "inf", "--duration", "60"], "--speed"),
    (["record", "--demo", "--speed", "1e308", "--duration", "60"], "--speed"),
    (["record", "--demo", "--injection-at", "-50"], "--injection-at"),
    (["record", "--demo", "--injection-at", "nan"], "--injection-at"),
    (["record", "--demo", "--room-c", "1e999"], "--room-c"),
    (["record", "--demo", "--core-c", "0"], "--core-c"),
    (["record", "--demo", "--duration", "1e308"], "--duration"),
    (["simulate", "--pty", "--rate", "1e9"], "--rate"),
])
def test_the_numbers_found_by_hand_are_refused_and_leave_no_file(argv, flag, tmp_path, capsys):
    out = tmp_path / "s.sympatherm"
    with pytest.raises(SystemExit) as exited:
        cli.main([*argv, "--out", str(out)] if argv[0] == "record" else argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"error: argument {flag}" in err and "Traceback" not in err
    assert not out.exists() and list(paths.sessions_dir().iterdir()) == []
    assert list(tmp_path.iterdir()) == []


def test_an_injection_mark_after_the_end_of_the_session_is_refused_before_a_file_is_made(tmp_path, capsys):
    out = tmp_path / "s.sympatherm"
    assert cli.main(["record", "--demo", "--duration", "60", "--injection-at", "120", "--out", str(out)]) == 2
    assert "would never be placed" in capsys.readouterr().err
    assert not out.exists()


def test_the_edges_of_every_range_record_a_real_session(tmp_path, capsys):
    out = tmp_path / "edges.sympatherm"
    argv = ["record", "--demo", "--speed", "10000", "--duration", "60", "--seed", str(2**32 - 1), "--core-c", "42",
            "--room-c", "10", "--injection-at", "0", "--status-every", "3600", "--out", str(out)]
    assert cli.main(argv) == 0, capsys.readouterr().err
    with SessionStore.open_read_only(out) as store:
        info = store.info()
        assert (info.core_c, info.room_c) == (42.0, 10.0)
        assert store.reading_count() > 0


def test_analyze_copes_with_absurd_times_in_a_csv(tmp_path, capsys):
    for name, rows in (("huge.csv", [f"{1e300 + k * 1e285!r},30.0,30.0" for k in range(50)]),
                       ("tiny.csv", [f"{-1e300 - k * 1e285!r},30.0,30.0" for k in range(50)]),
                       ("one.csv", ["0,30,30", "1,30,30", "1e300,30,30"])):
        path = tmp_path / name
        path.write_text("# blocked: left\n# injection_s: 10\ntime_s,left_c,right_c\n" + "\n".join(rows) + "\n")
        assert cli.main(["analyze", str(path)]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.count("\n") == 1, err
        assert "is not a time any clock gives" in err
    marked = tmp_path / "marker.csv"
    marked.write_text("# blocked: left\n# marker: injection,1e300,late\ntime_s,left_c,right_c\n0,30,30\n")
    assert cli.main(["analyze", str(marked)]) == 2
    assert "marker time" in capsys.readouterr().err
    meta = tmp_path / "meta.csv"
    meta.write_text("# blocked: left\n# injection_s: 1e300\ntime_s,left_c,right_c\n0,30,30\n")
    assert cli.main(["analyze", str(meta)]) == 2
    assert "injection_s" in capsys.readouterr().err


def test_posix_seconds_as_a_time_axis_are_still_read(tmp_path, capsys):
    path = tmp_path / "posix.csv"
    rows = [f"{1.7e9 + k},{30.0 + (k > 400) * min(4.0, (k - 400) / 60)},30.0" for k in range(1500)]
    path.write_text("# blocked: left\ntime_s,left_c,right_c\n" + "\n".join(rows) + "\n")
    assert cli.main(["analyze", str(path), "--injection-at", str(1.7e9 + 400)]) == 0, capsys.readouterr().err


def test_the_dialogs_spin_boxes_hold_the_command_lines_ranges(qtbot):
    from monitor.model import SessionInfo
    from ui.setup_dialog import _optional_temp

    room, core = _optional_temp(*_common.ROOM_C_RANGE), _optional_temp(*_common.CORE_C_RANGE)
    # The minimum of each is "not known"; the values that can be entered are the command line's range.
    assert (room.minimum() + 0.1, room.maximum()) == pytest.approx(_common.ROOM_C_RANGE)
    assert (core.minimum() + 0.1, core.maximum()) == pytest.approx(_common.CORE_C_RANGE)
    source = Path(__file__).resolve().parents[3] / "ui"
    setup = (source / "setup_dialog.py").read_text()
    assert "_optional_temp(10.0, 40.0)" in setup and "_optional_temp(30.0, 42.0)" in setup
    assert "self.speed.setRange(1.0, 600.0)" in setup  # inside 0.1–10 000
    assert _common.SPEED_RANGE[0] <= 1.0 and 600.0 <= _common.SPEED_RANGE[1]
    from ui import marker_dialog

    assert marker_dialog.MAX_SESSION_S == _common.MAX_SESSION_S == 48 * 3600.0
    assert SessionInfo  # the dialogs build sessions from these values
