"""The ``pscore`` command line: the same pipeline as the Excel add-in, in batch.

User mistakes (a missing file, a bad model, an unreadable date) end in one ``error:`` line and exit
status 2; only genuine bugs show a traceback.
"""

from __future__ import annotations

import datetime as dt
import contextlib
import functools
import getpass
import math
import sys
import time
import zipfile
from pathlib import Path
from typing import Callable, Iterator

import click
import numpy as np

from scoring import ModelError, load_model
from scoring.model.calibration_schema import DEFAULT_WINDOW_MONTHS
from scoring.engine import UNSCORED, to_date
from scoring.model.dump import dump_model
from scoring.monitoring import shift_line, since_calibration

from xlplugin.workbook import model_sheet
from xlplugin.workbook import pipeline as workbook
from xlplugin.workbook.save import atomic_write
from xlplugin.workbook.reader import open_workbook
from xlplugin.workbook.writer import quality_records

EXIT_USER_ERROR = 2


def user_errors(fn: Callable) -> Callable:
    """Turn the product's own error types into one clear line instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ModelError as exc:
            first = exc.problems[0]
            more = f" (+{len(exc.problems) - 1} more; see pscore validate-model {exc.source})" if len(exc.problems) > 1 else ""
            _fail(f"{exc.source}: invalid model: {first}{more}")
        except (workbook.WorkbookError, ValueError, OSError) as exc:
            _fail(str(exc))

    return wrapper


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USER_ERROR)


def _date_option(value: str | None) -> dt.date | None:
    return None if value is None else to_date(value)


def scoring_options(command: Callable) -> Callable:
    """--model, --model-sheet, --as-of and --sheet: how a workbook is read and scored, the same for
    every command that scores one (see :func:`_read_and_score`)."""
    options = [
        click.option("--model", "model_ref", default="default", show_default=True,
                     help="Model to score with: a built-in name or the path of a model YAML file."),
        click.option("--model-sheet", "use_model_sheet", is_flag=True,
                     help="Take weights and thresholds from the workbook's Model sheet (as edited there) on top "
                          "of --model."),
        click.option("--as-of", "as_of", metavar="YYYY-MM-DD",
                     help="Scoring date, which sets each partner's maturity stage. [default: today]"),
        click.option("--sheet", default=workbook.PARTNERS_SHEET, show_default=True,
                     help="Sheet holding one row per partner."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _read_and_score(workbook_path: Path, model_ref: str, use_model_sheet: bool, as_of: str | None,
                    sheet: str) -> workbook.ScoredInput:
    """Read and score the workbook; the options are checked first, so their mistakes come before any work."""
    model, as_of_date = load_model(model_ref), _date_option(as_of)
    with _step(f"Reading and scoring {workbook_path}"):
        scored = workbook.score_workbook(workbook_path, model, as_of_date, sheet, use_model_sheet)
    _require_scored(scored)
    return scored


def _require_scored(scored: workbook.ScoredInput) -> None:
    """A run that scores nobody is a mistake in the input (wrong sheet, headers not recognised,
    unusable values), not a result to write or render."""
    tiers = np.asarray(scored.result["tier"], dtype=object)
    if (tiers != UNSCORED).any():
        return
    partners = scored.partners
    found = [partners.headers.get(m.id, m.id) for m in scored.model.spec.metrics if m.id in partners.frame.columns]
    if not found:
        columns = list(partners.headers.values())
        listed = ", ".join(columns[:8]) + (f" and {len(columns) - 8} more" if len(columns) > 8 else "")
        reason = (f"sheet '{partners.sheet}' has none of the model's metric columns (its columns: {listed}); "
                  "see docs/workbooks.md for the headers pscore reads")
    elif (np.asarray(scored.result["coverage"], dtype=float) > 0).any():
        reason = f"all {len(tiers)} partners are {UNSCORED}"
    else:
        flags = scored.result.flags
        bad = flags[flags["flag"] != "missing"]
        example = ""
        if not bad.empty:
            first = bad.iloc[0]
            where = partners.headers.get(first["column"], first["column"])
            example = f"; e.g. row {first['row']}, {where}: {first['value']!r} is {first['problem']}"
        reason = (f"none of the {len(tiers)} partners on sheet '{partners.sheet}' has a usable value in the metric "
                  f"columns found ({', '.join(found[:5])}{', ...' if len(found) > 5 else ''}){example}")
    raise workbook.WorkbookError(f"{scored.source}: no partner could be scored: {reason}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pscore", prog_name="pscore")
def main() -> None:
    """Partner onboarding scorecard: score partners, explain the scores, recommend next steps."""


@main.command("score")
@click.argument("workbook_path", metavar="IN.xlsx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the scores: .csv (one row per partner) or .xlsx (a copy of IN plus Scores, "
                   "Data quality, Model and Dashboard sheets).")
@scoring_options
@click.option("--in-place", is_flag=True, help="Allow OUT to be IN itself; a dated backup of IN is kept next to it.")
@user_errors
def score_command(workbook_path: Path, output: Path, model_ref: str, use_model_sheet: bool, as_of: str | None,
                  sheet: str, in_place: bool) -> None:
    """Score every partner in IN.xlsx and write scores, tiers, drivers, actions and data-quality flags."""
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm"):
        raise ValueError(f"{output}: the output must end in .csv or .xlsx (.xlsm for a workbook with macros)")
    scored = _read_and_score(workbook_path, model_ref, use_model_sheet, as_of, sheet)
    with _step(f"Writing {output}"):
        if suffix == ".csv":
            workbook.write_csv(scored.result, output)
        else:
            workbook.write_scored(scored, output, in_place=in_place)
    _summary(scored, output)


@contextlib.contextmanager
def _step(message: str) -> Iterator[None]:
    """Say on stderr what a long step is doing: on a terminal on one line with its time; in a log
    (a pipe, a CI job) as a line when it starts and one when it is done, so a slow step shows."""
    start = time.perf_counter()
    tty = sys.stderr.isatty()
    click.echo(f"{message} ...", err=True, nl=not tty)
    yield
    elapsed = time.perf_counter() - start
    click.echo(f" {elapsed:.1f} s" if tty else f"{message}: done in {elapsed:.1f} s", err=True)


@contextlib.contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """An ``update(n)`` for ``total`` items: a bar on a terminal; in a log, a line each tenth of the
    way (at least every 100 items) and at the end."""
    if sys.stderr.isatty():
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            yield bar.update
        return
    every = min(100, max(1, math.ceil(total / 10)))
    start, done = time.perf_counter(), 0
    click.echo(f"{label} ...", err=True)

    def update(n: int) -> None:
        nonlocal done
        before, done = done, done + n
        if done // every > before // every or done == total:
            click.echo(f"  {done} of {total} done ({time.perf_counter() - start:.1f} s)", err=True)

    yield update


def _summary(scored: workbook.ScoredInput, output: Path) -> None:
    result = scored.result
    frame = result.frame
    tiers = frame["tier"].value_counts()
    order = [t.id for t in result.model.spec.tiers] + ["Unscored"]
    mix = ", ".join(f"{t} {int(tiers[t])}" for t in order if t in tiers)
    records = quality_records(result, scored.partners, scored.issues)  # what the Data quality sheet lists
    rows = records.loc[records["sheet"] == scored.partners.sheet, "row"]
    about = int(frame.index.isin(rows).sum())
    click.echo(
        f"Scored {len(frame)} partners with {result.model.label} as of {result.as_of.isoformat()}: {mix}. "
        f"{len(records)} data-quality records, about {about} partners. Wrote {output}"
    )
    if scored.anomalies is not None and len(scored.anomalies):
        found = ", ".join(f"{n} {kind}" for kind, n in scored.anomalies.counts().items() if n)
        click.echo(f"Anomalies among them: {found} (valid but implausible values; see docs/monitoring.md).")
    shifted = shift_line(since_calibration(scored.partners.frame, result.model, result.as_of))
    if shifted:
        click.echo(shifted)
    for note in scored.notes:
        click.echo(note)


@main.command("validate-model")
@click.argument("model_path", metavar="PATH")
@user_errors
def validate_model(model_path: str) -> None:
    """Check a model file and list every problem with its location."""
    try:
        model = load_model(model_path)
    except ModelError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_USER_ERROR)
    spec = model.spec
    click.echo(
        f"{model_path}: valid. {model.label}, effective {spec.effective_date}: {len(spec.metrics)} metrics, "
        f"{len(spec.stages)} stages, {len(spec.segments)} segments, {len(spec.tiers)} tiers, "
        f"{len(spec.playbook.rules)} playbook rules."
    )


@main.group("model")
def model_group() -> None:
    """Work with model files: export edits made in a workbook's Model sheet."""


