-- name: db_now
SELECT now();

-- name: community_routing_info
SELECT c.id, s.district_id FROM communities c JOIN streets s ON s.id = c.street_id WHERE c.id = $1;

-- name: submission_contexts
-- What routing new questions reads, one row per question (one round trip for a whole batch), in the
-- order of $1: the database clock; the asker behind the token hash $2 when one is given (token_role
-- NULL: no live token, live_tokens); the community's district (community_id NULL: no such community),
-- its roster of active lawyers with each slot's lawyer's load and last assignment (read once per
-- community however many of its questions the batch holds); and every pool.
WITH arg AS (
    SELECT * FROM unnest($1::bigint[], $2::bytea[]) WITH ORDINALITY AS a (community_id, token_hash, ord)
), roster AS MATERIALIZED (
    SELECT asked.community_id AS requested_id, c.id AS community_id, s.district_id,
           r.lawyer_ids, r.weekdays, r.starts, r.ends, r.open, r.last_assigned
    FROM (SELECT DISTINCT community_id FROM arg) asked
    LEFT JOIN communities c ON c.id = asked.community_id
    LEFT JOIN streets s ON s.id = c.street_id
    CROSS JOIN LATERAL (
        SELECT array_agg(d.lawyer_id ORDER BY d.id) AS lawyer_ids, array_agg(d.weekday ORDER BY d.id) AS weekdays,
               array_agg(d.start_time ORDER BY d.id) AS starts, array_agg(d.end_time ORDER BY d.id) AS ends,
               array_agg(l.last_assigned_at ORDER BY d.id) AS last_assigned,
               array_agg((SELECT count(*) FROM questions q
                          WHERE q.assigned_lawyer_id = l.id AND q.status IN ('pending', 'claimed')) ORDER BY d.id) AS open
        FROM duty_slots d JOIN lawyers l ON l.id = d.lawyer_id AND l.active
        WHERE d.community_id = asked.community_id
    ) r
)
SELECT now() AS now, arg.ord, ro.requested_id, ro.community_id, ro.district_id,
       tok.token_hash, tok.role AS token_role, tok.principal_id AS token_principal_id,
       ro.lawyer_ids AS slot_lawyer_ids, ro.weekdays AS slot_weekdays, ro.starts AS slot_starts, ro.ends AS slot_ends,
       ro.open AS slot_lawyer_open, ro.last_assigned AS slot_lawyer_last_assigned,
       p.pool_ids, p.pool_districts
FROM arg
JOIN roster ro ON ro.requested_id = arg.community_id
-- one index probe per token (OFFSET 0 keeps the planner from joining the whole view instead)
LEFT JOIN LATERAL (SELECT * FROM live_tokens v WHERE v.token_hash = arg.token_hash OFFSET 0) tok ON true
CROSS JOIN (
    SELECT array_agg(id ORDER BY id) AS pool_ids, array_agg(district_id ORDER BY id) AS pool_districts FROM pools
) p
ORDER BY arg.ord;

-- name: question_usage
-- A resident's question usage (fzz_locked_question_usage: counted under their submission lock, which
-- this statement releases at once): the early look taken before a slow outside check of the text.
SELECT * FROM fzz_locked_question_usage($1);

-- name: insert_routed_questions
-- A batch of routed questions in one statement, so one round trip and one commit for all of them.
-- Input: one array element per question ($1-$21); limits $22 open, $23 per hour, $24 per day.
-- For each question, in the order of the residents it counts against ($21; NULL: no limits, no lock),
-- take that resident's lock and count their usage; then insert every question under all its limits
-- (its id drawn beforehand, so each output row finds its input), its `created` event ($15-$17) and
-- its routing event ($18-$20: `routed` or `escalated`) in id order, and stamp each assignee with the
-- latest question given to them, locking those lawyers in id order. The caller never puts one
-- resident twice in a statement: the counts share the statement's snapshot of its own writes.
-- One row per input element, in input order: its usage, and the question's columns (NULL: refused).
WITH input AS (
    SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::bigint[], $8::bigint[], $9::timestamptz[], $10::timestamptz[], $11::text[],
                         $12::timestamptz[], $13::text[], $14::timestamptz[], $15::text[], $16::bigint[],
                         $17::jsonb[], $18::text[], $19::smallint[], $20::jsonb[], $21::bigint[])
        WITH ORDINALITY AS i (community_id, resident_id, category, category_source, content, status,
                              assigned_lawyer_id, pool_id, escalate_at, escalated_at, escalation_reason,
                              alert_at, review_flag, created_at, created_role, created_actor_id, created_data,
                              routing_kind, routing_level, routing_data, limited_resident_id, ord)
), use AS MATERIALIZED (
    SELECT l.ord, nextval('questions_id_seq') AS id, u.*
    FROM (SELECT ord, limited_resident_id FROM input ORDER BY limited_resident_id, ord) l
    CROSS JOIN LATERAL fzz_locked_question_usage(l.limited_resident_id) u
), q AS (
    INSERT INTO questions (id, community_id, resident_id, category, category_source, content, status,
                           assigned_lawyer_id, pool_id, escalate_at, escalated_at, escalation_reason, alert_at,
                           review_flag, created_at, updated_at)
    SELECT use.id, i.community_id, i.resident_id, i.category, i.category_source, i.content, i.status,
           i.assigned_lawyer_id, i.pool_id, i.escalate_at, i.escalated_at, i.escalation_reason, i.alert_at,
           i.review_flag, i.created_at, i.created_at
    FROM input i JOIN use ON use.ord = i.ord
    WHERE i.limited_resident_id IS NULL
       OR (use.used_open < $22 AND use.used_last_hour < $23 AND use.used_last_day < $24)
    ORDER BY use.id
    RETURNING *
), events AS (
    INSERT INTO question_events (question_id, kind, level, actor_role, actor_id, data, created_at)
    SELECT q.id, e.kind, e.level, e.actor_role, e.actor_id, e.data, i.created_at
    FROM q JOIN use ON use.id = q.id JOIN input i ON i.ord = use.ord
    CROSS JOIN LATERAL (VALUES (1, 'created', NULL::smallint, i.created_role, i.created_actor_id, i.created_data),
                               (2, i.routing_kind, i.routing_level, 'system', NULL::bigint, i.routing_data))
        AS e (n, kind, level, actor_role, actor_id, data)
    ORDER BY q.id, e.n
), stamp AS (
    SELECT assigned_lawyer_id AS lawyer_id, max(created_at) AS at
    FROM q WHERE assigned_lawyer_id IS NOT NULL GROUP BY assigned_lawyer_id
), locked AS (
    SELECT l.id FROM lawyers l WHERE l.id IN (SELECT lawyer_id FROM stamp) ORDER BY l.id FOR NO KEY UPDATE
), assigned AS (
    UPDATE lawyers l SET last_assigned_at = stamp.at
    FROM stamp WHERE l.id = stamp.lawyer_id AND l.id IN (SELECT id FROM locked)
)
SELECT use.ord, use.used_last_hour, use.used_last_day, use.used_open, use.used_oldest_in_hour,
       use.used_oldest_in_day, use.used_now, q.*
FROM use LEFT JOIN q ON q.id = use.id
ORDER BY use.ord;

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
