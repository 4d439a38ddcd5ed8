"""Every benchmark in one command: writes docs/benchmarks.json and docs/benchmarks.md.

Runs each ``bench/bench_*.py`` module's ``run() -> dict`` (decoder throughput, serial latency,
pipeline offline and live cost, GUI frame time / CPU / memory; a new module is picked up by
itself and its figures kept in the JSON), the detector evaluation (``bench.evaluation``)
and the soak (``bench/soak.py``), then puts each headline figure beside its goal and, where
one was measured in the same process, its baseline ratio.

    tools/bench            # the full run (about 3-4 minutes on 2 cores)
    tools/bench --quick    # shorter sessions and fewer repetitions (about 1-2 minutes; written to a
                           # temporary folder, never over the published docs/benchmarks.*)

Exit status 1 if a benchmark failed or a goal was missed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DOCS = ROOT / "docs"


# ---- how each benchmark is run, full and quick -----------------------------------------------
def _gui(quick: bool) -> dict:
    import bench.bench_gui as gui

    if not quick:
        return gui.run()
    # Quick: one simulated hour in the worker (its own process, offscreen) and 5 s of CPU.
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from bench.bench_gui import session_worker; "
            "print(json.dumps(session_worker(1, 60)))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT)], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), check=False)
    if out.returncode != 0:
        raise RuntimeError(f"GUI benchmark worker failed:\n{out.stderr[-2000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures.update(gui.cpu_of_live_demo(5.0, 3.0))
    figures["hours_simulated"] = 1
    return figures


RUNNERS: dict[str, Callable[[bool], dict]] = {
    "bench_decode": lambda quick: importlib.import_module("bench.bench_decode").run(
        **({"n": 5000, "repeats": 2} if quick else {})),
    "bench_latency": lambda quick: importlib.import_module("bench.bench_latency").run(
        **({"readings": 2000} if quick else {})),
    "bench_pipeline": lambda quick: importlib.import_module("bench.bench_pipeline").run(
        **({"hours": 1.0, "live_readings": 5000, "repeat": 1} if quick else {})),
    "bench_gui": _gui,
    # Real time: 60 s per design measured (the code as it is, and the recommended one); quick 10 s.
    "bench_screen_latency": lambda quick: importlib.import_module("bench.bench_screen_latency").run(
        **({"seconds": 10.0} if quick else {})),
    # 32 stations → a real Mosquitto → the central: 60 s measured (quick 20 s), then a station's cost.
    "bench_central": lambda quick: importlib.import_module("bench.bench_central").run(
        **({"seconds": 20.0, "station_seconds": 8.0, "repeats": 1} if quick else {})),
}


def _evaluation(quick: bool) -> dict:
    """The original suite's totals (the rows' long-standing meaning) and the per-class goals of
    every class, the other foot's and the hand's included (docs/detector.md)."""
    from bench.evaluation import ORIGINAL, class_goals, evaluate, goals_met, summarise, summarise_classes

    seeds = 3 if quick else 30
    results = evaluate(seeds)
    summary = summarise([r for r in results if r.scenario in ORIGINAL])
    classes = summarise_classes(results)
    return {"seeds_per_scenario": seeds, "summary": summary, "goals": goals_met(summary),
            "classes": classes, "class_goals": class_goals(classes)}


def _soak(quick: bool) -> dict:
    from bench.soak import run

    return run(hours=1.0 if quick else 8.0, rate_hz=10.0)


def _class_rows(add: Callable[..., None], classes: list[dict], goals: dict[str, bool]) -> None:
    """The per-class evaluation's goals as rows: false confirmations in every class (and those
    that are a working block's twin apart), and the delay where data was present."""
    false = sum(r["detector_false_confirmations"] for r in classes)
    twins = sum(r["false_confirmations_block_twins"] for r in classes)
    negatives = sum(r["negative_cases"] for r in classes)
    add(f"per class ({len(classes)} classes): false confirmations (n = {negatives})",
        f"{false} ({twins} a working block's twin)", "0 in every class", "–",
        goals["0 false confirmations in every class"])
    add("per class: false confirmations that are not a working block's twin", str(false - twins),
        "0 in every class", "–", goals["0 false confirmations in every class, a working block's twin apart"])
    clear = [r["detector_delay_clear"] for r in classes if r["detector_delay_clear"]["median_s"] is not None]
    worst_median = max(d["median_s"] for d in clear) if clear else None
    worst = max(d["worst_s"] for d in clear) if clear else None
    add("per class: delay after the truth with data present, largest median / worst (clear cases)",
        f"{_fmt(worst_median, 0)} / {_fmt(worst, 0)} s", "median ≤ 15 s, worst ≤ 90 s", "–",
        goals["median delay ≤ 15 s (clear cases, data present)"] and goals["worst delay ≤ 90 s (clear cases, data present)"])


