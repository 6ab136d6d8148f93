// Checks synthesized IAM policies with an independent evaluator (@cloud-copilot/iam-simulate):
// a CloudFormation template's policies are made concrete by a small, strict resolver, then each
// request is decided by the simulator. Anything the resolver or the simulator cannot take
// exactly throws, so that nothing silently becomes a wildcard or a condition silently drops out.
import { runSimulation } from '@cloud-copilot/iam-simulate';

/** The account and region of the stacks under test (literal, so ARNs need no pseudo parameters). */
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/** A CloudFormation template as synthesized (only what the resolver reads). */
export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** An IAM policy document, concrete (no intrinsics left). */
export type PolicyDocument = { Version?: string; Statement: unknown[] };

const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** Made-up ARNs (`Fn::GetAtt X.Arn`) by resource type: the logical id stands for the name. */
const ARN_BY_TYPE: Record<string, (id: string) => string> = {
  'AWS::DynamoDB::Table': (id) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}`,
  'AWS::Lambda::Function': (id) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`,
  'AWS::Logs::LogGroup': (id) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}:*`,
  'AWS::KMS::Key': (id) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`,
  'AWS::IAM::Role': (id) => `arn:aws:iam::${ACCOUNT}:role/${id}`,
};

/** What `Ref X` returns, by resource type (CloudFormation's documented return values). */
const REF_BY_TYPE: Record<string, (id: string, props: Record<string, unknown>) => string> = {
  'AWS::ApiGateway::RestApi': (id) => id, // the API id
  'AWS::ApiGatewayV2::Api': (id) => id, // the API id
  'AWS::ApiGateway::Stage': (_id, props) => stringProperty(props, 'StageName'),
  'AWS::IAM::Role': (id) => id, // the role name
  'AWS::Lambda::Function': (id) => id, // the function name
  'AWS::DynamoDB::Table': (id) => id, // the table name
};

function stringProperty(props: Record<string, unknown>, name: string): string {
  const value = props[name];
  if (typeof value !== 'string') throw new Error(`resolver: ${name} is not a literal string`);
  return value;
}

/**
 * Turns a template value into a concrete one: `Ref`, `Fn::GetAtt [X, 'Arn']`, `Fn::Join` and
 * `Fn::Sub` (pseudo parameters, `${X}`, `${X.Arn}`). Any other intrinsic, a resource type
 * without a made-up ARN, or an unknown logical id throws.
 */
export function resolveValue(template: CfnTemplate, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveValue(template, v));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const intrinsic = entries.find(([key]) => key === 'Ref' || key.startsWith('Fn::'));
  if (!intrinsic) {
    return Object.fromEntries(entries.map(([k, v]) => [k, resolveValue(template, v)]));
  }
  if (entries.length !== 1) throw new Error(`resolver: ${intrinsic[0]} beside other keys`);
  const [name, arg] = intrinsic;
  switch (name) {
    case 'Ref':
      return ref(template, arg);
    case 'Fn::GetAtt': {
      const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
      return getAtt(template, String(id), String(attribute));
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2 || !Array.isArray(arg[1])) {
        throw new Error('resolver: Fn::Join takes [separator, [values]]');
      }
      return arg[1].map((part) => asString(resolveValue(template, part))).join(String(arg[0]));
    }
    case 'Fn::Sub':
      return sub(template, arg);
    default:
      throw new Error(`resolver: unknown intrinsic ${name}`);
  }
}

function asString(value: unknown): string {
  if (typeof value !== 'string')
    throw new Error(`resolver: not a string: ${JSON.stringify(value)}`);
  return value;
}

function resourceOf(template: CfnTemplate, id: string) {
  const resource = template.Resources[id];
  if (!resource) throw new Error(`resolver: no resource ${id}`);
  return resource;
}

function ref(template: CfnTemplate, arg: unknown): string {
  const id = asString(arg);
  if (id in PSEUDO_PARAMETERS) return PSEUDO_PARAMETERS[id]!;
  const resource = resourceOf(template, id);
  const refOf = REF_BY_TYPE[resource.Type];
  if (!refOf) throw new Error(`resolver: no Ref value for ${resource.Type} (${id})`);
  return refOf(id, resource.Properties ?? {});
}

function getAtt(template: CfnTemplate, id: string, attribute: string): string {
  const resource = resourceOf(template, id);
  const arnOf = ARN_BY_TYPE[resource.Type];
  if (attribute !== 'Arn' || !arnOf) {
    throw new Error(`resolver: no made-up value for ${resource.Type}.${attribute} (${id})`);
  }
  return arnOf(id);
}

