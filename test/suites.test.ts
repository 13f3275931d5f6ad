/**
 * A small suite end to end through the real CLI: two short inputs, order-k + gzip, run whole,
 * run in two shards and merged, reported; a run under another protocol (a sample) is kept out.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { inputLabel, loadSuites, parseSuite, protocolHash, protocolOf, REPO_SUITES_DIR, type SuiteInput } from '../src/suites/suite.js';
import { buildSuiteBoards, suiteLeaderboardHtml, suiteLeaderboardMarkdown } from '../src/reports/suite-board.js';
import type { InputRecord, RunRecord } from '../src/records/run-record.js';
import { parseCard, REPO_CARDS_DIR, seenBy, type ModelCard } from '../src/records/model-card.js';
import { listCorpora } from '../src/corpora/index.js';
import { readRecords } from '../src/cli/report-commands.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');

/** The shipped model cards, by the name the suites' `seen` labels use: the registry's docmix cards and the embedded model's. */
function shippedCards(): Map<string, ModelCard> {
  const cards = new Map<string, ModelCard>();
  for (const f of readdirSync(REPO_CARDS_DIR).filter((f) => f.endsWith('.json'))) {
    const card = parseCard(readFileSync(join(REPO_CARDS_DIR, f), 'utf8'), f);
    cards.set(card.model!, card);
  }
  const embedded = join(ROOT, 'models', 'embedded', 'card.json');
  cards.set('embedded', parseCard(readFileSync(embedded, 'utf8'), embedded));
  return cards;
}

/**
 * What a card is matched against for a suite input, from the registries alone (the file need not
 * be here): a registered corpus by its name and pinned SHA-256, an npm dataset by its name.
 */
function probe(i: SuiteInput): Pick<InputRecord, 'corpus' | 'fileSha256' | 'sliceSha256'> {
  const none = '-'; // matches no digest
  if (i.input?.startsWith('npm:')) return { corpus: i.input, fileSha256: none, sliceSha256: none };
  const entry = listCorpora().find((c) => c.name === i.input!.replace(/:[A-Za-z0-9_-]+$/, ''));
  if (!entry?.sha256) throw new Error(`${inputLabel(i)}: not a registered corpus with a pinned hash`);
  const whole = i.input === entry.name && i.offset === undefined && i.limit === undefined;
  return { corpus: entry.name, fileSha256: entry.sha256, sliceSha256: whole ? entry.sha256 : none };
}

const LABEL = { true: 'seen', false: 'unseen', null: 'unknown' } as const;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'cb-suite-'));
  const data = join(dir, 'data');
  const suites = join(dir, 'suites');
  mkdirSync(data);
  mkdirSync(suites);
  const words = 'the quick brown fox jumps over the lazy dog and then the dog sleeps in the sun '.repeat(60);
  writeFileSync(join(data, 'a.txt'), words);
  writeFileSync(join(data, 'b.txt'), Array.from({ length: 400 }, (_, i) => `${i},${(i * 7919) % 1000},row ${i % 13}\n`).join(''));
  const suite = { name: 'tiny', description: 'two short inputs', inputs: [{ file: 'a.txt' }, { file: 'b.txt' }], protocol: { context: null, prime: null, segments: 1, chunk: 1024 }, baselines: 'gzip:9' };
  writeFileSync(join(suites, 'tiny.json'), JSON.stringify(suite));
  const env = { ...process.env, COMPRESS_BENCH_SUITES: suites, COMPRESS_BENCH_DATA_DIR: data };
  const cli = (...args: string[]) => promisify(execFile)(process.execPath, [CLI, ...args], { env });
  return { dir, cli, suite };
}

