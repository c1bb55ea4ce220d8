from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from fellowship.notifications import views  # noqa: E402,F401
