import { cancellationSignal } from '@temporalio/activity';
import { json } from '../../db/json.js';
import { phaseFinished, phaseStarted, updateTest } from '../../db/queries/tests.js';
import { loadTestSettings } from './settings.js';
import { guarded } from './support.js';
import type { TestDeps, LeasedSystem, PhaseVerdict } from './types.js';

// The services phase: every critical service of the OS running after the patch.

export function createServicesActivities(deps: TestDeps) {
  const { db, salt, config } = deps;
  const signal = () => cancellationSignal();

  return {
    async servicesPhase(input: { testId: number; system: LeasedSystem; os: string }): Promise<PhaseVerdict> {
      await phaseStarted(db, input.testId, 'services');
      const names = (await loadTestSettings(db, config)).criticalServices[input.os] ?? [];
      const status = names.length ? await guarded(() => salt.serviceStatus(input.system.minion, names, { signal: signal() })) : {};
      await updateTest(db, input.testId, { services: json(status) });
      const stopped = Object.entries(status).filter(([, up]) => !up).map(([name]) => name);
      const reason = stopped.length ? `critical service(s) not running: ${stopped.join(', ')}` : null;
      await phaseFinished(db, input.testId, 'services', stopped.length ? 'failed' : 'passed', { services: status }, reason);
      return stopped.length ? { ok: false, reason: reason as string } : { ok: true };
    },
  };
}
