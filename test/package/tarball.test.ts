import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, test } from '@jest/globals';
import { npmWarnings, packResult, packStderr, recordFigures } from './support/consumer.js';

const REPO = new URL('../..', import.meta.url).pathname;
/** What may ship besides dist/: npm always adds package.json, README and LICENSE when present. */
const TOP_LEVEL_FILES = ['package.json', 'README.md', 'LICENSE'];

describe('the packed tarball', () => {
  const pack = packResult();
  const paths = pack.files.map((file) => file.path);

  test('holds only dist/ and the package metadata files', () => {
    const outside = paths.filter(
      (path) => !path.startsWith('dist/') && !TOP_LEVEL_FILES.includes(path),
    );
    expect(outside).toEqual([]);
    expect(paths).toContain('package.json');
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
