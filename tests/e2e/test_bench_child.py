"""The benchmark's child processes (bench/child.py, bench.run.grants): a `grants` command in a
process of its own reports its own time, its exit code and its own peak memory. What is
checked is that the figures are there and belong to that process, not how fast it was."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.run import grants, run_process


def test_a_command_in_a_child_reports_its_time_its_process_and_its_output(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    done = grants(url, ["init", "--json"], str(tmp_path))
    assert done.process.exit == 0
    assert 0 < done.seconds < done.process.seconds  # the command's own time is inside the process's
    assert done.process.peak_rss_mb > 0
    assert done.output()["ready"] is True
    assert (tmp_path / "bench.db").exists()


def test_a_command_that_exits_otherwise_than_expected_stops_the_run_with_its_messages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    grants(url, ["init", "--json"], str(tmp_path))
    with pytest.raises(RuntimeError, match=r"grants show NO-SUCH-REF --json exited [1-9]"):
        grants(url, ["show", "NO-SUCH-REF", "--json"], str(tmp_path))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is read from /proc")
def test_the_peak_memory_is_the_child_s_own_not_the_parent_s(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    ballast = bytearray(300 * 1024 * 1024)
    ballast[::4096] = b"x" * len(ballast[::4096])  # this process now holds 300 MB more
    done = grants(url, ["init", "--json"], str(tmp_path))
    assert done.process.peak_rss_mb > 300  # ru_maxrss of the child: floored at this process's peak
    assert 0 < done.peak_rss_mb < 250  # the child's own high-water mark: what `grants init` needs
    del ballast


def test_a_child_reports_its_peak_memory_when_it_grows(tmp_path: Path) -> None:
    grow = run_process([sys.executable, "-c", "b = bytearray(200 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"],
                       str(tmp_path))
    assert grow.exit == 0 and grow.peak_rss_mb > 200
