"""Transactional outbox.

`queue_email()` renders a message into an `outbox_messages` row inside the caller's
transaction. After the commit, `deliver_after_commit()` tries to send what this transaction
queued; `flask outbox deliver` (cron) retries the rest with backoff. A message is claimed
with a conditional UPDATE before sending, so two deliverers never send the same row.
"""

from __future__ import annotations

import contextlib
import enum
import smtplib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy as email_policy
from email.utils import parseaddr
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    after_this_request,
    current_app,
    g,
    has_request_context,
    render_template,
)
from flask_babel import force_locale, get_translations
from flask_mail import Message
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from pytz import UnknownTimeZoneError
from pytz import timezone as _zone
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from fellowship.db import Base, db, str_enum, utcnow


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(255))
    text: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    template: Mapped[str] = mapped_column(sa.String(120))
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # One optional text attachment (a convening's .ics) and the one-click unsubscribe address
    # (the List-Unsubscribe header) of a notification email.
    attachment_name: Mapped[str | None] = mapped_column(sa.String(120))
    attachment_type: Mapped[str | None] = mapped_column(sa.String(120))
    attachment_text: Mapped[str | None] = mapped_column(sa.Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(sa.String(500))

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.template} {self.status}>"


_PENDING_KEY = "outbox_pending_ids"
CLAIM_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=PUBLISH"
    text: str


@contextlib.contextmanager
def force_recipient(locale: str, timezone: str | None = None) -> Iterator[None]:
    """Render in the recipient's language and, when given, timezone (Flask-Babel's
    `format_datetime` and friends then show their local time), whoever is signed in."""
    with force_locale(locale):
        if timezone is None:
            yield
            return
        ctx = _babel_context()
        saved = getattr(ctx, "babel_tzinfo", None)
        try:
            ctx.babel_tzinfo = _zone(timezone)
        except UnknownTimeZoneError:
            yield
            return
        try:
            yield
        finally:
            ctx.babel_tzinfo = saved


def email_context() -> dict[str, Any]:
    """What an email template sees, for many emails rendered in one language (inside
    `force_recipient`): the app's context processors, and `_` / `ngettext` bound to that
    language's catalog once. Flask-Babel's own look the catalog up again for every string,
    which is most of the time spent rendering thousands of invitations or reminders."""
    values: dict[str, Any] = {}
    current_app.update_template_context(values)
    translations = get_translations()
    single, plural = translations.ugettext, translations.ungettext

    # What Jinja's "newstyle" gettext (the app's) does: in an autoescaped template the
    # catalog's text is markup and the variables put into it are escaped by `%`.
    def formatted(context: Context, text: str, variables: dict[str, Any]) -> str:
        if context.eval_ctx.autoescape:
            return Markup(text) % variables  # noqa: S704 - catalog text; `%` escapes the values
        return text % variables

    @pass_context
    def gettext(context: Context, string: str, **variables: Any) -> str:
        return formatted(context, single(string), variables)

    @pass_context
    def ngettext(context: Context, singular: str, many: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return formatted(context, plural(singular, many, num), variables)

    values["gettext"] = gettext
    values["ngettext"] = ngettext
    return values


def _babel_context() -> Any:
    """Flask-Babel's per-context cache (`g._flask_babel`), where it keeps the timezone."""
    if not hasattr(g, "_flask_babel"):
        g._flask_babel = SimpleNamespace()
    return g._flask_babel


def queue_email(
    to: str,
    template: str,
    *,
    locale: str = "en",
    dedupe_key: str | None = None,
    deliver_now: bool = True,
    timezone: str | None = None,
    attachment: Attachment | None = None,
    unsubscribe_url: str | None = None,
    **context: Any,
) -> OutboxMessage:
    """Render `templates/emails/<template>.{txt,html}` in the recipient's language and queue it.

    The first line of the text template is `Subject: ...`; the rest is the body.
    `deliver_now=False` leaves the message to `flask outbox deliver` (cron) instead of
    sending it right after the commit (bulk actions that queue thousands of messages).
    """
    with force_recipient(locale, timezone):
        # The templates' footers show the unsubscribe link the List-Unsubscribe header carries.
        context["unsubscribe_url"] = unsubscribe_url
        rendered = render_template(f"emails/{template}.txt", **context)
        html = render_template(f"emails/{template}.html", **context)
    subject, body = split_subject(rendered, template)
    message = OutboxMessage(
        to=to,
        subject=subject,
        text=body,
        html=html,
        template=template,
        dedupe_key=dedupe_key,
        unsubscribe_url=unsubscribe_url,
    )
    if attachment is not None:
        message.attachment_name = attachment.filename
        message.attachment_type = attachment.content_type
        message.attachment_text = attachment.text
    db.session.add(message)
    db.session.flush()
    if deliver_now:
        db.session.info.setdefault(_PENDING_KEY, []).append(message.id)
    return message


def split_subject(rendered: str, template: str) -> tuple[str, str]:
    """A text template's `Subject: ...` first line and the body after it."""
    first, _, body = rendered.lstrip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"emails/{template}.txt must start with a 'Subject:' line")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")


