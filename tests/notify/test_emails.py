from __future__ import annotations

import pytest

from cryptolens.notify.emails import SUBJECTS, render_email

#: What the emails name besides their link (payment emails: the plan, amount, period end).
CONTEXT = {
    "new_email": "n@example.com",
    "plan": "Pro",
    "period": "monthly",
    "amount": "19",
    "currency": "USD",
    "period_end": "2025-02-28 12:00",
    "reference": "4000001",
    "missing": "0.0001 BTC",
    "renews": True,
    "reason": "",
}


@pytest.mark.parametrize("name", sorted(SUBJECTS))
def test_every_email_renders_a_text_and_an_html_part_with_its_link(name: str) -> None:
    message = render_email(name, link="https://lens.example.com/x", **CONTEXT)
    assert message.title == SUBJECTS[name]
    assert "https://lens.example.com/x" in message.body
    assert message.html is not None
    assert 'href="https://lens.example.com/x"' in message.html


def test_html_parts_escape_what_they_are_given_and_text_parts_do_not() -> None:
    message = render_email("email_changed", link="https://l/x", new_email="<b>@example.com")
    assert message.html is not None
    assert "&lt;b&gt;@example.com" in message.html
    assert "<b>@example.com" in message.body


def test_a_missing_link_fails_loudly_instead_of_mailing_an_empty_one() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        render_email("reset")
