"""The demo company: people, channels, accounts, contacts, leads, deals and follow-ups.

`load_demo()` runs the STEPS in order, one function per entity. Each step is idempotent on its
own: it first loads the demo rows that exist (found by their `external_id` mark, "demo-...") and
does nothing more when its step marker (an Event `demo.loaded` with data.step) is there. So
running the demo twice changes nothing, and a later feature can append a step that also runs on
an existing demo database. A step gets its own random generator seeded from (SEED, step name),
so its data do not depend on which other steps ran.

Rows go in with bulk inserts for speed, but every record still gets the Events a real change
would have written (created, routed, contacted, stage changed, follow-up logged), dated in the
past, so timelines and reports show something. Bulk inserts skip the services on purpose: the
demo writes history, not live changes (no notifications, no routing).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone
from faker import Faker

from jiepai.activities.demo import make_follow_up_facts
from jiepai.activities.models import Activity, ActivityKind
from jiepai.customers.models import Account, Contact
from jiepai.customfields.models import FieldDefinition
from jiepai.demo import data
from jiepai.events.models import Event
from jiepai.intake.models import ACTIVE_LEAD_STATES, Channel, Lead, LeadState
from jiepai.intake.normalise import normalise_phone
from jiepai.org.models import Department, OnlineStatus, RepProfile, Role, User
from jiepai.org.services import create_department, create_user
from jiepai.pipeline.demo import mark_stalls, stall_events
from jiepai.pipeline.models import Opportunity, Pipeline, Stage
from jiepai.routing.demo import CHANNEL_POLICIES, make_routing

SEED = 20240601
PASSWORD = "demo1234"
#: demo people's e-mail domain, which also tells them from people who were there before
DEMO_MAIL_DOMAIN = "yunfan-demo.cn"
DAYS = 90
BATCH = 1000

#: full-size counts; --scale multiplies them
SIZES = {
    "accounts": 2000,
    "leads": 5000,
    "opportunities": 800,
    "activities": 10000,
}


@dataclass
class Demo:
    now: datetime.datetime
    scale: float = 1.0
    company: Department | None = None
    regions: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    reps: dict[str, list[User]] = field(default_factory=dict)  # region name → reps
    existing_users: list[str] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    contacts: dict[int, list[Contact]] = field(default_factory=dict)  # account id → contacts
    leads: list[Lead] = field(default_factory=list)
    opportunities: list[Opportunity] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)

    def size(self, name: str) -> int:
        return max(1, round(SIZES[name] * self.scale))

    def rng(self, step: str) -> random.Random:
        return random.Random(f"{SEED}:{step}")

    def faker(self, step: str) -> Faker:
        fake = Faker("zh_CN")
        fake.seed_instance(f"{SEED}:{step}")
        return fake

    def region_of(self, province: str) -> str:
        return next(r for r, provinces in data.REGIONS.items() if province in provinces)

    def ago(
        self, rng: random.Random, days: float, *, recent_bias: float = 1.0
    ) -> datetime.datetime:
        """A moment in the last `days` days; recent_bias > 1 crowds them towards now."""
        return self.now - datetime.timedelta(seconds=rng.random() ** recent_bias * days * 86400)


def _step_done(name: str) -> bool:
    return Event.objects.filter(subject_type="demo", verb="demo.loaded", data__step=name).exists()


def _mark_done(demo: Demo, name: str, count: int) -> None:
    demo.created[name] = count
    Event.objects.create(
        created_at=demo.now,
        subject_type="demo",
        subject_id=0,
        verb="demo.loaded",
        data={"step": name, "count": count, "scale": demo.scale},
    )


def _event(
    subject_type: str,
    subject_id: int,
    verb: str,
    at: datetime.datetime,
    actor_id: int | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    event_data: dict[str, Any] | None = None,
) -> Event:
    return Event(
        created_at=at,
        actor_id=actor_id,
        subject_type=subject_type,
        subject_id=subject_id,
        verb=verb,
        before=before or {},
        after=after or {},
        data=event_data or {},
    )


def _insert(model: type[models.Model], rows: list[Any], *, dated: bool = True) -> None:
    """Bulk insert; then put back the past created_at/updated_at that auto_now overwrote
    (one executemany: bulk_update's CASE expressions were most of the demo's run time)."""
    stamps = [(row.created_at, row.updated_at) for row in rows] if dated else []
    model._default_manager.bulk_create(rows, batch_size=BATCH)
    if not dated:
        return
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    params = []
    for row, (created, updated) in zip(rows, stamps, strict=True):
        row.created_at, row.updated_at = created, updated
        params.append(
            (ops.adapt_datetimefield_value(created), ops.adapt_datetimefield_value(updated), row.pk)
        )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET created_at = %s, updated_at = %s WHERE id = %s",  # noqa: S608
            params,
        )


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# --- people ----------------------------------------------------------------------------------


def make_org(demo: Demo) -> None:
    """One company, three sales regions each with a manager and four reps, plus a director,
    marketing, customer service and an admin."""
    fake = demo.faker("org")
    rng = demo.rng("org")
    demo.company = Department.objects.filter(name=data.COMPANY, parent=None).first()
    if demo.company is None:
        demo.company = create_department(name=data.COMPANY)
    password = make_password(PASSWORD)  # hashed once: the hasher is slow on purpose
    created = 0

    def person(username: str, role: str, department: Department, **extra: Any) -> User:
        nonlocal created
        user = User.objects.filter(username=username).first()
        if user is not None:
            if user.email != f"{username}@{DEMO_MAIL_DOMAIN}":
                demo.existing_users.append(username)  # not ours: its password is not PASSWORD
            return user
        user = create_user(
            username=username,
            password=None,
            role=role,
            department=department,
            display_name=fake.name(),
            email=f"{username}@{DEMO_MAIL_DOMAIN}",
            **extra,
        )
        user.password = password
        user.save(update_fields=["password"])
        created += 1
        return user

    demo.users["admin"] = person("admin", Role.ADMIN, demo.company, superuser=True)
    demo.users["director"] = person("director", Role.DIRECTOR, demo.company)
    demo.users["marketing"] = person("marketing", Role.MARKETING, demo.company)
    demo.users["service"] = person("service", Role.SERVICE, demo.company)
    number = 0
    industries = list(data.INDUSTRIES)
    for region, slug in data.REGION_SLUGS.items():
        department = Department.objects.filter(name=region, parent=demo.company).first()
        if department is None:
            department = create_department(name=region, parent=demo.company)
        demo.regions[region] = department
        manager = person(f"{slug}_manager", Role.MANAGER, department)
        demo.users[manager.username] = manager
        if department.manager_id is None:
            department.manager = manager
            department.save(update_fields=["manager"])
        demo.reps[region] = []
        for _ in range(4):
            number += 1
            rep = person(
                f"rep{number:02d}",
                Role.REP,
                department,
                capacity=rng.choice([6, 8, 8, 10]),
                industries=rng.sample(industries, 2),
            )
            demo.users[rep.username] = rep
            demo.reps[region].append(rep)
    if created:
        # Two thirds of the reps are at their desks right now.
        reps = [r for region in demo.reps.values() for r in region]
        online = [r.pk for r in reps if rng.random() < 0.67]
        RepProfile.objects.filter(user_id__in=online).update(
            online_status=OnlineStatus.ONLINE, last_seen_at=demo.now
        )
    demo.created["users"] = created


# --- configuration ---------------------------------------------------------------------------

CHANNELS = [
    # slug, name, kind, weight, response window (minutes), alias map
    ("web-form", "官网表单", "web_form", "1.00", 15, {"手机号": "mobile", "公司名称": "company"}),
    ("mini-program", "小程序", "mini_program", "1.00", 15, {"手机": "mobile"}),
    ("expo-qr", "展会扫码", "trade_show", "0.80", 240, {}),
    ("phone-in", "电话呼入", "phone", "0.90", 240, {}),
    ("douyin", "抖音投放", "short_video", "0.60", 240, {"电话": "mobile", "留言": "message"}),
    ("api", "API", "api", "1.00", 240, {}),
]


def make_channels(demo: Demo) -> None:
    created = 0
    for slug, name, kind, weight, window, aliases in CHANNELS:
        channel = Channel.objects.filter(slug=slug).first()
        if channel is None:
            channel = Channel.objects.create(
                slug=slug,
                name=name,
                kind=kind,
                weight=Decimal(weight),
                response_window_minutes=window,
                required_fields=["company", "title", "mobile"],
                alias_map=aliases,
            )
            created += 1
        demo.channels.append(channel)
    demo.created["channels"] = created


def make_custom_fields(demo: Demo) -> None:
    """Two custom fields, so lists and detail pages show how they look."""
    _, level = FieldDefinition.objects.get_or_create(
        entity="account",
        key="hospital_level",
        defaults={
            "label": "医院等级",
            "label_en": "Hospital level",
            "field_type": "select",
            "options": [
                {"value": value, "label": label, "synonyms": []}
                for value, label, _ in data.HOSPITAL_LEVELS
            ],
            "show_in_list": True,
        },
    )
    _, competitor = FieldDefinition.objects.get_or_create(
        entity="opportunity",
        key="competitor",
        defaults={"label": "主要竞争对手", "label_en": "Main competitor", "field_type": "text"},
    )
    demo.created["custom_fields"] = int(level) + int(competitor)


# --- customers -------------------------------------------------------------------------------

ACCOUNT_MARK = "demo-account-"
CONTACT_MARK = "demo-contact-"
LEAD_MARK = "demo-lead-"
OPPORTUNITY_MARK = "demo-opportunity-"


def _load_contacts(demo: Demo) -> None:
    demo.contacts = {}
    for contact in Contact.objects.filter(external_id__startswith=CONTACT_MARK).order_by("id"):
        demo.contacts.setdefault(contact.account_id, []).append(contact)


def _account_name(
    demo: Demo, rng: random.Random, fake: Faker, industry: str, province: str, city: str
) -> str:
    if industry == "医院":
        pattern = rng.choice(data.HOSPITAL_PATTERNS)
        return pattern.format(
            city=city,
            province=province,
            n=rng.choice("一二三四五六七八九"),
            brand=rng.choice(data.HOSPITAL_BRANDS),
        )
    return f"{city}{fake.company_prefix()}{rng.choice(data.INDUSTRIES[industry][1])}"


def make_accounts(demo: Demo) -> None:
    demo.accounts = list(
        Account.objects.filter(external_id__startswith=ACCOUNT_MARK).order_by("id")
    )
    if _step_done("accounts"):
        return
    rng, fake = demo.rng("accounts"), demo.faker("accounts")
    industries = list(data.INDUSTRIES)
    shares = [data.INDUSTRIES[i][0] for i in industries]
    provinces = list(data.CITIES)
    levels = [value for value, _, _ in data.HOSPITAL_LEVELS]
    level_shares = [share for _, _, share in data.HOSPITAL_LEVELS]
    names: set[str] = set()
    accounts = []
    for number in range(demo.size("accounts")):
        industry = rng.choices(industries, shares)[0]
        # One row per name (duplicates are the dedup demo's job): draw again a few times,
        # then name a branch, so a large --scale cannot run out of names.
        for _ in range(20):
            province = rng.choice(provinces)
            city, lat, lng = rng.choice(data.CITIES[province])
            name = _account_name(demo, rng, fake, industry, province, city)
            if name not in names:
                break
        else:
            branch = "院区" if industry == "医院" else "分公司"
            name = f"{name}(第{number + 1}{branch})"
        names.add(name)
        created = demo.ago(rng, 400)
        custom = {}
        if industry == "医院":
            custom["hospital_level"] = rng.choices(levels, level_shares)[0]
        accounts.append(
            Account(
                name=name,
                short_name=name.replace(city, "", 1)[:12] if industry != "医院" else "",
                credit_code="91" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRTUWXY", k=16)),
                industry=industry,
                province=province,
                city=city,
                address=f"{province}{city}{fake.street_name()}{rng.randint(1, 999)}号",
                latitude=round(lat + rng.uniform(-0.15, 0.15), 5),
                longitude=round(lng + rng.uniform(-0.15, 0.15), 5),
                phone=f"0{rng.randint(10, 999)}-{rng.randint(10000000, 89999999)}",
                tier=rng.choices(["A", "B", "C"], [0.2, 0.5, 0.3])[0],
                owner=rng.choice(demo.reps[demo.region_of(province)]),
                external_id=f"{ACCOUNT_MARK}{number + 1}",
                custom=custom,
                created_at=created,
                updated_at=created + (demo.now - created) * rng.random(),
            )
        )
    _insert(Account, accounts)
    Event.objects.bulk_create(
        [
            _event(
                "account",
                a.pk,
                "account.created",
                a.created_at,
                a.owner_id,
                after={"name": a.name, "industry": a.industry, "owner": a.owner_id},
            )
            for a in accounts
        ],
        batch_size=BATCH,
    )
    demo.accounts = accounts
    _mark_done(demo, "accounts", len(accounts))


def make_contacts(demo: Demo) -> None:
    """One to three people per account (about 4,000 at full size), with their decision role."""
    _load_contacts(demo)
    if _step_done("contacts"):
        return
    rng, fake = demo.rng("contacts"), demo.faker("contacts")
    contacts = []
    for account in demo.accounts:
        titles = data.HOSPITAL_TITLES if account.industry == "医院" else data.COMPANY_TITLES
        for title, department, role, (low, high) in rng.sample(titles, rng.choice([1, 2, 2, 3])):
            created = account.created_at + (demo.now - account.created_at) * rng.random() * 0.3
            contacts.append(
                Contact(
                    account=account,
                    name=fake.name(),
                    title=title,
                    department_name=department,
                    role=role,
                    decision_weight=rng.randint(low, high),
                    mobile=fake.phone_number(),
                    email=fake.free_email() if rng.random() < 0.6 else "",
                    wechat=f"wx_{fake.user_name()}" if rng.random() < 0.7 else "",
                    owner_id=account.owner_id,
                    external_id=f"{CONTACT_MARK}{len(contacts) + 1}",
                    created_at=created,
                    updated_at=created,
                )
            )
    _insert(Contact, contacts)
    Event.objects.bulk_create(
        [
            _event(
                "contact",
                c.pk,
                "contact.created",
                c.created_at,
                c.owner_id,
                after={"name": c.name, "account": c.account_id, "role": c.role},
            )
            for c in contacts
        ],
        batch_size=BATCH,
    )
    _load_contacts(demo)
    _mark_done(demo, "contacts", len(contacts))


# --- leads -----------------------------------------------------------------------------------

#: the state a lead is drawn in; `LeadMix` then keeps the mix believable (see there)
LEAD_STATES = [
    (LeadState.INCOMPLETE, 0.05),
    (LeadState.UNASSIGNED, 0.05),
    (LeadState.OFFERED, 0.02),
    (LeadState.ASSIGNED, 0.13),
    (LeadState.CONTACTED, 0.27),
    (LeadState.QUALIFIED, 0.10),
    (LeadState.CONVERTED, 0.12),
    (LeadState.DISQUALIFIED, 0.16),
    (LeadState.NURTURE, 0.10),
]
#: how the leads a rep has no room for ended
DECIDED_STATES = [
    (LeadState.CONVERTED, 0.25),
    (LeadState.DISQUALIFIED, 0.45),
    (LeadState.NURTURE, 0.30),
]
#: places every rep keeps free under their capacity, so a lead posted during a demo is routed
#: and an offer can be claimed
HEADROOM = 2
#: a lead older than this has been decided (converted, disqualified, nurture)
ACTIVE_DAYS = 30
#: leads per rep still waiting for first contact, their response window running
LIVE_WINDOWS_PER_REP = 2
#: open offer rounds and unassigned leads per region
OFFERED_PER_REGION = 2
UNASSIGNED_PER_REGION = 2
#: the incomplete pool: of the leads of the last two weeks drawn incomplete, the share still
#: waiting for marketing to complete them (about 30 leads at full size)
INCOMPLETE_DAYS = 14
INCOMPLETE_KEPT = 0.5
CHANNEL_SHARES = {
    "web-form": 0.3,
    "mini-program": 0.15,
    "expo-qr": 0.15,
    "phone-in": 0.12,
    "douyin": 0.2,
    "api": 0.08,
}


class LeadMix:
    """Keeps the drawn lead states believable: the demo is a team at work right now.

    Leads are drawn newest first, and a state is kept only while there is room for it:
    - a rep holds at most capacity − HEADROOM active leads (assigned, contacted, qualified), so
      a lead posted during the demo is routed and offers can be claimed; once a rep's places
      are taken, their older leads have been decided (converted, disqualified, nurture), as
      has every lead older than ACTIVE_DAYS;
    - LIVE_WINDOWS_PER_REP of those places are kept for leads waiting for first contact, which
      came in within their channel's response window (the workbench counts down; the worker
      has nothing to reassign); a lead drawn waiting without such a place has been contacted;
    - a few leads per region are on offer (arrived minutes ago, the round still open) or in the
      unassigned queue (arrived today when nobody could take them);
    - the incomplete pool holds some of the last two weeks' leads (older ones were completed).
    A drawn state without room falls back to the next plausible one.
    """

    def __init__(self, demo: Demo, rng: random.Random) -> None:
        self.demo, self.rng = demo, rng
        reps = [rep.pk for region in demo.reps.values() for rep in region]
        self.capacity = dict(
            RepProfile.objects.filter(user_id__in=reps).values_list("user_id", "capacity")
        )
        self.active: dict[int, int] = dict.fromkeys(reps, 0)
        self.waiting: dict[int, int] = dict.fromkeys(reps, 0)
        self.queued: dict[tuple[str, str], int] = {}

    def fit(
        self, state: str, *, region: str, created: datetime.datetime
    ) -> tuple[str, User | None]:
        """(the state the lead is in, its owner) for a lead drawn in `state`."""
        if state == LeadState.INCOMPLETE:
            recent = self.demo.now - created <= datetime.timedelta(days=INCOMPLETE_DAYS)
            if recent and self.rng.random() < INCOMPLETE_KEPT:
                return state, None
            state = LeadState.CONTACTED  # completed and routed since
        if state in (LeadState.OFFERED, LeadState.UNASSIGNED):
            limit = OFFERED_PER_REGION if state == LeadState.OFFERED else UNASSIGNED_PER_REGION
            taken = self.queued.get((state, region), 0)
            if taken < limit:
                self.queued[state, region] = taken + 1
                return state, None
            state = LeadState.CONTACTED  # claimed or handed out since
        owner = self.rng.choice(self.demo.reps[region])
        places = self.capacity.get(owner.pk, 8) - HEADROOM - self.active[owner.pk]
        live_left = LIVE_WINDOWS_PER_REP - self.waiting[owner.pk]
        if state == LeadState.ASSIGNED and not (places > 0 and live_left > 0):
            state = LeadState.CONTACTED
        # the places kept for live windows are not given to contacted leads
        old = self.demo.now - created > datetime.timedelta(days=ACTIVE_DAYS)
        full = places - max(0, live_left) <= 0
        if state in (LeadState.CONTACTED, LeadState.QUALIFIED) and (old or full):
            state = self.rng.choices(*zip(*DECIDED_STATES, strict=True))[0]
        if state in ACTIVE_LEAD_STATES:
            self.active[owner.pk] += 1
        if state == LeadState.ASSIGNED:
            self.waiting[owner.pk] += 1
        return state, owner

    def arrival(
        self, state: str, channel: Channel, created: datetime.datetime
    ) -> datetime.datetime:
        """When a lead in a waiting state arrived: within the time its state lasts."""
        minutes = datetime.timedelta(minutes=1)
        if state == LeadState.ASSIGNED:  # the response window is still running
            window = minutes * channel.response_window_minutes
            return self.demo.now - window * self.rng.uniform(0.1, 0.7)
        if state == LeadState.OFFERED:  # the offer round (30 minutes) is still open
            return self.demo.now - minutes * self.rng.uniform(1, 20)
        if state == LeadState.UNASSIGNED:  # today, waiting for a manager
            return self.demo.now - minutes * self.rng.uniform(20, 600)
        return created


def _incomplete(lead: Lead, rng: random.Random) -> dict[str, str]:
    """Blank one required field the way a channel leaves it: not sent, or sent unreadable.
    Returns what was sent instead (for the raw payload)."""
    missing = rng.choice(["title", "company", "mobile"])
    sent = {}
    if missing == "mobile" and rng.random() < 0.5:
        typo = lead.mobile[:-1]  # one digit short
        try:
            normalise_phone(typo)
        except ValueError as exc:
            sent["mobile"] = typo
            lead.field_errors = {"mobile": str(exc)}
    setattr(lead, missing, "")
    if missing == "company":
        lead.industry = ""
    lead.missing_fields = [missing]
    return sent


def _raw_payload(lead: Lead, channel: Channel, sent: dict[str, str]) -> dict[str, Any]:
    """What the channel sent, in its own field names (its alias map read backwards)."""
    names = {field: alias for alias, field in channel.alias_map.items()}
    values = {
        "name": lead.name,
        "company": lead.company,
        "title": lead.title,
        "mobile": lead.mobile,
        "email": lead.email,
        "message": lead.message,
        **sent,
    }
    return {names.get(key, key): value for key, value in values.items() if value}


def _own(demo: Demo, rng: random.Random, lead: Lead, owner: User, account: Account | None) -> None:
    """The owner's side of a lead: routed seconds after it came in, contacted (unless it
    still waits), decided some days later for the states past contact."""
    now, created, state = demo.now, lead.created_at, lead.state
    lead.owner = owner
    delay = datetime.timedelta(seconds=rng.randint(5, 60 if state == LeadState.ASSIGNED else 600))
    lead.assigned_at = min(created + delay, created + (now - created) / 2)
    if state == LeadState.ASSIGNED:
        window = datetime.timedelta(minutes=lead.channel.response_window_minutes)
        lead.response_due_at = lead.assigned_at + window
    else:
        answered = datetime.timedelta(minutes=rng.expovariate(1 / 40))
        lead.contacted_at = min(
            lead.assigned_at + answered, lead.assigned_at + (now - lead.assigned_at) * 0.9
        )
    if state in (LeadState.QUALIFIED, LeadState.CONVERTED) and account is not None:
        lead.account = account
        people = demo.contacts.get(account.pk)
        lead.contact = rng.choice(people) if people else None
    lead.updated_at = lead.contacted_at or lead.assigned_at
    if state not in (LeadState.ASSIGNED, LeadState.CONTACTED):
        # qualified / converted / disqualified / nurture: decided some days later
        decided = lead.updated_at + datetime.timedelta(days=rng.uniform(0.2, 20))
        lead.updated_at = min(now, decided)
        if state == LeadState.CONVERTED:
            lead.converted_at = lead.updated_at


def make_leads(demo: Demo) -> None:
    demo.leads = list(Lead.objects.filter(external_id__startswith=LEAD_MARK).order_by("id"))
    if _step_done("leads"):
        return
    rng, fake = demo.rng("leads"), demo.faker("leads")
    states = [s for s, _ in LEAD_STATES]
    state_shares = [share for _, share in LEAD_STATES]
    channels = demo.channels
    channel_shares = [CHANNEL_SHARES.get(c.slug, 0.1) for c in channels]
    provinces = list(data.CITIES)
    total = demo.size("leads")
    times = demo.rng("lead-times")
    arrivals = sorted((demo.ago(times, DAYS, recent_bias=1.4) for _ in range(total)), reverse=True)
    mix = LeadMix(demo, rng)
    pooled = [c for c in channels if CHANNEL_POLICIES.get(c.slug) == "weighted_pool"]
    accounts_in: dict[str, list[Account]] = {region: [] for region in data.REGIONS}
    for account in demo.accounts:
        accounts_in[demo.region_of(account.province)].append(account)
    leads, events = [], []
    for number, created in enumerate(arrivals):
        state = rng.choices(states, state_shares)[0]
        channel = rng.choices(channels, channel_shares)[0]
        province = rng.choice(provinces)
        region = demo.region_of(province)
        state, owner = mix.fit(state, region=region, created=created)
        if state == LeadState.OFFERED and pooled and channel not in pooled:
            channel = rng.choice(pooled)  # only the weighted pool offers leads to reps
        created = mix.arrival(state, channel, created)
        # A qualified or converted lead is almost always a known account by now.
        known = 0.9 if state in (LeadState.QUALIFIED, LeadState.CONVERTED) else 0.3
        account = None
        if accounts_in[region] and rng.random() < known:
            account = rng.choice(accounts_in[region])
        if account is not None:
            province, city, company, industry = (
                account.province,
                account.city,
                account.name,
                account.industry,
            )
        else:
            city = rng.choice(data.CITIES[province])[0]
            industry = rng.choice(list(data.INDUSTRIES))
            company = _account_name(demo, rng, fake, industry, province, city)
        contact_titles = data.HOSPITAL_TITLES if industry == "医院" else data.COMPANY_TITLES
        title = rng.choice(contact_titles)[0]
        product = rng.choice(data.PRODUCTS[industry])
        lead = Lead(
            name=fake.name(),
            title=title,
            company=company,
            mobile=fake.phone_number(),
            email=fake.free_email() if rng.random() < 0.4 else "",
            industry=industry,
            province=province,
            city=city,
            budget=Decimal(rng.randrange(5, 300) * 10000) if rng.random() < 0.35 else None,
            message=rng.choice(data.LEAD_MESSAGES).format(product=product),
            channel=channel,
            state=state,
            score=round(float(channel.weight) * rng.uniform(20, 100), 1),
            external_id=f"{LEAD_MARK}{number + 1}",
            created_at=created,
            updated_at=created,
        )
        if channel.slug == "douyin":
            lead.source_detail = {"campaign": rng.choice(["春季新品", "学术会议直播", "案例短片"])}
        sent = _incomplete(lead, rng) if state == LeadState.INCOMPLETE else {}
        lead.raw_payload = _raw_payload(lead, channel, sent)
        if owner is not None:
            _own(demo, rng, lead, owner, account)
        leads.append(lead)
    _insert(Lead, leads)
    for lead in leads:
        events.append(
            _event(
                "lead",
                lead.pk,
                "lead.created",
                lead.created_at,
                None,
                after={
                    "name": lead.name,
                    "company": lead.company,
                    "channel": lead.channel_id,
                    "state": "incomplete" if lead.missing_fields else "unassigned",
                },
                event_data={"channel": lead.channel.slug, "missing": lead.missing_fields},
            )
        )
        if lead.owner_id:
            events.append(
                _event(
                    "lead",
                    lead.pk,
                    "lead.routed",
                    lead.assigned_at,
                    None,
                    before={"state": "unassigned", "owner": None},
                    after={
                        "state": "assigned",
                        "owner": lead.owner_id,
                        "response_due_at": _iso(
                            lead.assigned_at
                            + datetime.timedelta(minutes=lead.channel.response_window_minutes)
                        ),
                    },
                    event_data={"outcome": "assigned", "reason": "demo", "candidates": []},
                )
            )
        if lead.contacted_at:
            seconds = int((lead.contacted_at - lead.assigned_at).total_seconds())
            events.append(
                _event(
                    "lead",
                    lead.pk,
                    "lead.contacted",
                    lead.contacted_at,
                    lead.owner_id,
                    before={"state": "assigned"},
                    after={"state": "contacted", "response_due_at": None},
                    event_data={
                        "method": rng.choice(["call", "wechat"]),
                        "response_seconds": seconds,
                        "within_window": seconds <= lead.channel.response_window_minutes * 60,
                    },
                )
            )
        if lead.state not in (LeadState.CONTACTED, LeadState.ASSIGNED) and lead.contacted_at:
            events.append(
                _event(
                    "lead",
                    lead.pk,
                    "lead.updated",
                    lead.updated_at,
                    lead.owner_id,
                    before={"state": "contacted"},
                    after={"state": str(lead.state)},
                )
            )
    Event.objects.bulk_create(events, batch_size=BATCH)
    demo.leads = leads
    _mark_done(demo, "leads", len(leads))


# --- deals -----------------------------------------------------------------------------------

STAGE_SHARES = {
    "需求确认": 0.30,
    "方案演示": 0.22,
    "报价反馈": 0.18,
    "商务谈判": 0.12,
    "赢单": 0.10,
    "输单": 0.08,
}
COMPETITORS = ["迈瑞医疗", "GE 医疗", "西门子医疗", "联影医疗", "飞利浦", "本地代理商"]


def make_opportunities(demo: Demo) -> None:
    """About 800 deals across the default pipeline's stages, each with its stage history."""
    demo.opportunities = list(
        Opportunity.objects.filter(external_id__startswith=OPPORTUNITY_MARK).order_by("id")
    )
    if _step_done("opportunities"):
        return
    rng = demo.rng("opportunities")
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if pipeline is None:
        return
    stages = list(pipeline.stages.order_by("position"))
    open_stages = [s for s in stages if not s.is_closed]
    shares = [STAGE_SHARES.get(s.name, 0.1) for s in stages]
    converted = {}
    for lead in demo.leads:
        if lead.state == LeadState.CONVERTED and lead.account_id:
            converted.setdefault(lead.account_id, lead)
    with_contacts = [a for a in demo.accounts if a.pk in demo.contacts]
    deals, histories = [], []
    for number in range(demo.size("opportunities")):
        account = rng.choice(with_contacts or demo.accounts)
        stage = rng.choices(stages, shares)[0]
        created = demo.ago(rng, DAYS, recent_bias=0.8)
        lead = converted.pop(account.pk, None)
        if lead is not None and lead.converted_at:
            created = max(created, lead.converted_at)
        path = _stage_path(rng, stage, open_stages)
        times = sorted(created + (demo.now - created) * rng.random() for _ in path)
        entered = times[-1] if times else created
        contacts = sorted(demo.contacts.get(account.pk, []), key=lambda c: -c.decision_weight)
        product = rng.choice(data.PRODUCTS[account.industry])
        deal = Opportunity(
            name=f"{account.short_name or account.name}·{product}",
            account=account,
            contact=contacts[0] if contacts else None,
            lead=lead,
            stage=stage,
            amount=Decimal(rng.randrange(5, 500) * 10000),
            expected_close_date=(entered + datetime.timedelta(days=rng.randint(-10, 120))).date(),
            stage_entered_at=entered,
            closed_at=entered if stage.is_closed else None,
            loss_reason=rng.choice(data.LOSS_REASONS) if stage.is_lost else "",
            owner_id=account.owner_id,
            external_id=f"{OPPORTUNITY_MARK}{number + 1}",
            custom={"competitor": rng.choice(COMPETITORS)} if rng.random() < 0.6 else {},
            created_at=created,
            updated_at=entered,
        )
        deals.append(deal)
        histories.append(list(zip(path, times, strict=True)))
    mark_stalls(deals, now=demo.now, rng=demo.rng("stalls"))
    _insert(Opportunity, deals)
    events = stall_events(deals, now=demo.now)
    for deal, history in zip(deals, histories, strict=True):
        events.append(
            _event(
                "opportunity",
                deal.pk,
                "opportunity.created",
                deal.created_at,
                deal.owner_id,
                after={
                    "name": deal.name,
                    "account": deal.account_id,
                    "amount": str(deal.amount),
                    "stage": open_stages[0].pk,
                    "stage_entered_at": _iso(deal.created_at),
                    "owner": deal.owner_id,
                },
            )
        )
        previous, previous_at = open_stages[0], deal.created_at
        for to_stage, at in history:
            events.append(
                _event(
                    "opportunity",
                    deal.pk,
                    "opportunity.stage_changed",
                    at,
                    deal.owner_id,
                    before={"stage": previous.pk, "stage_entered_at": _iso(previous_at)},
                    after={"stage": to_stage.pk, "stage_entered_at": _iso(at)},
                    event_data={
                        "pipeline": pipeline.pk,
                        "from_stage": previous.name,
                        "to_stage": to_stage.name,
                        "owner": deal.owner_id,
                    },
                )
            )
            previous, previous_at = to_stage, at
    Event.objects.bulk_create(events, batch_size=BATCH)
    demo.opportunities = deals
    _mark_done(demo, "opportunities", len(deals))


