-- The outbox trigger ran once per event row. For the sweep that meant a PL/pgSQL call and an
-- INSERT ... SELECT FROM webhooks per escalated question (100,000 of them in the benchmark), whether
-- or not any webhook was configured. Webhook notifications of escalations and alerts are now written
-- by one statement-level trigger per INSERT (the transition table holds the statement's events);
-- the residents' WeChat notifications (answers, follow-ups answered; one event per statement) keep
-- their row trigger. Same rows in the outbox as before.
DROP TRIGGER question_events_outbox ON question_events;

CREATE OR REPLACE FUNCTION question_events_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'answered' AND (NEW.data ->> 'resident_id') IS NOT NULL THEN
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
    FOR EACH ROW WHEN (NEW.kind IN ('answered', 'message'))
    EXECUTE FUNCTION question_events_to_outbox();

CREATE FUNCTION question_events_to_webhooks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM webhooks WHERE active) THEN
        INSERT INTO outbox (channel, kind, question_id, event_id, webhook_id, payload)
        SELECT 'webhook', e.kind, e.question_id, e.id, w.id,
               jsonb_build_object('event', e.kind, 'question_id', e.question_id, 'event_id', e.id,
                                  'occurred_at', e.created_at, 'data', e.data)
        FROM new_events e JOIN webhooks w ON w.active AND e.kind = ANY (w.events)
        WHERE e.kind IN ('escalated', 'alerted')
        ORDER BY e.id, w.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER question_events_webhooks AFTER INSERT ON question_events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION question_events_to_webhooks();
