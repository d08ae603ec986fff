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
