"""Behaviour events, visitor merge and the intent score (seed 004 / seed 001)."""

from __future__ import annotations

import datetime

import pytest

from jiepai.events.models import Event
from jiepai.intake.behaviour import (
    BehaviourInput,
    EventsInvalid,
    UnknownLead,
    parse_events,
    record_behaviour,
)
from jiepai.intake.models import BehaviourEvent, IntentConfig, Lead, LeadState
from jiepai.intake.pipeline import intake_lead
from jiepai.intake.scoring import BehaviourSummary, intent_class, intent_score, is_high_intent
from jiepai.intake.tests.conftest import FORM
from jiepai.tagging.services import tags_of

pytestmark = pytest.mark.django_db

SEED = IntentConfig(download_kinds=["whitepaper"])


def _event(kind: str, *, now, **kwargs) -> BehaviourInput:
    return BehaviourInput(kind=kind, occurred_at=now, **kwargs)


def _tags(lead_id, now):
    return [a.tag.name for a in tags_of("lead", lead_id, now=now)]


# --- the formula ---------------------------------------------------------------------------------


def test_intent_score_is_seed_004_formula():
    summary = BehaviourSummary(wechat_messages=2, stay_seconds=200, downloads=3)
    assert intent_score(summary, SEED) == pytest.approx(0.3 * 2 + 0.5 + 1.2 * 3)


def test_site_stay_below_three_minutes_adds_nothing():
    assert intent_score(BehaviourSummary(stay_seconds=179), SEED) == 0


def test_site_stay_counts_once_however_long():
    assert intent_score(BehaviourSummary(stay_seconds=10_000), SEED) == 0.5


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, "nurture"), (2.49, "nurture"), (2.5, "normal"), (4.99, "normal"), (5.0, "direct")],
)
def test_intent_class_thresholds(score, expected):
    assert intent_class(score, SEED) == expected


def test_high_intent_needs_stay_over_120_seconds_and_a_whitepaper():
    assert is_high_intent(BehaviourSummary(stay_seconds=121, downloads=1), SEED)
    assert not is_high_intent(BehaviourSummary(stay_seconds=120, downloads=1), SEED)
    assert not is_high_intent(BehaviourSummary(stay_seconds=500, downloads=0), SEED)


def test_weights_come_from_the_configuration_row(web, now):
    config = IntentConfig.current()
    config.wechat_weight = 1.0
    config.save()
    lead = Lead.objects.get(pk=intake_lead(channel=web, payload=FORM, now=now).lead_id)
    record_behaviour(
        channel=web, items=[_event("wechat_message", now=now, lead_id=lead.pk)], now=now
    )
    assert Lead.objects.get(pk=lead.pk).intent_score == 1.0


# --- events on leads -----------------------------------------------------------------------------


@pytest.fixture
def lead(web, now) -> Lead:
    return Lead.objects.get(pk=intake_lead(channel=web, payload=FORM, now=now).lead_id)


def test_events_on_a_lead_update_its_intent_score(web, lead, now):
    items = [
        _event("wechat_message", now=now, lead_id=lead.pk),
        _event("page_view", now=now, lead_id=lead.pk, url="/a", seconds=100),
        _event("page_view", now=now, lead_id=lead.pk, url="/b", seconds=90),
        _event("download", now=now, lead_id=lead.pk, asset="白皮书", asset_kind="whitepaper"),
    ]
    record_behaviour(channel=web, items=items, now=now)
    lead.refresh_from_db()
    assert lead.intent_score == pytest.approx(0.3 + 0.5 + 1.2)
    assert Event.objects.filter(subject_id=lead.pk, verb="lead.intent_changed").exists()


def test_each_event_on_a_lead_is_on_its_timeline(web, lead, now):
    record_behaviour(
        channel=web, items=[_event("video_view", now=now, lead_id=lead.pk, url="/v")], now=now
    )
    assert Event.objects.filter(subject_id=lead.pk, verb="behaviour.video_view").exists()


def test_brochure_download_does_not_count_as_whitepaper(web, lead, now):
    items = [_event("download", now=now, lead_id=lead.pk, asset_kind="brochure")]
    record_behaviour(channel=web, items=items, now=now)
    lead.refresh_from_db()
    assert lead.intent_score == 0


def test_high_intent_tag_after_long_stay_and_whitepaper(web, lead, now):
    items = [
        _event("page_view", now=now, lead_id=lead.pk, seconds=130),
        _event("download", now=now, lead_id=lead.pk, asset_kind="whitepaper"),
    ]
    record_behaviour(channel=web, items=items, now=now)
    assert "高意向" in _tags(lead.pk, now)


def test_no_high_intent_tag_without_the_download(web, lead, now):
    record_behaviour(
        channel=web, items=[_event("page_view", now=now, lead_id=lead.pk, seconds=600)], now=now
    )
    assert "高意向" not in _tags(lead.pk, now)


def test_unknown_lead_id_rejects_the_whole_batch(web, lead, now):
    items = [
        _event("page_view", now=now, lead_id=lead.pk),
        _event("page_view", now=now, lead_id=999999),
    ]
    with pytest.raises(UnknownLead):
        record_behaviour(channel=web, items=items, now=now)
    assert not BehaviourEvent.objects.exists()


# --- anonymous visitors --------------------------------------------------------------------------


