/**
 * yargs, loaded from its CommonJS build: the ESM build wires in a cliui placeholder whose
 * wrapping cuts help text mid-word ("colon-s / eparated"); the CommonJS one wraps at word
 * boundaries. Same version, same API.
 */
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';

export const yargs = createRequire(import.meta.url)('yargs/yargs') as (args: readonly string[]) => Argv;

/** Help text width: the terminal's, at most 100 columns; 80 when not a terminal (yargs reports none then). */
export const helpWidth = (y: Argv): number => Math.min(100, y.terminalWidth() || 80);

/** The exit codes every command shares, for the top-level help. */
export const EXIT_CODES_EPILOGUE =
  'Exit codes: 0 success · 1 a regression (check), a failed round trip, or an internal error ("rerun with --debug for the stack") · ' +
  '2 bad usage or bad data (one line on stderr) · 130 interrupted (Ctrl-C; run records keep every finished result).';
