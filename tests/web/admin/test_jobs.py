from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from cryptolens.domain.jobs import JOBS
from cryptolens.extensions import db
from cryptolens.services.ops.job_runs import recorded_run
from tests.web.accounts_helpers import make_user, sign_in


def test_the_admin_jobs_page_lists_every_registered_job_and_the_latest_runs(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context(), recorded_run(db.engine, "cleanup") as run:
        run.counts = {"job_runs_deleted": 7}
    sign_in(client, make_user(app, "ops@example.com", admin=True))
    page = client.get("/admin/jobs")
    assert page.status_code == 200
    for spec in JOBS:
        assert f"<td>{spec.name}</td><td>{spec.queue.value}</td><td>{spec.timeout} s</td>" in (
            page.text
        )
    assert "job_runs_deleted" in page.text
