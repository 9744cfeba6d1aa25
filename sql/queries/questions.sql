-- name: db_now
SELECT now();

-- name: community_routing_info
SELECT c.id, s.district_id FROM communities c JOIN streets s ON s.id = c.street_id WHERE c.id = $1;

-- name: submission_context
-- What routing a new question reads, as one row (one round trip): the database clock, the community's
-- district (NULL: no such community), its roster of active lawyers with each slot's lawyer's load,
-- every pool, and, when $2 names a resident, that resident's question usage (an early look: the
-- count that decides is the one insert_routed_question takes under the lock).
SELECT now() AS now, c.id AS community_id, s.district_id,
       r.lawyer_ids AS slot_lawyer_ids, r.weekdays AS slot_weekdays, r.starts AS slot_starts, r.ends AS slot_ends,
       r.open AS slot_lawyer_open, r.last_assigned AS slot_lawyer_last_assigned,
       p.pool_ids, p.pool_districts,
       u.used_last_hour, u.used_last_day, u.used_open, u.used_oldest_in_hour, u.used_oldest_in_day, u.used_now
FROM (SELECT $1::bigint AS community_id, $2::bigint AS resident_id) arg
LEFT JOIN communities c ON c.id = arg.community_id
LEFT JOIN streets s ON s.id = c.street_id
CROSS JOIN LATERAL (
    SELECT array_agg(d.lawyer_id ORDER BY d.id) AS lawyer_ids, array_agg(d.weekday ORDER BY d.id) AS weekdays,
           array_agg(d.start_time ORDER BY d.id) AS starts, array_agg(d.end_time ORDER BY d.id) AS ends,
           array_agg(l.last_assigned_at ORDER BY d.id) AS last_assigned,
           array_agg((SELECT count(*) FROM questions q
                      WHERE q.assigned_lawyer_id = l.id AND q.status IN ('pending', 'claimed')) ORDER BY d.id) AS open
    FROM duty_slots d JOIN lawyers l ON l.id = d.lawyer_id AND l.active
    WHERE d.community_id = arg.community_id
) r
CROSS JOIN LATERAL (
    SELECT array_agg(id ORDER BY id) AS pool_ids, array_agg(district_id ORDER BY id) AS pool_districts FROM pools
) p
LEFT JOIN LATERAL (
    SELECT * FROM fzz_locked_question_usage(arg.resident_id) WHERE arg.resident_id IS NOT NULL
) u ON true;

-- name: insert_routed_question
-- One statement, so one round trip and its own transaction: take the resident's lock and count their
-- usage ($20; NULL: no limits), and only while under every limit ($21 open, $22 per hour, $23 per day)
-- insert the question (created at $19, the clock routing read), its `created` event ($13-$15) and
-- its routing event ($16-$18: `routed` or `escalated`) in that id order, and stamp the assignee ($7).
-- Returns the usage, with the question's columns NULL when a limit refused it.
WITH use AS (
    SELECT * FROM fzz_locked_question_usage($20)
), q AS (
    INSERT INTO questions (community_id, resident_id, category, category_source, content, status,
                           assigned_lawyer_id, pool_id, escalate_at, escalated_at, escalation_reason, alert_at,
                           review_flag, created_at, updated_at)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $24, $19, $19
    FROM use
    WHERE $20::bigint IS NULL OR (use.used_open < $21 AND use.used_last_hour < $22 AND use.used_last_day < $23)
    RETURNING *
), events AS (
    INSERT INTO question_events (question_id, kind, level, actor_role, actor_id, data, created_at)
    SELECT q.id, e.kind, e.level, e.actor_role, e.actor_id, e.data, $19
    FROM q, (VALUES (1, 'created', NULL::smallint, $13::text, $14::bigint, $15::jsonb),
                    (2, $16::text, $17::smallint, 'system', NULL::bigint, $18::jsonb))
             AS e (ord, kind, level, actor_role, actor_id, data)
    ORDER BY e.ord
), assigned AS (
    UPDATE lawyers SET last_assigned_at = $19 WHERE id = $7 AND EXISTS (SELECT FROM q)
)
SELECT use.*, q.* FROM use LEFT JOIN q ON true;

-- name: list_pool_refs
SELECT id AS pool_id, district_id FROM pools ORDER BY id;

-- name: insert_event
INSERT INTO question_events (question_id, kind, level, actor_role, actor_id, data)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, created_at;

-- name: get_question
SELECT * FROM questions WHERE id = $1;

