"""The zh_CN catalogs cover every string in code and templates; formats render Chinese-style."""

from datetime import UTC, datetime
from decimal import Decimal

from kdcs.filters import format_datetime, format_money, mask_phone
from kdcs.i18n_tools import missing_translations


def test_every_msgid_has_a_chinese_translation():
    missing = missing_translations()
    listing = "\n".join(f"{msgid!r} ({places[0]})" for msgid, places in sorted(missing.items()))
    assert not missing, f"untranslated strings (run scripts/i18n.py, fill the .po):\n{listing}"


def test_times_shown_in_shanghai():
    assert format_datetime(datetime(2026, 11, 23, 16, 30, tzinfo=UTC)) == "2026-11-24 00:30"


def test_money_two_decimals_with_yuan_sign():
    assert format_money(Decimal("7500")) == "¥7,500.00"
    assert format_money(Decimal("0.025"), 4) == "¥0.0250"
    assert format_money(Decimal("-12.345")) == "-¥12.35"


def test_phone_masking():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("123") == "***"
    assert mask_phone(None) == ""


def test_pages_render_in_chinese(client, auth, users):

    auth.login(users["admin"])
    html = client.get("/admin/users").get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    for word in ("用户", "工号", "姓名", "角色", "退出登录", "系统管理"):
        assert word in html
    for english in (">Users<", ">Log out<", ">Username<"):
        assert english not in html


def test_no_msgid_is_translated_differently_in_two_catalogs():
    """Flask-Babel merges the domain catalogs; a clash would make one page's word win everywhere."""
    from babel.messages.pofile import read_po

    from kdcs.i18n import TRANSLATIONS_DIR

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in sorted((TRANSLATIONS_DIR / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale="zh_CN")
        for message in catalog:
            if not message.id or not message.string:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            if key in seen and seen[key][1] != message.string:
                clashes.append(f"{key!r}: {seen[key][0]}={seen[key][1]!r} vs {path.stem}={message.string!r}")
            seen.setdefault(key, (path.stem, message.string))
    assert not clashes, "same msgid, different Chinese (use one wording or a more specific msgid):\n" + "\n".join(clashes)
