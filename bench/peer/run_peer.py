"""Runs inside var/bench-django (its own virtualenv): migrate, then time django-helpdesk creating
tickets through its public ticket form (ticket + follow-up + notification mail, as a web submission
does, minus HTTP) and `escalate_tickets` over tickets that are all due. Prints JSON."""

import json
import os
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from helpdesk.forms import PublicTicketForm  # noqa: E402
from helpdesk.models import Queue, Ticket  # noqa: E402


def main() -> None:
    create_n, escalate_n = int(sys.argv[1]), int(sys.argv[2])
    call_command("migrate", verbosity=0)
    queue, _ = Queue.objects.get_or_create(
        slug="consult",
        defaults={"title": "法律咨询", "allow_public_submission": True, "escalate_days": 1},
    )
    data = {
        "queue": queue.id,
        "title": "楼上邻居装修噪音",
        "body": "楼上邻居装修噪音太大，物业不管，我可以怎么维权？",
        "priority": 3,
        "submitter_email": "resident@example.org",
    }
    t = time.perf_counter()
    for _ in range(create_n):
        form = PublicTicketForm(data=data)
        if not form.is_valid():
            raise SystemExit(f"form invalid: {form.errors}")
        form.save(user=None)
    create_s = time.perf_counter() - t

    # tickets two days old, never escalated: every one is due
    old = timezone.now() - timedelta(days=2)
    Ticket.objects.update(created=old, last_escalation=None, priority=3)
    due = Ticket.objects.count()
    if escalate_n < due:
        Ticket.objects.filter(id__in=Ticket.objects.order_by("id").values("id")[escalate_n:]).update(
            created=timezone.now()
        )
        due = escalate_n
    t = time.perf_counter()
    call_command("escalate_tickets")
    esc_s = time.perf_counter() - t
    escalated = Ticket.objects.filter(last_escalation__isnull=False).count()
    import django as dj
    import helpdesk

    print(
        json.dumps(
            {
                "created": create_n,
                "create_s": create_s,
                "tickets_per_s": create_n / create_s,
                "escalated": escalated,
                "due": due,
                "escalate_s": esc_s,
                "escalated_per_s": escalated / esc_s,
                "django": dj.get_version(),
                "helpdesk": getattr(helpdesk, "__version__", "2.6.1"),
            }
        )
    )


if __name__ == "__main__":
    main()
