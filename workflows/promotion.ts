import { ApplicationFailure, condition, executeChild, ParentClosePolicy, setHandler, workflowInfo } from '@temporalio/workflow';
import type { TestInfo } from '../activities/patch-test/index.js';
import { deployUpdate, SA, workflowIds, type DeploymentPlanPolicy, type DeploymentResult, type PatchTestInput } from './messages.js';
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
  private request: { by: string; policy: DeploymentPlanPolicy } | null = null;
  private recording = false;

  constructor(
    private readonly queueId: number,
    private readonly acts: TestActivityStubs,
    private readonly view: TestView,
  ) {
    setHandler(
      deployUpdate,
      async (d) => {
        this.recording = true;
        try {
          await this.acts.record.recordDeploymentRequest({
            queueId: this.queueId, workflowId: workflowIds.deployment(this.queueId), by: d.by, policy: d.policy,
            requestId: d.requestId ?? `${workflowInfo().workflowId}/deploy`, source: d.source ?? 'api',
          });
        } catch (err) {
          throw ApplicationFailure.nonRetryable(`the deployment request could not be recorded, so nothing was started: ${reasonOf(err)}`, 'DeploymentNotRecorded');
        } finally {
          this.recording = false;
        }
        this.request = d;
        return { workflowId: workflowIds.deployment(this.queueId) };
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
    return executeChild(productionDeploymentType, {
      workflowId: workflowIds.deployment(input.queueId),
      args: [{
        queueId: input.queueId, advisoryName: info.advisoryName, errataId: info.uyuniErrataId, targetOs: info.targetOs,
        requiresReboot: info.requiresReboot, requestedBy: go.by, policy: go.policy, timing: input.timing,
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
  }
}