def _stage_path(rng: random.Random, stage: Stage, open_stages: list[Stage]) -> list[Stage]:
    """The stage moves that brought a deal from the first open stage to `stage`."""
    if stage in open_stages:
        return open_stages[1 : open_stages.index(stage) + 1]
    if stage.is_won:
        return [*open_stages[1:], stage]
    reached = rng.randrange(len(open_stages))  # lost from some open stage
    return [*open_stages[1 : reached + 1], stage]


# --- follow-ups ------------------------------------------------------------------------------

ACTIVITY_KINDS = [
    (ActivityKind.CALL, 0.45),
    (ActivityKind.WECHAT, 0.25),
    (ActivityKind.VISIT, 0.15),
    (ActivityKind.MEETING, 0.08),
    (ActivityKind.EMAIL, 0.05),
    (ActivityKind.NOTE, 0.02),
]


def make_activities(demo: Demo) -> None:
    """About 10,000 follow-ups over the last 90 days on worked leads, deals and accounts."""
    if _step_done("activities"):
        return
    rng = demo.rng("activities")
    kinds = [k for k, _ in ACTIVITY_KINDS]
    kind_shares = [share for _, share in ACTIVITY_KINDS]
    worked = [lead for lead in demo.leads if lead.contacted_at]
    start = demo.now - datetime.timedelta(days=DAYS)
    activities, subjects = [], []
    for _ in range(demo.size("activities")):
        pick = rng.random()
        lead = opportunity = account = None
        if pick < 0.4 and worked:
            lead = rng.choice(worked)
            owner_id, since = lead.owner_id, lead.contacted_at
            account_id, contact = lead.account_id, lead.contact
            subject = ("lead", lead.pk)
        elif pick < 0.8 and demo.opportunities:
            opportunity = rng.choice(demo.opportunities)
            owner_id, since = opportunity.owner_id, opportunity.created_at
            account_id, contact = opportunity.account_id, opportunity.contact
            subject = ("opportunity", opportunity.pk)
        else:
            account = rng.choice(demo.accounts)
            owner_id, since = account.owner_id, account.created_at
            account_id = account.pk
            people = demo.contacts.get(account.pk)
            contact = rng.choice(people) if people else None
            subject = ("account", account.pk)
        since = max(since or start, start)
        occurred = since + (demo.now - since) * rng.random()
        kind = rng.choices(kinds, kind_shares)[0]
        has_next = rng.random() < 0.6
        activities.append(
            Activity(
                kind=kind,
                owner_id=owner_id,
                occurred_at=occurred,
                lead=lead,
                opportunity=opportunity,
                account_id=account_id,
                contact=contact,
                contact_role=contact.role if contact else "",
                conclusion=rng.choice(data.ACTIVITY_CONCLUSIONS[kind]),
                summary=_summary(rng, kind, contact),
                next_action=rng.choice(data.NEXT_ACTIONS) if has_next else "",
                next_action_due=(
                    occurred + datetime.timedelta(days=rng.randint(1, 14)) if has_next else None
                ),
                created_at=occurred,
                updated_at=occurred,
            )
        )
        subjects.append(subject)
    _insert(Activity, activities)
    Event.objects.bulk_create(
        [
            _event(
                subject_type,
                subject_id,
                "activity.logged",
                a.occurred_at,
                a.owner_id,
                after={"activity": a.pk, "kind": str(a.kind), "conclusion": a.conclusion},
            )
            for a, (subject_type, subject_id) in zip(activities, subjects, strict=True)
        ],
        batch_size=BATCH,
    )
    _mark_done(demo, "activities", len(activities))


