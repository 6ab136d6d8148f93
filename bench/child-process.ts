import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

/** A TypeScript script run in its own Node process, spoken to by lines on stdin and stdout. */
export interface LineProcess {
  child: ChildProcessWithoutNullStreams;
  /** The next line it printed; rejects once it has exited with none left. */
  nextLine(): Promise<string>;
  /** Writes one line to its stdin. */
  send(line: string): void;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
}

/**
 * Starts `script` under tsx with `args`. Jest's NODE_OPTIONS (vm modules) are not passed on:
 * the child is a plain Node process, as a Lambda's is.
 *
 * @example
 * const worker = spawnLineProcess(fileURLToPath(new URL('./holder.ts', import.meta.url)), [json]);
 * if ((await worker.nextLine()) === 'ready') worker.send('go');
 */
export function spawnLineProcess(script: string, args: readonly string[]): LineProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const parts = stdout.split('\n');
    stdout = parts.pop() ?? '';
    lines.push(...parts);
    waiters.splice(0).forEach((wake) => wake());
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.once('exit', () => waiters.splice(0).forEach((wake) => wake()));
  // A child killed while the parent still writes to it must not crash the parent.
  child.stdin.on('error', () => {});
  return {
    child,
    async nextLine() {
      for (;;) {
        const line = lines.shift();
        if (line !== undefined) return line;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `${script} exited (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`,
          );
        }
        await new Promise<void>((wake) => waiters.push(wake));
      }
    },
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
