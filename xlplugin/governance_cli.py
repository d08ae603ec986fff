"""The governance commands of the ``pscore`` command line: ``model diff``, ``scenario``,
``experiment plan|assign|analyze`` and ``interventions``.

Thin like the rest of the command line: each reads its inputs, calls one function of the core
(:mod:`scoring.model.diff`, :mod:`scoring.scenario`, :mod:`scoring.experiments`,
:mod:`scoring.interventions`) and hands the result to a writer. Registered on the main group by
:func:`register`, so :mod:`xlplugin.cli` changes by two lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scoring import ScoringModel, load_model

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
EXIT_DIFFERENT = 1


def resolve_model(ref: str, base: str = "default") -> ScoringModel:
    """A model named on the command line: ``default``, a model file, or a scored workbook (its Model
    sheet's weights and thresholds on top of ``base``)."""
    if Path(ref).suffix.lower() in WORKBOOK_SUFFIXES:
        from xlplugin.workbook import model_sheet
        from xlplugin.workbook.reader import open_workbook

        if not Path(ref).is_file():
            raise ValueError(f"{ref}: no such workbook")
        return model_sheet.read(open_workbook(ref), load_model(base), ref)
    return load_model(ref)


def register(main: click.Group, model_group: click.Group) -> None:
    """Add the governance commands to the ``pscore`` group and its ``model`` group."""
    from xlplugin import cli

    @model_group.command("diff")
    @click.argument("a", metavar="A")
    @click.argument("b", metavar="B")
    @click.option("--base", default="default", show_default=True,
                  help="The model a workbook's Model sheet was made from (when A or B is a workbook).")
    @click.option("--csv", "as_csv", is_flag=True, help="One row per change (section, path, change, old, new, text).")
    @cli.user_errors
    def model_diff(a: str, b: str, base: str, as_csv: bool) -> None:
        """What changed from model A to model B, path by path, in plain words.

        A and B are each `default`, a model file, or a scored workbook (its Model sheet as edited).
        Exit status 0 when they are identical, 1 when they differ, 2 on an error (like diff).
        """
        from scoring.model.diff import diff_models

        found = diff_models(resolve_model(a, base), resolve_model(b, base))
        if as_csv:
            click.echo(found.frame().to_csv(index=False), nl=False)
        else:
            click.echo("\n".join(found.lines()))
        sys.exit(0 if found.identical else EXIT_DIFFERENT)

    @main.command("scenario")
    @click.argument("workbook_path", metavar="WORKBOOK.xlsx", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--model", "model_a", default="default", show_default=True,
                  help="Model A (the one in use): default, a model file, or a scored workbook's Model sheet.")
    @click.option("--vs", "model_b", required=True,
                  help="Model B (the proposed one): default, a model file, or a scored workbook's Model sheet "
                       "(WORKBOOK.xlsx itself for its own Model-sheet edits).")
    @click.option("--base", default="default", show_default=True,
                  help="The model a workbook's Model sheet was made from.")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="scenario.xlsx (a copy of WORKBOOK with the scenario sheets) or scenario.pdf (a report).")
    @click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Scoring date for both models. [default: today]")
    @click.option("--sheet", default="Partners", show_default=True, help="Sheet holding one row per partner.")
    @cli.user_errors
    def scenario_command(workbook_path: Path, model_a: str, model_b: str, base: str, output: Path, as_of: str | None,
                         sheet: str) -> None:
        """What model B would change against model A for the same partners on the same date: tier
        migration, rank correlation, partners who change tier or quadrant and why, actions gained and
        lost, and each budget pool's allocation by tier and segment."""
        from xlplugin.workbook import scenario as scenario_sheets

        suffix = output.suffix.lower()
        if suffix not in (".xlsx", ".xlsm", ".pdf"):
            raise ValueError(f"{output}: the scenario must be written as .xlsx (.xlsm for a workbook with macros) or .pdf")
        a, b = resolve_model(model_a, base), resolve_model(model_b, base)
        date = cli._date_option(as_of) or __import__("datetime").date.today()
        with cli._step(f"Scoring {workbook_path} with A and B"):
            book, found = scenario_sheets.scenario_of_workbook(workbook_path, a, b, date, sheet)
        with cli._step(f"Writing {output}"):
            if suffix == ".pdf":
                from reports.scenario import write_scenario_pdf

                write_scenario_pdf(found, output)
                notes = []
            else:
                notes = scenario_sheets.write_scenario(book, found, output, workbook_path)
        click.echo("\n".join([*found.summary(), f"Wrote {output}", *notes]))

    @main.group("experiment")
    def experiment_group() -> None:
        """Plan, assign and read out controlled experiments on partners (docs/experiments.md)."""

    @experiment_group.command("plan")
    @click.option("--partners", type=click.IntRange(4, None), help="Partners available for the experiment.")
    @click.option("--baseline-rate", type=float, help="The outcome's rate without treatment (0-1), e.g. 0.4.")
    @click.option("--sd", type=float, help="For a numeric outcome: its standard deviation (instead of a rate).")
    @click.option("--from-workbook", "workbook_path", type=click.Path(dir_okay=False, path_type=Path),
                  help="Take the rate (or standard deviation) from this workbook's Outcomes sheet.")
    @click.option("--outcome", type=click.Choice(["engagement", "revenue"]), default="engagement", show_default=True,
                  help="With --from-workbook: which outcome.")
    @click.option("--mde", type=float, help="The smallest effect worth detecting (absolute: 0.05 = 5 percentage points).")
    @click.option("--power", type=click.FloatRange(0.5, 0.99), default=0.8, show_default=True)
    @click.option("--alpha", type=click.FloatRange(0.001, 0.2), default=0.05, show_default=True)
    @click.option("--fraction", type=click.FloatRange(0.05, 0.95), default=0.5, show_default=True,
                  help="Share of partners treated.")
    @cli.user_errors
    def experiment_plan(partners, baseline_rate, sd, workbook_path, outcome, mde, power, alpha, fraction) -> None:
        """Sample size for an effect, or the smallest effect a sample can detect, said plainly."""
        from scoring.experiments import plan

        if workbook_path is not None:
            baseline_rate, sd, found = _outcome_spread(workbook_path, outcome)
            partners = partners or found
        result = plan(partners=partners, baseline_rate=baseline_rate, sd=sd, mde=mde, power=power, alpha=alpha,
                      fraction=fraction)
        click.echo("\n".join(result.lines))

    @experiment_group.command("assign")
    @click.argument("workbook_path", metavar="WORKBOOK.xlsx", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--name", required=True, help="The experiment's name, as the Experiments sheet records it.")
    @click.option("--fraction", type=click.FloatRange(0.01, 0.99), default=0.5, show_default=True,
                  help="Share of partners treated.")
    @click.option("--seed", type=int, required=True, help="Random seed: the same seed gives the same arms.")
    @click.option("--strata", default="", metavar="COLUMN,...",
                  help="Balance the arms within each combination of these columns (e.g. partner_type,tier).")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="A copy of WORKBOOK with the arms in its Experiments sheet (.xlsx; .xlsm with macros).")
    @click.option("--model", "model_ref", default="default", show_default=True, help="Model for tiers and balance.")
    @click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Assignment date. [default: today]")
    @click.option("--sheet", default="Partners", show_default=True, help="Sheet holding one row per partner.")
    @cli.user_errors
    def experiment_assign(workbook_path, name, fraction, seed, strata, output, model_ref, as_of, sheet) -> None:
        """Stratified random assignment, reproducible from the seed, into the Experiments sheet of a copy,
        with a balance table of the arms."""
        from xlplugin.workbook import experiments

        model = load_model(model_ref)
        date = cli._date_option(as_of) or __import__("datetime").date.today()
        columns = tuple(s.strip() for s in strata.split(",") if s.strip())
        sheets = experiments.read(workbook_path, model, sheet)
        assignment = experiments.assign_workbook(sheets, model, name.strip(), fraction, seed, columns, date)
        notes = experiments.write_assignment(sheets, assignment, output, workbook_path, date)
        click.echo("\n".join([*assignment.lines(), f"Wrote {output}", *notes]))

    @experiment_group.command("analyze")
    @click.argument("workbook_path", metavar="WORKBOOK.xlsx", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--name", required=True, help="The experiment to read out.")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="Also write the read-out: a .pdf report, or a copy of WORKBOOK with it (.xlsx; .xlsm with macros).")
    @click.option("--model", "model_ref", default="default", show_default=True,
                  help="Model the pre-period and current scores are computed with.")
    @click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Read-out date. [default: today]")
    @click.option("--resamples", type=click.IntRange(0, 1_000_000), default=10_000, show_default=True,
                  help="Bootstrap resamples.")
    @click.option("--seed", type=int, default=0, show_default=True, help="Seed for the bootstrap and permutations.")
    @click.option("--sheet", default="Partners", show_default=True, help="Sheet holding one row per partner.")
    @cli.user_errors
    def experiment_analyze(workbook_path, name, output, model_ref, as_of, resamples, seed, sheet) -> None:
        """Effect per outcome (engagement, revenue, score change) with Welch and bootstrap intervals,
        randomisation inference, CUPED, difference-in-differences, the MDE and a plain verdict."""
        from xlplugin.workbook import experiments

        model = load_model(model_ref)
        date = cli._date_option(as_of) or __import__("datetime").date.today()
        sheets = experiments.read(workbook_path, model, sheet)
        with cli._step(f"Analysing {name}"):
            analysis = experiments.analyze_workbook(sheets, model, name.strip(), date, resamples, seed)
        lines = list(analysis.lines)
        if output is not None and output.suffix.lower() == ".pdf":
            from reports.experiment import write_analysis_pdf

            lines.append(f"Wrote {write_analysis_pdf(analysis, output)}")
        elif output is not None:
            lines += [f"Wrote {output}", *experiments.write_analysis(sheets, analysis, output, workbook_path)]
        click.echo("\n".join(lines))

    @main.command("interventions")
    @click.argument("workbook_path", metavar="WORKBOOK.xlsx", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="A copy of WORKBOOK with the Interventions registry sheet (.xlsx; .xlsm with macros).")
    @click.option("--since", metavar="YYYY-MM-DD",
                  help="Reference date: recommendations as the playbook made them then. [default: six months before --as-of]")
    @click.option("--model", "model_ref", default="default", show_default=True, help="Model whose playbook recommends.")
    @click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Read-out date. [default: today]")
    @click.option("--sheet", default="Partners", show_default=True, help="Sheet holding one row per partner.")
    @cli.user_errors
    def interventions_command(workbook_path, output, since, model_ref, as_of, sheet) -> None:
        """Per action (and tier): partners recommended it, partners who received it, and their later score
        change and outcomes against comparable partners who did not (observational, not causal, unless an
        experiment assigned it)."""
        from scoring.interventions import OBSERVATIONAL

        from xlplugin.workbook import experiments

        model = load_model(model_ref)
        date = cli._date_option(as_of) or __import__("datetime").date.today()
        sheets = experiments.read(workbook_path, model, sheet)
        with cli._step("Building the interventions registry"):
            registry = experiments.registry_workbook(sheets, model, date, cli._date_option(since))
        overall = registry[registry["category"] == "all tiers"]
        lines = [f"{len(overall)} actions: {int(overall['recommended'].sum())} recommendations, "
                 f"{int(overall['received'].sum())} received."]
        for row in overall.itertuples():
            if row.received == 0 and row.recommended == 0:
                continue
            effect = ("" if row.score_change_effect != row.score_change_effect else
                      f"; score change vs comparable partners {row.score_change_effect:+.1f} "
                      f"(95% CI {row.score_change_low:+.1f} to {row.score_change_high:+.1f}, {row.matched_treated} matched)")
            evidence = (f"; {row.evidence}: engagement {row.experiment_engagement_effect * 100:+.1f} pp "
                        f"(95% CI {row.experiment_engagement_low * 100:+.1f} to {row.experiment_engagement_high * 100:+.1f})"
                        if row.evidence != OBSERVATIONAL and row.experiment_engagement_effect == row.experiment_engagement_effect
                        else (f" [{OBSERVATIONAL}]" if effect else ""))
            lines.append(f"  {row.action}: recommended {row.recommended}, received {row.received}{effect}{evidence}")
        notes = experiments.write_registry(sheets, registry, lines, output, workbook_path, date)
        click.echo("\n".join([*lines, f"Wrote {output}", *notes]))


def _outcome_spread(path: Path, outcome: str) -> tuple[float | None, float | None, int]:
    """The base rate (engagement) or standard deviation (revenue) of the workbook's outcomes, and how
    many partners its partner sheet has."""
    import numpy as np

    from xlplugin.workbook import experiments

    model = load_model("default")
    sheets = experiments.read(path, model)
    if sheets.outcomes is None:
        raise ValueError(f"{path}: no Outcomes sheet to take the outcome's spread from")
    column = f"{'engaged' if outcome == 'engagement' else 'revenue'}_{model.spec.horizon_months}m"
    if column not in sheets.outcomes.columns:
        raise ValueError(f"{path}: the Outcomes sheet has no {column} column")
    values = np.asarray(__import__("pandas").to_numeric(sheets.outcomes[column], errors="coerce"), float)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        raise ValueError(f"{path}: fewer than 2 partners have {column}")
    partners = int(sheets.partners.frame["partner_id"].notna().sum())
    if outcome == "engagement":
        return float(values.mean()), None, partners
    return None, float(values.std(ddof=1)), partners
