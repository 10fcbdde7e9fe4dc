"""The admin errors page: administrators only; lists, filters and resolves error groups (and a
resolved group that recurs is listed as open again)."""

from __future__ import annotations

from flask import Flask

from cryptolens.runtime import app_runtime
from cryptolens.services.ops.error_tracking import record_error
from tests.web.accounts_helpers import post_form, signed_in_client

PAGE = "/admin/errors"


def _disk_full() -> None:
    raise OSError("disk full")


def _bad_value() -> None:
    raise ValueError("bad value")


def _record(app: Flask, work: object) -> int:
    try:
        work()  # type: ignore[operator]
    except Exception as error:
        runtime = app_runtime(app)
        recorded = record_error(runtime.engine, runtime.settings, error, source="job")
        assert recorded is not None
        return recorded.group_id
    raise AssertionError("no error")


def test_only_admins_see_the_errors(app: Flask) -> None:
    pro = signed_in_client(app, "pro@example.com", plan="pro")
    assert pro.get(PAGE).status_code == 403
    admin = signed_in_client(app, "admin@example.com", admin=True)
    assert "No open errors" in admin.get(PAGE).text


def test_the_page_lists_filters_and_resolves_groups(app: Flask) -> None:
    admin = signed_in_client(app, "admin@example.com", admin=True)
    disk = _record(app, _disk_full)
    _record(app, _disk_full)
    _record(app, _bad_value)
    page = admin.get(PAGE).text
    assert "disk full" in page
    assert "bad value" in page
    row = page.split(f'id="error-{disk}"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">2</td>' in row
    searched = admin.get(PAGE, query_string={"q": "DISK"}).text
    assert "disk full" in searched
    assert "bad value" not in searched

    answer = post_form(admin, f"{PAGE}/{disk}/resolve", {"action": "resolve"}, form_path=PAGE)
    assert answer.status_code == 302
    assert "disk full" not in admin.get(PAGE).text
    assert "disk full" in admin.get(PAGE, query_string={"status": "resolved"}).text

    _record(app, _disk_full)  # it came back: open again
    assert "disk full" in admin.get(PAGE).text
    assert "disk full" not in admin.get(PAGE, query_string={"status": "resolved"}).text


def test_an_admin_reopens_a_resolved_group_by_hand(app: Flask) -> None:
    admin = signed_in_client(app, "admin@example.com", admin=True)
    group = _record(app, _bad_value)
    post_form(admin, f"{PAGE}/{group}/resolve", {"action": "resolve"}, form_path=PAGE)
    post_form(admin, f"{PAGE}/{group}/resolve", {"action": "reopen"}, form_path=PAGE)
    assert "bad value" in admin.get(PAGE).text
    assert post_form(admin, f"{PAGE}/999999/resolve", {}, form_path=PAGE).status_code == 404
