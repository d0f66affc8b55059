#!/usr/bin/env bash
# Extract the messages from the source and merge them into the Chinese catalogues:
#   tools/i18n.sh            extract + update (then translate the new entries in the .po files)
# Entries are sorted by message and carry no source locations, so that branches merge cleanly.
# The build (setup.py) compiles the .po files into .mo; `pip install -e .` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-.venv/bin/pybabel}"
LOCALES=ledger/locale
extract() {  # domain, source folders...
    local domain="$1"; shift
    "$PYBABEL" extract -F babel.cfg -k _ -k N_ -k NC_:1c,2 -k pgettext:1c,2 -k ngettext:1,2 --no-wrap --no-location --sort-output \
        --project grants-ledger --copyright-holder "grants ledger" -o "$LOCALES/$domain.pot" "$@"
    if [ -f "$LOCALES/zh_CN/LC_MESSAGES/$domain.po" ]; then
        "$PYBABEL" update --no-wrap --no-fuzzy-matching --ignore-obsolete -D "$domain" -l zh_CN -i "$LOCALES/$domain.pot" -d "$LOCALES"
    else
        "$PYBABEL" init --no-wrap -D "$domain" -l zh_CN -i "$LOCALES/$domain.pot" -d "$LOCALES"
    fi
}
extract ledger ledger projections
extract commands commands
