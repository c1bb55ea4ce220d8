"""Forms for scheduling convenings and taking attendance."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from fellowship.convenings.models import AttendanceStatus, ConveningKind
from fellowship.forms import ClearDateField, choices

KIND_LABELS = {
    ConveningKind.NATIONAL.value: _l("National convening"),
    ConveningKind.REGIONAL.value: _l("Regional convening"),
    ConveningKind.WORKSHOP.value: _l("Workshop"),
    ConveningKind.SCHOOL_VISIT.value: _l("School visit"),
    ConveningKind.PANEL.value: _l("Panel discussion"),
    ConveningKind.BOOK_STUDY.value: _l("Book study"),
    ConveningKind.PEER_CHECKIN.value: _l("Peer check-in"),
}

ATTENDANCE_LABELS = {
    AttendanceStatus.PRESENT.value: _l("Present"),
    AttendanceStatus.ABSENT.value: _l("Absent"),
    AttendanceStatus.EXCUSED.value: _l("Excused"),
}


class WebAddress:
    """Field validator: an http:// or https:// address with a host."""

    def __call__(self, form: Any, field: Field) -> None:
        value = (field.data or "").strip()
        field.data = value
        if not value:
            return
        parts = urlsplit(value)
        if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or " " in value:
            raise ValidationError(
                str(_l("Enter a web address that starts with https:// (or http://)."))
            )


class _ClearTimeField(TimeField):
    def __init__(self, *args: Any, invalid: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(self.invalid)) from error


ENTER_DATE = _l("Enter the date, like 2026-09-15.")
END_AFTER_START = _l("The end must be after the start.")


class ConveningForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("Enter a title.")), Length(max=200)],
    )
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS.items()))
    starts_on = ClearDateField(
        _l("Date"), validators=[InputRequired(message=ENTER_DATE)], invalid=ENTER_DATE
    )
    starts_time = _ClearTimeField(
        _l("Start time"),
        validators=[InputRequired(message=_l("Enter the start time, like 09:00."))],
        invalid=_l("Enter the start time, like 09:00."),
    )
    ends_on = ClearDateField(
        _l("End date"),
        validators=[Optional()],
        description=_l("Leave empty when it ends on the same day."),
        invalid=ENTER_DATE,
    )
    ends_time = _ClearTimeField(
        _l("End time"),
        validators=[InputRequired(message=_l("Enter the end time, like 16:30."))],
        invalid=_l("Enter the end time, like 16:30."),
    )
    location = StringField(
        _l("Place"),
        validators=[Optional(), Length(max=200)],
        description=_l("An address or a room. Leave empty for an online convening."),
        render_kw={"autocomplete": "off"},
    )
    online_url = URLField(
        _l("Online link"),
        validators=[Optional(), Length(max=500), WebAddress()],
        description=_l("The video meeting address, starting with https://."),
        render_kw={"spellcheck": "false"},
    )
    agenda = TextAreaField(
        _l("Agenda"),
        validators=[Optional(), Length(max=20000)],
        description=_l(
            "Markdown: a blank line between paragraphs, - at the start of a line for a list, "
            "**bold**, [link text](https://example.org)."
        ),
        render_kw={"rows": 10},
    )
    facilitators = SelectMultipleField(_l("Facilitators"), coerce=int, validate_choice=True)
    version = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.facilitators.choices = []

    def validate_ends_time(self, field: Field) -> None:
        """Said next to the field with any other problem (the service checks again in UTC)."""
        start_day, start, end = self.starts_on.data, self.starts_time.data, field.data
        if start_day is None or start is None or end is None:
            return
        end_day = self.ends_on.data or start_day
        if datetime.combine(end_day, end) <= datetime.combine(start_day, start):
            raise ValidationError(str(END_AFTER_START))


class AttendanceForm(FlaskForm):
    """One radio group and one note per fellow; fields are added per fellow (`for_fellows`)."""

    fellow_ids: list[int] = []
    # Once a convening has started every fellow needs a status, so rates are never computed
    # from a partial list; before it starts, excused absences can be recorded one by one.
    require_all: bool = False

    @classmethod
    def for_fellows(
        cls, fellow_ids: list[int], *, require_all: bool = False, **kwargs: Any
    ) -> AttendanceForm:
        fields: dict[str, Any] = {"fellow_ids": list(fellow_ids), "require_all": require_all}
        for user_id in fellow_ids:
            fields[f"status_{user_id}"] = RadioField(
                _l("Attendance"),
                choices=choices(ATTENDANCE_LABELS.items()),
                validators=[Optional()],
            )
            fields[f"note_{user_id}"] = StringField(
                _l("Note"), validators=[Optional(), Length(max=500)]
            )
        form_class = type("FellowAttendanceForm", (cls,), fields)
        return form_class(**kwargs)

    def status_field(self, user_id: int) -> Any:
        return self[f"status_{user_id}"]

    def note_field(self, user_id: int) -> Any:
        return self[f"note_{user_id}"]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        for user_id in self.fellow_ids:
            status = self.status_field(user_id)
            if self.require_all and not status.data:
                status.errors = [
                    *status.errors,
                    str(_l("Choose present, absent or excused for every fellow.")),
                ]
                ok = False
            note = self.note_field(user_id)
            if (note.data or "").strip() and not status.data:
                note.errors = [
                    *note.errors,
                    str(_l("Choose present, absent or excused to save a note.")),
                ]
                ok = False
        return ok

    def entries(self) -> dict[int, tuple[AttendanceStatus, str]]:
        """{user_id: (status, note)} for the fellows whose attendance was chosen."""
        found: dict[int, tuple[AttendanceStatus, str]] = {}
        for user_id in self.fellow_ids:
            status = self.status_field(user_id).data
            if status:
                note = (self.note_field(user_id).data or "").strip()
                found[user_id] = (AttendanceStatus(status), note)
        return found
