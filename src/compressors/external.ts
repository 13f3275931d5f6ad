/**
 * External compressors given as command templates, one pair per NAME:
 *
 *   --external 'NAME=COMPRESS TEMPLATE'  --external-decompress 'NAME=DECOMPRESS TEMPLATE'
 *
 *   --external 'zpaq=zpaq a {out} {in} -m5'   --external-decompress 'zpaq=zpaq x {in} -to {out}'
 *   --external 'gz=gzip -9 -n -c'             --external-decompress 'gz=gzip -d -c'
 *   --external 'zs=zstd -19 -q {in} -o {out}' --external-decompress 'zs=zstd -d -q {in} -o {out}'
 *
 * - `{in}` / `{out}` become paths of files in a fresh temp dir (removed afterwards; the command
 *   also runs there). Without `{in}` the bytes go to the command's stdin; without `{out}` its
 *   stdout is the result. So plain filters (`gzip -c`, `xz -c`) need no placeholders at all.
 * - Templates run WITHOUT a shell. They are split into words like a shell would for simple
 *   words: whitespace separates, '...' is literal, "..." allows \" and \\, a backslash outside
 *   quotes escapes the next character. Shell syntax (`>`, `|`, `<`, `;`, `&`, `$`, backquote,
 *   parentheses) outside quotes is rejected. When a shell is really needed, call one and pass
 *   the paths as arguments, so they are never re-parsed:
 *     --external "b=sh -c 'bzip2 -9 < \"\$0\" > \"\$1\"' {in} {out}"
 * - A missing program fails with "external compressor NAME: command `prog` not found"; a
 *   non-zero exit with the command line and the tail of its stderr.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Compressor, DecompressorSize, ProgressHooks, Reach } from './compressor.js';
import { type ClassicCompressor, commandAvailability, plainBytes, withProgress } from './classic.js';
import { findCommand, runCommand } from './run-command.js';

export const EXTERNAL_SYNTAX = `External compressors: --external 'NAME=COMPRESS' with --external-decompress 'NAME=DECOMPRESS' (repeatable, paired by NAME).
  {in} and {out} are temp file paths; without {in} input goes to stdin, without {out} stdout is the result.
  Run without a shell: quote with '...' or "..."; for redirections use sh -c '...' {in} {out} ($0, $1 inside).
  e.g. --external 'zpaq=zpaq a {out} {in} -m5' --external-decompress 'zpaq=zpaq x {in} -to {out}'
       --external 'gz=gzip -9 -n -c' --external-decompress 'gz=gzip -d -c'`;

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:+-]*$/;
const SHELL_CHARS = new Set(['|', '&', ';', '<', '>', '(', ')', '$', '`']);

/** A parsed template: argv words (placeholders still in them) and which placeholders it uses. */
interface Template {
  text: string;
  argv: string[];
  usesIn: boolean;
  usesOut: boolean;
}

/**
 * Pairs `--external` and `--external-decompress` specs by NAME. Every compress spec needs exactly
 * one decompress spec and vice versa; names must be unique.
 */
export function parseExternals(
  compressSpecs: readonly string[],
  decompressSpecs: readonly string[],
): ClassicCompressor[] {
  const decompress = new Map<string, string>();
  for (const spec of decompressSpecs) {
    const { name, template } = splitSpec(spec, '--external-decompress');
    if (decompress.has(name)) throw new Error(`--external-decompress: "${name}" given twice`);
    decompress.set(name, template);
  }
  const seen = new Set<string>();
  const compressors = compressSpecs.map((spec) => {
    const { name, template } = splitSpec(spec, '--external');
    if (seen.has(name)) throw new Error(`--external: "${name}" given twice`);
    seen.add(name);
    const decompressTemplate = decompress.get(name);
    if (decompressTemplate === undefined) {
      throw new Error(`external compressor ${name}: no --external-decompress '${name}=...' given (every external compressor is verified by decompressing)`);
    }
    return createExternal(name, template, decompressTemplate);
  });
  const orphans = [...decompress.keys()].filter((name) => !seen.has(name));
  if (orphans.length > 0) {
    throw new Error(`--external-decompress given for ${orphans.map((n) => `"${n}"`).join(', ')} without a matching --external`);
  }
  return compressors;
}

/** One pair: `parseExternal('zpaq=zpaq a {out} {in} -m5', 'zpaq=zpaq x {in} -to {out}')`. */
export function parseExternal(compressSpec: string, decompressSpec: string): ClassicCompressor {
  const c = splitSpec(compressSpec, '--external');
  const d = splitSpec(decompressSpec, '--external-decompress');
  if (c.name !== d.name) {
    throw new Error(`external compressor ${c.name}: decompress spec is for "${d.name}"`);
  }
  return createExternal(c.name, c.template, d.template);
}

