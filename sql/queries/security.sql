-- name: insert_audit
INSERT INTO audit_log (actor_role, actor_id, action, target_type, target_id, success, client_addr,
                       request_id, details)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id, at;

-- name: list_audit
-- Newest first, keyset-paged by (at, id) from the row `before_id`; every filter optional.
SELECT id, at, actor_role, actor_id, action, target_type, target_id, success, client_addr, request_id, details
FROM audit_log
WHERE ($1::text IS NULL OR actor_role = $1)
  AND ($2::bigint IS NULL OR actor_id = $2)
  AND ($3::text IS NULL OR action = $3 OR action LIKE $3 || '.%')
  AND ($4::text IS NULL OR target_type = $4)
  AND ($5::bigint IS NULL OR target_id = $5)
  AND ($6::boolean IS NULL OR success = $6)
  AND ($7::timestamptz IS NULL OR at >= $7)
  AND ($8::timestamptz IS NULL OR at < $8)
  AND ($9::bigint IS NULL OR (at, id) < (SELECT b.at, b.id FROM audit_log b WHERE b.id = $9))
  AND ($10::text IS NULL OR client_addr = $10)
-- by time, then id: concurrent requests can commit ids out of their transactions' time order
ORDER BY at DESC, id DESC
LIMIT $11;

-- name: insert_login_attempt
INSERT INTO login_attempts (username, client_addr, success) VALUES ($1, $2, $3) RETURNING at;

-- name: login_failures_for_username
-- Failures since the last success (within the window): how many, and when the latest was.
SELECT count(*) AS failures, max(f.at) AS last_at, now() AS now
FROM login_attempts f
WHERE f.username = $1 AND NOT f.success AND f.at > now() - make_interval(secs => $2)
  AND f.at > coalesce((SELECT max(s.at) FROM login_attempts s WHERE s.username = $1 AND s.success),
                      '-infinity');

-- name: login_failures_for_addr
SELECT count(*) AS failures, min(at) AS first_at, now() AS now
FROM login_attempts
WHERE client_addr = $1 AND NOT success AND at > now() - make_interval(secs => $2);

-- name: rate_hit
-- Fixed window counter shared by every process: count this hit and return the window's total.
INSERT INTO rate_counters (key, window_start, count)
VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
ON CONFLICT (key, window_start) DO UPDATE SET count = rate_counters.count + 1
RETURNING count, extract(epoch FROM (window_start + make_interval(secs => $2) - now()))::float8 AS reset_seconds;

-- name: set_message_review_flag
UPDATE messages SET review_flag = $2 WHERE id = $1;

-- name: upsert_resident_wechat
INSERT INTO residents (openid, unionid, last_login_at) VALUES ($1, $2, now())
ON CONFLICT (openid) DO UPDATE
SET unionid = coalesce(EXCLUDED.unionid, residents.unionid), last_login_at = now()
RETURNING id, deleted_at;

-- name: resident_openid
SELECT openid FROM residents WHERE id = $1 AND deleted_at IS NULL;

-- name: get_resident
SELECT id, openid, unionid, created_at, last_login_at, deleted_at FROM residents WHERE id = $1;

-- name: resident_questions_all
SELECT id, community_id, category, content, status, assigned_lawyer_id, created_at, first_answered_at,
       resolved_level, adopted_answer_id, closed_at, rating, rating_comment, review_flag
FROM questions WHERE resident_id = $1 ORDER BY id;

-- name: resident_messages_all
SELECT m.id, m.question_id, m.author_role, m.author_id, m.kind, m.content, m.created_at
FROM messages m JOIN questions q ON q.id = m.question_id
WHERE q.resident_id = $1 ORDER BY m.question_id, m.id;

-- name: resident_tokens
SELECT created_at, expires_at, revoked_at FROM auth_tokens WHERE resident_id = $1 ORDER BY created_at;

-- name: anonymise_resident_messages
UPDATE messages m SET content = ''
FROM questions q WHERE q.id = m.question_id AND q.resident_id = $1;

-- name: anonymise_resident_ratings
UPDATE ratings SET resident_id = NULL, comment = NULL WHERE resident_id = $1;

