// The operators' CloudWatch dashboard of a LockService, built only from the service's own
// metricXxx() methods and resources, so the dashboard and the alarms read the same metrics.
// docs/operations.md says what each widget shows and what to do when it turns red.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { LockService } from './lock-service.js';

/** Options of {@link LockService.addDashboard}. */
export interface LockDashboardProps {
  /**
   * The dashboard's name.
   *
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;

  /**
   * The period of every graph.
   *
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
}

/** The widget titles, one fact each; the tests and docs/operations.md use these. */
export const DASHBOARD_WIDGETS = {
  alarms: 'Alarms',
  grants: 'Grants and takeovers',
  refusals: 'Refusals: held vs invalid',
  evictions: 'Force releases, lost leases, stale releases',
  waitTime: 'Wait time (acquires that wait), ms',
  latency: 'Handler latency p50 / p99, ms',
  functions: 'Functions: errors and throttles',
  api: 'API: requests, 4XX, 5XX',
  table: 'Table: throttled requests and system errors',
  cleanup: 'Execution cleanup: locks and permits freed',
} as const;

const WIDTH = 12;
const HEIGHT = 6;

/**
 * Builds the dashboard in `service`'s scope.
 *
 * @example const dashboard = createLockDashboard(locks, { dashboardName: 'locks' });
 */
export function createLockDashboard(
  service: LockService,
  props: LockDashboardProps = {},
): cloudwatch.Dashboard {
  const period = props.period ?? Duration.minutes(1);
  const sum = { period, statistic: 'Sum' };
  const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
    new cloudwatch.GraphWidget({ title, left, right, width: WIDTH, height: HEIGHT });
  const operations = [
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.SCAN,
  ];
  // Every handler the service has so far: scopes' and sections' functions made later are not on
  // it, so add the dashboard after the grants and sections (see LockService.addDashboard).
  const functions = [service.apiFunction, ...service.lockFunctions()];
  const name = (fn: (typeof functions)[number]) =>
    fn === service.apiFunction ? 'API function' : fn.node.id;

  const dashboard = new cloudwatch.Dashboard(service, 'Dashboard', {
    ...(props.dashboardName === undefined ? {} : { dashboardName: props.dashboardName }),
    defaultInterval: Duration.hours(3),
  });
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({
      title: DASHBOARD_WIDGETS.alarms,
      alarms: service.alarms,
      width: 24,
      height: 3,
    }),
  );
  dashboard.addWidgets(
    graph(DASHBOARD_WIDGETS.grants, [
      service.metricGrants(sum).with({ label: 'grants' }),
      service.metricTakeovers(sum).with({ label: 'takeovers' }),
      service.metricRegrants(sum).with({ label: 're-grants (retries)' }),
    ]),
    graph(DASHBOARD_WIDGETS.refusals, [
      service.metricRefusals(sum).with({ label: 'held (LockHeld)' }),
      service.metricInvalidRequests(sum).with({ label: 'invalid input (400)' }),
    ]),
  );
  dashboard.addWidgets(
    graph(DASHBOARD_WIDGETS.evictions, [
      service.metricForceReleases(sum).with({ label: 'force releases' }),
      service.metricLostLeases(sum).with({ label: 'lost leases' }),
      service.metricStaleReleases(sum).with({ label: 'stale releases' }),
    ]),
    graph(DASHBOARD_WIDGETS.waitTime, [
      service.metricWaitTime({ period, statistic: 'p50' }).with({ label: 'p50' }),
      service.metricWaitTime({ period, statistic: 'p99' }).with({ label: 'p99' }),
    ]),
  );
  dashboard.addWidgets(
    graph(DASHBOARD_WIDGETS.latency, [
      service.metricLatency({ period, statistic: 'p50' }).with({ label: 'p50' }),
      service.metricLatency({ period, statistic: 'p99' }).with({ label: 'p99' }),
    ]),
    graph(
      DASHBOARD_WIDGETS.functions,
      functions.map((fn) => fn.metricErrors(sum).with({ label: `${name(fn)} errors` })),
      [
        ...functions.map((fn) => fn.metricThrottles(sum).with({ label: `${name(fn)} throttles` })),
        service.metricInternalErrors(sum).with({ label: 'handler faults' }),
      ],
    ),
  );
  dashboard.addWidgets(
    graph(
      DASHBOARD_WIDGETS.api,
      [service.api.metricCount(sum).with({ label: 'requests' })],
      [
        service.api.metricClientError(sum).with({ label: '4XX' }),
        service.api.metricServerError(sum).with({ label: '5XX' }),
      ],
    ),
    // One metric per operation (the table's *ForOperations expressions would share ids).
    graph(
      DASHBOARD_WIDGETS.table,
      operations.map((operation) =>
        service.table
          .metricThrottledRequestsForOperation(operation, sum)
          .with({ label: `${operation} throttled` }),
      ),
      operations.map((operation) =>
        service.table
          .metric('SystemErrors', {
            ...sum,
            dimensionsMap: { TableName: service.table.tableName, Operation: operation },
          })
          .with({ label: `${operation} system errors` }),
      ),
    ),
  );
  dashboard.addWidgets(
    graph(DASHBOARD_WIDGETS.cleanup, [
      service.metricOwnerReleases(sum).with({ label: 'freed by the cleanup' }),
    ]),
  );
  return dashboard;
}
