"""An auditor's answer about one sampled incident, and what it means for the estimate.

For each incident the auditor decides, from its history, whether a crime should
have been recorded (``yes``, ``no`` or ``cannot_tell``), the offence group it
should have been recorded as, and — when it was recorded — whether the record
was right. Whether it *was* recorded is not asked: the ledger knows (a crime
record naming the incident).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ShouldRecord(StrEnum):
    YES = "yes"
    NO = "no"
    CANNOT_TELL = "cannot_tell"


OFFENCE_GROUPS = (
    "violence_against_the_person",
    "sexual_offences",
    "robbery",
    "theft_offences",
    "burglary",
    "criminal_damage_and_arson",
    "drug_offences",
    "possession_of_weapons_offences",
    "public_order_offences",
    "miscellaneous_crimes_against_society",
    "fraud_offences",
)
"""The Home Office offence groups an auditor may name (as the crime records use them)."""


@dataclass(frozen=True, slots=True)
class Answer:
    should_record: ShouldRecord
    offence_group: str | None = None
    recorded_correctly: bool | None = None
    note: str | None = None


class InvalidAnswer(ValueError):
    """The answer contradicts itself; ``errors`` says what is wrong, by field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def check(answer: Answer, *, recorded: bool) -> Answer:
    """The rules an answer must keep, given whether the incident has a crime record.

    - ``yes`` names the offence group the crime should have been recorded as.
    - ``recorded_correctly`` is said for a recorded incident judged a crime, and only then.
    - ``no`` and ``cannot_tell`` name no offence group.
    """
    errors: dict[str, str] = {}
    if answer.should_record is ShouldRecord.YES:
        if answer.offence_group not in OFFENCE_GROUPS:
            errors["offence_group"] = "name the offence group the crime should have been"
        if recorded and answer.recorded_correctly is None:
            errors["recorded_correctly"] = "say whether the crime was recorded correctly"
        if not recorded and answer.recorded_correctly is not None:
            errors["recorded_correctly"] = "the incident has no crime record"
    else:
        if answer.offence_group is not None:
            errors["offence_group"] = "only a crime that should have been recorded has one"
        if answer.recorded_correctly is not None:
            errors["recorded_correctly"] = "only asked when a crime should have been recorded"
    if errors:
        raise InvalidAnswer(errors)
    return answer


@dataclass(frozen=True, slots=True)
class AuditedIncident:
    """A sampled incident with its answer (if any) and what the ledger says of it."""

    incident_id: str
    stratum: str
    recorded: bool
    answer: Answer | None = None
    division: str | None = None
    closing_code: str | None = None
    closed_by_team: str | None = None

    @property
    def judged(self) -> bool:
        """Answered yes or no: counts in the estimate (``cannot_tell`` does not)."""
        return self.answer is not None and self.answer.should_record is not ShouldRecord.CANNOT_TELL

    @property
    def should_record(self) -> bool:
        return self.answer is not None and self.answer.should_record is ShouldRecord.YES

    @property
    def unrecorded_crime(self) -> bool:
        return self.should_record and not self.recorded

    @property
    def wrongly_closed(self) -> bool:
        """A crime closed without a crime record: the feedback the inspectorate asks for."""
        return self.unrecorded_crime and self.closing_code not in (None, "crime_recorded")

    @property
    def recorded_incorrectly(self) -> bool:
        return (
            self.should_record
            and self.recorded
            and self.answer is not None
            and self.answer.recorded_correctly is False
        )
