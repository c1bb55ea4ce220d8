from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from fellowship.notifications import announcement_views, views  # noqa: E402,F401
