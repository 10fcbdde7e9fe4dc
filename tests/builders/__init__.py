"""Test data builders: plain functions, constants and small classes the tests import.

Fixtures live in the ``conftest.py`` files (which may use these); nothing here is a fixture,
and no test imports from a ``conftest.py`` (ruff's banned-api rule enforces it):

- ``settings``: ``make_settings`` and the test secret;
- ``db``: clearing the tables, adding a symbol, storing candles as ingestion would;
- ``candles``: hand-written and Hypothesis-drawn candles for the detectors;
- ``market``: exact simulator datasets, a CCXT client aimed at a simulator, fake sleep/clock;
- ``cli``: the type of the in-process ``cryptolens ARGS`` runner;
- ``notify``: a signal summary as an alert describes it (``make_summary``);
- ``notify_servers``: the local ntfy server and webhook receiver behind the ``ntfy_server`` and
  ``webhook_server`` fixtures.
"""
