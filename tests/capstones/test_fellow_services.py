"""The fellow's capstone rules: starting one, the details, the working draft of the next
version, files on it, and submitting."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship.audit import AuditEvent
from fellowship.capstones import queries
from fellowship.capstones import services as capstones
from fellowship.capstones.models import (
    Capstone,
    CapstoneStatus,
    CapstoneVersion,
    CapstoneVersionFile,
    Recommendation,
    SchoolLevel,
    Stage,
)
from fellowship.db import commit
from fellowship.extensions import db
from fellowship.uploads import StoredFile
from tests.capstones.test_fellow_helpers import (
    attach,
    capstone,
    decide,
    files_of,
    revisions_world,
    stored_file,
    version,
    versions_of,
    world,
)
from tests.conftest import rows_for_module
from tests.factories import CohortFactory

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


def details(**overrides: object) -> capstones.CapstoneData:
    values: dict[str, object] = {
        "title": "A school for everyone",
        "summary": "A K-8 school designed to be diverse from its first day.",
        "problem_md": "Segregated schools.",
        "community_md": "The east side.",
        "topics": "enrollment, family engagement",
    }
    values.update(overrides)
    return capstones.CapstoneData(**values)  # type: ignore[arg-type]


# Topics and details -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("enrollment, family engagement", "enrollment, family engagement"),
        ("  Enrollment ,  family   engagement ,, ", "Enrollment, family engagement"),
        ("enrollment, Enrollment, ENROLLMENT", "enrollment"),
        ("Title I, transportation\t,busing", "Title I, transportation, busing"),
        (",,, ,", ""),
        ("", ""),
    ],
)
def test_topics_are_stored_trimmed_once_each_and_joined_by_commas(typed, stored):
    assert capstones.normalise_topics(typed) == stored


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "   "}, "title", "Enter a title for your capstone."),
        ({"title": "x" * 201}, "title", "Keep the title to 200 characters or fewer."),
        ({"summary": "x" * 2001}, "summary", "Keep the summary to 2,000 characters or fewer."),
        ({"problem_md": "x" * 20_001}, "problem_md", "Keep this to 20,000 characters or fewer."),
        ({"community_md": "x" * 20_001}, "community_md", "Keep this to 20,000"),
        ({"school_level": "college"}, "school_level", "Choose one of the school levels"),
        ({"topics": "a" * 301}, "topics", "Keep the topics to 300 characters"),
        ({"topics": ", ".join(["equity"] * 100) + ", " + "b" * 299}, "topics", "300 characters"),
    ],
)
def test_bad_details_are_refused_field_by_field(w, ctx, overrides, field, message):
    with pytest.raises(capstones.CapstoneError) as refused:
        capstones.start_capstone(w.fellow, w.cohort, details(**overrides))
    assert refused.value.field == field
    assert message in refused.value.message


def test_a_strand_of_another_cohort_is_refused(w, ctx):
    elsewhere = CohortFactory()
    with pytest.raises(capstones.CapstoneError) as refused:
        capstones.start_capstone(w.fellow, w.cohort, details(strand_id=elsewhere.strands[0].id))
    assert refused.value.field == "strand"


def test_topics_that_repeat_are_stored_once_so_they_fit(w, ctx):
    started = capstones.start_capstone(
        w.fellow, w.cohort, details(topics=", ".join(["equity"] * 100))
    )
    assert started.topics == "equity"


# Starting --------------------------------------------------------------------------------


def test_starting_a_capstone_makes_a_draft_with_the_details_and_no_version(w, ctx):
    strand = w.cohort.strands[2]
    started = capstones.start_capstone(
        w.fellow,
        w.cohort,
        details(
            title="  A school   for everyone ",
            strand_id=strand.id,
            school_level="k8",
            topics="Enrollment,  family engagement,enrollment",
        ),
    )
    commit()
    db.session.expire_all()
    saved = db.session.get(Capstone, started.id)
    assert saved.title == "A school for everyone"
    assert saved.status == CapstoneStatus.DRAFT
    assert saved.status_changed_at is not None
    assert saved.strand_id == strand.id
    assert saved.school_level == SchoolLevel.K8
    assert saved.topics == "Enrollment, family engagement"
    assert saved.fellow_id == w.fellow.id
    assert versions_of(saved) == []


def test_a_second_start_in_the_same_cohort_gives_back_the_first(w, ctx):
    first = capstones.start_capstone(w.fellow, w.cohort, details())
    commit()
    with pytest.raises(capstones.AlreadyStarted) as again:
        capstones.start_capstone(w.fellow, w.cohort, details(title="Another"))
    assert again.value.capstone.id == first.id
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Capstone.id))) == 1


def test_the_same_fellow_starts_one_capstone_in_each_of_two_cohorts(w, ctx):
    other = CohortFactory()
    from tests.factories import MembershipFactory

    MembershipFactory(cohort=other, user=w.fellow)
    a = capstones.start_capstone(w.fellow, w.cohort, details())
    b = capstones.start_capstone(w.fellow, other, details())
    assert a.id != b.id


# The working draft ---------------------------------------------------------------------------


def test_the_first_working_draft_is_an_empty_proposal_number_one(w, ctx):
    cap = capstone(w)
    draft = capstones.working_draft(cap)
    assert (draft.number, draft.stage, draft.narrative_md, draft.submitted_at) == (
        1,
        Stage.PROPOSAL,
        "",
        None,
    )
    assert capstones.working_draft(cap).id == draft.id  # got, not made again


def test_a_revision_copies_the_narrative_and_links_the_same_stored_files(ctx, app: Flask):
    _w, cap, v1, link = revisions_world(app)
    second = attach(v1, stored_file(app, "budget.pdf"), position=1)
    draft = capstones.working_draft(cap)
    commit()
    assert (draft.number, draft.stage) == (2, Stage.PROPOSAL)
    assert draft.narrative_md == v1.narrative_md
    assert files_of(draft) == files_of(v1)
    links = db.session.scalars(
        sa.select(CapstoneVersionFile).where(CapstoneVersionFile.version_id == draft.id)
    ).all()
    assert {row.id for row in links}.isdisjoint({link.id, second.id})
    assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == 2


@pytest.mark.parametrize(
    ("status", "stage"),
    [
        (CapstoneStatus.DRAFT, Stage.PROPOSAL),
        (CapstoneStatus.PROPOSAL_REVISIONS, Stage.PROPOSAL),
        (CapstoneStatus.PROPOSAL_APPROVED, Stage.FINAL),
        (CapstoneStatus.FINAL_REVISIONS, Stage.FINAL),
    ],
)
def test_a_draft_is_a_proposal_until_the_proposal_is_approved(w, ctx, status, stage):
    cap = capstone(w, status)
    if status != CapstoneStatus.DRAFT:
        version(cap, 1)
    assert capstones.working_draft(cap).stage == stage


def test_saving_the_details_and_narrative_writes_the_draft_and_moves_the_lock(w, ctx):
    cap = capstone(w)
    before = cap.version
    draft = capstones.update_capstone(
        w.fellow,
        cap,
        details(title="Renamed", school_level="high"),
        "  ## Plan\n\nText.  ",
        version=before,
    )
    commit()
    db.session.expire_all()
    cap = db.session.get(Capstone, cap.id)
    assert cap.title == "Renamed"
    assert cap.school_level == SchoolLevel.HIGH
    assert cap.version == before + 1
    assert draft.narrative_md == "## Plan\n\nText."
    assert [v.number for v in versions_of(cap)] == [1]


def test_a_save_from_a_stale_form_changes_nothing(w, ctx):
    cap = capstone(w, title="Original")
    opened = cap.version
    capstones.update_capstone(w.fellow, cap, details(title="First tab"), "one", version=opened)
    commit()
    with pytest.raises(capstones.StaleEdit):
        capstones.update_capstone(w.fellow, cap, details(title="Second tab"), "two", version=opened)
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Capstone, cap.id).title == "First tab"
    assert versions_of(cap)[0].narrative_md == "one"


def test_a_narrative_over_100000_characters_is_refused(w, ctx):
    cap = capstone(w)
    with pytest.raises(capstones.CapstoneError) as refused:
        capstones.update_capstone(w.fellow, cap, details(), "x" * 100_001, version=cap.version)
    assert refused.value.field == "narrative"
    capstones.update_capstone(w.fellow, cap, details(), "x" * 100_000, version=cap.version)


# Files ------------------------------------------------------------------------------------


def test_removing_a_carried_over_file_keeps_it_in_the_submitted_version(ctx, app: Flask):
    w, cap, _v1, link = revisions_world(app)
    # No draft yet: removing version 1's file starts version 2 without it.
    name = capstones.remove_file(w.fellow, cap, link)
    commit()
    assert name == "plan.pdf"
    v1_again, draft = versions_of(cap)
    assert files_of(v1_again) == [(link.stored_file_id, "plan.pdf")]
    assert files_of(draft) == []
    assert db.session.get(StoredFile, link.stored_file_id) is not None


def test_a_file_of_an_older_version_cannot_be_removed(ctx, app: Flask):
    w, cap, _v1, link = revisions_world(app)
    capstones.working_draft(cap)
    commit()
    with pytest.raises(capstones.CapstoneError) as refused:
        capstones.remove_file(w.fellow, cap, link)
    assert "submitted version" in refused.value.message


def test_removing_a_file_only_the_draft_had_deletes_its_stored_row(w, ctx, app: Flask):
    cap = capstone(w)
    draft = capstones.working_draft(cap)
    stored = stored_file(app, "draft-only.pdf")
    link = attach(draft, stored)
    capstones.remove_file(w.fellow, cap, link)
    commit()
    assert db.session.get(StoredFile, stored.id) is None


# Submitting ------------------------------------------------------------------------------


def test_submitting_stamps_the_version_and_the_status_and_audits(w, ctx):
    cap = capstone(w)
    draft = capstones.update_capstone(w.fellow, cap, details(), "My plan.", version=cap.version)
    commit()
    submitted = capstones.submit_capstone(w.fellow, cap, draft.id)
    commit()
    db.session.expire_all()
    cap = db.session.get(Capstone, cap.id)
    assert submitted.submitted_at is not None
    assert cap.status == CapstoneStatus.PROPOSAL_SUBMITTED
    assert cap.status_changed_at >= submitted.submitted_at
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "capstone_submitted")
    )
    assert event.actor_id == w.fellow.id
    assert (event.target_type, event.target_id) == ("Capstone", cap.id)
    assert event.details["number"] == 1
    assert event.details["stage"] == "proposal"
    assert queries.draft_of(cap.id) is None


def test_a_submitted_version_keeps_the_problem_and_community_its_reviewers_read(w, ctx):
    cap = capstone(w)
    draft = capstones.update_capstone(
        w.fellow, cap, details(problem_md="As submitted"), "My plan.", version=cap.version
    )
    commit()
    submitted = capstones.submit_capstone(w.fellow, cap, draft.id)
    commit()
    cap.status = CapstoneStatus.PROPOSAL_REVISIONS
    commit()
    capstones.update_capstone(
        w.fellow, cap, details(problem_md="Rewritten later"), "My plan.", version=cap.version
    )
    commit()
    db.session.expire_all()
    assert db.session.get(CapstoneVersion, submitted.id).problem_md == "As submitted"
    assert db.session.get(Capstone, cap.id).problem_md == "Rewritten later"


def test_a_final_is_submitted_as_final(w, ctx):
    cap = capstone(w, CapstoneStatus.PROPOSAL_APPROVED)
    v1 = version(cap, 1)
    decide(v1, Recommendation.APPROVE)
    draft = capstones.update_capstone(w.fellow, cap, details(), "Final text", version=cap.version)
    capstones.submit_capstone(w.fellow, cap, draft.id)
    commit()
    db.session.expire_all()
    assert db.session.get(Capstone, cap.id).status == CapstoneStatus.FINAL_SUBMITTED
    assert versions_of(cap)[1].stage == Stage.FINAL


@pytest.mark.parametrize(
    ("narrative", "title", "message"),
    [
        ("", "A title", "Write the narrative before submitting"),
        ("   \n  ", "A title", "Write the narrative before submitting"),
    ],
)
def test_an_empty_narrative_cannot_be_submitted(w, ctx, narrative, title, message):
    cap = capstone(w, title=title)
    draft = version(cap, 1, draft=True, narrative_md=narrative)
    with pytest.raises(capstones.CapstoneError) as refused:
        capstones.submit_capstone(w.fellow, cap, draft.id)
    assert message in refused.value.message
    assert refused.value.field == "narrative"


def test_there_is_nothing_to_submit_before_the_draft_is_written(w, ctx):
    cap = capstone(w)
    with pytest.raises(capstones.CapstoneError) as refused:
        capstones.submit_capstone(w.fellow, cap, None)
    assert "There is no new version to submit yet" in refused.value.message
    assert "version 1" in refused.value.message


def test_the_same_version_cannot_be_submitted_twice(w, ctx):
    cap = capstone(w)
    draft = version(cap, 1, draft=True, narrative_md="Text")
    capstones.submit_capstone(w.fellow, cap, draft.id)
    commit()
    # The capstone is editable again (say, revisions requested at once): still one submission.
    cap.status = CapstoneStatus.PROPOSAL_REVISIONS
    db.session.commit()
    with pytest.raises(capstones.AlreadySubmitted):
        capstones.submit_capstone(w.fellow, cap, draft.id)
    db.session.rollback()
    assert [v.submitted_at is not None for v in versions_of(cap)] == [True]
    events = db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "capstone_submitted")
    )
    assert events == 1
