"""The application service: the ledger's core, its reads within a decision, the write and the retry loop
(``application``), the command handlers (``handlers``), the queries (``queries``), what a decision read
and the import's cache (``unit_of_work``), malformed streams and their set-asides (``set_asides``),
authorisation (``access``), retried commands (``retries``), the audit trail (``trail``) and the import's
unit of work (``importing``)."""
