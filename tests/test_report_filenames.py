"""Per-partner PDF file names: safe on every OS, readable in any script, never colliding."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.filenames import safe_stem, scorecard_names

WINDOWS_FORBIDDEN = set('<>:"|?*/\\')
RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("Acme/Beta\\Gamma", "Acme-Beta-Gamma"),
        ("bad\x00name\x1f\x7fhere\n", "bad-name-here"),
        ('a<b>c:d"e|f?g*h', "a-b-c-d-e-f-g-h"),
        ("  Acme   Corp.  ", "Acme-Corp"),
        ("---Acme---", "Acme"),
        ("Sistemas Ibérica", "Sistemas-Ibérica"),
        ("株式会社テスト", "株式会社テスト"),
        ("Ｆｕｌｌｗｉｄｔｈ", "Fullwidth"),  # NFKC
        ("Cafe\u0301", "Café"),  # NFKC composes the accent
        ("evil\u202egnp.exe", "evil-gnp-exe"),  # right-to-left override is not a letter
    ],
)
def test_safe_stem_cleans(text, expected):
    assert safe_stem(text) == expected


@pytest.mark.parametrize("text", ["", "   ", ".", "..", "...", "/", "\x00", "-_-"])
def test_safe_stem_never_empty_or_dot(text):
    assert safe_stem(text) == "partner"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CON", "CON-"),
        ("con", "con-"),
        ("nul", "nul-"),
        ("Lpt9", "Lpt9-"),
        ("COM¹", "COM1-"),  # Windows treats superscript digits as digits too
        ("con.txt", "con-txt"),  # the dot never survives, so there is no "extension"
        (" aux. ", "aux-"),
        ("CONSOLE", "CONSOLE"),
        ("COM10", "COM10"),
    ],
)
def test_safe_stem_avoids_windows_device_names(text, expected):
    assert safe_stem(text) == expected


def test_safe_stem_cut_to_max_length_without_trailing_dash():
    assert safe_stem("x" * 80) == "x" * 80
    assert safe_stem("x" * 200) == "x" * 80
    assert safe_stem("a" * 79 + " b") == "a" * 79
    assert safe_stem("abcdefg hij", max_length=8) == "abcdefg"
    assert safe_stem("CONSOLE-X", max_length=7) == "CONSOLE"
    assert safe_stem("CON SOLE", max_length=7) == "CON-SOL"


def test_safe_stem_reserved_name_after_cutting():
    # "CON-" + a 4-byte letter is 8 bytes; cutting to 7 leaves "CON", which must not stand.
    assert safe_stem("CON \U00020000", max_bytes=7) == "CON-"
    assert safe_stem("CON \U00020000", max_bytes=8) == "CON-\U00020000"


def test_safe_stem_max_bytes_does_not_split_characters():
    stem = safe_stem("株" * 50, max_bytes=100)
    assert stem == "株" * 33
    assert len(stem.encode("utf-8")) <= 100


def test_safe_stem_rejects_limits_below_fallback():
    with pytest.raises(ValueError):
        safe_stem("x", max_length=6)
    with pytest.raises(ValueError):
        safe_stem("x", max_bytes=6)


def test_scorecard_names_format():
    partners = [("P-001", "Sistemas Ibérica S.A."), ("P-002", "株式会社テスト")]
    assert scorecard_names(partners) == [
        "P-001_Sistemas-Ibérica-S-A.pdf",
        "P-002_株式会社テスト.pdf",
    ]
    assert scorecard_names([("P1", "Acme")], suffix=".html") == ["P1_Acme.html"]


@pytest.mark.parametrize("name", [None, "", "   ", "\t\n", "...", float("nan")])
def test_scorecard_names_omit_blank_name(name):
    assert scorecard_names([("P7", name)]) == ["P7.pdf"]


def test_scorecard_names_id_alone_is_not_a_device_name():
    assert scorecard_names([("CON", None), ("../x", "")]) == ["CON-.pdf", "x.pdf"]


def test_scorecard_names_same_partner_twice_get_different_files():
    assert scorecard_names([("P1", "Acme"), ("P1", "Acme"), ("P1", "Acme")]) == [
        "P1_Acme.pdf",
        "P1_Acme-2.pdf",
        "P1_Acme-3.pdf",
    ]


def test_scorecard_names_case_only_differences_get_different_files():
    names = scorecard_names([("p1", "ACME"), ("P1", "acme"), ("P1", "Acme")])
    assert names == ["p1_ACME.pdf", "P1_acme-2.pdf", "P1_Acme-3.pdf"]


def test_scorecard_names_collide_after_cleaning():
    assert scorecard_names([("P1", "Acme / Corp"), ("P1", "Acme: Corp")]) == [
        "P1_Acme-Corp.pdf",
        "P1_Acme-Corp-2.pdf",
    ]


def test_scorecard_names_suffix_skips_names_in_use():
    # A later partner really called "Acme-2" keeps its own name; the duplicate moves on.
    assert scorecard_names([("P1", "Acme"), ("P1", "acme"), ("P1", "ACME-2")]) == [
        "P1_Acme.pdf",
        "P1_acme-3.pdf",
        "P1_ACME-2.pdf",
    ]


def test_scorecard_names_bounded_stem():
    [name] = scorecard_names([("I" * 300, "N" * 300)])
    assert name == "I" * 40 + "_" + "N" * 59 + ".pdf"
    [cjk] = scorecard_names([("P1", "株" * 300)])
    stem = cjk.removesuffix(".pdf")
    assert len(stem) <= 100 and len(stem.encode("utf-8")) <= 200
    assert stem.startswith("P1_株")


def test_scorecard_names_deterministic():
    partners = [("P1", "Acme"), ("p1", "ACME"), ("P2", None), ("P1", "Acme")]
    assert scorecard_names(partners) == scorecard_names(list(partners))


def _assert_safe(stem: str, max_chars: int) -> None:
    assert stem and stem not in {".", ".."}
    assert not WINDOWS_FORBIDDEN & set(stem)
    assert not any(unicodedata.category(ch) in {"Cc", "Cf", "Zs", "Zl", "Zp"} for ch in stem)
    assert not stem.startswith(("-", ".", " ")) and not stem.endswith((".", " "))
    if stem.endswith("-"):  # only to defuse a device name ("CON-", "P1_CON-")
        assert stem.rpartition("_")[2][:-1].upper() in RESERVED
    assert len(stem) <= max_chars
    assert unicodedata.normalize("NFKC", stem) == stem


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(7, 120))
def test_safe_stem_property(text, max_length):
    stem = safe_stem(text, max_length)
    _assert_safe(stem, max_length)
    assert stem.upper() not in RESERVED
    assert safe_stem(stem, max_length) == stem  # already safe: unchanged


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet=st.sampled_from("aA.-/ 1_é\x00"), max_size=6) | st.text(max_size=150),
            st.none() | st.text(alphabet=st.sampled_from("bB -Ç"), max_size=4) | st.text(),
        ),
        max_size=25,
    )
)
def test_scorecard_names_property(partners):
    names = scorecard_names(partners)
    assert len(names) == len(partners)
    assert len({name.casefold() for name in names}) == len(names)
    assert len({name.upper() for name in names}) == len(names)
    assert len({name.lower() for name in names}) == len(names)
    for name in names:
        assert name.endswith(".pdf")
        stem = name.removesuffix(".pdf")
        _assert_safe(stem, 110)
        assert len(name.encode("utf-8")) <= 255
