"""An edition of the policy as data: its identity, and every number its measure items use.

An edition is a TOML file (``ledger/policy/editions/*.toml``) a policy officer can copy
and edit: title, issuing body, document number, source text, effective date,
validity, and for each measure item its quoted clause and its parameters (amounts,
rates, caps, thresholds), each with the verbatim words it comes from. The rules
that use the numbers stay code (``rules`` names the rule set).

This module reads an edition's content (a mapping, as parsed from TOML or as stored
in a ``PolicyAdopted`` event) and reports what is wrong with it, as a list of
findings naming the place. It does no I/O: the edges read files and hand the text in.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from ledger.domain.money import MoneyError, amount, parse_yuan
from ledger.errors import invalid
from ledger.i18n import _
from ledger.text import shown

FORMAT = 1
BUILTIN_DIR = "editions"  # package data of ledger.policy


class ParamKind(StrEnum):
    """How a parameter is written in an edition file."""

    YUAN = "yuan"  # an amount: "200万", "1亿", "1000" (a string, never a float)
    COUNT = "count"  # a whole number: enterprises, devices, years, tasks
    PERCENT = "percent"  # a whole percentage: 10 for 10%
    DECIMAL = "decimal"  # a decimal threshold written as a string: "0.02"


@dataclass(frozen=True)
class Param:
    """One number of a measure item, as the edition writes it and as the rules use it."""

    name: str
    kind: ParamKind
    value: int | Decimal  # fen for YUAN; the number itself otherwise
    written: str  # as the edition writes it: "200万", "100", "0.02"
    words: str  # the verbatim clause words it comes from

    def shown(self) -> str:
        """The value for a reader: yuan with separators, counts with separators, a percentage, a decimal."""
        if self.kind is ParamKind.YUAN:
            return amount(int(self.value))
        if self.kind is ParamKind.PERCENT:
            return f"{self.value}%"
        if self.kind is ParamKind.COUNT:
            return f"{int(self.value):,}"
        return str(self.value)


class Params(Mapping[str, Param]):
    """The parameters of one measure item, read by its rule by name and kind."""

    def __init__(self, params: Mapping[str, Param] | None = None) -> None:
        self._params = dict(params or {})

    def __getitem__(self, name: str) -> Param:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def _of(self, name: str, kind: ParamKind) -> Param:
        param = self._params[name]
        if param.kind is not kind:  # pragma: no cover - the schema check makes this impossible
            raise AssertionError(f"parameter {name} is {param.kind}, not {kind}")
        return param

    def fen(self, name: str) -> int:
        return int(self._of(name, ParamKind.YUAN).value)

    def count(self, name: str) -> int:
        return int(self._of(name, ParamKind.COUNT).value)

    def percent(self, name: str) -> int:
        return int(self._of(name, ParamKind.PERCENT).value)

    def decimal(self, name: str) -> Decimal:
        return Decimal(self._of(name, ParamKind.DECIMAL).value)

    def words(self, name: str) -> str:
        return self._params[name].words

    def written(self, name: str) -> str:
        return self._params[name].written


@dataclass(frozen=True)
class EditionMeasure:
    """What an edition says about one measure item: its words and its numbers."""

    id: str
    title_zh: str
    summary_en: str
    amount_zh: str
    lead: str
    quote: str
    params: Params


@dataclass(frozen=True)
class Edition:
    id: str
    parent: str
    rules: str
    title: str
    issuer: str
    document_number: str
    published: str
    source: str
    effective: date | None
    funding: str
    validity_years: int
    validity_words: str
    validity_text: str
    measures: Mapping[str, EditionMeasure]
    content: Mapping[str, Any]  # the normalized content, as recorded in an adoption event

    @property
    def label(self) -> str:
        """The catalogue's title: the policy's title and its date of publication."""
        return f"{self.title} {self.published}".strip()


Schema = Mapping[str, Mapping[str, ParamKind]]  # measure id -> parameter name -> kind


def normalize(data: Mapping[str, Any]) -> dict[str, Any]:
    """Content safe to record in an event: TOML dates become ISO strings; floats are refused."""
    def walk(value: Any, where: str) -> Any:
        if isinstance(value, Mapping):
            return {str(k): walk(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, float):
            raise invalid(f"edition.{where}", _("floats are not accepted in an edition; write amounts as strings "
                                                "such as “200万” and counts as integers"))
        if isinstance(value, date):
            return value.isoformat()
        if value is None or isinstance(value, (str, int, bool)):
            return value
        raise invalid(f"edition.{where}", _("{kind} is not a value an edition may hold").format(
            kind=type(value).__name__))
    result = walk(data, "")
    assert isinstance(result, dict)
    return result


def content_key(content: Mapping[str, Any]) -> str:
    """A stable key of an edition's content (to cache the catalogue built from it)."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _text(data: Mapping[str, Any], key: str, where: str, findings: list[str], *, blank: bool = False) -> str:
    value = data.get(key)
    if not isinstance(value, str) or (not blank and not value.strip()):
        findings.append((_("{where}{key}: must be text") if blank else _("{where}{key}: must be non-empty text")).format(
            where=where, key=key))
        return ""
    return value


