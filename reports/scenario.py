"""The scenario report as PDF: what model B would change against model A, on a few A4 pages.

Every number and sentence comes from :class:`scoring.scenario.Scenario`; this module phrases the
tables for print, draws two SVG charts (the tier migration grid and each budget pool by tier under
A and B, with the scorecards' chart helpers) and renders with the scorecards' Jinja2 environment,
restricted fetcher, fonts and atomic write, so the same scenario gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from scoring.scenario import Scenario

from reports.charts import GRID, INK, NAVY, SMALL, TEAL, WHITE, _clean, _fit, _line, _rect, _svg, _text
from reports.files import atomic_write
from reports.render import document_pdf

TEMPLATE = "scenario.html.j2"
MOVERS_SHOWN = 40  # partners listed in the PDF; the workbook lists every one
CELL = 34  # px per cell of the migration grid


def report(scenario: Scenario) -> dict[str, Any]:
    """What the PDF prints, as plain values (see the template)."""
    tiers = list(scenario.migration.index)
    migration = scenario.migration.to_numpy()
    movers = scenario.movers.head(MOVERS_SHOWN)
    pools = []
    for pool in dict.fromkeys(scenario.budget_totals["pool"]) if len(scenario.budget_totals) else ():
        totals = scenario.budget_totals[scenario.budget_totals["pool"] == pool].set_index("side")
        by_tier = scenario.budget_by_tier[scenario.budget_by_tier["pool"] == pool]
        by_segment = scenario.budget_by_segment[scenario.budget_by_segment["pool"] == pool]
        rows = by_tier[by_tier["tier"] != "Total"]
        pools.append({
            "label": totals["label"].iloc[0], "unit": totals["unit"].iloc[0], "rule": totals["rule"].iloc[0],
            "mode": totals["mode"].iloc[0], "total": amount(totals.loc["B", "total"]),
            "allocated_a": amount(totals.loc["A", "allocated"]), "allocated_b": amount(totals.loc["B", "allocated"]),
            "tiers": _amounts(by_tier), "segments": _amounts(by_segment),
            "chart": budget_bars(totals["label"].iloc[0], [(str(r["tier"]), r["amount_a"], r["amount_b"])
                                                          for r in rows.to_dict("records")]),
        })
    return {
        "title": "Scenario: model A against model B",
        "as_of": scenario.as_of,
        "a": scenario.a.model.label, "b": scenario.b.model.label,
        "summary": scenario.summary(),
        "changes": scenario.diff.frame().to_dict("records"),
        "correlation": scenario.correlation.to_dict("records"),
        "tiers": tiers,
        "migration": [[int(x) for x in row] for row in migration],
        "shares": [[float(x) for x in row] for row in scenario.shares.to_numpy()],
        "migration_chart": migration_grid(tiers, migration),
        "movers": movers.to_dict("records"),
        "movers_total": len(scenario.movers),
        "actions": scenario.actions.to_dict("records"),
        "pools": pools,
    }


def amount(value: float, signed: bool = False) -> str:
    """An amount as printed: thousands separated, whole units (one decimal under 100), no "-0"."""
    value = float(value)
    text = f"{value:{'+' if signed else ''},.{0 if abs(value) >= 100 else 1}f}"
    return "0" if text.lstrip("+-").strip("0.,") == "" else text.replace("-", "−")


def _amounts(frame) -> list[dict[str, Any]]:
    rows = frame.to_dict("records")
    for row in rows:
        for key in ("amount_a", "amount_b"):
            row[key] = amount(row[key])
        row["difference"] = amount(row["difference"], signed=True)
    return rows


def migration_grid(tiers: list[str], counts: np.ndarray) -> str:
    """Tier under A (rows) by tier under B (columns): each cell shaded by its share of the row and
    labelled with its count; the diagonal (no change) outlined."""
    n = len(tiers)
    pad = 28
    width, height = pad + CELL * n + 2, pad + CELL * n + 2
    parts = [_text(pad + CELL * n / 2, 9, "Tier under B", SMALL, INK, "middle", bold=True),
             f'<text x="9" y="{pad + CELL * n / 2:.1f}" font-size="{SMALL}" fill="{INK}" text-anchor="middle" '
             f'font-weight="bold" transform="rotate(-90 9 {pad + CELL * n / 2:.1f})">Tier under A</text>']
    totals = counts.sum(axis=1)
    described = []
    for j, tier in enumerate(tiers):
        parts.append(_text(pad + CELL * (j + 0.5), pad - 5, _fit(tier, CELL, SMALL), SMALL, INK, "middle"))
        parts.append(_text(pad - 3, pad + CELL * (j + 0.5) + 3, _fit(tier, pad - 14, SMALL), SMALL, INK, "end"))
    for i in range(n):
        for j in range(n):
            share = counts[i, j] / totals[i] if totals[i] else 0.0
            shade = _mix(share)
            x, y = pad + CELL * j, pad + CELL * i
            parts.append(_rect(x, y, CELL, CELL, shade, GRID if i != j else NAVY, 0.6 if i != j else 1.6))
            if counts[i, j]:
                parts.append(_text(x + CELL / 2, y + CELL / 2 + 3, f"{int(counts[i, j])}", SMALL,
                                   WHITE if share > 0.5 else INK, "middle", bold=i != j))
                if i != j:
                    described.append(f"{int(counts[i, j])} from {tiers[i]} to {tiers[j]}")
    title = "Tier migration: " + ("; ".join(described) if described else "no partner changes tier")
    return _svg(width, height, title, parts)


def budget_bars(label: str, rows: list[tuple[str, float, float]], width: int = 300) -> str:
    """Per tier, the pool's amount under A (solid navy) over B (light, outlined), on one scale."""
    pitch = 26
    left, right = 40, 70
    top = max([1e-9, *(max(a, b) for _, a, b in rows)])
    room = width - left - right
    parts, described = [], []
    for i, (tier, a, b) in enumerate(rows):
        y = i * pitch
        parts.append(_text(left - 4, y + pitch / 2 + 3, _fit(tier, left - 6, SMALL), SMALL, INK, "end"))
        parts.append(_rect(left, y + 3, room * a / top, 9, NAVY))
        parts.append(_rect(left, y + 13, room * b / top, 9, GRID, NAVY, 0.8))
        parts.append(_text(left + room * max(a, b) / top + 4, y + pitch / 2 + 3, f"{b - a:+,.0f}", SMALL,
                           TEAL if b >= a else INK, "start"))
        described.append(f"{_clean(tier)}: A {a:,.0f}, B {b:,.0f}")
    parts.append(_line(left, 0, left, pitch * len(rows), INK, 0.6))
    return _svg(width, pitch * max(len(rows), 1), f"{label} by tier under A and B: " + "; ".join(described), parts)


def _mix(share: float) -> str:
    """White to navy by ``share`` (0-1)."""
    lo, hi = (255, 255, 255), (31, 58, 95)
    r, g, b = (round(l + (h - l) * min(max(share, 0.0), 1.0)) for l, h in zip(lo, hi))
    return f"#{r:02x}{g:02x}{b:02x}"


def render_pdf(scenario: Scenario, author: str = "pscore") -> bytes:
    """The report as PDF bytes; the same scenario gives the same bytes."""
    content = report(scenario)
    return document_pdf(TEMPLATE, {"r": content, "author": author, "lang": "en"}, as_of=scenario.as_of,
                        title=content["title"], author=author)


def write_scenario_pdf(scenario: Scenario, path: "str | Path", author: str = "pscore") -> Path:
    pdf = render_pdf(scenario, author)
    return atomic_write(Path(path), lambda tmp: tmp.write_bytes(pdf))
