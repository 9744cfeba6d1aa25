-- A note's text can be erased (resident erasure, retention purge) while the note stays counted.
ALTER TABLE question_notes ALTER COLUMN content DROP NOT NULL;
ALTER TABLE question_notes ADD COLUMN erased_at timestamptz;
ALTER TABLE offline_askers ADD COLUMN erased_at timestamptz;
