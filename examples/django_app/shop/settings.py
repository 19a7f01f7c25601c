"""Settings of the host project (a small shop) that embeds supportkit.

SQLite by default; set ``SHOP_PG_URL`` (``postgresql://user@host:port/db``)
to run on PostgreSQL instead. supportkit's tables live in the same database
as the shop's own, installed by the ``orders`` app's migration.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "example-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "shop.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "orders"]
MIDDLEWARE: list[str] = []

_pg = os.environ.get("SHOP_PG_URL")
if _pg:
    _u = urlsplit(_pg)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _u.path.lstrip("/"),
            "USER": _u.username or "postgres",
            "HOST": _u.hostname or "127.0.0.1",
            "PORT": str(_u.port or 5432),
            # one test database per run, so parallel runs never share one
            "TEST": {"NAME": os.environ.get("SHOP_PG_TEST_DB", f"test_shop_{os.getpid()}")},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SHOP_SQLITE", str(BASE_DIR / "shop.sqlite3")),
        }
    }
