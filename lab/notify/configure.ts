import { loadConfig } from '../../config/config.js';
import { createDb } from '../../db/connection.js';
import { wakeEndpoint } from '../../db/queries/notifications.js';
import { LAB_WEBHOOK_SECRET } from './server.js';

/**
 * The lab's endpoints, pre-configured (upserted by name at every `npm run lab`, pointing at this start's
 * ports): `lab-webhook` (every event, signed with LAB_WEBHOOK_SECRET) and `lab-mail` (every event, to
 * approvers@lab.local and sre@lab.local).
 */
export async function configureLabEndpoints(env: Record<string, string | undefined>, hookUrl: string): Promise<void> {
  const db = createDb(loadConfig(env).db, 'spm-lab');
  try {
    await db.transaction().execute(async (trx) => {
      for (const e of [
        { name: 'lab-webhook', kind: 'webhook' as const, url: hookUrl, recipients: [], secret: LAB_WEBHOOK_SECRET },
        { name: 'lab-mail', kind: 'email' as const, url: null, recipients: ['approvers@lab.local', 'sre@lab.local'], secret: null },
      ]) {
        const found = await trx.selectFrom('notification_endpoints').select('id').where('name', '=', e.name).where('deleted_at', 'is', null).executeTakeFirst();
        const id = found
          ? (await trx.updateTable('notification_endpoints').set({ url: e.url, secret: e.secret }).where('id', '=', found.id).returning('id').executeTakeFirstOrThrow()).id
          : (await trx.insertInto('notification_endpoints').values({ ...e, event_types: ['*'], created_by: 'lab' }).returning('id').executeTakeFirstOrThrow()).id;
        await wakeEndpoint(trx, id);
      }
    });
  } finally {
    await db.destroy();
  }
}
