/** `corpora list` (each registered corpus, and whether it is here) and `corpora fetch NAME…`. */
import type { CommandModule } from 'yargs';
import { corpusStatus } from '../corpora/status.js';
import { fetchCorpus, listCorpora } from '../corpora/index.js';

const LIST_EXAMPLE = ['$0 corpora list', 'every registered corpus and whether it is here'] as const;
const FETCH_EXAMPLE = ['$0 corpora fetch snappy/alice29.txt canterbury', 'one file and a whole collection, verified by SHA-256'] as const;

async function list(): Promise<void> {
  const counts = { present: 0, absent: 0, corrupt: 0 };
  for (const c of listCorpora()) {
    const status = await corpusStatus(c);
    counts[status.state]++;
    const splits = Object.keys(c.splits);
    const where =
      status.state === 'present' ? `  at ${status.path}${status.verified ? '' : ' (size checked; no pinned SHA-256)'}` : status.state === 'corrupt' ? `  (${status.why})` : '';
    process.stdout.write(
      `${c.name.padEnd(28)} ${c.bytes.toLocaleString('en-US').padStart(15)} B  ${c.sha256 ? c.sha256.slice(0, 16) + '…' : 'sha256 unverified'}  ${status.state.padEnd(7)}` +
        `${splits.length ? `  splits: ${splits.join(', ')}` : ''}${where}\n`,
    );
  }
  process.stdout.write(`${counts.present} present, ${counts.absent} absent, ${counts.corrupt} corrupt (compress-bench corpora fetch NAME downloads one)\n`);
}

export const corporaCommand: CommandModule = {
  command: 'corpora',
  describe: 'Known corpora: list (present / absent / corrupt), fetch',
  builder: (y) =>
    y
      .example(...LIST_EXAMPLE)
      .example(...FETCH_EXAMPLE)
      .command('list', 'List registered corpora: size, hash, and whether each is present, absent or corrupt here', (yy) => yy.example(...LIST_EXAMPLE), list)
      .command(
        'fetch <names..>',
        'Download, verify (SHA-256) and cache corpora; one already present and verified is left as it is',
        (yy) => yy.positional('names', { type: 'string', array: true }).example(...FETCH_EXAMPLE),
        async (argv) => {
          for (const name of argv.names as string[]) process.stdout.write((await fetchCorpus(name)) + '\n');
        },
      )
      .demandCommand(1, 'corpora list | corpora fetch NAME'),
  handler: () => {},
};
