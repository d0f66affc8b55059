"""Reports as the ledger knew them at a moment (``--known-at``): the read models rebuilt, in
memory, from only the events recorded up to that moment, then the very same report queries.

An event's recording time is the ``timestamp`` the library stamps on it when it is
created (UTC), stored inside the event; the read models are the same ``ViewUpdater`` the
live views use, so a report "known at" a past moment equals what it printed then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, insert
from sqlalchemy.pool import StaticPool

from ledger.service import GrantsLedger
from projections import runner, schema

PAGE = 5000


def views_known_at(ledger: GrantsLedger, known_at: datetime) -> Engine:
    """An in-memory database holding the read models of the events recorded up to ``known_at``."""
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    schema.metadata.create_all(engine)
    with engine.begin() as conn:
        updater = runner.ViewUpdater(conn)
        start, last = 1, 0
        while True:
            page = ledger.recorder.select_notifications(start=start, limit=PAGE, topics=tuple(runner.HANDLERS))
            if not page:
                break
            for notification in page:
                event: Any = ledger.mapper.to_domain_event(notification)
                if event.timestamp <= known_at:
                    updater.apply(notification.id, notification.topic, event)
                    last = notification.id
            updater.flush()
            start = page[-1].id + 1
        conn.execute(insert(schema.tracking).values(name=runner.TRACKING_NAME, position=last))
    return engine
