-- The `routed` event trigger fills questions.routed_lawyer_id for rows written already answered (imports,
-- the demo). For a question submitted through the service the BEFORE INSERT trigger has set it already,
-- yet the UPDATE still ran (matching nothing) and fired the questions statement trigger that touches the
-- metrics rollups: about a tenth of PostgreSQL's work per submission. Probe first; update only when needed.
CREATE OR REPLACE FUNCTION question_events_record_routing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.data ? 'lawyer_id'
       AND EXISTS (SELECT FROM questions WHERE id = NEW.question_id AND routed_lawyer_id IS NULL) THEN
        UPDATE questions SET routed_lawyer_id = (NEW.data ->> 'lawyer_id')::bigint
        WHERE id = NEW.question_id AND routed_lawyer_id IS NULL;
    END IF;
    RETURN NULL;
END $$;
