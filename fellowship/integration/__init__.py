from typing import Any

from flask import Blueprint

bp = Blueprint("integration", __name__, url_prefix="/integration")

from fellowship.integration import (  # noqa: E402,F401
    import_views,
    objective_views,
    settings_views,
    views,
)


@bp.app_template_global("integration_packet_view")
def _packet_view(data: dict[str, Any]) -> dict[str, Any]:
    """The review packet's integration section in the reader's language."""
    from fellowship.integration.packet import packet_view

    return packet_view(data)
