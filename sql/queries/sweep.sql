-- name: escalate_due
-- Level 1, set-based: every pending question whose window passed moves to the pool that serves its
-- district (else the city-wide pool), with its event, in one statement. SKIP LOCKED lets two
-- sweepers share the work; the status guard and the (question_id, level) constraint make it once.
-- The pool choice mirrors routing.pool_for (a test keeps them in step).
WITH clock AS (SELECT coalesce($1::timestamptz, now()) AS at),
due AS (
    SELECT q.id, q.assigned_lawyer_id, s.district_id
    FROM questions q
    JOIN communities c ON c.id = q.community_id
    JOIN streets s ON s.id = c.street_id
    WHERE q.status = 'pending' AND q.escalate_at <= (SELECT at FROM clock)
    ORDER BY q.escalate_at
    LIMIT $2
    FOR UPDATE OF q SKIP LOCKED
),
first_pool AS (  -- each district's pool, read once per batch rather than once per question
    SELECT DISTINCT ON (p.district_id) p.district_id, p.id FROM pools p ORDER BY p.district_id, p.id
),
target AS (
    SELECT due.id, due.assigned_lawyer_id,
           coalesce(dp.id, (SELECT f.id FROM first_pool f WHERE f.district_id IS NULL)) AS pool_id
    FROM due LEFT JOIN first_pool dp ON dp.district_id = due.district_id
),
moved AS (
    UPDATE questions q
    SET status = 'escalated',
        escalated_at = (SELECT at FROM clock),
        escalation_reason = 'window_passed',
        alert_at = (SELECT at FROM clock) + make_interval(secs => $3),
        assigned_lawyer_id = NULL,
        updated_at = now(),
        pool_id = target.pool_id
    FROM target
    WHERE q.id = target.id
    RETURNING q.id, target.assigned_lawyer_id AS from_lawyer_id, q.pool_id, q.escalate_at, q.escalated_at
),
events AS (
    INSERT INTO question_events (question_id, kind, level, actor_role, data, created_at)
    SELECT id, 'escalated', 1, 'system',
           jsonb_build_object('from_lawyer_id', from_lawyer_id, 'pool_id', pool_id, 'reason', 'window_passed',
                              'due_at', escalate_at),
           escalated_at
    FROM moved
)
SELECT id, from_lawyer_id, pool_id, escalate_at, escalated_at FROM moved;

-- name: alert_due
-- Level 2: escalated questions (claimed or not) still unanswered when the pool window passed.
WITH clock AS (SELECT coalesce($1::timestamptz, now()) AS at),
due AS (
    SELECT q.id FROM questions q
    WHERE q.alerted_at IS NULL AND q.status IN ('escalated', 'claimed') AND q.alert_at <= (SELECT at FROM clock)
    ORDER BY q.alert_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
),
alerted AS (
    UPDATE questions q SET alerted_at = (SELECT at FROM clock), updated_at = now()
    FROM due WHERE q.id = due.id
    RETURNING q.id, q.pool_id, q.assigned_lawyer_id, q.status, q.alert_at, q.alerted_at
),
events AS (
    INSERT INTO question_events (question_id, kind, level, actor_role, data, created_at)
    SELECT id, 'alerted', 2, 'system',
           jsonb_build_object('pool_id', pool_id, 'assigned_lawyer_id', assigned_lawyer_id, 'status', status,
                              'due_at', alert_at),
           alerted_at
    FROM alerted
)
SELECT id, pool_id, assigned_lawyer_id, status, alert_at, alerted_at FROM alerted;
