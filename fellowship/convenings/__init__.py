from flask import Blueprint

bp = Blueprint("convenings", __name__)

from fellowship.convenings import views  # noqa: E402,F401
