"""PostgreSQL races: two people dropping the same card at once move it once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from jiepai.conftest import on_postgresql
from jiepai.customers.services import create_account
from jiepai.events.models import Event
from jiepai.pipeline.models import Opportunity, Stage
from jiepai.pipeline.services import create_opportunity
from jiepai.pipeline.stages import GateBlocked, StageMoveError, move_opportunity

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_configuration"),
]


def test_two_simultaneous_moves_of_one_deal_move_it_once(people):
    if not on_postgresql():
        pytest.skip("row locks are exercised on PostgreSQL")
    account = create_account(actor=people.rep, values={"name": "同时拖动客户"})
    deal = create_opportunity(actor=people.rep, values={"name": "并发商机", "account": account})
    lost = Stage.objects.get(pipeline__is_default=True, is_lost=True)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def drop(user):
        try:
            barrier.wait()
            move_opportunity(
                opportunity=Opportunity.objects.get(pk=deal.pk),
                to_stage=lost,
                actor=user,
                values={"loss_reason": f"{user}:价格"},
            )
            results.append("moved")
        except (StageMoveError, GateBlocked):
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=drop, args=(u,)) for u in (people.rep, people.manager)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["moved", "refused"]
    assert Event.objects.filter(verb="opportunity.stage_changed", subject_id=deal.pk).count() == 1
