/**
 * What the CLI shows of a running job (`runJob`): progress bars or one line per unit, how much
 * a resumed record reused, and on Ctrl-C the exact command that continues the run.
 */
import type { JobHooks, JobRecord } from '../runner/job.js';
import { progressBar, progressEnabled } from './progress.js';

let interrupted: string | (() => string) = 'compress-bench: interrupted before anything was recorded; rerun the same command';

/** The line main() prints on SIGINT before exiting 130. */
export const interruptLine = (): string => (typeof interrupted === 'function' ? interrupted() : interrupted);

/** What a command that keeps its work some other way (compress's chunk journal) says on Ctrl-C; evaluated then. */
export function onInterrupt(line: () => string): void {
  interrupted = line;
}

/** A shell word, quoted only when it must be. */
export const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The command that continues a run: the original arguments with `--resume RECORD` added, or
 * unchanged when they name it already or the record is resumed by its fixed name (a shard's,
 * a suite's).
 */
export function continueCommand(args: string[], path: string, open: JobRecord['open']): string {
  const named = open === 'if-present' || args.some((a) => a === '--resume' || a.startsWith('--resume='));
  return ['compress-bench', ...args, ...(named ? [] : ['--resume', path])].map(shellWord).join(' ');
}

/**
 * Hooks for `runJob`. `args`: the command line as typed, for the continue command; `recording`:
 * false with --no-record; `lines`: one stderr line per unit, prefixed so (suites), not bars.
 */
export function jobHooks(quiet: boolean, args: string[], { recording, lines }: { recording: boolean; lines?: string }): JobHooks {
  const show = progressEnabled(quiet);
  let bar: ReturnType<typeof progressBar> | undefined;
  if (!recording) interrupted = 'compress-bench: interrupted; nothing was recorded (--no-record): rerun the command';
  return {
    start: (c, input) => {
      if (lines !== undefined) {
        if (!quiet) process.stderr.write(`${lines}: ${c.name} on ${input.record.name}\n`);
        return undefined;
      }
      return (bar = progressBar(`${c.name} ${input.record.name}`, show));
    },
    done: () => bar?.stop(),
    opened: ({ path, open, resumed, reused, units }) => {
      interrupted = `compress-bench: interrupted; ${path} keeps every finished unit; continue with: ${continueCommand(args, path, open)}`;
      if (resumed && !quiet) process.stderr.write(`resumed ${path}: ${reused} of ${units} unit${units === 1 ? '' : 's'} reused\n`);
    },
  };
}
