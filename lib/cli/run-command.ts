import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface ChildOutcome {
  /** The child's exit code, or 128 + signal number when a signal ended it. */
  code: number;
  /** True when `lost` fired and the child was told to stop. */
  stoppedForLoss: boolean;
}

/**
 * Runs a command with inherited stdio; when `lost` fires, sends SIGTERM, then SIGKILL after
 * `graceMs`. Signals sent to lockctl itself are passed on to the child.
 *
 * @example
 * const { code } = await runCommand('make', ['deploy'], env, signal, 10_000);
 */
export function runCommand(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  lost: AbortSignal,
  graceMs: number,
): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    let stoppedForLoss = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onLost = () => {
      stoppedForLoss = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    };
    if (lost.aborted) onLost();
    else lost.addEventListener('abort', onLost, { once: true });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    const forwarders = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => {
      const listener = forward(signal);
      process.on(signal, listener);
      return () => process.off(signal, listener);
    });
    const cleanup = () => {
      clearTimeout(killTimer);
      lost.removeEventListener('abort', onLost);
      forwarders.forEach((off) => off());
    };
    child.once('error', (err) => {
      cleanup();
      reject(err);
    });
    child.once('exit', (code, signal) => {
      cleanup();
      const signalNumber = signal ? constants.signals[signal] : 0;
      resolve({ code: code ?? 128 + signalNumber, stoppedForLoss });
    });
  });
}
