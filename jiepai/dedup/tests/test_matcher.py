"""find_duplicates: keys kept in step by the services, lookup, scoring, visibility."""

from __future__ import annotations

from jiepai.customers.services import create_account, create_contact, update_account, update_contact
from jiepai.dedup.matcher import find_duplicates
from jiepai.dedup.models import MatchKey
from jiepai.dedup.selectors import policy_for
from jiepai.intake.services import create_lead


def test_creating_a_contact_writes_its_keys(zhang):
    kinds = set(
        MatchKey.objects.filter(entity="contact", object_id=zhang.pk).values_list("kind", flat=True)
    )
    assert {
        "mobile",
        "name",
        "pinyin",
        "company",
        "surname_company_full",
        "name_company_full",
    } <= kinds


def test_updating_a_contact_replaces_its_keys(people, zhang):
    update_contact(actor=people.rep, contact=zhang, values={"mobile": "13900139000"})
    mobiles = list(
        MatchKey.objects.filter(entity="contact", object_id=zhang.pk, kind="mobile").values_list(
            "value", flat=True
        )
    )
    assert mobiles == ["+8613900139000"]


def test_renaming_an_account_reindexes_its_contacts(people, ruijin, zhang):
    update_account(actor=people.rep, account=ruijin, values={"name": "上海华山医院"})
    company = MatchKey.objects.get(entity="contact", object_id=zhang.pk, kind="company").value
    assert company == "华山医院"


def test_seed_002_variant_is_found_with_reasons(people, zhang):
    candidates = find_duplicates(
        "contact",
        {"name": "张主任", "company": "瑞金医院", "mobile": "+86 138-0013-8000"},
        viewer=people.rep,
    )
    assert [c.object_id for c in candidates] == [zhang.pk]
    assert "同一手机号" in candidates[0].reason_texts
    assert candidates[0].visible


def test_contact_can_be_checked_by_account_instance(people, ruijin, zhang):
    candidates = find_duplicates("contact", {"name": "张伟", "account": ruijin})
    assert [c.object_id for c in candidates] == [zhang.pk]


def test_unrelated_person_is_not_a_candidate(people, zhang):
    assert (
        find_duplicates("contact", {"name": "李娜", "company": "华山医院", "mobile": "13911112222"})
        == []
    )


def test_record_does_not_find_itself(people, zhang):
    values = {"name": "张伟", "company": "瑞金医院", "mobile": "13800138000"}
    assert find_duplicates("contact", values, exclude=[zhang.pk]) == []


def test_outsider_learns_only_that_it_exists(people, zhang):
    [candidate] = find_duplicates(
        "contact",
        {"name": "张伟", "mobile": "13800138000", "company": "瑞金医院"},
        viewer=people.outsider,
    )
    assert candidate.visible is False


def test_key_shared_by_many_records_finds_nothing(people, ruijin):
    policy = policy_for("contact")
    policy.generic_key_count = 3
    policy.save()
    for i in range(4):
        create_contact(actor=people.rep, values={"name": f"前台{i}号", "phone": "021-64370045"})
    assert find_duplicates("contact", {"name": "王芳", "phone": "021-64370045"}, threshold=0) == []


def test_lead_is_checked_against_contacts_with_include_related(people, zhang):
    candidates = find_duplicates(
        "lead",
        {"name": "张主任", "company": "上海瑞金医院", "mobile": "13800138000"},
        include_related=True,
    )
    assert [(c.entity, c.object_id) for c in candidates] == [("contact", zhang.pk)]


def test_lead_keys_are_kept_by_the_intake_service(people):
    lead = create_lead(
        actor=people.rep, values={"name": "刘洋", "company": "华山医院", "mobile": "13700137000"}
    )
    assert MatchKey.objects.filter(entity="lead", object_id=lead.pk, kind="mobile").exists()


def test_account_found_by_credit_code_whatever_the_name(people):
    account = create_account(
        actor=people.rep, values={"name": "华为技术有限公司", "credit_code": "914403001922038216"}
    )
    candidates = find_duplicates(
        "account", {"name": "华为", "credit_code": "9144 0300 1922 0382 16"}
    )
    assert [c.object_id for c in candidates] == [account.pk]
    assert "统一社会信用代码相同" in candidates[0].reason_texts


def test_bulk_writers_index_many_records_at_once(people, ruijin):
    from jiepai.customers.models import Contact
    from jiepai.dedup.index import index_many

    contacts = Contact.objects.bulk_create(
        [
            Contact(name=f"王芳{i}", mobile=f"1390013900{i}", account=ruijin, owner=people.rep)
            for i in range(3)
        ]
    )
    assert index_many("contact", contacts) > 0
    assert [
        c.object_id for c in find_duplicates("contact", {"name": "王芳1", "mobile": "13900139001"})
    ] == [contacts[1].pk]
