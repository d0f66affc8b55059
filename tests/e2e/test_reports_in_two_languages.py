"""The report, audit, policy, export, projections and template commands speak the chosen language:
Chinese headers, statuses and payers with `zh`, English with `en`; the JSON a script reads is the
same in both, keys and values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ledger import i18n
from tests.conftest import USCC_A, USCC_B, init_ledger
from tests.helpers import SECURITY_FACTS, TWO_ENTERPRISES, cli, cli_json, write_lines

LINES = [
    *TWO_ENTERPRISES,
    {"op": "apply", "ref": "A-1", "uscc": USCC_A, "measure": "M03-security", "project": "安全运维", "date": "2023-03-01",
     "facts": SECURITY_FACTS},
    {"op": "approve", "ref": "A-1", "date": "2023-03-20"},
    {"op": "pay", "ref": "A-1", "payer": "city", "amount_fen": 500000, "voucher": "SZ-1", "date": "2023-04-01"},
    {"op": "apply", "ref": "B-1", "uscc": USCC_B, "measure": "M03-security", "project": "等保测评", "date": "2023-03-02",
     "facts": SECURITY_FACTS},
    {"op": "reject", "ref": "B-1", "date": "2023-03-21", "reason": "材料不全"},
    {"op": "external-award", "uscc": USCC_A, "project": "园区", "policy": "十堰市促进园区高质量发展奖励办法",
     "amount_fen": 100000, "date": "2023-01-05"},
]


@contextmanager
def speaking(language: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Commands run in ``language``: chosen the way a user chooses it (GRANTS_LANG), and set for this process."""
    with monkeypatch.context() as patch:
        patch.setenv("GRANTS_LANG", language)
        i18n.set_language(language)
        try:
            yield
        finally:
            i18n.set_language("en")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("languages")
    url = init_ledger(f"sqlite:///{folder / 'l.db'}")
    done = cli(url, "import", str(write_lines(folder / "l.jsonl", LINES)))
    assert done.exit_code == 0, done.stdout + done.stderr
    return url


