// Relative links between Markdown files, checked where the files are: a link resolves when its
// file exists and, with a `#fragment`, that file has a heading of that GitHub anchor.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** A link that does not resolve: where it is and what it points at. */
export interface BrokenLink {
  file: string;
  target: string;
  why: string;
}

/** The text outside fenced code blocks: a link-like string in an example is not a link. */
const prose = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
export const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

function anchors(file: string): Set<string> {
  const headings = prose(readFileSync(file, 'utf8')).match(/^#{1,6} .*$/gm) ?? [];
  return new Set(headings.map((line) => anchorOf(line.replace(/^#+ /, ''))));
}

/**
 * Every relative link of the Markdown `files` (paths under `root`) that does not resolve
 * inside `root`. Absolute URLs are not followed: they are the web's, not the package's.
 */
export function brokenLinks(root: string, files: string[]): BrokenLink[] {
  const broken: BrokenLink[] = [];
  for (const file of files) {
    const path = join(root, file);
    for (const [, target] of prose(readFileSync(path, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target)) continue;
      const [link, fragment] = target.split('#');
      const linked = link === '' ? path : join(dirname(path), link);
      if (relative(root, linked).startsWith('..') || !existsSync(linked)) {
        broken.push({ file, target, why: 'no such file in the package' });
      } else if (
        fragment !== undefined &&
        linked.endsWith('.md') &&
        !anchors(linked).has(fragment)
      ) {
        broken.push({ file, target, why: 'no such heading' });
      }
    }
  }
  return broken;
}