@model_group.command("export")
@click.option("--from-workbook", "workbook_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A scored workbook whose Model sheet holds the edited weights and thresholds.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the new model file (.yaml).")
@click.option("--model", "model_ref", default="default", show_default=True,
              help="The model the workbook's Model sheet was made from.")
@click.option("--author", default=lambda: getpass.getuser(), show_default="your user name",
              help="Author recorded in the changelog.")
@click.option("--rationale", default=None, help="Why the weights changed, for the changelog. [default: where they came from]")
@user_errors
def model_export(workbook_path: Path, output: Path, model_ref: str, author: str, rationale: str | None) -> None:
    """Save the Model-sheet edits of a workbook as a new model version with a changelog entry."""
    if output.exists() and output.resolve() == workbook_path.resolve():
        raise ValueError(f"{output}: refusing to overwrite the input workbook; choose another output file")
    if output.is_file() and zipfile.is_zipfile(output):
        raise ValueError(f"{output}: is a workbook; refusing to overwrite it with a model file; "
                         "choose another output file")
    if output.suffix.lower() not in (".yaml", ".yml"):
        raise ValueError(f"{output}: the model file must end in .yaml or .yml")
    base = load_model(model_ref)
    if Path(base.source).exists() and output.resolve() == Path(base.source).resolve():
        raise ValueError(f"{output}: refusing to overwrite the base model; choose another output file")
    edited = model_sheet.read(open_workbook(workbook_path), base, workbook_path)
    new = model_sheet.export(base, edited, author, rationale or f"Edited in the Model sheet of {workbook_path.name}",
                             dt.date.today())
    text = dump_model(new.spec, f"{new.label}: exported by pscore model export from {workbook_path.name}")
    atomic_write(output, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    click.echo(f"Wrote {new.label} to {output}: {new.spec.changelog[-1].change}")


@main.group("excel")
def excel_group() -> None:
    """Set up workbooks for the pscore Excel add-in (xlwings functions and macros)."""


@excel_group.command("init")
@click.argument("workbook_path", metavar="WORKBOOK.xlsx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the ready workbook (.xlsx; .xlsm for a workbook with macros). "
                   "[default: WORKBOOK-excel.xlsx next to the input]")
@click.option("--sheet", default=workbook.PARTNERS_SHEET, show_default=True, help="Sheet holding one row per partner.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Scoring date the formulas start with. [default: today]")
@user_errors
def excel_init(workbook_path: Path, output: Path | None, sheet: str, as_of: str | None) -> None:
    """Copy WORKBOOK.xlsx with the add-in set up: xlwings.conf, example formulas, a Read me sheet."""
    from xlplugin.excel.init_workbook import init_workbook

    output = output or workbook_path.with_name(f"{workbook_path.stem}-excel{workbook_path.suffix.lower() if workbook_path.suffix.lower() == '.xlsm' else '.xlsx'}")
    done = init_workbook(workbook_path, output, _date_option(as_of) or dt.date.today(), sheet)
    click.echo(f"Wrote {done.path}: formulas for {done.partners} partners over {done.table}, weights from "
               f"{done.model}. Next: open it in Excel and follow its Read me sheet (xlwings > Import Functions).")
    for note in done.notes:
        click.echo(note)


@main.command("demo")
@click.argument("path", metavar="PATH.xlsx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--partners", "n_partners", default=300, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Number of synthetic partners.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed; the same seed gives the same workbook.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Date the data is current to. [default: today]")
@click.option("--force", is_flag=True, help="Replace PATH.xlsx if it exists (it is never replaced otherwise).")
@user_errors
def demo_command(path: Path, n_partners: int, seed: int, as_of: str | None, force: bool) -> None:
    """Write a synthetic partner workbook (Partners, History, Milestones, Outcomes, ...) to PATH.xlsx."""
    from scoring.synthetic import generate

    from xlplugin.workbook.demo import write_workbook

    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"{path}: the demo workbook must end in .xlsx")
    if path.exists() and not force:
        raise ValueError(f"{path}: already exists; pass --force to replace it with synthetic partners")
    data = generate(n_partners=n_partners, seed=seed, as_of=_date_option(as_of))
    write_workbook(data, path)
    click.echo(f"Wrote {n_partners} synthetic partners (seed {seed}, as of {data.as_of.isoformat()}) to {path}")


def _cohort_options(fn: Callable) -> Callable:
    """The options ``calibrate`` and ``fit`` share: where the cohort is, how it is scored and split."""
    for option in reversed([
        click.argument("workbook_path", metavar="WORKBOOK.xlsx", type=click.Path(dir_okay=False, path_type=Path)),
        click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
                      help="Where to write the new model version (.yaml); the --model file is never overwritten."),
        click.option("--model", "model_ref", default="default", show_default=True,
                      help="Model to start from: a built-in name or the path of a model YAML file."),
        click.option("--horizon", type=click.IntRange(1, 120), metavar="MONTHS",
                      help="Outcome horizon: Outcomes must have revenue_<MONTHS>m and engaged_<MONTHS>m. [default: the model's, 12]"),
        click.option("--window", "window_months", default=DEFAULT_WINDOW_MONTHS, show_default=True,
                      type=click.IntRange(0, 119), metavar="MONTHS",
                      help="Score each partner as it looked this many months after onboarding start (its History row of "
                           "that month); 0 takes the Partners sheet as at sign-up and needs no History. Must be shorter "
                           "than the horizon."),
        click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
                      help="Also write the back-test report: figures with intervals, reliability, baselines, weights (.xlsx)."),
        click.option("--engagement-map", "method", type=click.Choice(["logistic", "isotonic"]), default="logistic",
                      show_default=True, help="Score-to-probability map; isotonic needs 1,000+ partners with outcomes."),
        click.option("--test-share", default=0.3, show_default=True, type=click.FloatRange(0.1, 0.5),
                      help="Share of partners, latest onboarding cohorts first, held out to back-test on."),
        click.option("--seed", default=0, show_default=True, type=int,
                      help="Seed for resampling and cross-fitting; the same seed gives the same result."),
        click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Calibration date recorded in the model. [default: today]"),
        click.option("--sheet", default=workbook.PARTNERS_SHEET, show_default=True,
                      help="Sheet holding one row per partner (onboarding start, segments)."),
    ]):
        fn = option(fn)
    return fn


