"""The org pages' strings all have a zh_CN translation in org.po."""

from babel.messages.pofile import read_po

from kdcs.i18n_tools import domain_files, extract, po_path


def test_every_org_msgid_is_translated():
    used = extract(domain_files("org"))
    with po_path("org").open("rb") as handle:
        catalog = read_po(handle, locale="zh_CN")
    translated = {m.id: m.string for m in catalog if m.id and m.string}
    missing = sorted(set(used) - set(translated))
    assert missing == [], "run scripts/i18n.py org and translate: " + ", ".join(missing)
    # Placeholders survive translation.
    import re

    for msgid, msgstr in translated.items():
        assert sorted(re.findall(r"%\(\w+\)[sd]", msgid)) == sorted(re.findall(r"%\(\w+\)[sd]", msgstr)), msgid


def test_pages_have_no_english_left(client, auth, users):
    from tests import factories

    factories.make_brand("ZTO", "中通")
    auth.login(users["admin"])
    for url in ("/admin/teams", "/admin/brands", f"/admin/teams/{users['team'].id}",
                f"/admin/teams/{users['team'].id}/edit"):
        html = client.get(url).get_data(as_text=True)
        main = html.split('<main id="main"', 1)[1]
        for word in ("Team", "Brand", "Deactivate", "Activate", "Members", "Search", "Edit", "Save", "No lead"):
            assert f">{word}" not in main and f'"{word}' not in main, (url, word)
