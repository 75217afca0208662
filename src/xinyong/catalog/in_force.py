"""The catalog in force: the one catalog a process runs with.

It is the shipped YAML, then the folders named in ``$XINYONG_CATALOG`` (separated by ``:``,
``;`` on Windows; empty parts ignored), then the ``--catalog DIR`` folders of the command, in
that order; a folder named twice is read once. It is resolved once per process: every command,
route and page of the process gets the same :class:`Catalog`, and library functions take it as
an argument (no library function falls back to a catalog of its own).

::

    catalog_in_force()                    # shipped + $XINYONG_CATALOG
    catalog_in_force([Path("/etc/x")])    # … + a command's --catalog folders
    catalog_dirs([Path("/etc/x")])        # the folders it reads, in order (no loading)

A folder that does not exist is a :class:`~xinyong.errors.CatalogError` naming it and where it
was named (the variable or the option).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from xinyong.catalog.loader import load_catalog
from xinyong.catalog.model import Catalog
from xinyong.errors import CatalogError
from xinyong.settings import load as load_settings

CATALOG_ENV = "XINYONG_CATALOG"
"""The environment variable naming the operator's catalog folders."""


def catalog_dirs(
    extra_dirs: Sequence[Path | str] = (), *, environ: Mapping[str, str] | None = None
) -> tuple[Path, ...]:
    """The operator's folders in the order they are read: ``$XINYONG_CATALOG``'s, then
    ``extra_dirs`` (a command's ``--catalog``). Each must be an existing folder."""
    folders = load_settings(environ).catalog
    named = [(part, CATALOG_ENV) for part in folders.split(os.pathsep) if part.strip()]
    named += [(str(d), "--catalog") for d in extra_dirs]
    found: dict[Path, None] = {}
    for text, where in named:
        path = Path(text.strip()).expanduser()
        if not path.is_dir():
            raise CatalogError(
                f"{where} 指定的目录文件夹不存在或不是文件夹 / the catalog folder named in "
                f"{where} does not exist or is not a folder",
                file=str(path),
            )
        found.setdefault(path.resolve(), None)
    return tuple(found)


def catalog_in_force(extra_dirs: Sequence[Path | str] = ()) -> Catalog:
    """The shipped catalog plus ``$XINYONG_CATALOG``'s folders plus ``extra_dirs``, loaded once
    per process for the same folders. Raises :class:`CatalogError` for a missing folder or
    anything the loader refuses."""
    return loaded(catalog_dirs(extra_dirs))


@functools.cache
def loaded(dirs: tuple[Path, ...]) -> Catalog:
    """The catalog of the shipped files plus ``dirs``, loaded once per process."""
    return load_catalog(dirs)


def default_catalog() -> Catalog:
    """The shipped catalog alone, loaded once per process: what tests and benchmarks run
    against. A running system uses :func:`catalog_in_force`."""
    return loaded(())
