import { spawn } from 'node:child_process';

export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node --import tsx ARGS...` in a fresh process (TypeScript allowed) and collects its output. */
export function runNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a TypeScript script in a fresh Node process and resolves with its exit and output. */
export const runTs = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  runNode([script, ...args], env);

/** How a process run with {@link runWithLocalAws} ended, with its timing. */
export interface TimedRun {
  code: number | null;
  stdout: string;
  startedAt: number;
  exitedAt: number;
}

/**
 * Runs `node ARGS...` as a user's program would run, with the AWS SDK's standard environment
 * pointing it at the test DynamoDB Local, and times it to its exit.
 */
export function runWithLocalAws(args: string[], dynamodbEndpoint: string): Promise<TimedRun> {
  const env = {
    ...process.env,
    NODE_OPTIONS: '',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    AWS_REGION: 'local',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
  const startedAt = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, startedAt, exitedAt: Date.now() }));
  });
}
