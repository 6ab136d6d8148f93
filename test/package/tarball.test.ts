import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import {
  npmWarnings,
  packResult,
  packStderr,
  recordFigures,
  run,
  session,
  succeeded,
} from './support/consumer.js';
import { brokenLinks } from './support/links.js';

const REPO = new URL('../..', import.meta.url).pathname;
/** What may ship besides dist/ and docs/: npm always adds package.json, README and LICENSE. */
const TOP_LEVEL_FILES = ['package.json', 'README.md', 'LICENSE'];
/** The documentation pages, shipped so that the installed README's links resolve. */
const SHIPPED_FOLDERS = ['dist/', 'docs/'];

describe('the packed tarball', () => {
  const pack = packResult();
  const paths = pack.files.map((file) => file.path);

  test('holds only dist/, docs/ and the package metadata files', () => {
    const outside = paths.filter(
      (path) =>
        !SHIPPED_FOLDERS.some((folder) => path.startsWith(folder)) &&
        !TOP_LEVEL_FILES.includes(path),
    );
    expect(outside).toEqual([]);
    expect(paths).toContain('package.json');
  });

  test('resolves every link of the README and the docs inside the unpacked package', async () => {
    // Unpacked as npm unpacks it into node_modules/fenced-lock: the tarball's package/ folder.
    const dir = join(session().root, 'unpacked');
    mkdirSync(dir, { recursive: true });
    succeeded(await run('tar', ['-xzf', session().tarball, '-C', dir], { cwd: dir }), 'tar');
    const pages = paths.filter((path) => path.endsWith('.md'));
    expect(pages).toEqual(expect.arrayContaining(['README.md', 'docs/client.md']));
    expect(brokenLinks(join(dir, 'package'), pages)).toEqual([]);
  });

  test('ships both prebuilt Lambda handler bundles', () => {
    expect(paths).toEqual(
      expect.arrayContaining(['dist/assets/api/index.mjs', 'dist/assets/direct/index.mjs']),
    );
  });

  test('ships no TypeScript source, only declarations', () => {
    const sources = paths.filter(
      (path) => /\.[cm]?tsx?$/.test(path) && !/\.d\.[cm]?ts$/.test(path),
    );
    expect(sources).toEqual([]);
    expect(paths).toContain('dist/index.d.ts');
    expect(paths).toContain('dist/cdk/index.d.ts');
  });

  test('packs without npm warnings', () => {
    expect(npmWarnings(packStderr())).toEqual([]);
  });

  test('is packed outside the repository, leaving no tarball in it', () => {
    expect(readdirSync(REPO).filter((name) => name.endsWith('.tgz'))).toEqual([]);
  });

  afterAll(() =>
    recordFigures('tarball', undefined, [
      pack.filename,
      `${(pack.size / 1024).toFixed(0)} kB packed`,
      `${(pack.unpackedSize / 1024 / 1024).toFixed(2)} MB unpacked`,
      `${pack.entryCount} files`,
    ]),
  );
});
