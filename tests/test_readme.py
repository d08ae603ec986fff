"""The README's command list works as written: run top to bottom in a fresh folder after `make demo`."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from tests.conftest import pscore, pscore_command

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> list[list[str]]:
    """The commands of the README's "Command line" block, comments and continuation lines dropped."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Command line\n+```bash\n(.*?)```", text, re.DOTALL).group(1)
    return [words for line in block.splitlines() if (words := shlex.split(line, comments=True))]


def test_the_readme_says_how_to_run_pscore_after_make_demo():
    text = README.read_text(encoding="utf-8")
    after = text.split("make test", 1)[1].split("```", 2)[1]  # the lines right under the two commands
    assert ".venv/bin/pscore" in after and "source .venv/bin/activate" in after


def test_the_readme_command_list_runs_top_to_bottom(tmp_path):
    # what `make demo` leaves in demo/ (its PDF scorecards aside: no listed command reads them)
    assert pscore("demo", "demo/partners.xlsx", cwd=tmp_path).returncode == 0
    assert pscore("score", "demo/partners.xlsx", "-o", "demo/scored.xlsx", cwd=tmp_path).returncode == 0
    commands = readme_commands()
    assert len(commands) >= 10 and all(words[0] == "pscore" for words in commands)
    for words in commands:
        done = subprocess.run([*pscore_command(), *words[1:]], capture_output=True, text=True, cwd=tmp_path,
                              timeout=300)
        assert done.returncode == 0, f"{shlex.join(words)}\n{done.stderr}"
    assert (tmp_path / "demo" / "calibrated.yaml").is_file()
    assert len(list((tmp_path / "demo" / "scorecards-internal").glob("*.pdf"))) == 2
