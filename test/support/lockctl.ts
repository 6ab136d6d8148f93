import { type ChildProcess, spawn } from 'node:child_process';
import { endpoint } from './dynamodb.js';

/** The installed lockctl, as the package builds it. */
export const LOCKCTL = new URL('../../dist/cli/main.js', import.meta.url).pathname;

export interface LockctlRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Starts `lockctl ARGS...` as given (the caller names the transport), with `env` added to the
 * environment.
 */
export function spawnLockctl(args: string[], env: NodeJS.ProcessEnv = {}): LockctlRun {
  const child = spawn(process.execPath, [LOCKCTL, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  return collect(child);
}

/**
 * Starts `lockctl VERB LOCKID --table T --dynamodb-endpoint E REST...` against DynamoDB Local
 * (the table flags go before REST, which may hold `-- COMMAND`).
 */
export function startLockctl(args: string[], tableName: string): LockctlRun {
  const child = spawn(
    process.execPath,
    [
      LOCKCTL,
      ...args.slice(0, 2),
      '--table',
      tableName,
      '--dynamodb-endpoint',
      endpoint(),
      ...args.slice(2),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  return collect(child);
}

function collect(child: ChildProcess): LockctlRun {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, done };
}