describe('suites', () => {
  test('validation: a device-dependent segment rule and a duplicate input are refused', () => {
    const base = { name: 'x', description: '', inputs: [{ file: 'a' }], protocol: { context: null, prime: null, segments: 1, chunk: null }, baselines: 'gzip:9' };
    expect(() => parseSuite(JSON.stringify({ ...base, protocol: { ...base.protocol, segments: 'auto' } }), 'x.json')).toThrow(/segments must be a whole number/);
    expect(() => parseSuite(JSON.stringify({ ...base, inputs: [{ file: 'a' }, { file: 'a' }] }), 'x.json')).toThrow(/listed twice/);
    const s = parseSuite(JSON.stringify(base), 'x.json');
    expect(protocolHash(s, protocolOf(s, 100))).not.toBe(protocolHash(s, protocolOf(s)));
  });

  test('run, shard, merge, report: a pooled ranking, and another protocol kept out', async () => {
    const { dir, cli, suite } = setup();
    const rec = (n: string) => join(dir, n);
    await cli('suite', 'tiny', '-m', 'order-k', '-o', rec('whole.json'), '-q');
    await cli('suite', 'tiny', '-m', 'order-k', '--shard', '0/2', '--record-dir', join(dir, 'shards'), '-q');
    await cli('suite', 'tiny', '-m', 'order-k', '--shard', '1/2', '--record-dir', join(dir, 'shards'), '-q');
    const shards = ['0', '1'].map((i) => join(dir, 'shards', `tiny-order-k_3+gzip_9-shard-${i}-of-2.json`));
    await cli('merge', ...shards, '-o', rec('merged.json'), '-q');
    const whole = JSON.parse(readFileSync(rec('whole.json'), 'utf8')) as RunRecord;
    const merged = JSON.parse(readFileSync(rec('merged.json'), 'utf8')) as RunRecord;
    expect(merged.suite?.protocolHash).toBe(whole.suite?.protocolHash);
    expect(merged.results.map((r) => r.outputBytes)).toEqual(whole.results.map((r) => r.outputBytes));
    // Resuming a complete record leaves it byte for byte.
    const before = readFileSync(rec('whole.json'), 'utf8');
    await cli('suite', 'tiny', '-m', 'order-k', '-o', rec('whole.json'), '-q');
    expect(readFileSync(rec('whole.json'), 'utf8')).toBe(before);
    // Another protocol: the first 500 bytes of each input.
    await cli('suite', 'tiny', '-m', 'order-k', '--sample', '500', '-o', rec('sampled.json'), '-q');
    const sampled = JSON.parse(readFileSync(rec('sampled.json'), 'utf8')) as RunRecord;
    expect(sampled.suite?.protocolHash).not.toBe(whole.suite?.protocolHash);

    const { boards, excluded } = buildSuiteBoards([whole, sampled], []);
    const main = boards.find((b) => b.protocolHash === whole.suite!.protocolHash)!;
    expect(main.rows.map((r) => r.label.split(' ')[0])).toHaveLength(2);
    expect(main.common).toEqual([0, 1]);
    // The ranking is by pooled bytes: recompute it from the results.
    const pooled = (c: string) => { const rs = whole.results.filter((r) => r.compressor === c); return (8 * rs.reduce((a, r) => a + r.outputBytes, 0)) / rs.reduce((a, r) => a + r.inputBytes, 0); };
    const expected = ['order-k:3', 'gzip:9'].sort((x, y) => pooled(x) - pooled(y));
    expect(main.rows.map((r) => r.cells[0]!.compressor)).toEqual(expected);
    expect(main.rows[0].pooledBpb).toBeCloseTo(pooled(expected[0]), 10);
    // The sampled run has its own table and is never pooled into the whole-file one.
    expect(main.rows.every((r) => r.cells.every((c) => c!.inputBytes > 500))).toBe(true);
    expect(excluded.some((e) => /not pooled with protocol/.test(e.why))).toBe(true);

    // check re-runs the recorded suite and protocol and gates on it: same figures pass, a better
    // baseline is a regression (1), and a changed suite file is refused (2), not compared.
    const gate = (baseline: string) => cli('check', '--baseline', baseline).then(() => 0, (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    expect(await gate(rec('whole.json'))).toBe(0);
    const better = JSON.parse(before) as RunRecord;
    for (const r of better.results) r.bitsPerByte = r.bitsPerByte! * 0.9;
    writeFileSync(rec('better.json'), JSON.stringify(better));
    expect(await gate(rec('better.json'))).toMatchObject({ code: 1, stderr: expect.stringMatching(/regressed [1-9]/) });
    writeFileSync(join(dir, 'suites', 'tiny.json'), JSON.stringify({ ...suite, protocol: { ...suite.protocol, chunk: 2048 } }));
    expect(await gate(rec('whole.json'))).toMatchObject({ code: 2, stderr: expect.stringMatching(/baseline was made under/) });
    writeFileSync(join(dir, 'suites', 'tiny.json'), JSON.stringify(suite));

    await cli('suite', 'report', rec('whole.json'), rec('sampled.json'), rec('merged.json'), '-o', rec('board'));
    const md = readFileSync(rec('board.md'), 'utf8');
    expect(md.indexOf(`## tiny — protocol ${whole.suite!.protocolHash}`)).toBeGreaterThan(-1);
    expect(md).toMatch(/## Not pooled/);
    expect(md).toMatch(/sample: first 500 bytes/);
  }, 120_000);

  test("seen/unseen labels: each suite's agree with the model cards, and the committed records agree with both", async () => {
    const cards = shippedCards();
    expect([...cards.keys()].sort()).toEqual(['embedded', 'gpt2-docmix-16m', 'gpt2-docmix-30m', 'gpt2-docmix-7m']);
    const suites = loadSuites([REPO_SUITES_DIR]);
    const wrong: string[] = [];
    const counts = { seen: 0, unseen: 0, unknown: 0 };
    for (const s of suites) {
      for (const i of s.inputs) {
        // Every input says what every shipped card calls it.
        expect(Object.keys(i.seen ?? {}).sort(), `${s.name} ${inputLabel(i)}`).toEqual([...cards.keys()].sort());
        for (const [model, label] of Object.entries(i.seen!)) {
          const want = LABEL[String(seenBy(cards.get(model)!, probe(i)).seen) as 'true' | 'false' | 'null'];
          counts[label]++;
          if (label !== want) wrong.push(`${s.name} ${inputLabel(i)} ${model}: suite says ${label}, the card says ${want}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    // All three kinds occur, so the comparison above is not one-sided.
    expect(counts.seen).toBeGreaterThan(0);
    expect(counts.unseen).toBeGreaterThan(0);
    expect(counts.unknown).toBeGreaterThan(0);
    // The committed leaderboard records labelled each result at run time from the same cards.
    let checked = 0;
    for (const rec of await readRecords([join(ROOT, 'reports', 'records')])) {
      const suite = suites.find((x) => x.name === rec.suite?.name)!;
      for (const r of rec.results) {
        const i = suite.inputs.find((x) => inputLabel(x) === r.file);
        const label = r.model && i?.seen?.[r.model.id];
        if (!label) continue;
        expect(LABEL[String(r.seen ?? null) as 'true' | 'false' | 'null'], `${rec.suite!.name} ${r.file} ${r.compressor}`).toBe(label);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  test('published figures show, labelled "published, not measured here" with their source, even for a suite nobody ran here', () => {
    const suites = loadSuites([REPO_SUITES_DIR]);
    const md = suiteLeaderboardMarkdown([], suites);
    for (const name of ['enwik8', 'enwik9']) {
      const at = md.indexOf(`## ${name} — published, not measured here`);
      expect(at, name).toBeGreaterThan(0);
      const section = md.slice(at);
      const figures = suites.find((s) => s.name === name)!.published!;
      expect(figures.length).toBeGreaterThanOrEqual(5);
      for (const f of figures) expect(section).toContain(`| ${f.source} |`);
    }
    // Never a measured row: no board, so no ranking of them.
    expect(md).not.toMatch(/## enwik9 — protocol/);
  });

  test('the committed leaderboard is what the committed records render to, and the README shows its top rows', async () => {
    const records = await readRecords([join(ROOT, 'reports', 'records')]);
    const suites = loadSuites([REPO_SUITES_DIR]);
    const md = readFileSync(join(ROOT, 'reports', 'leaderboard.md'), 'utf8');
    // Rendering is a pure function of records and suites: regenerating changes nothing unless they did.
    expect(suiteLeaderboardMarkdown(records, suites)).toBe(md);
    expect(suiteLeaderboardHtml(records, suites)).toBe(readFileSync(join(ROOT, 'reports', 'leaderboard.html'), 'utf8'));
    // A real pooled ranking of every row on both suites.
    const { boards } = buildSuiteBoards(records, suites);
    for (const name of ['canterbury-text', 'snappy-mixed']) {
      const b = boards.find((x) => x.suite === name)!;
      expect(b.common).toHaveLength(b.inputs.length);
      expect(b.rows.length).toBeGreaterThanOrEqual(12);
      expect(b.rows.every((r) => Number.isFinite(r.pooledBpb))).toBe(true);
    }
    // The README's first screen links the board and quotes its top rows as they are.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const head = readme.slice(0, readme.indexOf('\n## '));
    expect(head).toContain('](reports/leaderboard.md)');
    const quoted = head.split('\n').filter((l) => /^\| \d+ \|/.test(l)).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    expect(quoted.length).toBeGreaterThanOrEqual(3);
    const canterbury = md.slice(md.indexOf('## canterbury-text'), md.indexOf('## ', md.indexOf('## canterbury-text') + 3));
    const board = canterbury.split('\n').filter((l) => /^\| \d+ \|/.test(l)).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
    for (const [rank, label, bpb, total] of quoted) {
      const row = board.find((r) => r[0] === rank)!;
      expect(row[1].startsWith(label), `README row ${rank}: ${label} / ${row[1]}`).toBe(true);
      expect([row[2], row[3]]).toEqual([bpb, total]);
    }
  });
});