def test_anonymous_events_attach_when_the_lead_arrives_with_the_visitor_id(web, now):
    record_behaviour(
        channel=web,
        items=[
            _event("page_view", now=now, visitor_id="v-1", seconds=200),
            _event("download", now=now, visitor_id="v-1", asset_kind="whitepaper"),
        ],
        now=now,
    )
    answer = intake_lead(channel=web, payload={**FORM, "visitor_id": "v-1"}, now=now)
    lead = Lead.objects.get(pk=answer.lead_id)
    assert BehaviourEvent.objects.filter(lead=lead).count() == 2
    assert lead.intent_score == pytest.approx(0.5 + 1.2)
    assert "高意向" in answer.body["tags"]
    assert Event.objects.filter(subject_id=lead.pk, verb="lead.visitor_merged").exists()


def test_other_visitors_events_do_not_attach(web, now):
    record_behaviour(channel=web, items=[_event("page_view", now=now, visitor_id="v-2")], now=now)
    intake_lead(channel=web, payload={**FORM, "visitor_id": "v-1"}, now=now)
    assert BehaviourEvent.objects.get().lead is None


def test_events_after_the_lead_exists_go_to_it_by_visitor_id(web, now):
    answer = intake_lead(channel=web, payload={**FORM, "visitor_id": "v-1"}, now=now)
    result = record_behaviour(
        channel=web, items=[_event("wechat_message", now=now, visitor_id="v-1")], now=now
    )
    assert [lead.pk for lead in result.leads] == [answer.lead_id]
    assert Lead.objects.get(pk=answer.lead_id).intent_score == pytest.approx(0.3)


# --- nurture pool --------------------------------------------------------------------------------


def test_low_intent_lead_of_a_gated_channel_goes_to_the_nurture_pool(web, now):
    web.nurture_low_intent = True
    web.save()
    answer = intake_lead(channel=web, payload=FORM, now=now)
    assert answer.body["state"] == LeadState.NURTURE


def test_gated_channel_routes_a_visitor_already_at_normal_intent(web, now):
    web.nurture_low_intent = True
    web.save()
    downloads = [
        _event("download", now=now, visitor_id="v-1", asset_kind="whitepaper") for _ in range(3)
    ]
    record_behaviour(channel=web, items=downloads, now=now)
    answer = intake_lead(channel=web, payload={**FORM, "visitor_id": "v-1"}, now=now)
    assert answer.body["state"] == LeadState.UNASSIGNED


def test_nurtured_lead_reaching_direct_threshold_is_promoted_to_sales(web, now):
    web.nurture_low_intent = True
    web.save()
    lead_id = intake_lead(channel=web, payload=FORM, now=now).lead_id
    downloads = [
        _event("download", now=now, lead_id=lead_id, asset_kind="whitepaper") for _ in range(5)
    ]
    record_behaviour(channel=web, items=downloads, now=now)
    lead = Lead.objects.get(pk=lead_id)
    assert lead.intent_score == pytest.approx(6.0)
    assert lead.state == LeadState.UNASSIGNED
    assert Event.objects.filter(subject_id=lead_id, verb="lead.intent_promoted").exists()


def test_nurtured_lead_below_direct_threshold_stays(web, now):
    web.nurture_low_intent = True
    web.save()
    lead_id = intake_lead(channel=web, payload=FORM, now=now).lead_id
    record_behaviour(
        channel=web,
        items=[_event("download", now=now, lead_id=lead_id, asset_kind="whitepaper")] * 3,
        now=now,
    )
    assert Lead.objects.get(pk=lead_id).state == LeadState.NURTURE


# --- parsing -------------------------------------------------------------------------------------


def test_parse_events_accepts_single_list_and_wrapped_forms(now):
    one = {"type": "page_view", "visitor_id": "v", "seconds": 5}
    assert len(parse_events(one, now=now)) == 1
    assert len(parse_events([one, one], now=now)) == 2
    assert len(parse_events({"events": [one, one, one]}, now=now)) == 3


def test_parse_events_reports_errors_by_position_and_field(now):
    with pytest.raises(EventsInvalid) as caught:
        parse_events(
            {
                "events": [
                    {"type": "page_view", "visitor_id": "v"},
                    {"type": "dance", "seconds": -1},
                ]
            },
            now=now,
        )
    errors = caught.value.errors
    assert "events.1.type" in errors and "events.1.seconds" in errors
    assert "events.0.type" not in errors


def test_parse_events_needs_a_lead_or_a_visitor(now):
    with pytest.raises(EventsInvalid):
        parse_events({"type": "page_view"}, now=now)


def test_parse_events_keeps_unknown_keys_in_data_and_defaults_download_kind(now):
    [item] = parse_events({"type": "download", "visitor_id": "v", "campaign": "x"}, now=now)
    assert item.data == {"campaign": "x"} and item.asset_kind == "whitepaper"


def test_future_event_times_are_clamped_to_now(now):
    later = (now + datetime.timedelta(days=1)).isoformat()
    [item] = parse_events({"type": "page_view", "visitor_id": "v", "occurred_at": later}, now=now)
    assert item.occurred_at == now


def test_more_than_100_events_are_refused(now):
    with pytest.raises(EventsInvalid):
        parse_events([{"type": "page_view", "visitor_id": "v"}] * 101, now=now)
