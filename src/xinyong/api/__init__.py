"""The HTTP API under ``/api/v1``: ``create_app()``, one router per resource."""

from xinyong.api.app import create_app

__all__ = ["create_app"]
