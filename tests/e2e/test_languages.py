"""The command line speaks Chinese and English: every command's help, representative outputs and
errors, Click's own words, the choice of language, shell completion, and log times in China time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands import language
from commands.main import command
from tests.conftest import USCC_A, USCC_B, new_ledger
from tests.helpers import grants, write_lines
from tests.untranslated import chinese_runs, english_words

GRANTS = str(Path(sys.executable).parent / "grants")
PATHS = [path for path, _command in language.commands_of(command())]
START = [
    {"op": "adopt-policy", "effective": "2022-09-01"},
    {"op": "register", "uscc": USCC_A, "name": "十堰数智科技有限公司", "area": "张湾区"},
    {"op": "apply", "ref": "SY-1", "uscc": USCC_A, "measure": "M10-edge", "project": "边缘节点", "date": "2023-05-01",
     "facts": {"people_served": 300001, "racks": 100}},
    {"op": "approve", "ref": "SY-1", "date": "2023-06-01"},
    {"op": "pay", "ref": "SY-1", "payer": "county", "amount_fen": 15000000, "voucher": "ZW-1", "date": "2023-07-01"},
    {"op": "apply", "ref": "SY-2", "uscc": USCC_A, "measure": "M10-edge", "project": "边缘节点二期",
     "date": "2023-05-02", "facts": {"people_served": 100, "racks": 1}},
]
DATA = ["十堰数智科技有限公司", "边缘节点二期", "边缘节点", "十堰新企业有限公司", "tester"]  # what the tests put in


def _id(path: tuple[str, ...]) -> str:
    return " ".join(("grants", *path))


def _clean(result, lang: str) -> list[str]:
    text = result.stdout + result.stderr
    return english_words(text, DATA) if lang == "zh" else chinese_runs(text, DATA)


@pytest.mark.parametrize("path", PATHS, ids=_id)
def test_every_help_in_chinese_is_chinese(path):
    result = grants(*path, "--help", lang="zh")
    assert result.exit_code == 0, result.stderr
    assert english_words(result.stdout) == [], result.stdout


@pytest.mark.parametrize("path", PATHS, ids=_id)
def test_every_help_in_english_has_no_chinese_but_proper_nouns(path):
    result = grants(*path, "--help", lang="en")
    assert result.exit_code == 0, result.stderr
    assert chinese_runs(result.stdout) == [], result.stdout


def test_click_s_own_words_follow_the_language():
    zh = grants("register", "--help", lang="zh").stdout
    assert zh.startswith("用法: grants register") and "选项:" in zh and "显示此帮助并退出。" in zh and "[必填]" in zh
    chunk = grants("import", "--help", lang="zh").stdout
    assert "参数:" in chunk and "[默认：500; 1<=x<=500]" in chunk
    en = grants("register", "--help", lang="en").stdout
    assert en.startswith("Usage: grants register") and "Options:" in en and "Show this message and exit." in en
    assert "[required]" in en
    root = grants("--help", lang="zh").stdout
    assert "命令:" in root and "登记企业及其所在县（市、区）" in root


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = new_ledger(tmp_path, "languages.db")
    done = grants("--db", url, "--by", "tester", "import", str(write_lines(tmp_path / "start.jsonl", START)))
    assert done.exit_code == 0, done.stdout + done.stderr
    return url


CASES = {  # name: (arguments after --db URL, exit code)
    "success-show": (["show", "SY-1"], 0),
    "success-enterprise": (["show", USCC_A], 0),
    "success-record": (["register", "--uscc", USCC_B, "--name", "十堰新企业有限公司", "--area", "茅箭区"], 0),
    "success-config": (["config"], 0),
    "refusal": (["approve", "SY-2", "--date", "2023-06-02"], 1),
    "refusal-unknown": (["show", "SY-404"], 1),
    "invalid-date": (["show", "SY-1", "--as-of", "2023-13-45"], 2),
    "invalid-uscc": (["register", "--uscc", "91420303MA4F0A1B2X", "--name", "x", "--area", "张湾区"], 2),
    "invalid-amount": (["pay", "SY-1", "--payer", "city", "--voucher", "V-2", "--date", "2023-07-02"], 2),
    "usage-unknown-option": (["register", "--bogus"], 2),
    "usage-no-such-command": (["regist"], 2),
    "usage-bad-choice": (["pay", "SY-1", "--payer", "nowhere", "--voucher", "V", "--date", "2023-07-01"], 2),
    "usage-missing-option": (["register", "--uscc", USCC_B], 2),
    "usage-bad-number": (["pay", "SY-1", "--payer", "city", "--voucher", "V", "--date", "2023-07-01",
                          "--amount-fen", "many"], 2),
    "usage-extra-argument": (["show", "SY-1", "SY-9"], 2),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_representative_commands_speak_one_language(db, case, lang):
    args, code = CASES[case]
    result = grants("--db", db, "--by", "tester", *args, lang=lang)
    assert result.exit_code == code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert _clean(result, lang) == [], result.stdout + result.stderr


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_missing_ledger_is_said_in_the_language(tmp_path, lang):
    result = grants("--db", f"sqlite:///{tmp_path / 'none.db'}", "show", "SY-1", lang=lang)
    assert result.exit_code == 3
    assert ("没有账本" if lang == "zh" else "no ledger at") in result.stderr
    assert _clean(result, lang) == [], result.stderr


def test_usage_errors_in_chinese_name_the_option_and_say_what_is_wrong():
    unknown = grants("register", "--bogus", lang="zh").stderr
    assert "没有此选项：--bogus" in unknown and "请运行 'grants register --help' 查看帮助。" in unknown
    assert unknown.startswith("用法: grants register") and "错误：" in unknown
    choice = grants("pay", "SY-1", "--payer", "nowhere", lang="zh").stderr
    assert "'--payer' 的值无效：'nowhere' 不是以下之一：'city', 'county'。" in choice
    missing = grants("register", "--uscc", USCC_B, lang="zh").stderr
    assert "缺少选项 '--name'" in missing
    extra = grants("init", "extra", lang="zh").stderr
    assert "多余的参数（extra）" in extra


def test_under_json_only_the_message_changes_with_the_language():
    documents = {}
    for lang in ("zh", "en"):
        result = grants("register", "--zzz", "--json", lang=lang)
        assert result.exit_code == 2
        documents[lang] = json.loads(result.stderr)
    assert documents["en"] == {"error": {"code": "usage", "message": "No such option: --zzz"}}
    assert documents["zh"] == {"error": {"code": "usage", "message": "没有此选项：--zzz"}}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_json_output_is_the_same_in_both_languages(db, lang):
    result = grants("--db", db, "show", "SY-1", "--json", lang=lang)
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["status"] == "approved" and shown["ref"] == "SY-1" and shown["county_paid_fen"] == 15000000


# --- which language -----------------------------------------------------------------------------------

@pytest.fixture
def office(tmp_path, monkeypatch) -> Path:
    """A working directory with its own user configuration directory and no language in the environment."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home-config"))
    for variable in ("GRANTS_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def _lang(*args: str, **env: str) -> tuple[str, str]:
    result = grants(*args, "config", "--json", env=dict(env))
    assert result.exit_code == 0, result.stderr
    setting = json.loads(result.stdout)["settings"]["lang"]
    return setting["value"], setting["source"]


def test_the_flag_beats_grants_lang_beats_grants_toml_beats_the_locale(office):
    assert _lang() == ("en", "the locale (LANG)")
    assert _lang(LANG="zh_CN.UTF-8") == ("zh", "the locale (LANG)")
    (office / "grants.toml").write_text('lang = "zh_CN"\n', encoding="utf-8")
    assert _lang(LANG="en_US.UTF-8") == ("zh", str(office / "grants.toml"))
    assert _lang(GRANTS_LANG="en", LANG="zh_CN.UTF-8") == ("en", "GRANTS_LANG")
    assert _lang("--lang", "zh", GRANTS_LANG="en") == ("zh", "--lang")
    assert _lang("--lang=en") == ("en", "--lang")


def test_the_language_chosen_shapes_the_help_before_it_is_shown(office):
    assert grants("--help", env={"LANG": "zh_CN.UTF-8"}).stdout.startswith("用法: grants")
    assert grants("--help", env={"GRANTS_LANG": "en", "LANG": "zh_CN.UTF-8"}).stdout.startswith("Usage: grants")
    (office / "grants.toml").write_text('lang = "zh"\n', encoding="utf-8")
    assert grants("init", "--help").stdout.startswith("用法: grants init")
    assert grants("init", "--help", "--lang", "en").stdout.startswith("Usage: grants init")  # after the command too
    shown = grants("config").stdout
    assert "设置" in shown and "来源" in shown and str(office / "grants.toml") in shown


def test_a_language_that_is_not_one_is_refused_naming_where_it_came_from(office):
    (office / "grants.toml").write_text('lang = "fr"\n', encoding="utf-8")
    result = grants("config", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stderr)["error"]
    assert error["field"] == "config" and str(office / "grants.toml") in error["message"]
    assert "'fr'" in error["message"] and "zh, en" in error["message"]
    (office / "grants.toml").unlink()
    wrong_env = grants("--help", env={"GRANTS_LANG": "klingon"})
    assert wrong_env.exit_code == 2 and "GRANTS_LANG='klingon'" in wrong_env.stderr and "zh, en" in wrong_env.stderr
    wrong_flag = grants("--lang", "fr", "config")
    assert wrong_flag.exit_code == 2 and "'fr' is not one of 'zh', 'en'" in wrong_flag.stderr


def test_in_process_runs_leave_the_language_as_they_found_it():
    from ledger.i18n import language as current

    grants("--help", lang="zh")
    assert current() == "en"


# --- shell completion, --version ------------------------------------------------------------------------

def test_show_completion_prints_a_bash_script(monkeypatch):
    # --show-completion detects the shell from the process tree (shellingham), which depends on how
    # the tests were started (a background job has none to find): the shell is bash here
    monkeypatch.setattr("typer.completion._get_shell_name", lambda: "bash")
    result = grants("--show-completion")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "_GRANTS_COMPLETE=complete_bash" in result.stdout and "complete -o default -F" in result.stdout


def test_completing_grants_rep_offers_report():
    result = grants(env={"_GRANTS_COMPLETE": "complete_bash", "COMP_WORDS": "grants rep", "COMP_CWORD": "1"})
    assert result.exit_code == 0 and result.stdout.split() == ["report"]
    nested = grants(env={"_GRANTS_COMPLETE": "complete_bash", "COMP_WORDS": "grants admin operator su",
                         "COMP_CWORD": "3"})
    assert nested.stdout.split() == ["suspend"]


def test_version_answers_without_loading_the_commands():
    probe = ("import sys\nsys.argv = ['grants', '--version']\nfrom commands import entry\ntry:\n    entry.run()\n"
             "except SystemExit:\n    pass\nprint('loaded' if 'commands.main' in sys.modules else 'fast')")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).parents[2])
    assert done.stdout.split() == ["grants", done.stdout.split()[1], "fast"], done.stdout + done.stderr


