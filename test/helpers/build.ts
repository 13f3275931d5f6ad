/**
 * vitest globalSetup: compile src/ to dist/ so CLI tests run the real `compress-bench` binary.
 * Skipped (one line says so) when dist/ is newer than every source and config file, so a run of
 * one tier or one file does not pay for a full `tsc` each time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const STAMP = join(root, 'dist', '.built');

/** The newest modification time among src/**, the tsconfigs and package.json. */
function newestInput(): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(join(root, 'src'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package.json']) newest = Math.max(newest, statSync(join(root, f)).mtimeMs);
  return newest;
}

export default function setup(): void {
  const newest = newestInput();
  if (existsSync(STAMP) && statSync(STAMP).mtimeMs >= newest && existsSync(join(root, 'dist', 'cli.js'))) {
    process.stderr.write('dist: up to date\n');
    return;
  }
  process.stderr.write('dist: building (tsc -p tsconfig.build.json) …\n');
  execFileSync(process.execPath, [`${root}/node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  // Stamped with the sources' time from before the build: a file edited during it rebuilds next time.
  writeFileSync(STAMP, `built from sources as of ${new Date(newest).toISOString()}\n`);
  // A millisecond past it: utimes rounds, and a stamp a hair older than the sources would rebuild every time.
  const t = (Math.ceil(newest) + 1) / 1000;
  utimesSync(STAMP, t, t);
}
