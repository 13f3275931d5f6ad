/**
 * Progress on stderr, never with --quiet; nothing below the CLI prints, it reports through this.
 * A compressor codes its input (encode) and then restores it (decode, as slow as encoding for
 * LMs), so the estimate covers both: (tokens left to encode + tokens to decode) ÷ the speed
 * measured so far. On a TTY a bar shows it, after a couple of seconds; elsewhere (logs, CI)
 * one line says it once, for work estimated to take longer than LONG_S.
 */
import cliProgress from 'cli-progress';
import type { ProgressHooks } from '../compressors/compressor.js';

const SHOW_AFTER_MS = 1500;
const LONG_S = 30;

/** `45 s`, `3 min 20 s`, `1 h 05 min`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** Seconds left for this encode + decode, from the speed measured in the current phase. */
export function secondsLeft(done: number, total: number, phase: 'encode' | 'decode' | 'download', elapsedS: number, roundTrip = true): number {
  if (done <= 0 || elapsedS <= 0) return NaN;
  const rate = done / elapsedS;
  return (total - done + (phase === 'encode' && roundTrip ? total : 0)) / rate;
}

export function progressBar(
  label: string,
  enabled: boolean,
  /** roundTrip: a decode follows the encode (the main job, joint); `compress` alone has none. */
  options: { tty?: boolean; write?: (line: string) => void; roundTrip?: boolean } = {},
): ProgressHooks & { stop(): void } {
  const tty = options.tty ?? !!process.stderr.isTTY;
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const roundTrip = options.roundTrip ?? true;
  const what = roundTrip ? 'encode + decode' : 'this pass';
  let bar: cliProgress.SingleBar | undefined;
  const started = Date.now();
  let phase = '';
  let phaseStart = started;
  let phaseDone0 = 0;
  let announced = false;
  return {
    progress(done, total, p) {
      if (!enabled) return;
      const now = Date.now();
      if (phase !== p) {
        bar?.stop();
        bar = undefined;
        phase = p;
        phaseStart = now;
        phaseDone0 = done;
      }
      if (now - started < SHOW_AFTER_MS) return;
      const left = secondsLeft(done - phaseDone0, total - phaseDone0, p, (now - phaseStart) / 1000, roundTrip);
      if (!tty) {
        if (!announced && left > LONG_S) {
          announced = true;
          const rate = (done - phaseDone0) / ((now - phaseStart) / 1000);
          write(`${label}: about ${formatDuration(left)} left for ${what} (${total.toLocaleString('en-US')} ${p === 'download' ? 'bytes' : 'tokens'} at ${Math.round(rate).toLocaleString('en-US')}/s)\n`);
        }
        return;
      }
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { format: `${label} ${p} [{bar}] {percentage}% | {value}/{total} | ETA {left}`, stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done, { left: '…' });
      }
      bar.update(done, { left: `${formatDuration(left)}${p === 'encode' && roundTrip ? ' (encode + decode)' : ''}` });
    },
    stop() {
      bar?.stop();
    },
  };
}

export const progressEnabled = (quiet: boolean) => !quiet;
