-- name: imp_upsert_district
INSERT INTO districts (name) VALUES ($1)
ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
RETURNING id, (xmax = 0) AS inserted;

-- name: imp_upsert_street
INSERT INTO streets (district_id, name) VALUES ($1, $2)
ON CONFLICT (district_id, name) DO UPDATE SET name = EXCLUDED.name
RETURNING id, (xmax = 0) AS inserted;

-- name: imp_upsert_community
INSERT INTO communities (street_id, name) VALUES ($1, $2)
ON CONFLICT (street_id, name) DO UPDATE SET name = EXCLUDED.name
RETURNING id, (xmax = 0) AS inserted;

-- name: imp_community_ids
SELECT d.name AS district, s.name AS street, c.name AS community, c.id
FROM communities c JOIN streets s ON s.id = c.street_id JOIN districts d ON d.id = s.district_id;

-- name: imp_district_ids
SELECT name, id FROM districts;

-- name: imp_accounts
SELECT a.username, a.role, a.id FROM accounts a WHERE a.username = ANY($1::text[]);

-- name: imp_update_lawyer
UPDATE lawyers SET name = $2, firm = $3, license_no = $4, phone = $5, specialties = $6
WHERE id = $1 AND (name, firm, license_no, phone, specialties)
      IS DISTINCT FROM ($2, $3, $4, $5, $6::text[])
RETURNING id;

-- name: imp_insert_duty
INSERT INTO duty_slots (community_id, lawyer_id, weekday, start_time, end_time)
SELECT $1, $2, $3, $4, $5
WHERE NOT EXISTS (
    SELECT 1 FROM duty_slots
    WHERE community_id = $1 AND lawyer_id = $2 AND weekday IS NOT DISTINCT FROM $3::smallint
      AND start_time IS NOT DISTINCT FROM $4::time AND end_time IS NOT DISTINCT FROM $5::time)
RETURNING id;

-- name: imp_find_pool
SELECT id FROM pools WHERE name = $1 AND district_id IS NOT DISTINCT FROM $2::bigint ORDER BY id LIMIT 1;

-- name: imp_insert_pool
INSERT INTO pools (name, district_id) VALUES ($1, $2) RETURNING id;

-- name: imp_add_member
INSERT INTO pool_members (pool_id, lawyer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING pool_id;
