-- Promise settlement from the stored payments, whichever journey (if any) still runs: a
-- journey settles its own promise when it stops waiting, but an account held by an agency,
-- in the holdout, or whose journey ended has nobody waiting, and its promise would stay
-- open for ever (never due, never kept in the MIS).

-- The grace days of the strategy variant an account was enrolled in (2 when none is named),
-- as the journey reads them.
CREATE OR REPLACE FUNCTION promise_grace_days(strategy jsonb, variant text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
  SELECT COALESCE((SELECT (v -> 'strategy' ->> 'promiseGraceDays')::int FROM jsonb_array_elements(strategy -> 'variants') v
                    WHERE v ->> 'name' = variant LIMIT 1), 2)
$$;

-- The enrolment a promise belongs to: the one it names, else its attempt's, else (a promise
-- given to ops with neither) the account's latest enrolment made before it.
CREATE OR REPLACE FUNCTION promise_enrolment(pr promises) RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT COALESCE(pr.enrolment_id,
                  CASE WHEN pr.attempt_id IS NOT NULL THEN (SELECT a.enrolment_id FROM contact_attempts a WHERE a.id = pr.attempt_id)
                       ELSE (SELECT e.id FROM enrolments e WHERE e.account_id = pr.account_id AND e.enrolled_at <= pr.created_at
                              ORDER BY e.enrolled_at DESC LIMIT 1) END)
$$;

-- Settles the promises of one account (or of all, account NULL): kept once the payments made
-- from the promise until its due date plus grace cover it (a broken promise turns kept when
-- such a payment is reported late); broken once that instant (the end of the day, UTC, as the
-- journey times it) is before `at` (NULL: break none). Returns how many changed.
CREATE OR REPLACE FUNCTION settle_promises(account uuid, at timestamptz) RETURNS int LANGUAGE sql AS $$
  WITH candidate AS (
    SELECT pr.id, pr.account_id, pr.amount_minor, pr.created_at, pr.status,
           ((pr.due_date + COALESCE(g.grace, 2) + 1)::timestamp AT TIME ZONE 'UTC') AS broken_at
      FROM promises pr
      LEFT JOIN LATERAL (
        SELECT promise_grace_days(c.strategy, e.variant) AS grace FROM enrolments e JOIN campaigns c ON c.id = e.campaign_id
         WHERE e.id = promise_enrolment(pr)) g ON true
     WHERE (pr.status = 'open' OR (pr.status = 'broken' AND account IS NOT NULL)) AND (account IS NULL OR pr.account_id = account)),
  verdict AS (
    SELECT c.id, c.status,
           CASE WHEN (SELECT COALESCE(sum(y.amount_minor), 0) FROM payments y
                       WHERE y.account_id = c.account_id AND y.paid_at >= c.created_at AND y.paid_at < c.broken_at) >= c.amount_minor THEN 'kept'
                WHEN c.status = 'open' AND c.broken_at <= at THEN 'broken' END AS settled
      FROM candidate c),
  changed AS (
    UPDATE promises pr SET status = v.settled FROM verdict v
     WHERE pr.id = v.id AND v.settled IS NOT NULL AND pr.status = v.status AND v.settled <> v.status
    RETURNING 1)
  SELECT count(*)::int FROM changed
$$;

CREATE OR REPLACE FUNCTION promise_payment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM settle_promises(NEW.account_id, NULL);
  RETURN NULL;
END $$;

-- A payment keeps the account's promises it covers, whoever reported it and whenever.
CREATE OR REPLACE TRIGGER promise_settlement AFTER INSERT OR UPDATE OF account_id, amount_minor, paid_at ON payments
  FOR EACH ROW EXECUTE FUNCTION promise_payment_changed();