def _summary(rng: random.Random, kind: str, contact: Contact | None) -> str:
    who = f"{contact.name}({contact.title})" if contact else "客户"
    lines = {
        "call": f"电话沟通{who},了解了采购计划和预算节点。",
        "wechat": f"微信联系{who},发送了产品资料和案例。",
        "visit": f"上门拜访{who},现场了解使用环境。",
        "meeting": f"与{who}等开会讨论方案细节。",
        "email": f"给{who}发送邮件,附报价和资质文件。",
        "note": f"内部备注:{who}近期有人事调整。",
    }
    return lines.get(kind, "") + rng.choice(
        ["", "客户反馈积极。", "需要再跟进。", "对价格比较敏感。"]
    )


# --- running it ------------------------------------------------------------------------------

#: in order; append a later feature's step here (it receives the Demo with everything above)
STEPS: list[Callable[[Demo], None]] = [
    make_org,
    make_channels,
    make_custom_fields,
    make_accounts,
    make_contacts,
    make_leads,
    make_opportunities,
    make_activities,
    make_follow_up_facts,
    make_routing,
]


def load_demo(*, scale: float = 1.0, now: datetime.datetime | None = None) -> Demo:
    """Load (or complete) the demo company; all steps in one transaction."""
    demo = Demo(now=now or timezone.now(), scale=scale)
    with transaction.atomic():
        for step in STEPS:
            step(demo)
    return demo
