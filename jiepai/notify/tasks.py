"""Background work of the notify app: one attempt at one delivery."""

from __future__ import annotations

from django_tasks import task

from jiepai.notify.services import attempt_delivery


@task()
def send_delivery(*, delivery_id: int, attempt: int) -> str:
    """Attempt number `attempt + 1`. Idempotent: a duplicate task finds the attempt taken."""
    delivery = attempt_delivery(delivery_id=delivery_id, attempt=attempt)
    return delivery.status if delivery else "skipped"
