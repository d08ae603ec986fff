"""The About sheet of a synthetic programme's workbook: that the data is synthetic, which case it is,
what each sheet holds, and where the process (and the truth, never written) is documented."""

from __future__ import annotations

from scoring.synthetic.programmes import OUTCOME_MONTHS, Programme

__all__ = ["about_programme"]


def about_programme(programme: Programme) -> list[tuple[str, object]]:
    """The workbook's About sheet as (label, text) rows: that the data is synthetic, which case it is,
    and what each sheet holds. The truth is never written, so the lines say where it is documented."""
    o = programme.options
    departures = [
        "true category effects in their own order, not the model's ordinal maps" if o.category_order == "wrong"
        else "true category effects in the order of the model's ordinal maps",
        "partner type and region have true effects the model has no weight for" if o.segment_effects
        else "partner type and region have no true effect",
        f"{', '.join(o.late_metrics)} recorded only for sellers signed from {o.late_since}" if o.late_metrics
        else "every sign-up answer recorded for every seller",
        "zero-inflated, heavy-tailed revenue" if o.revenue == "heavy" else "hurdle lognormal revenue",
    ]
    sheets = [
        ("Partners", "One row per seller: id, name, onboarding_start (signing day), partner_type, region and the "
         f"sign-up answers of the {programme.model.spec.name} model's metrics."),
        *([("History", "Monthly snapshots of the sign-up answers (period = month end, the current month at the "
            "as-of date), from the onboarding month; the answers never change.")] if programme.history is not None else []),
        ("Outcomes", f"The {len(programme.outcomes)} sellers signed at least {OUTCOME_MONTHS} months before the as-of "
         f"date: engaged_12m (1 = still selling actively) and revenue_12m (sales in the {OUTCOME_MONTHS} months "
         "after signing)."),
    ]
    return [
        ("SYNTHETIC PROGRAMME DATA", "A synthetic marketplace seller-onboarding export (scoring.synthetic.programmes); "
         "no seller, name or number is real."),
        ("Case", o.name),
        ("Seed", o.seed),
        ("Sellers", len(programme.partners)),
        ("As of", o.as_of),
        ("", None),
        ("Sheets", None),
        *sheets,
        ("", None),
        ("How it was made", "docs/demo-data.md, Marketplace programmes: " + "; ".join(departures) + "."),
        ("", "The true probabilities and category effects are not in this workbook."),
    ]
