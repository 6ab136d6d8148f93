import {
  DeleteCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  type PutCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';

/** An AWS SDK v2 error as v2 callers test it: by `code`, not by class or `name`. */
export interface V2Error extends Error {
  code: string;
}

export type V2Callback<T> = (error: V2Error | null, data?: T) => void;

/** The part of the SDK v2 `DocumentClient` that `dynamodb-lock-client` calls. */
export interface V2DocumentClient {
  get(params: GetCommandInput, callback: V2Callback<{ Item?: Record<string, unknown> }>): void;
  put(params: PutCommandInput, callback: V2Callback<object>): void;
  update(params: UpdateCommandInput, callback: V2Callback<object>): void;
  delete(params: DeleteCommandInput, callback: V2Callback<object>): void;
}

const toV2Error = (err: unknown): V2Error => {
  const error = (err instanceof Error ? err : new Error(String(err))) as V2Error;
  error.code = error.name;
  return error;
};

/**
 * Presents a v3 `DynamoDBDocumentClient` with the SDK v2 `DocumentClient` callback interface, so
 * `dynamodb-lock-client` (which takes `get`/`put`/`delete` callbacks and reads `error.code`) runs
 * without aws-sdk v2. Each call sends exactly one v3 command, so request counts are unchanged.
 *
 * @example
 * const dynamodb = v2DocumentClient(localDocumentClient(endpoint));
 * const client = new FailOpen({ dynamodb, lockTable: 'locks', partitionKey: 'id', leaseDurationMs: 2000 });
 */
export function v2DocumentClient(doc: DynamoDBDocumentClient): V2DocumentClient {
  // `.then(ok, fail)`: an exception thrown by the caller's callback must not call it a second time.
  const call = <T>(send: Promise<T>, callback: V2Callback<T>): void => {
    send.then(
      (data) => callback(null, data),
      (err: unknown) => callback(toV2Error(err)),
    );
  };
  return {
    get: (params, callback) => call(doc.send(new GetCommand(params)), callback),
    put: (params, callback) => call(doc.send(new PutCommand(params)), callback),
    update: (params, callback) => call(doc.send(new UpdateCommand(params)), callback),
    delete: (params, callback) => call(doc.send(new DeleteCommand(params)), callback),
  };
}
