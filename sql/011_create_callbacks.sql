-- Callbacks (回访): a rating of 1 or 2 opens a task for bureau staff to call the resident back,
-- as the 12345 and 12348 hotlines do for dissatisfied callers. One task per question; a later
-- low rating of a question whose callback is done opens it again.

CREATE TABLE callbacks (
    id            bigserial PRIMARY KEY,
    question_id   bigint NOT NULL UNIQUE REFERENCES questions (id),
    rating        smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'done')),
    assignee_id   bigint REFERENCES accounts (id),
    result        text CHECK (result IN ('resolved', 'explained', 'referred', 'unreachable', 'other')),
    outcome       text CHECK (length(outcome) <= 2000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    assigned_at   timestamptz,
    done_at       timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'done') = (result IS NOT NULL))
);
CREATE INDEX callbacks_open_idx ON callbacks (created_at) WHERE status <> 'done';

CREATE FUNCTION questions_open_callback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO callbacks (question_id, rating) VALUES (NEW.id, NEW.rating)
    ON CONFLICT (question_id) DO UPDATE
        SET rating = EXCLUDED.rating, updated_at = now(),
            status = CASE WHEN callbacks.status = 'done' THEN 'open' ELSE callbacks.status END,
            result = CASE WHEN callbacks.status = 'done' THEN NULL ELSE callbacks.result END,
            done_at = CASE WHEN callbacks.status = 'done' THEN NULL ELSE callbacks.done_at END;
    RETURN NULL;
END $$;
CREATE TRIGGER questions_open_callback_insert AFTER INSERT ON questions
    FOR EACH ROW WHEN (NEW.rating <= 2) EXECUTE FUNCTION questions_open_callback();
CREATE TRIGGER questions_open_callback_update AFTER UPDATE OF rating ON questions
    FOR EACH ROW WHEN (NEW.rating <= 2 AND NEW.rating IS DISTINCT FROM OLD.rating)
    EXECUTE FUNCTION questions_open_callback();

INSERT INTO callbacks (question_id, rating, created_at)
SELECT id, rating, coalesce(rated_at, now()) FROM questions WHERE rating <= 2
ON CONFLICT DO NOTHING;
