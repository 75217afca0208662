"""YAML read with the line of every key, so a catalog error can name the file and the line.

PyYAML's safe loader builds plain dicts and forgets where each key stood, and it silently keeps
the last of two equal keys. Here every mapping becomes a :class:`MarkedDict` that remembers its
own line and the line of each key, and a repeated key is refused.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from xinyong.errors import CatalogError


class MarkedDict(dict[Any, Any]):
    """A mapping from YAML that knows its line (1-based) and the line of each of its keys."""

    line: int
    key_lines: dict[Any, int]

    def __init__(self, line: int = 0) -> None:
        super().__init__()
        self.line = line
        self.key_lines = {}

    def line_of(self, key: Any) -> int:
        """The line of ``key``, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    """Safe loader whose mappings are :class:`MarkedDict` and refuse duplicate keys."""

    file_label: str = ""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Iterator[MarkedDict]:
    data = MarkedDict(node.start_mark.line + 1)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, Hashable):
            raise CatalogError(
                "键必须是简单值 / a key must be a plain value", file=loader.file_label, line=line
            )
        if key in data:
            raise CatalogError(
                f"重复的键 {key!r}（第 {data.key_lines[key]} 行已出现）/ "
                f"duplicate key {key!r} (first at line {data.key_lines[key]})",
                file=loader.file_label,
                line=line,
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = line


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def load_marked(text: str, file_label: str) -> Any:
    """Parse YAML ``text``; mappings come back as :class:`MarkedDict`.

    Raises :class:`CatalogError` naming ``file_label`` and the line for bad YAML.
    """
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"YAML 错误 / YAML error: {exc}", file=file_label) from exc
    loader.file_label = file_label
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise CatalogError(
            f"YAML 语法错误 / YAML syntax error: {problem}", file=file_label, line=line
        ) from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"YAML 错误 / YAML error: {exc}", file=file_label) from exc
    finally:
        loader.dispose()


def line_at(root: Any, path: Sequence[int | str], start: int) -> int:
    """The best line for ``path`` inside ``root``: the deepest key on the path that has a line,
    else ``start`` (the line of the entity's id)."""
    line = start
    node = root
    for step in path:
        if isinstance(node, MarkedDict) and step in node:
            line = node.line_of(step)
            node = node[step]
        elif isinstance(node, MarkedDict) and str(step) in {str(k) for k in node}:
            key = next(k for k in node if str(k) == str(step))
            line = node.line_of(key)
            node = node[key]
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            if isinstance(node, MarkedDict):
                line = node.line
        else:
            break
    return line


def read_text(path: Path, file_label: str) -> str:
    """Read a catalog file as UTF-8 (a BOM is allowed), refusing other encodings clearly."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError(
            f"无法读取文件 / cannot read file: {exc.strerror}", file=file_label
        ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CatalogError(
            "目录文件必须是 UTF-8 编码 / a catalog file must be UTF-8 encoded",
            file=file_label,
            line=line,
        ) from exc
