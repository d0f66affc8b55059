"""The policy catalogue: editions of the policy, each read with the rule set it names.

An *edition* (``ledger/policy/editions/*.toml``, see ``edition.py``) holds an edition's
identity and every number of its measure items; a *rule set* (``catalogue_2022.py``)
holds the rules that use them. A catalogue is the two joined. A *policy version*
(adopted by an event) names a catalogue and a validity window and, since editions
are data, records the edition's full content; each application records the version
it falls under, and every decision is made by that version's catalogue, so replaying
history never re-decides old applications under new rules or new numbers.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from ledger.errors import UNKNOWN_MEASURE, Refused, invalid
from ledger.i18n import _
from ledger.policy import catalogue_2022
from ledger.policy.edition import BUILTIN_DIR, Edition, Schema, content_key, read
from ledger.policy.measures import Measure, MeasureRule
from ledger.text import shown

RULE_SETS: dict[str, tuple[MeasureRule, ...]] = {catalogue_2022.RULE_SET: catalogue_2022.RULES}

# Built-in editions, by the name of their file (without .toml): `--from NAME`.
BUILTIN_EDITIONS: dict[str, str] = {"shiyan-2022-draft": catalogue_2022.EDITION_FILE}


@dataclass(frozen=True)
class Catalogue:
    id: str
    title: str
    validity_years: int
    measures: Mapping[str, Measure]
    edition: Edition

    def measure(self, measure_id: object) -> Measure:
        if not isinstance(measure_id, str) or not measure_id:
            raise invalid("measure", _("must be a measure id such as M03-platform"))
        try:
            return self.measures[measure_id]
        except KeyError:
            raise Refused(
                UNKNOWN_MEASURE,
                _("measure {measure} is not in catalogue {catalogue}; measures are: {measures}").format(
                    measure=shown(measure_id), catalogue=self.id, measures=", ".join(self.measures)),
                field="measure",
            ) from None


def schema(rules: str) -> Schema:
    """The parameters each measure item of a rule set reads, with their kinds."""
    return {r.id: r.params for r in rule_set(rules)}


def rule_set(rules: str) -> tuple[MeasureRule, ...]:
    try:
        return RULE_SETS[rules]
    except KeyError:
        raise invalid("edition.rules", _("{rules} is not a rule set of this ledger; known: {known}").format(
            rules=shown(rules), known=", ".join(RULE_SETS))) from None


def check_edition(data: Mapping[str, Any]) -> tuple[Edition | None, list[str]]:
    """The edition in ``data`` checked against the schema of the rule set it names (no quote check)."""
    rules = data.get("rules")
    if not isinstance(rules, str) or rules not in RULE_SETS:
        return None, [_("rules: {rules} is not a rule set of this ledger; known: {known}").format(
            rules=shown(rules), known=", ".join(RULE_SETS))]
    return read(data, schema(rules))


def edition_of(data: Mapping[str, Any]) -> Edition:
    """The edition in ``data``; invalid-input naming every finding when it is not one."""
    edition, findings = check_edition(data)
    if edition is None:
        raise invalid("edition", _("not a valid edition: {findings}").format(findings="; ".join(findings)))
    return edition


def build(edition: Edition) -> Catalogue:
    """The catalogue of an edition: each measure item's rule joined with the edition's words and numbers."""
    measures = {r.id: r.build(edition.measures[r.id]) for r in rule_set(edition.rules)}
    return Catalogue(id=edition.id, title=edition.label, validity_years=edition.validity_years, measures=measures,
                     edition=edition)


def builtin_edition_text(name: str) -> str:
    """The TOML text of a built-in edition, by file name (``shiyan-2022-draft``) or edition id."""
    file = BUILTIN_EDITIONS.get(name) or next(
        (f for n, f in BUILTIN_EDITIONS.items() if _builtin_ids().get(n) == name), None)
    if file is None:
        raise invalid("from", _("{name} is not a built-in edition; known: {known}").format(
            name=shown(name), known=", ".join(BUILTIN_EDITIONS)))
    return resources.files(__package__).joinpath(BUILTIN_DIR, file).read_text(encoding="utf-8")


def builtin_source_text(edition: Edition) -> str:
    """The original text a built-in edition quotes (shipped next to it)."""
    return resources.files(__package__).joinpath(BUILTIN_DIR, edition.source).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _builtin() -> dict[str, Catalogue]:
    out = {}
    for file in BUILTIN_EDITIONS.values():
        text = resources.files(__package__).joinpath(BUILTIN_DIR, file).read_text(encoding="utf-8")
        cat = build(edition_of(tomllib.loads(text)))
        out[cat.id] = cat
    return out


def _builtin_ids() -> dict[str, str]:
    return {name: _builtin_by_file(file) for name, file in BUILTIN_EDITIONS.items()}


def _builtin_by_file(file: str) -> str:
    text = resources.files(__package__).joinpath(BUILTIN_DIR, file).read_text(encoding="utf-8")
    ident = tomllib.loads(text).get("id")
    return ident if isinstance(ident, str) else ""


CURRENT_CATALOGUE = catalogue_2022.CATALOGUE_ID


def catalogue(catalogue_id: str = CURRENT_CATALOGUE) -> Catalogue:
    """A built-in catalogue by id."""
    try:
        return _builtin()[catalogue_id]
    except KeyError:
        raise invalid("catalogue", _("{catalogue} is not a known catalogue; known: {known}").format(
            catalogue=shown(catalogue_id), known=", ".join(_builtin()))) from None


_BY_CONTENT: dict[str, Catalogue] = {}
# The same edition object (one policy book's) asked again: answered without hashing its content,
# which every decision would otherwise do. The object is kept with its catalogue, so its id is not reused.
_BY_OBJECT: dict[int, tuple[Mapping[str, Any], Catalogue]] = {}
_BY_OBJECT_MAX = 64


def catalogue_for(catalogue_id: str, edition: Mapping[str, Any] | None) -> Catalogue:
    """The catalogue a policy version uses: built from the edition content its adoption recorded,
    or (versions adopted before editions were recorded) the built-in catalogue it names."""
    if edition is None:
        return catalogue(catalogue_id)
    known = _BY_OBJECT.get(id(edition))
    if known is not None and known[0] is edition:
        return known[1]
    key = content_key(edition)
    if key not in _BY_CONTENT:
        _BY_CONTENT[key] = build(edition_of(edition))
    if len(_BY_OBJECT) >= _BY_OBJECT_MAX:
        _BY_OBJECT.clear()
    _BY_OBJECT[id(edition)] = (edition, _BY_CONTENT[key])
    return _BY_CONTENT[key]


def builtin_catalogues() -> dict[str, Catalogue]:
    """The built-in catalogues (one per edition shipped with the ledger), by id."""
    return dict(_builtin())