export function createExternal(name: string, compressTemplate: string, decompressTemplate: string): ClassicCompressor {
  if (!NAME_PATTERN.test(name)) {
    throw new Error(`external compressor name "${name}": use letters, digits and . _ : + - (starting with a letter or digit)`);
  }
  const label = `external compressor ${name}`;
  const encode = parseTemplate(compressTemplate, `${label} (compress)`);
  const decode = parseTemplate(decompressTemplate, `${label} (decompress)`);
  const program = decode.argv[0] as string;
  const reach: Reach = {
    unit: 'bytes',
    window: Infinity,
    note: 'unknown: an external command; the harness cannot see its window (Infinity = not known to be bounded)',
  };
  const compressor: ClassicCompressor = {
    name,
    family: 'external',
    settings: { compress: compressTemplate, decompress: decompressTemplate },
    reach,
    available: async () => {
      for (const argv0 of new Set([encode.argv[0] as string, program])) {
        const check = await commandAvailability(argv0, `${label}: command \`${argv0}\` not found`);
        if (!check.ok) return check;
      }
      return { ok: true };
    },
    decompressorSize: async (): Promise<DecompressorSize> => {
      const found = await findCommand(program);
      if (found === undefined) throw new Error(`${label}: command \`${program}\` not found`);
      return { bytes: (await stat(found)).size, source: `measured: ${found} (binary only; shared libraries not counted)` };
    },
    compress: (input, hooks) => runTemplate(encode, input, label, 'encode', hooks),
    decompress: (archive, hooks) => runTemplate(decode, archive, label, 'decode', hooks),
  };
  return compressor satisfies Compressor;
}

/**
 * Splits a command template into argv words without a shell (see the top of this module).
 * Throws on unbalanced quotes and on unquoted shell syntax.
 */
export function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string)) word += text[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 >= text.length) throw new Error(`command template ends with a backslash: ${text}`);
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (SHELL_CHARS.has(ch)) {
      throw new Error(
        `command template uses shell syntax \`${ch}\`, but templates run without a shell: ` +
          `leave out {out} to take stdout (and {in} to feed stdin), quote the character, ` +
          `or call a shell yourself: sh -c '...' {in} {out}  (template: ${text})`,
      );
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== null) throw new Error(`command template has an unclosed ${quote} quote: ${text}`);
  if (inWord) words.push(word);
  return words;
}

function splitSpec(spec: string, flag: string): { name: string; template: string } {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`${flag} "${spec}": expected NAME=COMMAND TEMPLATE`);
  const name = spec.slice(0, eq).trim();
  const template = spec.slice(eq + 1).trim();
  if (!NAME_PATTERN.test(name)) {
    throw new Error(`${flag} "${spec}": name "${name}" must use letters, digits and . _ : + - (starting with a letter or digit)`);
  }
  if (template === '') throw new Error(`${flag} "${spec}": empty command template`);
  return { name, template };
}

function parseTemplate(text: string, label: string): Template {
  let argv: string[];
  try {
    argv = splitCommandLine(text);
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}`);
  }
  const program = argv[0];
  if (program === undefined) throw new Error(`${label}: empty command template`);
  if (program.includes('{in}') || program.includes('{out}')) {
    throw new Error(`${label}: the program name cannot be a placeholder: ${text}`);
  }
  return {
    text,
    argv,
    usesIn: argv.some((w) => w.includes('{in}')),
    usesOut: argv.some((w) => w.includes('{out}')),
  };
}

async function runTemplate(
  template: Template,
  input: Uint8Array,
  label: string,
  phase: 'encode' | 'decode',
  hooks: ProgressHooks | undefined,
): Promise<Uint8Array> {
  return withProgress(hooks, phase, input.length, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'compress-bench-ext-'));
    try {
      // `.bin` so tools that add a default extension to a bare name (zpaq: `.zpaq`) leave it alone.
      const inPath = path.join(dir, 'in.bin');
      const outPath = path.join(dir, 'out.bin');
      if (template.usesIn) await writeFile(inPath, input);
      const argv = template.argv.map((w) => w.replaceAll('{in}', inPath).replaceAll('{out}', outPath));
      const stdout = await runCommand(argv, {
        label,
        cwd: dir,
        ...(template.usesIn ? {} : { input }),
      });
      if (!template.usesOut) return plainBytes(stdout);
      return plainBytes(await readOutput(outPath, dir, label, template.text));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

async function readOutput(outPath: string, dir: string, label: string, text: string): Promise<Buffer> {
  let info;
  try {
    info = await stat(outPath);
  } catch {
    const left = (await readdir(dir)).filter((f) => f !== 'in.bin');
    throw new Error(
      `${label}: \`${text}\` exited 0 but did not write {out}` +
        (left.length > 0 ? ` (it wrote ${left.join(', ')} instead)` : ''),
    );
  }
  if (!info.isFile()) throw new Error(`${label}: \`${text}\` made {out} a directory, not a file`);
  return readFile(outPath);
}
