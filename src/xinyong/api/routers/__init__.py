"""API routers, one per resource; ``xinyong.api.app.create_app`` includes each in one line."""
