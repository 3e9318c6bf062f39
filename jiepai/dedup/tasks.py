"""Background work of the dedup app."""

from __future__ import annotations

from django_tasks import task

from jiepai.dedup.models import DEDUP_ENTITIES


@task()
def rescan(*, entity: str) -> int:
    """Scan one entity and replace its open review clusters; returns how many were found."""
    from jiepai.dedup.scan import save_clusters, scan

    if entity not in DEDUP_ENTITIES:
        return 0
    return save_clusters(entity, scan(entity))
