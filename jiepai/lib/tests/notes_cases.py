"""Loading and scoring the note test set (notes_testset.txt); shared by the test and the bench."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from jiepai.lib.notes import ParsedNote

TESTSET = Path(__file__).with_name("notes_testset.txt")


@dataclass(frozen=True)
class NoteCase:
    line: int
    now: datetime.datetime
    text: str
    contact: str | None
    action: str | None
    due: str | None
    set_name: str = "tuned"


def load_cases(path: Path = TESTSET) -> list[NoteCase]:
    cases = []
    now: datetime.datetime | None = None
    set_name = "tuned"
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@now "):
            now = datetime.datetime.fromisoformat(line.removeprefix("@now ").strip())
            continue
        if line.startswith("@set "):
            set_name = line.removeprefix("@set ").strip()
            continue
        if now is None:
            raise ValueError(f"line {number}: a note before any @now line")
        text, contact, action, due = (part.strip() for part in line.split("|"))
        cases.append(
            NoteCase(
                number,
                now,
                text,
                None if contact == "-" else contact,
                None if action == "-" else action,
                None if due == "-" else due,
                set_name,
            )
        )
    return cases


def due_as_written(parsed: ParsedNote) -> str | None:
    if parsed.due is None:
        return None
    return parsed.due.strftime("%Y-%m-%d %H:%M" if parsed.due_has_time else "%Y-%m-%d")


@dataclass(frozen=True)
class Outcome:
    case: NoteCase
    contact: str | None
    action: str | None
    due: str | None

    @property
    def contact_ok(self) -> bool:
        return self.contact == self.case.contact

    @property
    def action_ok(self) -> bool:
        return self.action == self.case.action

    @property
    def due_ok(self) -> bool:
        return self.due == self.case.due

    @property
    def all_ok(self) -> bool:
        return self.contact_ok and self.action_ok and self.due_ok


def outcome(case: NoteCase, parsed: ParsedNote) -> Outcome:
    return Outcome(
        case, parsed.contact, parsed.action.kind if parsed.action else None, due_as_written(parsed)
    )
