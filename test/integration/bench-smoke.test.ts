import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAMBDA_PATHS } from '../../bench/lambda-paths.js';
import { SYSTEM_KEYS } from '../../bench/lock-systems.js';
import type { BenchResults } from '../../bench/report.js';
import { endpoint } from '../support/dynamodb.js';
import { runTs } from '../support/run-node.js';

const bench = new URL('../../bench/run.ts', import.meta.url).pathname;

// Proves the benchmark code runs end to end with every system; the figures themselves are
// only checked for sanity (speed is judged by a real `npm run bench`, never by a test).
it('runs the whole benchmark briefly and reports every system with sane figures', async () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  try {
    const run = await runTs(bench, [
      '--endpoint',
      endpoint(),
      '--out',
      out,
      '--duration',
      '0.4',
      '--rtt-ms',
      '0,2',
      '--contended-duration',
      '0.6',
      '--rounds',
      '1',
      '--warmup',
      '0',
      '--workers',
      '4',
      '--contended-workers',
      '3',
      '--mixed-duration',
      '0.8',
      '--mixed-callers',
      '4',
      '--mixed-processes',
      '2',
      '--lease-ms',
      '1000',
      '--cost-cycles',
      '5',
      '--load-runs',
      '1',
      '--skip',
      'peer-defaults',
      '--list-locks',
      '200',
    ]);
    expect(run.stderr).not.toMatch(/not measured/);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('dynamodb-lock-client');
    expect(run.stdout).toMatch(/list \(a Scan of the whole table\): 200 locks/);
    expect(run.stdout).toMatch(/page size {2}100: [\d.]+ Scan requests, [\d.]+ read units/);
    expect(readFileSync(join(out, 'chart.svg'), 'utf8')).toMatch(/^<svg[^]*<\/svg>\n$/);
    const results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchResults;

    expect(results.unavailable).toEqual({});
    expect(results.uncontended.map((run) => run.rttMs)).toEqual([0, 2]);
    for (const key of SYSTEM_KEYS) {
      for (const scenario of results.uncontended.flatMap((u) => [
        u.single,
        u.reacquire,
        u.concurrent,
      ])) {
        const r = scenario[key]!;
        expect(r.errors).toBe(0);
        expect(r.cycles).toBeGreaterThan(0);
        expect(r.acquire.p50).toBeGreaterThan(0);
        expect(r.acquire.p99).toBeGreaterThanOrEqual(r.acquire.p50);
        expect(r.release.p99).toBeGreaterThanOrEqual(r.release.p50);
      }
      const contended = results.contended[key]!;
      expect(contended.grants).toBeGreaterThan(0);
      expect(contended.overlaps).toBe(0);
      expect(contended.grantsPerWorker.reduce((a, b) => a + b, 0)).toBe(contended.grants);
      expect(contended.wait.count).toBeGreaterThanOrEqual(contended.grants);

      const takeover = results.takeover[key]!;
      expect(takeover.error).toBeUndefined();
      // Nobody may take over a dead holder's lock before its lease has run out.
      expect(takeover.afterLeaseEndMs).toBeGreaterThanOrEqual(0);

      for (const cost of Object.values(results.cost)) expect(cost[key]!.cycles).toBe(5);
    }
    // Ours: one write per acquire and per release, no reads, through the library and the API.
    for (const key of ['library', 'http'] as const) {
      for (const cost of Object.values(results.cost)) {
        expect(cost[key]).toMatchObject({
          acquire: { reads: 0, writes: 1 },
          release: { reads: 0, writes: 1 },
          perCycle: { total: 2 },
        });
      }
    }
    // The peer reads before it writes: get + put to acquire, put to release.
    expect(results.cost.newLock['dynamodb-lock-client']).toMatchObject({
      acquire: { reads: 1, writes: 1 },
      release: { reads: 0, writes: 1 },
    });

    // Each Lambda path: timed handler calls, one write per invocation, no reads.
    for (const path of LAMBDA_PATHS) {
      expect(results.lambdaPaths[path]).toMatchObject({
        cycles: 5,
        rttMs: 2,
        errors: 0,
        perCycle: { invocations: 2, writes: 2, reads: 0, readUnits: 0 },
      });
      expect(results.lambdaPaths[path]!.acquire.p50).toBeGreaterThan(0);
    }
    // A million cycles cost most behind a REST API and least on DynamoDB directly.
    const total = (key: string) => results.costPerMillion.find((l) => l.key === key)!.total;
    expect(results.costPerMillion).toHaveLength(6);
    expect(total('library')).toBeLessThan(total('direct'));
    expect(total('direct')).toBeLessThan(total('http'));
    expect(total('http')).toBeLessThan(total('rest'));
    for (const peer of ['dynamodb-lock-client', 'deliveryhero']) {
      expect(total('library')).toBeLessThan(total(peer));
    }
    expect(run.stdout).toContain('HTTP API + Lambda');

    // Contention across processes: each worker its own process and client, as Lambdas are.
    expect(Object.keys(results.contendedProcesses).sort()).toEqual(
      ['dynamodb-lock-client', 'deliveryhero', 'library'].sort(),
    );
    for (const p of Object.values(results.contendedProcesses)) {
      expect(p).toMatchObject({ processes: 3, callers: 3, rttMs: 4, errors: 0, overlaps: 0 });
      expect(p.grants).toBeGreaterThan(0);
      expect(p.grantsPerCaller).toHaveLength(3);
      expect(p.grantsPerCaller.reduce((a, b) => a + b, 0)).toBe(p.grants);
      expect(p.modes.wait.granted).toBe(p.grants);
      expect(p.requestsPerGrant.total).toBeGreaterThanOrEqual(p.requestsPerGrant.reads);
      expect(p.longestGapMs).toBeGreaterThan(0);
      expect(p.longestGapMs).toBeLessThanOrEqual(p.durationMs);
    }
    // The mixed workload: the systems that can wait for a bounded time, try-locks among them.
    expect(Object.keys(results.mixed).sort()).toEqual(['deliveryhero', 'library']);
    for (const m of Object.values(results.mixed)) {
      expect(m).toMatchObject({ processes: 2, callers: 4, errors: 0, overlaps: 0 });
      expect(m.modes.wait.attempts + m.modes.try.attempts).toBeGreaterThan(0);
      expect(m.modes.wait.granted + m.modes.try.granted).toBe(m.grants);
      expect(m.longestGapMs).toBeLessThanOrEqual(m.durationMs);
    }
    expect(run.stdout).toContain('3 worker processes on 1 lock, 4 ms RTT: grants/s');
    expect(run.stdout).toContain('mixed: 4 callers in 2 processes');
    expect(
      results.targets.filter((t) => /worker processes|mixed workload/.test(t.target)),
    ).toHaveLength(6);

    expect(results.lambda).toHaveLength(4);
    for (const weight of results.lambda) {
      expect(weight.error).toBeUndefined();
      expect(weight.bytes).toBeGreaterThan(10_000);
      expect(weight.loadMs).toBeGreaterThan(0);
      expect(existsSync(join(out, 'bundles', `${weight.handler}.${weight.variant}.mjs`))).toBe(
        true,
      );
    }
    expect(results.targets.length).toBeGreaterThan(5);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 240_000);
