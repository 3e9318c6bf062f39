"""Note parser: exact-match accuracy on the test set and latency per note.

    .venv/bin/python bench/bench_notes.py [--rounds 50]

Accuracy is exact match of contact, action kind and due (day, and time of day when one is said)
against jiepai/lib/tests/notes_testset.txt, per field and all three together, for the notes the
parser was tuned on and for the held-out notes written afterwards. Latency: every note parsed
`rounds` times (after one warm-up pass that compiles the regexes), p50/p95/p99/max per call.
No Django needed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jiepai.lib.notes import parse_note  # noqa: E402
from jiepai.lib.tests.notes_cases import load_cases, outcome  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()

    cases = load_cases()
    started = time.perf_counter()
    parse_note("客户李总约周三下午三点看厂", now=cases[0].now)  # compile the patterns
    print(f"first call (compiles patterns): {(time.perf_counter() - started) * 1000:.1f} ms")

    outcomes = [outcome(case, parse_note(case.text, now=case.now)) for case in cases]
    print(f"{'set':<10} {'notes':>5} {'contact':>8} {'action':>8} {'due':>8} {'all three':>10}")
    for name in ("tuned", "held-out", "all"):
        chosen = [o for o in outcomes if name == "all" or o.case.set_name == name]
        if not chosen:
            continue
        n = len(chosen)

        def rate(attr: str, chosen=chosen, n=n) -> str:
            return f"{sum(getattr(o, attr) for o in chosen) / n:.1%}"

        print(
            f"{name:<10} {n:>5} {rate('contact_ok'):>8} {rate('action_ok'):>8} "
            f"{rate('due_ok'):>8} {rate('all_ok'):>10}"
        )
    if args.show_misses:
        for o in outcomes:
            if not o.all_ok:
                print(
                    f"  miss line {o.case.line}: {o.case.text} → {o.contact} / {o.action} / {o.due}"
                )

    timings = []
    best = [float("inf")] * len(cases)
    for _ in range(args.rounds):
        for index, case in enumerate(cases):
            t0 = time.perf_counter()
            parse_note(case.text, now=case.now)
            elapsed = (time.perf_counter() - t0) * 1000
            timings.append(elapsed)
            best[index] = min(best[index], elapsed)
    print(
        f"latency over {len(timings)} calls: p50 {statistics.median(timings):.3f} ms, "
        f"p95 {percentile(timings, 0.95):.3f} ms, p99 {percentile(timings, 0.99):.3f} ms, "
        f"max {max(timings):.3f} ms"
    )
    # each note's best of the rounds: the parser's own cost without scheduler noise (other
    # processes on a shared 2-core machine pre-empt single calls)
    print(
        f"per-note best of {args.rounds}: p50 {statistics.median(best):.3f} ms, "
        f"p95 {percentile(best, 0.95):.3f} ms, max {max(best):.3f} ms"
    )


if __name__ == "__main__":
    main()
