"""The language of the command line, chosen before anything is shown, and Click's own words in it.

The language: ``--lang zh|en``, else ``GRANTS_LANG``, else ``lang`` in grants.toml, else the
locale (``LANG=zh_CN.UTF-8`` gives Chinese), else English. It is set before Click parses the
arguments, so that help texts and usage errors are rendered in it.

Typer builds the Click command tree afresh for every run; ``localise`` gives that tree our
help texts in the current language and a context whose formatter writes Click's own words
(``Usage:``, the section headings, ``[default: …]``, ``[required]``) in it too, through
Click's documented hooks (``Command.context_class``, ``Context.formatter_class``). Typer's
copy of Click writes its usage errors in English; ``usage_error`` reads them back, pattern by
pattern, into the current language.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator, Sequence

import typer
from typer._click.core import Command, Context  # Typer's own copy of Click
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer._click.formatting import HelpFormatter
from typer.core import TyperArgument, TyperGroup, TyperOption

from commands import settings
from ledger.i18n import LANGUAGES, N_, _, language_from_locale, normalise, set_language

OPTION = "--lang"

# Click's and Typer's own words that appear in help, marked here so that Babel extracts them.
CLICK_WORDS = {
    "Usage:": N_("Usage:"),
    "Options": N_("Options"),
    "Arguments": N_("Arguments"),
    "Commands": N_("Commands"),
    "Show this message and exit.": N_("Show this message and exit."),
    "Install completion for the current shell.": N_("Install completion for the current shell."),
    "Show completion for the current shell, to copy it or customize the installation.":
        N_("Show completion for the current shell, to copy it or customize the installation."),
}
_EXTRAS = [  # the parts of the bracket Click appends to an option's help: [default: 1000; x>=1; required]
    (re.compile(r"default: (?P<default>.*)"), N_("default: {default}")),
    (re.compile(r"env var: (?P<var>.*)"), N_("env var: {var}")),
    (re.compile(r"required"), N_("required")),
    (re.compile(r"(?P<range>[-0-9.]*<?=?x[<>]=?[-0-9.]*)"), None),  # a number range: shown as it is
]
_BRACKET = re.compile(r"^(?P<help>.*?)(?P<gap>\s*)\[(?P<extras>[^\[\]]*)\]$", re.DOTALL)


def scan(args: Sequence[str]) -> str | None:
    """The value of ``--lang`` in the arguments (before ``--``), if it is one of the languages.

    An unknown value is left to Click, which refuses it as an invalid choice."""
    for i, arg in enumerate(args):
        if arg == "--":
            return None
        value: str | None = None
        if arg == OPTION and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(OPTION + "="):
            value = arg.split("=", 1)[1]
        if value is not None:
            return value if value in LANGUAGES else None
    return None


def fallback(args: Sequence[str]) -> str:
    """The language to speak in before the settings are read: the flag, a valid GRANTS_LANG, the locale."""
    flag = scan(args)
    if flag is not None:
        return flag
    env = normalise(os.environ.get("GRANTS_LANG", "") or "-")
    return env if env is not None else language_from_locale()


def choose(args: Sequence[str]) -> str:
    """Set the language the settings ask for and return it. Raises the settings' ``Refused`` (a
    bad GRANTS_LANG or grants.toml), having set the fallback language in which to say so."""
    set_language(fallback(args))
    chosen = settings.resolve({"lang": scan(args)})["lang"].value or "en"
    set_language(chosen)
    return chosen


# --- the Click tree in the current language -------------------------------------------------------

def _cell_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wrap_wide(text: str, width: int) -> list[str]:
    """Wrap a line that holds CJK characters by display width (two columns each), breaking
    between CJK characters or at spaces."""
    lines: list[str] = []
    current = ""
    for token in re.findall(r"\[[^\[\]]*\]|[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+|\s+", text):
        if token.isspace():
            if current:
                current += " "
            continue
        if current and _cell_width(current) + _cell_width(token) > width:
            lines.append(current.rstrip())
            current = ""
        current += token
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _has_wide(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in "WF" for ch in text)


def click_help(text: str) -> str:
    """An option's help as Click assembled it, with Click's words in the current language."""
    if not text:
        return text
    if text in CLICK_WORDS:
        return _(CLICK_WORDS[text])
    found = _BRACKET.match(text)
    if found is None:
        return text
    parts = []
    for part in found["extras"].split("; "):
        for pattern, message in _EXTRAS:
            match = pattern.fullmatch(part)
            if match is not None:
                parts.append(_(message).format(**match.groupdict()) if message else part)
                break
        else:
            return text  # not Click's bracket, but the help's own
    head = found["help"]
    return f"{head}{found['gap']}[{'; '.join(parts)}]"


class LocalFormatter(HelpFormatter):
    """Click's help formatter, writing Click's own words in the current language and wrapping
    Chinese text by its display width."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix if prefix is not None else _("Usage:") + " ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(_(CLICK_WORDS.get(heading, heading)))

    def write_text(self, text: str) -> None:
        if not _has_wide(text):
            super().write_text(text)
            return
        indent = " " * self.current_indent
        for n, paragraph in enumerate(re.split(r"\n\s*\n", text.strip())):
            if n:
                self.write("\n")
            for line in _wrap_wide(" ".join(paragraph.split()), self.width - self.current_indent):
                self.write(f"{indent}{line}\n")

    def write_dl(self, rows: Sequence[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(first, click_help(second)) for first, second in rows]
        if not any(_has_wide(second) for _first, second in rows):
            super().write_dl(rows, col_max, col_spacing)
            return
        first_col = min(max((_cell_width(first) for first, _second in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if _cell_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - _cell_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = _wrap_wide(second, max(self.width - first_col - 2, 10)) or [""]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class LocalContext(Context):
    formatter_class = LocalFormatter


def _short(help_text: str) -> str:
    """The first sentence of a Chinese help text, for the list of commands (Click's own
    shortening looks for spaces and full stops)."""
    first = help_text.strip().split("\n\n")[0]
    sentence = re.split(r"(?<=[。；])", first, maxsplit=1)[0]
    return sentence.rstrip("。；").strip()


def commands_of(command: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every command of the tree with its path (the root's is empty), parents first."""
    yield path, command
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from commands_of(sub, (*path, name))


def localise(root: Command) -> Command:
    """Give the tree Typer built our help texts in the current language, and Click's words."""
    for _path, command in commands_of(root):
        command.context_class = LocalContext
        if command.help:
            command.help = _(command.help)
            if _has_wide(command.help) and not command.short_help:
                command.short_help = _short(command.help)
        if command.short_help:
            command.short_help = _(command.short_help)
        if command.epilog:
            command.epilog = _(command.epilog)
        for param in command.params:  # Typer builds every one, an option or an argument, each with its help
            if isinstance(param, TyperOption | TyperArgument) and param.help:
                param.help = _(CLICK_WORDS.get(param.help, param.help))
    return root


# --- usage errors ----------------------------------------------------------------------------------

_VALUE_PROBLEMS = [  # what a type says of a bad value (after "Invalid value for '--x': "); Typer checks with pydantic
    (re.compile(r"Input should be a valid integer(?:, .*)?"), N_("should be a whole number.")),
    (re.compile(r"Input should be a valid number(?:, .*)?"), N_("should be a number.")),
    (re.compile(r"Input should be greater than or equal to (?P<n>\S+)"), N_("should be at least {n}.")),
    (re.compile(r"Input should be less than or equal to (?P<n>\S+)"), N_("should be at most {n}.")),
    (re.compile(r"Input should be greater than (?P<n>\S+)"), N_("should be more than {n}.")),
    (re.compile(r"Input should be less than (?P<n>\S+)"), N_("should be less than {n}.")),
    (re.compile(r"(?P<value>'.*') is not one of (?P<choices>.+)\."), N_("{value} is not one of {choices}.")),
    (re.compile(r"(?P<value>.+?) is not in the range (?P<range>.+)\."), N_("{value} is not in the range {range}.")),
    (re.compile(r"(?P<value>'.*') is not a valid integer\."), N_("{value} is not a valid integer.")),
    (re.compile(r"Value (?P<value>.+) is not a valid (?P<kind>\w+)\."), N_("{value} is not a valid {kind}.")),
    (re.compile(r"(?P<value>'.*') is not a valid (?P<kind>\w+)\."), N_("{value} is not a valid {kind}.")),
]
_MESSAGES = [  # Click's usage errors, as Typer's copy of Click writes them in English
    (re.compile(r"No such option: (?P<name>\S+) \(Possible options: (?P<options>.+)\)", re.DOTALL),
     N_("No such option: {name} (Possible options: {options})")),
    (re.compile(r"No such option: (?P<name>\S+)"), N_("No such option: {name}")),
    (re.compile(r"No such command (?P<name>'.*?')\. Did you mean (?P<names>.+)\?"),
     N_("No such command {name}. Did you mean {names}?")),
    (re.compile(r"No such command (?P<name>'.*')\."), N_("No such command {name}.")),
    (re.compile(r"Missing command\."), N_("Missing command.")),
    (re.compile(r"Missing argument (?P<name>.+?)\.(?: Choose from:\s*(?P<choices>.+?)\.?)?", re.DOTALL),
     N_("Missing argument {name}.")),
    (re.compile(r"Missing option (?P<name>.+?)\.(?: Choose from:\s*(?P<choices>.+?)\.?)?", re.DOTALL),
     N_("Missing option {name}.")),
    (re.compile(r"Missing parameter:? (?P<name>.+?)\.?"), N_("Missing parameter {name}.")),
    (re.compile(r"Got unexpected extra argument(?:\(s\)|s)? \((?P<args>.*)\)", re.DOTALL),
     N_("Got unexpected extra argument(s) ({args})")),
    (re.compile(r"Option (?P<name>'.*') requires an argument\."), N_("Option {name} requires an argument.")),
    (re.compile(r"Option (?P<name>'.*') requires (?P<n>\d+) arguments\."), N_("Option {name} requires {n} arguments.")),
    (re.compile(r"Option (?P<name>'.*') does not take a value\."), N_("Option {name} does not take a value.")),
    (re.compile(r"Argument (?P<name>'.*') takes (?P<n>\d+) values\."), N_("Argument {name} takes {n} values.")),
    (re.compile(r"Invalid value for (?P<name>.+?): (?P<problem>.+)", re.DOTALL), N_("Invalid value for {name}: {problem}")),
    (re.compile(r"Invalid value: (?P<problem>.+)", re.DOTALL), N_("Invalid value: {problem}")),
]
CHOOSE_FROM = N_("{message} Choose from: {choices}.")


def _value_problem(text: str) -> str:
    text = text.removeprefix("Value error, ")  # pydantic's prefix to a validator's own message
    for pattern, message in _VALUE_PROBLEMS:
        found = pattern.fullmatch(text)
        if found is not None:
            return _(message).format(**found.groupdict())
    return text


def usage_message(exc: ClickException) -> str:
    """The error's message (``format_message``) in the current language."""
    text = exc.format_message()
    for pattern, message in _MESSAGES:
        found = pattern.fullmatch(text.strip())
        if found is None:
            continue
        fields = {k: v for k, v in found.groupdict().items() if v is not None}
        if "problem" in fields:
            fields["problem"] = _value_problem(fields["problem"])
        choices = fields.pop("choices", None)
        shown = _(message).format(**fields)
        if choices is not None:
            shown = _(CHOOSE_FROM).format(message=shown, choices=", ".join(c.strip() for c in choices.split(",")))
        return shown
    return text


def show_usage_error(exc: ClickException) -> None:
    """What Click's ``show()`` prints (usage, a hint, the error) in the current language, on stderr."""
    if isinstance(exc, NoArgsIsHelpError):
        exc.show()
        return
    lines = []
    if isinstance(exc, UsageError) and exc.ctx is not None:
        lines.append(exc.ctx.get_usage())
        if exc.ctx.command.get_help_option(exc.ctx) is not None:
            lines.append(_("Try '{command} {option}' for help.").format(
                command=exc.ctx.command_path, option=exc.ctx.help_option_names[0]))
        lines.append("")
    lines.append(_("Error: {message}").format(message=usage_message(exc)))
    typer.echo("\n".join(lines), err=True)
