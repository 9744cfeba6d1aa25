-- name: level_places
-- The places a breakdown lists ($1 'district' | 'street' | 'community'), with names, every one that
-- holds a community under the filter ($2 district, $3 street, $4 community), even without questions.
SELECT DISTINCT d.id AS district_id, d.name AS district_name,
       CASE WHEN $1 <> 'district' THEN s.id END AS street_id,
       CASE WHEN $1 <> 'district' THEN s.name END AS street_name,
       CASE WHEN $1 = 'community' THEN c.id END AS community_id,
       CASE WHEN $1 = 'community' THEN c.name END AS community_name
FROM communities c
JOIN streets s ON s.id = c.street_id
JOIN districts d ON d.id = s.district_id
WHERE ($2::bigint IS NULL OR s.district_id = $2)
  AND ($3::bigint IS NULL OR c.street_id = $3)
  AND ($4::bigint IS NULL OR c.id = $4)
ORDER BY 1, 3 NULLS FIRST, 5 NULLS FIRST;
