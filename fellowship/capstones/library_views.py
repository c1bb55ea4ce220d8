"""The practice library: approved capstones their fellows chose to publish, for every
signed-in person to browse, search and download from.

An entry that is not published (never, or the fellow withdrew it) is not found, and so are
its files: nothing says it ever existed. Only the files the fellow chose, of the version
that was approved, can be downloaded from here.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.capstones import bp
from fellowship.capstones import library_queries as queries
from fellowship.capstones import queries as capstones
from fellowship.capstones.forms import SCHOOL_LEVEL_LABELS, WithdrawForm
from fellowship.capstones.library_forms import LibrarySearchForm
from fellowship.capstones.models import Capstone, CapstoneVersionFile
from fellowship.uploads import StoredFile, send_stored_file
from fellowship.web import get_or_404, page_arg, require

LIBRARY_PER_PAGE = 20


@bp.route("/library")
@login_required
def library() -> Any:
    require(policy.can_view_library(current_user))
    options = queries.library_options()
    form = LibrarySearchForm(request.args)
    form.set_choices(options, any_label=_("Any"))
    form.validate()
    filters = form.filters()
    found = queries.search_library(
        filters,
        options,
        page=page_arg(),
        per_page=LIBRARY_PER_PAGE,
    )
    return render_template(
        "capstones/library.html",
        form=form,
        filters=filters,
        found=found,
        level_labels=SCHOOL_LEVEL_LABELS,
        args={
            "q": form.q.data or "",
            "strand": form.strand.data or "",
            "level": form.level.data or "",
            "topic": form.topic.data or "",
        },
    )


def _published_or_404(capstone_id: int) -> Capstone:
    capstone = get_or_404(Capstone, capstone_id)
    if not policy.can_view_library_entry(current_user, capstone):
        abort(404)
    return capstone


@bp.route("/library/<int:capstone_id>")
@login_required
def library_entry(capstone_id: int) -> Any:
    capstone = _published_or_404(capstone_id)
    version = capstones.approved_final(capstone.id)
    files = queries.library_files(version.id) if version is not None else []
    return render_template(
        "capstones/library_entry.html",
        capstone=capstone,
        facts=queries.entry_facts(capstone),
        topics=queries.split_topics(capstone.topics),
        version=version,
        files=files,
        level_labels=SCHOOL_LEVEL_LABELS,
        withdraw_form=WithdrawForm(),
    )


@bp.route("/library/<int:capstone_id>/files/<int:file_id>")
@login_required
def library_download(capstone_id: int, file_id: int) -> Any:
    capstone = _published_or_404(capstone_id)
    version = capstones.approved_final(capstone.id)
    attached = get_or_404(CapstoneVersionFile, file_id)
    if version is None or attached.version_id != version.id or not attached.in_library:
        abort(404)
    return send_stored_file(get_or_404(StoredFile, attached.stored_file_id))
