"""The outlets catalog is complete and the outlet pages render in Chinese."""

from kdcs.i18n_tools import domain_files, extract, load_catalog, missing_translations
from tests import factories


def test_every_outlets_string_is_translated():
    missing = missing_translations()
    ours = {msgid: places for msgid, places in missing.items()
            if any("outlets/" in place for place in places)}
    assert ours == {}


def test_outlets_catalog_covers_its_sources():
    catalog = load_catalog("outlets")
    used = extract(domain_files("outlets"))
    untranslated = [msgid for msgid in used if not (catalog.get(msgid) and catalog.get(msgid).string)]
    assert untranslated == []


def test_pages_render_in_chinese(client, auth, users):
    outlet = factories.make_outlet(agent=users["agent"])
    auth.login(users["admin"])
    for url, words in (("/admin/outlets", ["网点编码", "单票费率", "主责客服", "新建网点"]),
                       (f"/outlets/{outlet.id}", ["网点信息", "月度票数与服务费", "指定或更换主责客服"]),
                       ("/admin/outlets/import", ["上传并预览", "下载导入模板"]),
                       ("/admin/outlets/new", ["创建网点"]),
                       ("/outlets/mine", ["全部网点"])):
        body = client.get(url).get_data(as_text=True)
        for word in words:
            assert word in body, (url, word)
        for english in ("Primary agent", "Outlet code", "Rate per parcel", "Import"):
            assert english not in body, (url, english)
