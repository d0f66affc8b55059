"""Reusable option types, so every command spells the same thing the same way."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from ledger.domain import areas
from ledger.i18n import LANGUAGES, N_

Json = Annotated[bool, typer.Option("--json", help=N_("Print machine-readable JSON on stdout."))]
AsOf = Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD",
                                          help=N_("Ignore events dated after this day."))]
KnownAt = Annotated[str | None, typer.Option("--known-at", metavar="DATETIME",
                                              help=N_("Only events recorded up to this moment: ISO date-time "
                                                      "(2024-01-15T18:00, China time unless it has an offset) or a "
                                                      "day (its end, China time)."))]
Date = Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help=N_("The day it takes effect."))]
By = Annotated[str | None, typer.Option("--by", help=N_("Who does it (default: --by of grants, GRANTS_USER, on "
                                                        "PostgreSQL the database role, else the OS user)."))]
Ref = Annotated[str, typer.Argument(help=N_("The application's filing number (ref)."))]
AmountYuan = Annotated[str | None, typer.Option("--amount", help=N_("Amount in yuan: 1234.56, 200万, 1.5亿."))]
AmountFen = Annotated[int | None, typer.Option("--amount-fen", help=N_("Amount in integer fen (1 yuan = 100 fen)."))]
# The languages of the command line, as a closed set of choices.
Language = StrEnum("Language", {name: name for name in LANGUAGES})  # type: ignore[misc]
Lang = Annotated[Language | None, typer.Option("--lang", help=N_("The language of help, messages and reports: zh "
                                                                "(Chinese) or en (English). Else GRANTS_LANG, else "
                                                                "grants.toml, else the locale (LANG)."))]
Payer = Annotated[areas.Payer, typer.Option("--payer", help=N_("city (the city treasury) or county (the treasury of the "
                                                               "enterprise's area)."))]
# The county-level areas as a closed set of choices (the values are the areas' names).
Area = StrEnum("Area", {name: name for name in areas.AREAS})  # type: ignore[misc]
Reason = Annotated[str, typer.Option("--reason", help=N_("Why, in words the applicant and an auditor will read."))]
Facts = Annotated[list[str] | None, typer.Option("--fact", metavar="NAME=VALUE",
                                                  help=N_("A fact of the measure; repeat for each."))]
Limit = Annotated[int | None, typer.Option("--limit", min=1, max=1_000_000_000, metavar="N", help=N_(
    "Print at most N rows of each long list (default 100); --json always gives every row."))]
All = Annotated[bool, typer.Option("--all", help=N_("Print every row of the long lists."))]
FactsJson = Annotated[str | None, typer.Option("--facts-json", help=N_("All facts as one JSON object."))]
