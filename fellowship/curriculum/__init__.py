from flask import Blueprint

bp = Blueprint("curriculum", __name__)

from fellowship.curriculum import facilitation_views, learning_views, views  # noqa: E402,F401
