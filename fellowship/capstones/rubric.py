"""A cohort's capstone rubric: the default, reading it, and the rules for changing it.

Each cohort has at most one rubric: criteria in order, each with levels (a score and what
work at that level looks like). A cohort without one uses `DEFAULT_RUBRIC`, written for
fellows founding diverse-by-design schools; `ensure_rubric` creates it the first time
something needs real rows (a staff edit, a reviewer's save) - never on a page view, so a GET
shows the default as what will be created.

Every change goes through the Rubric row's optimistic lock (`version`), so two people editing
the rubric never silently overwrite each other; criteria and levels carry no version of their
own. A criterion that a submitted review scored is never removed (the review would lose part
of its meaning). Changes are audited as `rubric_changed`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit
from fellowship.auth.models import User
from fellowship.capstones.models import (
    Capstone,
    CapstoneVersion,
    Review,
    ReviewAssignment,
    Rubric,
    RubricCriterion,
    RubricLevel,
)
from fellowship.cohorts.models import Cohort
from fellowship.db import db, utcnow

MAX_NAME = 200
MAX_DESCRIPTION = 2_000
MAX_DESCRIPTOR = 1_000
NEW_LEVELS = (1, 2, 3, 4)
UP = "up"
DOWN = "down"
# The key of a criterion of the default rubric before it has rows: "new0", "new1", ...
NEW_PREFIX = "new"


@dataclass(frozen=True)
class DefaultCriterion:
    name: Any  # lazy strings: the rubric is created in the language of whoever creates it
    description: Any
    levels: tuple[Any, Any, Any, Any]  # the descriptors of levels 1..4


DEFAULT_RUBRIC: tuple[DefaultCriterion, ...] = (
    DefaultCriterion(
        _l("Problem and evidence"),
        _l(
            "How clearly the capstone names the segregation or inequity it addresses, and how "
            "well local evidence supports it."
        ),
        (
            _l("The problem is stated in general terms, with little or no local evidence."),
            _l(
                "The problem is named and some data are cited, but the evidence is thin, dated "
                "or not local."
            ),
            _l(
                "The problem is specific to a place and a community, supported by current local "
                "data on enrollment, achievement or segregation."
            ),
            _l(
                "The problem is precise and compelling: several sources of local evidence, "
                "including the voices of families and students, show who is affected and why "
                "it persists."
            ),
        ),
    ),
    DefaultCriterion(
        _l("Design for diversity and integration"),
        _l(
            "How the school's model makes it diverse by design, and integrated in daily life "
            "rather than in enrollment only."
        ),
        (
            _l("Diversity is an aspiration; the design has no concrete way to reach or keep it."),
            _l(
                "There is an enrollment mechanism (a weighted lottery, say), but little about "
                "what happens inside the school."
            ),
            _l(
                "Enrollment, location and outreach are designed for a diverse student body, and "
                "classrooms, curriculum and discipline are planned for integration."
            ),
            _l(
                "A coherent design: enrollment goals with a plan to meet them, integrated "
                "classrooms, a culturally sustaining curriculum, shared governance, and measures "
                "that show whether the school stays diverse and equitable."
            ),
        ),
    ),
    DefaultCriterion(
        _l("Community and coalition"),
        _l(
            "How the plan involves the families and community the school will serve, and the "
            "allies it needs."
        ),
        (
            _l("The community is described but was not consulted; no partners are named."),
            _l(
                "Some outreach has happened or is planned, mostly one way: informing people "
                "rather than listening to them."
            ),
            _l(
                "Families from different backgrounds helped shape the plan; key partners, and "
                "likely opponents, are identified."
            ),
            _l(
                "A broad coalition is in place: families, educators, the district and community "
                "partners share ownership, and the plan says how they will keep deciding "
                "together."
            ),
        ),
    ),
    DefaultCriterion(
        _l("Feasibility and plan"),
        _l(
            "Whether the school can open and last: timeline, budget, facility, authorization "
            "and staffing."
        ),
        (
            _l("Key parts of the plan (budget, timeline, authorizer, facility) are missing."),
            _l("A timeline and a rough budget exist, but the major risks are not addressed."),
            _l(
                "A realistic timeline, budget and staffing plan, naming the main risks and how "
                "to handle them."
            ),
            _l(
                "A detailed, tested plan: milestones with owners, a sustainable budget, the path "
                "to authorization, facility options, and contingencies for the largest risks."
            ),
        ),
    ),
    DefaultCriterion(
        _l("Leadership reflection"),
        _l(
            "What the fellow learned about themself as the leader of an integrated school, and "
            "what they will do next."
        ),
        (
            _l("Little reflection: the text describes activities rather than learning."),
            _l("Some reflection on strengths and challenges, in general terms."),
            _l(
                "Honest reflection on their identity, assumptions and growth, with concrete "
                "examples from the fellowship."
            ),
            _l(
                "Deep, specific reflection that connects their identity and leadership practice "
                "to the school they will lead, with clear commitments for continued growth."
            ),
        ),
    ),
)

NAME_NEEDED = _l("Give the criterion a name.")
NAME_TOO_LONG = _l("A criterion's name can be at most 200 characters.")
NAME_TAKEN = _l("Another criterion already has this name; reviewers need to tell them apart.")
DESCRIPTION_TOO_LONG = _l("The description can be at most 2,000 characters.")
DESCRIPTOR_NEEDED = _l("Describe what work at this level looks like.")
DESCRIPTOR_TOO_LONG = _l("A level's description can be at most 1,000 characters.")
NEW_NAME_NEEDED = _l("Name the new criterion (or clear its fields to add nothing).")
STALE_RUBRIC = _l(
    "Someone changed this rubric while you were editing it. Your changes were not saved. The "
    "form below shows the rubric as it is now, with what you typed kept where the criterion "
    "still exists. Check it and save again."
)
LAST_CRITERION = _l("A rubric needs at least one criterion, so the last one cannot be removed.")
GONE_CRITERION = _l("That criterion is no longer in the rubric; someone removed it.")


class RubricError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to, and
    `problems` holds every (field, message) found, the first one included."""

    def __init__(
        self, field: str | None, message: str, more: Iterable[tuple[str | None, str]] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.problems: list[tuple[str | None, str]] = [(field, message), *more]


class StaleRubric(RubricError):
    """The rubric changed after the form was opened."""


class CriterionScored(RubricError):
    """The criterion was scored in a submitted review, so it stays."""


# Reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelView:
    score: int
    descriptor: str


@dataclass(frozen=True)
class CriterionView:
    """One criterion as pages show it; `key` names its form fields: the criterion id, or
    "new<position>" for the default rubric before it has rows (`id` None)."""

    key: str
    id: int | None
    position: int
    name: str
    description: str
    levels: tuple[LevelView, ...]

    def descriptor(self, score: int | None) -> str | None:
        return next((level.descriptor for level in self.levels if level.score == score), None)


@dataclass(frozen=True)
class RubricView:
    """The rubric of a cohort, or the default it will get (`rubric` None, `is_default`)."""

    rubric: Rubric | None
    criteria: tuple[CriterionView, ...]

    @property
    def is_default(self) -> bool:
        return self.rubric is None

    @property
    def version(self) -> int | None:
        return None if self.rubric is None else self.rubric.version

    @property
    def scores(self) -> list[int]:
        """Every score any criterion has, in order (the columns of the rubric grid)."""
        return sorted({level.score for c in self.criteria for level in c.levels})

    def by_key(self) -> dict[str, CriterionView]:
        return {criterion.key: criterion for criterion in self.criteria}


def rubric_of(cohort_id: int) -> Rubric | None:
    return db.session.scalar(sa.select(Rubric).where(Rubric.cohort_id == cohort_id))


def default_view() -> RubricView:
    """The default rubric in the viewer's language, as it would be created."""
    return RubricView(
        None,
        tuple(
            CriterionView(
                key=f"{NEW_PREFIX}{position}",
                id=None,
                position=position,
                name=str(default.name),
                description=str(default.description),
                levels=tuple(
                    LevelView(score, str(text))
                    for score, text in zip(NEW_LEVELS, default.levels, strict=True)
                ),
            )
            for position, default in enumerate(DEFAULT_RUBRIC)
        ),
    )


def _criteria_rows(rubric_id: int) -> list[RubricCriterion]:
    return list(
        db.session.scalars(
            sa.select(RubricCriterion)
            .where(RubricCriterion.rubric_id == rubric_id)
            .order_by(RubricCriterion.position, RubricCriterion.id)
        )
    )


def _levels_of(criterion_ids: Sequence[int]) -> dict[int, list[RubricLevel]]:
    found: dict[int, list[RubricLevel]] = {criterion_id: [] for criterion_id in criterion_ids}
    if criterion_ids:
        rows = db.session.scalars(
            sa.select(RubricLevel)
            .where(RubricLevel.criterion_id.in_(criterion_ids))
            .order_by(RubricLevel.criterion_id, RubricLevel.score)
        )
        for level in rows:
            found[level.criterion_id].append(level)
    return found


def rubric_view(cohort_id: int) -> RubricView:
    """The cohort's rubric with its criteria and levels (three queries), or the default."""
    rubric = rubric_of(cohort_id)
    if rubric is None:
        return default_view()
    criteria = _criteria_rows(rubric.id)
    levels = _levels_of([c.id for c in criteria])
    return RubricView(
        rubric,
        tuple(
            CriterionView(
                key=str(criterion.id),
                id=criterion.id,
                position=criterion.position,
                name=criterion.name,
                description=criterion.description,
                levels=tuple(LevelView(lv.score, lv.descriptor) for lv in levels[criterion.id]),
            )
            for criterion in criteria
        ),
    )


def scored_criteria(cohort_id: int) -> set[int]:
    """Ids of the criteria that at least one submitted review of the cohort scored (one
    query; the scores are JSON, read here rather than with dialect-specific operators)."""
    rows = db.session.scalars(
        sa.select(Review.scores)
        .join(ReviewAssignment, ReviewAssignment.id == Review.assignment_id)
        .join(CapstoneVersion, CapstoneVersion.id == ReviewAssignment.version_id)
        .join(Capstone, Capstone.id == CapstoneVersion.capstone_id)
        .where(Capstone.cohort_id == cohort_id, Review.submitted_at.is_not(None))
    )
    found: set[int] = set()
    for scores in rows:
        for key, value in (scores or {}).items():
            if value is not None and str(key).isdigit():
                found.add(int(key))
    return found


# Creating ---------------------------------------------------------------------------------


def ensure_rubric(cohort: Cohort) -> Rubric:
    """The cohort's rubric, created from `DEFAULT_RUBRIC` when it has none - in the program's
    default language, not in the language of whoever happens to save first (staff edit the
    wording). For POST handlers and services only: a page view never creates it."""
    rubric = rubric_of(cohort.id)
    if rubric is not None:
        return rubric
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _create_default_rubric(cohort)


def _create_default_rubric(cohort: Cohort) -> Rubric:
    rubric = Rubric(cohort_id=cohort.id)
    db.session.add(rubric)
    db.session.flush()
    for position, default in enumerate(DEFAULT_RUBRIC):
        criterion = RubricCriterion(
            rubric_id=rubric.id,
            position=position,
            name=str(default.name),
            description=str(default.description),
        )
        db.session.add(criterion)
        db.session.flush()
        for score, text in zip(NEW_LEVELS, default.levels, strict=True):
            db.session.add(
                RubricLevel(criterion_id=criterion.id, score=score, descriptor=str(text))
            )
    db.session.flush()
    return rubric


def resolve_keys(created: bool, criteria: Sequence[RubricCriterion]) -> dict[str, int]:
    """{form key: criterion id}: ids as themselves, and - when the default rubric was created
    by this very request - "new<position>" for the criterion at that position."""
    keys = {str(criterion.id): criterion.id for criterion in criteria}
    if created:
        for criterion in criteria:
            keys[f"{NEW_PREFIX}{criterion.position}"] = criterion.id
    return keys


# Changing ---------------------------------------------------------------------------------


@dataclass
class CriterionData:
    """What the form says about one criterion; `levels` maps a score to its descriptor."""

    key: str
    name: str
    description: str = ""
    levels: dict[int, str] = field(default_factory=dict)


@dataclass
class RubricChange:
    """One save of the rubric page: text edits of existing criteria, perhaps a new criterion,
    and at most one move or removal (`move` is (key, "up"|"down"))."""

    edits: list[CriterionData] = field(default_factory=list)
    new: CriterionData | None = None
    move: tuple[str, str] | None = None
    remove: str | None = None


def _field(data: CriterionData, part: str, score: int | None = None) -> str:
    """The form field of a part of a criterion: `name_12`, `level_12_3`; `new_name`,
    `new_level_3` for the criterion being added (key "new")."""
    if data.key == "new":
        return f"new_{part}" if score is None else f"new_{part}_{score}"
    return f"{part}_{data.key}" if score is None else f"{part}_{data.key}_{score}"


def _check_text(data: CriterionData) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    name = data.name.strip()
    if not name:
        message = NEW_NAME_NEEDED if data.key == "new" else NAME_NEEDED
        problems.append((_field(data, "name"), str(message)))
    elif len(name) > MAX_NAME:
        problems.append((_field(data, "name"), str(NAME_TOO_LONG)))
    if len(data.description.strip()) > MAX_DESCRIPTION:
        problems.append((_field(data, "description"), str(DESCRIPTION_TOO_LONG)))
    for score, text in sorted(data.levels.items()):
        if not text.strip():
            problems.append((_field(data, "level", score), str(DESCRIPTOR_NEEDED)))
        elif len(text.strip()) > MAX_DESCRIPTOR:
            problems.append((_field(data, "level", score), str(DESCRIPTOR_TOO_LONG)))
    return problems


def check_change(
    edits: Sequence[CriterionData], new: CriterionData | None, others: Iterable[str]
) -> None:
    """Field-by-field rules of a save (raises RubricError listing every problem). `others`
    are the names of the criteria the save keeps without editing them."""
    problems: list[tuple[str | None, str]] = []
    seen = {name.strip().casefold() for name in others}
    for data in [*edits, *([new] if new is not None else [])]:
        found = _check_text(data)
        problems += found
        folded = data.name.strip().casefold()
        if folded in seen and not any(f == _field(data, "name") for f, _m in found):
            problems.append((_field(data, "name"), str(NAME_TAKEN)))
        seen.add(folded)
    if problems:
        first, *more = problems
        raise RubricError(first[0], first[1], more)


def _renumber(rows: Sequence[RubricCriterion]) -> None:
    for position, row in enumerate(rows):
        if row.position != position:
            db.session.execute(
                sa.update(RubricCriterion)
                .where(RubricCriterion.id == row.id)
                .values(position=position),
                execution_options={"synchronize_session": False},
            )
            set_committed_value(row, "position", position)


def _apply_edit(criterion: RubricCriterion, levels: list[RubricLevel], data: CriterionData) -> bool:
    changed = False
    name, description = data.name.strip(), data.description.strip()
    if criterion.name != name or criterion.description != description:
        criterion.name, criterion.description = name, description
        changed = True
    for level in levels:
        text = data.levels.get(level.score)
        if text is not None and level.descriptor != text.strip():
            level.descriptor = text.strip()
            changed = True
    return changed


def change_rubric(
    actor: User, cohort: Cohort, change: RubricChange, expected_version: int | None
) -> tuple[Rubric, list[str]]:
    """Apply one save of the rubric page, opened at `expected_version` (None: the page showed
    the default, not yet created). Returns the rubric and what changed ("created", "edited",
    "added", "moved", "removed"; empty when nothing did). Raises StaleRubric when someone
    changed the rubric since, RubricError for bad input, CriterionScored for a removal a
    submitted review forbids."""
    rubric = rubric_of(cohort.id)
    created = rubric is None
    if created:
        if expected_version is not None:
            raise StaleRubric(None, str(STALE_RUBRIC))
    elif expected_version != rubric.version:  # type: ignore[union-attr]
        raise StaleRubric(None, str(STALE_RUBRIC))
    rubric = ensure_rubric(cohort)
    criteria = _criteria_rows(rubric.id)
    keys = resolve_keys(created, criteria)
    by_id = {criterion.id: criterion for criterion in criteria}
    edits = [data for data in change.edits if data.key in keys]
    edited_ids = {keys[data.key] for data in edits}
    removing = keys.get(change.remove) if change.remove is not None else None
    check_change(
        edits,
        change.new,
        [c.name for c in criteria if c.id not in edited_ids and c.id != removing],
    )

    done: list[str] = ["created"] if created else []
    details: dict[str, Any] = {"cohort_id": cohort.id}
    levels = _levels_of(list(by_id))
    edited = [
        keys[data.key]
        for data in edits
        if _apply_edit(by_id[keys[data.key]], levels[keys[data.key]], data)
    ]
    if edited:
        done.append("edited")
        details["edited"] = edited

    if change.new is not None:
        criterion = RubricCriterion(
            rubric_id=rubric.id,
            position=len(criteria),
            name=change.new.name.strip(),
            description=change.new.description.strip(),
        )
        db.session.add(criterion)
        db.session.flush()
        for score in NEW_LEVELS:
            text = change.new.levels.get(score, "").strip()
            db.session.add(RubricLevel(criterion_id=criterion.id, score=score, descriptor=text))
        criteria.append(criterion)
        done.append("added")
        details["added"] = {"id": criterion.id, "name": criterion.name}

    if change.move is not None:
        key, direction = change.move
        moving = keys.get(key)
        if moving is None or moving not in by_id:
            raise RubricError(None, str(GONE_CRITERION))
        index = next(i for i, c in enumerate(criteria) if c.id == moving)
        other = index - 1 if direction == UP else index + 1
        if direction in (UP, DOWN) and 0 <= other < len(criteria):
            criteria[index], criteria[other] = criteria[other], criteria[index]
            _renumber(criteria)
            done.append("moved")
            details["moved"] = {"id": moving, "direction": direction, "position": other}

    if change.remove is not None:
        if removing is None or removing not in by_id:
            raise RubricError(None, str(GONE_CRITERION))
        criterion = by_id[removing]
        if removing in scored_criteria(cohort.id):
            raise CriterionScored(
                None,
                _(
                    "“%(name)s” cannot be removed: submitted reviews have scored it. You can "
                    "still change its name and descriptions.",
                    name=criterion.name,
                ),
            )
        if len(criteria) <= 1:
            raise RubricError(None, str(LAST_CRITERION))
        details["removed"] = {"id": criterion.id, "name": criterion.name}
        db.session.delete(criterion)
        db.session.flush()
        criteria = [c for c in criteria if c.id != removing]
        _renumber(criteria)
        done.append("removed")

    if not done:
        return rubric, done
    rubric.updated_at = utcnow()  # always an UPDATE, so the version moves on
    try:
        db.session.flush()
    except StaleDataError as error:  # a save committed between our read and our write
        raise StaleRubric(None, str(STALE_RUBRIC)) from error
    details["changes"] = done
    audit.record(actor, "rubric_changed", rubric, details=details)
    return rubric, done
