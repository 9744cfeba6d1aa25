-- Notifications leave through a transactional outbox: the row is written by the same transaction as
-- the state change (a trigger on question_events, so the set-based sweep is covered too) and a
-- scheduler job delivers it with FOR UPDATE SKIP LOCKED, retries with back-off, and marks it dead
-- after the last attempt.

-- Webhooks the bureau registers (12345 hotline, grid-management platform, ...). The secret signs each
-- delivery (HMAC-SHA256), so it must be kept usable: it is stored as issued, returned once at
-- creation, never listed, logged or exported.
CREATE TABLE webhooks (
    id          bigserial PRIMARY KEY,
    url         text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    events      text[] NOT NULL CHECK (events <@ ARRAY['escalated', 'alerted']::text[] AND cardinality(events) > 0),
    secret      text NOT NULL,
    description text,
    active      boolean NOT NULL DEFAULT true,
    created_by  bigint REFERENCES accounts (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE outbox (
    id               bigserial PRIMARY KEY,
    channel          text NOT NULL CHECK (channel IN ('wechat', 'webhook')),
    kind             text NOT NULL,
    question_id      bigint REFERENCES questions (id),
    event_id         bigint REFERENCES question_events (id),
    resident_id      bigint REFERENCES residents (id),
    webhook_id       bigint REFERENCES webhooks (id),
    payload          jsonb NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead', 'skipped')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    -- one notification per event and recipient, whatever retries or replays happen
    UNIQUE NULLS NOT DISTINCT (event_id, channel, webhook_id, resident_id)
);
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status = 'pending';

CREATE FUNCTION question_events_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind IN ('escalated', 'alerted') THEN
        INSERT INTO outbox (channel, kind, question_id, event_id, webhook_id, payload)
        SELECT 'webhook', NEW.kind, NEW.question_id, NEW.id, w.id,
               jsonb_build_object('event', NEW.kind, 'question_id', NEW.question_id, 'event_id', NEW.id,
                                  'occurred_at', NEW.created_at, 'data', NEW.data)
        FROM webhooks w WHERE w.active AND NEW.kind = ANY (w.events);
    ELSIF NEW.kind = 'answered' AND (NEW.data ->> 'resident_id') IS NOT NULL THEN
        INSERT INTO outbox (channel, kind, question_id, event_id, resident_id, payload)
        VALUES ('wechat', 'answered', NEW.question_id, NEW.id, (NEW.data ->> 'resident_id')::bigint,
                jsonb_build_object('message_id', NEW.data -> 'message_id', 'answered_at', NEW.created_at));
    ELSIF NEW.kind = 'message' AND (NEW.data ->> 'resident_id') IS NOT NULL
          -- a later lawyer message notifies only when it answers a follow-up asked since the last one
          -- (answers and follow-ups of one question are serialised by its row lock, so id order holds)
          AND EXISTS (
              SELECT 1 FROM question_events f
              WHERE f.question_id = NEW.question_id AND f.kind = 'followup' AND f.id < NEW.id
                AND f.id > coalesce((SELECT max(p.id) FROM question_events p
                                     WHERE p.question_id = NEW.question_id AND p.id < NEW.id
                                       AND p.kind IN ('answered', 'message')), 0)) THEN
        INSERT INTO outbox (channel, kind, question_id, event_id, resident_id, payload)
        VALUES ('wechat', 'followup_answered', NEW.question_id, NEW.id, (NEW.data ->> 'resident_id')::bigint,
                jsonb_build_object('message_id', NEW.data -> 'message_id', 'answered_at', NEW.created_at));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER question_events_outbox AFTER INSERT ON question_events
    FOR EACH ROW WHEN (NEW.kind IN ('escalated', 'alerted', 'answered', 'message'))
    EXECUTE FUNCTION question_events_to_outbox();
