"""The Polish catalogue is complete, compiled, and served by default (English on request)."""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from pathlib import Path
from types import ModuleType

import polib
import pytest
from django.conf import settings
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "src" / "gmina" / "locale"
PL_PO = LOCALE_DIR / "pl" / "LC_MESSAGES" / "django.po"
PL_MO = PL_PO.with_suffix(".mo")

# printf-style conversions as Python's % operator reads them: named or positional, plus %%.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]+)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def load_compile_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compile_messages", ROOT / "scripts" / "compile_messages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def placeholders(text: str) -> Counter[str]:
    return Counter(match.group(0) for match in PLACEHOLDER.finditer(text) if match.group(0) != "%%")


def translations(catalogue: polib.POFile | polib.MOFile) -> dict[tuple[str | None, str], object]:
    """(msgctxt, msgid) -> msgstr (or the plural forms), for every real entry of a .po or .mo."""
    return {
        (entry.msgctxt, entry.msgid): (
            tuple(sorted(entry.msgstr_plural.items())) if entry.msgid_plural else entry.msgstr
        )
        for entry in catalogue
        if entry.msgid and not entry.obsolete
    }


@pytest.fixture(scope="module")
def pl_po() -> polib.POFile:
    return polib.pofile(str(PL_PO))


def test_polish_catalogue_has_polish_plural_header(pl_po: polib.POFile) -> None:
    assert pl_po.metadata["Language"] == "pl"
    assert "charset=UTF-8" in pl_po.metadata["Content-Type"]
    assert pl_po.metadata["Plural-Forms"].startswith("nplurals=3;")
    assert not pl_po.metadata_is_fuzzy


def test_every_polish_entry_is_translated_and_not_fuzzy(pl_po: polib.POFile) -> None:
    entries = [entry for entry in pl_po if not entry.obsolete]
    assert len(entries) > 50, "the catalogue looks truncated"
    assert [e.msgid for e in pl_po.untranslated_entries()] == []
    assert [e.msgid for e in pl_po.fuzzy_entries()] == []
    for entry in entries:
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        assert all(form.strip() for form in forms), f"empty translation for {entry.msgid!r}"


def test_placeholders_match_between_msgid_and_msgstr(pl_po: polib.POFile) -> None:
    mismatches = []
    for entry in pl_po:
        if entry.obsolete:
            continue
        expected = placeholders(entry.msgid)
        if entry.msgid_plural:
            expected_plural = placeholders(entry.msgid_plural)
            for index, form in entry.msgstr_plural.items():
                # Plural forms other than the singular may drop a %(n)d that the English singular omits.
                if placeholders(form) not in (expected, expected_plural):
                    mismatches.append((entry.msgid, index, form))
        elif placeholders(entry.msgstr) != expected:
            mismatches.append((entry.msgid, None, entry.msgstr))
    assert mismatches == []
    # And the check itself is not vacuous: the catalogue does carry python-format entries.
    assert any("python-format" in entry.flags for entry in pl_po)


def test_placeholder_pattern_sees_named_and_positional() -> None:
    assert placeholders("Page %(n)s of %(total)s, %d%% done") == Counter({"%(n)s": 1, "%(total)s": 1, "%d": 1})
    assert placeholders("%(n)d") != placeholders("%(n)s")


def test_committed_mo_is_up_to_date(tmp_path: Path) -> None:
    compile_messages = load_compile_script()
    assert PL_PO in compile_messages.catalogues()
    assert PL_MO.exists(), "run scripts/compile_messages.py"
    fresh = compile_messages.compile_po(PL_PO, tmp_path / "django.mo")
    expected = translations(polib.mofile(str(fresh)))
    committed = translations(polib.mofile(str(PL_MO)))
    assert expected, "compiling the .po produced no entries"
    assert committed == expected, "django.mo is stale: run scripts/compile_messages.py"


def test_gettext_follows_the_active_language() -> None:
    with translation.override("pl"):
        assert translation.gettext("Sign in") == "Zaloguj się"
        assert translation.gettext("Audit log") == "Dziennik zdarzeń"
    with translation.override("en"):
        assert translation.gettext("Sign in") == "Sign in"


def html_lang(content: str) -> str:
    match = re.search(r"<html\b[^>]*\blang=\"([^\"]+)\"", content)
    assert match is not None, "no <html lang=...> in the page"
    return match.group(1)


@pytest.mark.django_db
def test_login_page_is_polish_by_default(client) -> None:
    assert settings.LANGUAGE_CODE == "pl"
    with translation.override(settings.LANGUAGE_CODE):  # the middleware activates; restore afterwards
        response = client.get("/accounts/login/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'lang="pl"' in content
    assert html_lang(content) == "pl"
    assert "Zaloguj się" in content
    assert "Sign in" not in content
    assert response["Content-Language"] == "pl"


@pytest.mark.django_db
def test_login_page_is_english_on_request(client) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'lang="en"' in content
    assert html_lang(content) == "en"
    assert "Sign in" in content
    assert "Zaloguj się" not in content
    assert response["Content-Language"] == "en"
