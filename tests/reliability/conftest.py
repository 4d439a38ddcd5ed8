"""Fixtures for the fault tests: virtual probes and recordings that are always cleaned up."""

from __future__ import annotations

import subprocess

import pytest

from monitor.sources.registry import DeviceRegistry

from .harness import Recording


@pytest.fixture
def registry(tmp_path):
    return DeviceRegistry(tmp_path / "devices.json")


@pytest.fixture
def make_recording(tmp_path):
    made: list[Recording] = []

    def make(source, name: str = "fault.sympatherm", **kwargs) -> Recording:
        rec = Recording(source, tmp_path / name, **kwargs)
        made.append(rec)
        return rec.start()

    yield make
    for rec in made:
        if not rec.recorder.finished:
            rec.source.stop()
        if not rec.store.closed:
            rec.store.connection.close()
            rec.store._release_lock(rec.store.path)


@pytest.fixture
def mount_tmpfs(tmp_path):
    """A small real file system (tmpfs) with the given mount options, unmounted afterwards.

    Mounting needs root (CI runs as root); elsewhere the test is skipped with the reason."""
    mounted = []

    def mount(name: str, options: str):
        point = tmp_path / name
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small file system here ({done.stderr.strip() or 'not root'})")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
