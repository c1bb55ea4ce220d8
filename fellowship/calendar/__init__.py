from flask import Blueprint

bp = Blueprint("calendar", __name__, url_prefix="/calendar")

from fellowship.calendar import views  # noqa: E402,F401
