"""A fellow's capstone: starting it, the working draft of the next version (text and
files), submitting it, publishing it to the practice library, and the graduate's outcome.

Who may do these things is `policy`'s (asked by the views); these services keep the rules of
the work itself. They flush, audit and never commit.

Versions: the fellow writes in a working draft (`submitted_at` None), made by
`working_draft()` the first time they save or attach a file, numbered after the last
version and copying its narrative and files. Submitting stamps `submitted_at` once; a
submitted version is never changed again (no service here writes one), so earlier versions
and their reviews stay as they were read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from fellowship import audit, uploads
from fellowship.auth.models import User
from fellowship.capstones import queries
from fellowship.capstones.models import (
    Capstone,
    CapstoneStatus,
    CapstoneVersion,
    CapstoneVersionFile,
    GraduateOutcome,
    OutcomeKind,
    SchoolLevel,
    Stage,
)
from fellowship.cohorts.models import Cohort, CohortMembership
from fellowship.curriculum.services import url_problem
from fellowship.db import db, utcnow

MAX_TITLE = 200
MAX_SUMMARY = 2_000
MAX_TEXT = 20_000  # the problem, the community
MAX_NARRATIVE = 100_000
MAX_TOPICS = 300
MAX_FILES = 20
MAX_NAME = 200  # a school's name, a role's title
MAX_NOTE = 5_000
MAX_URL = 2_000

# After the proposal is approved, every new version is a final.
FINAL_STATUSES = {
    CapstoneStatus.PROPOSAL_APPROVED,
    CapstoneStatus.FINAL_SUBMITTED,
    CapstoneStatus.FINAL_REVISIONS,
    CapstoneStatus.APPROVED,
}

TITLE_NEEDED = _l("Enter a title for your capstone.")
TITLE_TOO_LONG = _l("Keep the title to 200 characters or fewer.")
SUMMARY_TOO_LONG = _l("Keep the summary to 2,000 characters or fewer.")
TEXT_TOO_LONG = _l("Keep this to 20,000 characters or fewer.")
NARRATIVE_TOO_LONG = _l("Keep the narrative to 100,000 characters or fewer.")
TOPICS_TOO_LONG = _l("Keep the topics to 300 characters or fewer, commas included.")
STRAND_UNKNOWN = _l("Choose one of this cohort's strands, or none.")
LEVEL_UNKNOWN = _l("Choose one of the school levels listed, or none.")
ALREADY_STARTED = _l("You already have a capstone in this cohort; here it is.")
STALE_CAPSTONE = _l(
    "Your capstone was saved in another tab or window after you opened this page, so your "
    "changes were not saved. The form below still has what you typed, and the saved "
    "capstone is shown above it. Save again to replace it with yours."
)
NARRATIVE_NEEDED = _l("Write the narrative before submitting: it cannot be empty.")
TITLE_NEEDED_TO_SUBMIT = _l("Give your capstone a title before submitting it.")
NOTHING_TO_SUBMIT = _l(
    "There is no new version to submit yet. Edit your capstone to write version %(number)d, "
    "then submit it."
)
ALREADY_SUBMITTED = _l(
    "This version has already been submitted (perhaps from another tab, or by a second "
    "click), so it was not submitted again."
)
CONFIRM_AGAIN = _l("Look at what will be submitted and confirm again.")
TOO_MANY_FILES = _l(
    "A version can have at most 20 files. Remove a file you no longer need before adding another."
)
DUPLICATE_FILE = _l("This file is already attached as “%(name)s”.")
FILE_SAVE_FAILED = _l("The file could not be saved just now. Please try again.")
SUBMITTED_FILE = _l(
    "This file belongs to a submitted version, which cannot be changed. Files can be "
    "removed from your working draft only."
)
FILE_GONE = _l("This file was already removed.")
NOT_APPROVED = _l("Only an approved final capstone can be published to the library.")
CONSENT_NEEDED = _l("Tick the box to agree to publish your capstone in the practice library.")
CHOOSE_LISTED_FILES = _l("Choose files among those of your approved final version.")
NOT_PUBLISHED = _l("Your capstone is not in the library, so there is nothing to withdraw.")
KIND_NEEDED = _l("Choose what you did after the program.")
SCHOOL_NAME_NEEDED = _l("Enter the name of the school.")
NAME_TOO_LONG = _l("Keep this to 200 characters or fewer.")
DIVERSE_NEEDED = _l("Say whether the school is diverse by design.")
ROLE_NEEDED = _l("Enter the title of the role.")
NOTE_TOO_LONG = _l("Keep the note to 5,000 characters or fewer.")
STALE_OUTCOME = _l(
    "This outcome was saved by someone else after you opened the form, so your changes "
    "were not saved. The form still has what you typed, and the saved outcome is shown "
    "above it. Save again to replace it with yours."
)


class CapstoneError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleEdit(CapstoneError):
    """The record was saved elsewhere after the form was opened."""


class AlreadyStarted(CapstoneError):
    """The fellow already has a capstone in the cohort (`capstone`)."""

    def __init__(self, capstone: Capstone) -> None:
        super().__init__(None, str(ALREADY_STARTED))
        self.capstone = capstone


class AlreadySubmitted(CapstoneError):
    """The version the fellow confirmed was submitted already (two tabs, a double click)."""

    def __init__(self) -> None:
        super().__init__(None, str(ALREADY_SUBMITTED))


# Details -----------------------------------------------------------------------------------


@dataclass
class CapstoneData:
    title: str
    summary: str = ""
    problem_md: str = ""
    community_md: str = ""
    strand_id: int | None = None
    school_level: str | None = None
    topics: str = ""


def normalise_topics(text: str | None) -> str:
    """Topics as stored: each trimmed to single spaces, blanks dropped, each once whatever
    its case (the first spelling kept), joined by ", "
    ("Enrollment ,  family  engagement,,enrollment" → "Enrollment, family engagement")."""
    seen: dict[str, str] = {}
    for part in (text or "").split(","):
        topic = " ".join(part.split())
        if topic:
            seen.setdefault(topic.casefold(), topic)
    return ", ".join(seen.values())


def topics_problem(text: str | None) -> str | None:
    if len(normalise_topics(text)) > MAX_TOPICS:
        return str(TOPICS_TOO_LONG)
    return None


def _check_length(field: str, value: str | None, limit: int, message: Any) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise CapstoneError(field, str(message))
    return value


def check_details(cohort: Cohort, data: CapstoneData) -> CapstoneData:
    """The details cleaned, or CapstoneError for the first field in error."""
    title = " ".join((data.title or "").split())
    if not title:
        raise CapstoneError("title", str(TITLE_NEEDED))
    if len(title) > MAX_TITLE:
        raise CapstoneError("title", str(TITLE_TOO_LONG))
    if data.strand_id is not None and data.strand_id not in {s.id for s in cohort.strands}:
        raise CapstoneError("strand", str(STRAND_UNKNOWN))
    level = data.school_level or None
    if level is not None and level not in {choice.value for choice in SchoolLevel}:
        raise CapstoneError("school_level", str(LEVEL_UNKNOWN))
    problem = topics_problem(data.topics)
    if problem:
        raise CapstoneError("topics", problem)
    return CapstoneData(
        title=title,
        summary=_check_length("summary", data.summary, MAX_SUMMARY, SUMMARY_TOO_LONG),
        problem_md=_check_length("problem_md", data.problem_md, MAX_TEXT, TEXT_TOO_LONG),
        community_md=_check_length("community_md", data.community_md, MAX_TEXT, TEXT_TOO_LONG),
        strand_id=data.strand_id,
        school_level=level,
        topics=normalise_topics(data.topics),
    )


def _apply(capstone: Capstone, data: CapstoneData) -> None:
    capstone.title = data.title
    capstone.summary = data.summary
    capstone.problem_md = data.problem_md
    capstone.community_md = data.community_md
    capstone.strand_id = data.strand_id
    capstone.school_level = SchoolLevel(data.school_level) if data.school_level else None
    capstone.topics = data.topics


def start_capstone(fellow: User, cohort: Cohort, data: CapstoneData) -> Capstone:
    """The fellow's capstone in the cohort, as a draft. AlreadyStarted when they have one
    (two starts racing meet the unique constraint: the app answers the second with 409)."""
    existing = queries.capstone_for(cohort.id, fellow.id)
    if existing is not None:
        raise AlreadyStarted(existing)
    cleaned = check_details(cohort, data)
    capstone = Capstone(
        cohort_id=cohort.id,
        fellow_id=fellow.id,
        status=CapstoneStatus.DRAFT,
        status_changed_at=utcnow(),
    )
    _apply(capstone, cleaned)
    db.session.add(capstone)
    db.session.flush()
    return capstone


def check_narrative(text: str | None) -> str:
    value = (text or "").strip()
    if len(value) > MAX_NARRATIVE:
        raise CapstoneError("narrative", str(NARRATIVE_TOO_LONG))
    return value


def update_capstone(
    fellow: User,
    capstone: Capstone,
    data: CapstoneData,
    narrative: str,
    *,
    version: int | None,
) -> CapstoneVersion:
    """Save the details and the working draft's narrative from a form opened at `version`
    of the capstone; StaleEdit when it was saved since. Returns the working draft."""
    if version != capstone.version:
        raise StaleEdit(None, str(STALE_CAPSTONE))
    cohort = db.session.get(Cohort, capstone.cohort_id)
    assert cohort is not None
    cleaned = check_details(cohort, data)
    text = check_narrative(narrative)
    _apply(capstone, cleaned)
    capstone.updated_at = utcnow()  # always an UPDATE, so the lock moves on
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None, str(STALE_CAPSTONE)) from error
    draft = working_draft(capstone)
    draft.narrative_md = text
    draft.updated_at = utcnow()
    _flush_draft()
    return draft


def _flush_draft() -> None:
    """Flush a change to the working draft; a draft another tab (or a submission) changed
    meanwhile is a StaleEdit, never a server error."""
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None, str(STALE_CAPSTONE)) from error


# The working draft ---------------------------------------------------------------------------


def next_stage(capstone: Capstone) -> Stage:
    """A proposal until the proposal is approved, then a final."""
    return Stage.FINAL if capstone.status in FINAL_STATUSES else Stage.PROPOSAL


def working_draft(capstone: Capstone) -> CapstoneVersion:
    """The draft of the next submission, made when missing: numbered after the last
    version, with the narrative and files (the same stored files, new links) of the latest
    submitted version. Two tabs making it at once meet the unique version number (409)."""
    draft = queries.draft_of(capstone.id)
    if draft is not None:
        return draft
    last_number = db.session.scalar(
        sa.select(sa.func.max(CapstoneVersion.number)).where(
            CapstoneVersion.capstone_id == capstone.id
        )
    )
    previous = queries.latest_submitted(capstone.id)
    draft = CapstoneVersion(
        capstone_id=capstone.id,
        number=int(last_number or 0) + 1,
        stage=next_stage(capstone),
        narrative_md=previous.narrative_md if previous is not None else "",
        submitted_at=None,
    )
    db.session.add(draft)
    db.session.flush()
    if previous is not None:
        for attached in queries.files_of([previous.id])[previous.id]:
            db.session.add(
                CapstoneVersionFile(
                    version_id=draft.id,
                    stored_file_id=attached.link.stored_file_id,
                    position=attached.link.position,
                )
            )
        db.session.flush()
    return draft


def add_file(fellow: User, capstone: Capstone, upload: FileStorage) -> CapstoneVersionFile:
    """Attach an upload to the working draft (made if needed). UploadRefused when the file
    is not accepted; nothing is kept then (the view rolls back, the bytes go with it)."""
    draft = working_draft(capstone)
    attached = queries.files_of([draft.id])[draft.id]
    if len(attached) >= MAX_FILES:
        raise CapstoneError("file", str(TOO_MANY_FILES))
    try:
        stored = uploads.store_file(upload, fellow.id, uploads.DOCUMENTS_AND_IMAGES)
    except OSError as error:  # the disk is full or the store unwritable: say so, keep the form
        raise CapstoneError("file", str(FILE_SAVE_FAILED)) from error
    twin = next((a for a in attached if a.stored.sha256 == stored.sha256), None)
    if twin is not None:
        raise CapstoneError("file", str(DUPLICATE_FILE) % {"name": twin.stored.original_name})
    link = CapstoneVersionFile(
        version_id=draft.id,
        stored_file_id=stored.id,
        position=max((a.link.position for a in attached), default=-1) + 1,
    )
    db.session.add(link)
    draft.updated_at = utcnow()
    _flush_draft()
    return link


def remove_file(fellow: User, capstone: Capstone, link: CapstoneVersionFile) -> str:
    """Take a file off the working draft; returns its name.

    `link` may be a file of the draft, or of the latest submitted version while no draft
    exists yet: the draft is then made (with its copy of every file) and the copy taken off.
    A submitted version keeps its files whatever happens here.
    """
    version = db.session.get(CapstoneVersion, link.version_id)
    if version is None or version.capstone_id != capstone.id:
        raise CapstoneError(None, str(FILE_GONE))
    if version.submitted_at is not None:
        latest = queries.latest_submitted(capstone.id)
        has_draft = queries.draft_of(capstone.id) is not None
        if has_draft or latest is None or latest.id != version.id:
            raise CapstoneError(None, str(SUBMITTED_FILE))
        draft = working_draft(capstone)
        copy = db.session.scalar(
            sa.select(CapstoneVersionFile).where(
                CapstoneVersionFile.version_id == draft.id,
                CapstoneVersionFile.stored_file_id == link.stored_file_id,
            )
        )
        if copy is None:
            raise CapstoneError(None, str(FILE_GONE))
        link, version = copy, draft
    stored = db.session.get(uploads.StoredFile, link.stored_file_id)
    name = stored.original_name if stored is not None else ""
    stored_id = link.stored_file_id
    db.session.delete(link)
    version.updated_at = utcnow()
    _flush_draft()
    _forget_unused_file(stored_id)
    return name


def _forget_unused_file(stored_file_id: int) -> None:
    """Delete the stored file's row when no version uses it any more (a file carried over
    from a submitted version is still that version's). `flask uploads sweep` then removes
    the bytes."""
    used = db.session.scalar(
        sa.select(sa.func.count(CapstoneVersionFile.id)).where(
            CapstoneVersionFile.stored_file_id == stored_file_id
        )
    )
    if used:
        return
    stored = db.session.get(uploads.StoredFile, stored_file_id)
    if stored is not None:
        db.session.delete(stored)
        db.session.flush()


# Submitting ------------------------------------------------------------------------------------


def _locked_capstone(capstone: Capstone) -> Capstone:
    """The capstone row again, locked until commit (PostgreSQL) and read fresh: a second
    submission waits for the first and then sees it."""
    locked = db.session.scalar(
        sa.select(Capstone)
        .where(Capstone.id == capstone.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert locked is not None
    return locked


def submission_problems(capstone: Capstone, draft: CapstoneVersion | None) -> list[str]:
    """Why the draft cannot be submitted yet (for the confirm page); empty when it can."""
    problems = []
    if draft is None:
        last = queries.latest_submitted(capstone.id)
        number = (last.number + 1) if last is not None else 1
        return [str(NOTHING_TO_SUBMIT) % {"number": number}]
    if not (capstone.title or "").strip():
        problems.append(str(TITLE_NEEDED_TO_SUBMIT))
    if not (draft.narrative_md or "").strip():
        problems.append(str(NARRATIVE_NEEDED))
    return problems


def already_submitted(capstone: Capstone, version_id: int | None) -> bool:
    """Whether `version_id` is a version of the capstone that has been submitted."""
    if version_id is None:
        return False
    row = db.session.execute(
        sa.select(CapstoneVersion.capstone_id, CapstoneVersion.submitted_at).where(
            CapstoneVersion.id == version_id
        )
    ).first()
    return row is not None and row.capstone_id == capstone.id and row.submitted_at is not None


def submit_capstone(fellow: User, capstone: Capstone, draft_id: int | None) -> CapstoneVersion:
    """Submit the working draft the fellow confirmed (`draft_id`): it becomes version N for
    good, and the capstone waits for the reviewers (proposal_submitted or final_submitted).

    AlreadySubmitted when that version was submitted meanwhile (a double click, two tabs).
    """
    capstone = _locked_capstone(capstone)
    draft = db.session.scalar(
        sa.select(CapstoneVersion)
        .where(CapstoneVersion.capstone_id == capstone.id, CapstoneVersion.submitted_at.is_(None))
        .execution_options(populate_existing=True)
    )
    if draft is None or draft.id != draft_id:
        if already_submitted(capstone, draft_id):
            raise AlreadySubmitted()
        if draft is None:
            raise CapstoneError(None, submission_problems(capstone, None)[0])
        raise CapstoneError(None, str(CONFIRM_AGAIN))
    problems = submission_problems(capstone, draft)
    if problems:
        field = "narrative" if str(NARRATIVE_NEEDED) in problems else "title"
        raise CapstoneError(field, problems[0])
    now = utcnow()
    draft.stage = next_stage(capstone)
    draft.summary = capstone.summary
    draft.problem_md = capstone.problem_md
    draft.community_md = capstone.community_md
    draft.submitted_at = now
    capstone.status = (
        CapstoneStatus.FINAL_SUBMITTED
        if draft.stage == Stage.FINAL
        else CapstoneStatus.PROPOSAL_SUBMITTED
    )
    capstone.status_changed_at = now
    try:
        db.session.flush()
    except StaleDataError as error:
        raise AlreadySubmitted() from error
    audit.record(
        fellow,
        "capstone_submitted",
        capstone,
        details={
            "cohort_id": capstone.cohort_id,
            "version_id": draft.id,
            "number": draft.number,
            "stage": draft.stage.value,
            "files": queries.file_count(draft.id),
        },
    )
    return draft


# The practice library ------------------------------------------------------------------------


def publish_capstone(
    fellow: User, capstone: Capstone, file_ids: list[int], consent: bool
) -> Capstone:
    """Publish (or, when published, update the chosen files of) the approved capstone in the
    practice library, with the fellow's consent. `file_ids` are link ids of the approved
    final version's files to include."""
    if capstone.status != CapstoneStatus.APPROVED:
        raise CapstoneError(None, str(NOT_APPROVED))
    final = queries.approved_final(capstone.id)
    if final is None:
        raise CapstoneError(None, str(NOT_APPROVED))
    if not consent:
        raise CapstoneError("consent", str(CONSENT_NEEDED))
    links = {a.link.id: a.link for a in queries.files_of([final.id])[final.id]}
    chosen = set(file_ids)
    if not chosen <= set(links):
        raise CapstoneError("files", str(CHOOSE_LISTED_FILES))
    for link_id, link in links.items():
        link.in_library = link_id in chosen
    now = utcnow()
    first = capstone.published_at is None
    capstone.consent_at = now
    if first:
        capstone.published_at = now
    capstone.updated_at = now
    db.session.flush()
    audit.record(
        fellow,
        "capstone_published",
        capstone,
        details={
            "cohort_id": capstone.cohort_id,
            "version_id": final.id,
            "files": sorted(chosen),
            "first_publication": first,
        },
    )
    return capstone


