// The package tests' session, opened by the jest global setup: the tarball is packed once, and
// one DynamoDB Local serves every consumer; the teardown prints the figures and leaves nothing
// behind (no temporary folder, no tarball in the repository, no Java process).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../../local/dynamodb-local.js';
import { formatFigures, writeFigure } from './figures.js';

const REPO = new URL('../../..', import.meta.url).pathname;

export interface PackageSession {
  close(): Promise<void>;
}

/**
 * `npm pack` exactly as `npm publish` would (its prepack builds dist/), into the session root.
 * NODE_OPTIONS is jest's (--experimental-vm-modules), not the build's.
 */
async function pack(root: string): Promise<{ tarball: string; seconds: number }> {
  const started = performance.now();
  const { stdout, stderr } = await promisify(execFile)(
    'npm',
    ['pack', '--pack-destination', root, '--json'],
    {
      cwd: REPO,
      env: { ...process.env, NODE_OPTIONS: '' },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  // Lifecycle scripts may print before the JSON; the JSON array is the end of stdout.
  const [entry] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as { filename: string }[];
  writeFileSync(join(root, 'pack.json'), JSON.stringify(entry, null, 2));
  writeFileSync(join(root, 'pack.stderr'), stderr);
  return { tarball: join(root, entry.filename), seconds: (performance.now() - started) / 1000 };
}

export async function openSession(): Promise<PackageSession> {
  const started = performance.now();
  const root = mkdtempSync(join(tmpdir(), 'fenced-lock-package-'));
  const [packed, db] = await Promise.allSettled([pack(root), startDynamoDbLocal()]);
  const dynamoDb: DynamoDbLocal | undefined = db.status === 'fulfilled' ? db.value : undefined;
  const close = async () => {
    process.stdout.write(formatFigures(root, (performance.now() - started) / 1000));
    await dynamoDb?.stop();
    rmSync(root, { recursive: true, force: true });
  };
  if (packed.status === 'rejected' || !dynamoDb) {
    await close();
    throw packed.status === 'rejected' ? packed.reason : (db as PromiseRejectedResult).reason;
  }
  process.env.PACKAGE_TEST_ROOT = root;
  process.env.PACKAGE_TEST_TARBALL = packed.value.tarball;
  process.env.PACKAGE_TEST_DYNAMODB_ENDPOINT = dynamoDb.endpoint;
  writeFigure(root, {
    stage: 'npm pack (prepack build)',
    seconds: packed.value.seconds,
    details: [],
  });
  return { close };
}
