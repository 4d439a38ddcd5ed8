"""One limb's history and its per-reading processing: validity, smoothing, artefacts.

Every derived value of a reading depends only on that limb's readings up to it (or, for a
touch or lift, dates back at most ``finalise_lag_s``), so processing the history in one
vectorised chunk (offline) or one reading at a time (live) gives identical results.
"""

from __future__ import annotations

import bisect

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from monitor.model import PROBE_STATUS_CODES, Limb, ProbeStatus
from monitor.pipeline.artefacts import (
    FLAG_FROZEN,
    FLAG_LIFT,
    FLAG_OUT_OF_RANGE,
    FLAG_SENSOR_FAULT,
    FLAG_SETTLING,
    FLAG_TOUCH,
    KIND_OF_FLAG,
    ArtefactKind,
    OpenSegment,
)
from monitor.pipeline.buffers import GrowableArray
from monitor.pipeline.config import PipelineConfig
from monitor.pipeline.recent_high import RecentHigh

STATUS_CODE = {s: i for i, s in enumerate(PROBE_STATUS_CODES)}
_OUT_OF_RANGE_CODE = STATUS_CODE[ProbeStatus.OUT_OF_RANGE]
_NO_SEQ = -1

# Detector modes
_SETTLING, _NORMAL, _TOUCH, _LIFT = 0, 1, 2, 3


def run_starts(cond: np.ndarray, times: np.ndarray, carried: float | None) -> np.ndarray:
    """For each position, when the current run of True began (NaN where cond is False).

    ``carried`` is the start of a run still open at the end of the previous chunk.
    """
    n = cond.shape[0]
    ar = np.arange(n)
    last_false = np.maximum.accumulate(np.where(cond, -1, ar))
    nxt = np.minimum(last_false + 1, n - 1)
    first = carried if carried is not None else (times[0] if n else np.nan)
    starts = np.where(last_false < 0, first, times[nxt])
    return np.where(cond, starts, np.nan)


def _median5(x: np.ndarray) -> np.ndarray:
    """Median of every 5 consecutive values by a min/max network: picks the same element as sorting."""
    n = x.shape[0] - 4
    a, b, c, d, e = (x[i : i + n] for i in range(5))
    f = np.maximum(np.minimum(a, b), np.minimum(c, d))
    g = np.minimum(np.maximum(a, b), np.maximum(c, d))
    return np.maximum(np.minimum(np.maximum(e, f), g), np.minimum(e, f))


def touch_words(rise_c: float, window_s: float) -> str:
    return f"probe touched or handled: rose {rise_c:.1f} °C in {window_s:g} s, faster than skin can warm"


def loosening_words(fall_c: float, window_s: float) -> str:
    return (f"the other foot's probe loosening: fell {fall_c:.1f} °C in {window_s / 60:g} min, faster than that "
            "foot cools after a block (at most ~1 °C in 30 min)")


def below_high_words(fall_c: float, window_s: float) -> str:
    return (f"the other foot's probe loose: {fall_c:.1f} °C below its level of the last {window_s / 60:g} min, "
            "further than that foot cools after a block (at most ~1 °C in 30 min)")


class _SlowOnsets:
    """What _slow_onsets found for a run of readings (arrays over it; the other-foot ones None
    on the blocked foot)."""

    __slots__ = ("any", "touch", "rise", "jt", "loose", "fall", "jf", "deep", "high")

    def __init__(self, any_: np.ndarray, touch: np.ndarray, rise: np.ndarray, jt: np.ndarray,
                 loose: np.ndarray | None = None, fall: np.ndarray | None = None, jf: np.ndarray | None = None,
                 deep: np.ndarray | None = None, high: np.ndarray | None = None) -> None:
        self.any, self.touch, self.rise, self.jt = any_, touch, rise, jt
        self.loose, self.fall, self.jf, self.deep, self.high = loose, fall, jf, deep, high


