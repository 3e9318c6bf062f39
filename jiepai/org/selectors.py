"""Reading people: whom a viewer may pick as an owner or filter by."""

from __future__ import annotations

from django.db.models import QuerySet

from jiepai.org.models import User
from jiepai.org.visibility import subtree_department_ids


def assignable_users(viewer: User) -> QuerySet[User]:
    """People a viewer can hand a record to: everyone for director/admin, the department
    subtree for a manager, themselves for anyone else."""
    users = User.objects.filter(is_active=True, role__in=["rep", "manager"])
    if viewer.sees_everything:
        return users
    if viewer.role == "manager":
        return users.filter(department_id__in=subtree_department_ids(viewer)) | User.objects.filter(
            pk=viewer.pk
        )
    return User.objects.filter(pk=viewer.pk)


def owner_choices(viewer: User) -> list[tuple[str, str]]:
    return [(str(u.pk), str(u)) for u in assignable_users(viewer).order_by("username")]
