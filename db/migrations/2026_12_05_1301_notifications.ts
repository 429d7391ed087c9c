import { sql, type Kysely } from 'kysely';

// Notifications delivered for real: orchestrator_notifications becomes the transactional outbox (one row per
// event, written in the transaction of the state change it reports; `event_id` is the webhook-id), the
// endpoints (webhooks with their whsec_ secrets, email recipients) with their event filters, one delivery per
// event × endpoint, and every attempt of a delivery. Rows written before delivery existed (channel 'log') are
// kept, renamed to the new event types, and marked as never delivered (nothing sends weeks-old reminders).

const UP = [
  `ALTER TABLE orchestrator_notifications DROP CONSTRAINT orchestrator_notifications_channel_check`,
  `ALTER TABLE orchestrator_notifications ADD CONSTRAINT orchestrator_notifications_channel_check CHECK (channel IN ('email', 'webhook', 'log', 'outbox'))`,
  `ALTER TABLE orchestrator_notifications ALTER COLUMN channel SET DEFAULT 'outbox'`,
  `ALTER TABLE orchestrator_notifications ALTER COLUMN recipient SET DEFAULT 'endpoints'`,
  `ALTER TABLE orchestrator_notifications DROP CONSTRAINT orchestrator_notifications_status_check`,
  `ALTER TABLE orchestrator_notifications ADD CONSTRAINT orchestrator_notifications_status_check CHECK (status IN ('pending', 'dispatched', 'sent', 'failed'))`,
  `ALTER TABLE orchestrator_notifications ADD COLUMN event_id text`,
  `ALTER TABLE orchestrator_notifications ADD COLUMN workflow_id text`,
  `ALTER TABLE orchestrator_notifications ADD COLUMN dispatched_at timestamptz`,
  `UPDATE orchestrator_notifications SET event_id = 'msg_legacy_' || id,
          event_type = CASE event_type WHEN 'approval_pending' THEN 'approval.requested' WHEN 'approval_reminder' THEN 'approval.reminder' ELSE event_type END,
          status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END,
          last_error = CASE WHEN status = 'pending' THEN 'recorded before notifications were delivered; never sent' ELSE last_error END`,
  `ALTER TABLE orchestrator_notifications ALTER COLUMN event_id SET NOT NULL`,
  `ALTER TABLE orchestrator_notifications ADD CONSTRAINT orchestrator_notifications_event_id_key UNIQUE (event_id)`,
  `CREATE INDEX orchestrator_notifications_pending_idx ON orchestrator_notifications (id) WHERE status = 'pending'`,

  `CREATE TABLE notification_endpoints (
     id serial PRIMARY KEY,
     name text NOT NULL,
     kind text NOT NULL CHECK (kind IN ('webhook', 'email')),
     url text,
     recipients text[] NOT NULL DEFAULT '{}',
     event_types text[] NOT NULL DEFAULT '{*}',
     enabled boolean NOT NULL DEFAULT true,
     disabled_reason text,
     disabled_at timestamptz,
     max_concurrency integer NOT NULL DEFAULT 10 CHECK (max_concurrency BETWEEN 1 AND 100),
     secret text,
     previous_secret text,
     previous_secret_expires_at timestamptz,
     created_by text NOT NULL,
     deleted_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now(),
     CHECK (kind <> 'webhook' OR (url IS NOT NULL AND secret IS NOT NULL)),
     CHECK (kind <> 'email' OR cardinality(recipients) > 0)
   )`,
  `CREATE UNIQUE INDEX notification_endpoints_name_idx ON notification_endpoints (name) WHERE deleted_at IS NULL`,
  `CREATE TRIGGER notification_endpoints_updated_at BEFORE UPDATE ON notification_endpoints FOR EACH ROW EXECUTE FUNCTION set_updated_at()`,
  // a test event goes to one endpoint only
  `ALTER TABLE orchestrator_notifications ADD COLUMN only_endpoint_id integer REFERENCES notification_endpoints (id)`,

  `CREATE TABLE notification_deliveries (
     id serial PRIMARY KEY,
     notification_id integer NOT NULL REFERENCES orchestrator_notifications (id) ON DELETE CASCADE,
     endpoint_id integer NOT NULL REFERENCES notification_endpoints (id) ON DELETE CASCADE,
     status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'retrying', 'delivered', 'failed')),
     attempts integer NOT NULL DEFAULT 0,
     schedule_step integer NOT NULL DEFAULT 0,
     next_attempt_at timestamptz DEFAULT now(),
     last_status_code integer,
     last_response text,
     last_error text,
     delivered_at timestamptz,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (notification_id, endpoint_id)
   )`,
  `CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (endpoint_id, next_attempt_at, id) WHERE status IN ('pending', 'retrying')`,
  `CREATE INDEX notification_deliveries_list_idx ON notification_deliveries (id DESC)`,
  `CREATE INDEX notification_deliveries_status_idx ON notification_deliveries (status, id DESC)`,
  `CREATE TRIGGER notification_deliveries_updated_at BEFORE UPDATE ON notification_deliveries FOR EACH ROW EXECUTE FUNCTION set_updated_at()`,

  `CREATE TABLE notification_attempts (
     id serial PRIMARY KEY,
     delivery_id integer NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
     attempt integer NOT NULL,
     status text NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'succeeded', 'failed', 'lost')),
     status_code integer,
     response text,
     error text,
     next_attempt_at timestamptz,
     worker text,
     started_at timestamptz NOT NULL DEFAULT now(),
     finished_at timestamptz,
     duration_ms integer,
     UNIQUE (delivery_id, attempt)
   )`,
];

