// `fenced-lock/cdk`: the constructs. Kept apart from the library entry so that a Lambda using
// the client never loads aws-cdk-lib.
export { LockService, LockOperation, type LockServiceProps } from './lock-service.js';
export { type LockScope } from './lock-scope.js';
export { LockApiType } from './api-type.js';
export { DASHBOARD_WIDGETS, type LockDashboardProps } from './lock-dashboard.js';
export { LockedSection, type LockedSectionProps } from './locked-section.js';
export { LockServiceStack, type LockServiceStackProps } from './lock-service-stack.js';
export { METRIC_NAMES, type MetricName } from '../contract/metric-names.js';
