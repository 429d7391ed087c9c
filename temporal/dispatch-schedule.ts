import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../config/config.js';

export const DISPATCH_SCHEDULE_ID = 'test-dispatch';

/**
 * TEST_AUTO_DISPATCH on: a Schedule runs dispatchTests every 30 s (and each test dispatches when it frees its
 * system). Off: the Schedule is removed. Idempotent, run by the worker at start.
 */
export async function ensureDispatchSchedule(client: Client, config: Readonly<Config>): Promise<'created' | 'exists' | 'removed' | 'absent'> {
  const handle = client.schedule.getHandle(DISPATCH_SCHEDULE_ID);
  if (!config.test.autoDispatch) {
    try {
      await handle.delete();
      return 'removed';
    } catch (err) {
      if (err instanceof ScheduleNotFoundError) return 'absent';
      throw err;
    }
  }
  try {
    await client.schedule.create({
      scheduleId: DISPATCH_SCHEDULE_ID,
      spec: { intervals: [{ every: '30 seconds' }] },
      action: { type: 'startWorkflow', workflowType: 'dispatchTests', workflowId: 'test-dispatch', taskQueue: config.temporal.taskQueue, args: [] },
      policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
    });
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}
