"""Fellowship: a Leadership Institute and equity improvement cycles, in one Flask app."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_login import current_user

from config import CONFIGS, check_production, development_secret_key


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or None)
    register_config(app, config_name, overrides)
    register_proxy(app)
    register_extensions(app)
    register_i18n(app)
    register_auth(app)
    register_blueprints(app)
    register_web_rules(app)
    register_cli(app)
    return app


def register_config(app: Flask, config_name: str | None, overrides: dict[str, Any] | None) -> None:
    name = config_name or os.environ.get("FLASK_CONFIG", "development")
    app.config.from_object(CONFIGS[name])
    app.config["CONFIG_NAME"] = name
    if overrides:
        app.config.update(overrides)
    if app.config["PRODUCTION"]:
        check_production(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = development_secret_key(Path(app.instance_path))
    logging.basicConfig(level=logging.INFO)


def register_proxy(app: Flask) -> None:
    """Behind N reverse proxies, trust their X-Forwarded-* headers (client address, https)."""
    hops = int(app.config.get("TRUSTED_PROXIES", 0))
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def register_extensions(app: Flask) -> None:
    from fellowship.db import configure_engine
    from fellowship.extensions import csrf, db, limiter, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @app.teardown_request
    def _forget_uncommitted_mail(exc: BaseException | None) -> None:
        from fellowship.mail import discard_pending

        discard_pending()


def _select_locale() -> str | None:
    from flask import current_app, has_request_context

    if not has_request_context():
        return None  # CLI jobs: the default locale (mail picks the recipient's explicitly)

    languages = list(current_app.config["LANGUAGES"])
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return str(current_user.locale)
    chosen = session.get("locale")
    if chosen in languages:
        return str(chosen)
    return request.accept_languages.best_match(languages) or "en"


def _select_timezone() -> str | None:
    if current_user and current_user.is_authenticated:
        return str(current_user.timezone)
    return None


def register_i18n(app: Flask) -> None:
    from flask_babel import get_locale

    from fellowship.extensions import babel

    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)

    @app.context_processor
    def _i18n() -> dict[str, Any]:
        return {"current_locale": str(get_locale()), "languages": app.config["LANGUAGES"]}


def register_auth(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from fellowship.auth.services import load_session_user
    from fellowship.extensions import login_manager

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see that page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions end through the rotating token
    login_manager.user_loader(load_session_user)


def register_blueprints(app: Flask) -> None:
    from fellowship.admin import bp as admin_bp
    from fellowship.auth import bp as auth_bp
    from fellowship.calendar import bp as calendar_bp
    from fellowship.capstones import bp as capstones_bp
    from fellowship.coaching import bp as coaching_bp
    from fellowship.cohorts import bp as cohorts_bp
    from fellowship.convenings import bp as convenings_bp
    from fellowship.curriculum import bp as curriculum_bp
    from fellowship.cycles import bp as cycles_bp
    from fellowship.dashboards import bp as dashboards_bp
    from fellowship.integration import bp as integration_bp
    from fellowship.notifications import bp as notifications_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(dashboards_bp)
    app.register_blueprint(cohorts_bp)
    app.register_blueprint(convenings_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(coaching_bp)
    app.register_blueprint(curriculum_bp)
    app.register_blueprint(capstones_bp)
    app.register_blueprint(cycles_bp)
    app.register_blueprint(integration_bp)
    app.register_blueprint(notifications_bp)


def register_web_rules(app: Flask) -> None:
    from fellowship.policy import register_policy_context
    from fellowship.web import register_web

    register_web(app)
    register_policy_context(app)


def register_cli(app: Flask) -> None:
    from fellowship.cli import register_commands

    register_commands(app)
