// Figures of each stage, for one summary at the end. Test files run in separate worker
// processes, so they hand their figures to the global teardown through files.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Figure {
  stage: string;
  /** How long the stage took; none for figures that are not a stage of work. */
  seconds?: number;
  details: string[];
}

export function writeFigure(root: string, figure: Figure): void {
  const dir = join(root, 'figures');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${figure.stage.replace(/\W+/g, '-')}.json`), JSON.stringify(figure));
}

export function formatFigures(root: string, totalSeconds: number): string {
  let figures: Figure[] = [];
  try {
    figures = readdirSync(join(root, 'figures')).map(
      (file) => JSON.parse(readFileSync(join(root, 'figures', file), 'utf8')) as Figure,
    );
  } catch {
    // Nothing was recorded: every test was filtered out, or the setup failed.
  }
  const line = (stage: string, seconds?: number, details: string[] = []) => {
    const time = seconds === undefined ? '' : `${seconds.toFixed(1)} s`;
    return `  ${stage.padEnd(34)} ${time.padStart(8)}  ${details.join(', ')}`.trimEnd();
  };
  return [
    '',
    'fenced-lock package test: figures',
    ...figures
      .sort((a, b) => a.stage.localeCompare(b.stage))
      .map(({ stage, seconds, details }) => line(stage, seconds, details)),
    line('whole session', totalSeconds),
    '',
  ].join('\n');
}
