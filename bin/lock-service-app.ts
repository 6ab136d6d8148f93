import { App, type AppProps, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LockApiType } from '../lib/cdk/api-type.js';
import { LockServiceStack } from '../lib/cdk/lock-service-stack.js';

/**
 * Context key choosing what happens to the table and logs when the stack is deleted:
 * `retain` (the default) or `destroy` (for throwaway stacks).
 *
 * @example
 * // npx cdk deploy -c lockService:removalPolicy=destroy
 * createLockServiceApp({ context: { [REMOVAL_POLICY_CONTEXT]: 'destroy' } });
 */
export const REMOVAL_POLICY_CONTEXT = 'lockService:removalPolicy';

/**
 * Context key choosing the API in front of the handler: `rest` (the default) or `http` (an API
 * Gateway HTTP API, see `LockApiType`).
 *
 * @example
 * // npx cdk synth -c lockService:apiType=http
 * createLockServiceApp({ context: { [API_TYPE_CONTEXT]: 'http' } });
 */
export const API_TYPE_CONTEXT = 'lockService:apiType';

/**
 * The deployable app and its stack, as `bin/lock-service.ts` and the tests build them.
 *
 * @example
 * const { app, stack }: LockServiceApp = createLockServiceApp();
 */
export interface LockServiceApp {
  /** The CDK app, with cdk-nag's AwsSolutions checks registered. */
  readonly app: App;
  /** The lock service stack (construct id `LockService`). */
  readonly stack: LockServiceStack;
}

/**
 * Builds the app: one `LockService` stack (no account or region, so it synthesizes offline)
 * checked by cdk-nag's AwsSolutions rules at synth, which fails on any unacknowledged finding.
 *
 * @example
 * const { app } = createLockServiceApp();
 * app.synth(); // throws listing the rule ids if cdk-nag finds anything
 */
export function createLockServiceApp(props: AppProps = {}): LockServiceApp {
  const app = new App(props);
  const stack = new LockServiceStack(app, 'LockService', {
    lockService: {
      removalPolicy: removalPolicyFrom(app.node.tryGetContext(REMOVAL_POLICY_CONTEXT)),
      apiType: apiTypeFrom(app.node.tryGetContext(API_TYPE_CONTEXT)),
    },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

function removalPolicyFrom(value: unknown): RemovalPolicy {
  if (value === undefined || value === 'retain') return RemovalPolicy.RETAIN;
  if (value === 'destroy') return RemovalPolicy.DESTROY;
  throw new Error(
    `context ${REMOVAL_POLICY_CONTEXT} must be "retain" or "destroy", got ${String(value)}`,
  );
}

function apiTypeFrom(value: unknown): LockApiType {
  if (value === undefined) return LockApiType.REST;
  const known = Object.values(LockApiType) as unknown[];
  if (known.includes(value)) return value as LockApiType;
  throw new Error(
    `context ${API_TYPE_CONTEXT} must be ${known.join(' or ')}, got ${String(value)}`,
  );
}
