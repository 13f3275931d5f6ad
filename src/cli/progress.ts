/**
 * A progress bar with ETA on stderr, only for work that lasts more than a couple of seconds,
 * only on a TTY, never with --quiet. Nothing below the CLI prints; it reports through this.
 */
import cliProgress from 'cli-progress';
import type { ProgressHooks } from '../compressors/compressor.js';

const SHOW_AFTER_MS = 1500;

export function progressBar(label: string, enabled: boolean): ProgressHooks & { stop(): void } {
  let bar: cliProgress.SingleBar | undefined;
  const started = Date.now();
  let phase = '';
  return {
    progress(done, total, p) {
      if (!enabled || Date.now() - started < SHOW_AFTER_MS) return;
      if (!bar || phase !== p) {
        bar?.stop();
        phase = p;
        bar = new cliProgress.SingleBar(
          { format: `${label} ${p} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done);
      }
      bar.update(done);
    },
    stop() {
      bar?.stop();
    },
  };
}

export const progressEnabled = (quiet: boolean) => !quiet && !!process.stderr.isTTY;
