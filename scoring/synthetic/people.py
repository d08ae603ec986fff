"""Who the synthetic partners are: segments, countries, partner managers, names and onboarding starts.

The segment lists and their shares are the simulator's population; the segment effects below are
how the latent process differs by partner type (what the model adjusts for lives in the model).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from scoring.synthetic.arrays import words
from scoring.synthetic.months import shift_years

PARTNER_TYPES = ("reseller", "integrator", "referral", "marketplace")
TYPE_SHARES = (0.40, 0.25, 0.20, 0.15)
REGIONS = ("NA", "EMEA", "APAC", "LATAM")
REGION_SHARES = (0.38, 0.32, 0.18, 0.12)

# Segment effects, indexed like PARTNER_TYPES: integrators sell larger and slower contracts,
# referral partners pass many small leads, marketplaces reach many accounts.
CONTRACT_SIZE_FACTOR = (1.0, 2.2, 0.6, 0.8)
LEADS_FACTOR = (1.0, 0.7, 1.6, 1.3)
REACH_FACTOR = (1.0, 0.6, 0.8, 3.0)
VELOCITY_FACTOR = (1.0, 1.5, 0.8, 0.7)
REVENUE_LOG_SHIFT = (0.0, 0.4, -0.4, -0.1)

COUNTRIES: dict[str, tuple[tuple[str, float], ...]] = {
    "NA": (("United States", 0.85), ("Canada", 0.15)),
    "EMEA": (
        ("United Kingdom", 0.22), ("Germany", 0.20), ("France", 0.15), ("Netherlands", 0.09),
        ("Spain", 0.08), ("Italy", 0.07), ("Sweden", 0.06), ("Poland", 0.06),
        ("United Arab Emirates", 0.04), ("South Africa", 0.03),
    ),
    "APAC": (("Japan", 0.25), ("Australia", 0.25), ("India", 0.20), ("Singapore", 0.15), ("South Korea", 0.15)),
    "LATAM": (("Brazil", 0.40), ("Mexico", 0.30), ("Argentina", 0.10), ("Chile", 0.10), ("Colombia", 0.10)),
}

# Partner managers work one region each.
OWNERS: dict[str, tuple[str, ...]] = {
    "NA": ("Alex Morgan", "Jordan Lee"),
    "EMEA": ("Camille Laurent", "Jonas Weber"),
    "APAC": ("Kenji Sato", "Priya Raman"),
    "LATAM": ("Lucía Fernández", "Rafael Costa"),
}

NAME_HEADS = (
    "Summit", "Bluewater", "Northstar", "Ironbridge", "Silverline", "Redwood", "Harbor", "Cobalt",
    "Keystone", "Granite", "Evergreen", "Brightpath", "Clearwater", "Pinnacle", "Lighthouse", "Oakridge",
    "Crescent", "Meridian", "Trident", "Vanguard", "Atlas", "Horizon", "Falcon", "Sterling", "Cascade",
    "Beacon", "Copperleaf", "Stonegate", "Riverbend", "Westbrook", "Eastgate", "Highland", "Juniper",
    "Maple", "Orion", "Polaris", "Quantum", "Sapphire", "Tidewater", "Upland", "Willow", "Aspen",
    "Blackrock", "Canyon", "Driftwood", "Ember", "Foxglove", "Glacier", "Hawthorn", "Indigo", "Kestrel",
    "Lakeside", "Monarch", "Nimbus", "Obsidian", "Prairie", "Redstone", "Seaside", "Thornfield", "Vertex",
)
NAME_CORES = (
    "Data", "Cloud", "Systems", "Digital", "Networks", "Analytics", "Software", "IT", "Infotech",
    "Computing", "Security", "Integration", "Tech", "Logic", "Connect", "Stack", "Code", "Insight",
    "Ops", "Grid",
)
NAME_TAILS = (
    "Solutions", "Partners", "Group", "Inc.", "LLC", "Ltd", "Services", "Labs", "& Co.", "Associates",
    "Consulting", "Works", "Collective", "Advisors",
)


@dataclass(frozen=True)
class LocalNames:
    """Company names in a country's own language: real partner lists are never plain ASCII."""

    countries: tuple[str, ...]
    heads: tuple[str, ...]
    tails: tuple[str, ...]
    separator: str = " "

    def pool(self) -> np.ndarray:
        return np.array([h + self.separator + t for h in self.heads for t in self.tails], dtype=object)


