"""Read-only selectors for the practice library: published capstones of every cohort, the
filter choices, one entry and its files.

A capstone is in the library while `published_at` is set (the fellow consented and
published; withdrawing clears it). What an entry shows of the capstone's work is its
latest approved final version (`queries.approved_final`: the final whose decision approved
it). Only that version's files marked `in_library` are offered for download.

Every function runs a fixed number of queries, whatever the size of the library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.capstones.models import (
    Capstone,
    CapstoneVersionFile,
    SchoolLevel,
)
from fellowship.cohorts.models import Cohort, Strand
from fellowship.db import Page, db, paginate
from fellowship.uploads import StoredFile


def split_topics(value: str | None) -> list[str]:
    """The topics of a capstone as written ("enrollment, family engagement"): trimmed,
    blanks dropped, each once (whatever its case)."""
    seen: set[str] = set()
    topics: list[str] = []
    for part in (value or "").split(","):
        topic = " ".join(part.split())
        if topic and topic.casefold() not in seen:
            seen.add(topic.casefold())
            topics.append(topic)
    return topics


def _like(text: str) -> str:
    """A case-insensitive `LIKE` pattern for text anywhere (wildcards typed are literal)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _published() -> sa.ColumnElement[bool]:
    return Capstone.published_at.is_not(None)


# Filter choices -----------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One filter choice: what the person sees and every spelling it stands for (strand
    names and topics are typed per cohort and per capstone, so case may differ)."""

    label: str
    spellings: frozenset[str]


@dataclass(frozen=True)
class LibraryOptions:
    strands: dict[str, Choice] = field(default_factory=dict)  # casefolded name → choice
    levels: list[SchoolLevel] = field(default_factory=list)
    topics: dict[str, Choice] = field(default_factory=dict)  # casefolded topic → choice
    # The `topics` column values that carry each topic (casefolded topic → values).
    topic_columns: dict[str, frozenset[str]] = field(default_factory=dict)


def _choices(spellings: Iterable[str]) -> dict[str, Choice]:
    grouped: dict[str, set[str]] = {}
    for spelling in spellings:
        grouped.setdefault(spelling.casefold(), set()).add(spelling)
    return {
        key: Choice(label=sorted(names)[0], spellings=frozenset(names))
        for key, names in sorted(grouped.items(), key=lambda kv: sorted(kv[1])[0].casefold())
    }


def library_options() -> LibraryOptions:
    """The strands, school levels and topics that published capstones have (one query)."""
    rows = db.session.execute(
        sa.select(Strand.name, Capstone.school_level, Capstone.topics)
        .select_from(Capstone)
        .outerjoin(Strand, Strand.id == Capstone.strand_id)
        .where(_published())
        .distinct()
    ).all()
    strand_names = {name for name, _, _ in rows if name}
    levels = {level for _, level, _ in rows if level is not None}
    columns: dict[str, set[str]] = {}
    spellings: list[str] = []
    for _, _, value in rows:
        for topic in split_topics(value):
            spellings.append(topic)
            columns.setdefault(topic.casefold(), set()).add(value)
    return LibraryOptions(
        strands=_choices(strand_names),
        levels=[level for level in SchoolLevel if level in levels],
        topics=_choices(spellings),
        topic_columns={key: frozenset(values) for key, values in columns.items()},
    )


# The list ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryFilters:
    """What the person asked for, already checked against the choices: `strand` and
    `topic` are casefolded keys of `LibraryOptions`, or "" for any."""

    text: str = ""
    strand: str = ""
    level: SchoolLevel | None = None
    topic: str = ""

    @property
    def active(self) -> bool:
        return bool(self.text or self.strand or self.level or self.topic)


@dataclass(frozen=True)
class LibraryRow:
    capstone_id: int
    title: str
    summary: str
    topics: list[str]
    school_level: SchoolLevel | None
    published_at: datetime
    fellow_name: str
    cohort_name: str
    strand_name: str | None


def search_library(
    filters: LibraryFilters, options: LibraryOptions, *, page: int, per_page: int
) -> Page[LibraryRow]:
    """Published capstones matching `filters`, the newest first (two queries)."""
    query = (
        sa.select(
            Capstone.id,
            Capstone.title,
            Capstone.summary,
            Capstone.topics,
            Capstone.school_level,
            Capstone.published_at,
            User.name,
            Cohort.name,
            Strand.name,
        )
        .select_from(Capstone)
        .join(User, User.id == Capstone.fellow_id)
        .join(Cohort, Cohort.id == Capstone.cohort_id)
        .outerjoin(Strand, Strand.id == Capstone.strand_id)
        .where(_published())
    )
    if filters.text:
        pattern = _like(filters.text)
        query = query.where(
            sa.or_(
                *(
                    sa.func.lower(column).like(pattern, escape="\\")
                    for column in (Capstone.title, Capstone.summary, Capstone.topics)
                )
            )
        )
    if filters.strand:
        choice = options.strands.get(filters.strand)
        names = sorted(choice.spellings) if choice else []
        query = query.where(Strand.name.in_(names))
    if filters.level is not None:
        query = query.where(Capstone.school_level == filters.level)
    if filters.topic:
        query = query.where(
            Capstone.topics.in_(sorted(options.topic_columns.get(filters.topic, frozenset())))
        )
    query = query.order_by(Capstone.published_at.desc(), Capstone.id.desc())
    found = paginate(query, page, per_page)
    rows = [
        LibraryRow(
            capstone_id=capstone_id,
            title=title,
            summary=summary or "",
            topics=split_topics(topics),
            school_level=level,
            published_at=published_at,
            fellow_name=fellow_name,
            cohort_name=cohort_name,
            strand_name=strand_name,
        )
        for (
            capstone_id,
            title,
            summary,
            topics,
            level,
            published_at,
            fellow_name,
            cohort_name,
            strand_name,
        ) in found.items
    ]
    return Page(rows, found.page, found.per_page, total=found.total)


# One entry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryFacts:
    fellow_name: str
    cohort_name: str
    strand_name: str | None


def entry_facts(capstone: Capstone) -> EntryFacts:
    """The names an entry shows beside the capstone's own fields (one query)."""
    row = db.session.execute(
        sa.select(User.name, Cohort.name, Strand.name)
        .select_from(Capstone)
        .join(User, User.id == Capstone.fellow_id)
        .join(Cohort, Cohort.id == Capstone.cohort_id)
        .outerjoin(Strand, Strand.id == Capstone.strand_id)
        .where(Capstone.id == capstone.id)
    ).one()
    return EntryFacts(fellow_name=row[0], cohort_name=row[1], strand_name=row[2])


def library_files(version_id: int) -> list[tuple[CapstoneVersionFile, StoredFile]]:
    """The files of the version the fellow chose for the library, in their order (one
    query)."""
    rows = db.session.execute(
        sa.select(CapstoneVersionFile, StoredFile)
        .join(StoredFile, StoredFile.id == CapstoneVersionFile.stored_file_id)
        .where(
            CapstoneVersionFile.version_id == version_id,
            CapstoneVersionFile.in_library.is_(True),
        )
        .order_by(CapstoneVersionFile.position, CapstoneVersionFile.id)
    ).all()
    return [(row[0], row[1]) for row in rows]
