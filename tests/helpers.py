"""Helpers for tests that drive the CLI in-process."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from commands.main import app, invoke
from tests.conftest import USCC_A, USCC_B

runner = CliRunner()


def cli(db_url: str, *args: str) -> Any:
    """Run `grants --db URL ARGS...` and return the Click result (stdout, stderr, exit_code)."""
    return runner.invoke(app, ["--db", db_url, "--by", "tester", *args], catch_exceptions=False)


def cli_json(db_url: str, *args: str) -> Any:
    result = cli(db_url, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def write_lines(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


# The policy adopted and two enterprises in two areas: the start of most ledgers the tests write.
TWO_ENTERPRISES: list[dict[str, Any]] = [
    {"op": "adopt-policy", "effective": "2022-09-01"},
    {"op": "register", "uscc": USCC_A, "name": "十堰安盾网络安全服务有限公司", "area": "张湾区"},
    {"op": "register", "uscc": USCC_B, "name": "十堰数智科技有限公司", "area": "茅箭区"},
]
# M03-security (不超过合同额10%): 10% of a contract of 10万 gives 1万, split 5,000 + 5,000 yuan.
SECURITY_FACTS = {"city_enterprises": 11, "annual_revenue_yuan": "500万", "contract_yuan": "10万"}


def grants(*args: str, lang: str | None = None, env: dict[str, str | None] | None = None,
           input: str | None = None) -> Result:
    """Run `grants ARGS` in-process as the console script does (language first, then the command; usage
    errors and exit codes as a user sees them), in ``lang`` (``--lang``) if given."""
    argv = (["--lang", lang] if lang else []) + list(args)
    with runner.isolation(input=input, env=env) as (out, err, mixed):
        try:
            code = invoke(argv)
        except SystemExit as exc:  # shell completion ends the process itself
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
        return Result(runner=runner, stdout_bytes=out.getvalue(), stderr_bytes=err.getvalue(),
                      output_bytes=mixed.getvalue(), return_value=None, exit_code=code, exception=None)


def views_snapshot(engine: Any) -> dict[str, Any]:
    """Every row of every view table and the tracking rows, as text, sorted: to compare two ways of
    writing the read models (a catch-up, a rebuild, other page sizes)."""
    from sqlalchemy import select

    from projections import schema

    with engine.connect() as conn:
        return {t.name: sorted(tuple(map(str, row)) for row in conn.execute(select(t)))
                for t in (*schema.VIEW_TABLES, schema.tracking)}


def edition_content(file: Path) -> dict[str, Any]:
    """An edition file as `grants policy adopt --edition FILE` records it: checked (`policy edition check`), its
    content and the digest of its source text, for an ``adopt-policy`` command's ``edition``."""
    from commands.policy import load_edition
    from ledger.policy.edition import source_digest

    assert cli_json("sqlite://", "policy", "edition", "check", str(file))["valid"] is True
    loaded, findings = load_edition(file)
    assert loaded is not None, findings
    source = (file.parent / loaded.source).read_text(encoding="utf-8")
    return {**loaded.content, "source_sha256": source_digest(source)}


def edition_copy(folder: Path, name: str = "shiyan-copy") -> dict[str, Any]:
    """The built-in 2022 draft copied by `grants policy edition new` under an id of its own, unchanged, as adopted."""
    file = folder / f"{name}.toml"
    made = cli_json("sqlite://", "policy", "edition", "new", "--from", "shiyan-2022-draft", str(file))
    assert made["id"] == name, made
    return edition_content(file)
