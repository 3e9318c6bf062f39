"""The notification settings form: one row per kind, checkboxes named by ids.

`kind` (repeated) lists the rows that were on the page; `email_<kind>` and `robot_<kind>_<robot>`
are the ticked boxes. Anything unparsable is ignored (the page is re-rendered from the database).
"""

from __future__ import annotations

from django.http import QueryDict


def _int(value: str) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def parse_preferences(data: QueryDict) -> dict[int, tuple[bool, set[int]]]:
    choices: dict[int, tuple[bool, set[int]]] = {}
    for raw in data.getlist("kind"):
        kind_id = _int(raw)
        if kind_id is not None:
            choices[kind_id] = (f"email_{kind_id}" in data, set())
    for name in data:
        if not name.startswith("robot_"):
            continue
        parts = name.split("_")
        if len(parts) != 3:
            continue
        kind_id, robot_id = _int(parts[1]), _int(parts[2])
        if kind_id in choices and robot_id is not None:
            choices[kind_id][1].add(robot_id)
    return choices