# --- logs -----------------------------------------------------------------------------------------------

def test_log_lines_carry_china_time_whatever_the_machine_zone(tmp_path):
    env = {**os.environ, "TZ": "America/New_York", "GRANTS_LOG_LEVEL": "info"}
    done = subprocess.run([GRANTS, "--db", f"sqlite:///{tmp_path / 'logs.db'}", "init"], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert lines and all(line["timestamp"].endswith("+08:00") for line in lines), done.stderr


def test_lang_is_read_from_the_arguments_before_click_parses_them():
    assert language.scan(["--lang", "zh", "report", "shares"]) == "zh"
    assert language.scan(["report", "shares", "--lang=en"]) == "en"
    assert language.scan(["import", "--", "--lang", "zh"]) is None  # after --: an argument, not the option
    assert language.scan(["--lang", "fr"]) is None  # left to Click, which refuses it


def test_click_s_bracket_is_translated_and_the_help_s_own_brackets_are_left_alone():
    from ledger.i18n import set_language

    set_language("zh")
    try:
        assert language.click_help("Lines per transaction.  [default: 500; 1<=x<=500]") == \
            "Lines per transaction.  [默认：500; 1<=x<=500]"
        assert language.click_help("See [the guide]") == "See [the guide]"
    finally:
        set_language("en")
