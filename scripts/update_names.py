#!/usr/bin/env python3
"""Extract surname frequencies from PyPI ``faker``'s ``zh_CN`` person provider.

Facts only: the surname → per-cent table is read from the wheel's source with ``ast`` (never
imported, never a dependency of xinyong) and written in xinyong's own format to
``src/xinyong/lab/data/surnames.tsv``, with a header naming the package, version and file.

Usage (network only for the package download, never at run time)::

    pip download --no-deps faker -d /tmp/faker
    python scripts/update_names.py /tmp/faker/faker-*.whl

Two defects of the source table are corrected and said so in the output header:
``于`` appears twice (0.48 and 0.0074; the first is kept) and ``鞠`` reads 0.230 where its place
in the descending list (between 匡 0.023 and 惠 0.022) shows 0.023 was meant.
"""

from __future__ import annotations

import ast
import re
import sys
import zipfile
from pathlib import Path

MEMBER = "faker/providers/person/zh_CN/__init__.py"
OUT = Path(__file__).resolve().parent.parent / "src" / "xinyong" / "lab" / "data" / "surnames.tsv"
CORRECTIONS = {"鞠": 0.023}


def read_table(wheel: Path) -> tuple[str, list[tuple[str, float]]]:
    match = re.match(r"faker-([^-]+)-", wheel.name)
    if match is None:
        raise SystemExit(f"not a faker wheel: {wheel.name}")
    with zipfile.ZipFile(wheel) as archive:
        source = archive.read(MEMBER).decode("utf-8")
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "last_names"
            and isinstance(node.value, ast.Call)
        ):
            pairs = ast.literal_eval(node.value.args[0])
            return match.group(1), [(str(name), float(share)) for name, share in pairs]
    raise SystemExit(f"no last_names table in {MEMBER}")


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: update_names.py faker-VERSION-py3-none-any.whl")
    wheel = Path(argv[0])
    version, pairs = read_table(wheel)
    seen: dict[str, float] = {}
    dropped: list[str] = []
    for name, share in pairs:
        if name in seen:
            dropped.append(f"{name} {share}")
            continue
        seen[name] = CORRECTIONS.get(name, share)
    lines = [
        "# Chinese surname frequencies (per cent of the registered population).",
        f"# Source: PyPI package faker {version}, file {MEMBER}, table `last_names`",
        "#   (its own comment cites zh.wikipedia.org 中国姓氏排名, which reflects the Ministry of",
        "#   Public Security's household-register name reports: 王 李 张 刘 陈 lead; the top 100",
        "#   cover 85.9% of registered people, 《二〇一九年全国姓名报告》, 2020-01-20).",
        "# Extracted by scripts/update_names.py (facts only; faker is not a dependency).",
        f"# Corrections: duplicate entries dropped ({', '.join(dropped) or 'none'});",
        "#   鞠 0.230 → 0.023 (its rank between 匡 0.023 and 惠 0.022 shows the typo).",
        f"# {len(seen)} surnames, summing to {sum(seen.values()):.4f}%; the generator",
        "#   renormalises to 100% (the remaining rare surnames are not in the source).",
        "surname\tpercent",
    ]
    lines += [f"{name}\t{share:g}" for name, share in seen.items()]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(seen)} surnames from faker {version})")


if __name__ == "__main__":
    main(sys.argv[1:])
