"""`grants config`: the settings in force and where each comes from."""

from __future__ import annotations

import typer

from commands import output
from commands.options import Json
from commands.output import handled
from commands.settings import config_files, shown_source
from ledger.i18n import N_, _

HELP = N_("Show the settings in force and where each comes from (flag, environment, grants.toml, default).")


def show(ctx: typer.Context, as_json: Json = False) -> None:
    context = ctx.obj
    settings = context.settings
    files = [{"path": str(p), "found": p.is_file()} for p in config_files()]
    data = {name: {"value": s.value if s.value is not None else context.operator, "source": s.source}
            for name, s in settings.items()}
    if as_json:
        output.emit_json({"settings": data, "files": files})
        return
    rows = [[name, d["value"], shown_source(d["source"])] for name, d in data.items()]
    output.echo(output.table([_("setting"), _("value"), _("from")], rows))
    looked = "; ".join(_("{path} (found)").format(path=f["path"]) if f["found"]
                       else _("{path} (none)").format(path=f["path"]) for f in files)
    output.echo("\n" + _("files looked at: {files}").format(files=looked))


def install(app: typer.Typer) -> None:
    app.command("config", help=HELP)(handled(show))
