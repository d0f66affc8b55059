from ledger import i18n
from ledger.domain.aggregates import Status
from ledger.domain.areas import PAYERS
from ledger.intake.commands import ROLES
from ledger.labels import _LABELS, label


def test_every_status_payer_and_role_has_a_label():
    assert set(_LABELS) == {str(s) for s in Status} | {str(p) for p in PAYERS} | set(ROLES)


def test_labels_follow_the_language():
    try:
        i18n.set_language("zh")
        assert label("approved") == "已批准"
        assert label("city") == "市级"
        assert label("treasurer") == "出纳"
        assert label("m01") == "m01"
    finally:
        i18n.set_language("en")
    assert label("approved") == "approved"
