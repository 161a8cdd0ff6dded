-- Where no key counter (a Durable Object) is bound, D1 admits: the admissions counted in a rate
-- window by request id (a request sent again after a failover is counted once, at its first
-- place), and the reservations of the day's quotas held by requests in flight
-- (shared/reservations.py), settled with what each spent.
CREATE TABLE admissions (
  key_id       TEXT NOT NULL,
  id           TEXT NOT NULL,     -- the request's id
  window_start INTEGER NOT NULL,
  position     INTEGER NOT NULL,  -- its place in the window
  PRIMARY KEY (key_id, id)
);
CREATE TABLE reservations (
  key_id   TEXT NOT NULL,
  id       TEXT NOT NULL,  -- the request's id, or an event batch's
  day      TEXT NOT NULL,
  tokens   REAL NOT NULL DEFAULT 0,
  cost_usd REAL NOT NULL DEFAULT 0,
  events   REAL NOT NULL DEFAULT 0,
  expires  REAL NOT NULL,  -- unix seconds: one nobody settled is not counted after it
  PRIMARY KEY (key_id, id)
);
