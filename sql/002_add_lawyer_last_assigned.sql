-- Routing breaks ties between equally loaded on-duty lawyers by who was given a question least recently,
-- so a shared roster does not send every question to the lowest id.
ALTER TABLE lawyers ADD COLUMN last_assigned_at timestamptz;