class LimbTrack:
    """One foot's readings and their processing. ``other_foot``: the foot not injected, which
    after a unilateral block stays flat or cools only a little, so a reading falling further
    or faster than that is also flagged (a loosening probe; see PipelineConfig.other_fall_c)."""

    def __init__(self, limb: Limb, cfg: PipelineConfig, other_foot: bool = False) -> None:
        self.limb = limb
        self.cfg = cfg
        self.other_foot = other_foot
        # The other foot's rules look back no further than the reading it was last trusted from
        # (settled, an artefact over, a probe check), and keep its recent high per minute.
        self._trust_k = 0
        self._climbed = False  # a lift on the other foot: the re-taping climb has been seen
        self._high = RecentHigh(60.0, max(1, round(cfg.other_depth_window_s / 60.0)))
        # The other foot warms only with the body, far slower than a block warms the blocked one:
        # a hand on it shows at a smaller rise.
        self._touch_slow_step_c = cfg.other_touch_slow_step_c if other_foot else cfg.touch_slow_step_c
        # Every reading
        self.t = GrowableArray(np.float64)
        self.raw = GrowableArray(np.float64, fill=np.nan)
        self.status = GrowableArray(np.int8)
        self.seq = GrowableArray(np.int64, fill=_NO_SEQ)
        self.devt = GrowableArray(np.float64, fill=np.nan)
        self.valid = GrowableArray(np.bool_)
        self.flags = GrowableArray(np.uint16)
        self.smooth = GrowableArray(np.float64, fill=np.nan)
        # The longest silence tolerated after each reading (gap_s, or longer for a slow probe):
        # known when the reading arrives, from this limb's own rhythm up to it.
        self.gap_after = GrowableArray(np.float64)
        # Valid readings only (the stream the filters run on)
        self.vidx = GrowableArray(np.int64)
        self.vt = GrowableArray(np.float64)
        self.vraw = GrowableArray(np.float64)
        self.vmed = GrowableArray(np.float64)
        self.vcum = GrowableArray(np.float64)  # vcum[k] = sum(vmed[:k])
        self.vcum.append(0.0)
        self.vfast = GrowableArray(np.float64)
        self.vsmooth = GrowableArray(np.float64)
        self.n_done = 0
        self.v_done = 0
        self.out_of_order = 0
        self.segments: list[OpenSegment] = []
        # Detector state
        self._mode = _SETTLING
        self._event: OpenSegment | None = None
        self._level0 = 0.0
        self._peak = 0.0
        self._plateau = 0.0  # a touch's highest level within touch_plateau_s of its (latest) step
        self._plateau_from = 0.0
        self._plateau_open = True  # still within the hand's approach (see _detect)
        self._released = False
        self._ok_since: float | None = None
        self._detected_s = 0.0  # when the open touch or lift was recognised
        # Times of the nurse's "probe checked" markers for this foot (sorted); see _check_cut.
        self.checks: list[float] = []
        self._fault_seg: OpenSegment | None = None
        self._fault_flag = 0
        self._frozen_seg: OpenSegment | None = None
        self._same_since_idx = 0
        self._resolution = np.inf
        self.first_valid_s: float | None = None
        self.settled_at_s: float | None = None
        self._settle_start_s = 0.0

    # ---- input ---------------------------------------------------------------------------
    @property
    def last_t(self) -> float | None:
        return self.t.last() if len(self.t) else None

    def append(self, t: float, celsius: float | None, status: int, seq: int | None,
               devt: float | None) -> bool:
        n = len(self.t)
        if n and t < self.t._data[n - 1]:
            self.out_of_order += 1
            return False
        self.gap_after.append(self._gap_after_one(t))
        self.t.append(t)
        self.raw.append(np.nan if celsius is None else celsius)
        self.status.append(status)
        self.seq.append(_NO_SEQ if seq is None else seq)
        self.devt.append(np.nan if devt is None else devt)
        self.valid.append(False)
        self.flags.append(0)
        self.smooth.append(np.nan)
        return True

    def append_arrays(self, t: np.ndarray, celsius: np.ndarray, status: np.ndarray | None = None,
                      seq: np.ndarray | None = None, devt: np.ndarray | None = None) -> None:
        t = np.asarray(t, dtype=np.float64)
        n = t.shape[0]
        if n == 0:
            return
        # Keep time order: drop readings older than the newest one already kept.
        floor = self.t.last() if len(self.t) else -np.inf
        keep = t >= np.maximum.accumulate(np.concatenate(([floor], t)))[:-1]
        keep &= t >= floor
        self.out_of_order += int(n - keep.sum())

        def pick(a: np.ndarray | None, fill: float | int, dtype: type) -> np.ndarray:
            if a is None:
                return np.full(int(keep.sum()), fill, dtype=dtype)
            return np.asarray(a, dtype=dtype)[keep]

        tk = t[keep]
        a = len(self.t)
        self.t.extend(tk)
        self.gap_after.extend(self._gap_after_range(a, len(self.t)))
        self.raw.extend(pick(celsius, np.nan, np.float64))
        self.status.extend(pick(status, 0, np.int8))
        self.seq.extend(pick(seq, _NO_SEQ, np.int64))
        self.devt.extend(pick(devt, np.nan, np.float64))
        self.valid.extend(np.zeros(tk.shape[0], dtype=np.bool_))
        self.flags.extend(np.zeros(tk.shape[0], dtype=np.uint16))
        self.smooth.extend(np.full(tk.shape[0], np.nan))

    # ---- reading rhythm ------------------------------------------------------------------
    def _gap_after_one(self, t_new: float) -> float:
        """Allowed silence after a reading at ``t_new`` about to be appended (scalar twin of
        ``_gap_after_range``: the same subtractions and the same chosen element)."""
        cfg = self.cfg
        n = len(self.t)
        lo = max(0, n - cfg.rhythm_intervals)
        if n - lo < cfg.rhythm_min_intervals:
            return cfg.gap_limit_s(None)
        pts = self.t._data[lo:n].tolist()
        pts.append(t_new)
        d = sorted(pts[i + 1] - pts[i] for i in range(len(pts) - 1))
        return cfg.gap_limit_s(d[(len(d) - 1) // 2])

    def _gap_after_range(self, a: int, b: int) -> np.ndarray:
        """Allowed silence after readings a..b-1: from the lower median of each one's last
        ``rhythm_intervals`` intervals (an element of them, never an average, so the live scalar
        path picks the identical value). Only intervals up to the reading itself count, so the
        silence being judged never stretches its own limit."""
        cfg = self.cfg
        m = cfg.rhythm_intervals
        t = self.t.view
        out = np.full(b - a, cfg.gap_s)
        head = min(b, m)
        for i in range(a, head):  # fewer than rhythm_intervals intervals so far
            if i >= cfg.rhythm_min_intervals:
                d = np.sort(np.diff(t[: i + 1]))
                out[i - a] = cfg.gap_limit_s(float(d[(d.shape[0] - 1) // 2]))
        s = max(a, head)
        if b > s:
            d = np.diff(t[s - m : b])
            med = np.sort(sliding_window_view(d, m), axis=1)[:, (m - 1) // 2]
            stretched = cfg.rhythm_factor * med
            out[s - a :] = np.where(stretched <= cfg.gap_s, cfg.gap_s, np.minimum(stretched, cfg.max_gap_s))
        return out

    def typical_interval_s(self) -> float | None:
        """This probe's typical interval between readings now (None until it has enough)."""
        cfg = self.cfg
        n = len(self.t)
        lo = max(0, n - 1 - cfg.rhythm_intervals)
        if n - 1 - lo < cfg.rhythm_min_intervals:
            return None
        d = np.sort(np.diff(self.t.view[lo:n]))
        return float(d[(d.shape[0] - 1) // 2])

    # ---- processing ----------------------------------------------------------------------
    def process(self) -> None:
        a, b = self.n_done, len(self.t)
        if a == b:
            return
        # A few new readings (live use): the scalar path is cheaper than numpy's per-call cost.
        while b - a <= 32 and self._mode == _NORMAL and self._process_one(a):
            a += 1
            if a == b:
                return
        cfg = self.cfg
        t = self.t.view
        raw = self.raw.view[a:b]
        status = self.status.view[a:b]
        lo, hi = cfg.valid_range_c
        has_value = ~np.isnan(raw)
        with np.errstate(invalid="ignore"):
            in_range = (raw >= lo) & (raw <= hi)
        ok_status = status == 0
        flag = np.zeros(b - a, dtype=np.uint16)
        flag[~ok_status] = FLAG_SENSOR_FAULT
        flag[status == _OUT_OF_RANGE_CODE] = FLAG_OUT_OF_RANGE
        flag[ok_status & ~has_value] = FLAG_SENSOR_FAULT
        flag[ok_status & has_value & ~in_range] = FLAG_OUT_OF_RANGE
        # Frozen device: the sequence number or the device clock did not advance.
        seq = self.seq.view[max(a - 1, 0):b]
        devt = self.devt.view[max(a - 1, 0):b]
        if a == 0:
            seq = np.concatenate(([_NO_SEQ], seq))
            devt = np.concatenate(([np.nan], devt))
        stale = ((seq[1:] != _NO_SEQ) & (seq[1:] == seq[:-1])) | (devt[1:] == devt[:-1])
        flag[(flag == 0) & stale] = FLAG_FROZEN
        valid = flag == 0
        self.flags.set_range(a, b, flag)
        self.valid.set_range(a, b, valid)
        self._fault_runs(t[a:b], flag, status)
        self._gaps(a, b)
        vi = a + np.flatnonzero(valid)
        self.n_done = b
        if vi.size == 0:
            return
        if self.first_valid_s is None:
            self.first_valid_s = self._settle_start_s = float(t[vi[0]])
            self.segments.append(OpenSegment(ArtefactKind.SETTLING, self.first_valid_s))
        self.vidx.extend(vi)
        self.vt.extend(t[vi])
        self.vraw.extend(self.raw.view[vi])
        self._filters()
        self._frozen_values()
        self._detect()
        self.v_done = len(self.vt)

    def _process_one(self, a: int) -> bool:
        """The common live case (one fresh, valid reading on a settled probe) in scalar Python.

        It performs the same floating-point operations as the vectorised path, so the results
        are identical (the live-equals-batch tests check this). Returns False, having changed
        nothing, when the reading needs the general path (fault, gap, first readings).
        """
        cfg = self.cfg
        t = float(self.t._data[a])
        raw = float(self.raw._data[a])
        lo, hi = cfg.valid_range_c
        if self.status._data[a] != 0 or not lo <= raw <= hi or self._fault_flag != 0 or a == 0:
            return False
        seq, devt = self.seq._data, self.devt._data
        if (seq[a] != _NO_SEQ and seq[a] == seq[a - 1]) or devt[a] == devt[a - 1]:
            return False
        if t - float(self.t._data[a - 1]) > self.gap_after._data[a - 1]:
            return False
        m = cfg.median_points
        k = len(self.vt)
        if k < m - 1:
            return False
        self.valid._data[a] = True
        self.n_done = a + 1
        self.vidx.append(a)
        self.vt.append(t)
        self.vraw.append(raw)
        vt, vr = self.vt.view, self.vraw.view
        med = sorted(vr[k - m + 1 : k + 1].tolist())[m // 2]
        self.vmed.append(med)
        self.vcum.append(float(self.vcum._data[k]) + med)
        cum = self.vcum._data
        j = int(vt.searchsorted(t - cfg.fast_mean_s, side="right"))
        self.vfast.append(float(cum[k + 1] - cum[j]) / (k + 1 - j))
        j = int(vt.searchsorted(t - cfg.smoothing_window_s, side="right"))
        smooth = float(cum[k + 1] - cum[j]) / (k + 1 - j)
        self.vsmooth.append(smooth)
        self.smooth._data[a] = smooth
        # Frozen value (as _frozen_values)
        d = abs(raw - float(vr[k - 1]))
        if d > 0:
            self._resolution = min(self._resolution, d)
        same = d == 0
        run_from = self._same_since_idx if same else k
        frozen = (same and self._resolution < cfg.frozen_resolution_c
                  and t - float(vt[run_from]) >= cfg.frozen_identical_s
                  and k - run_from + 1 >= cfg.frozen_min_readings)
        if frozen and self._frozen_seg is None:
            self._frozen_seg = OpenSegment(ArtefactKind.FROZEN, float(vt[run_from]), excluded_from_s=t)
            self.segments.append(self._frozen_seg)
        elif not frozen and self._frozen_seg is not None:
            self._frozen_seg.end_s = t
            self._frozen_seg = None
        if frozen:
            self.flags._data[a] |= FLAG_FROZEN
        self._same_since_idx = run_from
        # Touch and lift onset (as _detect in its normal mode)
        fast = self.vfast._data
        j10 = int(vt.searchsorted(t - cfg.step_window_s, side="left"))
        j30 = int(vt.searchsorted(t - 30.0, side="left"))
        scale10 = scale30 = 1.0
        if j10 == k and self._reaches_back(k):  # a slow probe (as _change_over)
            j10 = k - 1
            scale10 = (t - float(vt[k - 1])) / cfg.step_window_s
        if j30 == k and self._reaches_back(k):
            j30 = k - 1
            scale30 = (t - float(vt[k - 1])) / 30.0
        step = fast[k] - fast[j10]
        fall30 = fast[k] - fast[j30]
        touch = step >= cfg.touch_step_c * scale10
        fast_fall = step <= -cfg.lift_step_c * scale10
        if touch or fast_fall or fall30 <= -cfg.lift_slow_step_c * scale30:
            self._start_event(k, j10 if touch or fast_fall else j30, touch=bool(touch))
        elif (slow := self._slow_onset_one(k, t)) is not None:
            self._start_event(k, slow[0], touch=slow[1], level0=slow[2], reason=slow[3])
        self.v_done = k + 1
        return True

    def _window_start_one(self, k: int, t: float, width: float) -> tuple[int, float]:
        """As _change_over for one reading: the index ``width`` back and the threshold scale."""
        vt = self.vt.view
        j = int(vt.searchsorted(t - width, side="left"))
        if j == k and self._reaches_back(k):
            return k - 1, (t - float(vt[k - 1])) / width
        return j, 1.0

    def _slow_onset_one(self, k: int, t: float) -> tuple[int, bool, float | None, str] | None:
        """The slower onsets (scalar twin of _slow_onsets): a hand over 30 s (not a climb back to no
        higher than the foot's own earlier level: a probe going back onto the skin), and on the
        other foot a loosening fall or a level too far below its recent high.
        (index back, touch, level0, reason)."""
        cfg = self.cfg
        fast = self.vfast._data
        high, earlier = self._high.one_with_earlier(t, float(fast[k]))
        jt, sct = self._window_start_one(k, t, cfg.touch_slow_window_s)
        rise = float(fast[k] - fast[jt])
        climb = rise >= self._touch_slow_step_c * sct
        if climb and float(fast[k]) > earlier + cfg.recovery_tolerance_c:
            return jt, True, None, touch_words(rise, cfg.touch_slow_window_s)
        if climb or not self.other_foot:
            return None
        jf, scf = self._window_start_one(k, t, cfg.other_fall_window_s)
        jf = max(jf, self._trust_k)
        fall = float(fast[jf] - fast[k])
        if fall >= cfg.other_fall_c * scf:
            return k, False, float(fast[jf : k + 1].max()), loosening_words(fall, cfg.other_fall_window_s)
        if high - float(fast[k]) >= cfg.other_depth_c:
            return k, False, high, below_high_words(high - float(fast[k]), cfg.other_depth_window_s)
        return None

    def _fault_runs(self, tc: np.ndarray, flag: np.ndarray, status: np.ndarray) -> None:
        prev = np.concatenate(([self._fault_flag], flag[:-1]))
        for i in np.flatnonzero(flag != prev):
            if self._fault_seg is not None:
                self._fault_seg.end_s = float(tc[i])
                self._fault_seg = None
            if flag[i]:
                code = int(status[i])
                # Keep the probe's own words (e.g. "sensor fault: open circuit") as the reason.
                reason = PROBE_STATUS_CODES[code].plain if code else ""
                self._fault_seg = OpenSegment(KIND_OF_FLAG[int(flag[i])], float(tc[i]), reason)
                self.segments.append(self._fault_seg)
        self._fault_flag = int(flag[-1])

    def _gaps(self, a: int, b: int) -> None:
        lo = max(a - 1, 0)
        t = self.t.view[lo:b]
        limit = self.gap_after.view[lo:b]
        for i in np.flatnonzero(np.diff(t) > limit[:-1]):
            allowed = float(limit[i])
            reason = "" if allowed == self.cfg.gap_s else (
                f"no data for more than {allowed:.0f} s ({self.cfg.rhythm_factor:g} × this probe's usual interval)")
            seg = OpenSegment(ArtefactKind.NO_DATA, float(t[i]), reason)
            seg.end_s = float(t[i + 1])
            self.segments.append(seg)

    def _window_mean(self, va: int, vb: int, width: float) -> np.ndarray:
        vt = self.vt.view
        j = np.searchsorted(vt, vt[va:vb] - width, side="right")
        cum = self.vcum.view
        k1 = np.arange(va + 1, vb + 1)
        return (cum[k1] - cum[j]) / (k1 - j)

    def _filters(self) -> None:
        cfg = self.cfg
        va, vb = self.v_done, len(self.vt)
        vr = self.vraw.view
        m = cfg.median_points
        med = np.empty(vb - va)
        head = min(vb, m - 1)
        for k in range(va, head):  # the first few readings have a shorter window
            med[k - va] = np.median(vr[: k + 1])
        if vb > max(va, head):
            s = max(va, head)
            if m == 5:
                med[s - va :] = _median5(vr[s - 4 : vb])
            else:
                windows = sliding_window_view(vr[s - m + 1 : vb], m)
                med[s - va :] = np.sort(windows, axis=1)[:, m // 2]
        self.vmed.extend(med)
        cum0 = self.vcum.last()
        self.vcum.extend(np.cumsum(np.concatenate(([cum0], med)))[1:])
        self.vfast.extend(self._window_mean(va, vb, cfg.fast_mean_s))
        smooth = self._window_mean(va, vb, cfg.smoothing_window_s)
        self.vsmooth.extend(smooth)
        self.smooth.view[self.vidx.view[va:vb]] = smooth

    def _reaches_back(self, k: int) -> bool:
        """Valid reading k may be compared with valid reading k-1: no "no data" gap between."""
        if k == 0:
            return False
        vt = self.vt._data
        return float(vt[k] - vt[k - 1]) <= float(self.gap_after._data[self.vidx._data[k - 1]])

    def _change_over(self, va: int, vb: int, width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Change of the fast signal over the last ``width`` seconds, the index it is taken from,
        and how many ``width``s that spans (1, except below).

        A probe that reports more slowly than ``width`` has no earlier reading inside it: the
        change is then taken from its previous reading (unless a "no data" gap lies between), and
        thresholds meant for ``width`` are scaled by the longer span, so the same rate counts."""
        vt = self.vt.view
        j = np.searchsorted(vt, vt[va:vb] - width, side="left")
        k = np.arange(va, vb)
        back = (j == k) & (k > 0)
        if back.any():
            kb = k[back]
            ok = vt[kb] - vt[kb - 1] <= self.gap_after.view[self.vidx.view[kb - 1]]
            back[back] = ok
        j = np.where(back, k - 1, j)
        scale = np.where(back, (vt[va:vb] - vt[j]) / width, 1.0)
        fast = self.vfast.view
        return fast[va:vb] - fast[j], j, scale

    def _flag_valid(self, k1: int, k2: int, bit: int) -> None:
        if k2 > k1:
            self.flags.view[self.vidx.view[k1:k2]] |= np.uint16(bit)

    def _frozen_values(self) -> None:
        """The identical value repeated for a long time on a probe that normally varies."""
        cfg = self.cfg
        va, vb = self.v_done, len(self.vt)
        vr, vt = self.vraw.view, self.vt.view
        lo = max(va - 1, 0)
        d = np.abs(np.diff(vr[lo:vb]))
        if va == 0:
            d = np.concatenate(([np.inf], d))
        pos = np.where(d > 0, d, np.inf)
        resolution = np.minimum.accumulate(np.concatenate(([self._resolution], pos)))[1:]
        self._resolution = float(resolution[-1])
        same = d == 0
        ar = np.arange(va, vb)
        run_from = np.maximum.accumulate(np.where(same, self._same_since_idx, ar))
        frozen = same & (resolution < cfg.frozen_resolution_c) & (vt[va:vb] - vt[run_from] >= cfg.frozen_identical_s) \
            & (ar - run_from + 1 >= cfg.frozen_min_readings)
        prev = np.concatenate(([self._frozen_seg is not None], frozen[:-1]))
        for i in np.flatnonzero(frozen != prev):
            k = va + int(i)
            if frozen[i]:
                self._frozen_seg = OpenSegment(ArtefactKind.FROZEN, float(vt[run_from[i]]),
                                               excluded_from_s=float(vt[k]))
                self.segments.append(self._frozen_seg)
            elif self._frozen_seg is not None:
                self._frozen_seg.end_s = float(vt[k])
                self._frozen_seg = None
        fk = np.flatnonzero(frozen)
        if fk.size:
            self.flags.view[self.vidx.view[va + fk]] |= np.uint16(FLAG_FROZEN)
        self._same_since_idx = int(run_from[-1])

    def _detect(self) -> None:
        """Settling, touch and lift, as a small state machine stepping from event to event."""
        cfg = self.cfg
        va, vb = self.v_done, len(self.vt)
        vt, vmed = self.vt.view, self.vmed.view
        step, j_step, sc_step = self._change_over(va, vb, cfg.step_window_s)
        d30, j30, sc30 = self._change_over(va, vb, 30.0)
        d60: np.ndarray | None = None  # only needed while settling (the first minutes)
        j60: np.ndarray | None = None
        k = va
        while k < vb:
            s = slice(k - va, vb - va)
            if self._mode == _SETTLING:
                if d60 is None or j60 is None:  # (computed together)
                    # Settling lasts at most settle_max_s: look no further than that.
                    stop = int(np.searchsorted(vt, self._settle_start_s + cfg.settle_max_s, side="right")) + 1
                    stop = min(max(stop, k + 1), vb)
                    d60 = np.full(vb - va, np.nan)
                    j60 = np.zeros(vb - va, dtype=np.int64)
                    d60[k - va : stop - va], j60[k - va : stop - va], _ = self._change_over(k, stop, 60.0)
                since = vt[k:vb] - self._settle_start_s
                span = vt[k:vb] - vt[j60[s]]
                rate_ok = np.abs(d60[s]) <= cfg.settle_rate_c_per_min * (span / 60.0)
                done = ((since >= cfg.settle_min_s) & (span >= 45.0) & rate_ok) | (since >= cfg.settle_max_s)
                hit = np.flatnonzero(done)
                end = k + int(hit[0]) if hit.size else vb
                self._flag_valid(k, end, FLAG_SETTLING)
                if not hit.size:
                    return
                self.settled_at_s = float(vt[end])
                self.segments[self._settling_index()].end_s = self.settled_at_s
                self._mode = _NORMAL
                self._trust(end)
                k = end
            elif self._mode == _NORMAL:
                fast_fall = step[s] <= -cfg.lift_step_c * sc_step[s]
                # Back after a break in valid data, well below where it was: the probe was off the
                # skin (re-taped, or replugged) and settles again; its climb is not a touch.
                prev = np.arange(k - 1, vb - 1)
                gap_limit = self.gap_after.view[self.vidx.view[np.maximum(prev, 0)]]
                reapplied = (prev >= 0) & (vt[k:vb] - vt[np.maximum(prev, 0)] > gap_limit) & \
                    (self.vraw.view[k:vb] < self.vraw.view[np.maximum(prev, 0)] - cfg.reapplied_drop_c)
                quick = (step[s] >= cfg.touch_step_c * sc_step[s]) | fast_fall \
                    | (d30[s] <= -cfg.lift_slow_step_c * sc30[s])
                slow = self._slow_onsets(k, vb)
                hit = np.flatnonzero(quick | reapplied | slow.any)
                if not hit.size:
                    return
                i = k + int(hit[0])
                if reapplied[i - k]:
                    self._start_settling(i)
                    d60 = None
                    k = i
                    continue
                if quick[i - k]:
                    touch = bool(step[i - va] >= cfg.touch_step_c * sc_step[i - va])
                    j = j_step[i - va] if touch or fast_fall[i - k] else j30[i - va]
                    self._start_event(i, int(j), touch=touch)
                else:
                    self._start_slow_event(i, i - k, slow)
                k = i + 1
            else:
                assert self._event is not None  # a touch or lift is open
                touch = self._mode == _TOUCH
                limit, check_s = self._check_cut(k, vb)
                if limit == k:
                    # The nurse checked this probe: the touch or lift ends at the check, and the
                    # readings from there on are judged afresh.
                    self._event.end_s = check_s
                    self._event.ended_by_check = True
                    self._event = None
                    self._ok_since = None
                    self._mode = _NORMAL
                    self._trust(k)
                    continue
                stop = limit
                s = slice(k - va, limit - va)
                if touch:
                    # A new step after the hand's plateau (pressed harder, a second hand or a heat
                    # pack): a new plateau, and the release must be seen again.
                    restep = np.flatnonzero((vt[k:limit] - self._plateau_from > cfg.touch_plateau_s)
                                            & (step[s] >= cfg.touch_step_c * sc_step[s]))
                    if restep.size and restep[0] == 0:
                        self._new_plateau(k)
                        continue
                    if restep.size:
                        stop = k + int(restep[0])
                s = slice(k - va, stop - va)
                tk = vt[k:stop]
                elapsed = tk - self._event.start_s
                level = vmed[k:stop]
                slowed = (d30[s] >= -cfg.slowed_fall_c_per_30s * sc30[s]) & (d30[s] <= cfg.slowed_rise_c_per_30s * sc30[s])
                if touch:
                    peak = np.maximum.accumulate(np.concatenate(([self._peak], level)))[1:]
                    # Released: the heat source went away (fell halfway back, or by release_drop_c).
                    # A hand or heat pack that stays keeps the flag: a step is never skin.
                    released = level <= peak - np.minimum(0.5 * (peak - self._level0), cfg.release_drop_c)
                    # Or the foot warmed well beyond the level the hand brought the probe to: a
                    # hand adds only a fraction of the skin's own rise, so the skin shows again
                    # (a hand lifted from a foot that the block is warming never "falls back").
                    # The plateau: the hand's first touch_plateau_s, and on while the reading still
                    # climbs faster than skin warms (a hand with slower contact is still pulling).
                    pulling = (tk - self._plateau_from <= cfg.touch_plateau_s) | (d30[s] > cfg.slowed_rise_c_per_30s * sc30[s])
                    in_plateau = np.logical_and.accumulate(np.concatenate(([self._plateau_open], pulling)))[1:]
                    plateau = np.maximum.accumulate(
                        np.concatenate(([self._plateau], np.where(in_plateau, level, -np.inf))))[1:]
                    released |= ~in_plateau & (level >= plateau + cfg.touch_rise_beyond_c)
                    # Or a fall faster than skin can cool: the hand is being lifted.
                    released |= d30[s] <= -cfg.touch_release_fall_c * sc30[s]
                    released = np.logical_or.accumulate(np.concatenate(([self._released], released)))[1:]
                    # ... and no warmer than foot skin gets (a heat pack that keeps warming is not skin).
                    plausible = (level <= (self._level0 + cfg.recovery_tolerance_c
                                           + cfg.recovery_rise_c_per_min * elapsed / 60.0)) & (level <= cfg.skin_max_c)
                    cond = plausible & slowed & released
                else:
                    # Back near the level before the lift (allowing a little real cooling), or, long
                    # after, clearly re-applied (well above the lowest point) on a foot that cooled.
                    allowance = np.minimum(cfg.recovery_cool_c_per_min * elapsed / 60.0, cfg.recovery_cool_max_c)
                    trough = np.minimum.accumulate(np.concatenate(([self._peak], level)))[1:]
                    recovered = level >= self._level0 - cfg.recovery_tolerance_c - allowance
                    reapplied = (elapsed >= cfg.max_lift_s) & (level >= trough + cfg.reapplied_rise_c)
                    cond = slowed & (recovered | reapplied)
                    if self.other_foot:
                        cond &= self._retaped(k, stop, trough)
                starts = run_starts(cond, tk, self._ok_since)
                done = cond & (tk - starts >= cfg.recovery_hold_s)
                hit = np.flatnonzero(done)
                bit = FLAG_TOUCH if touch else FLAG_LIFT
                if not hit.size:
                    self._flag_valid(k, stop, bit)
                    if touch:
                        self._peak = float(peak[-1])
                        self._plateau = float(plateau[-1])
                        self._plateau_open = bool(in_plateau[-1])
                        self._released = bool(released[-1])
                    else:
                        self._peak = float(trough[-1])
                    self._ok_since = None if not cond[-1] else float(starts[-1])
                    if stop == vb:
                        return
                    if stop == limit:  # the check comes next
                        k = stop
                        continue
                    self._new_plateau(stop)
                    k = stop
                    continue
                end = k + int(hit[0])
                self._flag_valid(k, end, bit)
                self._event.end_s = float(vt[end])
                self._event = None
                self._ok_since = None
                self._mode = _NORMAL
                self._trust(end + 1)
                k = end + 1

    def _retaped(self, k: int, stop: int, trough: np.ndarray) -> np.ndarray:
        """On the other foot a lift ends only once the probe is back on the skin: its reading has
        climbed as a re-taped probe does (within a minute, by other_retaped_rise_c or a share of
        the fall, faster than whole-body warming lifts a probe hanging in the air) and has
        settled (as after taping). Without that a loose probe whose reading the body's warming
        carries back up would be trusted again while it still reads low."""
        cfg = self.cfg
        d60, _, sc60 = self._change_over(k, stop, 60.0)
        need = np.maximum(cfg.other_retaped_rise_c, cfg.other_retaped_share * (self._level0 - trough))
        climbed = np.logical_or.accumulate(np.concatenate(([self._climbed], d60 >= need * sc60)))[1:]
        self._climbed = bool(climbed[-1]) if climbed.size else self._climbed
        settled = np.abs(d60) <= cfg.settle_rate_c_per_min * sc60
        return climbed & settled

    def _start_settling(self, i: int) -> None:
        """The probe is back on the skin (re-taped or replugged) from valid reading i: it settles again."""
        self._settle_start_s = float(self.vt.view[i])
        self.segments.append(OpenSegment(ArtefactKind.SETTLING, self._settle_start_s))
        self._mode = _SETTLING

    def _trust(self, k: int) -> None:
        """From valid reading k on this foot's readings are skin again (settled, an artefact over,
        or checked): the other foot's rules look back no further."""
        self._trust_k = k
        self._high.reset()

    def _slow_onsets(self, k: int, vb: int) -> _SlowOnsets:
        """For valid readings k..vb-1: a rise over touch_slow_window_s faster than skin warms and,
        on the other foot, a loosening fall or a level too far below its recent high (the vector
        twin of _slow_onset_one). Commits the readings to the recent high."""
        cfg = self.cfg
        fast, vt = self.vfast.view, self.vt.view
        high, earlier = self._high.many_with_earlier(vt[k:vb], fast[k:vb])
        rise, jt, sct = self._change_over(k, vb, cfg.touch_slow_window_s)
        climb = rise >= self._touch_slow_step_c * sct
        # Back no higher than the foot's own level of the earlier minutes: a re-taped probe
        # climbing back onto the skin, not a hand (it cannot show a rise the skin had not).
        touch = climb & (fast[k:vb] > earlier + cfg.recovery_tolerance_c)
        if not self.other_foot:
            return _SlowOnsets(touch, touch, rise, jt)
        _, jf, scf = self._change_over(k, vb, cfg.other_fall_window_s)
        jf = np.maximum(jf, self._trust_k)
        fall = fast[jf] - fast[k:vb]
        loose = ~climb & (fall >= cfg.other_fall_c * scf)
        deep = ~climb & ~loose & (high - fast[k:vb] >= cfg.other_depth_c)
        return _SlowOnsets(touch | loose | deep, touch, rise, jt, loose, fall, jf, deep, high)

    def _start_slow_event(self, i: int, at: int, slow: _SlowOnsets) -> None:
        """Open the event ``slow`` found at valid reading i (position ``at`` in its arrays)."""
        cfg = self.cfg
        if slow.touch[at]:
            self._start_event(i, int(slow.jt[at]), touch=True,
                              reason=touch_words(float(slow.rise[at]), cfg.touch_slow_window_s))
        elif slow.loose is not None and slow.loose[at] and slow.jf is not None and slow.fall is not None:
            level0 = float(self.vfast.view[int(slow.jf[at]) : i + 1].max())
            self._start_event(i, i, touch=False, level0=level0,
                              reason=loosening_words(float(slow.fall[at]), cfg.other_fall_window_s))
        else:
            assert slow.high is not None
            high = float(slow.high[at])
            self._start_event(i, i, touch=False, level0=high,
                              reason=below_high_words(high - float(self.vfast.view[i]), cfg.other_depth_window_s))

    def _check_cut(self, k: int, vb: int) -> tuple[int, float | None]:
        """The first valid reading (index, at least k) at or after the first "probe checked"
        marker that follows the open event's recognition, and that check's time; (vb, None) if
        no such reading is in yet. A check ends only an event already going on when it was made."""
        i = bisect.bisect_right(self.checks, self._detected_s)
        if i == len(self.checks):
            return vb, None
        check_s = self.checks[i]
        kc = int(np.searchsorted(self.vt.view[:vb], check_s, side="left"))
        return max(k, min(kc, vb)), check_s

    def _new_plateau(self, k: int) -> None:
        self._plateau_from = float(self.vt.view[k])
        self._plateau = float(self.vmed.view[k])
        self._plateau_open = True
        self._released = False
        self._ok_since = None

    def _settling_index(self) -> int:
        for i in range(len(self.segments) - 1, -1, -1):
            if self.segments[i].kind is ArtefactKind.SETTLING:
                return i
        raise RuntimeError("no settling segment")  # pragma: no cover

    def _start_event(self, i: int, j: int, *, touch: bool, level0: float | None = None, reason: str = "") -> None:
        cfg = self.cfg
        vt, fast = self.vt.view, self.vfast.view
        # Date the event back to where the excursion began, but never further than the
        # finalisation lag (so a tick already judged final is never contradicted).
        earliest = max(float(vt[j]) - cfg.fast_mean_s, float(vt[i]) - (cfg.finalise_lag_s - 1.0))
        start = int(np.searchsorted(vt, earliest, side="left"))
        start = min(start, i)
        before = fast[start : j + 1] if j >= start else fast[j : j + 1]
        self._level0 = float(before.min() if touch else before.max()) if level0 is None else level0
        kind = ArtefactKind.TOUCH if touch else ArtefactKind.PROBE_LIFTED
        self._event = OpenSegment(kind, float(vt[start]), reason)
        self._detected_s = float(vt[i])
        self.segments.append(self._event)
        self._mode = _TOUCH if touch else _LIFT
        # For a touch: the highest point so far; for a lift: the lowest.
        seg = self.vmed.view[start : i + 1]
        self._peak = float(seg.max() if touch else seg.min())
        self._plateau = self._peak
        self._plateau_from = float(vt[start])
        self._plateau_open = True
        self._released = False
        self._climbed = False
        self._ok_since = None
        self._flag_valid(start, i + 1, FLAG_TOUCH if touch else FLAG_LIFT)

    # ---- queries -------------------------------------------------------------------------
    def current_kind(self) -> ArtefactKind | None:
        """The artefact going on now (the latest reading), if any."""
        if self._fault_seg is not None:
            return self._fault_seg.kind
        if self._frozen_seg is not None:
            return ArtefactKind.FROZEN
        if self._mode == _TOUCH:
            return ArtefactKind.TOUCH
        if self._mode == _LIFT:
            return ArtefactKind.PROBE_LIFTED
        if self._mode == _SETTLING and self.first_valid_s is not None:
            return ArtefactKind.SETTLING
        return None
