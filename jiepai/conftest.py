"""Shared personas for every test: a rep, a teammate, a manager, an outsider rep in another
department, a director, marketing, service and an admin. Built through the real services."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from jiepai.org.models import Department, User
from jiepai.org.services import create_department, create_user

PASSWORD = "jiepai-test-pw"


@dataclass
class People:
    company: Department
    east: Department
    east_shanghai: Department
    north: Department
    rep: User
    teammate: User
    manager: User
    outsider: User
    director: User
    marketing: User
    service: User
    admin: User


@pytest.fixture
def people(db: None) -> People:
    company = create_department(name="节拍科技")
    east = create_department(name="华东大区", parent=company)
    east_shanghai = create_department(name="上海组", parent=east)
    north = create_department(name="华北大区", parent=company)
    manager = create_user(
        username="manager",
        password=PASSWORD,
        role="manager",
        department=east,
        display_name="赵主管",
    )
    east.manager = manager
    east.save()
    return People(
        company=company,
        east=east,
        east_shanghai=east_shanghai,
        north=north,
        rep=create_user(
            username="rep",
            password=PASSWORD,
            role="rep",
            department=east_shanghai,
            display_name="王磊",
        ),
        teammate=create_user(
            username="teammate",
            password=PASSWORD,
            role="rep",
            department=east_shanghai,
            display_name="李娜",
        ),
        manager=manager,
        outsider=create_user(
            username="outsider",
            password=PASSWORD,
            role="rep",
            department=north,
            display_name="孙强",
        ),
        director=create_user(
            username="director",
            password=PASSWORD,
            role="director",
            department=company,
            display_name="周总监",
        ),
        marketing=create_user(
            username="marketing",
            password=PASSWORD,
            role="marketing",
            department=company,
            display_name="吴市场",
        ),
        service=create_user(
            username="service",
            password=PASSWORD,
            role="service",
            department=company,
            display_name="郑客服",
        ),
        admin=create_user(
            username="admin",
            password=PASSWORD,
            role="admin",
            department=company,
            display_name="管理员",
            superuser=True,
        ),
    )


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in zh-Hans: an English request in one test must not leak into the next."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.activate("zh-hans")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings) -> None:
    """Tasks run inline in tests unless a test asks for the database backend."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def on_postgresql() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def run_at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call at the same moment in its own thread (own connection); results or
    the exception each raised."""
    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    """Debian's chromium driven by Playwright (headless). Tests using it are marked `browser`."""
    import os
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: .ci/run installs it with apt-get")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself are still synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.base_url = live_server.url  # type: ignore[attr-defined]
    yield tab
    context.close()


def browser_login(page, user, password: str = PASSWORD) -> None:
    page.goto(f"{page.base_url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    page.click("button.primary")
    page.wait_for_url(f"{page.base_url}/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Transactional tests restore the data migrations' rows (default pipeline, gates, channels,
    vocabulary) when they end, so a test that runs after one finds the database as migrated."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = marker is not None and marker.kwargs.get("transaction")
        names = getattr(item, "fixturenames", None)
        if transactional and names is not None and "django_db_serialized_rollback" not in names:
            names.append("django_db_serialized_rollback")
