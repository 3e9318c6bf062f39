"""The whole-database scan, its CLI JSON, the review page and the merge pages."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from jiepai.conftest import PASSWORD
from jiepai.customers.models import Contact
from jiepai.customers.services import create_contact
from jiepai.dedup.models import ClusterStatus, DismissedPair, DuplicateCluster, MergeRecord
from jiepai.dedup.scan import save_clusters, scan
from jiepai.dedup.selectors import policy_for


@pytest.fixture
def seed_002(people, ruijin, zhang):
    """Four reps add 上海瑞金医院采购科张主任 on one day (seed 002)."""
    return [
        zhang,
        create_contact(
            actor=people.rep, values={"name": "张主任", "account": ruijin, "mobile": "13800138000"}
        ),
        create_contact(
            actor=people.rep, values={"name": "张主任", "title": "采购科主任", "account": ruijin}
        ),
        create_contact(
            actor=people.rep, values={"name": "张伟", "account": ruijin, "mobile": "13800138001"}
        ),
        create_contact(
            actor=people.rep, values={"name": "李娜", "account": ruijin, "mobile": "13911112222"}
        ),
    ]


def _client(client, user):
    client.login(username=user.username, password=PASSWORD)
    return client


def test_scan_clusters_the_seed_002_duplicates(seed_002):
    clusters = scan("contact")
    assert [c.record_ids for c in clusters] == [sorted(r.pk for r in seed_002[:4])]
    assert clusters[0].confidence >= 0.85
    assert clusters[0].reasons


def test_scan_leaves_out_generic_keys(people):
    policy = policy_for("contact")
    policy.generic_key_count = 3
    policy.save()
    for name in ("王芳", "李强", "赵敏", "钱多"):
        create_contact(actor=people.rep, values={"name": name, "mobile": "13800000000"})
    assert scan("contact") == []


def test_dismissed_pairs_are_not_clustered(people, seed_002):
    ids = sorted(r.pk for r in seed_002[:4])
    for i, low in enumerate(ids):
        for high in ids[i + 1 :]:
            DismissedPair.objects.create(
                entity="contact", low_id=low, high_id=high, created_at=seed_002[0].created_at
            )
    assert scan("contact") == []


def test_cli_json_has_the_issue_shape(seed_002):
    out = StringIO()
    call_command(
        "dedup", "scan", "--entity", "contacts", "--format", "json", stdout=out, stderr=StringIO()
    )
    data = json.loads(out.getvalue())
    [cluster] = data["clusters"]
    assert set(cluster) == {"confidence", "reasons", "records"}
    assert isinstance(cluster["confidence"], float)
    assert all(isinstance(r, str) for r in cluster["reasons"])
    assert [set(r) for r in cluster["records"]] == [{"id", "external_id", "name"}] * 4
    assert {r["name"] for r in cluster["records"]} == {"张伟", "张主任"}


def test_cli_scan_of_an_empty_database_prints_no_clusters(db):
    out = StringIO()
    call_command(
        "dedup", "scan", "--entity", "leads", "--format", "json", stdout=out, stderr=StringIO()
    )
    assert json.loads(out.getvalue()) == {"clusters": []}


def test_cli_reindex_rebuilds_the_keys(seed_002):
    from jiepai.dedup.models import MatchKey

    MatchKey.objects.all().delete()
    call_command("dedup", "reindex", "--entity", "contacts", stderr=StringIO())
    assert len(scan("contact")) == 1


def test_review_page_lists_clusters_for_the_manager(client, people, seed_002):
    save_clusters("contact", scan("contact"))
    response = _client(client, people.manager).get(reverse("dedup:review_entity", args=["contact"]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "张主任" in body and reverse("dedup:merge", args=["contact"]) in body


def test_review_page_hides_clusters_from_the_outsider(client, people, seed_002):
    save_clusters("contact", scan("contact"))
    body = (
        _client(client, people.outsider)
        .get(reverse("dedup:review_entity", args=["contact"]))
        .content.decode()
    )
    assert "张主任" not in body


def test_dismissing_a_cluster_remembers_the_pairs(client, people, seed_002):
    save_clusters("contact", scan("contact"))
    cluster = DuplicateCluster.objects.get()
    _client(client, people.manager).post(reverse("dedup:dismiss_cluster", args=[cluster.pk]))
    cluster.refresh_from_db()
    assert cluster.status == ClusterStatus.DISMISSED
    assert DismissedPair.objects.count() == 6
    assert scan("contact") == []


def test_outsider_cannot_dismiss_a_cluster(client, people, seed_002):
    save_clusters("contact", scan("contact"))
    cluster = DuplicateCluster.objects.get()
    response = _client(client, people.outsider).post(
        reverse("dedup:dismiss_cluster", args=[cluster.pk])
    )
    assert response.status_code == 404


def test_manager_rescans_from_the_review_page(client, people, seed_002):
    _client(client, people.manager).post(
        reverse("dedup:review_entity", args=["contact"]), {"rescan": "1"}
    )
    assert DuplicateCluster.objects.filter(entity="contact").count() == 1


def test_rep_cannot_rescan(client, people, seed_002):
    response = _client(client, people.rep).post(
        reverse("dedup:review_entity", args=["contact"]), {"rescan": "1"}
    )
    assert response.status_code == 403


def test_merge_preview_shows_fields_side_by_side(client, people, seed_002):
    ids = ",".join(str(r.pk) for r in seed_002[:4])
    response = _client(client, people.rep).get(
        reverse("dedup:merge", args=["contact"]), {"ids": ids}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "13800138001" in body and 'name="source:mobile"' in body


def test_merge_preview_is_404_for_the_outsider(client, people, seed_002):
    ids = ",".join(str(r.pk) for r in seed_002[:2])
    response = _client(client, people.outsider).get(
        reverse("dedup:merge", args=["contact"]), {"ids": ids}
    )
    assert response.status_code == 404


def test_merge_with_one_record_is_a_form_error(client, people, seed_002):
    response = _client(client, people.rep).get(
        reverse("dedup:merge", args=["contact"]), {"ids": seed_002[0].pk}
    )
    assert response.status_code == 400


def test_posting_the_preview_merges_with_the_picked_values(client, people, seed_002):
    a, b = seed_002[0], seed_002[3]
    response = _client(client, people.rep).post(
        reverse("dedup:merge", args=["contact"]) + f"?ids={a.pk},{b.pk}",
        {"ids": f"{a.pk},{b.pk}", "survivor": b.pk, "source:mobile": a.pk},
    )
    merge = MergeRecord.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "dedup:merge_detail", args=[merge.pk]
    )
    b.refresh_from_db()
    assert b.mobile == "138 0013 8000"
    assert Contact.objects.get(pk=a.pk).merged_into_id == b.pk


def test_undo_button_on_the_merge_page(client, people, seed_002):
    a, b = seed_002[0], seed_002[3]
    _client(client, people.rep).post(
        reverse("dedup:merge", args=["contact"]), {"ids": f"{a.pk},{b.pk}"}
    )
    merge = MergeRecord.objects.get()
    page = client.get(reverse("dedup:merge_detail", args=[merge.pk])).content.decode()
    assert 'data-testid="merge-undo"' in page
    client.post(reverse("dedup:merge_undo", args=[merge.pk]))
    assert Contact.objects.get(pk=b.pk).merged_into_id is None


def test_merge_page_is_404_for_the_outsider(client, people, seed_002):
    a, b = seed_002[0], seed_002[3]
    _client(client, people.rep).post(
        reverse("dedup:merge", args=["contact"]), {"ids": f"{a.pk},{b.pk}"}
    )
    merge = MergeRecord.objects.get()
    client.logout()
    assert (
        _client(client, people.outsider)
        .get(reverse("dedup:merge_detail", args=[merge.pk]))
        .status_code
        == 404
    )
    assert client.post(reverse("dedup:merge_undo", args=[merge.pk])).status_code == 404


def test_link_to_a_tombstone_lands_on_the_survivor(client, people, seed_002):
    a, b = seed_002[0], seed_002[3]
    _client(client, people.rep).post(
        reverse("dedup:merge", args=["contact"]), {"ids": f"{a.pk},{b.pk}"}
    )
    response = client.get(reverse("dedup:go", args=["contact", b.pk]))
    assert response.status_code == 302 and response.url == a.get_absolute_url()


def test_link_to_a_tombstone_is_404_for_the_outsider(client, people, seed_002):
    a, b = seed_002[0], seed_002[3]
    _client(client, people.rep).post(
        reverse("dedup:merge", args=["contact"]), {"ids": f"{a.pk},{b.pk}"}
    )
    client.logout()
    assert (
        _client(client, people.outsider)
        .get(reverse("dedup:go", args=["contact", b.pk]))
        .status_code
        == 404
    )
