"""Atomic writes under stress: a process stopped mid-write, temporary files a killed run left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import AS_OF, pscore, pscore_command
from reports import files
from reports.files import WriteError, atomic_write

BIG = "2000"  # partners: the demo workbook then takes half a second to save, long enough to signal


def _stop_while_writing(target: Path, signum: int) -> subprocess.CompletedProcess:
    """Start writing a big demo workbook over ``target`` and send ``signum`` once its temporary file exists."""
    process = subprocess.Popen([*pscore_command(), "demo", str(target), "--partners", BIG, "--as-of", AS_OF.isoformat(), "--force"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    try:
        while not any(".tmp" in name for name in os.listdir(target.parent)):
            assert process.poll() is None, "the write finished before it could be interrupted"
            assert time.monotonic() < deadline, "no temporary file appeared"
            time.sleep(0.005)
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _old_output(folder: Path) -> tuple[Path, bytes]:
    target = folder / "prev.xlsx"
    assert pscore("demo", str(target), "--partners", "10", "--as-of", AS_OF.isoformat()).returncode == 0
    return target, target.read_bytes()


def test_sigterm_during_a_write_removes_the_temporary_file_and_keeps_the_old_output(tmp_path):
    target, before = _old_output(tmp_path)
    done = _stop_while_writing(target, signal.SIGTERM)
    assert done.returncode == -signal.SIGTERM and done.stderr == "", done.stderr
    assert os.listdir(tmp_path) == ["prev.xlsx"]
    assert target.read_bytes() == before


def test_the_next_run_sweeps_what_a_killed_run_left_and_nothing_else(tmp_path):
    target, before = _old_output(tmp_path)
    done = _stop_while_writing(target, signal.SIGKILL)
    assert done.returncode == -signal.SIGKILL
    (left,) = [name for name in os.listdir(tmp_path) if name != "prev.xlsx"]
    assert left.startswith(".prev.pscore-") and left.endswith(".tmp.xlsx")
    assert target.read_bytes() == before
    day_old = time.time() - files.TEMP_MAX_AGE - 60
    old_foreign = tmp_path / f".prev.pscore-0badc0de-{os.getpid()}-abcdefgh.tmp.xlsx"  # another machine's, a day old
    keep = {
        f".prev.pscore-0badc0de-999999-abcdefgh.tmp.xlsx": None,  # another machine's, recent: may be in use
        f".prev.pscore-{files._HOST}-{os.getpid()}-abcdefgh.tmp.xlsx": None,  # a live process's
        ".prev.abcdefgh.tmp.xlsx": day_old,  # not pscore's naming
        "notes.pscore-1.tmp": day_old,
        "prev.backup.xlsx": day_old,
    }
    old_foreign.write_bytes(b"x")
    os.utime(old_foreign, (day_old, day_old))
    for name, mtime in keep.items():
        (tmp_path / name).write_bytes(b"x")
        if mtime is not None:
            os.utime(tmp_path / name, (mtime, mtime))
    done = pscore("score", str(target), "-o", str(tmp_path / "scores.csv"), "--as-of", AS_OF.isoformat())
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(tmp_path)) == sorted([*keep, "prev.xlsx", "scores.csv"])


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, fail)
    assert os.listdir(tmp_path) == ["out.csv"] and target.read_text() == "old\n"


def test_a_full_disk_is_reported_for_the_output(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full to stand in for a full disk")

    def fill(tmp: Path) -> None:
        with open("/dev/full", "w") as full:
            full.write("x" * 100_000)
            full.flush()

    with pytest.raises(WriteError) as info:
        atomic_write(tmp_path / "out.csv", fill)
    assert str(info.value) == f"{tmp_path / 'out.csv'}: not written: No space left on device"
    assert os.listdir(tmp_path) == []


def test_signal_handlers_are_restored_after_a_write(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    atomic_write(tmp_path / "out.csv", lambda tmp: tmp.write_text("x"))
    assert signal.getsignal(signal.SIGTERM) is before
