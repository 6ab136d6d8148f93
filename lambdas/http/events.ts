// Edge adapter: an API Gateway proxy event of either API kind -> the one request shape the router
// and the parser read. Everything that differs between a REST API (v1) and an HTTP API (payload
// format 2.0) event is settled here, and nowhere else.
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { isResource } from '../../lib/contract/http.js';

/** A proxy event from a REST API (v1) or an HTTP API (payload format 2.0). */
export type ApiEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/** One HTTP request, whichever kind of API Gateway API sent it. */
export interface ApiRequest {
  /** `GET`, `POST`, ... as the client sent it. */
  method: string;
  /** The path below the stage (what {@link matchPath} reads when no route matched). */
  path: string;
  /** The contract route API Gateway matched, with its `{lockId}` segment, if it matched one. */
  route?: { resource: string; lockId: string };
  /**
   * True when API Gateway has already percent-decoded `path` and the route's lock id (HTTP
   * API); false when they are still percent-encoded (REST API).
   */
  pathDecoded: boolean;
  /** The query string's parameters, decoded (a repeated one as API Gateway joins it). */
  query: Record<string, string>;
  body: string | null;
  isBase64Encoded: boolean;
  /** API Gateway's request id, named in 500 answers. */
  requestId?: string;
  /**
   * The IAM-authorized caller's ARN (REST `requestContext.identity.userArn`, HTTP API
   * `requestContext.authorizer.iam.userArn`); absent without IAM (the local server).
   */
  callerArn?: string;
}

// Own entries only, copied as data: the names are the caller's, checked by whoever reads them.
const queryOf = (
  parameters: Record<string, string | undefined> | null | undefined,
): Record<string, string> =>
  Object.fromEntries(
    Object.entries(parameters ?? {}).filter((entry): entry is [string, string] => {
      return typeof entry[1] === 'string';
    }),
  );

const isV2 = (event: ApiEvent): event is APIGatewayProxyEventV2 =>
  (event as { version?: unknown }).version === '2.0';

/**
 * Reads either event format into an {@link ApiRequest}.
 *
 * REST API (v1): `resource` and `pathParameters.lockId` name the matched route, the lock id still
 * percent-encoded, as `path` is (this is what the handler has always relied on).
 *
 * HTTP API (v2), relied on as follows:
 * - `routeKey` is `"METHOD /resource"` for a matched route and `$default` otherwise, and the
 *   method is `requestContext.http.method` (payload format 2.0:
 *   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
 * - Path parameters arrive decoded: "API Gateway decodes URL-encoded request parameters before
 *   passing them to your backend integration"
 *   (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html).
 *   `rawPath` is decoded too, despite its name (a captured event: `/a%2Fb` arrives as
 *   `rawPath: "/a/b"`, fastify/aws-lambda-fastify#169), and routes are matched on the decoded
 *   path, so a `%2F` in a lock id splits it into two segments before any route sees it. The
 *   handler therefore never decodes a v2 lock id again (docs/http-api-v2.md has the
 *   consequences for lock ids).
 * - On a named stage `rawPath` starts with `/<stage>` (aws-powertools/powertools-lambda-python#621);
 *   on `$default` it does not. Only the `$default` route reads `rawPath`, for 404 and 405.
 *
 * @example
 * const request = toApiRequest(event); // { method: 'POST', path: '/locks/a/acquire', ... }
 */
export function toApiRequest(event: ApiEvent): ApiRequest {
  if (isV2(event)) {
    // Read defensively: a hand-made test event may lack parts a real one always has.
    const context: Partial<APIGatewayProxyEventV2['requestContext']> = event.requestContext ?? {};
    const rawPath = event.rawPath ?? '';
    const prefix = context.stage && context.stage !== '$default' ? `/${context.stage}` : '';
    const path =
      prefix && rawPath.startsWith(`${prefix}/`) ? rawPath.slice(prefix.length) : rawPath;
    const routeKey = event.routeKey ?? '';
    const resource = routeKey.slice(routeKey.indexOf(' ') + 1);
    const lockId = event.pathParameters?.lockId;
    return {
      method: context.http?.method ?? '',
      path,
      ...(isResource(resource) && lockId !== undefined ? { route: { resource, lockId } } : {}),
      pathDecoded: true,
      query: queryOf(event.queryStringParameters),
      body: event.body ?? null,
      isBase64Encoded: event.isBase64Encoded ?? false,
      requestId: context.requestId,
      ...stringField('callerArn', (context as IamAuthorized).authorizer?.iam?.userArn),
    };
  }
  const lockId = event.pathParameters?.lockId;
  return {
    method: event.httpMethod ?? '',
    path: event.path ?? '',
    ...(isResource(event.resource) && lockId !== undefined
      ? { route: { resource: event.resource, lockId } }
      : {}),
    pathDecoded: false,
    query: queryOf(event.queryStringParameters),
    body: event.body ?? null,
    isBase64Encoded: event.isBase64Encoded ?? false,
    requestId: event.requestContext?.requestId,
    ...stringField('callerArn', event.requestContext?.identity?.userArn),
  };
}

/** An IAM-authorized HTTP API request's context (the plain v2 type leaves the authorizer out). */
type IamAuthorized = { authorizer?: { iam?: { userArn?: unknown } } };

const stringField = (name: 'callerArn', value: unknown): Partial<ApiRequest> =>
  typeof value === 'string' && value !== '' ? { [name]: value } : {};
