"""The picture of the driver diagram: escaped text, wrapped text, boxes that never overlap,
a line to every box, and a size that grows with the diagram (0 to 40 drivers)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from xml.etree import ElementTree

import pytest

from fellowship.cycles import diagram
from fellowship.cycles.models import DriverKind

SVG = "{http://www.w3.org/2000/svg}"

pytestmark = pytest.mark.usefixtures("ctx")


@dataclass
class Node:
    text: str
    kind: DriverKind
    children: list[Node] = field(default_factory=list)


def primary(text: str, *children: Node) -> Node:
    return Node(text, DriverKind.PRIMARY, list(children))


def secondary(text: str, *children: Node) -> Node:
    return Node(text, DriverKind.SECONDARY, list(children))


def idea(text: str) -> Node:
    return Node(text, DriverKind.CHANGE_IDEA)


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 - our own output


def boxes(root: ElementTree.Element) -> list[tuple[float, float, float, float]]:
    return [
        (float(r.get("x")), float(r.get("y")), float(r.get("width")), float(r.get("height")))
        for r in root.iter(f"{SVG}rect")
    ]


def texts(root: ElementTree.Element) -> list[str]:
    """Each box's text, its wrapped lines joined back together."""
    return [
        " ".join(span.text or "" for span in text.iter(f"{SVG}tspan"))
        for text in root.iter(f"{SVG}text")
        if list(text.iter(f"{SVG}tspan"))
    ]


HOSTILE = [
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "</text><script>alert(2)</script>",
    "Tom & Jerry's <b>bold</b> plan",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_driver_text_appears_only_escaped(text):
    svg = str(diagram.render(text, [primary(text, secondary(text, idea(text)))], label=text))
    assert "<script" not in svg
    assert "<svg onload" not in svg
    assert "<b>" not in svg
    assert svg.count("<svg") == 1
    root = parse(svg)  # well-formed XML: nothing broke out of its element
    assert root.get("aria-label") == text
    assert root.get("role") == "img"
    joined = [t.replace(" ", "") for t in texts(root)]
    assert joined.count(text.replace(" ", "")) == 4  # the aim and three drivers, intact


def test_the_picture_names_its_columns_and_says_the_outline_has_the_same_content():
    label = "Picture of the driver diagram. The outline above has the same content."
    root = parse(str(diagram.render("Aim", [primary("P")], label=label)))
    headings = [t.text for t in root.iter(f"{SVG}text") if t.get("font-weight") == "700"]
    assert headings == ["Aim", "Primary drivers", "Secondary drivers", "Change ideas"]
    assert root.find(f"{SVG}title").text == label


def test_an_empty_diagram_draws_the_aim_and_says_there_are_no_drivers():
    root = parse(str(diagram.render("", [], label="Empty")))
    assert len(boxes(root)) == 1
    assert "No aim written yet" in texts(root)
    assert "No drivers yet" in "".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert not list(root.iter(f"{SVG}path"))


def test_long_text_is_wrapped_inside_its_box_and_cut_after_eight_lines():
    words = " ".join(f"word{n}" for n in range(200))
    root = parse(str(diagram.render("Aim", [primary(words)], label="x")))
    (_aim_box, box) = boxes(root)
    spans = [t for t in root.iter(f"{SVG}text") if list(t.iter(f"{SVG}tspan"))][1]
    lines = [s.text for s in spans.iter(f"{SVG}tspan")]
    assert len(lines) == diagram.MAX_LINES
    assert all(len(line) <= diagram.CHARS_PER_LINE for line in lines)
    assert lines[-1].endswith("…")
    assert box[3] == diagram.MAX_LINES * diagram.LINE_HEIGHT + 2 * diagram.BOX_PADDING


def test_a_word_longer_than_a_line_is_broken():
    assert max(len(line) for line in diagram.wrap("x" * 100)) <= diagram.CHARS_PER_LINE


def _forty() -> list[Node]:
    """3 primary drivers, 13 secondary drivers and 26 change ideas: 42 drivers."""
    made = []
    count = 0
    for p in range(3):
        seconds = []
        for s in range(4 if p else 5):
            ideas = [idea(f"Idea {p}.{s}.{i} with a few words to wrap") for i in range(2)]
            count += 3
            seconds.append(secondary(f"Secondary {p}.{s}", *ideas))
        made.append(primary(f"Primary {p} " * 6, *seconds))
        count += 1
    assert count == 42
    return made


@pytest.mark.parametrize(
    "tree",
    [
        [],
        [primary("Only")],
        [primary("P", idea("Straight under the primary"), secondary("S", idea("I")))],
        [primary("Tall " * 60, idea("short")), primary("P2", secondary("S " * 60))],
        _forty(),
    ],
    ids=["empty", "one", "mixed depth", "tall parents", "forty"],
)
def test_boxes_never_overlap_and_every_box_but_the_aim_has_a_line_to_it(tree):
    root = parse(str(diagram.render("Raise the share of families who choose us", tree, label="x")))
    found = boxes(root)
    for i, a in enumerate(found):
        for b in found[i + 1 :]:
            apart = (
                a[0] + a[2] <= b[0]
                or b[0] + b[2] <= a[0]
                or a[1] + a[3] <= b[1]
                or b[1] + b[3] <= a[1]
            )
            assert apart, (a, b)
    assert len(list(root.iter(f"{SVG}path"))) == len(found) - 1
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    assert all(x + w <= width and y + h <= height for x, y, w, h in found)
    assert root.get("height") == re.sub(r"\.0$", "", root.get("viewBox").split()[3])


def test_each_kind_sits_in_its_column():
    root = parse(
        str(
            diagram.render("Aim", [primary("P", idea("I1"), secondary("S", idea("I2")))], label="x")
        )
    )
    columns = {}
    for (x, _y, _w, _h), text in zip(boxes(root), texts(root), strict=True):
        columns[text] = x
    assert columns["Aim"] < columns["P"] < columns["S"] < columns["I1"] == columns["I2"]
