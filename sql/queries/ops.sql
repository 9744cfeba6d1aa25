-- name: ops_open_questions
SELECT status, count(*)::bigint AS n FROM questions
WHERE status IN ('pending', 'escalated', 'claimed') GROUP BY status;

-- name: ops_pool_queues
SELECT p.id AS pool_id, p.name, count(q.id)::bigint AS waiting,
       extract(epoch FROM now() - min(q.escalated_at))::float8 AS oldest_seconds
FROM pools p LEFT JOIN questions q ON q.pool_id = p.id AND q.status = 'escalated'
GROUP BY p.id, p.name ORDER BY p.id;

-- name: ops_overdue
SELECT (SELECT count(*) FROM questions WHERE status = 'pending' AND escalate_at < now() - interval '1 minute')
     + (SELECT count(*) FROM questions
        WHERE alerted_at IS NULL AND status IN ('escalated', 'claimed') AND alert_at < now() - interval '1 minute');

-- name: audit_log_purge
-- Audit entries older than $1 days (at least 180; the function refuses fewer) deleted; how many.
SELECT audit_log_purge($1);
