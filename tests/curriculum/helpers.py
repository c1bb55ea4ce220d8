"""Curriculum factories and a small world to test against."""

from __future__ import annotations

from datetime import date

import factory

from fellowship.curriculum.models import (
    DueDateExtension,
    ItemKind,
    ItemProgress,
    Module,
    ModuleItem,
    ModulePrerequisite,
)
from fellowship.extensions import db
from tests.factories import BaseFactory


class ModuleFactory(BaseFactory):
    """`ModuleFactory(cohort_id=c.id)`: released and due in the past-to-future of the
    factory cohort's year (release 2026-09-01, due 2026-10-01); pass dates to change."""

    class Meta:
        model = Module

    cohort_id = 0
    strand_id = None
    position = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Module {n}")
    summary = "What this module is about."
    outcomes_md = "- Name the school model's three commitments"
    release_on = date(2026, 9, 1)
    due_on = date(2026, 10, 1)
    estimated_minutes = 60


class ItemFactory(BaseFactory):
    """`ItemFactory(module_id=m.id)`: a required reading; `kind=ItemKind.REFLECTION` etc."""

    class Meta:
        model = ModuleItem

    module_id = 0
    position = factory.Sequence(lambda n: n)
    kind = ItemKind.READING
    title = factory.Sequence(lambda n: f"Item {n}")
    body_md = "## Read this\n\nSome text."
    url = None
    stored_file_id = None
    required = True


class ProgressFactory(BaseFactory):
    class Meta:
        model = ItemProgress

    item_id = 0
    fellow_id = 0
    completed_at = None
    response_md = ""
    submitted_at = None


class ExtensionFactory(BaseFactory):
    class Meta:
        model = DueDateExtension

    module_id = 0
    fellow_id = 0
    due_on = date(2026, 11, 1)
    reason = "Family emergency"


def require_module(module: Module, requires: Module) -> None:
    db.session.add(ModulePrerequisite(module_id=module.id, requires_module_id=requires.id))
    db.session.commit()
