"""The statuses of an application. A module of its own, like ``ledger.domain.areas``: the command
line offers them as choices (`grants report applications --status`) without importing the
aggregates, and with them the event-sourcing library."""

from enum import StrEnum


class Status(StrEnum):
    """The status of an application; the stored and printed value is the string."""

    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # 撤回: the applicant took it back before a decision
    REVOKED = "revoked"  # 撤销: an approved award withdrawn by the document that ordered it


STATUSES = tuple(Status)
