"""Readings and notes: tables everywhere, https images in readings only, nothing executable."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask import Flask, g

from fellowship.markdown import remote_images_shown, render_markdown, render_reading


def test_a_markdown_table_becomes_a_scrollable_table_without_inline_styles():
    html = str(render_markdown("| Name | Hours |\n|:--|--:|\n| Ana | 3 |"))
    (table,) = [attrs for tag, attrs in _tags(html) if tag == "table"]
    assert table == {"class": "usa-table markdown-table", "tabindex": "0"}
    assert "<th>Name</th>" in html
    assert "<td>3</td>" in html
    assert "style=" not in html


@pytest.mark.parametrize(
    ("source", "shown", "linked"),
    [
        ("![Map](https://example.org/map.png)", True, False),
        ("![Map](http://example.org/map.png)", False, True),
        ("![Map](data:image/png;base64,AAAA)", False, False),
        ("![Map](javascript:alert(1))", False, False),
    ],
)
def test_a_reading_shows_only_https_images_and_links_the_rest(app: Flask, source, shown, linked):
    with app.test_request_context():
        html = str(render_reading(source))
        assert ("<img" in html) is shown
        assert ('<a href="http://example.org/map.png"' in html) is linked
        assert "javascript:" not in html.split("![")[0]
        assert remote_images_shown() is shown


def test_a_shown_image_is_fetched_lazily_without_a_referrer(app: Flask):
    with app.test_request_context():
        html = str(render_reading("![Map](https://example.org/map.png)"))
    assert 'referrerpolicy="no-referrer"' in html
    assert 'loading="lazy"' in html


def test_notes_outside_readings_never_show_images(app: Flask):
    with app.test_request_context():
        html = str(render_markdown("![Map](https://example.org/map.png)"))
        assert "<img" not in html
        assert '<a href="https://example.org/map.png"' in html
        assert not g.get("remote_images_shown")


@pytest.mark.parametrize(
    "attack",
    [
        "<img src=x onerror=alert(1)>",
        '![x](https://example.org/a.png "t" onerror=alert(1))',
        "| a |\n|---|\n| <script>alert(1)</script> |",
        "[x](javascript:alert(1))",
        '<table><tr><td onclick="alert(1)">x</td></tr></table>',
    ],
)
def test_readings_keep_attacks_as_text(app: Flask, attack):
    with app.test_request_context():
        html = str(render_reading(attack))
    for tag, attrs in _tags(html):
        assert tag not in {"script", "iframe", "object", "embed", "svg"}
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not any("javascript:" in (value or "").lower() for value in attrs.values())


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every start tag in `html` with its attributes, as a browser's tokenizer sees them."""
    found: list[tuple[str, dict[str, str | None]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))

    Collector().feed(html)
    return found
