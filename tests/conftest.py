"""Shared fixtures: a broker, a PostgreSQL database and workers run as separate processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.kafka import Topics, kafka_broker
from tests.support.postgres import fresh_postgres_database
from tests.support.worker import Deployment, WorkerProcess


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def broker(log_dir: Path) -> Iterator[str]:
    with kafka_broker(log_dir / "broker.log") as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def topics(broker: str) -> Iterator[Topics]:
    t = Topics(broker)
    yield t
    t.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def start_worker(
    log_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start workers for a deployment; stop them afterwards and show their logs if a test failed."""
    started: list[WorkerProcess] = []

    def start(deployment: Deployment, **kwargs: object) -> WorkerProcess:
        worker = WorkerProcess(deployment, log_dir).start(**kwargs)  # type: ignore[arg-type]
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        for worker in started:
            print(
                f"\n--- log of worker {worker.deployment.name} on :{worker.port} ---\n"
                f"{worker.log()}"
            )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
