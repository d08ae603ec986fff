"""Sample size and minimum detectable effect (MDE) for a two-arm experiment, said plainly.

For a yes/no outcome with base rate ``p`` (e.g. still engaged at 12 months) and an absolute
difference ``d`` between arms, the partners needed per arm at significance ``alpha`` (two-sided)
and ``power`` are ``(z_(1-alpha/2) sqrt(2 pbar qbar / k) + z_power sqrt(p q / k_c + p' q' / k_t))^2 / d^2``
in the usual normal approximation; for a numeric outcome with standard deviation ``sd``,
``(z_(1-alpha/2) + z_power)^2 sd^2 (1/k_t + 1/k_c) / d^2`` with ``k`` the arms' shares. Given the
partners, the MDE is the ``d`` that solves the same equation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

__all__ = ["Plan", "mde_for", "n_for", "plan"]


@dataclass(frozen=True)
class Plan:
    """What a planned experiment can detect, and whether the programme is large enough."""

    partners: int | None  # available (given) or needed (computed)
    baseline_rate: float | None
    sd: float | None
    mde: float | None
    needed: int | None  # partners needed for ``mde`` at ``power``
    detectable: float | None  # MDE with ``partners``
    power: float
    alpha: float
    fraction: float
    enough: bool | None
    lines: tuple[str, ...]


def _z(alpha: float, power: float) -> tuple[float, float]:
    return float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))


def n_for(mde: float, *, baseline_rate: float | None = None, sd: float | None = None, power: float = 0.8,
          alpha: float = 0.05, fraction: float = 0.5) -> int:
    """Total partners needed to detect an absolute effect ``mde`` (a rate difference with
    ``baseline_rate``, or a difference in means with ``sd``)."""
    za, zb = _z(alpha, power)
    kt, kc = fraction, 1 - fraction
    if baseline_rate is not None:
        p1 = baseline_rate
        p2 = min(max(baseline_rate + mde, 0.0), 1.0)
        pbar = kc * p1 + kt * p2
        numerator = (za * math.sqrt(pbar * (1 - pbar) * (1 / kt + 1 / kc))
                     + zb * math.sqrt(p1 * (1 - p1) / kc + p2 * (1 - p2) / kt)) ** 2
    else:
        numerator = (za + zb) ** 2 * sd ** 2 * (1 / kt + 1 / kc)
    return math.ceil(numerator / abs(mde) ** 2)


def mde_for(partners: int, *, baseline_rate: float | None = None, sd: float | None = None, power: float = 0.8,
            alpha: float = 0.05, fraction: float = 0.5) -> float:
    """The smallest absolute effect ``partners`` in all can detect at ``power`` (an increase, for a rate)."""
    za, zb = _z(alpha, power)
    if baseline_rate is None:
        return (za + zb) * sd * math.sqrt(1 / (fraction * partners) + 1 / ((1 - fraction) * partners))
    lo, hi = 1e-6, 1.0 - baseline_rate
    if hi <= lo or n_for(hi, baseline_rate=baseline_rate, power=power, alpha=alpha, fraction=fraction) > partners:
        return float("inf")
    for _ in range(60):  # bisection: n_for decreases as the effect grows
        mid = (lo + hi) / 2
        if n_for(mid, baseline_rate=baseline_rate, power=power, alpha=alpha, fraction=fraction) > partners:
            lo = mid
        else:
            hi = mid
    return hi


def plan(*, partners: int | None = None, baseline_rate: float | None = None, sd: float | None = None,
         mde: float | None = None, power: float = 0.8, alpha: float = 0.05, fraction: float = 0.5) -> Plan:
    """Sample size for ``mde``, MDE for ``partners``, or both (and whether ``partners`` suffice)."""
    if (baseline_rate is None) == (sd is None):
        raise ValueError("give either a baseline rate (a yes/no outcome) or a standard deviation (a numeric outcome)")
    if baseline_rate is not None and not 0 < baseline_rate < 1:
        raise ValueError(f"baseline rate: {baseline_rate:g} must lie between 0 and 1 (e.g. 0.35 for 35%)")
    if sd is not None and sd <= 0:
        raise ValueError("the standard deviation must be positive")
    if partners is None and mde is None:
        raise ValueError("give the partners available (--partners), the effect to detect (--mde), or both")
    if partners is not None and partners < 4:
        raise ValueError("an experiment needs at least 4 partners, 2 per arm")
    if mde is not None and (mde <= 0 or (baseline_rate is not None and baseline_rate + mde > 1)):
        raise ValueError("the effect to detect (--mde) must be positive" +
                         (" and keep the rate at or below 1" if baseline_rate is not None else ""))
    if not 0 < fraction < 1:
        raise ValueError("the treatment fraction must lie between 0 and 1")
    kind = dict(baseline_rate=baseline_rate, sd=sd, power=power, alpha=alpha, fraction=fraction)
    needed = n_for(mde, **kind) if mde is not None else None
    detectable = mde_for(partners, **kind) if partners is not None else None
    what = (f"a change in a {baseline_rate:.0%} rate" if baseline_rate is not None else
            f"a difference in means (standard deviation {sd:g})")
    unit = (lambda d: f"{d * 100:.1f} percentage points") if baseline_rate is not None else (lambda d: f"{d:.3g}")
    lines = [f"Design: {fraction:.0%} of partners treated, {power:.0%} power, two-sided {alpha:g} significance, for {what}."]
    enough = None
    if needed is not None:
        lines.append(f"To detect {unit(mde)} you need {needed:,} partners ({math.ceil(needed * fraction):,} treated, "
                     f"{math.ceil(needed * (1 - fraction)):,} control).")
    if detectable is not None:
        if math.isinf(detectable):
            lines.append(f"With {partners:,} partners no effect on this rate can be detected reliably: the programme is "
                         "too small for this experiment.")
        else:
            lines.append(f"With {partners:,} partners the smallest effect you can reliably detect is {unit(detectable)}.")
    if needed is not None and partners is not None:
        enough = partners >= needed
        if enough:
            lines.append(f"Enough: {partners:,} partners cover the {needed:,} needed.")
        else:
            lines.append(f"Too small: {partners:,} partners are {needed - partners:,} short of the {needed:,} needed to "
                         f"detect {unit(mde)}; a smaller effect than {unit(detectable) if not math.isinf(detectable) else 'any'} "
                         "would likely be missed. Run it longer, on more partners, or on a stronger treatment.")
    return Plan(partners if partners is not None else needed, baseline_rate, sd, mde, needed, detectable, power, alpha,
                fraction, enough, tuple(lines))
