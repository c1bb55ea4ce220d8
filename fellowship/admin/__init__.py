from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from fellowship.admin import outbox_views, views  # noqa: E402,F401
