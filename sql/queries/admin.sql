-- name: insert_district
INSERT INTO districts (name) VALUES ($1) RETURNING id, name, created_at;

-- name: list_districts
SELECT id, name, created_at FROM districts ORDER BY id;

-- name: insert_street
INSERT INTO streets (district_id, name) VALUES ($1, $2) RETURNING id, district_id, name, created_at;

-- name: list_streets
SELECT id, district_id, name, created_at FROM streets
WHERE ($1::bigint IS NULL OR district_id = $1) ORDER BY id;

-- name: insert_community
INSERT INTO communities (street_id, name) VALUES ($1, $2) RETURNING id, street_id, name, created_at;

-- name: list_communities
SELECT c.id, c.street_id, c.name, c.created_at, s.district_id
FROM communities c JOIN streets s ON s.id = c.street_id
WHERE ($1::bigint IS NULL OR c.street_id = $1) AND ($2::bigint IS NULL OR s.district_id = $2)
ORDER BY c.id;

-- name: get_community
SELECT c.id, c.street_id, c.name, s.district_id
FROM communities c JOIN streets s ON s.id = c.street_id WHERE c.id = $1;

-- name: exists_district
SELECT EXISTS (SELECT 1 FROM districts WHERE id = $1);

-- name: exists_street
SELECT EXISTS (SELECT 1 FROM streets WHERE id = $1);

-- name: insert_account
INSERT INTO accounts (role, username, password_hash) VALUES ($1, $2, $3) RETURNING id, role, username, active, created_at;

-- name: insert_lawyer
INSERT INTO lawyers (id, name, firm, license_no, phone, specialties)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING id, name, firm, license_no, phone, specialties, active, created_at;

-- name: list_lawyers
SELECT l.id, a.username, l.name, l.firm, l.license_no, l.phone, l.specialties, l.active, l.created_at,
       coalesce((SELECT array_agg(pm.pool_id ORDER BY pm.pool_id) FROM pool_members pm WHERE pm.lawyer_id = l.id), '{}') AS pool_ids,
       (SELECT count(*) FROM questions q WHERE q.assigned_lawyer_id = l.id AND q.status IN ('pending', 'claimed')) AS open_questions
FROM lawyers l JOIN accounts a ON a.id = l.id
ORDER BY l.id;

-- name: get_lawyer
SELECT l.id, a.username, l.name, l.firm, l.license_no, l.phone, l.specialties, l.active, l.created_at
FROM lawyers l JOIN accounts a ON a.id = l.id WHERE l.id = $1;

-- name: insert_duty_slot
INSERT INTO duty_slots (community_id, lawyer_id, weekday, start_time, end_time)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, community_id, lawyer_id, weekday, start_time, end_time, created_at;

-- name: list_duty_slots
SELECT d.id, d.community_id, d.lawyer_id, d.weekday, d.start_time, d.end_time, d.created_at
FROM duty_slots d WHERE d.community_id = $1 ORDER BY d.id;

-- name: delete_duty_slot
DELETE FROM duty_slots WHERE id = $1 AND community_id = $2 RETURNING id;

-- name: insert_pool
INSERT INTO pools (name, district_id) VALUES ($1, $2) RETURNING id, name, district_id, created_at;

-- name: list_pools
SELECT p.id, p.name, p.district_id, p.created_at,
       coalesce((SELECT array_agg(pm.lawyer_id ORDER BY pm.lawyer_id) FROM pool_members pm WHERE pm.pool_id = p.id), '{}') AS member_ids,
       (SELECT count(*) FROM questions q WHERE q.pool_id = p.id AND q.status = 'escalated') AS waiting
FROM pools p ORDER BY p.id;

-- name: exists_pool
SELECT EXISTS (SELECT 1 FROM pools WHERE id = $1);

-- name: insert_pool_member
INSERT INTO pool_members (pool_id, lawyer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING;

-- name: delete_pool_member
DELETE FROM pool_members WHERE pool_id = $1 AND lawyer_id = $2 RETURNING pool_id;
