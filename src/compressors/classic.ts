/**
 * What the classic (non-LM) compressors share: an availability check (so the CLI can warn about
 * and skip a baseline whose command-line tool is missing instead of failing the run), documented
 * constant decompressor sizes, start/end progress, and the stdin → stdout codec for CLI tools.
 */
import type { Compressor, DecompressorSize, ProgressHooks } from './compressor.js';
import { findCommand, runCommand } from './run-command.js';

export type Availability = { ok: true } | { ok: false; reason: string };

/** A classic compressor: baselines and external command templates. */
export interface ClassicCompressor extends Compressor {
  /** Whether it can run here (its CLI is on PATH); `reason` is a message fit for a warning. */
  available(): Promise<Availability>;
}

export const ALWAYS_AVAILABLE: () => Promise<Availability> = () => Promise.resolve({ ok: true });

/** Availability of a compressor that needs `command` on PATH; `reason` is the message to show. */
export async function commandAvailability(command: string, reason: string): Promise<Availability> {
  return (await findCommand(command)) !== undefined ? { ok: true } : { ok: false, reason };
}

/** A documented constant decompressor size (see each family's module for where it comes from). */
export function constantSize(bytes: number, what: string): () => Promise<DecompressorSize> {
  return () => Promise.resolve({ bytes, source: `constant: ${what}` });
}

/** One-shot codecs have no intermediate progress: report start and end, in bytes. */
export async function withProgress(
  hooks: ProgressHooks | undefined,
  phase: 'encode' | 'decode',
  total: number,
  run: () => Promise<Uint8Array>,
): Promise<Uint8Array> {
  hooks?.progress?.(0, total, phase);
  const out = await run();
  hooks?.progress?.(total, total, phase);
  return out;
}

/** Copy into a plain Uint8Array (not a pooled Buffer view) so callers never see shared memory. */
export function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * compress/decompress/available for a baseline that pipes bytes through a CLI (xz, bzip2):
 * input on stdin, result on stdout, and one clear message when the tool is missing.
 */
export function cliCodec(spec: {
  family: string;
  command: string;
  installHint: string;
  compressArgs: readonly string[];
  decompressArgs: readonly string[];
}): Pick<ClassicCompressor, 'compress' | 'decompress' | 'available'> {
  const label = `${spec.family} baseline`;
  const notFoundMessage = `${label} needs the \`${spec.command}\` command (${spec.installHint})`;
  const run = (args: readonly string[], input: Uint8Array) =>
    runCommand([spec.command, ...args], { label, input, notFoundMessage });
  return {
    available: () => commandAvailability(spec.command, notFoundMessage),
    compress: (input, hooks) =>
      withProgress(hooks, 'encode', input.length, async () => plainBytes(await run(spec.compressArgs, input))),
    decompress: (archive, hooks) =>
      withProgress(hooks, 'decode', archive.length, async () => plainBytes(await run(spec.decompressArgs, archive))),
  };
}
