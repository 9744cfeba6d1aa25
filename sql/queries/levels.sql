-- name: level_breakdown
-- The same split per district, street or community ($7), every place listed even without questions.
SELECT d.id AS district_id, d.name AS district_name,
       CASE WHEN $7 <> 'district' THEN s.id END AS street_id,
       CASE WHEN $7 <> 'district' THEN s.name END AS street_name,
       CASE WHEN $7 = 'community' THEN c.id END AS community_id,
       CASE WHEN $7 = 'community' THEN c.name END AS community_name,
       count(q.id) AS questions,
       count(q.resolved_level) AS resolved,
       count(*) FILTER (WHERE q.resolved_level = 'A') AS a,
       count(*) FILTER (WHERE q.resolved_level = 'B') AS b,
       count(*) FILTER (WHERE q.resolved_level = 'C') AS c,
       count(*) FILTER (WHERE q.resolved_level = 'D') AS d
FROM communities c
JOIN streets s ON s.id = c.street_id
JOIN districts d ON d.id = s.district_id
LEFT JOIN questions q ON q.community_id = c.id
    AND q.created_at >= ($1::date::timestamp AT TIME ZONE $3)
    AND q.created_at < (($2::date + 1)::timestamp AT TIME ZONE $3)
    AND ($8::text IS NULL OR q.category = $8)
WHERE ($4::bigint IS NULL OR s.district_id = $4)
  AND ($5::bigint IS NULL OR c.street_id = $5)
  AND ($6::bigint IS NULL OR c.id = $6)
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 3 NULLS FIRST, 5 NULLS FIRST;