def bench_modules() -> list[str]:
    return sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))


def collect(quick: bool, only: list[str] | None = None, log=print) -> dict:
    jobs: list[tuple[str, Callable[[], dict]]] = []
    for name in bench_modules():
        runner = RUNNERS.get(name)
        if runner is None:  # a benchmark added later: its default run, figures kept as they come
            jobs.append((name, lambda n=name: importlib.import_module(f"bench.{n}").run()))
        else:
            jobs.append((name, lambda r=runner: r(quick)))
    jobs += [("evaluation", lambda: _evaluation(quick)), ("soak", lambda: _soak(quick))]
    results: dict[str, dict] = {}
    for name, job in jobs:
        if only and name not in only:
            continue
        log(f"running {name} ...", flush=True)
        t0 = time.perf_counter()
        try:
            results[name] = job()
        except Exception as exc:  # noqa: BLE001 - one failing benchmark must not hide the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        results[name]["_seconds"] = round(time.perf_counter() - t0, 1)
        log(f"  done in {results[name]['_seconds']} s", flush=True)
    return results


# ---- the table ---------------------------------------------------------------------------------------
def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def rows(results: dict, quick: bool) -> list[dict]:
    """Headline rows: measure, result, goal, baseline ratio, met (True/False/None)."""
    out: list[dict] = []

    def add(measure: str, result: str, goal: str, ratio: str = "–", met: bool | None = None) -> None:
        out.append({"measure": measure, "result": result, "goal": goal, "baseline_ratio": ratio, "met": met})

    def failed(name: str) -> bool:
        if "error" in results.get(name, {}):
            add(name, f"failed: {results[name]['error'][:120]}", "runs", met=False)
            return True
        return name not in results

    if not failed("bench_decode"):
        d = results["bench_decode"]
        goal = d.get("goal_ratio", 100.0)
        for label, key, ratio, line in (("binary frames", "binary_frames_per_s_one_per_read", "binary_ratio_to_line",
                                         "binary"),
                                        ("text lines", "text_lines_per_s_one_per_read", "text_ratio_to_line", "text")):
            add(f"decode throughput, {label} (one per read call)", f"{_fmt(d[key])} /s",
                f"≥ {goal:g}× a 115200-baud line ({d['line_rate_frames_per_s'][line]:.0f} /s)",
                f"{d[ratio]:.0f}× the line rate", d[ratio] >= goal)
    if not failed("bench_latency"):
        la = results["bench_latency"]
        add(f"source latency, bytes on the pty → reading delivered (p50 / p99, {la['readings']} readings)",
            f"{la['p50_ms']:.2f} / {la['p99_ms']:.2f} ms", f"p99 < {la['goal_p99_ms']:g} ms",
            f"p99 {la['p99_ratio_to_raw_pty']:g}× a bare pty read", la["meets_goal"])
    if not failed("bench_pipeline"):
        p = results["bench_pipeline"]
        hours = p["recording"]["hours"]
        add(f"offline analysis, {hours:g} h × 2 feet × {p['recording']['rate_hz']:g} Hz "
            f"({_fmt(p['recording']['readings'])} readings)", f"{p['offline_numpy_s']:.3f} s",
            "< 0.5 s for 8 h" if hours >= 8 else "< 0.5 s for 8 h (quick run: 1 h)",
            f"{p['offline_ratio_numpy_to_python']:.2f}× pure Python", p["offline_numpy_s"] < 0.5)
        add("per-reading update cost, result asked after every reading / every 10",
            f"{p['live_update_us_result_every_reading']:.0f} / {p['live_update_us_result_every_10_readings']:.0f} µs",
            "constant per reading; 2 feet × 10 Hz under 1 % of a core (< 500 µs)",
            f"{p['live_ratio_every_reading_to_python']:.0f}× / {p['live_ratio_every_10_to_python']:.0f}× pure Python",
            p["live_update_us_result_every_reading"] < 500.0)
    if not failed("bench_gui"):
        g = results["bench_gui"]
        hours = g.get("hours_simulated", 8)
        add(f"GUI frame time, following live with {hours} h of 2 × 10 Hz history (median / p95)",
            f"{g['median_frame_ms_8h']:.1f} / {g['p95_frame_ms_8h']:.1f} ms", "median < 10 ms",
            f"{g['frame_ratio_8h_to_10min']:.2f}× the 10-minute frame", g["median_frame_ms_8h"] < 10.0)
        add("CPU of the whole app while monitoring at 10 Hz per foot", f"{g['cpu_percent_of_one_core']:.1f} % of one core",
            "< 5 %", "–", g["cpu_percent_of_one_core"] < 5.0)
        add(f"GUI memory after an accelerated {hours} h session (peak RSS)", f"{g['peak_rss_mb']:.0f} MB", "< 300 MB",
            "–", g["peak_rss_mb"] < 300.0)
    if not failed("bench_screen_latency"):
        sl = results["bench_screen_latency"]
        goal = f"p99 ≤ {sl['goal_p99_ms']:g} ms (one 30 Hz frame)"
        age = f"{sl['session_age_s'] / 60:g} min into the session, " if sl.get("session_age_s") else ""
        for name, d in sl["designs"].items():
            s_ = d["screen"]
            label = ("the window as it is" if name == "shipped" else f"design '{name}' (bench only)")
            add(f"screen latency, a reading's bytes at the serial source → drawn on the live plot, {label} "
                f"({d['timer_interval_ms']} ms timer{', redraw on new readings' if d['redraw_on_data'] else ''}"
                f"{', woken on arrival' if d['wake_on_arrival'] else ''}; p50 / p99 / max, n = {s_['n']}, "
                f"{age}{sl['rate_hz_per_foot']:g} Hz per foot; see Screen latency below)",
                f"{s_['p50_ms']:.1f} / {s_['p99_ms']:.1f} / {s_['max_ms']:.1f} ms", goal,
                "–" if name == "shipped" or d.get("p99_ratio_to_shipped") is None
                else f"p99 {d['p99_ratio_to_shipped']:.3g}× as now",
                d["meets_goal"] if name == "shipped" else None)
    if not failed("bench_central"):
        c = results["bench_central"]
        goal, met = c["goals"], c["meets_goals"]
        add(f"central station: a station's reading → the central's model, {c['stations']} stations at 1 Hz through "
            f"Mosquitto (TLS), p50 / p99 (n = {c['readings_measured']})",
            f"{c['latency_p50_ms']:.0f} / {c['latency_p99_ms']:.0f} ms", f"p99 ≤ {goal['latency_p99_ms']:g} ms",
            "–", met["latency"])
        add(f"central station: frame time, {c['rooms_heard']} room tiles (median / p95)",
            f"{c['frame_median_ms']:.1f} / {c['frame_p95_ms']:.1f} ms", f"median ≤ {goal['frame_median_ms']:g} ms",
            "–", met["frame"])
        add("central station: CPU of the central (process time)",
            f"{c['central_cpu_percent_of_one_core']:.1f} % of one core", f"≤ {goal['central_cpu_percent']:g} %",
            "–", met["central_cpu"])
        add("central station: extra CPU publishing costs a station (10 Hz probe; with − without publishing)",
            f"{c['station_publishing_extra_cpu_percent']:.2f} % of one core",
            f"≤ {goal['station_extra_cpu_percent']:g} %",
            f"{c['station_cpu_percent_with_publishing']:.2f} vs {c['station_cpu_percent_without_publishing']:.2f} %",
            met["station_cpu"])
    if not failed("soak"):
        s = results["soak"]
        add(f"soak: {s['simulated_hours']:g} h at 10 Hz per foot through pipeline, store"
            f"{' and GUI' if s['gui'] else ''}: readings lost", f"{s['readings_lost']} of {_fmt(s['readings_produced'])}",
            "0", "–", s["readings_lost"] == 0)
        add(f"soak: memory after {s['warmup_h']:g} h warm-up → at the end (RSS)",
            f"{s['rss_after_warmup_mb']:.0f} → {s['rss_final_mb']:.0f} MB "
            f"({s['rss_growth_mb_per_hour_after_warmup']:+.1f} MB/h = "
            f"{s['bytes_per_reading_kept_after_warmup']:.0f} B per reading kept)",
            f"no growth but the session's own history (≤ {s['goal_bytes_per_reading_kept']:g} B per reading kept)",
            "–", s["memory_bounded_by_history"])
        add("soak: session file size", f"{s['file_size_mb']:.1f} MB", "–", "–", None)
    if not failed("evaluation"):
        e = results["evaluation"]
        t = e["summary"]["totals"]
        n = t["successful_blocks_meeting_criterion"]
        goals = e["goals"]
        add(f"detector sensitivity, successful blocks whose signal met the criterion (n = {n})",
            f"{100 * t['detector_sensitivity']:.0f} %", "100 %",
            f"naive rule {100 * t['naive_sensitivity']:.0f} %", goals["every clean successful block confirmed"])
        add(f"false confirmations (failed, systemic warming, artefacts; n = {t['negative_cases']})",
            str(t["detector_false_confirmations"]), "0", f"naive rule {t['naive_false_confirmations']}",
            goals["zero false confirmations"])
        dc = t["detector_delay_clear"]
        add(f"confirmation delay after the true one, median / worst (clear cases, n = {t['clear_cases']})",
            f"{_fmt(dc['median_s'], 0)} / {_fmt(dc['worst_s'], 0)} s", "median < 30 s, worst < 120 s",
            "–", goals["median delay < 30 s (clear cases)"] and goals["worst delay < 120 s (clear cases)"])
        if "classes" in e:
            _class_rows(add, e["classes"], e["class_goals"])
    for name in results:
        if name not in RUNNERS and name not in ("evaluation", "soak") and not failed(name):
            add(f"{name} (figures in the JSON)", "see docs/benchmarks.json", "–")
    return out


