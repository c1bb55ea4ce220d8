"""User Markdown to safe HTML (and to plain text), in one place.

Raw HTML is off in the parser (`<script>` stays visible text) and the output is sanitized
again with nh3 on a short allow-list, so a link can only be http(s) or mailto and no
attribute can carry script. Headings are shifted down (`#` becomes `<h3>` by default) so that
user text never adds a second `h1` to a page. Tables are on (GitHub style).

Images are links to the image everywhere, except in curriculum readings (`reading` filter),
where an https image is shown: the page that shows one widens its CSP `img-src` to https
for that response only (see `remote_images_shown`), and the image is fetched with no referrer.
"""

from __future__ import annotations

import html
import re

import nh3
from flask import g, has_request_context
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

_parser = MarkdownIt("commonmark", {"html": False}).enable("table")

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
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
# Wide tables scroll inside themselves (and can be scrolled with the keyboard) on a phone.
TABLE_ATTRIBUTES = {"table": {"class": "usa-table markdown-table", "tabindex": "0"}}
IMAGE_ATTRIBUTES = {"img": {"loading": "lazy", "referrerpolicy": "no-referrer"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _html(text: str, heading_offset: int, images: bool = False) -> str:
    tokens = _parser.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + heading_offset, 6)
            token.tag = f"h{level}"
        if token.children:
            token.children = [
                part for child in token.children for part in _image_as_link(child, images)
            ]
    rendered: str = _parser.renderer.render(tokens, _parser.options, {})
    tags = ALLOWED_TAGS | {"img"} if images else ALLOWED_TAGS
    attributes = {**ALLOWED_ATTRIBUTES, "img": {"src", "alt", "title"}} if images else None
    return nh3.clean(
        rendered,
        tags=tags,
        attributes=attributes or ALLOWED_ATTRIBUTES,
        attribute_filter=_https_images_only,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={**TABLE_ATTRIBUTES, **(IMAGE_ATTRIBUTES if images else {})},
    )


def _https_images_only(tag: str, attribute: str, value: str) -> str | None:
    """Images load over https only (an http image would be mixed content); table cells lose
    the inline alignment styles the CSP would refuse anyway."""
    if tag == "img" and attribute == "src":
        return value if value.lower().startswith("https://") else None
    return value


def _image_as_link(token: Token, keep_https: bool = False) -> list[Token]:
    """Images become a link to the image (pages load no third-party images; CSP agrees),
    except https images in readings (`keep_https`)."""
    if token.type != "image":
        return [token]
    src = str(token.attrGet("src") or "")
    if keep_https and src.lower().startswith("https://"):
        return [token]
    opening = Token("link_open", "a", 1, attrs={"href": src})
    alt = "".join(child.content for child in token.children or [])
    text = Token("text", "", 0, content=alt or src)
    return [opening, text, Token("link_close", "a", -1)]


def render_markdown(text: str | None, heading_offset: int = 2) -> Markup:
    """Markdown as sanitized HTML, safe to put in a page (the `markdown` Jinja filter)."""
    return Markup(_html(text or "", heading_offset))  # noqa: S704 - sanitized by nh3 above


def render_reading(text: str | None, heading_offset: int = 2) -> Markup:
    """A curriculum reading: Markdown with https images shown (the `reading` Jinja filter).

    Marks the response so its CSP allows https images (web.py reads the mark).
    """
    rendered = _html(text or "", heading_offset, images=True)
    if "<img" in rendered and has_request_context():
        g.remote_images_shown = True
    return Markup(rendered)  # noqa: S704 - sanitized by nh3 above


def remote_images_shown() -> bool:
    return bool(has_request_context() and g.get("remote_images_shown"))


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
