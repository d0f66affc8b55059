"""Regenerate the command-line documentation from the command line itself.

    .venv/bin/python tools/cli_docs.py            # rewrite docs/cli.md and the guides
    .venv/bin/python tools/cli_docs.py --check    # exit 1 when a page is not what this would write

Two kinds of generated text live inside hand-written pages:

- **reference blocks** in docs/cli.md, between ``<!-- generated: grants CMD -->`` and
  ``<!-- end generated -->``: the command's usage, its help, and a table of its arguments and
  options (value, choices, default, the CLI's help) read from the Click tree Typer builds. The
  table's last column, *details*, is hand-written: it is kept, option by option, from the
  block it replaces. ``<!-- generated: commands -->`` is the index of every command.
- **console examples** in every page of ``PAGES``: in a ```` ```console ```` block, each line
  starting with ``$ `` (with its ``\\`` continuation lines and a here-document's lines) is a
  command; the lines after it are its output, replaced by what running it prints (stdout and
  stderr). The commands of one page run in order, in one bash session started in an empty
  temporary directory, with the venv's ``grants`` first on PATH and none of the caller's
  ``GRANTS_*`` or locale variables: a page sets what it needs (``export ...``) and builds its
  own ledger (``grants demo`` or ``grants init``). A command exits 0 unless its line says
  ``# exit N``; any other exit is reported and nothing is written. ``<!-- console: head=N -->``
  on the line before a block keeps the first N lines of each output there, then ``...``.

What changes from run to run (temporary paths, recording times, hashes, durations, today) is
left as it came out; ``normalise`` masks it when a page is compared with a fresh run.
"""

from __future__ import annotations

import argparse
import enum
import os
import re
import shutil
import subprocess
import sys
import tempfile
import typing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REGENERATE = ".venv/bin/python tools/cli_docs.py"
CLI_PAGE = "docs/cli.md"


PAGES = (CLI_PAGE, "docs/guide-finance.md", "docs/guide-audit.md")

BEGIN = re.compile(r"^<!-- generated: (?P<name>[^>]+?) -->$")
END = "<!-- end generated -->"
INDEX = "commands"
CONSOLE_OPTIONS = re.compile(r"^<!-- console: (?P<options>[^>]*?) -->$")
HEREDOC = re.compile(r"<<-?\s*'?(?P<word>[A-Za-z_]+)'?")
EXIT = re.compile(r"#\s*exit\s+(?P<code>\d+)\b")
STAMP = re.compile(r"^<!-- examples run on (?P<day>\d{4}-\d\d-\d\d)[^>]*-->$", re.M)


class DocsError(Exception):
    """The page cannot be generated as it stands (a missing block, an example that exits otherwise)."""


# --- the command tree --------------------------------------------------------------------------------