@main.command("calibrate")
@_cohort_options
@user_errors
def calibrate_command(**options) -> None:
    """Calibrate scores to revenue and engagement on past cohorts, back-test them and suggest weights.

    Partners on the Outcomes sheet are scored as they looked WINDOW months after onboarding start
    (History, or the Partners sheet with --window 0); the scorecard is kept, the maps from its
    scores to outcomes are fitted, and the model is written as a new version with its back-test.
    """
    _calibrate_workbook(fit=False, **options)


@main.command("fit")
@_cohort_options
@user_errors
def fit_command(**options) -> None:
    """Learn the scorecard from past cohorts' outcomes, then calibrate it (docs/calibration.md).

    Category points, monotone bins for numbers, weights across layers and segment adjustments are
    fitted with the --model as the prior, back-tested against the base rate, the current scorecard,
    a one-hot logistic regression and gradient boosting, and written as a new model version.
    """
    _calibrate_workbook(fit=True, **options)


def _calibrate_workbook(*, fit: bool, workbook_path: Path, output: Path, model_ref: str, horizon: int | None,
                        window_months: int, report: Path | None, method: str, test_share: float, seed: int,
                        as_of: str | None, sheet: str) -> None:
    """``pscore calibrate`` and ``pscore fit``: read the cohort, run, write the model and the report."""
    from scoring import ScoringModel
    from scoring.calibration.run import Settings, calibrate

    from xlplugin.workbook import calibration as cohorts

    command = "fit" if fit else "calibrate"
    if output.suffix.lower() not in (".yaml", ".yml"):
        raise ValueError(f"{output}: the {'fitted' if fit else 'calibrated'} model must end in .yaml")
    model = load_model(model_ref)
    if Path(model.source).is_file() and output.resolve() == Path(model.source).resolve():
        raise ValueError(f"{output}: refusing to overwrite the input model; choose another output file")
    if report is not None:
        if report.suffix.lower() != ".xlsx":
            raise ValueError(f"{report}: the report must end in .xlsx")
        if report.resolve() in (workbook_path.resolve(), output.resolve()):
            raise ValueError(f"{report}: refusing to overwrite an input or the model; choose another report file")
    horizon = horizon or model.spec.horizon_months
    data = cohorts.read_cohort(workbook_path, model, window_months=window_months, horizon_months=horizon,
                               partners_sheet=sheet)
    settings = Settings(date=_date_option(as_of) or dt.date.today(), horizon_months=horizon,
                        window_months=window_months, method=method, test_share=test_share, seed=seed, fit=fit)
    run = calibrate(data.cohort, model, settings)
    new = ScoringModel(run.spec, str(output))
    text = dump_model(run.spec, f"{new.label}: {'fitted' if fit else 'calibrated'} by pscore {command} from "
                                f"{workbook_path.name} ({model.label}). Field reference: docs/model-file.md, "
                                f"docs/calibration.md")
    atomic_write(output, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    written = [f"{output} ({new.label})"]
    if report is not None:
        cohorts.write_report(run, report, model.label, workbook_path.name)
        written.append(str(report))
    lines = [f"{model.label}: {run.report.summary[0]}", *(f"Skipped {s}." for s in data.skipped),
             *([f"Skipped {run.excluded} partners with no usable data."] if run.excluded else []),
             *run.report.summary[1:], f"Wrote {' and '.join(written)}"]
    click.echo("\n".join(lines))


@main.group("report")
def report_group() -> None:
    """PDF reports from a partner workbook."""


@report_group.command("scorecards")
@click.argument("workbook_path", metavar="WORKBOOK.xlsx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the PDFs (created if missing): one file per partner, named from its ID and name.")
@click.option("--partners", "partner_ids", metavar="ID,...", help="Only these partner IDs (comma-separated).")
@click.option("--tier", "tiers", multiple=True, metavar="TIER", help="Only partners in this tier (repeatable).")
@click.option("--audience", type=click.Choice(["partner", "internal"]), default="partner", show_default=True,
              help="partner: safe to send (no internal forecast, owner or notes); internal: everything.")
@click.option("--paper", type=click.Choice(["A4", "Letter"], case_sensitive=False), default="A4", show_default=True,
              help="Page size.")
@click.option("--accessible", is_flag=True, help="Tagged PDF (PDF/UA-1) for screen readers; slower.")
@click.option("--logo", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Image shown above the partner name on every scorecard (PNG, JPEG or SVG).")
@click.option("--author", default="pscore", show_default=True, help="Author recorded in the PDFs' document properties.")
@scoring_options
@click.option("--workers", type=click.IntRange(1, 64), help="Processes to render with. [default: all cores]")
@user_errors
def report_scorecards(workbook_path: Path, out_dir: Path, partner_ids: str | None, tiers: tuple[str, ...],
                      audience: str, paper: str, accessible: bool, logo: Path | None, author: str, model_ref: str,
                      use_model_sheet: bool, as_of: str | None, sheet: str, workers: int | None) -> None:
    """One PDF scorecard per partner in WORKBOOK.xlsx: scores and trend, trajectory, drivers,
    segment benchmark, next steps and data notes.

    A partner whose scorecard fails is reported and skipped; the others are still written
    (exit status 1 when any failed).
    """
    from reports import job
    from reports.render import RenderOptions

    from xlplugin.workbook.scorecard_inputs import job_inputs

    options = RenderOptions(paper="Letter" if paper.lower() == "letter" else "A4",
                            accessible=accessible, author=author, logo=logo)
    start = time.perf_counter()
    scored = _read_and_score(workbook_path, model_ref, use_model_sheet, as_of, sheet)
    inputs = job_inputs(scored)
    positions = job.select(inputs, (partner_ids or "").split(",") if partner_ids else (), tiers)
    with _step(f"Preparing {len(positions)} scorecards"):
        cards = job.build_cards(inputs, positions, audience)
    with _progress(len(cards), f"Rendering {len(cards)} scorecards") as update:
        summary = job.write_scorecards(cards, out_dir, options, progress=update, workers=workers)
    elapsed = time.perf_counter() - start
    click.echo(f"Wrote {len(summary.written)} {audience} scorecards ({options.paper}) to {out_dir} in {elapsed:.1f} s "
               f"with {scored.model.label}, as of {scored.result.as_of.isoformat()}.")
    if report_failures(summary.failures):
        sys.exit(1)


def report_failures(failures: list[tuple[str, str]]) -> int:
    """List the partners a batch could not finish, one line each on stderr; how many there were."""
    if failures:
        click.echo(f"{len(failures)} failed:", err=True)
        for partner, reason in failures:
            click.echo(f"  {partner}: {reason}", err=True)
    return len(failures)


@main.command("history")
@click.argument("workbook_path", metavar="WORKBOOK.xlsx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write: .xlsx (a copy of WORKBOOK plus History scores, History long, Changes and "
                   "History chart sheets) or .csv (the table per partner and period).")
@click.option("--model", "model_ref", default="default", show_default=True,
              help="Model to score with: a built-in name or the path of a model YAML file.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Leave out History periods after this date. [default: none]")
@click.option("--from", "start", metavar="YYYY-MM-DD",
              help="Explain changes since each partner's snapshot at or before this date. [default: a quarter before --to]")
@click.option("--to", "end", metavar="YYYY-MM-DD",
              help="Explain changes up to each partner's snapshot at or before this date. [default: its latest]")
@click.option("--sheet", default=workbook.PARTNERS_SHEET, show_default=True, help="Sheet holding one row per partner.")
@user_errors
def history_command(workbook_path: Path, output: Path, model_ref: str, as_of: str | None, start: str | None,
                    end: str | None, sheet: str) -> None:
    """Every partner at every History period: raw, smoothed and published scores, provisional and
    guardrail flags, stale values, and why each score moved (docs/history.md)."""
    from xlplugin.workbook.history_book import write_history

    model = load_model(model_ref)
    dates = {name: _date_option(value) for name, value in (("as_of", as_of), ("start", start), ("end", end))}
    with _step(f"Scoring the History of {workbook_path}"):
        written = write_history(workbook_path, output, model, sheet=sheet, **dates)
    click.echo(written.summary)
    for note in written.notes:
        click.echo(note)


@main.command("monitor")
@click.argument("workbook_path", metavar="WORKBOOK.xlsx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the report: .xlsx (tables and charts) or .pdf.")
@click.option("--from", "start", metavar="YYYY-MM", help="Compare from this History month. [default: the "
              "calibration baseline of --baseline or --model, else History's first month]")
@click.option("--to", "end", metavar="YYYY-MM", help="Compare to this History month. [default: today's Partners sheet]")
@click.option("--baseline", "baseline_ref", metavar="CALIBRATED.yaml",
              help="A calibrated model whose stored cohort is the baseline (pscore calibrate or fit store it).")
@scoring_options
@user_errors
def monitor_command(workbook_path: Path, output: Path, start: str | None, end: str | None, baseline_ref: str | None,
                    model_ref: str, use_model_sheet: bool, as_of: str | None, sheet: str) -> None:
    """Population stability (PSI) of every input and score between two periods, or since calibration,
    with tier shares, coverage and anomaly counts: docs/monitoring.md."""
    from xlplugin.monitor import run_monitor

    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".pdf"):
        raise ValueError(f"{output}: the output must end in .xlsx or .pdf")
    scored = _read_and_score(workbook_path, model_ref, use_model_sheet, as_of, sheet)
    with _step(f"Writing {output}"):
        lines = run_monitor(scored, output, start=start, end=end, baseline=baseline_ref)
    for line in lines:
        click.echo(line)
    click.echo(f"Wrote {output}")


@report_group.command("qbr")
@click.argument("workbook_path", metavar="WORKBOOK.xlsx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="FILE.pdf for --programme or --partner; a folder for --partners/--tier (one PDF per partner).")
@click.option("--programme", is_flag=True, help="The programme pack: tiers, migration, segments, movers, forecast, health.")
@click.option("--partner", "partner_id", metavar="ID", help="One partner's pack.")
@click.option("--partners", "partner_ids", metavar="ID,...", help="Packs for these partner IDs, into the -o folder.")
@click.option("--tier", "tiers", multiple=True, metavar="TIER", help="Packs for partners in this tier (repeatable).")
@click.option("--quarter", metavar="YYYYQn", help="Quarter under review, e.g. 2026Q3: scored as of its last day "
                                                  "unless --as-of is given. [default: the scoring date's quarter]")
@click.option("--audience", type=click.Choice(["partner", "internal"]),
              help="Partner packs: partner (safe to send) or internal (forecast, owner, notes). "
                   "[default: partner; the programme pack is internal]")
@click.option("--paper", type=click.Choice(["A4", "Letter"], case_sensitive=False), default="A4", show_default=True,
              help="Page size.")
@click.option("--accessible", is_flag=True, help="Tagged PDF (PDF/UA-1) for screen readers.")
@click.option("--logo", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Image for the cover.")
@click.option("--author", default="pscore", show_default=True, help="Author recorded in the PDFs' document properties.")
@scoring_options
@click.option("--workers", type=click.IntRange(1, 64), help="Processes to render with. [default: all cores]")
@user_errors
def report_qbr(**options) -> None:
    """Quarterly business review packs: the programme's, one partner's, or many partners' into a folder.

    Sections whose data is absent (no History, no Interventions, an uncalibrated model) are left out.
    """
    from xlplugin.qbr_command import run

    if run(**options):
        sys.exit(1)


from xlplugin.governance_cli import register as _register_governance  # noqa: E402 - needs the groups above

_register_governance(main, model_group)


if __name__ == "__main__":  # pragma: no cover
    main()
