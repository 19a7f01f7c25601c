"""The Django reference integration's own tests, run by Django's test runner.

``python manage.py test`` in examples/django_app, with the shop's settings:
on SQLite, and on the real PostgreSQL server (skipped locally without one,
failing under CI=true).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..pg import PG_URL, require_pg

APP = Path(__file__).resolve().parents[2] / "examples" / "django_app"


def _manage_test(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "test", "--noinput", "-v", "2"],
        cwd=APP,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _assert_all_passed(run: subprocess.CompletedProcess[str]) -> None:
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert "Ran 4 tests" in out, out
    assert "skipped" not in out, out
    assert "\nOK" in out, out


def test_the_django_app_passes_its_tests_on_sqlite() -> None:
    _assert_all_passed(_manage_test({"SHOP_PG_URL": ""}))


def test_the_django_app_passes_its_tests_on_postgresql() -> None:
    require_pg()
    env = {"SHOP_PG_URL": PG_URL, "SHOP_PG_TEST_DB": f"test_shop_{os.getpid()}"}
    _assert_all_passed(_manage_test(env))
