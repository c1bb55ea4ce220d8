from flask import Blueprint

bp = Blueprint("coaching", __name__)

from fellowship.coaching import caseload_views, views  # noqa: E402,F401
