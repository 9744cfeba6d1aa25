-- One sequencer pass in one round trip. The pass used to be seven (BEGIN, the lock, the copy, the
-- horizon, NOTIFY, COMMIT, each waiting its turn on a busy machine), and every one of them lay between
-- a resident's question and the lawyer's screen. Called as a single statement (autocommit), its
-- transaction-scoped lock is held to the commit exactly as before. The function is VOLATILE, so each
-- statement in it takes a fresh snapshot: the copy's snapshot is taken after the lock is granted and
-- sees everything the previous sequencer committed. Returns the highest new seq, or NULL when there
-- was nothing new or (without p_wait) another sequencer held the lock.
CREATE FUNCTION stream_sequence_pass(p_wait boolean, p_batch int) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    got record;
    top bigint;
BEGIN
    IF p_wait THEN
        PERFORM pg_advisory_xact_lock(7405211030);
    ELSIF NOT pg_try_advisory_xact_lock(7405211030) THEN
        RETURN NULL;
    END IF;
    LOOP
        -- newly visible events into stream_events, one row per audience, in (transaction id, event id)
        -- order (an ordered walk of question_events_stream_xid_idx that stops at the limit); how many
        -- events were taken and the xmin of this statement's snapshot (the next horizon)
        WITH snap AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
        fresh AS (
            SELECT e.xid, e.id, e.question_id, e.kind, e.data, e.created_at
            FROM question_events e
            WHERE e.xid >= (SELECT horizon FROM stream_cursor WHERE id = 1)
              AND e.kind IN ('routed', 'escalated', 'claimed', 'reminded', 'alerted')
              AND NOT EXISTS (SELECT 1 FROM stream_events s WHERE s.event_id = e.id)
            ORDER BY e.xid, e.id
            LIMIT p_batch
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
               (SELECT xmin FROM snap) AS xmin
        INTO got;
        top := coalesce(got.max_seq, top);
        EXIT WHEN got.events < p_batch;
    END LOOP;
    IF top IS NOT NULL THEN
        -- the last statement saw and took everything committed below its snapshot's xmin. A pass that
        -- took nothing leaves the horizon behind (safe: it only widens the next scan), writes nothing
        -- and costs no commit flush.
        UPDATE stream_cursor SET horizon = got.xmin WHERE id = 1 AND horizon <> got.xmin;
        PERFORM pg_notify('fazhizhen_stream', top::text);
    END IF;
    RETURN top;
END $$;
