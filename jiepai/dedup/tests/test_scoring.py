"""The scorer on its own: keys in, confidence and reasons out (no database)."""

from __future__ import annotations

from jiepai.dedup.keys import company_keys, person_keys
from jiepai.dedup.scoring import key_factor, score_company, score_person


def codes(match):
    return [r.code for r in match.reasons]


def test_same_mobile_same_company_title_only_name_is_a_duplicate():
    a = person_keys({"name": "张主任", "company": "上海瑞金医院", "mobile": "13800138000"})
    b = person_keys(
        {"name": "张伟", "title": "主任", "company": "瑞金医院", "mobile": "+86 138 0013 8000"}
    )
    match = score_person(a, b)
    assert match.confidence > 0.99
    assert {"same_mobile", "same_surname_title", "same_company"} <= set(codes(match))


def test_mobile_one_digit_off_with_same_name_and_company_is_a_duplicate():
    a = person_keys({"name": "张伟", "company": "瑞金医院", "mobile": "13800138000"})
    b = person_keys({"name": "张伟", "company": "瑞金医院", "mobile": "13800138001"})
    assert "mobile_one_digit_off" in codes(score_person(a, b))
    assert score_person(a, b).confidence > 0.99


def test_pinyin_name_at_same_company_is_likely():
    a = person_keys({"name": "张伟", "company": "瑞金医院"})
    b = person_keys({"name": "Zhang Wei", "company": "上海瑞金医院"})
    match = score_person(a, b)
    assert "same_pinyin" in codes(match)
    assert 0.5 < match.confidence < 0.95


def test_same_name_alone_is_not_enough():
    a = person_keys({"name": "张伟"})
    b = person_keys({"name": "张伟"})
    assert score_person(a, b).confidence < 0.5


def test_different_people_at_one_company_are_not_duplicates():
    a = person_keys({"name": "张伟", "company": "瑞金医院", "mobile": "13800138000"})
    b = person_keys({"name": "李娜", "company": "瑞金医院", "mobile": "13900139000"})
    assert score_person(a, b).confidence < 0.1


def test_shared_mobile_held_by_many_records_is_no_evidence():
    a = person_keys({"name": "张伟", "mobile": "13800138000"})
    b = person_keys({"name": "李娜", "mobile": "13800138000"})
    generic = score_person(a, b, counts=lambda kind, value: 500, generic=50)
    assert "same_mobile_generic" in codes(generic)
    assert generic.confidence < score_person(a, b).confidence


def test_key_factor_falls_from_one_to_zero():
    assert key_factor(2, 50) == 1.0
    assert 0 < key_factor(10, 50) < 1
    assert key_factor(50, 50) == 0.0


def test_same_credit_code_is_the_same_company():
    a = company_keys({"name": "华为技术有限公司", "credit_code": "914403001922038216"})
    b = company_keys({"name": "華為技術(深圳)有限公司", "credit_code": "914403001922038216"})
    assert score_company(a, b).confidence > 0.999


def test_different_credit_codes_are_different_companies():
    a = company_keys({"name": "华为技术有限公司", "credit_code": "914403001922038216"})
    b = company_keys({"name": "华为技术有限公司", "credit_code": "91110000600037341L"})
    assert score_company(a, b).confidence < 0.5


def test_hospital_written_with_and_without_its_university_matches():
    a = company_keys({"name": "上海交通大学医学院附属瑞金医院"})
    b = company_keys({"name": "瑞金医院"})
    match = score_company(a, b)
    assert "same_core_name" in codes(match)
    assert match.confidence > 0.85


def test_two_branches_are_not_one_account():
    a = company_keys({"name": "招商银行股份有限公司北京分行"})
    b = company_keys({"name": "招商银行股份有限公司上海分行"})
    assert score_company(a, b).confidence < 0.5


def test_numbered_hospitals_in_two_cities_do_not_match():
    a = company_keys({"name": "上海市第一人民医院"})
    b = company_keys({"name": "北京市第一人民医院"})
    assert score_company(a, b).confidence < 0.5


def test_two_different_mobiles_contradict_a_shared_name():
    from jiepai.dedup.scoring import contradicts

    a = person_keys({"name": "王丽", "company": "润华汽车", "mobile": "13757600482"})
    b = person_keys({"name": "王丽", "company": "润华汽车", "mobile": "14777932271"})
    c = person_keys({"name": "王丽", "company": "润华汽车"})
    assert contradicts("contact", a, b)
    assert not contradicts("contact", a, c)


def test_scan_does_not_chain_two_people_through_a_vague_record(people, ruijin):
    from jiepai.customers.services import create_contact
    from jiepai.dedup.scan import scan

    create_contact(
        actor=people.rep, values={"name": "王丽", "account": ruijin, "mobile": "13757600482"}
    )
    create_contact(
        actor=people.rep, values={"name": "王丽", "account": ruijin, "mobile": "14777932271"}
    )
    create_contact(actor=people.rep, values={"name": "王丽", "account": ruijin})
    assert all(len(c.record_ids) == 2 for c in scan("contact", threshold=0.8))
