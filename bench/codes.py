"""Validating codes: xinyong against python-stdnum, on the same codes in the same run.

    python bench/codes.py [--n 1000000] [--seed 1]

Builds ``n`` codes, half USCCs and half citizen numbers: 80 % valid (the register's mix of
authorities, letter authorities A, N and Y included), 20 % with one typing error (substitution,
adjacent transposition or a dropped character). Times ``is_valid`` of both libraries, prints
codes/s and the ratio, then every disagreement counted by (xinyong reason, python-stdnum verdict).
"""

from __future__ import annotations

import argparse
import collections
import random
import time
from collections.abc import Callable

from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from xinyong import codes
from xinyong.codes import ric, uscc


def typo(rng: random.Random, code: str, alphabet: str) -> str:
    """One typing error: substitution, adjacent transposition or a dropped character."""
    position = rng.randrange(len(code) - 1)
    kind = rng.choice(("substitution", "transposition", "drop"))
    if kind == "substitution":
        replacement = rng.choice([c for c in alphabet if c != code[position]])
        return code[:position] + replacement + code[position + 1 :]
    if kind == "transposition":
        return code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    return code[:position] + code[position + 1 :]


def make_usccs(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.03:  # letter authorities, which python-stdnum cannot read
            code = uscc.generate(rng, authority=rng.choice("ANY"))
        elif roll < 0.04:  # a sloppy issuer: bad region or category, yet a correct check
            code = uscc.generate(rng)
            first17 = code[:2] + f"{rng.randrange(1_000_000):06d}" + code[8:17]
            if rng.random() < 0.5:
                first17 = code[0] + rng.choice("45678") + first17[2:]
            code = first17 + uscc.check_character(first17)
        else:
            code = uscc.generate(rng)
        out.append(typo(rng, code, uscc.ALPHABET) if roll > 0.8 else code)
    return out


def make_rics(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        code = ric.generate(rng)
        if rng.random() < 0.01:  # a birth date in the future, with a correct check
            first17 = f"{code[:6]}2{rng.randrange(1, 10)}{code[8:17]}"
            code = first17 + ric.check_character(first17)
        out.append(typo(rng, code, "0123456789") if rng.random() < 0.2 else code)
    return out


def timed(check: Callable[[str], bool], data: list[str]) -> tuple[float, list[object]]:
    """Codes per second, and each code's verdict (True, False, or the exception's name)."""
    verdicts: list[object] = []
    append = verdicts.append
    start = time.perf_counter()
    for code in data:
        try:
            append(check(code))
        except Exception as exc:  # python-stdnum's ric crashes on some region codes
            append(type(exc).__name__)
    elapsed = time.perf_counter() - start
    return len(data) / elapsed, verdicts


def compare(
    name: str,
    ours: Callable[[str], bool],
    theirs: Callable[[str], bool],
    reason: Callable[[str], str | None],
    data: list[str],
) -> None:
    ours_rate, ours_verdicts = timed(ours, data)
    theirs_rate, theirs_verdicts = timed(theirs, data)
    print(
        f"\n{name}: {len(data):,} codes, {sum(v is True for v in ours_verdicts):,} valid by xinyong"
    )
    print(f"  xinyong        {ours_rate:12,.0f} codes/s")
    print(f"  python-stdnum  {theirs_rate:12,.0f} codes/s")
    print(f"  ratio          {ours_rate / theirs_rate:12.1f}×")
    differences: collections.Counter[tuple[str, str]] = collections.Counter()
    examples: dict[tuple[str, str], str] = {}
    missed = 0
    for code, ours_v, theirs_v in zip(data, ours_verdicts, theirs_verdicts, strict=True):
        if ours_v is theirs_v:
            continue
        key = (reason(code) or "valid", "valid" if theirs_v is True else f"rejects ({theirs_v})")
        differences[key] += 1
        examples.setdefault(key, code)
        if name == "USCC" and code[:1].isdigit() and theirs_v is False and ours_v is True:
            missed += 1
    print("  verdicts that differ (xinyong, python-stdnum): count, example")
    for (ours_key, theirs_key), count in differences.most_common():
        print(f"    {ours_key:14s} {theirs_key:28s} {count:8,}  {examples[ours_key, theirs_key]}")
    if name == "USCC":
        print(f"  digit-authority codes python-stdnum rejects and xinyong accepts: {missed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="codes in all (half each)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    start = time.perf_counter()
    usccs = make_usccs(rng, args.n // 2)
    rics = make_rics(rng, args.n - args.n // 2)
    print(f"generated {args.n:,} codes in {time.perf_counter() - start:.1f} s")
    uscc.is_valid(usccs[0]), ric.is_valid(rics[0])  # load the tables before timing

    compare(
        "USCC", uscc.is_valid, stdnum_uscc.is_valid, lambda c: uscc.reason(uscc.compact(c)), usccs
    )
    compare("RIC", ric.is_valid, stdnum_ric.is_valid, lambda c: ric.reason(ric.compact(c)), rics)

    sample = usccs[:100_000]
    rate, _ = timed(lambda c: codes.check(c).valid, sample)
    print(f"\nxinyong codes.check (auto kind, parsed fields), USCC: {rate:,.0f} codes/s")


if __name__ == "__main__":
    main()
