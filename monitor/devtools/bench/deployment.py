"""The benchmark's deployments: settings for a named run, and the environment of its workers."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr

from monitor.settings import Settings


def bench_settings(
    bootstrap: str,
    app_id: str,
    partitions: int,
    database_url: str | None = None,
    inputs: str | None = None,
) -> Settings:
    """A deployment named ``app_id``; it reads the input topics of ``inputs`` if given.

    Without ``database_url`` it has the default ledger (for runs that never write one).
    """
    settings = Settings(
        kafka_bootstrap_servers=bootstrap,
        app_id=app_id,
        incidents_topic=f"{inputs or app_id}-incidents",
        crime_records_topic=f"{inputs or app_id}-crime-records",
        outcomes_topic=f"{app_id}-outcomes",
        alerts_topic=f"{app_id}-alerts",
        dead_letter_topic=f"{app_id}-dead-letters",
        referrals_topic=f"{app_id}-referrals",
        topic_partitions=partitions,
    )
    if database_url is None:
        return settings
    return settings.model_copy(update={"database_url": SecretStr(database_url)})


def worker_env(settings: Settings) -> dict[str, str]:
    values = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "APP_ID": settings.app_id,
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "INCIDENTS_TOPIC": settings.incidents_topic,
        "CRIME_RECORDS_TOPIC": settings.crime_records_topic,
        "OUTCOMES_TOPIC": settings.outcomes_topic,
        "ALERTS_TOPIC": settings.alerts_topic,
        "DEAD_LETTER_TOPIC": settings.dead_letter_topic,
        "REFERRALS_TOPIC": settings.referrals_topic,
        "TOPIC_PARTITIONS": str(settings.topic_partitions),
        "LOG_LEVEL": "info",
    }
    env = {f"CDI_{k}": v for k, v in values.items()}
    # Security settings given to the bench apply to its worker too.
    env.update({k: v for k, v in os.environ.items() if k.startswith("CDI_KAFKA_")})
    env["CDI_KAFKA_BOOTSTRAP_SERVERS"] = settings.kafka_bootstrap_servers
    return env


def database_url(work: Path, name: str) -> str:
    return os.environ.get("CDI_DATABASE_URL") or f"sqlite:///{work / name}.db"
