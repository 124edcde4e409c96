"""Fill msgstr values of a domain catalog from a TSV file (msgid<TAB>msgstr per line).

    python scripts/i18n_fill.py messages /path/to/pairs.tsv
"""

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def main(domain: str, tsv: str) -> None:
    path = Path("kdcs/translations/zh_CN/LC_MESSAGES") / f"{domain}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    pairs = {}
    for line in Path(tsv).read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            msgid, msgstr = line.split("\t", 1)
            pairs[msgid] = msgstr
    filled = 0
    for message in catalog:
        if message.id and message.id in pairs:
            message.string = pairs[message.id]
            filled += 1
    with path.open("wb") as handle:
        write_po(handle, catalog, width=120, sort_output=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    print("filled", filled, "missing", len(missing))
    for msgid in missing:
        print("  ", msgid)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