def run(url: str, language: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    with speaking(language, monkeypatch):
        return cli(url, *args)


REPORTS: list[tuple[str, ...]] = [
    ("report", "enterprise"),
    ("report", "shares", "--from", "2023-01-01", "--to", "2023-12-31"),
    ("report", "applications"),
    ("audit", "trail", "A-1"),
    ("audit", "reconcile"),
    ("audit", "verify"),
    ("audit", "head"),
    ("policy", "list"),
    ("policy", "show", "M03-security"),
    ("policy", "check", "--measure", "M03-security", "--fact", "city_enterprises=11",
     "--fact", "annual_revenue_yuan=500万", "--fact", "contract_yuan=10万", "--date", "2023-05-01"),
    ("policy", "check", "--measure", "M03-security", "--fact", "city_enterprises=3",
     "--fact", "annual_revenue_yuan=500万", "--fact", "contract_yuan=10万", "--date", "2023-05-01"),
    ("policy", "versions"),
    ("projections", "status"),
]


def _stable(data: Any) -> Any:
    """The JSON without the one figure that differs from run to run (how long the verify took)."""
    return {k: v for k, v in data.items() if k != "seconds"} if isinstance(data, dict) else data


@pytest.mark.parametrize("args", REPORTS, ids=lambda a: " ".join(a[:3]))
def test_json_output_is_the_same_in_chinese_and_english(ledger, monkeypatch, args):
    outputs = {}
    for language in ("zh", "en"):
        done = run(ledger, language, monkeypatch, *args, "--json")
        assert done.exit_code in (0, 8), done.stderr  # reconcile exits 8: A-1 has only its city half paid
        outputs[language] = _stable(json.loads(done.stdout))
    assert outputs["zh"] == outputs["en"]


@pytest.mark.parametrize("args", [a for a in REPORTS if a != ("audit", "head")], ids=lambda a: " ".join(a[:3]))
def test_human_output_differs_by_language(ledger, monkeypatch, args):
    zh = run(ledger, "zh", monkeypatch, *args)
    en = run(ledger, "en", monkeypatch, *args)
    assert zh.exit_code == en.exit_code
    assert zh.stdout != en.stdout


# (command, words the Chinese output has, words the English output has); each side must lack the other's.
WORDS: list[tuple[tuple[str, ...], list[str], list[str]]] = [
    (("report", "enterprise"), ["按企业，单位：元", "统一社会信用代码", "企业名称", "市级已付", "合计"],
     ["Per enterprise, yuan", "USCC", "Name", "City paid", "Total"]),
    (("report", "shares", "--from", "2023-01-01", "--to", "2023-12-31"),
     ["各县（市、区）市县分担", "市级应付", "县级未付", "按措施", "单边拨付", "已付方", "市级", "县级", "各财政拨付"],
     ["City and county shares per area", "City owed", "County due", "Per measure", "Ahead", "city", "county",
      "Payments per treasury"]),
    (("report", "applications"), ["2 项申请", "申报编号", "状态", "已批准", "已驳回", "应追回"],
     ["2 applications", "Ref", "Status", "approved", "rejected", "To recover"]),
    (("audit", "trail", "A-1"), ["A-1 的事件轨迹", "生效日", "记录时间（北京时间）", "事项", "核定 10,000.00 = 市级",
                                 "承担方 市级", "A-1 于 2023-03-20 批准的计算过程：", "分担:市级财政5,000.00元"],
     ["trail of A-1", "Effective", "Recorded (China time)", "What", "awarded 10,000.00 = city", "payer city",
      "computation of A-1 approved 2023-03-20:"]),
    (("audit", "reconcile"), ["1 项核定的一方已付多于另一方", "已付方", "市级", "县级"],
     ["1 award with one half paid more than the other", "Ahead", "city", "county"]),
    (("audit", "verify"), ["哈希链完好", "核查通过"], ["chain ok", "checks ok"]),
    (("policy", "list"), ["措施", "条款", "类型", "按比例，设上限", "不涉及资金", "工业互联网安全服务机构奖励"],
     ["Measure", "Clause", "Kind", "proportional, with a cap", "no cash"]),
    (("policy", "show", "M03-security"), ["第3条", "类型：", "牵头单位：", "原文：", "申报事实：", "默认解释", "算例："],
     ["clause 3", "kind:", "lead:", "original text:", "facts:", "default readings", "worked examples:"]),
    (("policy", "check", "--measure", "M03-security", "--fact", "city_enterprises=11", "--fact",
      "annual_revenue_yuan=500万", "--fact", "contract_yuan=10万", "--date", "2023-05-01"),
     ["10,000.00 元", "政策版本"], ["10,000.00 yuan"]),
    (("policy", "versions"), ["版本", "生效日", "截止（不含当日）"], ["Version", "Effective", "Ends (exclusive)"]),
    (("projections", "status"), ["读模型位于第"], ["read models at event"]),
]


@pytest.mark.parametrize(("args", "chinese", "english"), WORDS, ids=lambda a: " ".join(a[:2]) if isinstance(a, tuple)
                         else None)
def test_headers_statuses_and_payers_are_in_the_chosen_language(ledger, monkeypatch, args, chinese, english):
    zh = run(ledger, "zh", monkeypatch, *args)
    en = run(ledger, "en", monkeypatch, *args)
    assert zh.exit_code == en.exit_code and zh.exit_code in (0, 8), zh.stderr + en.stderr
    for words in chinese:
        assert shows(zh.stdout, words), (words, zh.stdout)
    for words in english:
        assert shows(en.stdout, words), (words, en.stdout)
        if words not in ("city", "county") and not words[0].isdigit():
            assert words.split()[0] not in zh.stdout, (words, zh.stdout)
    if args[:2] not in (("audit", "trail"), ("policy", "list"), ("policy", "show"), ("policy", "check")):
        # (those quote the policy's own Chinese words, in the trace and the catalogue, in both languages)
        assert not any("\u4e00" <= c <= "\u9fff" for c in without_data(en.stdout)), en.stdout


def shows(text: str, words: str) -> bool:
    """The words are in the text, in a sentence or in a table's header (which wraps at spaces)."""
    return words in text or all(word in text for word in words.split())


def without_data(text: str) -> str:
    """English output without the Chinese that is data: names, areas, projects, reasons, the policy's title."""
    for data in ("十堰安盾网络安全服务有限公司", "十堰数智科技有限公司", "张湾区", "茅箭区", "安全运维", "等保测评", "材料不全",
                 "园区", "十堰市促进园区高质量发展奖励办法"):
        text = text.replace(data, "")
    return text


def test_a_refusal_of_the_report_options_is_in_the_chosen_language(ledger, monkeypatch):
    zh = run(ledger, "zh", monkeypatch, "report", "shares", "--from", "2023-12-31", "--to", "2023-01-01")
    en = run(ledger, "en", monkeypatch, "report", "shares", "--from", "2023-12-31", "--to", "2023-01-01")
    assert zh.exit_code == en.exit_code == 2
    assert "错误：" in zh.stderr and "--from 2023-12-31 晚于 --to 2023-01-01" in zh.stderr
    assert "error: " in en.stderr and "--from 2023-12-31 is after --to 2023-01-01" in en.stderr
    zh_json = run(ledger, "zh", monkeypatch, "report", "shares", "--from", "2023-12-31", "--json")
    en_json = run(ledger, "en", monkeypatch, "report", "shares", "--from", "2023-12-31", "--json")
    assert json.loads(zh_json.stderr)["error"]["code"] == json.loads(en_json.stderr)["error"]["code"] == "invalid-input"


def test_exports_and_the_template_say_what_they_wrote_in_the_chosen_language(ledger, monkeypatch, tmp_path):
    zh = run(ledger, "zh", monkeypatch, "export", "csv", str(tmp_path / "zh"))
    en = run(ledger, "en", monkeypatch, "export", "csv", str(tmp_path / "en"))
    assert "csv 已写入" in zh.stdout and "申请 2" in zh.stdout and "其他政策奖励 1" in zh.stdout
    assert "csv written to" in en.stdout and "applications 2" in en.stdout and "external awards 1" in en.stdout
    assert (tmp_path / "zh" / "applications.csv").read_bytes() == (tmp_path / "en" / "applications.csv").read_bytes()
    beancount = run(ledger, "zh", monkeypatch, "export", "beancount", str(tmp_path / "l.beancount"))
    assert "beancount 已写入" in beancount.stdout and "余额断言" in beancount.stdout
    zh = run(ledger, "zh", monkeypatch, "template", "xlsx", str(tmp_path / "zh.xlsx"))
    en = run(ledger, "en", monkeypatch, "template", "xlsx", str(tmp_path / "en.xlsx"))
    assert "模板已写入" in zh.stdout and "其他政策奖励 7 列" in zh.stdout and "填好后运行" in zh.stdout
    assert "template written to" in en.stdout and "external_awards 7 columns" in en.stdout
    zh_json = run(ledger, "zh", monkeypatch, "template", "xlsx", str(tmp_path / "zh.xlsx"), "--json")
    en_json = run(ledger, "en", monkeypatch, "template", "xlsx", str(tmp_path / "zh.xlsx"), "--json")
    assert json.loads(zh_json.stdout) == json.loads(en_json.stdout)


def test_the_rebuild_says_what_it_did_in_the_chosen_language(tmp_path, monkeypatch):
    url = init_ledger(f"sqlite:///{tmp_path / 'l.db'}")
    assert cli(url, "import", str(write_lines(tmp_path / "l.jsonl", TWO_ENTERPRISES))).exit_code == 0
    events = cli_json(url, "projections", "status")["log_end"]
    assert f"已从 {events} 个事件重建读模型" in run(url, "zh", monkeypatch, "projections", "rebuild").stdout
    assert f"read models rebuilt from {events} events" in run(url, "en", monkeypatch, "projections", "rebuild").stdout


def test_every_message_of_these_commands_has_its_chinese_in_the_catalogue():
    from babel.messages.pofile import read_po

    path = Path(i18n.LOCALE_DIR) / "zh_CN" / "LC_MESSAGES" / "commands.po"
    with path.open("rb") as f:
        catalogue = read_po(f)
    untranslated = [m.id for m in catalogue if m.id and not (m.string if isinstance(m.string, str) else all(m.string))]
    assert untranslated == []


def test_texts_made_for_json_are_english_and_the_language_comes_back_after(monkeypatch):
    from commands import output
    from ledger.i18n import _

    with speaking("zh", monkeypatch):
        with output.english(when=False):
            assert _("Total") == "合计"
        with output.english():
            assert _("Total") == "Total" and i18n.language() == "en"
        assert _("Total") == "合计" and i18n.language() == "zh"
