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