def withdraw_capstone(actor: User, capstone: Capstone) -> Capstone:
    """Withdraw consent: the capstone leaves the library at once. The file choices are kept
    for a later publication; nothing is shown without `published_at`."""
    if capstone.published_at is None and capstone.consent_at is None:
        raise CapstoneError(None, str(NOT_PUBLISHED))
    published_at = capstone.published_at
    capstone.published_at = None
    capstone.consent_at = None
    capstone.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "capstone_withdrawn",
        capstone,
        details={
            "cohort_id": capstone.cohort_id,
            "published_at": published_at.isoformat() if published_at else None,
        },
    )
    return capstone


# Outcomes --------------------------------------------------------------------------------------


@dataclass
class OutcomeData:
    kind: str | None
    school_name: str = ""
    opened_on: date | None = None
    diverse_by_design: bool | None = None
    role_title: str = ""
    url: str = ""
    note: str = ""


def outcome_problems(data: OutcomeData) -> list[tuple[str, str]]:
    """(field, message) for every rule the outcome breaks; empty when it is fine."""
    problems: list[tuple[str, str]] = []
    kinds = {kind.value for kind in OutcomeKind}
    if data.kind not in kinds:
        return [("kind", str(KIND_NEEDED))]
    if data.kind == OutcomeKind.LAUNCHED_SCHOOL:
        name = (data.school_name or "").strip()
        if not name:
            problems.append(("school_name", str(SCHOOL_NAME_NEEDED)))
        elif len(name) > MAX_NAME:
            problems.append(("school_name", str(NAME_TOO_LONG)))
        if data.diverse_by_design is None:
            problems.append(("diverse_by_design", str(DIVERSE_NEEDED)))
        url = (data.url or "").strip()
        if url:
            problem = url_problem(url)
            if problem:
                problems.append(("url", problem))
    if data.kind == OutcomeKind.LEADERSHIP_ROLE:
        role = (data.role_title or "").strip()
        if not role:
            problems.append(("role_title", str(ROLE_NEEDED)))
        elif len(role) > MAX_NAME:
            problems.append(("role_title", str(NAME_TOO_LONG)))
    if len((data.note or "").strip()) > MAX_NOTE:
        problems.append(("note", str(NOTE_TOO_LONG)))
    return problems