def queue_emails(
    template: str,
    messages: Iterable[tuple[str, str, dict[str, Any]]],
    *,
    deliver_now: bool = True,
) -> int:
    """`queue_email` for many recipients of one template: `(to, locale, context)` each.

    The same messages as one `queue_email` call per recipient, made faster for imports: the
    templates are loaded once, the context processors run once per language, and the rows
    go in with one INSERT. Returns how many were queued.
    """
    by_locale: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for to, locale, context in messages:
        by_locale.setdefault(locale, []).append((to, context))
    if not by_locale:
        return 0
    env = current_app.jinja_env
    text_template = env.get_template(f"emails/{template}.txt")
    html_template = env.get_template(f"emails/{template}.html")
    rows: list[dict[str, Any]] = []
    for locale, recipients in by_locale.items():
        with force_locale(locale):
            shared = email_context()
            for to, context in recipients:
                values = {**shared, **context}
                subject, body = split_subject(text_template.render(values), template)
                rows.append(
                    {
                        "to": to,
                        "subject": subject,
                        "text": body,
                        "html": html_template.render(values),
                        "template": template,
                    }
                )
    if not deliver_now:  # no ids needed: a plain executemany (PostgreSQL: a pipeline)
        db.session.execute(sa.insert(OutboxMessage), rows)
        return len(rows)
    ids = list(
        db.session.execute(sa.insert(OutboxMessage).returning(OutboxMessage.id), rows).scalars()
    )
    db.session.info.setdefault(_PENDING_KEY, []).extend(ids)
    return len(rows)


def deliver_after_commit() -> None:
    """Send what the just-committed transaction queued; failures stay queued for cron.

    In a request the sending happens after the response has gone out, so nobody waits on
    the mail server (and response times do not tell whether a message was sent).
    """
    ids = db.session.info.pop(_PENDING_KEY, [])
    if not ids or not current_app.config["OUTBOX_DELIVER_AFTER_COMMIT"]:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if has_request_context():

        @after_this_request
        def _send_when_closed(response: Response) -> Response:
            response.call_on_close(lambda: _deliver_quietly(app, ids))
            return response

    else:
        _deliver_quietly(app, ids)


def _deliver_quietly(app: Flask, ids: list[int]) -> None:
    with app.app_context():
        try:
            deliver_outbox(ids=ids)
        except Exception:  # the action already committed; cron retries what is left
            app.logger.exception("outbox delivery after commit failed; cron will retry")


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_mail(session: Session, previous_transaction: Any) -> None:
    """Messages queued in a transaction that was rolled back no longer exist."""
    session.info.pop(_PENDING_KEY, None)


def discard_pending() -> None:
    """Forget ids queued but never committed (end of request)."""
    db.session.info.pop(_PENDING_KEY, None)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes, capped at 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


CLAIM_BATCH = 50


def _claimable(now: datetime) -> Any:
    return sa.or_(
        OutboxMessage.status == OutboxStatus.QUEUED,
        sa.and_(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at < now - CLAIM_TIMEOUT,
        ),
    )


@dataclass(frozen=True)
class _Claimed:
    id: int
    to: str
    row: OutboxMessage
    mime: Message


def _claim(message_ids: list[int], now: datetime) -> list[_Claimed]:
    """Take these messages for sending (one conditional UPDATE, committed): the ones another
    deliverer took first are left out. Each claim counts as an attempt, so a message that
    crashes its deliverer every time ends up failed instead of looping."""
    claimed = set(
        db.session.scalars(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(message_ids), _claimable(now))
            .values(
                status=OutboxStatus.SENDING,
                claimed_at=now,
                attempts=OutboxMessage.attempts + 1,
            )
            .returning(OutboxMessage.id)
        )
    )
    rows = list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.id.in_(claimed))
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
    )
    # Read before the commit expires them: nothing is loaded while the mail server talks.
    ready = []
    for row in rows:
        try:
            ready.append(_Claimed(row.id, row.to, row, _as_mime(row)))
        except Exception as exc:  # a message that cannot be built never will be
            row.status = OutboxStatus.FAILED
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    db.session.commit()  # never hold a database lock while talking to the mail server
    return ready


def _drop(connection: smtplib.SMTP | None) -> None:
    """Close a connection after an error (its state is unknown); the next message dials again."""
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.close()
    return None


def _release(ids: list[int]) -> None:
    """Give back claimed messages that were not tried (the server went away first)."""
    if ids:
        db.session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.status == OutboxStatus.SENDING,
            )
            .values(
                status=OutboxStatus.QUEUED,
                claimed_at=None,
                attempts=OutboxMessage.attempts - 1,
            )
        )
        db.session.commit()


