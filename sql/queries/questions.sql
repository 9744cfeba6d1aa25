-- name: db_now
SELECT now();

-- name: community_routing_info
SELECT c.id, s.district_id FROM communities c JOIN streets s ON s.id = c.street_id WHERE c.id = $1;

-- name: community_duty_slots
SELECT d.lawyer_id, d.weekday, d.start_time, d.end_time
FROM duty_slots d JOIN lawyers l ON l.id = d.lawyer_id AND l.active
WHERE d.community_id = $1
ORDER BY d.id;

-- name: lawyer_loads
SELECT l.id AS lawyer_id, l.last_assigned_at,
       (SELECT count(*) FROM questions q
        WHERE q.assigned_lawyer_id = l.id AND q.status IN ('pending', 'claimed')) AS open_questions
FROM lawyers l WHERE l.id = ANY($1::bigint[]);

-- name: mark_lawyer_assigned
UPDATE lawyers SET last_assigned_at = now() WHERE id = $1;

-- name: list_pool_refs
SELECT id AS pool_id, district_id FROM pools ORDER BY id;

-- name: insert_question
INSERT INTO questions (community_id, resident_id, category, category_source, content, status,
                       assigned_lawyer_id, pool_id, escalate_at, escalated_at, escalation_reason, alert_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
RETURNING *;

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

-- name: lawyer_assigned_queue
SELECT * FROM questions
WHERE assigned_lawyer_id = $1 AND status IN ('pending', 'claimed')
ORDER BY CASE WHEN status = 'pending' THEN escalate_at ELSE alert_at END NULLS LAST, id;

-- name: lawyer_pool_queue
SELECT q.* FROM questions q
WHERE q.status = 'escalated'
  AND q.pool_id IN (SELECT pool_id FROM pool_members WHERE lawyer_id = $1)
ORDER BY q.escalated_at, q.id;

-- name: lawyer_pool_ids
SELECT pool_id FROM pool_members WHERE lawyer_id = $1;

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
