"""Writes the Grafana dashboards in deploy/grafana/dashboards from the panel list below.

    python deploy/grafana/build_dashboards.py

A test fails when the JSON files are stale, and checks that every expression
names only metrics a running worker exports (or recording rules).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "cdi-prometheus"}
OUT = Path(__file__).resolve().parent / "dashboards"
SELECT = 'force=~"$force", division=~"$division"'


def target(expr: str, legend: str = "", fmt: str = "time_series") -> dict[str, Any]:
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "format": fmt}


def panel(
    kind: str,
    title: str,
    description: str,
    targets: list[dict[str, Any]],
    *,
    unit: str = "short",
    width: int = 12,
    height: int = 8,
    options: dict[str, Any] | None = None,
    field: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [dict(t, refId=chr(ord("A") + i)) for i, t in enumerate(targets)],
        "fieldConfig": {"defaults": {"unit": unit, **(field or {})}, "overrides": []},
        "options": options or {},
        "gridPos": {"w": width, "h": height},
    }


def row(title: str) -> dict[str, Any]:
    return {
        "type": "row",
        "title": title,
        "collapsed": False,
        "panels": [],
        "gridPos": {"w": 24, "h": 1},
    }


def compliance(by: str) -> str:
    """Share of decisions in 24 h, over the last day, by ``by``: the SLI of the rules file."""
    bad = f'sum by ({by}) (rate(cdi_alerts_raised_total{{kind="overdue", {SELECT}}}[1d]))'
    good = f'sum by ({by}) (rate(cdi_recordings_total{{outcome="within_target", {SELECT}}}[1d]))'
    return (
        f"1 - (({bad}) or 0 * ({good})) / ((({bad}) or 0 * ({good})) + (({good}) or 0 * ({bad})))"
    )


THRESHOLDS_90 = {
    "thresholds": {
        "mode": "absolute",
        "steps": [
            {"color": "red", "value": None},
            {"color": "orange", "value": 0.85},
            {"color": "green", "value": 0.9},
        ],
    },
    "min": 0,
    "max": 1,
}


def panels() -> list[dict[str, Any]]:
    return [
        row("Now"),
        panel(
            "stat",
            "Awaiting recording",
            "Crime-related incidents reported and not yet recorded nor closed (overdue included).",
            [target(f"sum(cdi_incidents_awaiting_recording{{{SELECT}}})")],
            width=6,
            height=5,
        ),
        panel(
            "stat",
            "Overdue now",
            "Awaiting incidents past their 24-hour deadline. Each has an overdue alert.",
            [target(f"sum(cdi_incidents_overdue{{{SELECT}}})")],
            width=6,
            height=5,
            field={
                "color": {"mode": "thresholds"},
                "thresholds": {
                    "mode": "absolute",
                    "steps": [{"color": "green", "value": None}, {"color": "red", "value": 1}],
                },
            },
        ),
        panel(
            "stat",
            "Oldest unrecorded incident",
            "Age of the oldest crime-related incident still awaiting its crime record.",
            [target(f"max(cdi_oldest_unrecorded_incident_age_seconds{{{SELECT}}})")],
            unit="s",
            width=6,
            height=5,
            field={
                "color": {"mode": "thresholds"},
                "thresholds": {
                    "mode": "absolute",
                    "steps": [
                        {"color": "green", "value": None},
                        {"color": "orange", "value": 72000},
                        {"color": "red", "value": 86400},
                    ],
                },
            },
        ),
        panel(
            "stat",
            "Recorded within 24 h (last 24 h)",
            "Recordings in time over all decisions (in time, or deadline missed) in the last day.",
            [target(compliance("force"))],
            unit="percentunit",
            width=6,
            height=5,
            field=THRESHOLDS_90,
        ),
        panel(
            "bargauge",
            "Awaiting and overdue by division",
            "Where the backlog is.",
            [
                target(
                    f"sum by (division) (cdi_incidents_overdue{{{SELECT}}})", "{{division}} overdue"
                ),
                target(
                    f"sum by (division) (cdi_incidents_awaiting_recording{{{SELECT}}})",
                    "{{division}} awaiting",
                ),
            ],
            width=12,
            options={"orientation": "horizontal", "displayMode": "basic"},
        ),
        panel(
            "bargauge",
            "Overdue by category",
            "Which kinds of crime wait longest.",
            [target(f"sum by (category) (cdi_incidents_overdue{{{SELECT}}})", "{{category}}")],
            width=12,
            options={"orientation": "horizontal", "displayMode": "basic"},
        ),
        row("Compliance"),
        panel(
            "timeseries",
            "Recorded within 24 hours, by division (rolling 24 h)",
            "The share of decisions that were recordings in time, over the previous 24 hours. "
            "The SLO is 90%.",
            [target(compliance("division"), "{{division}}")],
            unit="percentunit",
            field=THRESHOLDS_90 | {"custom": {"thresholdsStyle": {"mode": "line"}}},
        ),
        panel(
            "timeseries",
            "Recorded within 24 hours, by category (rolling 24 h)",
            "As on the left, by the incident's category.",
            [target(compliance("category"), "{{category}}")],
            unit="percentunit",
            field=THRESHOLDS_90 | {"custom": {"thresholdsStyle": {"mode": "line"}}},
        ),
        panel(
            "timeseries",
            "Error budget burn rate (1 h and 6 h)",
            "Deadlines missed over all decisions, divided by the 10% the SLO allows. "
            "Pages above 6 (1 h) or 3 (6 h); see the runbook.",
            [
                target(f"cdi:recording_error:ratio_rate1h{{{SELECT}}} / 0.10", "{{division}} 1h"),
                target(f"cdi:recording_error:ratio_rate6h{{{SELECT}}} / 0.10", "{{division}} 6h"),
            ],
            width=24,
        ),
        row("Recording delay"),
        panel(
            "heatmap",
            "Recording delay distribution",
            "Time from report to crime record, per histogram bucket (86,400 s is the deadline).",
            [
                target(
                    f"sum by (le) (increase(cdi_recording_delay_seconds_bucket{{{SELECT}}}[$__rate_interval]))",  # noqa: E501
                    "{{le}}",
                    "heatmap",
                )
            ],
            unit="s",
            options={"calculate": False, "yAxis": {"unit": "s"}, "cellGap": 1},
        ),
        panel(
            "timeseries",
            "Recording delay percentiles (last hour)",
            "Median, 90th and 99th percentile of the delay from report to record.",
            [
                target(
                    f"histogram_quantile({q}, sum by (le) (rate(cdi_recording_delay_seconds_bucket{{{SELECT}}}[1h])))",  # noqa: E501
                    f"p{int(q * 100)}",
                )
                for q in (0.5, 0.9, 0.99)
            ],
            unit="s",
        ),
        row("Internal audit (crime data integrity)"),
        panel(
            "stat",
            "Audit recording rate (force)",
            "Crimes recorded of crimes that should have been, found by the latest internal "
            "audit (cdi-monitor audit sample, answered on the board), with its 95% interval. "
            "HMICFRS found 84.1% in Leicestershire in 2018.",
            [
                target('max(cdi_audit_recording_rate{stratum="all"})', "estimate"),
                target('max(cdi_audit_recording_rate_lower{stratum="all"})', "lower"),
                target('max(cdi_audit_recording_rate_upper{stratum="all"})', "upper"),
            ],
            unit="percentunit",
            width=8,
            field=THRESHOLDS_90,
            options={"textMode": "value_and_name", "colorMode": "value"},
        ),
        panel(
            "bargauge",
            "Audit recording rate by category",
            "The latest audit's rate per category (every worker exports the same: max, not sum). "
            "The report and the board's Audit figures view show the intervals.",
            [target('max by (stratum) (cdi_audit_recording_rate{stratum!="all"})', "{{stratum}}")],
            unit="percentunit",
            width=16,
            field=THRESHOLDS_90,
            options={"orientation": "horizontal", "displayMode": "basic"},
        ),
        row("Throughput and freshness"),
        panel(
            "timeseries",
            "Events consumed",
            "Input events per second by topic and type.",
            [
                target(
                    "sum by (topic, type) (rate(cdi_events_consumed_total[$__rate_interval]))",
                    "{{topic}} {{type}}",
                )
            ],
            unit="ops",
            width=8,
        ),
        panel(
            "timeseries",
            "Alerts and outcomes",
            "Alerts raised by kind, incidents closed without crime, crimes that name no incident.",
            [
                target(
                    f"sum by (kind) (increase(cdi_alerts_raised_total{{{SELECT}}}[1h]))",
                    "{{kind}} alerts",
                ),
                target(
                    "sum(increase(cdi_incidents_closed_without_crime_total[1h]))",
                    "closed without crime",
                ),
                target("sum(increase(cdi_crimes_unlinked_total[1h]))", "crimes unlinked"),
            ],
            width=8,
        ),
        panel(
            "timeseries",
            "Time since the last event",
            "Each worker handles a watermark tick every second while the pipeline flows.",
            [target("time() - cdi_last_event_processed_timestamp_seconds", "{{instance}}")],
            unit="s",
            width=8,
        ),
        panel(
            "timeseries",
            "Consumer lag",
            "Messages not yet read, by topic.",
            [target("sum by (topic) (cdi_consumer_lag_messages)", "{{topic}}")],
            width=8,
        ),
        panel(
            "timeseries",
            "Partition clock behind now",
            "How far each partition's clock (the time alerts are raised by) trails the wall clock.",
            [
                target(
                    "max by (partition) (cdi_partition_clock_lag_seconds)",
                    "partition {{partition}}",
                )
            ],
            unit="s",
            width=8,
        ),
        panel(
            "timeseries",
            "Dead letters",
            "Rejected inputs by topic and reason; they are on the dead-letter topic.",
            [
                target(
                    "sum by (topic, reason) (increase(cdi_events_rejected_total[$__rate_interval]))",  # noqa: E501
                    "{{topic}} {{reason}}",
                )
            ],
            width=8,
            field={"custom": {"drawStyle": "bars"}},
        ),
    ]


def layout(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give each panel an id and a place: left to right, wrapping at Grafana's 24 columns."""
    x = y = row_height = 0
    for number, item in enumerate(items, start=1):
        grid = item["gridPos"]
        if x + grid["w"] > 24 or item["type"] == "row":
            x, y, row_height = 0, y + row_height, 0
        grid.update(x=x, y=y)
        item["id"] = number
        x += grid["w"]
        row_height = max(row_height, grid["h"])
    return items


def variable(name: str, label: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {
            "query": f"label_values(cdi_incidents_awaiting_recording, {name})",
            "refId": name,
        },
        "definition": f"label_values(cdi_incidents_awaiting_recording, {name})",
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"text": "All", "value": "$__all"},
        "refresh": 2,
        "sort": 1,
    }


def recording_dashboard() -> dict[str, Any]:
    return {
        "uid": "cdi-recording",
        "title": "Crime recording timeliness",
        "description": "NCRS: crime-related incidents recorded within 24 hours (cdi-monitor).",
        "tags": ["cdi-monitor", "ncrs"],
        "timezone": "browser",
        "editable": False,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-7d", "to": "now"},
        "templating": {"list": [variable("force", "Force"), variable("division", "Division")]},
        "annotations": {"list": []},
        "links": [],
        "panels": layout(panels()),
    }


DASHBOARDS = {"cdi-recording.json": recording_dashboard}


def render() -> dict[str, str]:
    return {name: json.dumps(build(), indent=2) + "\n" for name, build in DASHBOARDS.items()}


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")