-- name: anonymise_resident_questions
-- Open questions are withdrawn (closed, unanswered) so nobody is asked to answer an empty question.
WITH gone AS (
    UPDATE questions SET content = '', rating_comment = NULL, resident_id = NULL,
        anonymised_at = coalesce(anonymised_at, now()), updated_at = now(),
        status = CASE WHEN status IN ('pending', 'escalated', 'claimed') THEN 'closed' ELSE status END,
        closed_at = CASE WHEN status IN ('pending', 'escalated', 'claimed') THEN now() ELSE closed_at END
    WHERE resident_id = $1
    RETURNING id, (closed_at = now() AND adopted_answer_id IS NULL) AS withdrawn
)
INSERT INTO question_events (question_id, kind, actor_role, data)
SELECT id, 'withdrawn', 'system', '{"reason": "resident_deleted"}'::jsonb FROM gone WHERE withdrawn;

-- name: delete_resident
UPDATE residents SET openid = NULL, unionid = NULL, deleted_at = now() WHERE id = $1 AND deleted_at IS NULL
RETURNING id;

-- name: revoke_resident_tokens
UPDATE auth_tokens SET revoked_at = now() WHERE resident_id = $1 AND revoked_at IS NULL;

-- name: purge_old_messages
UPDATE messages m SET content = ''
FROM questions q
WHERE q.id = m.question_id AND q.anonymised_at IS NULL AND q.created_at < now() - make_interval(days => $1)
  AND m.content <> '';

-- name: purge_old_ratings
UPDATE ratings r SET comment = NULL, resident_id = NULL
FROM questions q
WHERE q.id = r.question_id AND q.anonymised_at IS NULL AND q.created_at < now() - make_interval(days => $1);

-- name: purge_old_questions
WITH gone AS (
    UPDATE questions SET content = '', rating_comment = NULL, resident_id = NULL, anonymised_at = now(),
        updated_at = now()
    WHERE anonymised_at IS NULL AND created_at < now() - make_interval(days => $1)
    RETURNING id
)
SELECT count(*) FROM gone;

-- name: purge_old_login_attempts
DELETE FROM login_attempts WHERE at < now() - make_interval(days => $1);

-- name: purge_old_rate_counters
DELETE FROM rate_counters WHERE window_start < now() - interval '2 days';

-- name: get_account
SELECT id, role, username, password_hash, active, deactivated_at, password_changed_at FROM accounts WHERE id = $1;

-- name: set_account_password
UPDATE accounts SET password_hash = $2, password_changed_at = now() WHERE id = $1;

-- name: revoke_account_tokens
UPDATE auth_tokens SET revoked_at = now() WHERE account_id = $1 AND revoked_at IS NULL;

-- name: set_account_active
UPDATE accounts SET active = $2, deactivated_at = CASE WHEN $2 THEN NULL ELSE now() END
WHERE id = $1
RETURNING id, role, username, active, deactivated_at;

-- name: set_lawyer_active
UPDATE lawyers SET active = $2 WHERE id = $1;

-- name: delete_lawyer_duty_slots
DELETE FROM duty_slots WHERE lawyer_id = $1;

-- name: delete_lawyer_pool_memberships
DELETE FROM pool_members WHERE lawyer_id = $1;

-- name: lawyer_open_questions_locked
SELECT q.id, q.status, q.community_id, q.pool_id, s.district_id
FROM questions q JOIN communities c ON c.id = q.community_id JOIN streets s ON s.id = c.street_id
WHERE q.assigned_lawyer_id = $1 AND q.status IN ('pending', 'claimed')
ORDER BY q.id
FOR UPDATE OF q;

-- name: reassign_pending_question
UPDATE questions SET assigned_lawyer_id = $2, updated_at = now()
WHERE id = $1 AND status = 'pending'
RETURNING id;

-- name: escalate_question_now
-- Mirrors escalate_due for one question whose lawyer left: to the district's pool, else the city's.
UPDATE questions q
SET status = 'escalated', escalated_at = now(), escalation_reason = 'lawyer_deactivated',
    alert_at = now() + make_interval(secs => $3), assigned_lawyer_id = NULL, updated_at = now(),
    pool_id = coalesce(
        (SELECT p.id FROM pools p WHERE p.district_id = $2 ORDER BY p.id LIMIT 1),
        (SELECT p.id FROM pools p WHERE p.district_id IS NULL ORDER BY p.id LIMIT 1))
WHERE q.id = $1 AND q.status = 'pending'
RETURNING q.id, q.pool_id, q.escalate_at, q.escalated_at;

-- name: return_claimed_to_pool
UPDATE questions SET status = 'escalated', assigned_lawyer_id = NULL, claimed_at = NULL, updated_at = now()
WHERE id = $1 AND status = 'claimed'
RETURNING id, pool_id;
