"""The one cell parser: what each kind of cell a person types is read as, and the same reading when a
frame is scored directly."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from scoring import cells, score

from tests.conftest import AS_OF, partners


@pytest.mark.parametrize("serial, day", [
    (1, dt.date(1900, 1, 1)), (59, dt.date(1900, 2, 28)), (60, dt.date(1900, 2, 28)),  # Excel's 29 Feb 1900
    (61, dt.date(1900, 3, 1)), (32874, dt.date(1990, 1, 1)), (45658, dt.date(2025, 1, 1)),
    (45658.99, dt.date(2025, 1, 1)), (2958465, dt.date(9999, 12, 31)),
])
def test_excel_serials_count_the_1900_leap_year_that_never_was(serial, day):
    assert cells.excel_date(serial) == day


@pytest.mark.parametrize("typed, number", [
    ("1,200", 1200), ("1 200", 1200), ("$12,000", 12000), ("€1.234,50", 1234.5), ("(300)", -300), ("-$300", -300),
    ("₺2,727,300", 2727300), ("R$ 1.234,56", 1234.56), ("CHF 1'234.50", 1234.5), ("1.234,50 kr", 1234.5),
    ("kr 1 234", 1234), ("12,50 zł", 12.5), ("US$1.5", 1.5), ("HK$ 30", 30), ("₹1,20,000", 120000), ("¥1,000", 1000),
    ("USD 5", 5), ("5 eur", 5), ("Rs. 1,200", 1200), ("0.125", 0.125), ("0,5", 0.5), ("1.5e3", 1500),
])
def test_numbers_stored_as_text_with_any_currency(typed, number):
    value, note = cells.number(typed)
    assert value == pytest.approx(number)
    assert note is None or note[0] == f"number stored as text '{typed}'"


@pytest.mark.parametrize("typed", ["5 kg", "abc5", "inf", "nan", "1,2,3", "lots"])
def test_text_that_is_no_number_stays_text(typed):
    assert cells.number(typed) == (typed, None)


def test_percentages_blanks_errors_truth_values():
    assert cells.number("85%") == (0.85, ("'85%' is a percentage", "read as 0.85"))
    assert cells.number("n/a") == (None, ("'n/a' means no value", "treated as missing"))
    assert cells.number("#N/A") == (None, ("Excel error #N/A", "treated as missing"))
    assert cells.number(True) == (True, None)  # left for the scorecard to flag: not a number
    assert [cells.truth(v) for v in ("Yes", "no", "TRUE", "x", 1, 0.0, True)] == [1, 0, 1, 1, 1, 0, 1]
    assert math.isnan(cells.truth(2)) and math.isnan(cells.truth("maybe"))


def test_percent_rule_comes_from_the_header_and_the_catalog_not_the_values():
    assert cells.percent_rule("Training Completion % (F)", "share", (0, 5)) == (True, "the header says %")
    assert cells.percent_rule("training_pct", "share", (0, 5))[0]
    assert cells.percent_rule("Training completion", "share", (0, 1)) == (True, "a share cannot be above 1")
    assert cells.percent_rule("Target realisation", "share", (0, 5))[0] is False
    assert cells.percent_rule("Deals won %", "deals", None) is None
    assert cells.number(85, percents=True)[0] == 0.85 and cells.number(0.89, percents=True)[0] == 0.89
    assert cells.number(1.35, percents=True)[0] == 1.35  # 1-2 is neither: the valid range decides


@pytest.mark.parametrize("typed, day, problem", [
    (dt.datetime(2025, 3, 1, 9, 30), dt.date(2025, 3, 1), None),
    (45658, dt.date(2025, 1, 1), "date stored as the number 45658"),
    ("2025-06-15", dt.date(2025, 6, 15), None), ("15.06.2025", dt.date(2025, 6, 15), None),
    ("15 Jun 2025", dt.date(2025, 6, 15), None), ("15/06/2025", dt.date(2025, 6, 15), None),
    ("03/04/2025", dt.date(2025, 3, 4), "ambiguous date '03/04/2025'"),
    (1, None, "the number 1 as an Excel date is 1900-01-01, before 1990"),
    (dt.date(1900, 1, 1), None, "1900-01-01 is before 1990"),
    ("not a date", None, "'not a date' is not a date"), (True, None, "'True' is not a date"),
])
def test_dates(typed, day, problem):
    value, note = cells.date(typed)
    assert value == day
    assert (note[0] if note else None) == problem


def test_truth_values_and_numbers_are_told_apart_whatever_comes_first():
    for values in ([True, 1, 1.0, 2], [1, True, 2, 1.0], [1.0] * 20 + [True] * 5 + [1] * 5):
        codes, uniques = cells.distinct(np.array(values, dtype=object))
        kinds = {(type(uniques[c]) is bool) for c, v in zip(codes, values) if type(v) is bool}
        assert kinds == {True}
        assert all(type(uniques[c]) is not bool for c, v in zip(codes, values) if type(v) is not bool)


@pytest.mark.parametrize("first", [True, 1])
@pytest.mark.parametrize("size", [3, 40])  # few cells (a row function) and a column hashed by pandas
def test_true_in_a_number_column_is_invalid_and_leaves_every_1_alone(first, size):
    later = 1 if first is True else True
    values = [first, later] + [1] * (size - 2)
    result = score(partners(*({"deals_won": v} for v in values)), as_of=AS_OF)
    flags = result.flags
    invalid = flags[(flags.flag == "invalid_value") & (flags.column == "deals_won")]
    assert invalid.partner_id.tolist() == [f"P{[v is True for v in values].index(True) + 1}"]
    subs = result.subscores["deals_won"]
    assert subs.notna().sum() == size - 1 and subs.dropna().nunique() == 1


def test_an_implausibly_early_onboarding_start_is_flagged_not_scored_as_1500_months():
    result = score(partners({"onboarding_start": dt.date(1900, 1, 1)}, {"onboarding_start": pd.Timestamp("1989-12-31")},
                            {}), as_of=AS_OF)
    months = result["months_since_start"]
    assert np.isnan(months[:2]).all() and 11 < months[2] < 13
    flags = result.flags
    early = flags[flags.flag == "missing_onboarding_start"]
    assert early.partner_id.tolist() == ["P1", "P2"] and set(early.column) == {"onboarding_start"}
    assert early.iloc[0].problem == "no usable onboarding start date"
    big = pd.DataFrame({"partner_id": [f"P{i}" for i in range(300)],
                        "onboarding_start": pd.to_datetime(["1900-01-01"] * 300), "deals_won": 3})
    assert np.isnan(score(big, as_of=AS_OF)["months_since_start"]).all()  # the datetime64 fast path too
