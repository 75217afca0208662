"""xinyong (信用): an open public credit information platform with the rule of law built in.

The main jobs, from Python (:mod:`xinyong.facade`, loaded on first use so that ``import
xinyong`` stays cheap and ``xinyong --version`` answers at once)::

    xinyong.check_code(code)                       # is a code valid, why not, its parts
    store = xinyong.open("sqlite:///xinyong.db")   # migrated store + the catalog in force
    store.ingest(path, record_type, source=authority)
    store.check(code, action)                      # a decision with its legal basis
    store.subject(code)                            # a subject's file, as the public sees it
    store.report(code)                             # a credit report and its verification code
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: What ``import xinyong`` offers: the version, and each other name from :mod:`xinyong.facade`.
__all__ = ["Store", "__version__", "check_code", "open"]

if TYPE_CHECKING:
    from xinyong.facade import Store, check_code, open


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("xinyong.facade"), name)
    raise AttributeError(f"module 'xinyong' has no attribute {name!r}")