def _smtp() -> smtplib.SMTP:
    config = current_app.config
    timeout = config["MAIL_TIMEOUT_SECONDS"]
    host: smtplib.SMTP
    if config["MAIL_USE_SSL"]:
        host = smtplib.SMTP_SSL(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
    else:
        host = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=timeout)
    if config["MAIL_USE_TLS"]:
        host.starttls()
    if config["MAIL_USERNAME"] and config["MAIL_PASSWORD"]:
        host.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return host


def _address(sender: str | tuple[str, str] | None) -> str:
    """The envelope sender: the bare address of "Name <address>" or (name, address)."""
    if isinstance(sender, tuple):
        return sender[1]
    return parseaddr(sender or "")[1]


def _as_mime(row: OutboxMessage) -> Message:
    headers = {"X-Fellowship-Message-Id": str(row.id)}
    if row.unsubscribe_url:
        # RFC 8058: mail programs offer "unsubscribe" and POST to the address, no sign-in.
        headers["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = Message(
        subject=row.subject,
        recipients=[row.to],
        body=row.text,
        html=row.html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        extra_headers=headers,
    )
    if row.attachment_name and row.attachment_text is not None:
        message.attach(
            filename=row.attachment_name,
            content_type=row.attachment_type or "application/octet-stream",
            data=row.attachment_text.encode("utf-8"),
        )
    return message


# Lines up to RFC 5322's limit: the default (78) folds a long List-Unsubscribe address into an
# encoded word (=?utf-8?q?...?=) that mail programs do not recognise as a link.
_WIRE_POLICY = email_policy.SMTP.clone(max_line_length=998)


def _wire_bytes(message: Message) -> bytes:
    return message._message().as_bytes(policy=_WIRE_POLICY)


def deliver_outbox(*, ids: list[int] | None = None, limit: int = 200) -> dict[str, int]:
    """Send due messages (or just `ids`). Commits its own bookkeeping; returns counts."""
    now = utcnow()
    query = sa.select(OutboxMessage.id).order_by(OutboxMessage.id).limit(limit)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.QUEUED)
    else:
        query = query.where(
            sa.or_(
                sa.and_(
                    OutboxMessage.status == OutboxStatus.QUEUED,
                    OutboxMessage.next_attempt_at <= now,
                ),
                sa.and_(
                    OutboxMessage.status == OutboxStatus.SENDING,
                    OutboxMessage.claimed_at < now - CLAIM_TIMEOUT,
                ),
            )
        )
    candidates = list(db.session.scalars(query))
    db.session.commit()  # end the read transaction before any network I/O
    counts = {"sent": 0, "retry": 0, "failed": 0}
    suppress = current_app.config["MAIL_SUPPRESS_SEND"]
    connection: smtplib.SMTP | None = None
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    try:
        for start in range(0, len(candidates), CLAIM_BATCH):
            claimed_at = utcnow()
            claimed = _claim(candidates[start : start + CLAIM_BATCH], claimed_at)
            for index, message in enumerate(claimed):
                if utcnow() - claimed_at > CLAIM_TIMEOUT / 2:
                    # A slow server: give the rest back before another deliverer may take
                    # them as abandoned (and send them a second time).
                    _release([later.id for later in claimed[index:]])
                    break
                row, mime = message.row, message.mime
                server_unreachable = False
                try:
                    if not suppress:
                        if connection is None:
                            server_unreachable = True
                            connection = _smtp()
                            server_unreachable = False
                        connection.sendmail(
                            _address(mime.sender),
                            [message.to],
                            _wire_bytes(mime),
                            mime.mail_options,
                        )
                except Exception as exc:  # one bad message must not stop the rest
                    _drop(connection)
                    connection = None
                    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    # An address or a message the server can never take (non-ASCII address,
                    # undecodable text) fails at once; anything else is tried again later.
                    hopeless = isinstance(exc, ValueError | UnicodeError)
                    if hopeless or row.attempts >= max_attempts:
                        row.status = OutboxStatus.FAILED
                        counts["failed"] += 1
                    else:
                        row.status = OutboxStatus.QUEUED
                        row.next_attempt_at = utcnow() + backoff(row.attempts)
                        counts["retry"] += 1
                    db.session.commit()
                    if not isinstance(exc, OSError | smtplib.SMTPException | ValueError):
                        current_app.logger.exception("outbox message %s failed", message.id)
                    if server_unreachable:
                        # The rest wait for the next run; no point dialling a dead server.
                        _release([later.id for later in claimed[index + 1 :]])
                        return counts
                else:
                    row.status = OutboxStatus.SENT
                    row.sent_at = utcnow()
                    row.last_error = None
                    counts["sent"] += 1
                    db.session.commit()  # one commit per message sent: never sent twice
    finally:
        if connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.quit()
    return counts
