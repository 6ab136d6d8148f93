import type { ApiKind } from '../contract/http.js';

/**
 * Which kind of API Gateway API fronts the lock service's handler. Both serve the same routes,
 * bodies and status codes with IAM (SigV4) authorization on every route; see
 * docs/http-api-v2.md for how they differ.
 *
 * @example
 * new LockService(this, 'Locks', { apiType: LockApiType.HTTP });
 */
export enum LockApiType {
  /**
   * A REST API (API Gateway v1): request validation at the edge, X-Ray tracing of the stage,
   * gateway responses in the API's error shape, and any lock id (a `/` or `%` included).
   */
  REST = 'rest',
  /**
   * An HTTP API (API Gateway v2, payload format 2.0): under a third of the REST API's price per
   * request (bench/prices.json), without X-Ray tracing of the stage or body checks at the edge.
   * API Gateway decodes the path before routing, so lock ids must not contain `/` or `%`.
   */
  HTTP = 'http',
}

// Each kind the handler and the local server serve has its member here, and nothing else does.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const LOCK_API_TYPE_IS_THE_CONTRACT: Same<`${LockApiType}`, ApiKind> = true;
void LOCK_API_TYPE_IS_THE_CONTRACT;
