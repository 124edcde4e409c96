"""Update the zh_CN catalog of one domain (or all) and list what is untranslated.

    python scripts/i18n.py            # every domain
    python scripts/i18n.py tickets    # one domain
Then fill the empty msgstr "" entries in kdcs/translations/zh_CN/LC_MESSAGES/<domain>.po.
"""

import sys

from kdcs.i18n_tools import DOMAIN_SOURCES, update_domain

domains = sys.argv[1:] or ["messages", *DOMAIN_SOURCES]
for domain in domains:
    count, untranslated = update_domain(domain)
    print(f"{domain}: {count} msgids, {len(untranslated)} untranslated")
    for msgid in untranslated:
        print(f"   - {msgid}")
