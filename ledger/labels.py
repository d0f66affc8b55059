"""What people read for the closed sets whose stored values are English words: statuses,
payers and roles. The stored value (and the JSON value) stays ``approved``, ``city``,
``clerk``; tables and messages show ``label(value)`` in the current language."""

from __future__ import annotations

from ledger.i18n import N_, _

_LABELS = {
    # statuses (ledger.domain.status.Status)
    "submitted": N_("submitted"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
    "revoked": N_("revoked"),
    # payers (ledger.domain.areas.Payer)
    "city": N_("city"),
    "county": N_("county"),
    # roles (ledger.intake.commands.ROLES)
    "clerk": N_("clerk"),
    "reviewer": N_("reviewer"),
    "treasurer": N_("treasurer"),
    "auditor": N_("auditor"),
    "admin": N_("admin"),
}


def label(value: str) -> str:
    """The word shown for a stored status, payer or role; any other value is shown as it is."""
    text = _LABELS.get(str(value))
    return _(text) if text is not None else str(value)
