"""`output.table`: fits the width, keeps every cell, counts CJK double, emphasises only on a
colour terminal, and lets no stored text (nor a forged style mark) reach the terminal raw."""

from __future__ import annotations

import sys

import pytest
from rich.cells import cell_len

from commands import output

MESSAGE = "the applicant's revenue of 499万 is below the threshold of 500万 in clause 3 " * 3
CJK_MESSAGE = "申报企业年营业收入未达到第三条规定的五百万元门槛，不予奖补" * 3


def _words(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


def _terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Standard output as a terminal 80 columns wide (called in the test body: capsys swaps sys.stdout
    between a fixture's setup and the test's call)."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_a_table_with_long_messages_fits_the_width_and_keeps_every_character(pipe, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    rows = [[1, "invalid-input", MESSAGE], [12345, "not-eligible", CJK_MESSAGE]]
    text = output.table(["line", "code", "message"], rows, right=(0,))
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    assert _words(MESSAGE) in _words(text) and _words(CJK_MESSAGE) in _words(text)  # wrapped, not cut
    assert len(text.splitlines()) > 6
    assert all(code in text for code in ("invalid-input", "not-eligible", "12345"))


def test_amounts_are_right_aligned_and_never_wrapped_even_when_the_terminal_is_too_narrow(pipe, monkeypatch):
    monkeypatch.setenv("COLUMNS", "20")
    amounts = ["1,234,567,890.12", "0.00", "-5.00"]
    text = output.table(["name 企业名称", "awarded 核定", "city due 市级未付"],
                        [["十堰数智科技有限公司", a, a] for a in amounts], right=(1, 2))
    lines = text.splitlines()
    for amount in amounts:
        holding = [line for line in lines if amount in line]
        assert holding and holding[0].rstrip().endswith(amount)  # whole, on one line, flush right
    ends = {cell_len(line.rstrip()) for line in lines if any(a in line for a in amounts)}
    assert len(ends) == 1


def test_wide_characters_count_double_so_the_columns_line_up(pipe):
    text = output.table(["area 区域", "count"], [["张湾区", 1], ["Zhangwan", 22], ["茅箭区 (Maojian)", 333]],
                        right=(1,))
    rows = text.splitlines()[2:]
    assert len({cell_len(line) for line in rows}) == 1  # right-aligned counts end in the same column


def test_piped_output_is_plain_and_120_columns_wide_by_default(pipe):
    text = output.table(["ref", "message"], [["SY-1", "x " * 200]])
    assert "\x1b" not in text and "\ue000" not in text
    assert max(cell_len(line) for line in text.splitlines()) <= output.PIPE_WIDTH
    assert max(cell_len(line) for line in text.splitlines()) > 100  # it uses the width it has


def test_on_a_terminal_refusals_and_amounts_due_are_emphasised(monkeypatch, capsys):
    _terminal(monkeypatch)
    output.echo(output.table(["ref", "due"], [["SY-1", output.due(12345)], ["SY-2", output.due(0)]], right=(1,)))
    out = capsys.readouterr().out
    assert "\x1b[1;31m" in out and "123.45" in out
    emphasised = out.split("\x1b[1;31m")[1].split("\x1b[0m")[0]
    assert emphasised.strip() == "123.45"  # the zero amount is not emphasised
    assert out.count("\x1b[1;31m") == 1


def test_no_color_gives_plain_text_on_a_terminal(monkeypatch, capsys):
    _terminal(monkeypatch)
    monkeypatch.setenv("NO_COLOR", "1")
    output.echo(output.table(["ref", "due"], [["SY-1", output.due(12345)]], right=(1,)))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "123.45" in out


@pytest.mark.parametrize("hostile", ["x\x1b[2J\x1b[31mAPPROVED", "\u202eevil", "[bold red]markup[/]"])
def test_stored_text_in_an_emphasised_cell_never_reaches_the_terminal_raw(monkeypatch, capsys, hostile):
    _terminal(monkeypatch)
    output.echo(output.table(["ref", "code"], [[hostile, output.Alert(hostile)]]))
    out = capsys.readouterr().out
    assert "\x1b[2J" not in out and "\x1b[31m" not in out and "\u202e" not in out
    assert out.count("\x1b[1;31m") == 1  # our own emphasis, once
    if hostile.startswith("["):
        assert out.count("[bold red]markup[/]") == 2  # shown as typed, not read as Rich markup


def test_a_stored_text_cannot_forge_the_marks_of_our_styles(monkeypatch, capsys):
    _terminal(monkeypatch)
    forged = "\ue000" + "0" * 16 + "2J\ue001" + "\ue0002J\ue001"
    output.echo(output.table(["a"], [[forged]]) + "\n" + forged)
    out = capsys.readouterr().out
    assert "\x1b[2J" not in out and out.count("\ue000") == 4
