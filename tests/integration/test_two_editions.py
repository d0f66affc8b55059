"""Two editions of the policy in one ledger: each application is decided by the edition in
force on its date, and both replay from the adoption events alone, the files deleted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ledger.intake import commands as intake
from ledger.service.application import GrantsLedger
from ledger.store.storage import parse_store
from tests.conftest import USCC_A, USCC_B, USCC_C
from tests.helpers import cli, cli_json

OLD_BASE = "对成功创建国家和省级电子商务示范基地(含跨境电商产业园)的分别给予一次性奖励50万元、30万元"
NEW_BASE = "对成功创建国家和省级电子商务示范基地(含跨境电商产业园)的分别给予一次性奖励60万元、30万元"
OLD_PARK = "对入园企业达到20家以上"
NEW_PARK = "对入园企业达到15家以上"


def _second_edition(folder: Path) -> Path:
    """The 2022 draft copied and amended: M07-base national 50万 -> 60万, M18-park 20 -> 15 enterprises."""
    file = folder / "shiyan-2024.toml"
    made = cli_json("sqlite://", "policy", "edition", "new", "--from", "shiyan-2022-draft", str(file))
    assert made["parent"] == "shiyan-digital-economy-2022-draft" and made["source_copied"] is True
    source = Path(made["source"])
    new_source = folder / "shiyan-2024.txt"
    new_source.write_text(source.read_text(encoding="utf-8").replace(OLD_BASE, NEW_BASE).replace(OLD_PARK, NEW_PARK),
                          encoding="utf-8")
    text = file.read_text(encoding="utf-8")
    for old, new in [(OLD_BASE, NEW_BASE), ("入园企业达到20家以上", "入园企业达到15家以上"),
                     ('national = { yuan = "50万", words = "对成功创建国家和省级电子商务示范基地',
                      'national = { yuan = "60万", words = "对成功创建国家和省级电子商务示范基地'),
                     ("enterprises = { count = 20,", "enterprises = { count = 15,"),
                     ('source = "shiyan-digital-economy-2022-draft.txt"', 'source = "shiyan-2024.txt"')]:
        assert old in text, old
        text = text.replace(old, new)
    file.write_text(text, encoding="utf-8")
    return file


def _show(ledger: GrantsLedger, ref: str) -> dict[str, Any]:
    return ledger.show(ref)


def test_each_application_follows_the_edition_in_force_on_its_date_and_replays_without_the_file(db_url, tmp_path):
    file = _second_edition(tmp_path)

    checked = cli_json(db_url, "policy", "edition", "check", str(file))
    assert checked["valid"] is True and checked["parent_found"] is True
    changes = checked["changes"]
    assert set(changes) == {"M07-base", "M18-park"}, changes
    base = {p["name"]: (p["before_value"], p["after_value"]) for p in changes["M07-base"]["params"]}
    assert base == {"national": (50_000_000, 60_000_000), "provincial": (30_000_000, 30_000_000)}  # words changed
    assert [(p["name"], p["before_value"], p["after_value"]) for p in changes["M18-park"]["params"]] == [
        ("enterprises", 20, 15)]
    assert [(e["before"], e["after"]) for e in changes["M07-base"]["examples"]] == [(50_000_000, 60_000_000)]

    cli_json(db_url, "policy", "adopt", "--effective", "2022-09-01")
    adopted = cli_json(db_url, "policy", "adopt", "--edition", str(file), "--effective", "2024-01-01")
    assert adopted["version"] == "shiyan-2024@2024-01-01" and adopted["ends"] == "2027-01-01"
    for uscc, name, area in [(USCC_A, "甲", "张湾区"), (USCC_B, "乙", "茅箭区"), (USCC_C, "丙", "郧阳区")]:
        cli_json(db_url, "register", "--uscc", uscc, "--name", name, "--area", area, "--date", "2020-01-01")

    def apply(ref: str, uscc: str, measure: str, day: str, *facts: str) -> dict[str, Any]:
        args = ["apply", "--ref", ref, "--uscc", uscc, "--measure", measure, "--project", ref, "--date", day]
        for fact in facts:
            args += ["--fact", fact]
        return cli_json(db_url, *args)

    before = apply("B-2023", USCC_A, "M07-base", "2023-12-31", "tier=national")
    after = apply("B-2024", USCC_B, "M07-base", "2024-01-01", "tier=national")
    assert (before["policy_version"], before["entitlement_fen"]) == ("shiyan-digital-economy-2022-draft@2022-09-01",
                                                                      50_000_000)
    assert (after["policy_version"], after["entitlement_fen"]) == ("shiyan-2024@2024-01-01", 60_000_000)
    park_before = apply("P-2023", USCC_C, "M18-park", "2023-12-31", "enterprises=16", "revenue_yuan=30亿")
    park_after = apply("P-2024", USCC_C, "M18-park", "2024-01-02", "enterprises=16", "revenue_yuan=30亿")
    assert park_before["eligible"] is False and park_after["eligible"] is True
    assert park_after["entitlement_fen"] == 500_000_000

    cli_json(db_url, "approve", "B-2023", "--date", "2024-02-01")
    cli_json(db_url, "approve", "B-2024", "--date", "2024-02-01")
    refused = cli(db_url, "approve", "P-2023", "--date", "2024-02-01", "--json")
    assert refused.exit_code == 1 and json.loads(refused.stderr.splitlines()[0])["error"]["code"] == "not-eligible"

    for path in [*tmp_path.glob("*.toml"), *tmp_path.glob("*.txt")]:
        path.unlink()  # the edition and its texts are gone: replay must not need them
    assert not file.exists()

    replay = GrantsLedger(parse_store(db_url))
    try:
        assert _show(replay, "B-2023")["awarded_fen"] == 50_000_000
        assert _show(replay, "B-2024")["awarded_fen"] == 60_000_000
        book = replay.policy_book()
        assert book is not None
        recorded = book.versions["shiyan-2024@2024-01-01"].edition
        assert recorded is not None and recorded["measures"]["M18-park"]["params"]["enterprises"]["count"] == 15
        assert len(recorded["source_sha256"]) == 64
        # decisions still to make are made by the edition recorded in the adoption event
        result = replay.execute(intake.parse_command(
            {"op": "approve", "ref": "P-2024", "date": "2024-02-01"}, "tester"))
        assert result["awarded_fen"] == 500_000_000
        trace = _show(replay, "P-2024")["trace"]
        assert any(step.get("words") == "入园企业达到15家以上" and step.get("passed") for step in trace), trace
    finally:
        replay.close()


def test_under_an_adopted_edition_file_amendments_retries_and_audit_verify_hold(db_url, tmp_path):
    """Issue 18, case 5: after `policy edition new` -> `policy edition check` -> `policy adopt --edition FILE`,
    the commands that look up the catalogue of the application's version (amend, a retry of apply, the audit's
    replay) find the adopted edition, not only the built-in ones by name."""
    file = _second_edition(tmp_path)
    checked = cli_json(db_url, "policy", "edition", "check", str(file))
    assert checked["valid"] is True
    adopted = cli_json(db_url, "policy", "adopt", "--edition", str(file), "--effective", "2024-01-01")
    assert adopted["version"] == "shiyan-2024@2024-01-01"
    cli_json(db_url, "register", "--uscc", USCC_A, "--name", "甲", "--area", "张湾区", "--date", "2020-01-01")

    apply_args = ["apply", "--ref", "S-1", "--uscc", USCC_A, "--measure", "M03-security", "--project", "安全服务",
                  "--date", "2024-02-01", "--fact", "city_enterprises=10", "--fact", "annual_revenue_yuan=600万",
                  "--fact", "contract_yuan=50万"]
    filed = cli_json(db_url, *apply_args)
    assert filed["policy_version"] == "shiyan-2024@2024-01-01" and filed["eligible"] is False
    again = cli_json(db_url, *apply_args)  # the identical apply sent again is answered, not refused
    assert again.get("already_recorded") is True, again

    def amend(day: str, contract: str) -> dict[str, Any]:
        return cli_json(db_url, "amend", "S-1", "--date", day, "--reason", "补正材料", "--fact", "city_enterprises=12",
                        "--fact", "annual_revenue_yuan=600万", "--fact", f"contract_yuan={contract}")

    first = amend("2024-02-10", "50万")
    assert (first["eligible"], first["entitlement_fen"]) == (True, 5_000_000), first
    second = amend("2024-02-20", "80万")  # the second amendment under the edition (case 5 refused it)
    assert (second["eligible"], second["entitlement_fen"]) == (True, 8_000_000), second
    assert cli_json(db_url, *apply_args).get("already_recorded") is True  # still answered after the amendments
    approved = cli_json(db_url, "approve", "S-1", "--date", "2024-03-01")
    assert approved["awarded_fen"] == 8_000_000

    # a base under the edition (its national tier 60万), its approval sent again: answered
    base = ["apply", "--ref", "B-1", "--uscc", USCC_A, "--measure", "M07-base", "--project", "基地",
            "--date", "2024-02-01", "--fact", "tier=national"]
    assert cli_json(db_url, *base)["entitlement_fen"] == 60_000_000
    assert cli_json(db_url, *base).get("already_recorded") is True
    assert cli_json(db_url, "approve", "B-1", "--date", "2024-03-01")["awarded_fen"] == 60_000_000
    assert cli_json(db_url, "approve", "B-1", "--date", "2024-03-01").get("already_recorded") is True

    verified = cli(db_url, "audit", "verify", "--json")
    data = json.loads(verified.stdout)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    assert data["findings"] == [], data["findings"]


def test_a_base_recognised_national_is_not_awarded_again_under_a_later_edition(db_url, tmp_path):
    """Clause 7 gives a base one one-time award (一次性奖励); a provincial base later recognised national is topped
    up (就高补差). The same national base applying again under the second edition (national 60万) is a second
    one-time award of the same base at the same tier: refused already-awarded, naming the first."""
    file = _second_edition(tmp_path)
    cli_json(db_url, "policy", "adopt", "--effective", "2022-09-01")
    cli_json(db_url, "policy", "adopt", "--edition", str(file), "--effective", "2024-01-01")
    cli_json(db_url, "register", "--uscc", USCC_A, "--name", "甲", "--area", "张湾区", "--date", "2020-01-01")
    for ref, day in [("N-2023", "2023-03-01"), ("N-2024", "2024-03-01")]:
        cli_json(db_url, "apply", "--ref", ref, "--uscc", USCC_A, "--measure", "M07-base", "--project", "电商基地",
                 "--date", day, "--fact", "tier=national")
    assert cli_json(db_url, "approve", "N-2023", "--date", "2023-04-01")["awarded_fen"] == 50_000_000
    again = cli(db_url, "approve", "N-2024", "--date", "2024-04-01", "--json")
    assert again.exit_code == 1, again.stdout  # today: accepted, awarded 100,000.00 yuan as a "top-up"
    error = json.loads(again.stderr.splitlines()[0])["error"]
    assert error["code"] == "already-awarded" and "N-2023" in error["message"], error
