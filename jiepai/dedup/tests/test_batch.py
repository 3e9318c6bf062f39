"""find_duplicates_batch decides what the door check (find_duplicates) decides, for many at once."""

from __future__ import annotations

import random

import pytest

from jiepai.customers.services import create_account, create_contact
from jiepai.dedup.batch import (
    find_duplicates_batch,
    flag_new_records,
    index_new_records,
    taken_unique_keys,
)
from jiepai.dedup.keys import keys_for
from jiepai.dedup.matcher import find_duplicates
from jiepai.dedup.models import DedupPolicy, DuplicateFlag, MatchKey
from jiepai.dedup.services import set_unique_rule
from jiepai.dedup.tests.conftest import NOW
from jiepai.events.models import Event
from jiepai.intake.services import create_lead

NAMES = ["张伟", "张主任", "张总", "王芳", "Zhang Wei", "李娜", "李总", "章伟", "老王", "王丽"]
TITLES = ["", "主任", "采购科主任", "经理", "老师"]
COMPANIES = ["上海瑞金医院", "瑞金医院", "上海交通大学医学院附属瑞金医院", "杭州科达", "科达科技"]
MOBILES = ["", "13800138000", "138 0013 8001", "+86 13800138000", "13900139000", "13800138010"]
EMAILS = ["", "z@x.cn", "Z@X.CN", "li@y.cn"]


def _person(rng: random.Random) -> dict[str, str]:
    return {
        "name": rng.choice(NAMES),
        "title": rng.choice(TITLES),
        "company": rng.choice(COMPANIES),
        "mobile": rng.choice(MOBILES),
        "email": rng.choice(EMAILS),
    }


def _door(entity: str, values: dict[str, str], threshold: float) -> list[tuple[int, float]]:
    return [
        (c.object_id, round(c.score, 9))
        for c in find_duplicates(entity, values, threshold=threshold, limit=5)
    ]


def _batch(entity: str, values: dict[str, str], threshold: float) -> list[tuple[int, float]]:
    (found,) = find_duplicates_batch(entity, [keys_for(entity, values)], threshold=threshold)
    return [(c.object_id, round(c.score, 9)) for c in found]  # type: ignore[misc]


@pytest.mark.django_db
@pytest.mark.parametrize("threshold", [0.5, 0.9])
def test_each_item_gets_what_the_door_check_finds(people, threshold):
    rng = random.Random(4)
    for _ in range(40):
        create_lead(actor=people.marketing, values=_person(rng))
    probes = [_person(rng) for _ in range(60)]
    agreed = [_batch("lead", p, threshold) == _door("lead", p, threshold) for p in probes]
    assert all(agreed), [p for p, ok in zip(probes, agreed, strict=True) if not ok]
    assert sum(bool(_door("lead", p, threshold)) for p in probes) >= 10  # they say something


@pytest.mark.django_db
def test_title_written_contact_meets_the_full_name_like_at_the_door(people):
    account = create_account(actor=people.rep, values={"name": "上海瑞金医院"})
    zhang = create_contact(
        actor=people.rep, values={"name": "张伟", "title": "主任", "account": account}
    )
    values = {"name": "张主任", "company": "上海瑞金医院"}
    assert [c.object_id for c in find_duplicates("contact", values)] == [zhang.pk]
    assert _batch("contact", values, 0.5) == _door("contact", values, 0.5)


@pytest.mark.django_db
def test_an_earlier_item_is_checked_as_if_it_were_saved(people):
    first = {"name": "张主任", "company": "上海瑞金医院", "mobile": "13800138000"}
    second = {"name": "张伟", "company": "瑞金医院", "mobile": "+86 138 0013 8000"}
    found = find_duplicates_batch("lead", [keys_for("lead", first), keys_for("lead", second)])
    assert found[0] == []
    (candidate,) = found[1]
    assert (candidate.object_id, candidate.index) == (None, 0)
    saved = create_lead(actor=people.marketing, values=first)
    (door,) = find_duplicates("lead", second)
    assert door.object_id == saved.pk
    assert candidate.score == pytest.approx(door.score)
    assert "同一手机号" in candidate.reason_texts


@pytest.mark.django_db
def test_a_key_held_by_more_than_the_cap_is_no_evidence_in_a_batch_either(people):
    DedupPolicy.objects.update_or_create(entity="lead", defaults={"generic_key_count": 3})
    for name in ("王甲", "王乙", "王丙"):
        create_lead(actor=people.marketing, values={"name": name, "mobile": "021-12345678"})
    probe = {"name": "李四", "mobile": "(021)1234-5678"}
    assert _batch("lead", probe, 0.0) == _door("lead", probe, 0.0)
    # Within a list, the earlier items make the shared key generic too.
    items = [
        keys_for("lead", {"name": n, "mobile": "13700137000"})
        for n in ["赵一", "钱二", "孙三", "李四", "周五"]
    ]
    found = find_duplicates_batch("lead", items, threshold=0.0)
    assert [len(f) for f in found] == [0, 1, 2, 3, 0]


@pytest.mark.django_db
def test_merged_records_are_not_candidates(people):
    lead = create_lead(actor=people.marketing, values={"name": "张伟", "mobile": "13800138000"})
    other = create_lead(actor=people.marketing, values={"name": "张三", "mobile": "13900139000"})
    type(lead).objects.filter(pk=lead.pk).update(merged_into=other)
    assert _batch("lead", {"name": "张伟", "mobile": "13800138000"}, 0.5) == []


@pytest.mark.django_db
def test_taken_unique_keys_names_stored_and_earlier_holders(people):
    create_contact(actor=people.rep, values={"name": "张主任", "mobile": "13800138000"})
    set_unique_rule(entity="contact", kind="mobile", active=True, actor=people.admin)
    items = [
        keys_for("contact", {"name": "李四", "mobile": "13800138000"}),
        keys_for("contact", {"name": "王五", "mobile": "13900139000"}),
        keys_for("contact", {"name": "赵六", "mobile": "139 0013 9000"}),
    ]
    assert taken_unique_keys("contact", items) == [
        [("mobile", "+8613800138000")],
        [],
        [("mobile", "+8613900139000")],
    ]


@pytest.mark.django_db
def test_new_records_are_indexed_and_flagged_like_allow_and_flag(people):
    existing = create_lead(actor=people.marketing, values={"name": "张伟", "email": "z@x.cn"})
    new = create_lead(actor=people.marketing, values={"name": "张伟", "company": "科达"})
    MatchKey.objects.filter(entity="lead", object_id=new.pk).delete()
    keys = keys_for("lead", {"name": "张伟", "email": "Z@X.cn", "company": "科达"})
    index_new_records("lead", [(new.pk, keys)])
    stored = set(
        MatchKey.objects.filter(entity="lead", object_id=new.pk).values_list("kind", "value")
    )
    assert stored == {(k, v) for k, values in keys.items() for v in values}
    found = find_duplicates_batch("lead", [keys_for("lead", {"email": "z@x.cn"})])[0]
    (candidate,) = [c for c in found if c.object_id == existing.pk]
    flag_new_records("lead", [(new, [(existing.pk, candidate)])], actor=people.marketing,
                     source="import", now=NOW)  # fmt: skip
    flag = DuplicateFlag.objects.get(entity="lead", object_id=new.pk)
    assert (flag.candidate_id, flag.source, flag.created_by) == (
        existing.pk,
        "import",
        people.marketing,
    )
    assert flag.reasons[0]["code"] == "same_email"
    event = Event.objects.get(subject_id=new.pk, verb="lead.duplicate_flagged")
    assert event.data["candidates"][0]["id"] == existing.pk
