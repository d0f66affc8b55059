"""The policy catalogue: versions of the measure list, each with its own rules.

A catalogue is the text of one edition of the policy turned into data and rules.
A *policy version* (adopted by an event) names a catalogue and a validity window;
each application records the version it falls under, and every decision is made
by that version's catalogue, so replaying history never re-decides old
applications under new rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ledger.errors import UNKNOWN_MEASURE, Refused, invalid
from ledger.policy import catalogue_2022
from ledger.policy.measures import Measure


@dataclass(frozen=True)
class Catalogue:
    id: str
    title: str
    validity_years: int
    measures: Mapping[str, Measure]

    def measure(self, measure_id: object) -> Measure:
        if not isinstance(measure_id, str) or not measure_id:
            raise invalid("measure", "must be a measure id such as M03-platform")
        try:
            return self.measures[measure_id]
        except KeyError:
            raise Refused(
                UNKNOWN_MEASURE,
                f"measure {measure_id!r} is not in catalogue {self.id}; measures are: " + ", ".join(self.measures),
                field="measure",
            ) from None


CATALOGUES: dict[str, Catalogue] = {
    catalogue_2022.CATALOGUE_ID: Catalogue(
        id=catalogue_2022.CATALOGUE_ID,
        title="十堰市突破性发展数字经济若干措施(征求意见稿) 2022-06-06",
        validity_years=catalogue_2022.VALIDITY_YEARS,
        measures={m.id: m for m in catalogue_2022.MEASURES},
    ),
}
CURRENT_CATALOGUE = catalogue_2022.CATALOGUE_ID


def catalogue(catalogue_id: str = CURRENT_CATALOGUE) -> Catalogue:
    try:
        return CATALOGUES[catalogue_id]
    except KeyError:
        raise invalid("catalogue", f"{catalogue_id!r} is not a known catalogue; known: {', '.join(CATALOGUES)}") from None
