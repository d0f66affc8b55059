"""Storage adapters: the database URL (``storage``), the checked recorders, the append-only guards, the
hash chain and what a driver's error means (``errors``)."""
