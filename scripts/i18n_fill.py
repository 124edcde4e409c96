"""Fill msgstr values of a domain catalog from a TSV file (msgid<TAB>msgstr per line).

    python scripts/i18n_fill.py messages /path/to/pairs.tsv
"""
import sys
from babel.messages.pofile import read_po, write_po
domain, tsv = sys.argv[1], sys.argv[2]
path = f"kdcs/translations/zh_CN/LC_MESSAGES/{domain}.po"
cat = read_po(open(path, "rb"), locale="zh_CN")
pairs = {}
for line in open(tsv, encoding="utf-8"):
    line = line.rstrip("\n")
    if not line or "\t" not in line:
        continue
    k, v = line.split("\t", 1)
    pairs[k] = v
n = 0
for m in cat:
    if m.id and m.id in pairs:
        m.string = pairs[m.id]; n += 1
write_po(open(path, "wb"), cat, width=120, sort_output=True)
missing = [m.id for m in cat if m.id and not m.string]
print("filled", n, "missing", len(missing)); [print("  ", x) for x in missing]
