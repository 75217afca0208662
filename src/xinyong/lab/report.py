"""The harm report as one HTML page with its charts embedded as PNG images.

Charts are drawn with matplotlib (Agg backend, no display). Chinese labels need a CJK font:
the first installed of ``CJK_FONTS`` is used (``fonts-noto-cjk`` on Debian); without one the
charts fall back to English labels and the page says so, so a chart never shows empty boxes.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from matplotlib.ticker import MaxNLocator

from xinyong.lab.harm import HarmReport, PolicyResult

__all__ = ["CJK_FONTS", "cjk_font", "render_charts", "render_html", "write_html"]

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "SimHei",
)

POLICY_LABELS = {
    "code_only": ("仅按代码", "code only"),
    "name_and_birthdate": ("姓名+出生日期（反事实）", "name + birth date (counterfactual)"),
    "name_fuzzy": ("模糊姓名（反事实）", "fuzzy name (counterfactual)"),
}
COUNT_LABELS = {
    "wrongly_restricted": ("被错误限制（匹配所致）", "wrongly restricted (by linking)"),
    "wrongly_restricted_by_source": ("被错误限制（来源写错代码）", "wrongly restricted (source)"),
    "overdue": ("应解除仍受限", "restricted past expiry"),
    "missed": ("漏限", "restrictions missed"),
}


@cache
def cjk_font() -> str | None:
    """The family name of an installed CJK font, or None."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _label(pair: tuple[str, str], chinese: bool) -> str:
    return f"{pair[0]} / {pair[1]}" if chinese else pair[1]


def _tick(pair: tuple[str, str], chinese: bool) -> str:
    english = textwrap.fill(pair[1], 18)
    return f"{pair[0]}\n{english}" if chinese else english


def _legend_below(figure: Any, ax: Any, columns: int) -> None:
    """One legend under the whole figure, so it never covers a bar or a line."""
    handles, labels = ax.get_legend_handles_labels()
    figure.legend(
        handles,
        labels,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=max(columns, 1),
        fontsize=8,
        frameon=False,
    )


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render_charts(report: HarmReport) -> dict[str, str]:
    """Chart name → base64 PNG: counts per policy, counts over time, errors by kind."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    chinese = font is not None
    style: dict[Any, Any] = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"]}
    charts: dict[str, str] = {}
    with plt.rc_context(style):
        charts["policies"] = _policies_chart(plt, report.results, chinese)
        if report.series:
            charts["over_time"] = _series_chart(plt, report, chinese)
        charts["by_error"] = _by_error_chart(plt, report.results, chinese)
    return charts


def _policies_chart(plt: Any, results: Sequence[PolicyResult], chinese: bool) -> str:
    keys = list(COUNT_LABELS)
    figure, ax = plt.subplots(figsize=(9, 4.2))
    width = 0.8 / max(len(results), 1)
    for i, result in enumerate(results):
        values = [getattr(result, k) for k in keys]
        xs = [j + (i - (len(results) - 1) / 2) * width for j in range(len(keys))]
        bars = ax.bar(xs, values, width, label=_label(POLICY_LABELS[result.policy], chinese))
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], fontsize=8, padding=2)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels([_tick(COUNT_LABELS[k], chinese) for k in keys], fontsize=9)
    ax.set_ylabel("人数 / people" if chinese else "people")
    ax.set_title(
        "各匹配策略下的伤害 / harm under each linking policy"
        if chinese
        else "harm under each linking policy"
    )
    ax.margins(y=0.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    _legend_below(figure, ax, len(results))
    ax.spines[["top", "right"]].set_visible(False)
    out = _png(figure)
    plt.close(figure)
    return out


def _series_chart(plt: Any, report: HarmReport, chinese: bool) -> str:
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    # Distinct line styles and marker sizes: policies at the same count (often 0) stay visible.
    styles = [("-", 9), ("--", 6), (":", 4)]
    for i, (policy, points) in enumerate(report.series.items()):
        xs = [p["at"] for p in points]
        label = _label(POLICY_LABELS[policy], chinese)
        line, size = styles[i % len(styles)]
        for ax, key in ((axes[0], "wrongly_restricted"), (axes[1], "missed")):
            ax.plot(
                xs, [p[key] for p in points], linestyle=line, marker="o", markersize=size,
                linewidth=2, label=label,
            )  # fmt: skip
    axes[0].set_title(_label(COUNT_LABELS["wrongly_restricted"], chinese), fontsize=10)
    axes[1].set_title(_label(COUNT_LABELS["missed"], chinese), fontsize=10)
    for ax in axes:
        ax.set_ylabel("人数 / people" if chinese else "people")
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    _legend_below(figure, axes[0], len(report.series))
    out = _png(figure)
    plt.close(figure)
    return out


def _by_error_chart(plt: Any, results: Sequence[PolicyResult], chinese: bool) -> str:
    kinds = [k for k in results[0].by_error if k != "none"] if results else []
    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    height = 0.8 / max(len(results), 1)
    for i, result in enumerate(results):
        ys = [j + (i - (len(results) - 1) / 2) * height for j in range(len(kinds))]
        label = _label(POLICY_LABELS[result.policy], chinese)
        axes[0].barh(
            ys, [result.by_error[k]["wrongly_restricted"] for k in kinds], height, label=label
        )
        axes[1].barh(ys, [result.by_error[k]["missed"] for k in kinds], height, label=label)
    axes[0].set_yticks(range(len(kinds)))
    axes[0].set_yticklabels(kinds, fontsize=9)
    axes[0].set_title(
        "被错误限制的人（任何原因）/ wrongly restricted, any cause"
        if chinese
        else "wrongly restricted, any cause",
        fontsize=10,
    )
    axes[1].set_title(_label(COUNT_LABELS["missed"], chinese), fontsize=10)
    for ax in axes:
        ax.set_xlabel("人数 / people" if chinese else "people")
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    _legend_below(figure, axes[0], len(results))
    out = _png(figure)
    plt.close(figure)
    return out


_TEMPLATE = jinja2.Environment(
    loader=jinja2.PackageLoader("xinyong.lab", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
)


def render_html(report: HarmReport) -> str:
    """The whole page (UTF-8 text)."""
    charts = render_charts(report)
    template = _TEMPLATE.get_template("harm.html")
    return template.render(
        report=report,
        charts=charts,
        policy_labels=POLICY_LABELS,
        cjk=cjk_font() is not None,
        escape=html.escape,
    )


def write_html(report: HarmReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
