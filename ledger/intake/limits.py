"""How much one transaction of an import holds at most (``ledger.service.importing``). A module of its
own so that the command line can offer them (`grants import --chunk`) without importing the
event store."""

CHUNK = 500  # lines per transaction at most
CHUNK_BYTES = 256 * 1024  # input bytes per transaction at most (the events are a few times that; see docs)
# Bytes of events per transaction at most: a chunk whose events hold more is split (a line's
# events are always written whole). Well below the ~6 MB at which a pipelined PostgreSQL insert
# used to hang (docs/benchmark.md), and it bounds what one transaction holds in memory.
CHUNK_EVENT_BYTES = 4 * 1024 * 1024
