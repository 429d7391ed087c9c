import { ApplicationFailure, condition, executeChild, getExternalWorkflowHandle, ParentClosePolicy, setHandler, workflowInfo } from '@temporalio/workflow';
import type { TestInfo } from '../activities/patch-test/index.js';
import { carriedBySignal, carriedRolloutDoneSignal, deployUpdate, SA, workflowIds, type DeployRequest, type DeploymentResult, type PatchTestInput } from './messages.js';
import type { TestActivityStubs } from './test-proxies.js';
import { reasonOf } from './test-run.js';
import type { TestView } from './test-view.js';

const productionDeploymentType = 'productionDeployment';

/**
 * The hand-off to production: after approval, `POST /api/v1/deployments` sends the `deploy` Update (refused
 * unless the item is approved and not yet deploying). The request is recorded before the rollout starts; one
 * that cannot be recorded is refused and starts nothing.
 */
export class Promotion {
  private request: DeployRequest | null = null;
  private recording = false;
  /** Carried by another item's rollout (a set): its result, once the carrier's patchTest sends it. */
  private carried: DeploymentResult | null = null;

  constructor(
    private readonly queueId: number,
    private readonly acts: TestActivityStubs,
    private readonly view: TestView,
  ) {
    setHandler(carriedRolloutDoneSignal, (r) => void (this.carried = r));
    // Recorded already by the carrier (one transaction for the whole set): only the waiting changes here.
    setHandler(carriedBySignal, ({ carrier, by, policy }) => {
      if (!this.request && this.view.state.status === 'approved') this.request = { by, policy, carriedBy: carrier };
    });
    setHandler(
      deployUpdate,
      async (d) => {
        this.recording = true;
        const rollout = workflowIds.deployment(this.queueId);
        try {
          // A set: every member's request too, in the same transaction (all approved, or nothing recorded).
          await this.acts.record.recordDeploymentRequest({
            queueId: this.queueId, workflowId: rollout, by: d.by, policy: d.policy,
            requestId: d.requestId ?? `${workflowInfo().workflowId}/deploy`, source: d.source ?? 'api', ...(d.members?.length ? { members: d.members } : {}),
          });
        } catch (err) {
          throw ApplicationFailure.nonRetryable(`the deployment request could not be recorded, so nothing was started: ${reasonOf(err)}`, 'DeploymentNotRecorded');
        } finally {
          this.recording = false;
        }
        this.request = d;
        return { workflowId: rollout };
      },
      {
        validator: (_d) => {
          const state = this.view.state.status;
          if (state !== 'approved' || this.request || this.recording) {
            throw ApplicationFailure.nonRetryable(
              `queue item ${this.queueId} is ${state}${this.request || this.recording ? ' and already deploying' : ''}, not approved`,
              'DeploymentRefused',
            );
          }
        },
      },
    );
  }

  /** Waits for the rollout to be requested (or the item to be rolled back first), then runs it as a child. */
  async run(input: PatchTestInput, info: TestInfo, rolledBack: () => boolean): Promise<DeploymentResult | null> {
    await condition(() => this.request !== null || rolledBack());
    const go = this.request;
    if (!go) return null;
    this.view.setStatus('promoting');
    if (go.carriedBy !== undefined) {
      // Applied by the carrier's rollout, in the same UYUNI actions; its end is this item's end too.
      await condition(() => this.carried !== null);
      return this.carried;
    }
    const members = go.members?.length ? await this.acts.store.describeCarried({ queueIds: go.members, os: info.targetOs }) : [];
    for (const m of members) {
      await getExternalWorkflowHandle(workflowIds.patchTest(m.queueId)).signal(carriedBySignal, { carrier: input.queueId, by: go.by, policy: go.policy }).catch(() => undefined);
    }
    const result: DeploymentResult = await executeChild(productionDeploymentType, {
      workflowId: workflowIds.deployment(input.queueId),
      args: [{
        queueId: input.queueId, advisoryName: info.advisoryName, errataId: info.uyuniErrataId, targetOs: info.targetOs,
        requiresReboot: info.requiresReboot, requestedBy: go.by, policy: go.policy, timing: input.timing, ...(members.length ? { members } : {}),
      }],
      // A rollout in progress must not die with its parent.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: SA.queueId, value: input.queueId },
        { key: SA.advisoryName, value: info.advisoryName },
        { key: SA.targetOs, value: info.targetOs },
        { key: SA.patchStatus, value: 'promoting' },
      ],
    });
    for (const m of members) {
      // A member whose workflow is gone has nothing to wait for: its queue status already follows the rollout.
      await getExternalWorkflowHandle(workflowIds.patchTest(m.queueId)).signal(carriedRolloutDoneSignal, result).catch(() => undefined);
    }
    return result;
  }
}
