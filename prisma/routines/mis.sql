-- MIS rollup maintenance: functions and triggers, applied after the migrations on every
-- start by runtime/migrate.ts (CREATE OR REPLACE, so editing this file is the whole change).
--
-- Every change to an enrolment, attempt, placement, payment or promise updates
-- campaign_daily_facts in the same transaction, by triggers that subtract the old
-- contribution of a row and add the new one (a bulk update of attempts nets its rows per cell
-- first): whichever code path writes the row, the facts follow, and a repeat changes nothing.
-- Payments and promises are attributed per account
-- (mis_refresh_account) into account_outcome_facts, whose rows feed the facts. Definitions:
-- README "Reports". mis_rebuild() recomputes everything set-based (after a change of
-- reporting zone, or a bulk load made with the triggers disabled).

-- The calendar day of an instant in the reporting zone.
CREATE OR REPLACE FUNCTION mis_day(at timestamptz) RETURNS date LANGUAGE sql STABLE AS $$
  SELECT (at AT TIME ZONE COALESCE((SELECT time_zone FROM report_settings WHERE id = 1), 'UTC'))::date
$$;

-- Delinquency buckets: current, 1-30, 31-60, 61-90, 90+ days past due.
CREATE OR REPLACE FUNCTION mis_bucket(dpd integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN dpd IS NULL OR dpd <= 0 THEN 'current' WHEN dpd <= 30 THEN '1-30' WHEN dpd <= 60 THEN '31-60'
              WHEN dpd <= 90 THEN '61-90' ELSE '90+' END
$$;

-- Spreads concurrent writers of one cell over a few rows (summed when read).
CREATE OR REPLACE FUNCTION mis_shard(id uuid) RETURNS smallint LANGUAGE sql IMMUTABLE AS $$
  SELECT (abs(hashtext(id::text)) % 4)::smallint
$$;

-- Attribution window of a touch on a channel: the setting of the campaign, else 5 days for email, 7 otherwise.
CREATE OR REPLACE FUNCTION mis_window(attribution jsonb, channel text) RETURNS interval LANGUAGE sql IMMUTABLE AS $$
  SELECT make_interval(days => COALESCE((attribution -> 'windowDays' ->> channel)::int, CASE channel WHEN 'email' THEN 5 ELSE 7 END))
$$;

-- An eligible touch: a delivered SMS or WhatsApp, an opened or clicked email, an answered call with engagement.
CREATE OR REPLACE FUNCTION mis_eligible_touch(channel text, status text, opened_at timestamptz, clicked_at timestamptz, conversation_at timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE channel WHEN 'email' THEN opened_at IS NOT NULL OR clicked_at IS NOT NULL
                      WHEN 'voice' THEN conversation_at IS NOT NULL
                      ELSE status IN ('delivered', 'read') END
$$;

-- Adds `sign` times the measures m (in the column order below) and `linear` to one cell.
CREATE OR REPLACE FUNCTION mis_add(k_campaign uuid, k_variant text, k_step text, k_channel text, k_day date, k_bucket text, k_agency text,
                        k_market text, k_currency text, k_shard smallint, m bigint[], linear numeric, sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF k_campaign IS NULL OR (linear = 0 AND NOT EXISTS (SELECT 1 FROM unnest(m) x WHERE x <> 0)) THEN RETURN; END IF;
  INSERT INTO campaign_daily_facts AS f (campaign_id, variant, step_id, channel, day, dpd_bucket, agency, market, currency, shard,
      enrolled, outstanding_minor, touched, attempted, delivered, undelivered, opened, clicked, replied, opted_out, connected, rpc,
      units, promises, promised_minor, promises_due, promises_kept, conversions, payments, recovered_minor, unattributed_minor,
      collected_minor, commission_minor, placed, placed_minor, contacted, recovered_linear_minor)
  VALUES (k_campaign, k_variant, k_step, k_channel, k_day, k_bucket, k_agency, k_market, k_currency, k_shard,
      sign * m[1], sign * m[2], sign * m[3], sign * m[4], sign * m[5], sign * m[6], sign * m[7], sign * m[8], sign * m[9],
      sign * m[10], sign * m[11], sign * m[12], sign * m[13], sign * m[14], sign * m[15], sign * m[16], sign * m[17],
      sign * m[18], sign * m[19], sign * m[20], sign * m[21], sign * m[22], sign * m[23], sign * m[24], sign * m[25], sign * m[26],
      sign * linear)
  ON CONFLICT (campaign_id, variant, step_id, channel, day, dpd_bucket, agency, market, currency, shard) DO UPDATE SET
      enrolled = f.enrolled + EXCLUDED.enrolled, outstanding_minor = f.outstanding_minor + EXCLUDED.outstanding_minor,
      touched = f.touched + EXCLUDED.touched, attempted = f.attempted + EXCLUDED.attempted, delivered = f.delivered + EXCLUDED.delivered,
      undelivered = f.undelivered + EXCLUDED.undelivered, opened = f.opened + EXCLUDED.opened, clicked = f.clicked + EXCLUDED.clicked,
      replied = f.replied + EXCLUDED.replied, opted_out = f.opted_out + EXCLUDED.opted_out, connected = f.connected + EXCLUDED.connected,
      rpc = f.rpc + EXCLUDED.rpc, units = f.units + EXCLUDED.units, promises = f.promises + EXCLUDED.promises,
      promised_minor = f.promised_minor + EXCLUDED.promised_minor, promises_due = f.promises_due + EXCLUDED.promises_due,
      promises_kept = f.promises_kept + EXCLUDED.promises_kept, conversions = f.conversions + EXCLUDED.conversions,
      payments = f.payments + EXCLUDED.payments, recovered_minor = f.recovered_minor + EXCLUDED.recovered_minor,
      unattributed_minor = f.unattributed_minor + EXCLUDED.unattributed_minor, collected_minor = f.collected_minor + EXCLUDED.collected_minor,
      commission_minor = f.commission_minor + EXCLUDED.commission_minor, placed = f.placed + EXCLUDED.placed,
      placed_minor = f.placed_minor + EXCLUDED.placed_minor, contacted = f.contacted + EXCLUDED.contacted,
      recovered_linear_minor = f.recovered_linear_minor + EXCLUDED.recovered_linear_minor;
END $$;

-- What one attempt contributes: the contact funnel. Attempted: left the gate (handed to the
-- vendor, or refused on the way); delivered / undelivered: terminal states; opened: email
-- open or WhatsApp read; connected: a call answered by a person or a machine; RPC: a call
-- with engagement (keypress); units: SMS segments, voice minutes, else one message.
-- Whether an attempt was handed to its vendor (which may have refused it). One we refused
-- before the vendor call (no address, a template that cannot render) was never attempted:
-- not delivered, not undelivered, and its account not worked. Only a message the vendor
-- accepted (it has the vendor's id) is billed.
CREATE OR REPLACE FUNCTION mis_handed_to_vendor(a contact_attempts) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT a.status_rank >= 1 AND (a.sent_at IS NOT NULL OR a.vendor_id IS NOT NULL)
$$;

CREATE OR REPLACE FUNCTION mis_attempt_measures(a contact_attempts) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN NOT mis_handed_to_vendor(a) THEN array_fill(0::bigint, ARRAY[26]) ELSE ARRAY[0, 0, 0, 1,
    (a.status IN ('delivered', 'read'))::int, (a.status IN ('undelivered', 'failed', 'canceled'))::int,
    (a.opened_at IS NOT NULL OR a.status = 'read')::int, (a.clicked_at IS NOT NULL)::int, (a.channel <> 'voice' AND a.replied_at IS NOT NULL)::int,
    (a.opted_out_at IS NOT NULL)::int, (a.channel = 'voice' AND (a.status = 'delivered' OR a.error_code IS NOT DISTINCT FROM 'answering-machine'))::int,
    (a.channel = 'voice' AND a.conversation_at IS NOT NULL)::int, CASE WHEN a.vendor_id IS NULL THEN 0 ELSE COALESCE(a.units, CASE a.channel WHEN 'voice' THEN 0 ELSE 1 END) END,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]::bigint[] END
$$;

-- When an attempt became a live contact: an RPC (a call with engagement), a reply, a click.
CREATE OR REPLACE FUNCTION mis_live_contact_at(a contact_attempts) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
  SELECT LEAST(a.conversation_at, a.replied_at, a.clicked_at)
$$;

CREATE OR REPLACE FUNCTION mis_enrolment_measures(e enrolments) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY[1, COALESCE(e.balance_minor_at_start, 0), (e.touched_at IS NOT NULL)::int, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (e.contacted_at IS NOT NULL)::int]::bigint[]
$$;

CREATE OR REPLACE FUNCTION mis_placement_measures(p placements) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, p.amount_minor, 0]::bigint[]
$$;

CREATE OR REPLACE FUNCTION mis_outcome_measures(o account_outcome_facts) RETURNS bigint[] LANGUAGE sql IMMUTABLE AS $$
  SELECT ARRAY[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    (o.kind = 'promise')::int, CASE WHEN o.kind = 'promise' THEN o.amount_minor::bigint ELSE 0 END,
    (o.kind = 'promise-due')::int, o.promises_kept, o.conversions, (o.kind = 'last-touch')::int,
    CASE WHEN o.kind = 'last-touch' THEN o.amount_minor::bigint ELSE 0 END,
    CASE WHEN o.kind = 'unattributed' THEN o.amount_minor::bigint ELSE 0 END,
    CASE WHEN o.kind = 'payment' THEN o.amount_minor::bigint ELSE 0 END, o.commission_minor, 0, 0, 0]::bigint[]
$$;

-- The cell of an enrolment: its campaign, variant, DPD bucket at enrolment, market and currency.
CREATE OR REPLACE FUNCTION mis_enrolment_cell(enrolment uuid, OUT campaign_id uuid, OUT variant text, OUT bucket text, OUT market text, OUT currency text)
LANGUAGE sql STABLE AS $$
  SELECT e.campaign_id, e.variant, mis_bucket(COALESCE(e.days_past_due_at_start, a.days_past_due)), a.jurisdiction, a.currency
    FROM enrolments e JOIN accounts a ON a.id = e.account_id WHERE e.id = enrolment
$$;

-- Recomputes what the payments and promises contribute, under the attribution
-- rules: a payment after enrolment is collected; it goes to the touch that captured a
-- promise it falls under (up to due date + grace), else to the last eligible touch within
-- the window of that touch, else it is unattributed; the linear view shares it equally between
-- every eligible touch whose window holds it. The first attributed payment of an enrolment is its
-- conversion. A promise counts at the touch that captured it (its attempt, else the last
-- eligible touch whose window holds it) on the day made, and as due on its due date once settled.
CREATE OR REPLACE FUNCTION mis_refresh_account(account uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM account_outcome_facts WHERE account_id = account;
  INSERT INTO account_outcome_facts (account_id, campaign_id, kind, payment_id, promise_id, attempt_id, variant, step_id, channel, day,
                                     dpd_bucket, agency, market, currency, amount_minor, conversions, commission_minor, promises_kept)
  WITH acct AS (SELECT id, jurisdiction AS market, currency, days_past_due FROM accounts WHERE id = account),
  enr AS (
    SELECT e.id AS enrolment_id, e.campaign_id, e.variant, e.enrolled_at, acct.market, acct.currency,
           mis_bucket(COALESCE(e.days_past_due_at_start, acct.days_past_due)) AS bucket, c.attribution,
           promise_grace_days(c.strategy, e.variant) AS grace
      FROM enrolments e JOIN campaigns c ON c.id = e.campaign_id CROSS JOIN acct WHERE e.account_id = account),
  touch AS (
    SELECT t.id, t.enrolment_id, t.step_id, t.channel, COALESCE(t.sent_at, t.created_at) AS at,
           COALESCE(t.sent_at, t.created_at) + mis_window(enr.attribution, t.channel) AS until
      FROM contact_attempts t JOIN enr ON enr.enrolment_id = t.enrolment_id
     WHERE t.account_id = account AND mis_eligible_touch(t.channel, t.status, t.opened_at, t.clicked_at, t.conversation_at)),
  prom AS (
    SELECT pr.id, pr.amount_minor, pr.created_at, pr.due_date, pr.status, pe.*,
           COALESCE(pr.attempt_id, (SELECT t.id FROM touch t WHERE t.enrolment_id = pe.enrolment_id AND t.at <= pr.created_at
                                        AND pr.created_at < t.until ORDER BY t.at DESC, t.id DESC LIMIT 1)) AS attempt_id
      FROM promises pr
      JOIN enr pe ON pe.enrolment_id = promise_enrolment(pr)
     WHERE pr.account_id = account),
  pay AS (
    SELECT y.id AS payment_id, y.amount_minor, y.paid_at, enr.*, COALESCE(ag.name, '') AS agency, COALESCE(ag.commission_bps, 0) AS commission_bps,
           COALESCE((SELECT pm.attempt_id FROM prom pm WHERE pm.enrolment_id = enr.enrolment_id AND pm.attempt_id IS NOT NULL
                        AND pm.created_at <= y.paid_at AND y.paid_at < ((pm.due_date + pm.grace + 1)::timestamp AT TIME ZONE 'UTC')
                      ORDER BY pm.created_at DESC LIMIT 1),
                    (SELECT t.id FROM touch t WHERE t.enrolment_id = enr.enrolment_id AND t.at <= y.paid_at AND y.paid_at < t.until
                      ORDER BY t.at DESC, t.id DESC LIMIT 1)) AS attempt_id
      FROM payments y JOIN enr ON y.paid_at >= enr.enrolled_at
      LEFT JOIN LATERAL (SELECT g.name, g.commission_bps FROM placements pl JOIN agencies g ON g.id = pl.agency_id
                          WHERE pl.account_id = account AND pl.placed_at <= y.paid_at
                            AND (LEAST(pl.recalled_at, pl.closed_at) IS NULL OR LEAST(pl.recalled_at, pl.closed_at) > y.paid_at)
                          ORDER BY pl.placed_at DESC LIMIT 1) ag ON true
     WHERE y.account_id = account),
  ranked AS (
    SELECT pay.*, row_number() OVER (PARTITION BY pay.enrolment_id, pay.attempt_id IS NULL ORDER BY pay.paid_at, pay.payment_id) AS nth FROM pay),
  sharers AS (
    SELECT DISTINCT pay.payment_id, pay.enrolment_id, s.attempt_id FROM pay
      CROSS JOIN LATERAL (SELECT t.id AS attempt_id FROM touch t WHERE t.enrolment_id = pay.enrolment_id AND t.at <= pay.paid_at AND pay.paid_at < t.until
                          UNION SELECT pay.attempt_id WHERE pay.attempt_id IS NOT NULL) s)
  SELECT account, r.campaign_id, 'payment', r.payment_id, NULL::uuid, NULL::uuid, r.variant, '', '', mis_day(r.paid_at), r.bucket, r.agency,
         r.market, r.currency, r.amount_minor, 0, round(r.amount_minor * r.commission_bps / 10000.0)::bigint, 0
    FROM ranked r
  UNION ALL
  SELECT account, r.campaign_id, CASE WHEN r.attempt_id IS NULL THEN 'unattributed' ELSE 'last-touch' END, r.payment_id, NULL, r.attempt_id,
         r.variant, COALESCE(a.step_id, ''), COALESCE(a.channel, ''), mis_day(r.paid_at), r.bucket, r.agency, r.market, r.currency,
         r.amount_minor, (r.attempt_id IS NOT NULL AND r.nth = 1)::int, 0, 0
    FROM ranked r LEFT JOIN contact_attempts a ON a.id = r.attempt_id
  UNION ALL
  SELECT account, p.campaign_id, 'linear', p.payment_id, NULL, s.attempt_id, p.variant, a.step_id, a.channel, mis_day(p.paid_at), p.bucket,
         p.agency, p.market, p.currency, p.amount_minor::numeric / count(*) OVER (PARTITION BY s.payment_id, s.enrolment_id), 0, 0, 0
    FROM sharers s JOIN pay p ON p.payment_id = s.payment_id AND p.enrolment_id = s.enrolment_id JOIN contact_attempts a ON a.id = s.attempt_id
  UNION ALL
  SELECT account, p.campaign_id, 'promise', NULL, p.id, p.attempt_id, p.variant, COALESCE(a.step_id, ''), COALESCE(a.channel, ''),
         mis_day(p.created_at), p.bucket, '', p.market, p.currency, p.amount_minor, 0, 0, 0
    FROM prom p LEFT JOIN contact_attempts a ON a.id = p.attempt_id
  UNION ALL
  SELECT account, p.campaign_id, 'promise-due', NULL, p.id, p.attempt_id, p.variant, COALESCE(a.step_id, ''), COALESCE(a.channel, ''),
         p.due_date, p.bucket, '', p.market, p.currency, p.amount_minor, 0, 0, (p.status = 'kept')::int
    FROM prom p LEFT JOIN contact_attempts a ON a.id = p.attempt_id WHERE p.status IN ('kept', 'broken');
END $$;

CREATE OR REPLACE FUNCTION mis_attempt_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r contact_attempts := COALESCE(NEW, OLD);
  k record;
  old_m bigint[];
  new_m bigint[];
BEGIN
  -- A batch statement leaves its updates to mis_attempts_updated (before any measure is taken:
  -- this returns once per row of every batch).
  IF TG_OP = 'UPDATE' AND current_setting('tagih.mis_per_statement', true) = 'on' THEN RETURN NULL; END IF;
  old_m := CASE WHEN TG_OP <> 'INSERT' THEN mis_attempt_measures(OLD) END;
  new_m := CASE WHEN TG_OP <> 'DELETE' THEN mis_attempt_measures(NEW) END;
  IF old_m IS DISTINCT FROM new_m THEN
    SELECT * INTO k FROM mis_enrolment_cell(r.enrolment_id);
    IF old_m IS NOT NULL AND new_m IS NOT NULL AND OLD.id = NEW.id AND OLD.step_id = NEW.step_id AND OLD.channel = NEW.channel
       AND OLD.created_at = NEW.created_at THEN
      -- A status moving on stays in its cell: one update by the difference, not a subtraction
      -- and an addition (each a new version of the row; callbacks write this most).
      PERFORM mis_add(k.campaign_id, k.variant, NEW.step_id, NEW.channel, mis_day(NEW.created_at), k.bucket, '', k.market, k.currency,
                      mis_shard(NEW.id), ARRAY(SELECT n - o FROM unnest(new_m, old_m) WITH ORDINALITY AS d(n, o, i) ORDER BY i), 0, 1);
    ELSE
      IF old_m IS NOT NULL THEN
        PERFORM mis_add(k.campaign_id, k.variant, OLD.step_id, OLD.channel, mis_day(OLD.created_at), k.bucket, '', k.market, k.currency,
                        mis_shard(OLD.id), old_m, 0, -1);
      END IF;
      IF new_m IS NOT NULL THEN
        PERFORM mis_add(k.campaign_id, k.variant, NEW.step_id, NEW.channel, mis_day(NEW.created_at), k.bucket, '', k.market, k.currency,
                        mis_shard(NEW.id), new_m, 0, 1);
      END IF;
    END IF;
  END IF;
  IF TG_OP <> 'DELETE' AND mis_handed_to_vendor(NEW) THEN
    UPDATE enrolments SET touched_at = NEW.created_at WHERE id = NEW.enrolment_id AND touched_at IS NULL;
    IF mis_live_contact_at(NEW) IS NOT NULL THEN
      UPDATE enrolments SET contacted_at = mis_live_contact_at(NEW) WHERE id = NEW.enrolment_id AND contacted_at IS NULL;
    END IF;
  END IF;
  -- A touch that becomes (or stops being) eligible, or moves in time, changes attribution.
  IF (TG_OP = 'UPDATE' AND (mis_eligible_touch(NEW.channel, NEW.status, NEW.opened_at, NEW.clicked_at, NEW.conversation_at)
                            IS DISTINCT FROM mis_eligible_touch(OLD.channel, OLD.status, OLD.opened_at, OLD.clicked_at, OLD.conversation_at)
                            OR NEW.sent_at IS DISTINCT FROM OLD.sent_at))
     AND (EXISTS (SELECT 1 FROM payments WHERE account_id = NEW.account_id) OR EXISTS (SELECT 1 FROM promises WHERE account_id = NEW.account_id)) THEN
    PERFORM mis_refresh_account(NEW.account_id);
  END IF;
  RETURN NULL;
END $$;

-- A statement that updates attempts in bulk (the batch of Twilio status callbacks) sets
-- tagih.mis_per_statement for its transaction: its change is then summed per cell first, so a
-- cell gets one update per statement rather than one per attempt. Other updates (one attempt
-- at a time) keep the row trigger: this one plans its queries on every call, which costs a
-- single-row update more than the row trigger does.
CREATE OR REPLACE FUNCTION mis_attempts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('tagih.mis_per_statement', true) IS DISTINCT FROM 'on' THEN RETURN NULL; END IF;
  PERFORM mis_add(campaign_id, variant, step_id, channel, day, bucket, '', market, currency, shard,
                  ARRAY[sum(sign * m[1]), sum(sign * m[2]), sum(sign * m[3]), sum(sign * m[4]), sum(sign * m[5]), sum(sign * m[6]), sum(sign * m[7]),
                        sum(sign * m[8]), sum(sign * m[9]), sum(sign * m[10]), sum(sign * m[11]), sum(sign * m[12]), sum(sign * m[13]), sum(sign * m[14]),
                        sum(sign * m[15]), sum(sign * m[16]), sum(sign * m[17]), sum(sign * m[18]), sum(sign * m[19]), sum(sign * m[20]), sum(sign * m[21]),
                        sum(sign * m[22]), sum(sign * m[23]), sum(sign * m[24]), sum(sign * m[25]), sum(sign * m[26])]::bigint[], 0, 1)
    FROM (SELECT e.campaign_id, e.variant, c.step_id, c.channel, mis_day(c.created_at) AS day,
                 mis_bucket(COALESCE(e.days_past_due_at_start, a.days_past_due)) AS bucket, a.jurisdiction AS market, a.currency,
                 mis_shard(c.id) AS shard, c.sign, c.m
            FROM (SELECT o.id, o.enrolment_id, o.step_id, o.channel, o.created_at, -1 AS sign, mis_attempt_measures(o) AS m FROM old_attempts o
                  UNION ALL
                  SELECT n.id, n.enrolment_id, n.step_id, n.channel, n.created_at, 1, mis_attempt_measures(n) FROM new_attempts n) c
            -- The cell of each enrolment as mis_enrolment_cell finds it, joined rather than called per row.
            JOIN enrolments e ON e.id = c.enrolment_id JOIN accounts a ON a.id = e.account_id) changed
   GROUP BY campaign_id, variant, step_id, channel, day, bucket, market, currency, shard;
  -- Only attempts that just left the gate or just became a live contact can be the first.
  UPDATE enrolments e SET touched_at = t.first
    FROM (SELECT n.enrolment_id, min(n.created_at) AS first FROM new_attempts n JOIN old_attempts o ON o.id = n.id
           WHERE mis_handed_to_vendor(n) AND NOT mis_handed_to_vendor(o) GROUP BY n.enrolment_id) t
   WHERE e.id = t.enrolment_id AND e.touched_at IS NULL;
  UPDATE enrolments e SET contacted_at = t.first
    FROM (SELECT n.enrolment_id, min(mis_live_contact_at(n)) AS first FROM new_attempts n JOIN old_attempts o ON o.id = n.id
           WHERE mis_handed_to_vendor(n) AND mis_live_contact_at(n) IS NOT NULL AND (NOT mis_handed_to_vendor(o) OR mis_live_contact_at(o) IS NULL)
           GROUP BY n.enrolment_id) t
   WHERE e.id = t.enrolment_id AND e.contacted_at IS NULL;
  -- A touch that becomes (or stops being) eligible, or moves in time, changes attribution.
  PERFORM mis_refresh_account(account_id) FROM (
    SELECT DISTINCT n.account_id FROM old_attempts o JOIN new_attempts n ON n.id = o.id
     WHERE (mis_eligible_touch(n.channel, n.status, n.opened_at, n.clicked_at, n.conversation_at)
              IS DISTINCT FROM mis_eligible_touch(o.channel, o.status, o.opened_at, o.clicked_at, o.conversation_at)
            OR n.sent_at IS DISTINCT FROM o.sent_at)
       AND (EXISTS (SELECT 1 FROM payments WHERE account_id = n.account_id) OR EXISTS (SELECT 1 FROM promises WHERE account_id = n.account_id))) accounts;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION mis_enrolment_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_m bigint[] := CASE WHEN TG_OP <> 'INSERT' THEN mis_enrolment_measures(OLD) END;
  new_m bigint[] := CASE WHEN TG_OP <> 'DELETE' THEN mis_enrolment_measures(NEW) END;
  k record;
BEGIN
  -- mis_rebuild() recounts enrolments itself after stamping touched_at and contacted_at.
  IF current_setting('tagih.mis_rebuilding', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_OP = 'UPDATE' AND old_m = new_m AND OLD.variant = NEW.variant AND OLD.enrolled_at = NEW.enrolled_at
     AND OLD.days_past_due_at_start IS NOT DISTINCT FROM NEW.days_past_due_at_start THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    -- The old cell, from the old row (the new row may have moved variant or bucket).
    PERFORM mis_add(OLD.campaign_id, OLD.variant, '', '', mis_day(OLD.enrolled_at),
                    mis_bucket(COALESCE(OLD.days_past_due_at_start, (SELECT days_past_due FROM accounts WHERE id = OLD.account_id))),
                    '', (SELECT jurisdiction FROM accounts WHERE id = OLD.account_id), (SELECT currency FROM accounts WHERE id = OLD.account_id),
                    mis_shard(OLD.account_id), old_m, 0, -1);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    SELECT * INTO k FROM mis_enrolment_cell(NEW.id);
    PERFORM mis_add(NEW.campaign_id, NEW.variant, '', '', mis_day(NEW.enrolled_at), k.bucket, '', k.market, k.currency,
                    mis_shard(NEW.account_id), new_m, 0, 1);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION mis_placement_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  k record;
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.enrolment_id IS NOT NULL THEN
    SELECT * INTO k FROM mis_enrolment_cell(OLD.enrolment_id);
    PERFORM mis_add(k.campaign_id, k.variant, COALESCE(OLD.step_id, ''), '', mis_day(OLD.placed_at), k.bucket,
                    (SELECT name FROM agencies WHERE id = OLD.agency_id), k.market, k.currency, mis_shard(OLD.id), mis_placement_measures(OLD), 0, -1);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.enrolment_id IS NOT NULL THEN
    SELECT * INTO k FROM mis_enrolment_cell(NEW.enrolment_id);
    PERFORM mis_add(k.campaign_id, k.variant, COALESCE(NEW.step_id, ''), '', mis_day(NEW.placed_at), k.bucket,
                    (SELECT name FROM agencies WHERE id = NEW.agency_id), k.market, k.currency, mis_shard(NEW.id), mis_placement_measures(NEW), 0, 1);
  END IF;
  -- The agency holding the account when it paid may have changed.
  IF EXISTS (SELECT 1 FROM payments WHERE account_id = COALESCE(NEW.account_id, OLD.account_id)) THEN
    PERFORM mis_refresh_account(COALESCE(NEW.account_id, OLD.account_id));
  END IF;
  RETURN NULL;
END $$;

-- Payments and promises: recompute the outcomes of the account (both accounts when one moved).
CREATE OR REPLACE FUNCTION mis_outcome_source_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'DELETE' THEN PERFORM mis_refresh_account(NEW.account_id); END IF;
  IF TG_OP <> 'INSERT' AND (TG_OP = 'DELETE' OR OLD.account_id <> NEW.account_id) THEN PERFORM mis_refresh_account(OLD.account_id); END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION mis_outcome_fact_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  o account_outcome_facts := COALESCE(NEW, OLD);
BEGIN
  -- mis_rebuild() adds the outcome facts itself, once per cell.
  IF current_setting('tagih.mis_rebuilding', true) = 'on' THEN RETURN NULL; END IF;
  PERFORM mis_add(o.campaign_id, o.variant, o.step_id, o.channel, o.day, o.dpd_bucket, o.agency, o.market, o.currency, mis_shard(o.account_id),
                  mis_outcome_measures(o), CASE WHEN o.kind = 'linear' THEN o.amount_minor ELSE 0 END,
                  CASE WHEN TG_OP = 'DELETE' THEN -1 ELSE 1 END);
  RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER mis_facts AFTER INSERT OR UPDATE OR DELETE ON contact_attempts FOR EACH ROW EXECUTE FUNCTION mis_attempt_changed();
CREATE OR REPLACE TRIGGER mis_facts_updates AFTER UPDATE ON contact_attempts REFERENCING OLD TABLE AS old_attempts NEW TABLE AS new_attempts
  FOR EACH STATEMENT EXECUTE FUNCTION mis_attempts_updated();
CREATE OR REPLACE TRIGGER mis_facts AFTER INSERT OR UPDATE OR DELETE ON enrolments FOR EACH ROW EXECUTE FUNCTION mis_enrolment_changed();
CREATE OR REPLACE TRIGGER mis_facts AFTER INSERT OR UPDATE OR DELETE ON placements FOR EACH ROW EXECUTE FUNCTION mis_placement_changed();
CREATE OR REPLACE TRIGGER mis_facts AFTER INSERT OR UPDATE OR DELETE ON payments FOR EACH ROW EXECUTE FUNCTION mis_outcome_source_changed();
CREATE OR REPLACE TRIGGER mis_facts AFTER INSERT OR UPDATE OR DELETE ON promises FOR EACH ROW EXECUTE FUNCTION mis_outcome_source_changed();
CREATE OR REPLACE TRIGGER mis_facts AFTER INSERT OR DELETE ON account_outcome_facts FOR EACH ROW EXECUTE FUNCTION mis_outcome_fact_changed();

-- Recomputes every fact from the raw tables, set-based: after the reporting zone changed, or
-- after a bulk load made with the triggers disabled. Ends in the state the triggers keep.
CREATE OR REPLACE FUNCTION mis_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('tagih.mis_rebuilding', 'on', true);
  UPDATE enrolments e SET touched_at = t.first
    FROM (SELECT enrolment_id, min(created_at) AS first FROM contact_attempts a WHERE mis_handed_to_vendor(a) GROUP BY enrolment_id) t
   WHERE e.id = t.enrolment_id AND e.touched_at IS NULL;
  UPDATE enrolments e SET contacted_at = t.first
    FROM (SELECT enrolment_id, min(mis_live_contact_at(a)) AS first FROM contact_attempts a
           WHERE mis_handed_to_vendor(a) AND mis_live_contact_at(a) IS NOT NULL GROUP BY enrolment_id) t
   WHERE e.id = t.enrolment_id AND e.contacted_at IS NULL;
  TRUNCATE campaign_daily_facts, account_outcome_facts;
  INSERT INTO campaign_daily_facts (campaign_id, variant, step_id, channel, day, dpd_bucket, agency, market, currency, shard,
      enrolled, outstanding_minor, touched, attempted, delivered, undelivered, opened, clicked, replied, opted_out, connected, rpc,
      units, promises, promised_minor, promises_due, promises_kept, conversions, payments, recovered_minor, unattributed_minor,
      collected_minor, commission_minor, placed, placed_minor, contacted)
  SELECT campaign_id, variant, step_id, channel, day, bucket, agency, market, currency, shard,
         sum(m[1]), sum(m[2]), sum(m[3]), sum(m[4]), sum(m[5]), sum(m[6]), sum(m[7]), sum(m[8]), sum(m[9]), sum(m[10]), sum(m[11]),
         sum(m[12]), sum(m[13]), sum(m[14]), sum(m[15]), sum(m[16]), sum(m[17]), sum(m[18]), sum(m[19]), sum(m[20]), sum(m[21]),
         sum(m[22]), sum(m[23]), sum(m[24]), sum(m[25]), sum(m[26])
    FROM (
      SELECT e.campaign_id, e.variant, '' AS step_id, '' AS channel, mis_day(e.enrolled_at) AS day,
             mis_bucket(COALESCE(e.days_past_due_at_start, a.days_past_due)) AS bucket, '' AS agency, a.jurisdiction AS market, a.currency,
             mis_shard(e.account_id) AS shard, mis_enrolment_measures(e) AS m
        FROM enrolments e JOIN accounts a ON a.id = e.account_id
      UNION ALL
      SELECT e.campaign_id, e.variant, t.step_id, t.channel, mis_day(t.created_at), mis_bucket(COALESCE(e.days_past_due_at_start, a.days_past_due)),
             '', a.jurisdiction, a.currency, mis_shard(t.id), mis_attempt_measures(t)
        FROM contact_attempts t JOIN enrolments e ON e.id = t.enrolment_id JOIN accounts a ON a.id = e.account_id WHERE mis_handed_to_vendor(t)
      UNION ALL
      SELECT e.campaign_id, e.variant, COALESCE(p.step_id, ''), '', mis_day(p.placed_at), mis_bucket(COALESCE(e.days_past_due_at_start, a.days_past_due)),
             g.name, a.jurisdiction, a.currency, mis_shard(p.id), mis_placement_measures(p)
        FROM placements p JOIN enrolments e ON e.id = p.enrolment_id JOIN accounts a ON a.id = e.account_id JOIN agencies g ON g.id = p.agency_id
    ) rows
   GROUP BY campaign_id, variant, step_id, channel, day, bucket, agency, market, currency, shard;
  PERFORM mis_refresh_account(account_id) FROM (SELECT account_id FROM payments UNION SELECT account_id FROM promises) touched_accounts;
  -- Summed per cell first: through the trigger every outcome fact updated its cell again, all in
  -- this one transaction, whose dead versions nothing can prune before it commits (51 MB of
  -- table for 9,406 cells, scanned by every report).
  PERFORM mis_add(campaign_id, variant, step_id, channel, day, dpd_bucket, agency, market, currency, shard,
                  ARRAY[sum(m[1]), sum(m[2]), sum(m[3]), sum(m[4]), sum(m[5]), sum(m[6]), sum(m[7]), sum(m[8]), sum(m[9]), sum(m[10]),
                        sum(m[11]), sum(m[12]), sum(m[13]), sum(m[14]), sum(m[15]), sum(m[16]), sum(m[17]), sum(m[18]), sum(m[19]),
                        sum(m[20]), sum(m[21]), sum(m[22]), sum(m[23]), sum(m[24]), sum(m[25]), sum(m[26])]::bigint[],
                  sum(linear), 1)
    FROM (SELECT o.campaign_id, o.variant, o.step_id, o.channel, o.day, o.dpd_bucket, o.agency, o.market, o.currency,
                 mis_shard(o.account_id) AS shard, mis_outcome_measures(o) AS m, CASE WHEN o.kind = 'linear' THEN o.amount_minor ELSE 0 END AS linear
            FROM account_outcome_facts o) outcomes
   GROUP BY campaign_id, variant, step_id, channel, day, dpd_bucket, agency, market, currency, shard;
  PERFORM set_config('tagih.mis_rebuilding', 'off', true);
END $$;
