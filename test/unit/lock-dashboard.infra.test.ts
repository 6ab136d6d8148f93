import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LockApiType } from '../../lib/cdk/api-type.js';
import { DASHBOARD_WIDGETS } from '../../lib/cdk/lock-dashboard.js';
import { LockService } from '../../lib/cdk/lock-service.js';
import { METRIC_NAMES } from '../../lib/contract/metric-names.js';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

interface Widget {
  type: string;
  properties: {
    title: string;
    metrics?: unknown[][];
    alarms?: unknown[];
    period?: number;
  };
}

/** A stack with a service and its dashboard, and the dashboard's body as CloudFormation has it. */
function synth(apiType: LockApiType) {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'Dash');
  const locks = new LockService(stack, 'Locks', { apiType });
  const dashboard = locks.addDashboard({ dashboardName: 'locks-ops', period: Duration.minutes(2) });
  const template = Template.fromStack(stack);
  const [resource] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  // The body is an Fn::Join of literal text and references: the references become "<ref>".
  const parts = (resource!.Properties as { DashboardBody: { 'Fn::Join': [string, unknown[]] } })
    .DashboardBody['Fn::Join'][1];
  const body = parts.map((part) => (typeof part === 'string' ? part : '"<ref>"')).join('');
  const widgets = (JSON.parse(body.replace(/""<ref>""/g, '"<ref>"')) as { widgets: Widget[] })
    .widgets;
  return { app, stack, locks, dashboard, template, resource: resource!, widgets };
}

/** The metric names a widget graphs (each metric row is [namespace, name, ...dims, options]). */
const metricNames = (widget: Widget) =>
  (widget.properties.metrics ?? []).map((row) =>
    row.find((c) => typeof c === 'string' && !c.includes('/') && c !== 'service'),
  );

describe.each([LockApiType.REST, LockApiType.HTTP])(
  'LockService.addDashboard, %s API',
  (apiType) => {
    it('has one widget per entry of DASHBOARD_WIDGETS, titled as documented', () => {
      const { widgets, resource } = synth(apiType);
      expect((resource.Properties as { DashboardName: string }).DashboardName).toBe('locks-ops');
      expect(widgets.map((w) => w.properties.title).sort()).toEqual(
        Object.values(DASHBOARD_WIDGETS).sort(),
      );
    });

    it('graphs the service metrics the handlers emit, from the service namespace', () => {
      const { widgets, locks } = synth(apiType);
      const byTitle = (title: string) => widgets.find((w) => w.properties.title === title)!;
      const json = (title: string) => JSON.stringify(byTitle(title));
      for (const [title, names] of [
        [DASHBOARD_WIDGETS.grants, [METRIC_NAMES.grants, METRIC_NAMES.takeovers]],
        [DASHBOARD_WIDGETS.refusals, [METRIC_NAMES.refusals, METRIC_NAMES.invalidRequests]],
        [DASHBOARD_WIDGETS.evictions, [METRIC_NAMES.forceReleases, METRIC_NAMES.lostLeases]],
        [DASHBOARD_WIDGETS.waitTime, [METRIC_NAMES.waitTime]],
        [DASHBOARD_WIDGETS.latency, [METRIC_NAMES.latency]],
        [DASHBOARD_WIDGETS.cleanup, [METRIC_NAMES.ownerReleases]],
      ] as const) {
        for (const name of names) expect(json(title)).toContain(`"${name}"`);
        expect(json(title)).toContain(`"${locks.metricsNamespace}"`);
        expect(json(title)).toContain(`"${locks.serviceName}"`);
        expect(metricNames(byTitle(title)).length).toBeGreaterThan(0);
      }
      expect(json(DASHBOARD_WIDGETS.latency)).toContain('"p50"');
      expect(json(DASHBOARD_WIDGETS.latency)).toContain('"p99"');
      expect(json(DASHBOARD_WIDGETS.waitTime)).toContain('"p99"');
      expect(json(DASHBOARD_WIDGETS.functions)).toContain('"Errors"');
      expect(json(DASHBOARD_WIDGETS.functions)).toContain('"Throttles"');
      expect(json(DASHBOARD_WIDGETS.api)).toContain('"5XX"');
      expect(json(DASHBOARD_WIDGETS.api)).toContain('"4XX"');
      expect(json(DASHBOARD_WIDGETS.table)).toContain('ThrottledRequests');
      // Every graph at the period asked for.
      for (const widget of widgets.filter((w) => w.type === 'metric')) {
        expect(JSON.stringify(widget)).toContain('"period":120');
      }
    });

    it('shows every alarm of the service', () => {
      const { widgets, template } = synth(apiType);
      const alarms = widgets.find((w) => w.properties.title === DASHBOARD_WIDGETS.alarms)!;
      expect(alarms.type).toBe('alarm');
      expect(alarms.properties.alarms).toHaveLength(
        Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length,
      );
    });

    it('keeps cdk-nag clean', () => {
      const { app, locks } = synth(apiType);
      const { violations } = new AwsSolutionsChecks().validateScope(app);
      expect(violations.map((v) => `${v.ruleName}: ${v.description}`)).toEqual([]);
      expect(locks.node.tryFindChild('Dashboard')).toBeDefined();
    });
  },
);