def command_tree() -> list[tuple[str, Any]]:
    """Every command and group of ``grants``, depth first in the order the CLI lists them, as
    (``grants report shares``, the Click command); the root first, as ``grants``."""
    import typer.main

    from commands.main import app
    from ledger import i18n

    i18n.set_language("en")  # the reference is in English, whatever the caller's locale
    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []

    def walk(path: str, command: Any) -> None:
        if getattr(command, "hidden", False):
            return
        found.append((path, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(f"{path} {name}", sub)

    walk("grants", root)
    return found


def is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def _annotation(param: Any) -> Any:
    descriptor = getattr(param, "type_descriptor", None)
    return getattr(descriptor, "annotation", None)


def choices(param: Any) -> list[str]:
    annotation = _annotation(param)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [str(member.value) for member in annotation]
    found = getattr(getattr(param, "type", None), "choices", None)
    return [str(c) for c in found] if found else []


def _value_name(param: Any) -> str:
    """What the option takes, as a reader writes it: its metavar, its choices, or its type."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return ""
    if param.metavar and not param.metavar.startswith(("<", "{", "[")):
        return str(param.metavar)
    listed = choices(param)
    if listed:
        return "|".join(listed)
    if param.param_type_name == "argument":
        return ""
    annotation = _annotation(param)
    if typing.get_origin(annotation) in (list, tuple):
        annotation = (typing.get_args(annotation) or (str,))[0]
    names = {int: "INTEGER", float: "NUMBER", bool: "BOOLEAN", Path: "PATH"}
    return names.get(annotation, "TEXT")


def param_name(param: Any) -> str:
    """``REF``, ``--payer city|county``, ``--json``: the first cell of its row."""
    if param.param_type_name == "argument":
        return str(param.name).upper()
    names = "/".join(list(param.opts) + list(param.secondary_opts))
    value = _value_name(param)
    return f"{names} {value}" if value else names


def param_key(param: Any) -> str:
    """The name a row is known by: the argument's upper-case name, or the option's first flag."""
    return str(param.name).upper() if param.param_type_name == "argument" else str(param.opts[0])


def param_facts(param: Any) -> str:
    """Required, repeatable, the default: what the CLI knows about the value besides its help."""
    facts = []
    if param.required:
        facts.append("required")
    if getattr(param, "multiple", False) or param.nargs == -1:
        facts.append("repeatable")
    default = param.default
    flag = getattr(param, "is_flag", False)
    if not param.required and not flag and default not in (None, (), []) and not callable(default):
        shown = default.value if isinstance(default, enum.Enum) else default
        facts.append(f"default `{shown}`")
    return "; ".join(facts)


def _cell(text: str) -> str:
    """Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def visible_params(command: Any) -> list[Any]:
    return [p for p in command.params if not getattr(p, "hidden", False) and p.name != "help"]


def usage(path: str, command: Any) -> str:
    parts = [path]
    if any(p.param_type_name == "option" for p in visible_params(command)):
        parts.append("[OPTIONS]")
    if is_group(command):
        parts.append("COMMAND [ARGS]...")
    for param in visible_params(command):
        if param.param_type_name == "argument":
            name = str(param.name).upper()
            parts.append(name if param.required else f"[{name}]")
    return " ".join(parts)


def help_text(command: Any) -> str:
    """The command's help as its --help prints it: paragraphs kept, lines joined."""
    text = (command.help or "").split("\f")[0]
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "\n\n".join(paragraphs)


def short_help(command: Any) -> str:
    text = command.short_help or help_text(command).split("\n\n")[0]
    return " ".join(text.split())


TABLE_HEADER = ("| argument or option | value | the CLI's help | details |", "| --- | --- | --- | --- |")


def reference_block(path: str, command: Any, details: dict[str, str]) -> str:
    """The generated part of a command's section: usage, help, and the table of its parameters."""
    lines = [f"`{usage(path, command)}`", ""]
    text = help_text(command)
    if text:
        lines += [text, ""]
    params = visible_params(command)
    if params:
        lines += list(TABLE_HEADER)
        for param in params:
            lines.append("| " + " | ".join((
                f"`{_cell(param_name(param))}`", _cell(param_facts(param)), _cell(param.help or ""),
                details.get(param_key(param), ""))) + " |")
    else:
        lines.append("No arguments or options besides `--help`.")
    return "\n".join(lines)


def index_block(tree: list[tuple[str, Any]]) -> str:
    lines = ["| command | what it does |", "| --- | --- |"]
    for path, command in tree[1:]:
        lines.append(f"| `{path}` | {_cell(short_help(command))} |")
    return "\n".join(lines)


def kept_details(block: list[str]) -> dict[str, str]:
    """The hand-written *details* cells of a reference block's table, by parameter name."""
    kept: dict[str, str] = {}
    for line in block:
        if not line.startswith("| `"):
            continue
        cells = _split_row(line)
        if len(cells) != 4:
            continue
        match = re.match(r"`([^` ]+)", cells[0])
        if match and cells[3]:
            kept[match.group(1).split("/")[0]] = cells[3]
    return kept


def _split_row(line: str) -> list[str]:
    """Cells of a Markdown table row; ``\\|`` inside a cell and pipes inside backticks are kept."""
    cells, current, code = [], "", False
    body = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] == "|":
            current += "\\|"
            i += 2
            continue
        if ch == "`":
            code = not code
        if ch == "|" and not code:
            cells.append(current.strip())
            current = ""
        else:
            current += ch
        i += 1
    cells.append(current.strip())
    return cells


def regenerate_reference(text: str) -> str:
    """The page with every generated block rewritten from the CLI. Every command has exactly one
    block; a block for a command that does not exist is an error."""
    tree = command_tree()
    commands = dict(tree)
    lines = text.split("\n")
    out: list[str] = []
    seen: list[str] = []
    i = 0
    while i < len(lines):
        match = BEGIN.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        name = match.group("name")
        try:
            end = lines.index(END, i + 1)
        except ValueError:
            raise DocsError(f"line {i + 1}: <!-- generated: {name} --> has no {END}") from None
        block = lines[i + 1:end]
        if name == INDEX:
            body = index_block(tree)
        elif name in commands:
            body = reference_block(name, commands[name], kept_details(block))
        else:
            raise DocsError(f"line {i + 1}: no command {name!r} in the CLI; remove its block")
        seen.append(name)
        out += [lines[i], body, END]
        i = end + 1
    twice = sorted({n for n in seen if seen.count(n) > 1})
    missing = [p for p, c in tree if not is_group(c) and p not in seen] + ([INDEX] if INDEX not in seen else [])
    if twice or missing:
        raise DocsError("reference blocks: " + "; ".join(
            ([f"missing for {', '.join(missing)} (add <!-- generated: NAME --> ... {END} to its section)"]
             if missing else []) + ([f"more than one for {', '.join(twice)}"] if twice else [])))
    return "\n".join(out)


# --- console examples --------------------------------------------------------------------------------


@dataclass
class Example:
    """One ``$`` command of a console block and the output the page shows for it."""

    command: list[str]  # its lines as written, ``$ `` included
    output: list[str] = field(default_factory=list)

    @property
    def script(self) -> str:
        first, *rest = self.command
        return "\n".join([first[2:], *rest])

    @property
    def exit_code(self) -> int:
        """The status the page declares: ``# exit N`` on the command's own lines (not inside a
        here-document), else 0."""
        for line in self.command:
            found = EXIT.search(line)
            if found:
                return int(found.group("code"))
            if HEREDOC.search(line):
                break
        return 0


@dataclass
class Block:
    start: int  # index of the opening fence
    end: int  # index of the closing fence
    examples: list[Example]
    head: int | None


def console_blocks(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        start = i
        head = None
        options = CONSOLE_OPTIONS.match(lines[i - 1]) if i else None
        if options:
            for option in options.group("options").split():
                name, _, value = option.partition("=")
                if name != "head" or not value.isdigit():
                    raise DocsError(f"line {i}: unknown console option {option!r} (known: head=N)")
                head = int(value)
        examples: list[Example] = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i]
            if line.startswith("$ "):
                examples.append(Example([line]))
                while line.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    line = lines[i]
                    examples[-1].command.append(line)
                heredoc = HEREDOC.search(line)
                if heredoc:
                    while i + 1 < len(lines) and lines[i].strip() != heredoc.group("word"):
                        i += 1
                        examples[-1].command.append(lines[i])
            elif examples:
                examples[-1].output.append(line)
            elif line.strip():
                raise DocsError(f"line {i + 1}: console output before any $ command")
            i += 1
        if i == len(lines):
            raise DocsError(f"line {start + 1}: console block without its closing fence")
        blocks.append(Block(start, i, examples, head))
        i += 1
    return blocks


def session_env(home: Path) -> dict[str, str]:
    """The environment a page's commands run in: none of the caller's ledger or language settings
    (a page exports its own: the guides ``GRANTS_LANG=zh LANG=zh_CN.UTF-8``), the venv first on
    PATH, a home of its own (no user grants.toml), plain output 120 columns wide."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GRANTS_", "LC_", "PYTEST", "COV_")) and k not in (
               "LANG", "LANGUAGE", "VIRTUAL_ENV", "COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")])
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), LANG="C.UTF-8", PYTHONUTF8="1",
               PYTHONUNBUFFERED="1", NO_COLOR="1")
    return env


SENTINEL = "@@grants-docs-example@@"


def run_session(examples: list[Example], workdir: Path, timeout: float = 900) -> list[tuple[int, str]]:
    """Run the commands in one bash session in a new directory under ``workdir``; (exit status,
    output) of each. Its name starts ``grants-docs-``, which ``normalise`` masks in the output."""
    base = Path(tempfile.mkdtemp(prefix="grants-docs-", dir=workdir))
    home = base / ".home"
    home.mkdir()
    ledger_dir = base / "ledger"
    ledger_dir.mkdir()
    script = ["exec 2>&1", f"cd {ledger_dir}"]
    for example in examples:
        script += [example.script, f'printf "\\n{SENTINEL} %s\\n" "$?"']
    done = subprocess.run(["bash", "--noprofile", "--norc", "-c", "\n".join(script)], cwd=ledger_dir,
                          env=session_env(home), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=timeout)
    results: list[tuple[int, str]] = []
    rest = done.stdout
    for _ in examples:
        found = re.search(rf"\n{SENTINEL} (\d+)\n", rest)
        if not found:
            raise DocsError(f"the session stopped early (exit {done.returncode}): {rest[-2000:]}")
        results.append((int(found.group(1)), rest[:found.start()]))
        rest = rest[found.end():]
    return results


def shown_output(output: str, head: int | None) -> list[str]:
    lines = [line.rstrip() for line in output.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if head is not None and len(lines) > head:
        lines = lines[:head] + ["..."]
    return lines


def run_examples(text: str, workdir: Path, *, name: str = "page") -> tuple[str, list[str]]:
    """The page with every console output replaced by what its command prints now, and the
    commands whose exit status is not the one the page declares (``# exit N``, else 0)."""
    lines = text.split("\n")
    blocks = console_blocks(lines)
    examples = [e for b in blocks for e in b.examples]
    results = run_session(examples, workdir)
    wrong = [f"{name}: `{e.script}` exited {status}, the page says {e.exit_code}:\n{out.strip()[-1500:]}"
             for e, (status, out) in zip(examples, results, strict=True) if status != e.exit_code]
    out_lines: list[str] = []
    position = 0
    n = 0
    for block in blocks:
        out_lines += lines[position:block.start + 1]
        for example in block.examples:
            out_lines += example.command
            out_lines += shown_output(results[n][1], block.head)
            n += 1
        out_lines.append(lines[block.end])
        position = block.end + 1
    out_lines += lines[position:]
    page = "\n".join(out_lines)
    stamp = f"<!-- examples run on {date.today().isoformat()} by {REGENERATE}; do not edit their output -->"
    page = STAMP.sub(stamp, page) if STAMP.search(page) else page
    return page, wrong


def render(page: str, text: str, workdir: Path) -> tuple[str, list[str]]:
    """A page as the generator writes it now, and the examples that exit otherwise than it says."""
    if page == CLI_PAGE:
        text = regenerate_reference(text)
    return run_examples(text, workdir, name=page)


# --- comparing with a fresh run --------------------------------------------------------------------------

VOLATILE = (
    (re.compile(r"/\S*?grants-docs-[^/\s]+(?:/ledger)?"), "<tmp>"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<hash>"),
    (re.compile(r"\b[0-9a-f]{8,}…"), "<hash>…"),
    (re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b"), "<id>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:s|ms|秒)\b"), "<duration>"),
    (re.compile(r"\"seconds\": [0-9.]+"), "\"seconds\": <duration>"),
    (re.compile(r"[0-9.]+/s\b"), "<rate>"),
)


def normalise(text: str) -> str:
    """The page with what changes between two runs masked: temporary paths, recording times,
    hashes and ids, durations, the day the examples ran (as stamped in the page), and the
    padding of table columns whose width follows those."""
    stamp = STAMP.search(text)
    for pattern, mask in VOLATILE:
        text = pattern.sub(mask, text)
    if stamp:
        text = text.replace(stamp.group("day"), "<today>")
    return "\n".join(re.sub(r" {2,}", "  ", line.rstrip()) for line in text.split("\n"))


# --- entry point -------------------------------------------------------------------------------------------


def generate(page: str, root: Path = ROOT) -> tuple[str, list[str]]:
    """Render ``page`` (a path under ``root``) in a fresh temporary directory."""
    text = (root / page).read_text(encoding="utf-8")
    workdir = Path(tempfile.mkdtemp())
    try:
        return render(page, text, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a page is out of date")
    parser.add_argument("pages", nargs="*", help=f"only these pages (default: {', '.join(PAGES)})")
    args = parser.parse_args(argv)
    chosen = [p for p in PAGES if not args.pages or p in args.pages]
    failed = False
    for page in chosen:
        try:
            new, wrong = generate(page)
        except DocsError as error:
            print(f"{page}: {error}", file=sys.stderr)
            failed = True
            continue
        if wrong:
            print("\n".join(wrong), file=sys.stderr)
            failed = True
            continue
        current = (ROOT / page).read_text(encoding="utf-8")
        if args.check:
            if normalise(new) != normalise(current):
                print(f"{page} is out of date; regenerate it with: {REGENERATE}", file=sys.stderr)
                failed = True
        elif new != current:
            (ROOT / page).write_text(new, encoding="utf-8")
            print(f"wrote {page}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
