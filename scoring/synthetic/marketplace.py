"""What a marketplace's seller sign-up form records, and what each answer truly does: the category
tables behind :mod:`scoring.synthetic.programmes`.

Each categorical attribute lists its categories with the share of sellers who give that answer and
the answer's true effect on the engagement logit. These effects are the *truth* of the programme; the
analyst's beliefs about the same answers live elsewhere, in the model file
(``scoring/synthetic/marketplace.yaml``), and are deliberately wrong in places (docs/demo-data.md,
"Marketplace programmes"). Keeping the two apart is the point: the truth must not be read off the
model it is meant to test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Attribute:
    """One categorical sign-up answer: categories, how often each is given, and its true logit effect."""

    id: str
    categories: tuple[str, ...]
    shares: tuple[float, ...]
    effects: tuple[float, ...]  # on the engagement logit, in the order of ``categories``

    def centred(self, effects: "tuple[float, ...] | np.ndarray | None" = None) -> np.ndarray:
        """``effects`` (default: this attribute's own) less their share-weighted mean, so that the
        average seller gets 0 from every attribute and the intercept alone sets the base rate, whatever
        order the effects are given in."""
        values = np.asarray(self.effects if effects is None else effects, dtype=float)
        return values - np.dot(values, self.shares) / sum(self.shares)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Category codes (indices into ``categories``) for ``n`` sellers."""
        return rng.choice(len(self.categories), size=n, p=np.divide(self.shares, sum(self.shares)))


#: How the lead reached the marketplace. Online leads by size, industry fairs, social media, offline.
LEAD_TYPE = Attribute(
    "lead_type",
    ("online_medium", "online_big", "industry", "offline", "online_small", "social", "online_beginner", "other"),
    (0.33, 0.15, 0.14, 0.12, 0.09, 0.08, 0.06, 0.03),
    (0.35, 0.65, -0.55, 0.15, -0.05, 0.45, -0.30, -0.80),
)

#: The sales rep's read of the seller's temperament (DISC-like animal profiles; "mixed" = two of them).
LEAD_BEHAVIOUR_PROFILE = Attribute(
    "lead_behaviour_profile",
    ("cat", "eagle", "wolf", "shark", "mixed"),
    (0.48, 0.15, 0.12, 0.06, 0.19),
    (0.45, -0.25, 0.10, -0.50, 0.0),
)

#: What the seller sells.
BUSINESS_SEGMENT = Attribute(
    "business_segment",
    ("home_decor", "health_beauty", "car_accessories", "household_utilities", "construction_tools",
     "audio_video_electronics", "computers", "pet", "food_drink", "other"),
    (0.16, 0.14, 0.11, 0.11, 0.10, 0.10, 0.08, 0.07, 0.07, 0.06),
    (0.20, 0.40, -0.05, 0.0, -0.10, -0.35, -0.30, 0.30, 0.15, -0.20),
)

#: Average units in stock per product, as ticked on the form (added to the form late; no true effect).
AVERAGE_STOCK = Attribute(
    "average_stock",
    ("1-5", "5-20", "20-50", "50-200", "200+", "unknown"),
    (0.20, 0.30, 0.20, 0.15, 0.10, 0.05),
    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
)

CATEGORICAL = (LEAD_TYPE, LEAD_BEHAVIOUR_PROFILE, BUSINESS_SEGMENT, AVERAGE_STOCK)

#: The segmentation dimension: what kind of business the seller is.
PARTNER_TYPE = Attribute(
    "partner_type", ("reseller", "manufacturer", "other"), (0.70, 0.27, 0.03),
    # logit shifts that give true engagement rates of about 26%, 11% and 18% (see TYPE_RATES)
    (0.35, -0.765, -0.16),
)
#: The rates the partner-type shifts were solved for, on a large draw of every other attribute.
TYPE_RATES = {"reseller": 0.26, "manufacturer": 0.11, "other": 0.18}

#: Where the seller is based (Brazil's macro-regions).
REGION = Attribute(
    "region", ("southeast", "south", "northeast", "centre_west", "north"), (0.55, 0.20, 0.13, 0.08, 0.04),
    (0.0, 0.25, -0.15, -0.05, -0.35),
)

#: Yes/no answers added to the form late; no true effect (share answering yes, by partner type).
HAS_COMPANY_SHARE = 0.62
HAS_GTIN_SHARE = {"reseller": 0.40, "manufacturer": 0.80, "other": 0.50}

#: Attributes the form only asked from a late date on (metric ids); none of them has a true effect.
LATE_METRICS = ("has_company", "has_gtin", "average_stock")

#: Engagement logit intercept: about 20% of sellers engaged over all, without segment effects.
ENGAGEMENT_INTERCEPT = -1.525


#: Declared catalogue size: lognormal, ``max(1, round(CATALOG_MEDIAN exp(CATALOG_SIGMA z)))``.
CATALOG_MEDIAN, CATALOG_SIGMA = 60.0, 1.1
#: Declared monthly revenue: 0 (not declared) unless the seller declares, then lognormal, rounded to 100.
DECLARING_SHARE, DECLARED_MEDIAN, DECLARED_SIGMA = 0.35, 30_000.0, 1.4


def catalog_effect(size: np.ndarray) -> np.ndarray:
    """Saturating: the first few dozen products matter, beyond a few hundred nothing more."""
    return 0.9 * (1.0 - np.exp(-size / 80.0)) - 0.45


#: Declared monthly revenue (BRL) from which a seller engages more: a step, not a slope.
DECLARED_THRESHOLD = 50_000.0


def declared_effect(declared: np.ndarray) -> np.ndarray:
    """Threshold: sellers declaring at least DECLARED_THRESHOLD a month engage more; 0 declared a little less."""
    return 0.6 * (declared >= DECLARED_THRESHOLD) - 0.15 * (declared == 0)
