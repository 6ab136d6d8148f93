import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { median } from './stats.js';

/** The handler entry files the service ships (contract shared with the CDK stack). */
const HANDLERS = [
  { name: 'http-api', entry: 'lambdas/http/api.handler.ts' },
  { name: 'direct-invoke', entry: 'lambdas/direct/invoke.handler.ts' },
] as const;

/**
 * `all-bundled` is what the CDK stack deploys (`bundleAwsSDK: true` in lib/lock-service.ts);
 * `sdk-external` leaves out `@aws-sdk/*`, which the Lambda Node.js 22 runtime provides (CDK's
 * default), loading it from node_modules at cold start instead.
 */
const VARIANTS = {
  'all-bundled': [] as string[],
  'sdk-external': ['@aws-sdk/*'],
} as const;
export type Variant = keyof typeof VARIANTS;

export interface BundleWeight {
  handler: string;
  entry: string;
  variant: Variant;
  /** Bytes of the output bundle, from the esbuild metafile. */
  bytes?: number;
  /** Median of `loadRuns` imports of the bundle, each in a fresh Node process. */
  loadMs?: number;
  loadRuns?: number[];
  /** The packages (or project folders) that weigh most in the bundle, heaviest first. */
  heaviest?: { name: string; bytes: number }[];
  error?: string;
}

// ESM output still meets CommonJS dependencies that call require() for Node built-ins.
const BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/**
 * Bundles each handler like the deployment does (ESM, minified with names kept, platform node,
 * target node22) and times how long a fresh Node process takes to import it.
 *
 * @example
 * const weights = await measureLambdaWeight({ root: process.cwd(), outDir: 'results/bench/bundles', runs: 7 });
 */
export async function measureLambdaWeight(options: {
  root: string;
  outDir: string;
  runs: number;
}): Promise<BundleWeight[]> {
  mkdirSync(options.outDir, { recursive: true });
  // The sdk-external bundles import @aws-sdk/* at run time; outside the project, let them find
  // the project's node_modules as they would find the runtime's.
  const modules = join(options.outDir, 'node_modules');
  if (!resolve(options.outDir).startsWith(resolve(options.root)) && !existsSync(modules)) {
    symlinkSync(join(options.root, 'node_modules'), modules, 'dir');
  }
  const results: BundleWeight[] = [];
  for (const handler of HANDLERS) {
    const entry = join(options.root, handler.entry);
    for (const variant of Object.keys(VARIANTS) as Variant[]) {
      const base = { handler: handler.name, entry: handler.entry, variant };
      if (!existsSync(entry)) {
        results.push({ ...base, error: `${handler.entry} does not exist yet` });
        continue;
      }
      try {
        const outfile = join(options.outDir, `${handler.name}.${variant}.mjs`);
        const { metafile } = await build({
          entryPoints: [entry],
          outfile,
          bundle: true,
          format: 'esm',
          platform: 'node',
          target: 'node22',
          minify: true,
          // As the CDK stack bundles: names kept (errors are told apart by name), ESM first.
          keepNames: true,
          mainFields: ['module', 'main'],
          metafile: true,
          logLevel: 'silent',
          external: [...VARIANTS[variant]],
          banner: { js: BANNER },
        });
        const output = metafile.outputs[relative(process.cwd(), outfile)];
        const out = output ?? Object.values(metafile.outputs)[0];
        const loadRuns = Array.from({ length: options.runs }, () => timeImport(outfile));
        results.push({
          ...base,
          bytes: out?.bytes,
          loadMs: median(loadRuns),
          loadRuns,
          heaviest: heaviest(out?.inputs ?? {}),
        });
      } catch (err) {
        results.push({ ...base, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  return results;
}

/** Sums the bytes each package contributes to the output. */
function heaviest(inputs: Record<string, { bytesInOutput: number }>, top = 6) {
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const name = match ? match[1]! : path.split('/').slice(0, 2).join('/');
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}

/** Time from `import()` to its resolution in a new Node process, with Lambda-like config. */
function timeImport(file: string): number {
  const script =
    'const t = performance.now(); await import(process.argv[1]); ' +
    'process.stdout.write(String(performance.now() - t)); process.exit(0);';
  const run = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', script, pathToFileURL(file).href],
    {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        LOCK_TABLE_NAME: 'bench-locks',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  const ms = Number(run.stdout);
  if (run.status !== 0 || !Number.isFinite(ms)) {
    const reason = run.stderr.split('\n').find((l) => /Error|Cannot/.test(l)) ?? run.stderr.trim();
    throw new Error(`loading ${file} failed: ${reason.trim().slice(0, 300)}`);
  }
  return ms;
}
