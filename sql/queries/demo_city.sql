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
