import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  HANDLER_ASSETS,
  type HandlerAssetName,
  handlerAssetPath,
} from '../../lib/cdk/handler-assets.js';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { LockServiceStack } from '../../lib/cdk/lock-service-stack.js';
import { LockedSection } from '../../lib/cdk/locked-section.js';

// The functions deploy the bundles `npm run build` wrote to dist/assets, unchanged: synth
// bundles nothing (Docker is made unusable, so any attempt to bundle would fail the test).
describe('handler assets', () => {
  const savedDocker = process.env.CDK_DOCKER;
  let bundles: { description: string; dir: string }[];

  beforeAll(() => {
    process.env.CDK_DOCKER = '/nonexistent/docker';
    const app = new App();
    const stack = new LockServiceStack(app, 'Bundled');
    // A locked section brings the third asset, the execution cleanup.
    const section = new LockedSection(stack, 'Section', {
      lockFunction: stack.lockService.directFunction,
      lockId: 'assets',
    });
    new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(section.wrap(new sfn.Pass(stack, 'Work'))),
    });
    const assembly = app.synth();
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    const all = Object.values(functions).map((fn) => {
      const { Code, Description } = fn.Properties as {
        Code: { S3Key: string };
        Description: string;
      };
      return {
        description: Description,
        dir: join(assembly.directory, `asset.${Code.S3Key.replace(/\.zip$/, '')}`),
      };
    });
    // The workers', the operators' and the section's direct functions deploy the one direct bundle.
    bundles = all.filter((b, i) => all.findIndex((other) => other.dir === b.dir) === i);
    expect(all.length).toBe(bundles.length + 2);
  }, 120_000);

  afterAll(() => {
    if (savedDocker === undefined) delete process.env.CDK_DOCKER;
    else process.env.CDK_DOCKER = savedDocker;
  });

  it('deploys the prebuilt dist/assets bundles byte for byte', () => {
    const shipped = Object.keys(HANDLER_ASSETS).map((name) =>
      readFileSync(join(handlerAssetPath(name as HandlerAssetName), 'index.mjs')),
    );
    const deployed = bundles.map(({ dir }) => readFileSync(join(dir, 'index.mjs')));
    expect(deployed).toHaveLength(shipped.length);
    for (const code of deployed) {
      expect(shipped.some((asset) => asset.equals(code))).toBe(true);
    }
  });

  it('bundles both handlers as minified ESM with a source map and the createRequire banner', () => {
    expect(bundles).toHaveLength(3);
    for (const { dir } of bundles) {
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith('import { createRequire as __lockServiceCreateRequire }')).toBe(true);
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      // minified: long lines (unminified esbuild output averages well under 100 characters)
      expect(code.length / code.split('\n').length).toBeGreaterThan(1_000);
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
    }
  });

  it('maps each bundle back to its handler entry', () => {
    const entries = bundles.map(({ dir }) => {
      const map = JSON.parse(readFileSync(join(dir, 'index.mjs.map'), 'utf8')) as {
        sources: string[];
      };
      return map.sources.find((s) => /\.handler\.ts$/.test(s));
    });
    expect(entries.map((s) => s?.replace(/^.*lambdas\//, 'lambdas/')).sort()).toEqual([
      'lambdas/cleanup/cleanup.handler.ts',
      'lambdas/direct/invoke.handler.ts',
      'lambdas/http/api.handler.ts',
    ]);
  });

  it('loads in plain Node as an ES module exporting handler', () => {
    for (const { dir } of bundles) {
      const url = pathToFileURL(join(dir, 'index.mjs')).href;
      const run = spawnSync(
        process.execPath,
        [
          '--enable-source-maps',
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(url)}); console.log(typeof m.handler);`,
        ],
        {
          encoding: 'utf8',
          timeout: 30_000,
          // Cold start reads its configuration; no request is made, so nothing needs a network.
          env: {
            PATH: process.env.PATH,
            LOCK_TABLE_NAME: 'locks',
            // What the execution cleanup's construct sets (the other functions ignore it).
            CLEANUP_STATE_MACHINE_ARNS: 'arn:aws:states:eu-west-1:123456789012:stateMachine:M',
            AWS_REGION: 'eu-west-1',
            AWS_ACCESS_KEY_ID: 'local',
            AWS_SECRET_ACCESS_KEY: 'local',
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          },
        },
      );
      // stderr is shown only when the import failed, to say why
      expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({
        status: 0,
        stderr: '',
      });
      expect(run.stdout.trim()).toBe('function');
    }
  });
});
