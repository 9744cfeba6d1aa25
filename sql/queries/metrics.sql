-- name: metrics_try_lock
-- One rollup writer at a time across all processes: later runs see later snapshots, so a slow
-- run can never overwrite a newer recomputation with an older one.
SELECT pg_try_advisory_xact_lock(7405211010);

-- name: metrics_lock
SELECT pg_advisory_xact_lock(7405211010);

-- name: metrics_lock_timeout
SELECT set_config('lock_timeout', $1, true);

-- name: metrics_take_touched
-- Take (delete) up to $1 touches and return the community-days they name. Deleting and then
-- recomputing in the same transaction (READ COMMITTED: the recompute's snapshot is newer) means a
-- change whose touch we took is always seen; a change still uncommitted left its touch for later.
WITH taken AS (
    DELETE FROM metrics_touched
    WHERE id IN (SELECT id FROM metrics_touched ORDER BY id LIMIT $1)
    RETURNING community_id, created_at
)
SELECT DISTINCT community_id, (created_at AT TIME ZONE $2)::date AS day FROM taken;

-- name: metrics_pending_touches
SELECT count(*) FROM metrics_touched;

-- name: metrics_recompute
SELECT metrics_recompute($1::bigint[], $2::date[], $3, $4::float8);

-- name: metrics_clear_rollups
-- A full rebuild starts from nothing; the touch log is folded in by the rebuild itself.
WITH a AS (DELETE FROM metrics_rollup), b AS (DELETE FROM metrics_lawyer_rollup)
DELETE FROM metrics_touched;

-- name: metrics_question_days
SELECT (min(created_at) AT TIME ZONE $1)::date AS first, (max(created_at) AT TIME ZONE $1)::date AS last
FROM questions;

-- name: metrics_rebuild
SELECT metrics_rebuild($1::date, $2::date, $3, $4::float8);

-- name: metrics_bounds
SELECT fzz_response_bounds() AS response, fzz_lateness_bounds() AS lateness;

-- name: metrics_today
SELECT (now() AT TIME ZONE $1)::date;

-- name: metrics_community_place
SELECT c.id, c.street_id, s.district_id FROM communities c JOIN streets s ON s.id = c.street_id WHERE c.id = $1;

-- name: metrics_street_place
SELECT id, district_id FROM streets WHERE id = $1;

-- name: metrics_district_place
SELECT id FROM districts WHERE id = $1;

-- name: metrics_place_children
-- the places one level below (scope $1, id $2), with names: the city's districts, a district's
-- streets, a street's communities; a community is its own only child
SELECT 1::smallint AS scope, id, name FROM districts WHERE $1::smallint = 0
UNION ALL SELECT 2::smallint, id, name FROM streets WHERE $1::smallint = 1 AND district_id = $2
UNION ALL SELECT 3::smallint, id, name FROM communities WHERE $1::smallint = 2 AND street_id = $2
UNION ALL SELECT 3::smallint, id, name FROM communities WHERE $1::smallint = 3 AND id = $2
ORDER BY 2;

-- name: metrics_grouped
-- The figures of places ($2 scope, $3 ids) over full months $4 and days $5, summed and grouped by
-- $11 ('all' | 'category' | 'day' | 'place'). $1 = true reads the raw tables over [$6, $7] instead
-- of the rollups: the same definitions (metrics_raw_rollup), exact, and slow over long ranges.
WITH src AS (
    SELECT r.* FROM metrics_rollup r
    WHERE NOT $1::boolean AND r.scope = $2::smallint AND r.scope_id = ANY ($3::bigint[])
      AND ((r.period = 'm' AND r.period_start = ANY ($4::date[]))
           OR (r.period = 'd' AND r.period_start = ANY ($5::date[])))
    UNION ALL
    SELECT f.* FROM metrics_raw_rollup($6::date::timestamp AT TIME ZONE $8,
                                       ($7::date + 1)::timestamp AT TIME ZONE $8,
                                       metrics_scope_communities($2::smallint, $3::bigint[]), $8, $9::float8) f
    WHERE $1::boolean
)
SELECT CASE $11::text
           WHEN 'category' THEN s.category
           WHEN 'day' THEN s.period_start::text
           WHEN 'place' THEN (CASE WHEN NOT $1::boolean OR $2::smallint = 3 THEN s.scope_id
                                   WHEN $2::smallint = 2 THEN (SELECT street_id FROM communities WHERE id = s.scope_id)
                                   WHEN $2::smallint = 1 THEN (SELECT st.district_id FROM communities c
                                                               JOIN streets st ON st.id = c.street_id
                                                               WHERE c.id = s.scope_id)
                                   ELSE 0 END)::text
           ELSE '' END AS key,
       sum(s.questions)::bigint AS questions, sum(s.answered)::bigint AS answered,
       sum(s.within_window)::bigint AS within_window, sum(s.escalated)::bigint AS escalated,
       sum(s.alerted)::bigint AS alerted, sum(s.adopted)::bigint AS adopted, sum(s.rated)::bigint AS rated,
       sum(s.rating_sum)::bigint AS rating_sum, sum(s.satisfied)::bigint AS satisfied,
       sum(s.satisfaction_base)::bigint AS satisfaction_base,
       sum(s.level_a)::bigint AS level_a, sum(s.level_b)::bigint AS level_b,
       sum(s.level_c)::bigint AS level_c, sum(s.level_d)::bigint AS level_d,
       sum(s.substantive)::bigint AS substantive, sum(s.first_acknowledgement)::bigint AS first_acknowledgement,
       sum(s.first_clarification)::bigint AS first_clarification, sum(s.late)::bigint AS late,
       sum(s.response_ms)::bigint AS response_ms, max(s.response_max) AS response_max,
       sum(s.substantive_ms)::bigint AS substantive_ms, sum(s.lateness_ms)::bigint AS lateness_ms,
       max(s.lateness_max) AS lateness_max,
       -- merging histograms is the costly part: only the groupings that report percentiles do it
       fzz_histogram_sum(s.response_hist) FILTER (WHERE $11::text IN ('all', 'place')) AS response_hist,
       fzz_histogram_sum(s.lateness_hist) FILTER (WHERE $11::text IN ('all', 'place')) AS lateness_hist
FROM src s
WHERE $10::text IS NULL OR s.category = $10::text
GROUP BY 1
ORDER BY 1;

-- name: metrics_lawyers_grouped
-- Lawyer scorecards over the same cover as metrics_grouped; $1 = true reads the raw tables (and is
-- the only way to filter by category $9, which the lawyer rollups do not split by).
WITH src AS (
    SELECT r.* FROM metrics_lawyer_rollup r
    WHERE NOT $1::boolean AND r.scope = $2::smallint AND r.scope_id = ANY ($3::bigint[])
      AND ((r.period = 'm' AND r.period_start = ANY ($4::date[]))
           OR (r.period = 'd' AND r.period_start = ANY ($5::date[])))
    UNION ALL
    SELECT f.* FROM metrics_raw_lawyer_rollup($6::date::timestamp AT TIME ZONE $8,
                                              ($7::date + 1)::timestamp AT TIME ZONE $8,
                                              metrics_scope_communities($2::smallint, $3::bigint[]), $8, $9::text) f
    WHERE $1::boolean
)
SELECT s.lawyer_id, l.name, sum(s.assigned)::bigint AS assigned, sum(s.answered)::bigint AS answered,
       sum(s.in_window)::bigint AS in_window, sum(s.satisfied)::bigint AS satisfied,
       sum(s.satisfaction_base)::bigint AS satisfaction_base, sum(s.response_ms)::bigint AS response_ms
FROM src s LEFT JOIN lawyers l ON l.id = s.lawyer_id
GROUP BY s.lawyer_id, l.name;

-- name: metrics_exact_percentiles
-- percentile_cont over the raw rows: exact, used when the range holds few enough questions.
SELECT percentile_cont(ARRAY[0.5, 0.9]::float8[])
           WITHIN GROUP (ORDER BY extract(epoch FROM q.first_answered_at - q.created_at)) AS response,
       percentile_cont(ARRAY[0.5, 0.9]::float8[])
           WITHIN GROUP (ORDER BY extract(epoch FROM q.first_substantive_at - q.created_at)) AS substantive,
       percentile_cont(ARRAY[0.5, 0.99]::float8[])
           WITHIN GROUP (ORDER BY extract(epoch FROM q.escalated_at - q.escalate_at))
           FILTER (WHERE q.escalation_reason = 'window_passed') AS lateness
FROM questions q
WHERE q.created_at >= $1::date::timestamp AT TIME ZONE $3
  AND q.created_at < ($2::date + 1)::timestamp AT TIME ZONE $3
  AND ($4::bigint[] IS NULL OR q.community_id = ANY ($4::bigint[]))
  AND ($5::text IS NULL OR q.category = $5::text);

-- name: metrics_scope_communities
SELECT metrics_scope_communities($1::smallint, $2::bigint[]);

-- name: metrics_open_escalations
-- Escalated questions still unanswered, alerted ones first, oldest first.
SELECT q.id, q.category, q.status, q.created_at, q.escalated_at, q.escalation_reason, q.alert_at, q.alerted_at,
       q.claimed_at, q.assigned_lawyer_id, l.name AS assigned_lawyer_name, q.pool_id, p.name AS pool_name,
       q.community_id, c.name AS community_name, s.name AS street_name, d.name AS district_name
FROM questions q
JOIN communities c ON c.id = q.community_id
JOIN streets s ON s.id = c.street_id
JOIN districts d ON d.id = s.district_id
LEFT JOIN lawyers l ON l.id = q.assigned_lawyer_id
LEFT JOIN pools p ON p.id = q.pool_id
WHERE q.status IN ('escalated', 'claimed')
  AND ($1::bigint[] IS NULL OR q.community_id = ANY ($1::bigint[]))
ORDER BY q.alerted_at IS NULL, q.escalated_at, q.id
LIMIT $2;

-- name: metrics_export_questions
-- The ledger (台账): one row per question asked in range, oldest first.
SELECT q.id, q.created_at, d.name AS district, s.name AS street, c.name AS community, q.category,
       q.category_source, q.content, q.status, q.resolved_level, rl.name AS routed_lawyer,
       q.escalated_at, q.escalation_reason, p.name AS pool, cl.name AS claimed_lawyer, q.claimed_at,
       q.alerted_at, q.first_answered_at, fa.name AS first_answered_by,
       extract(epoch FROM q.first_answered_at - q.created_at)::float8 AS response_seconds,
       q.first_reply_kind, q.first_substantive_at,
       extract(epoch FROM q.first_substantive_at - q.created_at)::float8 AS substantive_seconds,
       q.adopted_answer_id IS NOT NULL AS adopted, q.closed_at, q.rating, q.rating_comment,
       wk.name AS asked_by_worker,
       -- referral targets and outcomes only: their notes are internal and stay out of the ledger
       (SELECT array_agg(ARRAY[r.to_service, coalesce(r.outcome, '')] ORDER BY r.id)
        FROM question_referrals r WHERE r.question_id = q.id) AS referrals
FROM questions q
JOIN communities c ON c.id = q.community_id
JOIN streets s ON s.id = c.street_id
JOIN districts d ON d.id = s.district_id
LEFT JOIN workers wk ON wk.id = q.asked_by_worker_id
LEFT JOIN lawyers rl ON rl.id = q.routed_lawyer_id
LEFT JOIN lawyers cl ON cl.id = q.claimed_lawyer_id
LEFT JOIN lawyers fa ON fa.id = q.first_answered_by
LEFT JOIN pools p ON p.id = q.pool_id
WHERE q.created_at >= $1::date::timestamp AT TIME ZONE $3
  AND q.created_at < ($2::date + 1)::timestamp AT TIME ZONE $3
  AND ($4::bigint[] IS NULL OR q.community_id = ANY ($4::bigint[]))
  AND ($5::text IS NULL OR q.category = $5::text)
ORDER BY q.created_at, q.id;

-- name: callbacks_list
SELECT cb.id, cb.question_id, cb.rating, cb.status, cb.assignee_id, cb.result, cb.outcome, cb.created_at,
       cb.assigned_at, cb.done_at, q.category, q.rating_comment, q.first_answered_by,
       fa.name AS first_answered_by_name, c.name AS community_name, s.name AS street_name, d.name AS district_name
FROM callbacks cb
JOIN questions q ON q.id = cb.question_id
JOIN communities c ON c.id = q.community_id
JOIN streets s ON s.id = c.street_id
JOIN districts d ON d.id = s.district_id
LEFT JOIN lawyers fa ON fa.id = q.first_answered_by
WHERE ($1::text IS NULL OR ($1::text = 'open' AND cb.status <> 'done') OR cb.status = $1::text)
  AND ($2::bigint[] IS NULL OR q.community_id = ANY ($2::bigint[]))
ORDER BY cb.status = 'done', cb.created_at, cb.id
LIMIT $3;

-- name: callbacks_get
SELECT * FROM callbacks WHERE id = $1;

-- name: callbacks_assign
UPDATE callbacks SET status = 'assigned', assignee_id = $2, assigned_at = now(), updated_at = now()
WHERE id = $1 AND status <> 'done'
RETURNING *;

-- name: callbacks_complete
UPDATE callbacks
SET status = 'done', result = $2, outcome = $3, done_at = now(), updated_at = now(),
    assignee_id = coalesce(assignee_id, $4), assigned_at = coalesce(assigned_at, now())
WHERE id = $1 AND status <> 'done'
RETURNING *;

-- name: callbacks_open_count
SELECT count(*) FROM callbacks cb JOIN questions q ON q.id = cb.question_id
WHERE cb.status <> 'done' AND ($1::bigint[] IS NULL OR q.community_id = ANY ($1::bigint[]));

-- name: bureau_account_exists
SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 AND role = 'bureau' AND active);
