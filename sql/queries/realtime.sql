-- name: stream_sequence_pass
-- One sequencer pass (sql/033_create_stream_sequence_pass.sql): lock, copy, horizon, NOTIFY, commit.
SELECT stream_sequence_pass($1, $2);

-- name: stream_head
SELECT coalesce(max(seq), 0) FROM stream_events;

-- name: stream_after
-- Everything after a seq, for the per-process hub (all audiences).
SELECT seq, question_id, event, lawyer_ids, bureau, data FROM stream_events
WHERE seq > $1 ORDER BY seq LIMIT $2;

-- name: stream_replay_lawyer
SELECT seq, question_id, event, lawyer_ids, bureau, data FROM stream_events
WHERE seq > $1 AND seq <= $2 AND $3::bigint = ANY (lawyer_ids) ORDER BY seq LIMIT $4;

-- name: stream_replay_bureau
SELECT seq, question_id, event, lawyer_ids, bureau, data FROM stream_events
WHERE seq > $1 AND seq <= $2 AND bureau ORDER BY seq LIMIT $3;

-- name: stream_prune
DELETE FROM stream_events WHERE created_at < now() - make_interval(secs => $1);

-- name: remind_due
-- One 'reminded' event per question and deadline, for open questions whose deadline is within
-- `$2` seconds and not yet passed (pending: the community window; claimed: the pool window).
-- A deadline already closer than `$2` when the lawyer got the question earns no reminder (the
-- 'assigned' event just said it all). The NOT EXISTS skips known ones cheaply; the unique index
-- settles races between processes.
WITH clock AS (SELECT coalesce($1::timestamptz, now()) AS at),
open AS (
    SELECT q.id, q.assigned_lawyer_id,
           CASE WHEN q.status = 'pending' THEN q.escalate_at ELSE q.alert_at END AS due_at
    FROM questions q
    WHERE q.assigned_lawyer_id IS NOT NULL
      AND ((q.status = 'pending' AND q.escalate_at - make_interval(secs => $2) <= (SELECT at FROM clock)
                                 AND q.escalate_at > (SELECT at FROM clock)
                                 AND q.created_at < q.escalate_at - make_interval(secs => $2))
        OR (q.status = 'claimed' AND q.alerted_at IS NULL
                                 AND q.alert_at - make_interval(secs => $2) <= (SELECT at FROM clock)
                                 AND q.alert_at > (SELECT at FROM clock)
                                 AND q.claimed_at < q.alert_at - make_interval(secs => $2)))
),
due AS (
    SELECT o.id, o.assigned_lawyer_id,
           to_char(o.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS due_at
    FROM open o
),
fresh AS (
    SELECT d.* FROM due d
    WHERE NOT EXISTS (SELECT 1 FROM question_events r
                      WHERE r.question_id = d.id AND r.kind = 'reminded' AND r.data ->> 'due_at' = d.due_at)
    LIMIT $3
)
INSERT INTO question_events (question_id, kind, actor_role, data)
SELECT id, 'reminded', 'system', jsonb_build_object('lawyer_id', assigned_lawyer_id, 'due_at', due_at)
FROM fresh
ON CONFLICT (question_id, (data ->> 'due_at')) WHERE kind = 'reminded' DO NOTHING
RETURNING question_id, data;
