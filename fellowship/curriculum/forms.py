"""Authoring forms: a module, an item of each kind, moving, and copying a curriculum.

The forms check what the input alone can tell (required, lengths, dates readable and in
order, web addresses); the services check the rules again, with the cohort in hand, before
anything is saved.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from fellowship.curriculum.models import ItemKind
from fellowship.curriculum.services import (
    MAX_MINUTES,
    MAX_TEXT,
    MAX_TITLE,
    MAX_URL,
    MIN_MINUTES,
    MINUTES_RANGE,
    STRAND_NEEDED,
    TITLE_NEEDED,
    TITLE_TOO_LONG,
    due_problem,
    url_problem,
)
from fellowship.forms import ClearDateField, choices, optional_id

KIND_LABELS = {
    ItemKind.READING.value: _l("Reading"),
    ItemKind.LINK.value: _l("Link"),
    ItemKind.FILE.value: _l("File"),
    ItemKind.VIDEO.value: _l("Video"),
    ItemKind.REFLECTION.value: _l("Reflection prompt"),
}
# "Add a reading", "Add a link"…: the buttons on the items page and the form headings.
ADD_LABELS = {
    ItemKind.READING.value: _l("Add a reading"),
    ItemKind.LINK.value: _l("Add a link"),
    ItemKind.FILE.value: _l("Add a file"),
    ItemKind.VIDEO.value: _l("Add a video"),
    ItemKind.REFLECTION.value: _l("Add a reflection prompt"),
}

MARKDOWN_HINT = _l(
    "Markdown: # at the start of a line for a heading, - for a list, | between the cells of "
    "a table row, [text](https://…) for a link, ![description](https://…) for an image by "
    "its https address, **bold**. Raw HTML is not shown."
)
SHORT_MARKDOWN_HINT = _l(
    "Markdown: a blank line between paragraphs, - at the start of a line for a list, "
    "[text](https://…) for a link, **bold**. Raw HTML is not shown."
)


class _MinutesField(IntegerField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(MINUTES_RANGE)) from error


def _title_field() -> StringField:
    return StringField(
        _l("Title"),
        validators=[
            DataRequired(message=TITLE_NEEDED),
            Length(max=MAX_TITLE, message=TITLE_TOO_LONG),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_TITLE},
    )


class ModuleForm(FlaskForm):
    title = _title_field()
    strand = SelectField(
        _l("Strand"),
        coerce=optional_id,
        validators=[InputRequired(message=STRAND_NEEDED)],
        validate_choice=True,
    )
    summary = TextAreaField(
        _l("Summary"),
        validators=[Optional(), Length(max=MAX_TEXT)],
        description=_l("A sentence or two that tells fellows what the module is about."),
        render_kw={"rows": 3},
    )
    outcomes_md = TextAreaField(
        _l("Learning outcomes"),
        validators=[Optional(), Length(max=MAX_TEXT)],
        description=SHORT_MARKDOWN_HINT,
        render_kw={"rows": 5},
    )
    release_on = ClearDateField(
        _l("Release date"),
        validators=[Optional()],
        description=_l(
            "Fellows do not see the module before this date. Leave it empty to open the "
            "module from the start."
        ),
    )
    due_on = ClearDateField(
        _l("Due date"),
        validators=[Optional()],
        description=_l("Not before the release date."),
    )
    estimated_minutes = _MinutesField(
        _l("Estimated time in minutes"),
        validators=[
            Optional(),
            NumberRange(min=MIN_MINUTES, max=MAX_MINUTES, message=MINUTES_RANGE),
        ],
        description=_l("How long the module takes a fellow, from 1 to 6000 minutes."),
        render_kw={"inputmode": "numeric", "min": MIN_MINUTES, "max": MAX_MINUTES},
    )
    prerequisites = SelectMultipleField(
        _l("Prerequisites"),
        coerce=int,
        validate_choice=True,
        description=_l("Modules a fellow must complete before this one opens."),
    )
    version = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.strand.choices = []
        self.prerequisites.choices = []
        self.prerequisites.invalid_choice_message = str(
            _l("Choose prerequisites among this cohort's modules.")
        )
        self.strand.invalid_choice_message = str(STRAND_NEEDED)

    def set_choices(self, strands: list[tuple[int, str]], others: list[tuple[int, str]]) -> None:
        self.strand.choices = choices(
            [(str(i), name) for i, name in strands], empty=str(_l("Choose a strand"))
        )
        self.prerequisites.choices = list(others)

    def validate_due_on(self, field: Field) -> None:
        problem = due_problem(self.release_on.data, field.data)
        if problem:
            raise ValidationError(problem)


def _check_url(form: Any, field: Field) -> None:
    problem = url_problem(field.data)
    if problem:
        raise ValidationError(problem)


class _ItemForm(FlaskForm):
    title = _title_field()
    required = BooleanField(
        _l("Required"),
        default=True,
        description=_l(
            "A module is complete when every required item is done. Optional items are extra."
        ),
    )
    version = HiddenField()


class ReadingForm(_ItemForm):
    body = TextAreaField(
        _l("Reading"),
        validators=[
            DataRequired(message=_l("Write the reading.")),
            Length(max=MAX_TEXT),
        ],
        description=MARKDOWN_HINT,
        render_kw={"rows": 14},
    )


class _AddressForm(_ItemForm):
    url = URLField(
        _l("Web address"),
        validators=[_check_url],
        description=_l("Starting with https:// (or http://)."),
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": MAX_URL},
    )
    body = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=MAX_TEXT)],
        description=_l("What to look for, or how long it takes. Markdown, raw HTML not shown."),
        render_kw={"rows": 3},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url.flags.required = True


class LinkForm(_AddressForm):
    pass


class VideoForm(_AddressForm):
    pass


class ReflectionForm(_ItemForm):
    body = TextAreaField(
        _l("Prompt"),
        validators=[
            DataRequired(message=_l("Write the prompt fellows answer.")),
            Length(max=MAX_TEXT),
        ],
        description=_l(
            "The question fellows answer in writing. Markdown: a blank line between "
            "paragraphs, - for a list, **bold**. Raw HTML is not shown."
        ),
        render_kw={"rows": 6},
    )


class FileForm(_ItemForm):
    file = FileField(_l("File"))

    def __init__(self, *args: Any, new: bool = True, accept: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if new:
            self.file.validators = [FileRequired(message=_l("Choose a file to upload."))]
            self.file.flags.required = True
        else:
            self.file.validators = [Optional()]
            self.file.flags.required = False
        if accept:
            self.file.render_kw = {"accept": accept}


ITEM_FORMS: dict[ItemKind, type[_ItemForm]] = {
    ItemKind.READING: ReadingForm,
    ItemKind.LINK: LinkForm,
    ItemKind.VIDEO: VideoForm,
    ItemKind.REFLECTION: ReflectionForm,
    ItemKind.FILE: FileForm,
}


class MoveForm(FlaskForm):
    """Move a module or an item up or down: only the CSRF token; the pressed button sends
    `direction` (up or down)."""


class CopySourceForm(FlaskForm):
    source = SelectField(
        _l("Copy from"),
        coerce=optional_id,
        validators=[InputRequired(message=_l("Choose the cohort to copy from."))],
        validate_choice=True,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source.choices = []
        self.source.invalid_choice_message = str(_l("Choose one of the cohorts listed."))

    def set_choices(self, sources: list[tuple[int, str]]) -> None:
        self.source.choices = choices(
            [(str(i), label) for i, label in sources], empty=str(_l("Choose a cohort"))
        )


class ConfirmCopyForm(FlaskForm):
    source = HiddenField()
    modules_before = HiddenField()  # the target's module count the preview was made with
