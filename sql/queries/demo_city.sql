-- name: city_loaded
SELECT EXISTS (SELECT 1 FROM pools WHERE name = '武汉市律师服务团' AND district_id IS NULL);

-- name: city_has_places
SELECT EXISTS (SELECT 1 FROM districts);

-- name: city_reserve_ids
-- ids taken from a table's own sequence, so COPY can write children that point at them
SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2);

-- name: city_adopted_temp
CREATE TEMP TABLE city_adopted (question_id bigint PRIMARY KEY, answer_id bigint NOT NULL) ON COMMIT DROP;

-- name: city_set_adopted
UPDATE questions q SET adopted_answer_id = a.answer_id FROM city_adopted a WHERE q.id = a.question_id;

-- name: city_triggers_off
-- Bulk history needs none of the per-row bookkeeping triggers (the loader writes their columns itself
-- and rebuilds the rollups after); DDL is transactional, so no other session ever sees them off.
ALTER TABLE questions DISABLE TRIGGER USER;
ALTER TABLE messages DISABLE TRIGGER USER;
ALTER TABLE question_events DISABLE TRIGGER USER;

-- name: city_is_superuser
SELECT current_setting('is_superuser')::boolean;

-- name: city_skip_foreign_key_checks
-- The loader reserves every id from its table's sequence before writing, so its rows are consistent
-- by construction; re-checking ~1 M foreign keys one row at a time cost seconds. Replica role (a
-- superuser's right) skips those checks, and every other trigger, until the load's transaction ends.
SET LOCAL session_replication_role = replica;

-- name: city_triggers_on
ALTER TABLE questions ENABLE TRIGGER USER;
ALTER TABLE messages ENABLE TRIGGER USER;
ALTER TABLE question_events ENABLE TRIGGER USER;

-- name: city_callbacks
-- what the low-rating trigger would have opened: older ones already called back, the last fortnight's open
INSERT INTO callbacks (question_id, rating, status, result, created_at, assigned_at, done_at, updated_at)
SELECT id, rating,
       CASE WHEN rated_at < now() - interval '14 days' THEN 'done' ELSE 'open' END,
       CASE WHEN rated_at < now() - interval '14 days' THEN 'explained' END,
       rated_at,
       CASE WHEN rated_at < now() - interval '14 days' THEN rated_at + interval '1 day' END,
       CASE WHEN rated_at < now() - interval '14 days' THEN rated_at + interval '2 days' END,
       coalesce(rated_at + interval '2 days', now())
FROM questions WHERE rating <= 2;
