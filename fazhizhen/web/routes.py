"""The whole URL table."""

from __future__ import annotations

from aiohttp import web

from fazhizhen.web.handlers import (
    accounts,
    admin,
    audit,
    auth,
    dashboard,
    docs,
    levels,
    me,
    metrics,
    notify,
    questions,
    service,
    stream,
    workers,
)

API = "/api/v1"


def setup_routes(app: web.Application) -> None:
    """Register every route of the service on `app`."""
    r = app.router
    r.add_get("/healthz", service.healthz)
    r.add_get("/readyz", service.readyz)
    r.add_get("/metrics", service.metrics)
    r.add_get(f"{API}/openapi.json", docs.openapi_json)
    r.add_get(f"{API}/docs", docs.docs_page)
    r.add_get(f"{API}/docs/assets/{{name}}", docs.docs_asset)
    app.on_startup.append(docs.store_spec)

    r.add_post(f"{API}/auth/login", auth.login)
    r.add_post(f"{API}/auth/dev", auth.dev_login)
    r.add_post(f"{API}/auth/logout", auth.logout)
    r.add_post(f"{API}/auth/wechat", accounts.wechat_login)
    r.add_post(f"{API}/auth/password", accounts.change_password)
    r.add_patch(f"{API}/admin/accounts/{{id}}", accounts.update_account)
    r.add_get(f"{API}/admin/audit", audit.list_audit)
    r.add_get(f"{API}/me/export", me.export_me)
    r.add_delete(f"{API}/me", me.delete_me)

    r.add_post(f"{API}/admin/districts", admin.create_district)
    r.add_get(f"{API}/admin/districts", admin.list_districts)
    r.add_post(f"{API}/admin/streets", admin.create_street)
    r.add_get(f"{API}/admin/streets", admin.list_streets)
    r.add_post(f"{API}/admin/communities", admin.create_community)
    r.add_get(f"{API}/admin/communities", admin.list_communities)
    r.add_post(f"{API}/admin/communities/{{id}}/duty", admin.create_duty)
    r.add_get(f"{API}/admin/communities/{{id}}/duty", admin.list_duty)
    r.add_delete(f"{API}/admin/communities/{{id}}/duty/{{slot_id}}", admin.delete_duty)
    r.add_post(f"{API}/admin/lawyers", admin.create_lawyer)
    r.add_get(f"{API}/admin/lawyers", admin.list_lawyers)
    r.add_post(f"{API}/admin/pools", admin.create_pool)
    r.add_get(f"{API}/admin/pools", admin.list_pools)
    r.add_post(f"{API}/admin/pools/{{id}}/members", admin.add_pool_member)
    r.add_delete(f"{API}/admin/pools/{{id}}/members/{{lawyer_id}}", admin.remove_pool_member)

    r.add_get(f"{API}/categories", questions.categories)
    r.add_post(f"{API}/questions", questions.create_question)
    r.add_get(f"{API}/questions", questions.list_questions)
    r.add_get(f"{API}/questions/{{id}}", questions.get_question)
    r.add_get(f"{API}/questions/{{id}}/events", questions.question_events)
    r.add_post(f"{API}/questions/{{id}}/messages", questions.add_message)
    r.add_post(f"{API}/questions/{{id}}/adopt", questions.adopt)
    r.add_post(f"{API}/questions/{{id}}/rating", questions.rate)
    r.add_post(f"{API}/questions/{{id}}/claim", questions.claim)
    r.add_post(f"{API}/questions/{{id}}/answers", questions.answer)
    r.add_get(f"{API}/lawyer/queue", questions.lawyer_queue)

    r.add_post(f"{API}/admin/workers", workers.create_worker)
    r.add_get(f"{API}/admin/workers", workers.list_workers)
    r.add_put(f"{API}/admin/workers/{{id}}/communities", workers.set_communities)
    r.add_get(f"{API}/worker/me", workers.me)
    r.add_get(f"{API}/worker/questions", workers.list_questions)
    r.add_post(f"{API}/worker/questions", workers.create_question)
    r.add_get(f"{API}/worker/questions/{{id}}/print", workers.print_question)
    r.add_get(f"{API}/worker/referrals", workers.worker_referrals)
    r.add_post(f"{API}/questions/{{id}}/notes", workers.add_note)
    r.add_get(f"{API}/questions/{{id}}/notes", workers.list_notes)
    r.add_post(f"{API}/questions/{{id}}/referrals", workers.add_referral)
    r.add_get(f"{API}/questions/{{id}}/referrals", workers.list_referrals)
    r.add_post(f"{API}/questions/{{id}}/referrals/{{referral_id}}/outcome", workers.set_referral_outcome)
    r.add_get(f"{API}/metrics/levels/breakdown", levels.breakdown)

    r.add_get(f"{API}/metrics/summary", metrics.summary)
    r.add_get(f"{API}/metrics/levels", metrics.levels)
    r.add_get(f"{API}/metrics/categories", metrics.categories)
    r.add_get(f"{API}/metrics/daily", metrics.daily)
    r.add_get(f"{API}/metrics/lawyers", metrics.lawyers)
    r.add_get(f"{API}/metrics/places", metrics.places)
    r.add_get(f"{API}/metrics/histogram", metrics.histogram)
    r.add_get(f"{API}/bureau/open-escalations", metrics.open_escalations)
    r.add_get(f"{API}/exports/questions.csv", metrics.export_csv)
    r.add_get(f"{API}/exports/questions.xlsx", metrics.export_xlsx)
    r.add_get(f"{API}/callbacks", metrics.list_callbacks)
    r.add_post(f"{API}/callbacks/{{id}}/assign", metrics.assign_callback)
    r.add_post(f"{API}/callbacks/{{id}}/outcome", metrics.complete_callback)

    r.add_get(f"{API}/lawyer/stream", stream.lawyer_stream)
    r.add_get(f"{API}/bureau/stream", stream.bureau_stream)
    r.add_post(f"{API}/admin/webhooks", notify.create_webhook)
    r.add_get(f"{API}/admin/webhooks", notify.list_webhooks)
    r.add_delete(f"{API}/admin/webhooks/{{id}}", notify.delete_webhook)
    r.add_get(f"{API}/admin/outbox", notify.list_outbox)
    dashboard.setup(app)
