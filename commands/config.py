"""`grants config`: the settings in force and where each comes from."""

from __future__ import annotations

import typer

from commands import output
from commands.options import Json
from commands.output import handled
from commands.settings import config_files


def show(ctx: typer.Context, as_json: Json = False) -> None:
    """Show the settings in force and where each comes from (flag, environment, grants.toml, default)."""
    context = ctx.obj
    settings = context.settings
    files = [{"path": str(p), "found": p.is_file()} for p in config_files()]
    data = {name: {"value": s.value if s.value is not None else context.operator, "source": s.source}
            for name, s in settings.items()}
    if as_json:
        output.emit_json({"settings": data, "files": files})
        return
    rows = [[name, d["value"], d["source"]] for name, d in data.items()]
    output.echo(output.table(["setting 设置", "value 值", "from 来源"], rows))
    output.echo("\nfiles looked at 配置文件: " + "; ".join(
        f"{f['path']} ({'found' if f['found'] else 'none'})" for f in files))


def install(app: typer.Typer) -> None:
    app.command("config")(handled(show))
