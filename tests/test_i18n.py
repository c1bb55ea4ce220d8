"""English and Spanish: every marked string has a Spanish text, and pages switch language."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from tests.conftest import csrf_token, sign_in
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "fellowship/translations/es/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def spanish_catalog():
    with PO.open("rb") as handle:
        return read_po(handle)


def test_every_string_in_the_catalog_has_a_spanish_translation():
    missing = [m.id for m in spanish_catalog() if m.id and (not m.string or m.fuzzy)]
    assert missing == []


def test_translations_keep_their_placeholders():
    wrong = [
        m.id
        for m in spanish_catalog()
        if m.id and set(PLACEHOLDER.findall(str(m.id))) != set(PLACEHOLDER.findall(str(m.string)))
    ]
    assert wrong == []


def test_the_catalog_compiles_without_a_format_error():
    # Babel reads a literal "% a" as a format directive; such an entry fails `pybabel compile`.
    errors = [(m.id, [str(e) for e in problems]) for m, problems in spanish_catalog().check()]
    assert errors == []


def test_every_string_marked_in_the_code_is_in_the_spanish_catalog(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pybabel")),
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    catalog = {m.id for m in spanish_catalog() if m.id}
    assert sorted(extracted - catalog, key=str) == [], (
        "run `make translations-update` and translate"
    )


def test_a_person_switches_the_interface_to_spanish(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    client.post(
        "/language", data={"locale": "es", "next": "/login", "csrf_token": csrf_token(client)}
    )
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "Iniciar sesión" in page


def test_a_signed_in_persons_language_choice_is_saved_on_their_profile(client):
    from fellowship.auth.models import User
    from fellowship.extensions import db

    user = UserFactory(locale="en")
    sign_in(client, user)
    client.post("/language", data={"locale": "es", "next": "/", "csrf_token": csrf_token(client)})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "es"
    assert '<html lang="es">' in client.get("/").get_data(as_text=True)


def test_the_browser_language_is_used_before_anyone_chooses(client):
    page = client.get("/login", headers={"Accept-Language": "es-MX,es;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="es">' in page
