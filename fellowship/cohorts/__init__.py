from flask import Blueprint

bp = Blueprint("cohorts", __name__, url_prefix="/cohorts")

from fellowship.cohorts import roster_views, views  # noqa: E402,F401
