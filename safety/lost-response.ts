// The lost-response fault: the request reaches DynamoDB and is applied, then the answer is
// thrown away before the caller sees it, as a timeout or a dropped connection would. The
// client only sees an error and must retry; the harness keeps what really happened.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { HiddenOutcome } from './history.js';

/**
 * What a client sees when the response was lost; `hidden` is for the history only.
 *
 * @example
 * catch (err) { if (err instanceof LostResponse) record('info', err.hidden); }
 */
export class LostResponse extends Error {
  constructor(
    readonly hidden: HiddenOutcome,
    options?: ErrorOptions,
  ) {
    super('the response was lost after the request was applied', options);
    this.name = 'LostResponse';
  }
}

interface UpdateInput {
  TableName?: string;
  UpdateExpression?: string;
  ExpressionAttributeValues?: Record<string, unknown>;
}

/** Reads what an applied UpdateItem did, from its (unmarshalled) input and output. */
function outcomeOf(
  input: UpdateInput,
  output: { Attributes?: Record<string, unknown> },
): HiddenOutcome {
  const expression = input.UpdateExpression ?? '';
  const values = input.ExpressionAttributeValues ?? {};
  const permit = permitOutcome(expression, values, output);
  if (permit) return permit;
  // A waiter's slot write (claim, heartbeat, leave) grants nothing: an acquire that lost it
  // grants nothing either.
  if (/^(SET|REMOVE) #waiter/.test(expression)) return {};
  if (expression.includes('#owner = :owner')) {
    // acquire: the new token is the old counter (or the clock, for a new item) plus one.
    const old = output.Attributes?.token;
    const base = typeof old === 'number' ? old : Number(values[':now']);
    return { token: base + 1, expiresAt: Number(values[':expiresAt']) };
  }
  if (expression.startsWith('REMOVE #owner')) return { released: true };
  // A fenced write sets more than the fence; a claim (fenced read) sets only the fence.
  if (expression.includes(',')) return { applied: true };
  return {};
}

/**
 * What an applied semaphore write did, or undefined for any other write: taking a permit (a
 * free entry or an expired one replaced, both answering the new counter; or the semaphore
 * created with its first permit, whose token the request itself carries), or releasing one.
 */
function permitOutcome(
  expression: string,
  values: Record<string, unknown>,
  output: { Attributes?: Record<string, unknown> },
): HiddenOutcome | undefined {
  const entry = values[':entry'] as { expiresAt?: number } | undefined;
  if (entry !== undefined) {
    return { token: Number(output.Attributes?.token), expiresAt: Number(entry.expiresAt) };
  }
  const created = values[':holders'] as Record<string, { expiresAt?: number }> | undefined;
  if (created !== undefined) {
    const [first] = Object.values(created);
    return { token: Number(values[':token']), expiresAt: Number(first?.expiresAt) };
  }
  if (expression.startsWith('REMOVE #holders.#me')) return { released: true };
  return undefined;
}

/**
 * Makes `client` lose the response of a successful UpdateItem with probability `rate`. Sits at
 * the outermost step, so the SDK's own retries have finished and the output is unmarshalled.
 *
 * @example
 * loseResponses(ddb, 0.1, seededRandom(7));
 */
export function loseResponses(client: DynamoDBClient, rate: number, random: () => number): void {
  if (rate <= 0) return;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'UpdateItemCommand' && random() < rate) {
        throw new LostResponse(
          outcomeOf(
            args.input as UpdateInput,
            result.output as { Attributes?: Record<string, unknown> },
          ),
        );
      }
      return result;
    },
    { step: 'initialize', priority: 'high', name: 'safetyLostResponse' },
  );
}