-- name: lock_question
SELECT * FROM questions WHERE id = $1 FOR UPDATE;

-- name: question_messages
SELECT id, question_id, author_role, author_id, kind, content, created_at
FROM messages WHERE question_id = ANY($1::bigint[]) ORDER BY question_id, id;

-- name: insert_message
INSERT INTO messages (question_id, author_role, author_id, kind, content)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, question_id, author_role, author_id, kind, content, created_at;

-- name: get_message
SELECT id, question_id, author_role, author_id, kind, content, created_at FROM messages WHERE id = $1;

-- name: list_resident_questions
SELECT * FROM questions
WHERE resident_id = $1 AND ($2::bigint IS NULL OR id < $2)
ORDER BY created_at DESC, id DESC
LIMIT $3;

-- name: lawyer_queue
-- A lawyer's work queue in one round trip: `assigned` (mine, unanswered, soonest deadline first), then
-- `pool` (my pools' unclaimed, oldest first); each question with its thread and its staff-only
-- attachments (offline asker, notes with their authors' names, referrals), as typed row arrays.
SELECT x.queue, q.*,
       ARRAY(SELECT m FROM messages m WHERE m.question_id = q.id ORDER BY m.id) AS thread,
       (SELECT a FROM offline_askers a WHERE a.question_id = q.id) AS asker,
       ARRAY(SELECT n FROM question_notes n WHERE n.question_id = q.id ORDER BY n.id) AS note_rows,
       ARRAY(SELECT coalesce(l.name, w.name)
             FROM question_notes n
             LEFT JOIN lawyers l ON l.id = n.author_id AND n.author_role = 'lawyer'
             LEFT JOIN workers w ON w.id = n.author_id AND n.author_role = 'worker'
             WHERE n.question_id = q.id ORDER BY n.id) AS note_authors,
       ARRAY(SELECT r FROM question_referrals r WHERE r.question_id = q.id ORDER BY r.id) AS referral_rows
FROM (
    SELECT 'assigned' AS queue, 1 AS part, id,
           CASE WHEN status = 'pending' THEN escalate_at ELSE alert_at END AS due
    FROM questions
    WHERE assigned_lawyer_id = $1 AND status IN ('pending', 'claimed')
    UNION ALL
    SELECT 'pool', 2, id, escalated_at
    FROM questions
    WHERE status = 'escalated' AND pool_id IN (SELECT pool_id FROM pool_members WHERE lawyer_id = $1)
) x
JOIN questions q ON q.id = x.id
ORDER BY x.part, x.due NULLS LAST, x.id;

-- name: lawyer_has_answered
SELECT EXISTS (SELECT 1 FROM messages WHERE question_id = $1 AND author_role = 'lawyer' AND author_id = $2);

-- name: is_pool_member
SELECT EXISTS (SELECT 1 FROM pool_members WHERE pool_id = $1 AND lawyer_id = $2);

-- name: claim_question
UPDATE questions
SET status = 'claimed', assigned_lawyer_id = $2, claimed_at = now(), updated_at = now()
WHERE id = $1 AND status = 'escalated' AND assigned_lawyer_id IS NULL
RETURNING *;

-- name: mark_first_answer
UPDATE questions
SET status = 'answered', first_answered_at = now(), first_answered_by = $2, resolved_level = $3,
    updated_at = now()
WHERE id = $1 AND first_answered_at IS NULL
RETURNING *;

-- name: touch_question
UPDATE questions SET updated_at = now() WHERE id = $1 RETURNING *;

-- name: adopt_answer
UPDATE questions
SET adopted_answer_id = $2, status = 'closed', closed_at = now(), updated_at = now()
WHERE id = $1 AND status <> 'closed'
RETURNING *;

-- name: upsert_rating
INSERT INTO ratings (question_id, resident_id, score, comment) VALUES ($1, $2, $3, $4)
ON CONFLICT (question_id) DO UPDATE SET score = EXCLUDED.score, comment = EXCLUDED.comment, updated_at = now()
RETURNING score, comment, updated_at;

-- name: set_question_rating
UPDATE questions SET rating = $2, rating_comment = $3, rated_at = now(), updated_at = now()
WHERE id = $1 RETURNING *;

-- name: pool_district
SELECT district_id FROM pools WHERE id = $1;

-- name: question_events
SELECT id, kind, level, actor_role, actor_id, data, created_at FROM question_events
WHERE question_id = $1 ORDER BY id;