const DOWN = [
  'DROP TABLE IF EXISTS notification_attempts',
  'DROP TABLE IF EXISTS notification_deliveries',
  'ALTER TABLE orchestrator_notifications DROP COLUMN IF EXISTS only_endpoint_id',
  'DROP TABLE IF EXISTS notification_endpoints',
  'DROP INDEX IF EXISTS orchestrator_notifications_pending_idx',
  'ALTER TABLE orchestrator_notifications DROP CONSTRAINT IF EXISTS orchestrator_notifications_event_id_key',
  'ALTER TABLE orchestrator_notifications DROP COLUMN IF EXISTS dispatched_at',
  'ALTER TABLE orchestrator_notifications DROP COLUMN IF EXISTS workflow_id',
  'ALTER TABLE orchestrator_notifications DROP COLUMN IF EXISTS event_id',
  `UPDATE orchestrator_notifications SET status = CASE WHEN status = 'dispatched' THEN 'sent' ELSE status END,
          channel = CASE WHEN channel = 'outbox' THEN 'log' ELSE channel END,
          event_type = CASE event_type WHEN 'approval.requested' THEN 'approval_pending' WHEN 'approval.reminder' THEN 'approval_reminder' ELSE event_type END`,
  'ALTER TABLE orchestrator_notifications DROP CONSTRAINT orchestrator_notifications_status_check',
  `ALTER TABLE orchestrator_notifications ADD CONSTRAINT orchestrator_notifications_status_check CHECK (status IN ('pending', 'sent', 'failed'))`,
  'ALTER TABLE orchestrator_notifications ALTER COLUMN recipient DROP DEFAULT',
  'ALTER TABLE orchestrator_notifications ALTER COLUMN channel DROP DEFAULT',
  'ALTER TABLE orchestrator_notifications DROP CONSTRAINT orchestrator_notifications_channel_check',
  `ALTER TABLE orchestrator_notifications ADD CONSTRAINT orchestrator_notifications_channel_check CHECK (channel IN ('email', 'webhook', 'log'))`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const s of UP) await sql.raw(s).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const s of DOWN) await sql.raw(s).execute(db);
}
