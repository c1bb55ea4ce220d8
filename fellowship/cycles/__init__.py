from flask import Blueprint

bp = Blueprint("cycles", __name__)

from fellowship.cycles import (  # noqa: E402,F401
    goal_views,
    plan_views,
    portfolio_views,
    review_views,
    school_views,
    setup_views,
)