def outcome_token(outcome: GraduateOutcome | None) -> str:
    """What the outcome form carries to notice a save made meanwhile ("" for none yet)."""
    if outcome is None:
        return ""
    return f"{outcome.id}:{outcome.updated_at.isoformat()}"


def record_outcome(
    actor: User, cohort: Cohort, fellow: User, data: OutcomeData, *, token: str | None
) -> GraduateOutcome:
    """Record (or correct) what the graduate did after the program: one row per fellow per
    cohort. `token` is `outcome_token()` of the outcome the form was opened on; a different
    one now means someone saved meanwhile (StaleEdit)."""
    problems = outcome_problems(data)
    if problems:
        raise CapstoneError(*problems[0])
    # Hold the fellow's membership row until commit (PostgreSQL), so two first saves take
    # turns and the second finds the first's row instead of adding another.
    db.session.execute(
        sa.select(CohortMembership.id)
        .where(CohortMembership.cohort_id == cohort.id, CohortMembership.user_id == fellow.id)
        .with_for_update()
    )
    outcome = db.session.scalar(
        sa.select(GraduateOutcome)
        .where(GraduateOutcome.cohort_id == cohort.id, GraduateOutcome.fellow_id == fellow.id)
        .order_by(GraduateOutcome.id)
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if (token or "") != outcome_token(outcome):
        raise StaleEdit(None, str(STALE_OUTCOME))
    created = outcome is None
    if outcome is None:
        outcome = GraduateOutcome(cohort_id=cohort.id, fellow_id=fellow.id)
        db.session.add(outcome)
    kind = OutcomeKind(str(data.kind))
    school = kind == OutcomeKind.LAUNCHED_SCHOOL
    outcome.kind = kind
    outcome.school_name = (data.school_name or "").strip() if school else ""
    outcome.opened_on = data.opened_on if school else None
    outcome.diverse_by_design = data.diverse_by_design if school else None
    outcome.url = ((data.url or "").strip() or None) if school else None
    outcome.role_title = (
        (data.role_title or "").strip() if kind == OutcomeKind.LEADERSHIP_ROLE else ""
    )
    outcome.note = (data.note or "").strip()
    outcome.recorded_by_id = actor.id
    outcome.updated_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "outcome_recorded",
        outcome,
        details={
            "cohort_id": cohort.id,
            "fellow_id": fellow.id,
            "kind": kind.value,
            "diverse_by_design": outcome.diverse_by_design,
            "first": created,
        },
    )
    return outcome
