import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Zip, ZipDeflate, zipSync } from 'fflate';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CorpusNotPresentError,
  defaultCacheDir,
  defaultSearchDirs,
  extractZipMember,
  fetchCorpus,
  HashMismatchError,
  listCorpora,
  listZipMembers,
  loadCorpora,
  resolveInput,
  verifyFile,
  useDataDirs,
  type CorpusEntry,
} from '../src/corpora/index.js';
import { defaultFetch } from '../src/corpora/download.js';
import { SNAPPY as SNAPPY_DIR } from './helpers/shared.js';

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

describe('corpora registry (corpora/*.json)', () => {
  const all = listCorpora();
  const byName = new Map(all.map((c) => [c.name, c]));

  it('describes the Hutter Prize files with their real size and hash', () => {
    const enwik8 = byName.get('enwik8')!;
    expect(enwik8.bytes).toBe(100_000_000);
    expect(enwik8.sha256).toBe('2b49720ec4d78c3c9fabaee6e4179a5e997302b3a70029f30f2d582218c024a8');
    expect(enwik8.zipMember).toBe('enwik8');
    expect(enwik8.urls[0]).toMatch(/^https?:\/\/mattmahoney\.net\/dc\/enwik8\.zip$/);
    expect(enwik8.splits).toEqual({
      train: { offset: 0, length: 90_000_000 },
      valid: { offset: 90_000_000, length: 5_000_000 },
      test: { offset: 95_000_000, length: 5_000_000 },
    });
    const enwik9 = byName.get('enwik9')!;
    expect(enwik9.bytes).toBe(1_000_000_000);
    expect(enwik9.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives text8 the standard 90M/5M/5M split', () => {
    const text8 = byName.get('text8')!;
    expect(text8.bytes).toBe(100_000_000);
    expect(Object.values(text8.splits).map((s) => s.length)).toEqual([90_000_000, 5_000_000, 5_000_000]);
  });

  it('lists Canterbury (standard and large), Silesia and snappy testdata file by file', () => {
    const count = (collection: string) => all.filter((c) => c.collection === collection).length;
    expect(count('canterbury')).toBe(11);
    expect(count('canterbury-large')).toBe(3);
    expect(count('silesia')).toBe(12);
    expect(all.filter((c) => c.collection === 'silesia').reduce((n, c) => n + c.bytes, 0)).toBe(211_938_580);
    expect(count('snappy')).toBeGreaterThanOrEqual(10);
  });

  it('never has an unexplained missing hash', () => {
    for (const entry of all) {
      if (entry.sha256 === null) expect(entry.note, entry.name).toMatch(/unverified/);
    }
  });

  it.skipIf(!existsSync(join(SNAPPY_DIR, 'SHA256SUMS')))('pins exactly the snappy hashes from SHA256SUMS', () => {
    const sums = readFileSync(join(SNAPPY_DIR, 'SHA256SUMS'), 'utf8').trim().split('\n');
    for (const line of sums) {
      const [hash, file] = line.split(/\s+/);
      expect(byName.get(`snappy/${file}`)?.sha256, file).toBe(hash);
    }
  });

  it('defaults the cache under COMPRESS_BENCH_CACHE or ~/.cache/compress-bench', () => {
    expect(defaultCacheDir({ COMPRESS_BENCH_CACHE: '/x/cache' })).toBe('/x/cache/corpora');
    expect(defaultCacheDir({})).toMatch(/\.cache\/compress-bench\/corpora$/);
  });

  it('searches ./corpus, then the COMPRESS_BENCH_DATA_DIR folders; nothing outside the checkout unless named', () => {
    expect(defaultSearchDirs({})).toEqual(['corpus']);
    expect(defaultSearchDirs({ COMPRESS_BENCH_DATA_DIR: '/a::/b:corpus' })).toEqual(['corpus', '/a', '/b']);
  });

  it('--data-dir folders go in front of COMPRESS_BENCH_DATA_DIR, each once, so child processes see them too', () => {
    const env: NodeJS.ProcessEnv = { COMPRESS_BENCH_DATA_DIR: '/b:/a' };
    useDataDirs(['/c', '/a'], env);
    expect(env.COMPRESS_BENCH_DATA_DIR).toBe('/c:/a:/b');
    useDataDirs([], env);
    expect(env.COMPRESS_BENCH_DATA_DIR).toBe('/c:/a:/b');
    const empty: NodeJS.ProcessEnv = {};
    useDataDirs([], empty);
    expect(empty).toEqual({});
  });
});

describe('fetchCorpus / verifyFile / resolveInput on a small corpus', () => {
  let dir: string;
  let cacheDir: string;
  const content = 'the quick brown fox jumps over the lazy dog\n'.repeat(200);
  const goodHash = sha256(content);
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cb-corpora-'));
    cacheDir = join(dir, 'cache');
    logs.length = 0;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Write a zip with `files` and a manifest pointing at it by file:// URL; return the loaded registry. */
  async function zipCorpus(collection: string, files: Record<string, { data: string; sha256: string | null }>, extra: object = {}) {
    const zipPath = join(dir, `${collection}.zip`);
    const zipped = zipSync(Object.fromEntries(Object.entries(files).map(([n, f]) => [`folder/${n}`, new TextEncoder().encode(f.data)])));
    await writeFile(zipPath, zipped);
    const manifestDir = join(dir, 'manifests');
    await rm(manifestDir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(manifestDir, { recursive: true }));
    const manifest = {
      collection,
      description: 'test corpus',
      files: Object.entries(files).map(([name, f]) => ({
        name,
        urls: [pathToFileURL(zipPath).href],
        zipMember: name,
        bytes: Buffer.byteLength(f.data),
        sha256: f.sha256,
        ...(f.sha256 === null ? { note: 'unverified in this test' } : {}),
        ...extra,
      })),
    };
    await writeFile(join(manifestDir, `${collection}.json`), JSON.stringify(manifest));
    return loadCorpora(manifestDir);
  }

  async function filesUnder(path: string): Promise<string[]> {
    if (!existsSync(path)) return [];
    return (await readdir(path, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
  }

  it('downloads from a file:// zip, unzips, verifies the hash and installs the file', async () => {
    const corpora = await zipCorpus('tiny', { tiny: { data: content, sha256: goodHash } }, { splits: { head: { offset: 0, length: 100 } } });
    const path = await fetchCorpus('tiny', { cacheDir, corpora, log });
    expect(path).toBe(join(cacheDir, 'tiny'));
    expect(await readFile(path, 'utf8')).toBe(content);
    expect(await verifyFile(path, goodHash)).toMatchObject({ sha256: goodHash, bytes: content.length, verified: true });
    expect(logs.join('\n')).toMatch(/tiny: verified/);

    const whole = await resolveInput('tiny', { cacheDir, searchDirs: [], corpora });
    expect(whole).toMatchObject({ path, name: 'tiny', corpus: 'tiny', offset: 0, length: content.length, fileSha256: goodHash });
    const head = await resolveInput('tiny:head', { cacheDir, searchDirs: [], corpora });
    expect(head).toMatchObject({ name: 'tiny:head', corpus: 'tiny', split: 'head', offset: 0, length: 100 });
    // A second fetch finds the verified file and downloads nothing.
    let calls = 0;
    await fetchCorpus('tiny', { cacheDir, corpora, log, fetchImpl: async () => (calls++, new Response('x')) });
    expect(calls).toBe(0);
  });

  it('rejects a wrong hash with a clear error and leaves no file behind', async () => {
    const wrong = sha256('something else');
    const corpora = await zipCorpus('tiny', { tiny: { data: content, sha256: wrong } });
    await expect(fetchCorpus('tiny', { cacheDir, corpora, log })).rejects.toThrow(
      new RegExp(`tiny from file://\\S+ has SHA-256 ${goodHash}, expected ${wrong}; discarded it; place the file at ${join(cacheDir, 'tiny')} yourself`),
    );
    expect(await filesUnder(cacheDir)).toEqual([]);
    expect(existsSync(join(cacheDir, 'tiny'))).toBe(false);
  });

  it('fetches a plain (non-zip) file through an injected fetch', async () => {
    const [entry] = await zipCorpus('plain', { plain: { data: content, sha256: goodHash } });
    const corpora: CorpusEntry[] = [{ ...entry!, zipMember: undefined, urls: ['https://example.invalid/plain'] }];
    const seen: string[] = [];
    const path = await fetchCorpus('plain', { cacheDir, corpora, log, fetchImpl: async (url) => (seen.push(url), new Response(content)) });
    expect(seen).toEqual(['https://example.invalid/plain']);
    expect(await readFile(path, 'utf8')).toBe(content);
  });

  it('says what to do when offline', async () => {
    const [entry] = await zipCorpus('tiny', { tiny: { data: content, sha256: goodHash } });
    const corpora: CorpusEntry[] = [{ ...entry!, urls: ['https://example.invalid/tiny.zip'] }];
    const offline = async (): Promise<Response> => {
      throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND example.invalid') });
    };
    await expect(fetchCorpus('tiny', { cacheDir, corpora, log, fetchImpl: offline })).rejects.toThrow(
      `could not download tiny from https://example.invalid/tiny.zip: fetch failed (getaddrinfo ENOTFOUND example.invalid); place the file at ${join(cacheDir, 'tiny')} yourself`,
    );
    const notFound = async () => new Response('nope', { status: 404, statusText: 'Not Found' });
    await expect(fetchCorpus('tiny', { cacheDir, corpora, log, fetchImpl: notFound })).rejects.toThrow(/HTTP 404 Not Found/);
    expect(await filesUnder(cacheDir)).toEqual([]);
  });

  it('prints the computed hash when the manifest has none, and still checks the size', async () => {
    const corpora = await zipCorpus('loose', { loose: { data: content, sha256: null } });
    await fetchCorpus('loose', { cacheDir, corpora, log });
    expect(logs.join('\n')).toContain(`computed sha256 ${goodHash}`);

    const badSize: CorpusEntry[] = [{ ...corpora[0]!, bytes: content.length + 1 }];
    await expect(fetchCorpus('loose', { cacheDir: join(dir, 'other'), corpora: badSize, log })).rejects.toThrow(/has 8800 bytes, expected 8801/);
  });

  it('fetches a whole collection from one archive download', async () => {
    const corpora = await zipCorpus('pair', {
      a: { data: 'alpha'.repeat(10), sha256: sha256('alpha'.repeat(10)) },
      b: { data: 'beta'.repeat(10), sha256: sha256('beta'.repeat(10)) },
    });
    expect(corpora.map((c) => c.name)).toEqual(['pair/a', 'pair/b']);
    const path = await fetchCorpus('pair', { cacheDir, corpora, log });
    expect(path).toBe(join(cacheDir, 'pair'));
    expect((await readdir(path)).sort()).toEqual(['a', 'b']);
    expect(logs.filter((l) => l.includes('downloading'))).toHaveLength(1);
  });

  it('downloads a shared archive once even when members have their own fallbacks, and falls back on failure', async () => {
    const files = {
      a: { data: 'alpha'.repeat(10), sha256: sha256('alpha'.repeat(10)) },
      b: { data: 'beta'.repeat(10), sha256: sha256('beta'.repeat(10)) },
    };
    const loaded = await zipCorpus('pair', files);
    const primary = loaded[0]!.urls[0]!;
    const withMirrors = loaded.map((e) => ({ ...e, urls: [primary, `https://mirror.invalid/${e.file}.zip`] }));
    const calls: string[] = [];
    const counting = async (url: string) => (calls.push(url), defaultFetch(url));
    await fetchCorpus('pair', { cacheDir, corpora: withMirrors, log, fetchImpl: counting });
    expect(calls).toEqual([primary]);

    const deadPrimary = loaded.map((e) => ({ ...e, urls: ['https://dead.invalid/pair.zip', primary] }));
    calls.length = 0;
    const path = await fetchCorpus('pair/b', { cacheDir: join(dir, 'c2'), corpora: deadPrimary, log, fetchImpl: async (url) => {
      calls.push(url);
      if (url.startsWith('https:')) throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND dead.invalid') });
      return defaultFetch(url);
    } });
    expect(calls).toEqual(['https://dead.invalid/pair.zip', primary]);
    expect(await readFile(path, 'utf8')).toBe(files.b.data);
  });

  it('streams multi-megabyte deflated, stored and data-descriptor zip members intact', async () => {
    const big = new Uint8Array(3_000_000);
    // Pseudo-random low nibbles: compresses to about half, so the archive is read in several chunks.
    let x = 2463534242;
    for (let i = 0; i < big.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      big[i] = 0x40 | (x & 0x0f);
    }
    const plainZip = join(dir, 'plain.zip');
    await writeFile(plainZip, zipSync({ 'd/deflated.bin': [big, { level: 6 }], 'd/stored.bin': [big, { level: 0 }] }));
    // fflate's streaming Zip writes sizes only after the data (general-purpose flag bit 3).
    const chunks: Uint8Array[] = [];
    const streaming = new Zip((err, chunk) => {
      if (err) throw err;
      chunks.push(chunk);
    });
    const member = new ZipDeflate('streamed.bin', { level: 1 });
    streaming.add(member);
    member.push(big.subarray(0, 1_000_000));
    member.push(big.subarray(1_000_000), true);
    streaming.end();
    const streamedZip = join(dir, 'streamed.zip');
    await writeFile(streamedZip, Buffer.concat(chunks));

    expect(await listZipMembers(plainZip)).toEqual(['d/deflated.bin', 'd/stored.bin']);
    for (const [zip, name] of [[plainZip, 'deflated.bin'], [plainZip, 'd/stored.bin'], [streamedZip, 'streamed.bin']] as const) {
      const hash = createHash('sha256');
      let pieces = 0;
      const bytes = await extractZipMember(zip, name, (chunk) => {
        pieces++;
        hash.update(chunk);
      });
      expect(bytes, name).toBe(big.length);
      expect(hash.digest('hex'), name).toBe(sha256(big));
      expect(pieces, name).toBeGreaterThan(1); // streamed, not inflated in one piece
    }
    await expect(extractZipMember(plainZip, 'nope', () => {})).rejects.toThrow(/has no member "nope" \(it has: d\/deflated.bin, d\/stored.bin\)/);
  });

  it('verifyFile fails clearly on a wrong hash', async () => {
    const path = join(dir, 'f');
    await writeFile(path, content);
    await expect(verifyFile(path, '0'.repeat(64))).rejects.toThrow(HashMismatchError);
    await expect(verifyFile(path, '0'.repeat(64))).rejects.toThrow(`SHA-256 mismatch for ${path}: expected ${'0'.repeat(64)}, got ${goodHash}`);
    expect(await verifyFile(path, null)).toMatchObject({ sha256: goodHash, verified: false });
  });

  it('finds present files in search dirs, caches the verification by mtime+size, and refuses a changed file', async () => {
    const corpora = await zipCorpus('tiny', { tiny: { data: content, sha256: goodHash } });
    const searchDir = join(dir, 'corpus');
    await import('node:fs/promises').then((fs) => fs.mkdir(searchDir));
    const present = join(searchDir, 'tiny');
    await writeFile(present, content);

    const first = await resolveInput('tiny', { cacheDir, searchDirs: [searchDir], corpora });
    expect(first).toMatchObject({ path: present, corpus: 'tiny' });
    const stamps = JSON.parse(await readFile(join(cacheDir, 'verified.json'), 'utf8'));
    expect(Object.values(stamps)).toEqual([expect.objectContaining({ sha256: goodHash, size: content.length })]);

    // Same size, different bytes, new mtime: re-hashed and rejected.
    await writeFile(present, content.toUpperCase());
    await utimes(present, new Date(), new Date(Date.now() + 5000));
    const error = await resolveInput('tiny', { cacheDir, searchDirs: [searchDir], corpora }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorpusNotPresentError);
    expect((error as Error).message).toMatch(/has SHA-256 [0-9a-f]{64}, expected/);
    expect((error as Error).message).toContain('compress-bench corpora fetch tiny');
  });

  it('without searchDirs, finds a present file under a COMPRESS_BENCH_DATA_DIR folder', async () => {
    const corpora = await zipCorpus('tiny', { tiny: { data: content, sha256: goodHash } });
    const data = join(dir, 'data');
    await import('node:fs/promises').then((fs) => fs.mkdir(data));
    await writeFile(join(data, 'tiny'), content);
    const saved = process.env.COMPRESS_BENCH_DATA_DIR;
    try {
      delete process.env.COMPRESS_BENCH_DATA_DIR;
      await expect(resolveInput('tiny', { cacheDir, corpora })).rejects.toBeInstanceOf(CorpusNotPresentError);
      process.env.COMPRESS_BENCH_DATA_DIR = `${join(dir, 'nonexistent')}:${data}`;
      expect(await resolveInput('tiny', { cacheDir, corpora })).toMatchObject({ path: join(data, 'tiny'), corpus: 'tiny', length: content.length });
    } finally {
      if (saved === undefined) delete process.env.COMPRESS_BENCH_DATA_DIR;
      else process.env.COMPRESS_BENCH_DATA_DIR = saved;
    }
  });

  it('tags a plain path as a corpus only when name, size and hash match', async () => {
    const corpora = await zipCorpus('tiny', { tiny: { data: content, sha256: goodHash } }, { splits: { tail: { offset: 8000, length: 800 } } });
    const path = join(dir, 'tiny');
    await writeFile(path, content);
    expect(await resolveInput(path, { cacheDir, corpora })).toMatchObject({ name: path, corpus: 'tiny', offset: 0, length: 8800 });
    expect(await resolveInput(`${path}:tail`, { cacheDir, corpora })).toMatchObject({ corpus: 'tiny', split: 'tail', offset: 8000, length: 800 });
    const other = join(dir, 'other.txt');
    await writeFile(other, 'hello');
    const plain = await resolveInput(other, { cacheDir, corpora });
    expect(plain).toEqual({ path: other, name: other, offset: 0, length: 5, fileBytes: 5 });
  });

  it.skipIf(!existsSync(SNAPPY_DIR))('resolves registered snappy files from the shared testdata dir', async () => {
    const html = await resolveInput('snappy/html', { cacheDir, searchDirs: [SNAPPY_DIR] });
    expect(html).toMatchObject({ path: join(SNAPPY_DIR, 'html'), corpus: 'snappy/html', length: 102_400 });
  });
});