LOCAL_NAMES = (
    LocalNames(
        ("Germany",),
        ("Nordlicht", "Bergwerk", "Rheintal", "Alpenblick", "Elbufer", "Schwarzwald", "Hanse", "Isartal", "Weißdorn"),
        ("Systemhaus GmbH", "Datentechnik GmbH", "IT-Lösungen GmbH", "Netzwerke GmbH", "Informatik AG"),
    ),
    LocalNames(
        ("France",),
        ("Société Générale", "Société Lyonnaise", "Société Bretonne", "Groupe Étoile", "Hélios", "Azur"),
        ("Informatique", "Réseaux & Données", "Solutions Numériques SARL", "Conseil SAS"),
    ),
    LocalNames(
        ("Spain", "Mexico", "Argentina", "Chile", "Colombia"),
        ("Tecnología", "Soluciones", "Informática", "Sistemas", "Servicios Digitales"),
        ("Andina", "del Pacífico", "Peñalara", "Águila", "Cóndor", "Ibérica", "Austral"),
    ),
    LocalNames(
        ("Brazil",),
        ("Soluções", "Integração", "Tecnologia", "Informática", "Sistemas"),
        ("Paulista Ltda", "Carioca Ltda", "São Francisco Ltda", "Amazônia Ltda", "Ipê Ltda"),
    ),
    LocalNames(("Sweden",), ("Ström", "Fjäll", "Skärgård", "Älvdal", "Norrsken"), ("Datakonsult AB", "IT-Partner AB")),
    LocalNames(("Poland",), ("Łódź", "Kraków", "Wisła", "Gdańsk"), ("Systemy Informatyczne Sp. z o.o.", "Technologie")),
    LocalNames(
        ("Japan",),
        ("東京", "大阪", "名古屋", "横浜", "福岡", "札幌", "京都", "神戸"),
        ("クラウド株式会社", "データ株式会社", "システム株式会社", "ネットワークス株式会社", "ソリューションズ株式会社"),
        separator="",
    ),
    LocalNames(
        ("South Korea",), ("서울", "부산", "한강"), ("클라우드 주식회사", "데이터 주식회사", "시스템 주식회사"), separator=""
    ),
)
LOCAL_NAME_SHARE = 0.2  # of partners in a country with a local name pool


@dataclass(frozen=True)
class People:
    """Observable identity of each partner (arrays of length n)."""

    ids: np.ndarray
    names: np.ndarray
    type_code: np.ndarray
    region_code: np.ndarray
    country: np.ndarray
    owner: np.ndarray
    start: np.ndarray  # datetime64[D]

    @property
    def partner_type(self) -> np.ndarray:
        return words(PARTNER_TYPES)[self.type_code]

    @property
    def region(self) -> np.ndarray:
        return words(REGIONS)[self.region_code]


def draw_people(rng: np.random.Generator, n: int, as_of: dt.date) -> People:
    type_code = rng.choice(len(PARTNER_TYPES), size=n, p=TYPE_SHARES)
    region_code = rng.choice(len(REGIONS), size=n, p=REGION_SHARES)
    country = np.empty(n, dtype=object)
    owner = np.empty(n, dtype=object)
    for r, region in enumerate(REGIONS):
        idx = np.flatnonzero(region_code == r)
        names, weights = zip(*COUNTRIES[region])
        country[idx] = rng.choice(words(names), size=len(idx), p=np.divide(weights, sum(weights)))
        owner[idx] = rng.choice(words(OWNERS[region]), size=len(idx))
    earliest = shift_years(as_of, -2)
    offsets = rng.integers(0, (as_of - earliest).days + 1, size=n)
    start = np.datetime64(as_of, "D") - offsets
    ids = np.array([f"P{i:05d}" for i in range(1, n + 1)], dtype=object)
    return People(ids, _draw_names(rng, country), type_code, region_code, country, owner, start)


def _draw_names(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Distinct company-like names; some partners in non-English countries get a local name."""
    n = len(country)
    per_head = len(NAME_CORES) * len(NAME_TAILS)
    combos = len(NAME_HEADS) * per_head
    codes = rng.choice(combos, size=n, replace=n > combos)
    head, rest = np.divmod(codes, per_head)
    core, tail = np.divmod(rest, len(NAME_TAILS))
    names = words(NAME_HEADS)[head] + " " + words(NAME_CORES)[core] + " " + words(NAME_TAILS)[tail]
    local = rng.random(n) < LOCAL_NAME_SHARE
    for pool in LOCAL_NAMES:
        idx = np.flatnonzero(local & np.isin(country, pool.countries))
        chosen = rng.permutation(pool.pool())[: len(idx)]
        names[idx[: len(chosen)]] = chosen
    return names

