"""The report's charts, drawn with matplotlib (no pyplot: no global state, safe in threads).

Readable in print and for colour-blind readers: the Okabe-Ito palette (Okabe &
Ito, "Color Universal Design", 2008), which stays distinct for the common
colour-vision deficiencies; every series also differs in marker or line style
and is labelled in words, so a black-and-white print loses nothing. Intervals
are black error bars; the 24-hour target is a dashed black line.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from monitor.report.figures import PUBLISHED, ReportFigures

BLUE, ORANGE, VERMILLION, SKY, GREEN, GREY = (
    "#0072B2",
    "#E69F00",
    "#D55E00",
    "#56B4E9",
    "#009E73",
    "#7F7F7F",
)
DPI = 200
HOUR = 3600.0


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    figure.set_facecolor("white")
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _words(code: str) -> str:
    return code.replace("_", " ")


def _style(ax: Axes) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=8)


def headline(f: ReportFigures) -> bytes:
    """The force's recording rate and interval beside the inspectorate's published figures."""
    rows: list[tuple[str, float, float | None, float | None, str]] = []
    e = f.estimate
    if e is not None and e.force is not None:
        rows.append(
            (f"This audit ({e.sample.period.label})", e.force.estimate, e.force.lower,
             e.force.upper, BLUE)
        )  # fmt: skip
    for name, rate, margin in PUBLISHED:
        low = rate - margin if margin else None
        high = rate + margin if margin else None
        rows.append((name, rate, low, high, GREY))
    figure = _figure(6.5, 0.55 * len(rows) + 0.9)
    ax = figure.add_subplot()
    for y, (_name, rate, low, high, colour) in enumerate(reversed(rows)):
        marker = "o" if colour == BLUE else "s"
        if low is not None and high is not None:
            ax.errorbar(rate, y, xerr=[[rate - low], [high - rate]], fmt="none", ecolor="black",
                        capsize=4, linewidth=1.2)  # fmt: skip
        ax.plot(rate, y, marker=marker, markersize=9, color=colour, markeredgecolor="black")
        bounds = f"  ({low:.1%} to {high:.1%})" if low is not None and high is not None else ""
        ax.annotate(f"{rate:.1%}{bounds}", (rate, y), xytext=(0, 9), textcoords="offset points",
                    ha="center", fontsize=8)  # fmt: skip
    ax.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)], fontsize=8)
    ax.set_ylim(-0.6, len(rows) - 0.2)
    ax.set_xlim(0.5, 1.0)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Crimes recorded of crimes that should have been (95% interval)", fontsize=8)
    _style(ax)
    return _png(figure)


def categories(f: ReportFigures) -> bytes | None:
    """Each category's recording rate with its Wilson interval, and the force's line."""
    e = f.estimate
    strata = [t for t in e.strata if t.rate is not None] if e is not None else []
    if e is None or not strata:
        return None
    strata.sort(key=lambda t: t.rate.estimate if t.rate else 0)
    figure = _figure(6.5, 0.32 * len(strata) + 1.1)
    ax = figure.add_subplot()
    for y, t in enumerate(strata):
        r = t.rate
        assert r is not None  # noqa: S101 - filtered above
        ax.errorbar(r.estimate, y, xerr=[[r.estimate - r.lower], [r.upper - r.estimate]],
                    fmt="o", color=BLUE, markeredgecolor="black", ecolor="black", capsize=3,
                    markersize=6, linewidth=1)  # fmt: skip
        ax.annotate(f"{r.estimate:.0%} of {t.crimes}", (r.upper, y), xytext=(4, -3),
                    textcoords="offset points", fontsize=7)  # fmt: skip
    if e.force is not None:
        ax.axvline(e.force.estimate, color=VERMILLION, linestyle=":", linewidth=1.5,
                   label=f"force {e.force.estimate:.1%}")  # fmt: skip
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), fontsize=7, frameon=False)
    ax.set_yticks(range(len(strata)), [_words(t.stratum) for t in strata], fontsize=8)
    ax.set_xlim(0, 1.12)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel("Recording rate (Wilson 95% interval); 'of N' = crimes found", fontsize=8)
    _style(ax)
    return _png(figure)


def weekly(f: ReportFigures) -> bytes | None:
    """Per week: the share recorded within 24 hours, and the median and 90th percentile delay
    against the 24-hour target."""
    weeks = [w for w in f.by_week[:-1] if w.recorded]
    if not weeks:
        return None
    labels = [w.group[5:] for w in weeks]  # MM-DD of the Monday
    x = range(len(weeks))
    figure = _figure(6.5, 4.2)
    top, bottom = figure.subplots(2, 1, sharex=True)
    shares = [w.share_within_target or 0.0 for w in weeks]
    top.bar(x, shares, color=SKY, edgecolor="black", linewidth=0.6, hatch="//",
            label="recorded within 24 h")  # fmt: skip
    for i, share in zip(x, shares, strict=True):
        top.annotate(f"{share:.0%}", (i, share), xytext=(0, 2), textcoords="offset points",
                     ha="center", fontsize=7)  # fmt: skip
    top.set_ylim(0, 1.1)
    top.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    top.set_ylabel("Within 24 h", fontsize=8)
    median = [(w.median_seconds or 0) / HOUR for w in weeks]
    p90 = [(w.p90_seconds or 0) / HOUR for w in weeks]
    bottom.plot(x, median, marker="o", color=BLUE, label="median delay")
    bottom.plot(x, p90, marker="^", linestyle="-.", color=ORANGE, label="90th percentile")
    bottom.axhline(24, color="black", linestyle="--", linewidth=1.2, label="24-hour target")
    bottom.set_ylim(0, max(30.0, max(p90) * 1.15))
    bottom.set_ylabel("Hours to record", fontsize=8)
    bottom.set_xticks(list(x), labels, fontsize=7, rotation=45 if len(weeks) > 8 else 0)
    bottom.set_xlabel("Week of the report (starting Monday)", fontsize=8)
    bottom.legend(fontsize=7, frameon=False, loc="upper left", ncols=3)
    for ax in (top, bottom):
        _style(ax)
        ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    return _png(figure)


def delays(f: ReportFigures) -> bytes | None:
    """How long recording took: a histogram in hours, with the 24-hour target."""
    if not f.delays_seconds:
        return None
    hours = [min(s / HOUR, 72.0) for s in f.delays_seconds]
    edges: Sequence[float] = [*range(0, 72, 2), 72.001]  # equal 2-hour bins
    figure = _figure(6.5, 2.8)
    ax = figure.add_subplot()
    counts, _, bars = ax.hist(hours, bins=list(edges), color=GREEN, edgecolor="black",
                              linewidth=0.6)  # fmt: skip
    patches = [bar for bar in bars if isinstance(bar, Rectangle)]  # type: ignore[union-attr]
    for bar, left in zip(patches, edges, strict=False):
        if left >= 24:
            bar.set_facecolor(VERMILLION)
            bar.set_hatch("xx")
    ax.axvline(24, color="black", linestyle="--", linewidth=1.2)
    ax.annotate("24-hour target", (24, max(counts) if len(counts) else 1), xytext=(4, -10),
                textcoords="offset points", fontsize=7)  # fmt: skip
    ax.set_xlabel("Hours from report to crime record (72 h and over in the last bar)", fontsize=8)
    ax.set_ylabel("Incidents", fontsize=8)
    _style(ax)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    return _png(figure)


def all_charts(f: ReportFigures) -> dict[str, bytes]:
    charts = {
        "headline": headline(f),
        "categories": categories(f),
        "weekly": weekly(f),
        "delays": delays(f),
    }
    return {name: png for name, png in charts.items() if png is not None}