function sub(template: CfnTemplate, arg: unknown): string {
  const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
  const vars = new Map(Object.entries((variables ?? {}) as Record<string, unknown>));
  return asString(text).replace(/\$\{([^}]*)\}/g, (_match, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    if (vars.has(name)) return asString(resolveValue(template, vars.get(name)));
    if (name.includes('.')) {
      const [id, attribute] = name.split('.', 2);
      return getAtt(template, id!, attribute!);
    }
    return ref(template, name);
  });
}

/**
 * The identity policies of the role with logical id `roleId`, concrete: its inline `Policies`
 * and every `AWS::IAM::Policy` / `AWS::IAM::ManagedPolicy` attached to it by `Ref`. A role with
 * managed policy ARNs throws (their content is not in the template).
 */
export function rolePolicies(template: CfnTemplate, roleId: string): PolicyDocument[] {
  const role = resourceOf(template, roleId);
  if (role.Type !== 'AWS::IAM::Role') throw new Error(`${roleId} is a ${role.Type}, not a role`);
  if (role.Properties?.ManagedPolicyArns) {
    throw new Error(`${roleId} has managed policy ARNs, whose statements are not in the template`);
  }
  const inline = ((role.Properties?.Policies ?? []) as { PolicyDocument: unknown }[]).map(
    (p) => p.PolicyDocument,
  );
  const attached = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
    .filter((r) =>
      ((r.Properties?.Roles ?? []) as unknown[]).some(
        (entry) => JSON.stringify(entry) === JSON.stringify({ Ref: roleId }),
      ),
    )
    .map((r) => r.Properties!.PolicyDocument);
  return [...inline, ...attached].map((doc) => resolveValue(template, doc) as PolicyDocument);
}

/** One request to decide: an action on one concrete resource, with its context keys. */
export interface IamRequest {
  /** How the request shows in a report, e.g. `dynamodb:UpdateItem on "team-b/job-1"`. */
  readonly label: string;
  readonly action: string;
  readonly resource: string;
  /** Request context keys, each multi-valued (e.g. `dynamodb:LeadingKeys`). */
  readonly context?: Record<string, string[]>;
  /** The resource's own policy, when the service needs one (a KMS key policy). */
  readonly resourcePolicy?: PolicyDocument;
}

/**
 * Whether IAM allows `principal`, holding `policies`, to make `request` (same account, no
 * SCPs). Throws when the simulator refuses the input, when the resource is not one concrete ARN,
 * or when it dropped a context key as not applying to the action (a misspelled or irrelevant key
 * would otherwise leave a condition unchecked).
 */
export async function isAllowed(
  principal: string,
  policies: readonly PolicyDocument[],
  request: IamRequest,
): Promise<boolean> {
  const response = await runSimulation(
    {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId: ACCOUNT },
        contextVariables: request.context ?? {},
      },
      identityPolicies: policies.map((policy, i) => ({ name: `policy${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    },
    {},
  );
  if (response.resultType === 'error') {
    throw new Error(`simulator refused ${request.label}: ${JSON.stringify(response.errors)}`);
  }
  if (response.resultType !== 'single') {
    throw new Error(`${request.label}: the resource must be one concrete ARN`);
  }
  const ignored = response.result.ignoredContextKeys ?? [];
  if (ignored.length > 0) {
    throw new Error(`${request.label}: the simulator ignored context keys ${ignored.join(', ')}`);
  }
  return response.overallResult === 'Allowed';
}

/**
 * Decides every request and returns where IAM disagrees with `expectedAllowed` (the labels of
 * the requests that must be allowed; all others must be denied), e.g.
 * `allowed, expected denied: dynamodb:PutItem on "team-a/job-1"`. Empty when the grant is exact.
 */
export async function mismatches(
  principal: string,
  policies: readonly PolicyDocument[],
  requests: readonly IamRequest[],
  expectedAllowed: ReadonlySet<string>,
): Promise<string[]> {
  const unknown = [...expectedAllowed].filter((label) => !requests.some((r) => r.label === label));
  if (unknown.length > 0) throw new Error(`expected labels not among the requests: ${unknown}`);
  const found: string[] = [];
  for (const request of requests) {
    const allowed = await isAllowed(principal, policies, request);
    if (allowed !== expectedAllowed.has(request.label)) {
      found.push(
        `${allowed ? 'allowed, expected denied' : 'denied, expected allowed'}: ${request.label}`,
      );
    }
  }
  return found;
}
