"""The application service: the ledger's commands and queries (``application``), authorisation
(``access``), retried commands (``retries``), the audit trail (``trail``) and the import's unit of
work (``importing``)."""
