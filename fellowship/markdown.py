"""User Markdown to safe HTML (and to plain text), in one place.

Raw HTML is off in the parser (`<script>` stays visible text) and the output is sanitized
again with nh3 on a short allow-list, so a link can only be http(s) or mailto and no
attribute can carry script. Headings are shifted down (`#` becomes `<h3>` by default) so that
user text never adds a second `h1` to a page.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

_parser = MarkdownIt("commonmark", {"html": False})

ALLOWED_TAGS = {
    "a",
    "blockquote",
    "br",
    "code",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _html(text: str, heading_offset: int) -> str:
    tokens = _parser.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + heading_offset, 6)
            token.tag = f"h{level}"
        if token.children:
            token.children = [part for child in token.children for part in _image_as_link(child)]
    rendered: str = _parser.renderer.render(tokens, _parser.options, {})
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def _image_as_link(token: Token) -> list[Token]:
    """Images become a link to the image (pages load no third-party images; CSP agrees)."""
    if token.type != "image":
        return [token]
    src = str(token.attrGet("src") or "")
    opening = Token("link_open", "a", 1, attrs={"href": src})
    alt = "".join(child.content for child in token.children or [])
    text = Token("text", "", 0, content=alt or src)
    return [opening, text, Token("link_close", "a", -1)]


def render_markdown(text: str | None, heading_offset: int = 2) -> Markup:
    """Markdown as sanitized HTML, safe to put in a page (the `markdown` Jinja filter)."""
    return Markup(_html(text or "", heading_offset))  # noqa: S704 - sanitized by nh3 above


_BLOCK_END = re.compile(r"</(p|h[1-6]|blockquote|pre)>|<br\s*/?>|<hr\s*/?>", re.I)
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.I | re.S)


def markdown_to_text(text: str | None) -> str:
    """Markdown as readable plain text (calendar descriptions, email text parts)."""

    def link(match: re.Match[str]) -> str:
        href, label = html.unescape(match.group(1)), match.group(2)
        plain_label = html.unescape(nh3.clean(label, tags=set()))
        return label if plain_label == href else f"{label} ({match.group(1)})"

    rendered = _html(text or "", 0)
    rendered = _LINK.sub(link, rendered)
    rendered = re.sub(r"<li>", "- ", rendered, flags=re.I)
    rendered = _BLOCK_END.sub("\n", rendered)
    plain = html.unescape(nh3.clean(rendered, tags=set()))
    lines = [line.rstrip() for line in plain.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
