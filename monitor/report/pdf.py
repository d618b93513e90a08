"""The report as a PDF for print (ReportLab's page layout; A4; the same figures and charts).

Text is set in DejaVu Sans, the font matplotlib ships and draws the charts
with, embedded in the file: it has every character the report uses (± – ×).
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import matplotlib
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from monitor.report import text
from monitor.report.figures import ReportFigures
from monitor.report.html import method

WIDTH = A4[0] - 36 * mm
_FONT = "DejaVuSans"


def _fonts() -> None:
    if _FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(_FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(f"{_FONT}-Bold", str(folder / "DejaVuSans-Bold.ttf")))


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=base["BodyText"], fontName=_FONT, fontSize=9.5, leading=13)
    return {
        "title": ParagraphStyle(
            "title", parent=body, fontName=f"{_FONT}-Bold", fontSize=16, leading=20, spaceAfter=4
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=f"{_FONT}-Bold",
            fontSize=12.5,
            leading=16,
            spaceBefore=10,
            spaceAfter=4,
            textColor=colors.HexColor("#0B3C68"),
        ),
        "body": body,
        "lead": ParagraphStyle("lead", parent=body, fontSize=11.5, leading=16),
        "small": ParagraphStyle(
            "small", parent=body, fontSize=8, leading=10.5, textColor=colors.HexColor("#333333")
        ),
    }


def _image(png: bytes) -> Image:
    image = Image(io.BytesIO(png))
    scale = WIDTH / image.imageWidth
    image.drawWidth, image.drawHeight = WIDTH, image.imageHeight * scale
    return image


def _table(rows: list[list[Any]], widths: list[float], numeric: tuple[int, ...] = ()) -> Table:
    """A table with a bold header; ``numeric`` columns are right-aligned."""
    table = Table(rows, colWidths=[w * WIDTH for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), _FONT, 8),
                ("FONT", (0, 0), (-1, 0), f"{_FONT}-Bold", 8),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#999999")),
                *[("ALIGN", (c, 0), (c, -1), "RIGHT") for c in numeric],
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _wrap(refs: list[str], style: ParagraphStyle) -> Paragraph:
    return Paragraph(", ".join(refs) or "–", style)


def render(f: ReportFigures, charts: dict[str, bytes], force_name: str) -> bytes:
    _fonts()
    s = _styles()
    e, t = f.estimate, f.timeliness
    last_day = (f.period.end - timedelta(seconds=1)).strftime("%d %b %Y")
    story: list[Flowable] = [
        Paragraph("Crime data integrity: internal audit and recording timeliness", s["title"]),
        Paragraph(
            f"{force_name} · period {f.period.label} ({f.period.start:%d %b %Y} to {last_day}, "
            f"{f.time_zone}) · generated {f.generated_at:%d %b %Y %H:%M} UTC by cdi-monitor",
            s["small"],
        ),
        Paragraph("Headline", s["h2"]),
    ]
    if e is not None and e.force is not None:
        story.append(
            Paragraph(
                f"Of the crimes that should have been recorded, the force recorded "
                f"<b>{text.pct(e.force.estimate)}</b> (95% interval {text.pct(e.force.lower)} to "
                f"{text.pct(e.force.upper)}), from {text.count(e.answered)} audited incidents "
                f"of sample {e.sample.period.label}. About <b>{text.unrecorded(e.unrecorded)}</b> "
                f"crimes a year are not recorded.",
                s["lead"],
            )
        )
    elif e is not None:
        story.append(
            Paragraph(f"The audit of {e.sample.period.label} has found no crime yet.", s["lead"])
        )
    else:
        story.append(Paragraph("No audit sample has been drawn for this period.", s["lead"]))
    if "headline" in charts:
        story.append(_image(charts["headline"]))
    story.append(
        Paragraph(
            f"Timeliness (a census of the ledger): <b>{text.pct(t.share_within_target)}</b> of "
            f"{text.count(t.recorded)} crimes recorded within 24 hours; median delay "
            f"{text.duration(t.median_seconds)}, 90th percentile {text.duration(t.p90_seconds)}; "
            f"{text.count(t.unrecorded_past_deadline)} crime-related incidents still unrecorded "
            "past their deadline.",
            s["body"],
        )
    )
    if e is not None:
        rows = [
            [
                "Category",
                "Incidents",
                "Sampled",
                "Answered",
                "Crimes",
                "Recorded",
                "Rate (95% interval)",
            ]
        ]
        priority = {p.stratum for p in e.sample.strata if p.priority}
        rows += [
            [
                text.words(x.stratum) + (" *" if x.stratum in priority else ""),
                text.count(x.population),
                text.count(x.sampled),
                text.count(x.answered),
                text.count(x.crimes),
                text.count(x.recorded),
                text.interval(x.rate),
            ]
            for x in e.strata
        ]
        block: list[Flowable] = [Paragraph("Recording rate by category", s["h2"])]
        if "categories" in charts:
            block.append(_image(charts["categories"]))
        story.append(KeepTogether(block))
        story.append(_table(rows, [0.22, 0.1, 0.09, 0.1, 0.09, 0.1, 0.3], (1, 2, 3, 4, 5, 6)))
        story.append(
            Paragraph(
                "* categories officers find hard, sampled at twice the rate with --size.",
                s["small"],
            )
        )
    for title, name in (("Timeliness per week", "weekly"), ("How long recording took", "delays")):
        heading = Paragraph(title, s["h2"])
        story.append(KeepTogether([heading, _image(charts[name])]) if name in charts else heading)
    story.append(Paragraph("Per division", s["h2"]))
    rows = [["Division", "Recorded", "Within 24 h", "Median", "90th pct", "Overdue, unrecorded"]]
    rows += [
        [
            "All divisions" if d.group == "all" else text.words(d.group),
            text.count(d.recorded),
            text.pct(d.share_within_target),
            text.duration(d.median_seconds),
            text.duration(d.p90_seconds),
            text.count(d.unrecorded_past_deadline),
        ]
        for d in f.by_division
    ]
    story.append(_table(rows, [0.28, 0.11, 0.12, 0.12, 0.12, 0.25], (1, 2, 3, 4, 5)))
    story.append(Paragraph("The audit's findings: crimes closed without a record", s["h2"]))
    rows_f: list[list[object]] = [["Category", "Wrongly closed", "Incidents"]]
    rows_f += [
        [text.words(c), str(len(refs)), _wrap(refs, s["small"])]
        for c, refs in f.wrongly_closed.items()
    ] or [["None found", "", ""]]
    story.append(_table(rows_f, [0.25, 0.15, 0.6], (1,)))
    if f.recorded_incorrectly:
        story.append(Paragraph("Recorded, but under the wrong offence group:", s["body"]))
        rows_i: list[list[object]] = [["Category", "Recorded wrongly", "Incidents"]]
        rows_i += [
            [text.words(c), str(len(r)), _wrap(r, s["small"])]
            for c, r in f.recorded_incorrectly.items()
        ]
        story.append(_table(rows_i, [0.25, 0.15, 0.6], (1,)))
    story.append(Paragraph("Feedback to divisions and closing teams", s["h2"]))
    for title, lines in (("Division", f.feedback_divisions), ("Closing team", f.feedback_teams)):
        rows_b: list[list[object]] = [[title, "Audited", "Wrongly closed", "Incidents"]]
        rows_b += [
            [
                text.words(x.name),
                str(x.audited),
                str(len(x.wrongly_closed)),
                _wrap(x.wrongly_closed, s["small"]),
            ]
            for x in lines
        ]
        story.append(_table(rows_b, [0.3, 0.12, 0.15, 0.43], (1, 2)))
        story.append(Paragraph(" ", s["small"]))
    story.append(Paragraph("Method", s["h2"]))
    story.append(Paragraph(method(f), s["small"]))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=f"Crime data integrity {f.period.label}",
        author="cdi-monitor",
    )
    document.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


def _footer(canvas: Any, document: Any) -> None:
    canvas.saveState()
    canvas.setFont(_FONT, 7.5)
    canvas.drawRightString(A4[0] - 18 * mm, 9 * mm, f"page {document.page}")
    canvas.drawString(18 * mm, 9 * mm, "OFFICIAL · references only: no victim details")
    canvas.restoreState()
