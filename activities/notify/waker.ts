import pg from 'pg';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import { poolConfig, type Db } from '../../db/connection.js';
import { NOTIFY_CHANNEL, activeEndpointIds } from '../../db/queries/notifications.js';
import { notifyEndpointWorkflowId, notifyWakeSignal, type NotifyEndpointInput } from '../../workflows/messages.js';
import type { notificationEndpoint } from '../../workflows/notify.js';

// The outbox's doorbell, in each worker process: a LISTEN on `spm_notifications`. recordEvent's pg_notify
// arrives when the state change's transaction commits; the waker then signal-with-starts the delivery
// workflow of each endpoint concerned (`*` = every enabled endpoint: one of them fans the event out). At start
// every enabled endpoint is woken, so events written while no worker ran are delivered too. A lost
// notification (the LISTEN connection reconnecting) costs at most NOTIFY_SWEEP_SECONDS: the workflows sweep.

export interface NotificationWaker {
  /** Wakes these endpoints' workflows now (or every enabled one). */
  wake(endpointIds: number[] | 'all'): Promise<void>;
  close(): Promise<void>;
}

export async function wakeEndpoints(client: Client, config: Readonly<Config>, ids: readonly number[]): Promise<void> {
  await Promise.all(
    ids.map((endpointId) =>
      client.workflow.signalWithStart<typeof notificationEndpoint, []>('notificationEndpoint', {
        taskQueue: config.temporal.taskQueue,
        workflowId: notifyEndpointWorkflowId(endpointId),
        args: [{ endpointId, sweepSeconds: config.notify.sweepSeconds } satisfies NotifyEndpointInput],
        signal: notifyWakeSignal,
        signalArgs: [],
      }),
    ),
  );
}

export async function startNotificationWaker(opts: { config: Readonly<Config>; db: Db; temporal: Client; log: Logger }): Promise<NotificationWaker> {
  const { config, db, temporal, log } = opts;
  let closed = false;
  let all = false;
  const pending = new Set<number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const flush = () => {
    timer = undefined;
    const wantAll = all;
    const ids = [...pending];
    all = false;
    pending.clear();
    running = running.then(async () => {
      try {
        const targets = wantAll ? await activeEndpointIds(db) : ids;
        if (targets.length) await wakeEndpoints(temporal, config, targets);
      } catch (err) {
        if (!closed) log.warn({ err }, 'could not wake notification delivery (the sweep will)');
      }
    });
  };
  const schedule = (ids: number[] | 'all') => {
    if (ids === 'all') all = true;
    else ids.forEach((i) => pending.add(i));
    // coalesce a burst of commits into one round of signals
    timer ??= setTimeout(flush, 20);
  };

  let client: pg.Client | undefined;
  let backoff = 500;
  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ ...poolConfig(config.db, 'spm-notify-listener') });
    c.on('notification', (msg) => {
      if (msg.channel !== NOTIFY_CHANNEL) return;
      const p = msg.payload ?? '*';
      schedule(p === '*' ? 'all' : p.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0));
    });
    c.on('error', (err) => {
      if (closed) return;
      log.warn({ err }, 'notification listener lost its connection; reconnecting');
      c.end().catch(() => undefined);
      setTimeout(() => void connect().catch(() => undefined), backoff);
      backoff = Math.min(backoff * 2, 30_000);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
      client = c;
      backoff = 500;
      schedule('all'); // whatever was committed while not listening
    } catch (err) {
      await c.end().catch(() => undefined);
      if (closed) return;
      log.warn({ err }, 'notification listener cannot connect; retrying');
      setTimeout(() => void connect().catch(() => undefined), backoff);
      backoff = Math.min(backoff * 2, 30_000);
    }
  };
  await connect();

  return {
    async wake(ids) {
      schedule(ids);
      if (timer) {
        clearTimeout(timer);
        flush();
      }
      await running;
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await running;
      await client?.end().catch(() => undefined);
    },
  };
}
