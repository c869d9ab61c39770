"""The FastAPI service: polling-station pages, remote voting, public bulletin board."""

from tally.service.app import ServiceConfig, create_app

__all__ = ["ServiceConfig", "create_app"]
