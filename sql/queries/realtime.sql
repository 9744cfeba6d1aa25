-- name: stream_try_lock
-- One sequencer at a time across every process (held until the transaction ends).
SELECT pg_try_advisory_xact_lock(7405211030);

-- name: stream_lock
SELECT pg_advisory_xact_lock(7405211030);

-- name: stream_sequence
-- Copy newly visible events into stream_events, one row per audience, in (transaction id, event id)
-- order (an ordered walk of question_events_stream_xid_idx that stops at the limit); return how many
-- events were taken and the xmin of this statement's snapshot (the next horizon if the batch was not full).
WITH snap AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
fresh AS (
    SELECT e.xid, e.id, e.question_id, e.kind, e.data, e.created_at
    FROM question_events e
    WHERE e.xid >= (SELECT horizon FROM stream_cursor WHERE id = 1)
      AND e.kind IN ('routed', 'escalated', 'claimed', 'reminded', 'alerted')
      AND NOT EXISTS (SELECT 1 FROM stream_events s WHERE s.event_id = e.id)
    ORDER BY e.xid, e.id
    LIMIT $1
),
shaped AS (
    SELECT f.xid, f.id, f.question_id, 1 AS part, 'assigned' AS event,
           ARRAY[(f.data ->> 'lawyer_id')::bigint] AS lawyer_ids, false AS bureau, f.data, f.created_at
    FROM fresh f WHERE f.kind = 'routed'
    UNION ALL
    SELECT f.xid, f.id, f.question_id, 1, 'escalated',
           CASE WHEN f.data ->> 'from_lawyer_id' IS NULL THEN '{}'::bigint[]
                ELSE ARRAY[(f.data ->> 'from_lawyer_id')::bigint] END,
           true, f.data, f.created_at
    FROM fresh f WHERE f.kind = 'escalated'
    UNION ALL
    SELECT f.xid, f.id, f.question_id, 2, 'pool_new',
           coalesce((SELECT array_agg(m.lawyer_id ORDER BY m.lawyer_id) FROM pool_members m
                     WHERE m.pool_id = (f.data ->> 'pool_id')::bigint), '{}'),
           false, f.data, f.created_at
    FROM fresh f WHERE f.kind = 'escalated'
    UNION ALL
    SELECT f.xid, f.id, f.question_id, 1, 'pool_claimed',
           coalesce((SELECT array_agg(m.lawyer_id ORDER BY m.lawyer_id) FROM pool_members m
                     WHERE m.pool_id = (f.data ->> 'pool_id')::bigint
                       AND m.lawyer_id <> (f.data ->> 'lawyer_id')::bigint), '{}'),
           false, f.data, f.created_at
    FROM fresh f WHERE f.kind = 'claimed'
    UNION ALL
    SELECT f.xid, f.id, f.question_id, 1, 'reminder', ARRAY[(f.data ->> 'lawyer_id')::bigint], false, f.data,
           f.created_at
    FROM fresh f WHERE f.kind = 'reminded'
    UNION ALL
    SELECT f.xid, f.id, f.question_id, 1, 'alerted', '{}'::bigint[], true, f.data, f.created_at
    FROM fresh f WHERE f.kind = 'alerted'
),
ins AS (
    INSERT INTO stream_events (event_id, question_id, event, lawyer_ids, bureau, data, created_at)
    SELECT id, question_id, event, lawyer_ids, bureau,
           data || jsonb_build_object('question_id', question_id, 'event_id', id, 'occurred_at', created_at),
           created_at
    FROM shaped ORDER BY xid, id, part
    RETURNING seq
)
SELECT (SELECT count(*) FROM fresh) AS events, (SELECT max(seq) FROM ins) AS max_seq,
       (SELECT xmin FROM snap) AS xmin;

-- name: stream_set_horizon
UPDATE stream_cursor SET horizon = $1 WHERE id = 1 AND horizon <> $1;

-- name: stream_notify
SELECT pg_notify('fazhizhen_stream', $1::text);

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
