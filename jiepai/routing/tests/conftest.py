"""Routing test helpers: a fixed clock, the seed policies, leads and channels."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from jiepai.customers.models import Account
from jiepai.intake.models import Channel, Lead
from jiepai.org.services import set_online_status
from jiepai.pipeline.models import Opportunity, Pipeline, Stage
from jiepai.routing.candidates import forget_shared_figures
from jiepai.routing.models import PolicyKind, RoutingPolicy, RoutingRule, default_weights

NOW = datetime.datetime(2026, 3, 2, 1, 0, tzinfo=datetime.UTC)  # 09:00 in Shanghai


@pytest.fixture(autouse=True)
def _fresh_pool_figures():
    """Each test computes the weighted pool's shared statistics afresh (ids are reused
    between tests on SQLite)."""
    forget_shared_figures()
    yield
    forget_shared_figures()


@pytest.fixture
def team(people):
    """The shared personas, with the reps and the manager online."""
    for user in (people.rep, people.teammate, people.outsider, people.manager):
        set_online_status(user=user, status="online", now=NOW)
    return people


def policy(key: str, kind: str = PolicyKind.ROUND_ROBIN, departments=(), **values) -> RoutingPolicy:
    """The policy row `key`, (re)configured; seed rows exist unless a transactional test flushed
    them, so this works either way."""
    defaults = {
        "name": key,
        "kind": kind,
        "is_default": False,
        "skip_offline": kind == PolicyKind.ROUND_ROBIN,
        "weights": default_weights(),
        **values,
    }
    row, _ = RoutingPolicy.objects.update_or_create(key=key, defaults=defaults)
    row.departments.set(departments)
    return row


@pytest.fixture
def east_round_robin(team):
    """The default policy: round-robin among the east region's reps; no rules."""
    RoutingRule.objects.all().delete()
    RoutingPolicy.objects.update(is_default=False)
    return policy("round_robin", departments=[team.east], is_default=True)


def channel(slug: str = "web", *, policy_key: str = "round_robin", window: int = 15) -> Channel:
    row, _ = Channel.objects.update_or_create(
        slug=slug,
        defaults={
            "name": slug,
            "kind": "web_form",
            "routing_policy": policy_key,
            "response_window_minutes": window,
        },
    )
    return row


def lead(name: str = "张伟", **values) -> Lead:
    values.setdefault("company", "上海某医疗器械有限公司")
    values.setdefault("state", "unassigned")
    return Lead.objects.create(name=name, **values)


def won_deal(owner, *, amount: int, industry: str, now=NOW) -> Opportunity:
    pipeline = Pipeline.objects.get_or_create(name="测试流程")[0]
    won = Stage.objects.get_or_create(
        pipeline=pipeline, name="赢单", defaults={"is_won": True, "position": 9}
    )[0]
    account = Account.objects.create(name=f"{industry}客户{owner.pk}-{amount}", industry=industry)
    return Opportunity.objects.create(
        name="成交", account=account, stage=won, owner=owner, amount=Decimal(amount), closed_at=now
    )


def open_deal(owner) -> Opportunity:
    pipeline = Pipeline.objects.get_or_create(name="测试流程")[0]
    stage = Stage.objects.get_or_create(
        pipeline=pipeline, name="需求确认", defaults={"position": 1}
    )[0]
    account = Account.objects.create(name=f"在谈客户{owner.pk}")
    return Opportunity.objects.create(name="在谈", account=account, stage=stage, owner=owner)
