// API requests as API Gateway delivers them after IAM (SigV4) authorization, with the caller's
// ARN where each API kind puts it, for handler tests of scopes and bound owners.
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ApiHandler } from '../../lambdas/http/api.js';
import type { ApiKind } from '../../lib/contract/http.js';
import { toApiEvent } from '../../local/api-events.js';
import { lambdaContext } from '../../local/lambda-context.js';

/** What a signed call answered: the status, the parsed body and the raw body. */
export interface SignedAnswer {
  status: number;
  body: Record<string, unknown>;
  raw: string;
}

/**
 * Sends `handler` one request of `caller` (an IAM ARN; none, as on the local server, when
 * undefined) in `kind`'s event format: REST `requestContext.identity.userArn`, HTTP API
 * `requestContext.authorizer.iam.userArn`.
 *
 * @example await signedCall(handler, 'rest', roleSessionArn, 'GET', '/locks/a%3Ab')
 */
export async function signedCall(
  handler: ApiHandler,
  kind: ApiKind,
  caller: string | undefined,
  method: string,
  url: string,
  body?: unknown,
): Promise<SignedAnswer> {
  const event = toApiEvent(kind, {
    method,
    url,
    rawHeaders: body === undefined ? [] : ['content-type', 'application/json'],
    body: body === undefined ? null : JSON.stringify(body),
    requestId: 'req-signed',
  });
  if (caller !== undefined && kind === 'http') {
    const v2 = event as APIGatewayProxyEventV2;
    Object.assign(v2.requestContext, { authorizer: { iam: { userArn: caller } } });
  } else if (caller !== undefined) {
    const v1 = event as APIGatewayProxyEvent;
    v1.requestContext.identity = { ...v1.requestContext.identity, userArn: caller };
  }
  const res = await handler(event as never, lambdaContext('signed', 29_000, 'req-signed'));
  return {
    status: res.statusCode,
    body: JSON.parse(res.body) as Record<string, unknown>,
    raw: res.body,
  };
}
