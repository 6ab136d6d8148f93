import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, test } from '@jest/globals';
import { dynamoClient, endpoint } from '../support/dynamodb.js';

const ROOT = new URL('../..', import.meta.url).pathname;

interface Cli {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the output once `pattern` appears; rejects if the process exits first. */
  waitFor: (pattern: RegExp) => Promise<RegExpExecArray>;
  /** The exit code, or the signal that ended npm (npm re-raises a signal it stopped for). */
  exited: Promise<number | NodeJS.Signals | null>;
}

/** Runs `npm start -- ARGS` in a process group of its own, as a terminal runs a command. */
function startCli(args: string[], env: Record<string, string>): Cli {
  const child = spawn('npm', ['start', '--silent', '--', ...args], {
    cwd: ROOT,
    detached: true,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      DYNAMODB_ENDPOINT: '',
      LOCK_TABLE_NAME: '',
      LOCK_DB_PATH: '',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  const outputEnded = Promise.all([
    new Promise((resolve) => child.stdout?.on('close', resolve)),
    new Promise((resolve) => child.stderr?.on('close', resolve)),
  ]);
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (match) {
          listeners.delete(check);
          resolve(match);
        }
      };
      listeners.add(check);
      check();
      // Output ends when every process writing it (npm, and the server it started) is gone.
      void outputEnded.then(() => {
        check();
        if (listeners.has(check)) reject(new Error(`exited before ${pattern}:\n${output}`));
      });
    });
  return { child, output: () => output, waitFor, exited };
}

/** Ends the CLI's process group if a test failed half-way, so nothing is left running. */
function cleanup(cli: Cli) {
  if (cli.child.exitCode === null && cli.child.pid) {
    try {
      process.kill(-cli.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

const javaOnPort = (port: string) =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('DynamoDBLocal.jar') && line.includes(`-port ${port}`));

describe('npm start (local/start.ts)', () => {
  test('serves the API over its own DynamoDB Local, the printed curl works, Ctrl-C stops both', async () => {
    const cli = startCli([], { PORT: '0' });
    try {
      const [, url] = await cli.waitFor(/Lock API listening on (http:\/\/localhost:\d+)/);
      const [, dbPort] = await cli.waitFor(
        /DynamoDB Local at http:\/\/127\.0\.0\.1:(\d+) \(in memory\)/,
      );
      const [curl] = await cli.waitFor(/curl -s -X POST \S+\/locks\/demo\/acquire .*/);
      expect(javaOnPort(dbPort)).toHaveLength(1);

      // The example exactly as printed.
      const grant = JSON.parse(execFileSync('sh', ['-c', curl], { encoding: 'utf8' })) as Record<
        string,
        unknown
      >;
      expect(grant).toMatchObject({ lockId: 'demo', owner: 'me', leaseMs: 30_000 });
      const state = (await (await fetch(`${url}/locks/demo`)).json()) as Record<string, unknown>;
      expect(state).toMatchObject({ held: true, owner: 'me', token: grant.token });

      // Ctrl-C in a terminal signals the whole foreground process group; npm must return
      // only once DynamoDB Local is gone.
      process.kill(-cli.child.pid!, 'SIGINT');
      expect(await cli.exited).toBe('SIGINT');
      expect(cli.output()).toMatch(/SIGINT: stopping...\nstopped\n/);
      expect(javaOnPort(dbPort)).toEqual([]);
      await expect(fetch(`${url}/locks/demo`)).rejects.toThrow();
    } finally {
      cleanup(cli);
    }
  });

  test('Ctrl-C to the process group returns only after DynamoDB Local has exited, every time', async () => {
    const dbPath = mkdtempSync(join(tmpdir(), 'npm-start-'));
    try {
      for (let run = 0; run < 3; run++) {
        const cli = startCli(['--db-path', dbPath], { PORT: '0' });
        try {
          const [, dbPort] = await cli.waitFor(/DynamoDB Local at http:\/\/127\.0\.0\.1:(\d+)/);
          await cli.waitFor(/Press Ctrl-C to stop/);
          process.kill(-cli.child.pid!, 'SIGINT');
          expect(await cli.exited).toBe('SIGINT');
          expect(cli.output()).toContain('stopped\n');
          expect(javaOnPort(dbPort)).toEqual([]);
        } finally {
          cleanup(cli);
        }
      }
    } finally {
      rmSync(dbPath, { recursive: true, force: true });
    }
  });

  test('--dynamodb-endpoint and --table use an existing DynamoDB and create the table; SIGTERM to npm stops it', async () => {
    const table = `cli-${randomUUID()}`;
    const cli = startCli(['--dynamodb-endpoint', endpoint(), '--table', table], { PORT: '0' });
    try {
      const [, url] = await cli.waitFor(/listening on (http:\/\/localhost:\d+)/);
      expect(cli.output()).toContain(`Table "${table}" on DynamoDB at ${endpoint()}`);
      const ddb = dynamoClient();
      try {
        const { Table } = await ddb.send(new DescribeTableCommand({ TableName: table }));
        expect(Table?.KeySchema).toEqual([{ AttributeName: 'lockId', KeyType: 'HASH' }]);
        const { TimeToLiveDescription } = await ddb.send(
          new DescribeTimeToLiveCommand({ TableName: table }),
        );
        expect(TimeToLiveDescription?.AttributeName).toBe('ttl');
      } finally {
        ddb.destroy();
      }
      const res = await fetch(`${url}/locks/cli/acquire`, {
        method: 'POST',
        body: '{"owner":"cli"}',
      });
      expect(res.status).toBe(200);
      // npm exits on SIGTERM at once; the server notices it is orphaned and stops its side.
      cli.child.kill('SIGTERM');
      expect(await cli.exited).toBe('SIGTERM');
      await cli.waitFor(/parent process gone: stopping...\nstopped\n/);
      await expect(fetch(`${url}/locks/cli`)).rejects.toThrow();
    } finally {
      cleanup(cli);
    }
  });

  test('a port in use fails with a message naming PORT', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    const cli = startCli(['--dynamodb-endpoint', endpoint()], { PORT: String(port) });
    try {
      expect(await cli.exited).toBe(1);
      expect(cli.output()).toContain(`port ${port} is in use: set PORT`);
    } finally {
      cleanup(cli);
      blocker.close();
    }
  });

  test('a bad flag fails with the usage text', async () => {
    const cli = startCli(['--no-such-flag'], {});
    try {
      expect(await cli.exited).toBe(2);
      expect(cli.output()).toContain('Usage: npm start');
    } finally {
      cleanup(cli);
    }
  });
});
