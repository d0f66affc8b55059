"""Input: the commands as parsed from an import line or the CLI's options (``commands``), JSON lines
(``jsonline``) and the import's limits."""
