"""The practice library's search form: a GET form (it changes nothing, so no CSRF token).

The choices come from what published capstones have; a value that is not among them (an old
link, a typed address) is ignored rather than refused, so a search never ends in an error.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField, StringField
from wtforms.validators import Length

from fellowship.capstones.forms import SCHOOL_LEVEL_LABELS
from fellowship.capstones.library_queries import LibraryFilters, LibraryOptions
from fellowship.capstones.models import SchoolLevel

MAX_SEARCH = 200


class LibrarySearchForm(Form):
    q = StringField(
        _l("Search"),
        validators=[
            Length(
                max=MAX_SEARCH,
                message=_l("Search for at most %(max)d characters.", max=MAX_SEARCH),
            )
        ],
        description=_l("Words from the title, summary or topics."),
        render_kw={"maxlength": MAX_SEARCH, "spellcheck": "false"},
    )
    strand = SelectField(_l("Strand"), choices=[], validate_choice=False)
    level = SelectField(_l("School level"), choices=[], validate_choice=False)
    topic = SelectField(_l("Topic"), choices=[], validate_choice=False)

    def set_choices(self, options: LibraryOptions, *, any_label: str) -> None:
        """Fill the selects from the library; an unknown value falls back to "any"."""
        self.strand.choices = [("", any_label)] + [
            (choice.label, choice.label) for choice in options.strands.values()
        ]
        self.level.choices = [("", any_label)] + [
            (level.value, str(SCHOOL_LEVEL_LABELS[level.value])) for level in options.levels
        ]
        self.topic.choices = [("", any_label)] + [
            (choice.label, choice.label) for choice in options.topics.values()
        ]
        if (self.strand.data or "").casefold() not in options.strands:
            self.strand.data = ""
        if self.level.data not in {level.value for level in options.levels}:
            self.level.data = ""
        if (self.topic.data or "").casefold() not in options.topics:
            self.topic.data = ""
        # Show the canonical spelling of a value typed in another case.
        if self.strand.data:
            self.strand.data = options.strands[self.strand.data.casefold()].label
        if self.topic.data:
            self.topic.data = options.topics[self.topic.data.casefold()].label

    def filters(self) -> LibraryFilters:
        """What to search for (call after `set_choices` and `validate`): text that is too
        long is not searched for (its message shows next to the field)."""
        text = " ".join((self.q.data or "").split()) if not self.q.errors else ""
        return LibraryFilters(
            text=text,
            strand=(self.strand.data or "").casefold(),
            level=SchoolLevel(self.level.data) if self.level.data else None,
            topic=(self.topic.data or "").casefold(),
        )
