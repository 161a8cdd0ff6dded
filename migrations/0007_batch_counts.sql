-- How many events an indexed batch held (with the count of its events in `events`, what
-- GET /events/batches/{id} answers: accepted, and duplicates of events indexed before).
ALTER TABLE batches ADD COLUMN received INTEGER;
