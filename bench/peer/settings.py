"""A minimal Django project for django-helpdesk, the peer measured in scenarios 1 and 2.

The database comes from PEER_DB_* variables set by bench/peer/peer.py (same PostgreSQL as fazhizhen,
its own database). Mail goes to memory: we time the ticket work, not an SMTP server.
"""

import os

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
ALLOWED_HOSTS = ["*"]
SITE_ID = 1
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["PEER_DB_NAME"],
        "USER": os.environ.get("PEER_DB_USER", "postgres"),
        "PASSWORD": os.environ.get("PEER_DB_PASSWORD", ""),
        "HOST": os.environ["PEER_DB_HOST"],
        "PORT": os.environ.get("PEER_DB_PORT", "5432"),
    }
}
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
LOGGING = {"version": 1, "disable_existing_loggers": True}
HELPDESK_TEAMS_MODE_ENABLED = False  # pinax-teams is not needed to file and escalate tickets
