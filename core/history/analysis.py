"""What a program's last runs say: per-function averages, the bottlenecks, and regressions told from noise.

A sampled function's self share is a binomial proportion: k of the run's N
samples had it innermost. The last run's share is tested against the pooled
share of the runs before it with a two-proportion z-test, and its self seconds
against the earlier runs' mean with the noise of Poisson sample counts; both
variances are widened by the overdispersion the earlier runs show among
themselves (quasi-likelihood, one dispersion factor per history: real
programs vary from run to run more than sampling alone explains). A function is flagged when

- both |z| exceed the two-sided critical value at 1% family-wise error
  (Bonferroni over the functions tested, never below 3) in the same direction:
  a share that grew only because another function got faster, or seconds that
  grew only because the whole run was given more work, are not regressions;
- its share moved by at least half a percentage point and 10 % of itself, and
  its seconds by 10 % (significant but negligible is not worth anyone's time).

Runs without sample counts (deterministic profiles) are treated as if sampled
at 100 Hz: as noisy as the default sampler, so exact timings do not flag every
microsecond of jitter. Identical runs have z = 0 and flag nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

from pyrometer.core.history.store import RunRecord

FAMILY_ALPHA = 0.01
MIN_Z = 3.0
MIN_SHARE_CHANGE = 0.005  # half a percentage point
MIN_RELATIVE_CHANGE = 0.10
NOMINAL_RATE_HZ = 100.0
TOP_BOTTLENECKS = 5


@dataclass
class FunctionHistory:
    ident: str
    name: str
    file: str
    runs: int  # runs (of the window) in which the function was seen
    avg_s: float  # averages, min and max count a run without the function as 0
    min_s: float
    max_s: float
    last_s: float
    avg_pct: float
    last_pct: float
    shares: list[float] = field(default_factory=list)  # self share (0..1) per run, oldest first
    avg_cpu_s: float | None = None  # on-CPU self seconds, averaged over the runs that measured it (0 where absent)
    last_cpu_s: float | None = None  # in the last run; None when it measured no CPU


@dataclass
class Regression:
    ident: str
    name: str
    file: str
    direction: str  # "slower" | "faster"
    last_s: float
    avg_s: float  # the average of the runs before the last
    change_pct: float | None  # seconds, last against that average; None when it was 0
    last_pct: float
    avg_pct: float
    z: float


@dataclass
class HistoryReport:
    program: str
    runs: list[RunRecord]
    functions: list[FunctionHistory]
    bottlenecks: list[FunctionHistory]
    regressions: list[Regression]


def _interval(run: RunRecord, n: float) -> float:
    """Seconds (or units) one sample stands for in this run."""
    return run.total / n if n > 0 else 0.0


def _evidence(run: RunRecord) -> tuple[float, dict[str, float]]:
    """(N, k per function ident): sample counts, or a nominal 100 Hz equivalent without them."""
    counts = [f.self_samples for f in run.functions]
    if run.samples and all(c is not None for c in counts):
        k: dict[str, float] = {}
        for f in run.functions:
            k[f.ident] = k.get(f.ident, 0.0) + float(f.self_samples or 0)
        return float(run.samples), k
    n = run.total if run.unit == "samples" else run.total * NOMINAL_RATE_HZ
    n = max(float(n), 1.0)
    k = {}
    for f in run.functions:
        k[f.ident] = k.get(f.ident, 0.0) + (f.self / run.total * n if run.total > 0 else 0.0)
    return n, k


def _self_by_ident(run: RunRecord) -> dict[str, float]:
    out: dict[str, float] = {}
    for f in run.functions:
        out[f.ident] = out.get(f.ident, 0.0) + f.self
    return out


def _cpu_by_ident(run: RunRecord) -> dict[str, float]:
    out: dict[str, float] = {}
    for f in run.functions:
        out[f.ident] = out.get(f.ident, 0.0) + (f.cpu_self or 0.0)
    return out


def function_history(runs: list[RunRecord]) -> list[FunctionHistory]:
    """One row per function seen in any of `runs` (oldest first), by average self seconds."""
    per_run = [_self_by_ident(r) for r in runs]
    labels: dict[str, tuple[str, str]] = {}
    for run in runs:  # the newest spelling wins
        for f in run.functions:
            labels[f.ident] = (f.name, f.file)
    cpu_runs = [_cpu_by_ident(r) for r in runs if r.cpu_s is not None]  # runs that measured CPU time
    last_cpu = cpu_runs[-1] if runs and runs[-1].cpu_s is not None else None
    rows = []
    for ident, (name, file) in labels.items():
        selfs = [d.get(ident, 0.0) for d in per_run]
        cpus = [d.get(ident, 0.0) for d in cpu_runs]
        shares = [s / r.total if r.total > 0 else 0.0 for s, r in zip(selfs, runs, strict=True)]
        rows.append(
            FunctionHistory(
                ident=ident,
                name=name,
                file=file,
                runs=sum(1 for d in per_run if ident in d),
                avg_s=sum(selfs) / len(selfs),
                min_s=min(selfs),
                max_s=max(selfs),
                last_s=selfs[-1],
                avg_pct=100.0 * sum(shares) / len(shares),
                last_pct=100.0 * shares[-1],
                shares=shares,
                avg_cpu_s=sum(cpus) / len(cpus) if cpus else None,
                last_cpu_s=None if last_cpu is None else last_cpu.get(ident, 0.0),
            )
        )
    rows.sort(key=lambda r: (-r.avg_s, -r.avg_pct, r.name, r.file))
    return rows


def critical_z(tests: int) -> float:
    """Two-sided critical value at FAMILY_ALPHA over `tests` tests (Bonferroni), at least MIN_Z."""
    return max(MIN_Z, NormalDist().inv_cdf(1.0 - FAMILY_ALPHA / (2.0 * max(tests, 1))))


def _dispersion(rows: list[tuple[list[float], list[float], list[float]]]) -> float:
    """One overdispersion factor for a history: Pearson chi-square over its degrees of freedom, >= 1.

    Pooled over the functions (each row: counts, expected counts, variances of
    one function in the earlier runs), as a quasi-binomial / quasi-Poisson
    model has one dispersion parameter: a few runs give each function only a
    handful of degrees of freedom, too few to estimate its own.
    """
    chi2 = 0.0
    dof = 0
    for counts, expected, variances in rows:
        if len(counts) < 2 or not all(v > 0 for v in variances):
            continue
        chi2 += sum((k - e) ** 2 / v for k, e, v in zip(counts, expected, variances, strict=True))
        dof += len(counts) - 1
    return max(1.0, chi2 / dof) if dof else 1.0


def _z_share(kl: float, nl: float, kh: list[float], nh: list[float], phi: float) -> float:
    """Two-proportion z of the last run's self share against the earlier runs' pooled share."""
    n_hist = sum(nh)
    p_last, p_hist = kl / nl, sum(kh) / n_hist
    pooled = (kl + sum(kh)) / (nl + n_hist)
    if pooled <= 0.0 or pooled >= 1.0:
        return 0.0
    return (p_last - p_hist) / math.sqrt(phi * pooled * (1.0 - pooled) * (1.0 / nl + 1.0 / n_hist))


def _z_seconds(sl: float, dl: float, sh: list[float], dh: list[float], phi: float) -> float:
    """z of the last run's self seconds against the earlier runs' mean, with sampling's own noise.

    A run sampled every d seconds measures S seconds as k * d with k ~ Poisson(S / d),
    so its variance is S * d: runs sampled at different effective rates (a loaded
    machine samples less often) are compared fairly.
    """
    m = len(sh)
    mean_h = sum(sh) / m
    s0 = (sl + sum(sh)) / (m + 1)
    var = s0 * (dl + sum(dh) / (m * m))
    if s0 <= 0.0 or var <= 0.0:
        return 0.0
    return (sl - mean_h) / math.sqrt(phi * var)


def regressions(runs: list[RunRecord]) -> list[Regression]:
    """Functions whose last run differs from the runs before it beyond sampling noise, biggest |z| first.

    Both the self share and the self sample count must have moved the same
    way beyond noise: a share that grew only because another function got
    faster is not 'slower', and seconds that grew with the whole run (a
    bigger input) are not a regression of this function.
    """
    if len(runs) < 2:
        return []
    history, last = runs[:-1], runs[-1]
    n_last, k_last = _evidence(last)
    evidence = [_evidence(r) for r in history]
    nh = [n for n, _ in evidence]
    self_last = _self_by_ident(last)
    self_hist = [_self_by_ident(r) for r in history]
    labels = {f.ident: (f.name, f.file) for r in runs for f in r.functions}
    idents = sorted(labels)
    z_crit = critical_z(len(idents))
    counts = {ident: [k.get(ident, 0.0) for _, k in evidence] for ident in idents}
    d_last = _interval(last, n_last)
    dh = [_interval(r, n) for r, n in zip(history, nh, strict=True)]
    share_rows = []
    seconds_rows = []
    for ident, kh in counts.items():
        p = sum(kh) / sum(nh)
        sh = [d.get(ident, 0.0) for d in self_hist]
        mean = sum(sh) / len(sh)
        share_rows.append((kh, [n * p for n in nh], [n * p * (1.0 - p) for n in nh]))
        seconds_rows.append((sh, [mean] * len(sh), [mean * d for d in dh]))
    phi_share, phi_seconds = _dispersion(share_rows), _dispersion(seconds_rows)
    out = []
    for ident in idents:
        kl = k_last.get(ident, 0.0)
        kh = counts[ident]
        z = _z_share(kl, n_last, kh, nh, phi_share)
        sh = [d.get(ident, 0.0) for d in self_hist]
        z_n = _z_seconds(self_last.get(ident, 0.0), d_last, sh, dh, phi_seconds)
        if abs(z) < z_crit or abs(z_n) < z_crit or z * z_n <= 0:
            continue
        p_last, p_hist = kl / n_last, sum(kh) / sum(nh)
        moved = abs(p_last - p_hist)
        last_s = self_last.get(ident, 0.0)
        avg_s = sum(d.get(ident, 0.0) for d in self_hist) / len(self_hist)
        if moved < MIN_SHARE_CHANGE or moved < MIN_RELATIVE_CHANGE * max(p_hist, p_last):
            continue
        if abs(last_s - avg_s) < MIN_RELATIVE_CHANGE * max(last_s, avg_s) or (last_s - avg_s) * z <= 0:
            continue
        name, file = labels[ident]
        hist_pct = 100.0 * sum(s.get(ident, 0.0) / r.total for s, r in zip(self_hist, history, strict=True) if r.total > 0) / len(history)
        out.append(
            Regression(
                ident=ident,
                name=name,
                file=file,
                direction="slower" if z > 0 else "faster",
                last_s=last_s,
                avg_s=avg_s,
                change_pct=(last_s / avg_s - 1.0) * 100.0 if avg_s > 0 else None,
                last_pct=100.0 * (last_s / last.total if last.total > 0 else 0.0),
                avg_pct=hist_pct,
                z=z,
            )
        )
    out.sort(key=lambda r: -abs(r.z))
    return out


def build_report(program: str, runs: list[RunRecord]) -> HistoryReport:
    functions = function_history(runs)
    bottlenecks = sorted(functions, key=lambda r: (-r.avg_pct, r.name))[:TOP_BOTTLENECKS]
    bottlenecks = [b for b in bottlenecks if b.avg_pct > 0]
    return HistoryReport(program, runs, functions, bottlenecks, regressions(runs))


def trend(durations: Sequence[float | None]) -> float | None:
    """The last duration against the average of the known ones before it, in percent.

    None with one run, when the last run's duration is unknown (None), or when no
    earlier run's is known: an unknown duration is left out, never counted as 0.
    """
    if len(durations) < 2 or durations[-1] is None:
        return None
    earlier = [d for d in durations[:-1] if d is not None]
    if not earlier:
        return None
    before = sum(earlier) / len(earlier)
    return (durations[-1] / before - 1.0) * 100.0 if before > 0 else None


def measures_note(runs: list[RunRecord]) -> str | None:
    """One line when the runs measure different things (a CPU-clock import among wall-clock recordings)."""
    from pyrometer.core.analysis.measures import KIND_TEXT

    counts: dict[str, int] = {}
    for r in runs:
        if r.measures:
            counts[r.measures] = counts.get(r.measures, 0) + 1
    if len(counts) < 2:
        return None
    each = ", ".join(f"{n} {KIND_TEXT.get(k, k)}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"the runs measure different things ({each}): a change between them may be only the clock"


def common_measure(runs: list[RunRecord]) -> str | None:
    """The one thing every run measures, None when they differ or one does not say."""
    kinds = {r.measures for r in runs}
    return kinds.pop() if len(kinds) == 1 else None


UNKNOWN_BAR = "·"  # a sparkline's mark for a run whose duration is unknown


def sparkline(values: Sequence[float | None]) -> str:
    """▁▂▃▄▅▆▇█ scaled from the smallest to the largest known value; `·` for an unknown one."""
    bars = "▁▂▃▄▅▆▇█"
    known = [v for v in values if v is not None]
    if not known:
        return UNKNOWN_BAR * len(values)
    lo, hi = min(known), max(known)
    if hi - lo <= 0:
        return "".join(UNKNOWN_BAR if v is None else bars[3] for v in values)
    return "".join(UNKNOWN_BAR if v is None else bars[min(7, int((v - lo) / (hi - lo) * 7.999))] for v in values)
