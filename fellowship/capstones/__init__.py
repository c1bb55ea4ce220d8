from flask import Blueprint

bp = Blueprint("capstones", __name__)

from fellowship.capstones import (  # noqa: E402,F401
    library_views,
    review_views,
    staff_views,
    views,
)
