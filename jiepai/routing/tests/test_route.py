"""route_lead: choosing the policy, each policy's choice on small teams, the explanation."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from jiepai.events.models import Event
from jiepai.intake.models import LeadState
from jiepai.notify.models import Notification
from jiepai.org.models import RepProfile
from jiepai.org.services import create_user, set_online_status, set_paused
from jiepai.org.visibility import visible_to
from jiepai.routing.models import (
    Assignment,
    LeadOffer,
    OfferRound,
    PolicyKind,
    RoundRobinPointer,
    RoutingPolicy,
    RoutingRule,
)
from jiepai.routing.services import route_lead
from jiepai.routing.tests.conftest import NOW, channel, lead, open_deal, policy, won_deal


def _routed_event(lead_obj) -> Event:
    return Event.objects.get(subject_type="lead", subject_id=lead_obj.pk, verb="lead.routed")


def test_round_robin_takes_turns_among_the_team(east_round_robin, team):
    web = channel(window=15)
    owners = [route_lead(lead=lead(channel=web), now=NOW).rep for _ in range(3)]
    assert owners == [team.rep, team.teammate, team.rep]


def test_assigned_lead_gets_the_channel_response_window(east_round_robin, team):
    routed = lead(channel=channel(window=15))
    decision = route_lead(lead=routed, now=NOW)
    routed.refresh_from_db()
    assert decision.outcome == "assigned"
    assert routed.state == LeadState.ASSIGNED
    assert routed.owner == team.rep
    assert routed.assigned_at == NOW
    assert routed.response_due_at == NOW + datetime.timedelta(minutes=15)
    assert Assignment.objects.get(lead=routed).method == "round_robin"


def test_assigned_rep_is_the_whole_user(east_round_robin, team):
    rep = route_lead(lead=lead(), now=NOW).rep
    assert (rep.pk, rep.username, rep.email, rep.role) == (
        team.rep.pk,
        team.rep.username,
        team.rep.email,
        team.rep.role,
    )
    assert rep.department_id == team.rep.department_id and str(rep) == str(team.rep)
    assert rep.date_joined == team.rep.date_joined  # a field not read with the pool: loads


def test_round_robin_pointer_is_persisted(east_round_robin, team):
    route_lead(lead=lead(), now=NOW)
    route_lead(lead=lead(), now=NOW)
    assert RoundRobinPointer.objects.get(policy=east_round_robin).last_rep == team.teammate


def test_paused_rep_is_skipped_and_the_timeline_says_why(east_round_robin, team):
    set_paused(user=team.rep, paused=True, actor=team.rep, now=NOW)
    routed = lead()
    assert route_lead(lead=routed, now=NOW).rep == team.teammate
    data = _routed_event(routed).data
    assert data["policy"]["key"] == "round_robin"
    assert data["outcome"] == "assigned"
    assert data["winner"]["id"] == team.teammate.pk
    excluded = {c["rep_id"]: c["excluded"] for c in data["candidates"]}
    assert excluded == {team.rep.pk: "paused", team.teammate.pk: ""}


def test_offline_rep_is_skipped_by_round_robin(east_round_robin, team):
    RepProfile.objects.filter(user=team.rep).update(online_status="offline", last_seen_at=None)
    assert route_lead(lead=lead(), now=NOW).rep == team.teammate


def test_rep_at_capacity_gets_no_new_lead_until_below(east_round_robin, team):
    RepProfile.objects.filter(user=team.rep).update(capacity=1)
    first = lead()
    assert route_lead(lead=first, now=NOW).rep == team.rep
    assert route_lead(lead=lead(), now=NOW).rep == team.teammate
    assert route_lead(lead=lead(), now=NOW).rep == team.teammate  # rep still full
    first.state = LeadState.CONVERTED
    first.save()
    assert route_lead(lead=lead(), now=NOW).rep == team.rep


def test_nobody_eligible_leaves_the_lead_unassigned_and_notifies_the_manager(
    east_round_robin, team
):
    for user in (team.rep, team.teammate):
        set_paused(user=user, paused=True, actor=user, now=NOW)
    routed = lead()
    decision = route_lead(lead=routed, now=NOW)
    routed.refresh_from_db()
    assert decision.outcome == "unassigned"
    assert routed.state == LeadState.UNASSIGNED and routed.owner is None
    note = Notification.objects.get(recipient=team.manager, kind="routing.unassigned")
    assert "张伟" in note.title
    data = _routed_event(routed).data
    assert data["outcome"] == "unassigned"
    assert data["notified"] == [{"id": team.manager.pk, "name": "赵主管"}]
    # it waits in the manager's unassigned queue, not the outsider's
    assert visible_to(team.manager, type(routed).objects.filter(pk=routed.pk)).exists()
    assert not visible_to(team.outsider, type(routed).objects.filter(pk=routed.pk)).exists()


def test_routing_a_lead_twice_routes_it_once(east_round_robin, team):
    routed = lead()
    route_lead(lead=routed, now=NOW)
    assert route_lead(lead=routed, now=NOW).outcome == "skipped"
    assert Assignment.objects.filter(lead=routed).count() == 1


def test_policy_without_departments_uses_every_rep(team):
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    policy("round_robin", is_default=True)
    owners = {route_lead(lead=lead(), now=NOW).rep for _ in range(3)}
    assert owners == {team.rep, team.teammate, team.outsider}


def test_policy_can_name_reps_explicitly(team):
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    named = policy("round_robin", is_default=True)
    named.reps.set([team.manager])
    assert route_lead(lead=lead(), now=NOW).rep == team.manager


def test_channel_names_its_policy(east_round_robin, team):
    policy("weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[team.east])
    decision = route_lead(lead=lead(channel=channel("fair", policy_key="weighted_pool")), now=NOW)
    assert decision.outcome == "offered"
    assert decision.policy.key == "weighted_pool"


def test_unknown_channel_policy_key_falls_back_to_the_default(east_round_robin, team):
    decision = route_lead(lead=lead(channel=channel("odd", policy_key="nope")), now=NOW)
    assert decision.policy == east_round_robin
    assert _routed_event(decision.lead).data["source"] == "default"


def test_shipped_rule_sends_high_value_leads_to_capability_match(team):
    # the seed rows from the data migration: rule "高净值线索" budget > 500000 → capability_match
    RoutingPolicy.objects.filter(key="capability_match").update(skip_offline=False)
    won_deal(team.teammate, amount=800_000, industry="医疗器械")
    won_deal(team.rep, amount=50_000, industry="医疗器械")
    routed = lead(budget=900_000, industry="医疗器械")
    decision = route_lead(lead=routed, now=NOW)
    assert decision.policy.key == "capability_match"
    assert decision.rep == team.teammate
    data = _routed_event(routed).data
    assert data["source"] == "rule" and data["rule"]["name"] == "高净值线索"
    assert data["params"]["decided_by"] == "won_in_industry_band"
    factors = {c["rep_id"]: c["factors"] for c in data["candidates"] if c["factors"]}
    assert factors[team.teammate.pk]["won_in_industry_band"] == 1


def test_lead_under_the_threshold_is_not_capability_matched(team):
    decision = route_lead(lead=lead(budget=500_000, industry="医疗器械"), now=NOW)
    assert decision.policy.key == "round_robin"


def test_capability_match_uses_the_deal_size_band(east_round_robin, team):
    policy("capability_match", PolicyKind.CAPABILITY_MATCH, departments=[team.east])
    RoutingRule.objects.create(
        name="高净值",
        condition="budget > 500000",
        policy_id=RoutingPolicy.objects.get(key="capability_match").pk,
    )
    won_deal(team.rep, amount=50_000, industry="医疗器械")  # small deals only
    won_deal(team.rep, amount=60_000, industry="医疗器械")
    won_deal(team.teammate, amount=2_000_000, industry="医疗器械")
    assert (
        route_lead(lead=lead(budget=1_000_000, industry="医疗器械"), now=NOW).rep == team.teammate
    )


def test_rule_condition_on_industry_whitelist(east_round_robin, team):
    policy("capability_match", PolicyKind.CAPABILITY_MATCH, departments=[team.east])
    RoutingRule.objects.create(
        name="白名单行业",
        condition='industry in ["半导体", "医疗器械"]',
        policy=RoutingPolicy.objects.get(key="capability_match"),
    )
    assert route_lead(lead=lead(industry="半导体"), now=NOW).policy.key == "capability_match"
    assert route_lead(lead=lead(industry="餐饮"), now=NOW).policy.key == "round_robin"


def test_rule_that_fails_on_a_lead_is_skipped_and_recorded(east_round_robin, team):
    # saved without validation (e.g. by an old import): it fails at run time, routing goes on
    RoutingRule.objects.create(name="坏规则", condition="len(budget) > 1", policy=east_round_robin)
    routed = lead()
    assert route_lead(lead=routed, now=NOW).outcome == "assigned"
    assert _routed_event(routed).data["rule_errors"][0].startswith("坏规则")


@pytest.mark.parametrize(
    "condition",
    ["__import__('os').system('id')", "budget >", "salary > 1", "budget.__class__", ""],
)
def test_rule_condition_is_validated_on_save_and_never_evaluated_as_python(db, condition):
    rule = RoutingRule(name="x", condition=condition, policy=RoutingPolicy.objects.first())
    with pytest.raises(ValidationError) as raised:
        rule.full_clean()
    assert "condition" in raised.value.message_dict


def test_valid_rule_condition_saves(db):
    rule = RoutingRule(
        name="x",
        condition='budget > 500000 or industry in ["半导体"]',
        policy=RoutingPolicy.objects.first(),
    )
    rule.full_clean()


def test_policy_weights_are_validated_on_save(db):
    bad = RoutingPolicy(key="bad", name="坏", kind=PolicyKind.WEIGHTED_POOL, weights={"x": 1})
    with pytest.raises(ValidationError) as raised:
        bad.full_clean()
    assert "weights" in raised.value.message_dict


# --- weighted pool -----------------------------------------------------------------------------


@pytest.fixture
def pool(team):
    """Weighted pool over the east region, with a third Shanghai rep."""
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    third = create_user(
        username="rep3", password=None, department=team.east_shanghai, display_name="陈静"
    )
    set_online_status(user=third, status="online", now=NOW)
    team.third = third
    return policy(
        "weighted_pool", PolicyKind.WEIGHTED_POOL, departments=[team.east], is_default=True
    )


def test_weighted_pool_offers_the_lead_to_the_best_three(pool, team):
    fourth = create_user(
        username="rep4", password=None, department=team.east_shanghai, display_name="刘洋"
    )
    for _ in range(3):
        open_deal(fourth)  # the most loaded rep is left out
    routed = lead()
    decision = route_lead(lead=routed, now=NOW)
    routed.refresh_from_db()
    assert decision.outcome == "offered"
    assert routed.state == LeadState.OFFERED and routed.owner is None
    offers = list(LeadOffer.objects.filter(lead=routed).order_by("rank"))
    assert {o.rep for o in offers} == {team.rep, team.teammate, team.third}
    offer_round = OfferRound.objects.get(lead=routed)
    assert offer_round.lock_due_at == NOW + datetime.timedelta(minutes=30)
    for offer in offers:
        note = Notification.objects.get(recipient=offer.rep, kind="routing.offer")
        assert note.url == f"/routing/offers/lead/{routed.pk}/"
    data = _routed_event(routed).data
    assert data["outcome"] == "offered"
    assert len(data["offered_to"]) == 3
    scored = {c["rep_id"]: c for c in data["candidates"]}
    assert scored[fourth.pk]["rank"] == 4
    assert scored[fourth.pk]["factors"]["open_opportunities"] == 3
    assert set(scored[team.rep.pk]["goodness"]) == {
        "open_opportunities",
        "won_revenue",
        "industry_conversion",
        "online",
    }


def test_weighted_pool_ranks_by_industry_conversion(pool, team):
    for index in range(4):
        lead(industry="半导体", owner=team.third, state="converted" if index < 3 else "assigned")
    routed = lead(industry="半导体")
    route_lead(lead=routed, now=NOW)
    best = LeadOffer.objects.get(lead=routed, rank=1)
    assert best.rep == team.third


def test_offered_lead_is_visible_to_the_offered_reps_only(pool, team):
    routed = lead()
    route_lead(lead=routed, now=NOW)
    leads = type(routed).objects.filter(pk=routed.pk)
    assert visible_to(team.rep, leads).exists()
    assert not visible_to(team.outsider, leads).exists()


@pytest.mark.django_db(transaction=True)
def test_two_leads_routed_at_once_take_turns(people, monkeypatch):
    """The second routing reads the pointer before the first commits, decides the same rep,
    loses the compare-and-set on the pointer, and decides again after the first commits."""
    import threading

    from django.db import connection, transaction

    from jiepai.conftest import on_postgresql
    from jiepai.notify.services import ensure_kind

    if not on_postgresql():
        pytest.skip("real row-level concurrency needs PostgreSQL")
    for user in (people.rep, people.teammate):
        set_online_status(user=user, status="online", now=NOW)
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    round_robin = policy("round_robin", departments=[people.east], is_default=True)
    # rows the first routing would otherwise create (the second would wait on their inserts)
    RoundRobinPointer.objects.get_or_create(policy=round_robin)
    ensure_kind("routing.assigned")
    from jiepai.routing import decisions as services

    attempts: list[bool] = []
    real_route = services._route

    def counted(**kwargs):
        attempts.append(kwargs["lock_pointer"])
        return real_route(**kwargs)

    monkeypatch.setattr(services, "_route", counted)
    first, second = lead("甲"), lead("乙")
    first_routed, second_started = threading.Event(), threading.Event()
    owners: dict[str, int] = {}

    def route_first() -> None:
        try:
            with transaction.atomic():
                owners["first"] = route_lead(lead=first, now=NOW).rep.pk
                first_routed.set()
                second_started.wait(5)
                threading.Event().wait(0.5)  # the second one is now waiting on the pointer
        finally:
            connection.close()

    def route_second() -> None:
        try:
            first_routed.wait(5)
            second_started.set()
            owners["second"] = route_lead(lead=second, now=NOW).rep.pk
        finally:
            connection.close()

    threads = [threading.Thread(target=route_first), threading.Thread(target=route_second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert owners == {"first": people.rep.pk, "second": people.teammate.pk}
    assert (
        RoundRobinPointer.objects.get(policy__key="round_robin").last_rep_id == people.teammate.pk
    )
    assert Assignment.objects.filter(lead__in=[first, second]).count() == 2
    assert Event.objects.filter(subject_id=second.pk, verb="lead.routed").count() == 1
    assert attempts == [False, False, True]  # the second one decided again, under the lock
