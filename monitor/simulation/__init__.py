"""The simulated patient: physiology, and the probes that measure it without hardware.

- :mod:`.physiology` — the patient model (both feet's skin temperature, scenarios).
- :mod:`.source` — :class:`SimulatedSource`, a :class:`monitor.sources.base.ProbeSource` on that
  model (BrainFlow's synthetic board: the same interface as the hardware sources).
- :mod:`.wire` — the bytes a simulated probe would send (protocol v1 or text lines).
- :mod:`.virtual_serial` — a virtual serial probe on a pseudo-terminal (``sympatherm simulate --pty``).
- :mod:`.virtual_ble` — virtual Bluetooth thermometers on bumble's virtual radio (tests only).

Used only by the command line and the tests (an import-linter contract checks it): the GUI
is handed sources built here, it never builds one itself.
"""
