"""Duplicate detection and merging: match keys, policies, uniqueness rules, flags, merges.

Why a key table rather than key columns on the entity tables: the three entities (accounts,
contacts, leads) share most kinds of key (a contact and a lead both have a mobile), a record has
several values of one kind (a mobile and a landline, a company name and its short name), new
kinds need no migration of tables other apps own (Lead belongs to intake), and uniqueness rules
an admin switches on become one partial unique index over (entity, kind, value). The cost is
one small extra write per record save, in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiepai.core.models import TimestampedModel

DEDUP_ENTITIES = ("account", "contact", "lead")
DEDUP_ENTITY_CHOICES = [
    ("account", _("客户")),
    ("contact", _("联系人")),
    ("lead", _("线索")),
]


class MatchKey(models.Model):
    """One normalised key of one live record ("contact", 42, "mobile", "+8613800138000").

    Written by jiepai.dedup.index in the transaction that saves the record; a merged record
    (tombstone) has none. `enforced` is set for the kinds an admin made unique: the partial
    unique constraint then lets the database decide between two concurrent saves.
    """

    entity = models.CharField(max_length=20, choices=DEDUP_ENTITY_CHOICES)
    object_id = models.BigIntegerField()
    kind = models.CharField(max_length=24)
    value = models.CharField(max_length=255)
    enforced = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["entity", "kind", "value"], name="dedup_key_lookup_idx"),
            models.Index(fields=["entity", "object_id"], name="dedup_key_object_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "kind", "value"],
                condition=models.Q(enforced=True),
                name="dedup_key_unique_when_enforced",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity}#{self.object_id} {self.kind}={self.value}"


class Policy(models.TextChoices):
    BLOCK = "block", _("拦截")
    WARN = "warn", _("提示")
    ALLOW_AND_FLAG = "allow_and_flag", _("允许并标记待审")


class DedupPolicy(TimestampedModel):
    """What happens when a new record looks like an existing one, per entity."""

    entity = models.CharField(_("对象"), max_length=20, choices=DEDUP_ENTITY_CHOICES, unique=True)
    policy = models.CharField(
        _("重复处理"), max_length=20, choices=Policy.choices, default=Policy.WARN
    )
    show_threshold = models.FloatField(
        _("提示阈值"), default=0.5, help_text=_("录入时,相似度达到该值的已有记录会被提示")
    )
    act_threshold = models.FloatField(
        _("拦截/标记阈值"), default=0.9, help_text=_("达到该值时按重复处理方式拦截或标记")
    )
    scan_threshold = models.FloatField(
        _("扫描聚类阈值"), default=0.8, help_text=_("全库扫描时,达到该值的两条记录归为一组")
    )
    generic_key_count = models.PositiveIntegerField(
        _("泛化键上限"),
        default=50,
        help_text=_("同一个号码/名称被超过这么多条记录共用时,不再作为重复证据"),
    )
    undo_days = models.PositiveIntegerField(_("合并可撤销天数"), default=30)

    class Meta:
        ordering = ["entity"]
        verbose_name = _("查重策略")
        verbose_name_plural = _("查重策略")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(show_threshold__gte=0, show_threshold__lte=1)
                & models.Q(act_threshold__gte=0, act_threshold__lte=1)
                & models.Q(scan_threshold__gte=0, scan_threshold__lte=1),
                name="dedup_policy_thresholds_range",
            ),
            models.CheckConstraint(
                condition=models.Q(generic_key_count__gte=2), name="dedup_policy_generic_min"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_entity_display()}:{self.get_policy_display()}"


class UniqueRule(TimestampedModel):
    """ "This kind of key is unique among this entity", e.g. a mobile among contacts.

    Switched on and off with jiepai.dedup.services.set_unique_rule, which refuses while
    existing records already clash and lists them.
    """

    entity = models.CharField(_("对象"), max_length=20, choices=DEDUP_ENTITY_CHOICES)
    kind = models.CharField(_("唯一项"), max_length=24)
    active = models.BooleanField(_("启用"), default=False)

    class Meta:
        ordering = ["entity", "kind"]
        verbose_name = _("唯一性规则")
        verbose_name_plural = _("唯一性规则")
        constraints = [
            models.UniqueConstraint(fields=["entity", "kind"], name="dedup_unique_rule_once"),
        ]

    def __str__(self) -> str:
        from jiepai.dedup.keys import kind_label

        return f"{self.get_entity_display()}·{kind_label(self.kind)}"


class FlagStatus(models.TextChoices):
    OPEN = "open", _("待审")
    MERGED = "merged", _("已合并")
    DISMISSED = "dismissed", _("不是重复")


class DuplicateFlag(TimestampedModel):
    """A record let in although it looks like another one (policy "allow and flag")."""

    entity = models.CharField(max_length=20, choices=DEDUP_ENTITY_CHOICES)
    object_id = models.BigIntegerField()
    candidate_id = models.BigIntegerField()
    confidence = models.FloatField()
    reasons = models.JSONField(default=list)
    source = models.CharField(_("来源"), max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("疑似重复")
        verbose_name_plural = _("疑似重复")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "object_id", "candidate_id"], name="dedup_flag_once"
            ),
        ]
        indexes = [models.Index(fields=["entity", "status"], name="dedup_flag_status_idx")]

    def __str__(self) -> str:
        return f"{self.entity}#{self.object_id} ~ #{self.candidate_id}"


class DismissedPair(models.Model):
    """Two records a person said are not duplicates: never proposed together again."""

    entity = models.CharField(max_length=20, choices=DEDUP_ENTITY_CHOICES)
    low_id = models.BigIntegerField()
    high_id = models.BigIntegerField()
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "low_id", "high_id"], name="dedup_dismissed_once"
            ),
            models.CheckConstraint(
                condition=models.Q(low_id__lt=models.F("high_id")), name="dedup_dismissed_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.low_id}≠{self.high_id}"


class ClusterStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    MERGED = "merged", _("已合并")
    DISMISSED = "dismissed", _("不是重复")


class DuplicateCluster(TimestampedModel):
    """One group of likely duplicates found by the last scan, for a manager to review."""

    entity = models.CharField(max_length=20, choices=DEDUP_ENTITY_CHOICES)
    record_ids = models.JSONField(default=list)
    confidence = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(
        max_length=20, choices=ClusterStatus.choices, default=ClusterStatus.OPEN
    )
    scanned_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-confidence", "-id"]
        verbose_name = _("重复组")
        verbose_name_plural = _("重复组")
        indexes = [models.Index(fields=["entity", "status"], name="dedup_cluster_status_idx")]

    def __str__(self) -> str:
        return f"{self.entity} {self.record_ids}"


class MergeRecord(TimestampedModel):
    """One merge, with exactly what moved, so it can be undone.

    `moved` maps "app.Model.field" to {merged record id: [ids of the rows re-pointed]};
    `added_shares` lists the people/teams the survivor gained; `survivor_before` holds the
    survivor's fields before the chosen values were written.
    """

    entity = models.CharField(max_length=20, choices=DEDUP_ENTITY_CHOICES)
    survivor_id = models.BigIntegerField()
    merged_ids = models.JSONField(default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field_sources = models.JSONField(default=dict)
    survivor_before = models.JSONField(default=dict)
    survivor_after = models.JSONField(default=dict)
    moved = models.JSONField(default=dict)
    added_shares = models.JSONField(default=dict)
    merged_unique_values = models.JSONField(default=dict)
    undo_until = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("合并记录")
        verbose_name_plural = _("合并记录")
        indexes = [
            models.Index(fields=["entity", "survivor_id"], name="dedup_merge_survivor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.merged_ids} → {self.survivor_id}"


class AccessRequest(TimestampedModel):
    """Somebody found an existing record they cannot see and asked its owner to share it."""

    entity = models.CharField(max_length=20, choices=DEDUP_ENTITY_CHOICES)
    object_id = models.BigIntegerField()
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted = models.BooleanField(null=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("查看申请")
        verbose_name_plural = _("查看申请")
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "object_id", "requester"],
                condition=models.Q(granted__isnull=True),
                name="dedup_access_request_pending_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requester} → {self.entity}#{self.object_id}"


class ReportSchedule(models.Model):
    """When the weekly duplicate report runs next: a deadline the sweeper acts on."""

    name = models.CharField(max_length=50, unique=True)
    next_run_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
