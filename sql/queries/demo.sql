-- name: demo_loaded
SELECT EXISTS (SELECT 1 FROM districts WHERE name = $1);

-- name: demo_insert_question
INSERT INTO questions (community_id, resident_id, category, category_source, content, status,
                       assigned_lawyer_id, pool_id, created_at, escalate_at, escalated_at, escalation_reason,
                       alert_at, alerted_at, claimed_at, first_answered_at, first_answered_by, resolved_level,
                       closed_at, rating, rated_at, updated_at)
VALUES ($1, $2, $3, 'resident', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
        coalesce($18::timestamptz, $15::timestamptz, $10::timestamptz, $8::timestamptz))
RETURNING id;

-- name: demo_insert_message
INSERT INTO messages (question_id, author_role, author_id, kind, content, created_at)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id;

-- name: demo_insert_event
INSERT INTO question_events (question_id, kind, level, actor_role, actor_id, data, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: demo_set_adopted
UPDATE questions SET adopted_answer_id = $2 WHERE id = $1;

-- name: demo_insert_rating
INSERT INTO ratings (question_id, resident_id, score, created_at, updated_at) VALUES ($1, $2, $3, $4, $4);