def screen_latency_section(figures: dict) -> list[str]:
    """docs/benchmarks.md's screen-latency section: every design measured, against the goal."""
    if not figures or "error" in figures or "designs" not in figures:
        return []
    mark = {True: "yes", False: "**no**"}
    goal = figures["goal_p99_ms"]
    met = "met" if figures["meets_goal"] else "**not met**"
    lines = [
        "",
        "## Screen latency",
        "",
        f"A reading's bytes read by the serial source → that reading in a frame drawn on the live plot "
        f"(`bench/bench_screen_latency.py`): a virtual probe on a real pseudo-terminal at "
        f"{figures['rate_hz_per_foot']:g} Hz per foot → SerialSource → Procedure → the real window, offscreen, "
        f"its own timer running, {figures['session_age_s'] / 60:g} min into the session (the plot follows "
        f"with its full width). Goal: p99 ≤ {goal:g} ms, one 30 Hz frame; as the window is now: {met}. "
        f"Other designs are the window patched in the benchmark only. Load average "
        f"{figures['load_average_1_5_min'][0]:g} on {figures['cpus']} CPUs.",
        "",
        "| design | n | p50 | p95 | p99 | max | painted p99 | tile number p99 | frames/s | CPU, % of one core "
        f"| p99 ≤ {goal:g} ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, d in figures["designs"].items():
        s = d["screen"]
        lines.append(f"| {name}: {d['description']} | {s['n']} | {s['p50_ms']:.1f} ms | {s['p95_ms']:.1f} ms | "
                     f"{s['p99_ms']:.1f} ms | {s['max_ms']:.1f} ms | {d['painted']['p99_ms']:.1f} ms | "
                     f"{d['number']['p99_ms']:.0f} ms | {d['frames_per_s']:g} | {d['cpu_percent_of_one_core']:.1f} | "
                     f"{mark[d['meets_goal']]} |")
    return lines


def markdown(table: list[dict], meta: dict, results: dict | None = None) -> str:
    mark = {True: "yes", False: "**no**", None: "–"}
    lines = [
        "| measure | result | goal | baseline ratio | met |",
        "|---|---|---|---|---|",
        *[f"| {r['measure']} | {r['result']} | {r['goal']} | {r['baseline_ratio']} | {mark[r['met']]} |"
          for r in table],
        "",
        f"`{meta['command']}` on {meta['date']} (commit {meta['commit']}), {meta['machine']}; "
        f"{meta['total_seconds']:.0f} s in all.",
        *screen_latency_section((results or {}).get("bench_screen_latency", {})),
    ]
    return "\n".join(lines) + "\n"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter sessions and fewer repetitions")
    ap.add_argument("--only", nargs="*", help="run only these (e.g. bench_decode soak)")
    ap.add_argument("--out", type=Path, default=None,
                    help="folder for benchmarks.json and benchmarks.md (default: docs/ for a full run; a "
                         "temporary folder for --quick or --only, so partial figures never replace the "
                         "published ones)")
    args = ap.parse_args(argv)
    if args.out is None:
        args.out = DOCS if not (args.quick or args.only) else Path(tempfile.gettempdir()) / "sympatherm-bench"
    t0 = time.perf_counter()
    results = collect(args.quick, args.only)
    table = rows(results, args.quick)
    meta = {
        "command": "tools/bench" + (" --quick" if args.quick else "") + (f" --only {' '.join(args.only)}"
                                                                           if args.only else ""),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}",
        "quick": args.quick,
        "total_seconds": time.perf_counter() - t0,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "benchmarks.json").write_text(json.dumps({"meta": meta, "table": table, "figures": results},
                                                         indent=1, default=str) + "\n", encoding="utf-8")
    text = markdown(table, meta, results)
    (args.out / "benchmarks.md").write_text("# Benchmarks\n\n" + text, encoding="utf-8")
    print(text)
    print(f"Written to {args.out / 'benchmarks.md'} and {args.out / 'benchmarks.json'}")
    failed = any("error" in r for r in results.values()) or any(r["met"] is False for r in table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
