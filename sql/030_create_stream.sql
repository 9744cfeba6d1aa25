-- The live stream to lawyers and the bureau, in commit order.
--
-- question_events ids are taken at INSERT, not at commit, so "id > last seen" would skip an event whose
-- transaction commits after a later id was delivered. Each event therefore records the id of its
-- transaction, and one sequencer at a time (an advisory lock) copies newly visible events into
-- stream_events, whose seq is assigned by that single writer and so commits in order. The sequencer
-- scans only events whose transaction id is at or above the xmin of its previous snapshot (every
-- transaction below it had finished then, so nothing new can appear there).

ALTER TABLE question_events ADD COLUMN xid xid8;
ALTER TABLE question_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX question_events_xid_idx ON question_events (xid);

-- One reminder per question and deadline, however many processes run the reminder job.
CREATE UNIQUE INDEX question_events_reminded_once ON question_events (question_id, (data ->> 'due_at'))
    WHERE kind = 'reminded';

-- What each stream delivers: `event` is the SSE event name, addressed to lawyers by id and/or the bureau.
CREATE TABLE stream_events (
    seq          bigserial PRIMARY KEY,
    event_id     bigint NOT NULL REFERENCES question_events (id),
    question_id  bigint NOT NULL,
    event        text NOT NULL
                 CHECK (event IN ('assigned', 'pool_new', 'pool_claimed', 'reminder', 'escalated', 'alerted')),
    lawyer_ids   bigint[] NOT NULL DEFAULT '{}',
    bureau       boolean NOT NULL DEFAULT false,
    data         jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stream_events_event_idx ON stream_events (event_id);
CREATE INDEX stream_events_created_idx ON stream_events (created_at);

-- The sequencer's horizon: every event of a transaction below it is already in stream_events.
CREATE TABLE stream_cursor (
    id       smallint PRIMARY KEY CHECK (id = 1),
    horizon  xid8 NOT NULL
);
INSERT INTO stream_cursor (id, horizon) VALUES (1, '0'::xid8);