def _param(name: str, raw: Any, kind: ParamKind, where: str, findings: list[str]) -> Param | None:
    if not isinstance(raw, Mapping):
        findings.append(_("{where}: must be a table such as {example}").format(
            where=where, example=f'{{ {kind} = ..., words = "..." }}'))
        return None
    extra = sorted(set(raw) - {kind.value, "words"})
    if extra:
        findings.append(_("{where}: unknown keys {keys} (a {kind} parameter has {kind} and words)").format(
            where=where, keys=", ".join(extra), kind=kind))
    words = raw.get("words")
    if not isinstance(words, str) or not words.strip():
        findings.append(_("{where}.words: the verbatim clause words this number comes from are required").format(
            where=where))
        words = ""
    if kind.value not in raw:
        findings.append(_("{where}: must give `{kind}` (this parameter is a {kind})").format(where=where, kind=kind))
        return None
    value = raw[kind.value]
    if kind is ParamKind.YUAN:
        if not isinstance(value, str):
            findings.append(_("{where}.yuan: write the amount as a string such as “200万”, not {value}").format(
                where=where, value=shown(value)))
            return None
        try:
            fen = parse_yuan(value)
        except MoneyError as exc:
            findings.append(f"{where}.yuan: {exc}")
            return None
        if fen <= 0:
            findings.append(_("{where}.yuan: must be more than 0").format(where=where))
            return None
        return Param(name, kind, fen, value, words)
    if kind is ParamKind.DECIMAL:
        try:
            number = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number < 0:
            findings.append(_("{where}.decimal: write a decimal number as a string such as “0.02”, not {value}").format(
                where=where, value=shown(value)))
            return None
        return Param(name, kind, number, value, words)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        findings.append(_("{where}.{kind}: must be a whole number, 0 or more, not {value}").format(
            where=where, kind=kind, value=shown(value)))
        return None
    if kind is ParamKind.PERCENT and value > 100:
        findings.append(_("{where}.percent: {value} is more than 100").format(where=where, value=value))
        return None
    return Param(name, kind, value, str(value), words)


