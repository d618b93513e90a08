"""A Kafka-protocol broker for the integration tests, and helpers to produce and read topics.

The broker is ``$CDI_TEST_KAFKA_BOOTSTRAP`` when set; otherwise the embedded
broker (the ``embedded`` extra); otherwise a Kafka container when a Docker
engine answers. With none of these the test is skipped, except under
``CI=true``, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

BOOTSTRAP_ENV = "CDI_TEST_KAFKA_BOOTSTRAP"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: integration tests must run, not skip)")
    pytest.skip(reason)


def require_embedded_broker() -> None:
    """The demo needs the embedded broker itself: skip without it, but never under CI."""
    try:
        from monitor.adapters.kafka.embedded_broker import broker_binary

        broker_binary()
    except Exception as exc:
        _unavailable(f"the embedded broker is not available: {exc}")


@contextmanager
def kafka_broker(log_path: Path) -> Iterator[str]:
    """Yield a bootstrap address of a running broker."""
    given = os.environ.get(BOOTSTRAP_ENV)
    if given:
        yield given
        return
    try:
        from monitor.adapters.kafka.embedded_broker import (
            EmbeddedBroker,
            EmbeddedBrokerError,
            broker_binary,
        )

        broker_binary()
    except Exception as exc:
        embedded_error: Exception | None = exc
    else:
        embedded_error = None
    if embedded_error is None:
        broker = EmbeddedBroker(log_path=log_path)
        try:
            broker.start()
        except EmbeddedBrokerError as exc:
            _unavailable(f"the embedded broker did not start: {exc}")
        try:
            yield broker.bootstrap
        finally:
            broker.stop()
        return
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0
    ):
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as container:
            yield container.get_bootstrap_server()
        return
    _unavailable(
        f"no Kafka broker: set {BOOTSTRAP_ENV}, install the embedded extra "
        f"({embedded_error}), or provide a Docker engine"
    )


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    raw: bytes

    @property
    def value(self) -> dict[str, Any]:
        return json.loads(self.raw)

    @property
    def type(self) -> str:
        return self.value.get("type", "")


class Topics:
    """Produce to and read from topics on one broker."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._producer: KafkaProducer | None = None
        self._unconfirmed: list[Any] = []

    @property
    def producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self.bootstrap, acks="all", linger_ms=2
            )
        return self._producer

    def send(self, topic: str, key: str | bytes | None, value: bytes | dict[str, Any]) -> None:
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        k = key.encode() if isinstance(key, str) else key
        self._unconfirmed.append(self.producer.send(topic, key=k, value=raw))

    def flush(self) -> None:
        """Wait until every record sent so far is on the broker; raise if one was not."""
        self.producer.flush(timeout=30)
        sent, self._unconfirmed = self._unconfirmed, []
        failed = [f.exception or "not acknowledged" for f in sent if not f.succeeded()]
        if failed:
            raise AssertionError(f"{len(failed)} of {len(sent)} not produced: {failed[0]!r}")

    def read(self, topic: str) -> list[Record]:
        """Everything currently in a topic, from the beginning."""
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, consumer_timeout_ms=1500
        )
        try:
            partitions = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            if not tps:
                return []
            consumer.assign(tps)
            consumer.seek_to_beginning(*tps)
            return [Record(m.topic, m.partition, m.offset, m.key, m.value) for m in consumer]
        finally:
            consumer.close()

    def wait_for(
        self,
        topic: str,
        predicate: Callable[[list[Record]], bool],
        timeout: float = 60.0,
        what: str = "",
    ) -> list[Record]:
        deadline = time.monotonic() + timeout
        records: list[Record] = []
        while time.monotonic() < deadline:
            records = self.read(topic)
            if predicate(records):
                return records
            time.sleep(0.5)
        types = sorted({r.type for r in records})
        raise AssertionError(
            f"timed out after {timeout}s waiting for {what or 'a condition'} on {topic}: "
            f"{len(records)} records of types {types}"
        )

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()
