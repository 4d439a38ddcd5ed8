"""Outside check of the block detector: patients written from the physiology, not from our simulator.

bench/evaluation.py judges the detector on monitor/simulation's patients, the shapes it was
built against. This package judges it on an independent generator (patients.py), written from
/work/shared/domain.md alone and importing nothing from monitor/simulation, so a detector that
only learned its own simulator shows here. Run: ``.venv/bin/python -m bench.outside --seeds 100
--rate 1.0 0.2 [--json] [--all]``.
"""