def read(data: Mapping[str, Any], schema: Schema) -> tuple[Edition | None, list[str]]:
    """The edition in ``data``, checked against the rule set's schema; or the findings that stop it.

    Every measure item of the rule set must be present with exactly the parameters its
    rule reads, each of the declared kind.
    """
    findings: list[str] = []
    try:
        content = normalize(data)
    except Exception as exc:  # noqa: BLE001 - a Refused from normalize, reported as a finding
        return None, [str(getattr(exc, "message", exc))]
    known = {"format", "id", "parent", "rules", "title", "issuer", "document_number", "published", "source",
             "effective", "funding", "validity", "measures", "source_sha256"}
    extra = sorted(set(content) - known)
    if extra:
        findings.append(_("unknown top-level keys: {keys}").format(keys=", ".join(extra)))
    if content.get("format") != FORMAT:
        findings.append(_("format: must be {format}").format(format=FORMAT))
    ident = _text(content, "id", "", findings)
    rules = _text(content, "rules", "", findings)
    effective: date | None = None
    raw_effective = content.get("effective", "")
    if raw_effective:
        try:
            effective = date.fromisoformat(str(raw_effective))
        except ValueError:
            findings.append(_("effective: {value} is not a date YYYY-MM-DD (or leave it blank)").format(
                value=shown(raw_effective)))
    validity = content.get("validity")
    years, validity_words, validity_text = 0, "", ""
    if not isinstance(validity, Mapping):
        findings.append(_("validity: must be a table with years, words and text"))
    else:
        raw_years = validity.get("years")
        if isinstance(raw_years, bool) or not isinstance(raw_years, int) or not 1 <= raw_years <= 100:
            findings.append(_("validity.years: must be a whole number of years, 1 to 100"))
        else:
            years = raw_years
        validity_words = _text(validity, "words", "validity.", findings)
        validity_text = _text(validity, "text", "validity.", findings)
    measures: dict[str, EditionMeasure] = {}
    raw_measures = content.get("measures")
    if not isinstance(raw_measures, Mapping):
        findings.append(_("measures: must be a table of the measure items"))
        raw_measures = {}
    for measure_id in sorted(set(raw_measures) - set(schema)):
        findings.append(_("measures.{measure}: not a measure item of rule set {rules}").format(
            measure=measure_id, rules=shown(rules)))
    for measure_id, kinds in schema.items():
        where = f"measures.{measure_id}"
        raw = raw_measures.get(measure_id)
        if not isinstance(raw, Mapping):
            findings.append(_("{where}: missing (every measure item of the rule set must be present)").format(
                where=where))
            continue
        extra = sorted(set(raw) - {"title_zh", "summary_en", "amount_zh", "lead", "quote", "params"})
        if extra:
            findings.append(_("{where}: unknown keys {keys}").format(where=where, keys=", ".join(extra)))
        raw_params = raw.get("params", {})
        if not isinstance(raw_params, Mapping):
            findings.append(_("{where}.params: must be a table").format(where=where))
            raw_params = {}
        for name in sorted(set(raw_params) - set(kinds)):
            findings.append(_("{where}.params.{name}: not a parameter of {measure}; its parameters are: {params}").format(
                where=where, name=name, measure=measure_id, params=", ".join(kinds) or _("none")))
        params: dict[str, Param] = {}
        for name, kind in kinds.items():
            if name not in raw_params:
                findings.append(_("{where}.params.{name}: missing (a {kind})").format(where=where, name=name, kind=kind))
                continue
            param = _param(name, raw_params[name], kind, f"{where}.params.{name}", findings)
            if param is not None:
                params[name] = param
        measures[measure_id] = EditionMeasure(
            id=measure_id, title_zh=_text(raw, "title_zh", f"{where}.", findings),
            summary_en=_text(raw, "summary_en", f"{where}.", findings),
            amount_zh=_text(raw, "amount_zh", f"{where}.", findings, blank=True) if "amount_zh" in raw else "",
            lead=_text(raw, "lead", f"{where}.", findings), quote=_text(raw, "quote", f"{where}.", findings),
            params=Params(params))
    edition = Edition(
        id=ident, parent=_text(content, "parent", "", findings, blank=True), rules=rules,
        title=_text(content, "title", "", findings), issuer=_text(content, "issuer", "", findings),
        document_number=_text(content, "document_number", "", findings, blank=True),
        published=_text(content, "published", "", findings, blank=True),
        source=_text(content, "source", "", findings), effective=effective,
        funding=_text(content, "funding", "", findings), validity_years=years, validity_words=validity_words,
        validity_text=validity_text, measures=measures, content=content)
    if not findings:
        findings = number_findings(edition)
    return (None if findings else edition), findings


_CHINESE_DIGITS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十"}


def spellings(param: Param) -> set[str]:
    """The ways the clause words may write a parameter's number: 100, 1亿, 60万, 10%, 三, 两."""
    if param.kind is ParamKind.YUAN:
        written = param.written.strip().removesuffix("元")
        return {written, written.replace(",", "")}
    if param.kind is ParamKind.DECIMAL:
        return {param.written.strip()}
    n = int(param.value)
    out = {str(n)}
    for unit, size in (("万", 10_000), ("亿", 100_000_000)):
        if n and n % size == 0:
            out.add(f"{n // size}{unit}")
    if n in _CHINESE_DIGITS:
        out.add(_CHINESE_DIGITS[n])
        if n == 2:
            out.add("二")
    return out


def number_findings(edition: Edition) -> list[str]:
    """Parameters whose words do not write their number: an edited amount with unedited words."""
    out = []
    for m in edition.measures.values():
        for p in m.params.values():
            if not any(s in p.words for s in spellings(p)):
                out.append(_("measures.{measure}.params.{name}: the words {words} do not write its number {number} "
                             "(edit the words to the clause of the new text)").format(
                    measure=m.id, name=p.name, words=shown(p.words), number=p.written))
    if str(edition.validity_years) not in edition.validity_words:
        out.append(_("validity: the words {words} do not write {years} years").format(
            words=shown(edition.validity_words), years=edition.validity_years))
    return out


def quotes(edition: Edition) -> dict[str, str]:
    """Every text of the edition that must be verbatim in its source, by where it is."""
    out = {"funding": edition.funding, "validity.text": edition.validity_text, "validity.words": edition.validity_words}
    for m in edition.measures.values():
        out[f"measures.{m.id}.quote"] = m.quote
        for p in m.params.values():
            out[f"measures.{m.id}.params.{p.name}.words"] = p.words
    return out


def quote_findings(edition: Edition, source_text: str) -> list[str]:
    """The quotes and parameter words that are not verbatim in the source text."""
    return [_("{where}: not verbatim in the source text {source}: {text}").format(
        where=where, source=edition.source, text=shown(text)) for where, text in quotes(edition).items()
        if text not in source_text]


def source_digest(source_text: str) -> str:
    return hashlib.sha256(source_text.encode("utf-8")).hexdigest()
