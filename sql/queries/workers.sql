-- name: insert_worker
INSERT INTO workers (id, name, phone) VALUES ($1, $2, $3) RETURNING id, name, phone, created_at;

-- name: set_worker_communities
-- Replace a worker's communities with exactly the given set.
WITH gone AS (
    DELETE FROM worker_communities WHERE worker_id = $1 AND NOT (community_id = ANY($2::bigint[]))
)
INSERT INTO worker_communities (worker_id, community_id)
SELECT $1, c FROM unnest($2::bigint[]) AS c
ON CONFLICT DO NOTHING;

-- name: missing_communities
SELECT c FROM unnest($1::bigint[]) AS c WHERE NOT EXISTS (SELECT 1 FROM communities WHERE id = c) ORDER BY c;

-- name: get_worker
SELECT w.id, a.username, w.name, w.phone, a.active, w.created_at,
       coalesce((SELECT array_agg(wc.community_id ORDER BY wc.community_id)
                 FROM worker_communities wc WHERE wc.worker_id = w.id), '{}') AS community_ids
FROM workers w JOIN accounts a ON a.id = w.id WHERE w.id = $1;

-- name: list_workers
SELECT w.id, a.username, w.name, w.phone, a.active, w.created_at,
       coalesce((SELECT array_agg(wc.community_id ORDER BY wc.community_id)
                 FROM worker_communities wc WHERE wc.worker_id = w.id), '{}') AS community_ids
FROM workers w JOIN accounts a ON a.id = w.id ORDER BY w.id;

-- name: worker_serves
SELECT EXISTS (SELECT 1 FROM worker_communities WHERE worker_id = $1 AND community_id = $2);

-- name: worker_questions
-- Questions of the worker's communities, newest first, optionally one community or status.
SELECT q.* FROM questions q
WHERE q.community_id IN (SELECT community_id FROM worker_communities WHERE worker_id = $1)
  AND ($2::bigint IS NULL OR q.community_id = $2)
  AND ($3::text IS NULL OR q.status = $3)
  AND ($4::bigint IS NULL OR q.id < $4)
ORDER BY q.created_at DESC, q.id DESC
LIMIT $5;

-- name: mark_asked_by_worker
UPDATE questions SET asked_by_worker_id = $2 WHERE id = $1 RETURNING *;

-- name: insert_offline_asker
INSERT INTO offline_askers (question_id, worker_id, name, phone) VALUES ($1, $2, $3, $4);

-- name: offline_askers_for
SELECT question_id, worker_id, name, phone FROM offline_askers WHERE question_id = ANY($1::bigint[]);

-- name: insert_note
INSERT INTO question_notes (question_id, author_role, author_id, content) VALUES ($1, $2, $3, $4)
RETURNING id, question_id, author_role, author_id, content, created_at;

-- name: notes_for
SELECT n.id, n.question_id, n.author_role, n.author_id, n.content, n.created_at,
       coalesce(l.name, w.name) AS author_name
FROM question_notes n
LEFT JOIN lawyers l ON l.id = n.author_id AND n.author_role = 'lawyer'
LEFT JOIN workers w ON w.id = n.author_id AND n.author_role = 'worker'
WHERE n.question_id = ANY($1::bigint[])
ORDER BY n.question_id, n.id;

-- name: insert_referral
INSERT INTO question_referrals (question_id, to_service, note, author_role, author_id)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: referrals_for
SELECT * FROM question_referrals WHERE question_id = ANY($1::bigint[]) ORDER BY question_id, id;

-- name: set_referral_outcome
UPDATE question_referrals
SET outcome = $3, outcome_note = $4, outcome_by = $5, outcome_at = now()
WHERE id = $2 AND question_id = $1 AND outcome IS NULL
RETURNING *;

-- name: get_referral
SELECT * FROM question_referrals WHERE id = $2 AND question_id = $1;

-- name: worker_communities_named
SELECT c.id, c.name, c.street_id, s.name AS street_name, s.district_id
FROM worker_communities wc
JOIN communities c ON c.id = wc.community_id
JOIN streets s ON s.id = c.street_id
WHERE wc.worker_id = $1
ORDER BY c.id;

-- name: worker_referrals
-- Referrals on questions of the worker's communities, newest first; $2 true: only those still open.
SELECT r.*, q.community_id FROM question_referrals r
JOIN questions q ON q.id = r.question_id
WHERE q.community_id IN (SELECT community_id FROM worker_communities WHERE worker_id = $1)
  AND ($2::boolean IS NOT TRUE OR r.outcome IS NULL)
  AND ($3::bigint IS NULL OR r.id < $3)
ORDER BY r.id DESC
LIMIT $4;

-- name: erase_resident_notes
-- Before a resident's questions lose their resident_id: the internal texts about them go too.
UPDATE question_notes SET content = NULL, erased_at = now()
WHERE erased_at IS NULL AND question_id IN (SELECT id FROM questions WHERE resident_id = $1);

-- name: erase_resident_referral_notes
UPDATE question_referrals SET note = NULL, outcome_note = NULL
WHERE (note IS NOT NULL OR outcome_note IS NOT NULL)
  AND question_id IN (SELECT id FROM questions WHERE resident_id = $1);

-- name: purge_old_notes
UPDATE question_notes n SET content = NULL, erased_at = now()
FROM questions q
WHERE q.id = n.question_id AND n.erased_at IS NULL AND q.created_at < now() - make_interval(days => $1);

-- name: purge_old_referral_notes
UPDATE question_referrals r SET note = NULL, outcome_note = NULL
FROM questions q
WHERE q.id = r.question_id AND (r.note IS NOT NULL OR r.outcome_note IS NOT NULL)
  AND q.created_at < now() - make_interval(days => $1);

-- name: purge_old_offline_askers
UPDATE offline_askers a SET name = NULL, phone = NULL, erased_at = now()
FROM questions q
WHERE q.id = a.question_id AND a.erased_at IS NULL AND q.created_at < now() - make_interval(days => $1);
