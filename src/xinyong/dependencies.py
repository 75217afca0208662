"""The app's database engine as a FastAPI dependency: ``db: Engine = Depends(engine)``.

Below both the API (:mod:`xinyong.api`) and the portal (:mod:`xinyong.web`), which use it and
never import each other (``api.app.create_app`` mounts the portal, the one place they meet).

``create_app`` puts the URL on ``app.state.db_url``; the engine is opened and checked (schema
current) on first use and kept on ``app.state.engine``. A database that cannot be used becomes
``UnusableInput`` (a problem details answer in the API, an error page in the portal).
"""

from __future__ import annotations

import threading

from fastapi import Request
from sqlalchemy import Engine

from xinyong.store.engine import connect
from xinyong.store.schema import require_current

_lock = threading.Lock()


def engine(request: Request) -> Engine:
    """The app's database engine, opened on first use."""
    state = request.app.state
    if getattr(state, "engine", None) is None:
        with _lock:
            if getattr(state, "engine", None) is None:
                opened = connect(state.db_url, create=False)
                require_current(opened)
                state.engine = opened
    result: Engine = state.engine
    return result
