"""Reusable option types, so every command spells the same thing the same way."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from ledger import areas

Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
AsOf = Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD",
                                          help="Ignore events dated after this day.")]
KnownAt = Annotated[str | None, typer.Option("--known-at", metavar="DATETIME",
                                              help="Only events recorded up to this moment: ISO date-time "
                                                   "(2024-01-15T18:00, China time unless it has an offset) or a day "
                                                   "(its end, China time).")]
Date = Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="The day it takes effect.")]
By = Annotated[str | None, typer.Option("--by", help="Who does it (default: --by of grants, GRANTS_USER, on PostgreSQL "
                                                     "the database role, else the OS user).")]
Ref = Annotated[str, typer.Argument(help="The application's filing number (ref).")]
AmountYuan = Annotated[str | None, typer.Option("--amount", help="Amount in yuan: 1234.56, 200万, 1.5亿.")]
AmountFen = Annotated[int | None, typer.Option("--amount-fen", help="Amount in integer fen (1 yuan = 100 fen).")]
Payer = Annotated[areas.Payer, typer.Option("--payer", help="city (市级财政) or county (the enterprise's area).")]
# The county-level areas as a closed set of choices (the values are the areas' names).
Area = StrEnum("Area", {name: name for name in areas.AREAS})  # type: ignore[misc]
Reason = Annotated[str, typer.Option("--reason", help="Why, in words the applicant and an auditor will read.")]
Facts = Annotated[list[str] | None, typer.Option("--fact", metavar="NAME=VALUE",
                                                  help="A fact of the measure; repeat for each.")]
FactsJson = Annotated[str | None, typer.Option("--facts-json", help="All facts as one JSON object.")]
