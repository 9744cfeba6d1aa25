-- name: outbox_claim_one
-- The next due notification, locked for this delivery; other deliverers skip it.
SELECT o.*, r.openid, q.category, w.url AS webhook_url, w.secret AS webhook_secret,
       w.active AS webhook_active
FROM outbox o
LEFT JOIN questions q ON q.id = o.question_id
LEFT JOIN residents r ON r.id = o.resident_id AND r.deleted_at IS NULL
LEFT JOIN webhooks w ON w.id = o.webhook_id
WHERE o.status = 'pending' AND o.next_attempt_at <= now()
ORDER BY o.next_attempt_at, o.id
LIMIT 1
FOR UPDATE OF o SKIP LOCKED;

-- name: outbox_mark_sent
UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = now(), last_error = NULL
WHERE id = $1;

-- name: outbox_mark_skipped
UPDATE outbox SET status = 'skipped', last_error = $2 WHERE id = $1;

-- name: outbox_mark_failed
-- One failed attempt: retry after `$3` seconds, or dead once `$4` attempts were made.
UPDATE outbox
SET attempts = attempts + 1,
    last_error = left($2, 500),
    status = CASE WHEN attempts + 1 >= $4 THEN 'dead' ELSE 'pending' END,
    next_attempt_at = now() + make_interval(secs => $3)
WHERE id = $1
RETURNING status, attempts;

-- name: outbox_list
SELECT id, channel, kind, question_id, event_id, resident_id, webhook_id, payload, status, attempts,
       next_attempt_at, last_error, created_at, sent_at
FROM outbox
WHERE ($1::text IS NULL OR status = $1) AND ($2::bigint IS NULL OR id < $2)
ORDER BY id DESC LIMIT $3;

-- name: outbox_counts
SELECT channel, status, count(*) AS n FROM outbox GROUP BY channel, status ORDER BY channel, status;

-- name: insert_webhook
INSERT INTO webhooks (url, events, secret, description, created_by) VALUES ($1, $2, $3, $4, $5)
RETURNING id, url, events, description, active, created_at;

-- name: list_webhooks
SELECT id, url, events, description, active, created_at FROM webhooks ORDER BY id;

-- name: deactivate_webhook
UPDATE webhooks SET active = false WHERE id = $1 RETURNING id, url, events, description, active, created_at;
