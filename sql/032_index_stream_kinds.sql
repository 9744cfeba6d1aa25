-- The sequencer's scan: only the kinds that are streamed, by transaction id. A partial index keeps it
-- from intersecting with the (kind, created_at) index, which grows with the whole table, and spares
-- intake the index entry for every event that is never streamed ('created', 'answered', ...).
DROP INDEX question_events_xid_idx;
CREATE INDEX question_events_stream_xid_idx ON question_events (xid, id)
    WHERE kind IN ('routed', 'escalated', 'claimed', 'reminded', 'alerted');
