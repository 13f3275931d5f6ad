/**
 * `compress-bench joint`: shared structure between inputs, as every compressor sees it: joint
 * gain, conditional size C(B|A), NCD, what fits in each compressor's reach, and (LMs) direct
 * conditional coding. Exit codes as the main job: 1 when a round trip fails, 2 on bad usage.
 */
import type { Argv, CommandModule } from 'yargs';
import { parseBaselines, DEFAULT_BASELINES, BASELINES_SYNTAX } from '../compressors/baselines.js';
import type { Compressor } from '../compressors/compressor.js';
import { lmCompressor } from '../compressors/lm.js';
import { NPM_DATASETS } from '../corpora/npm-datasets.js';
import { loadJointInputs } from '../joint/inputs.js';
import { runJoint } from '../joint/run.js';
import { jointText } from '../joint/text-table.js';
import { RoundTripError } from '../joint/verified-size.js';
import { writeFileAtomic } from '../common/atomic.js';
import { jointHtml } from '../reports/joint-html.js';
import { progressBar, progressEnabled } from './progress.js';
import { requireAvailable } from './available.js';
import { MIX_PREFIX, loadModelOrMix } from './model-lookup.js';
import { UsageError, list, modelNames, modelOptions, modelRequest, wholeNumber, type ArgsOf, type OptionsOf } from './options.js';

/** ~1000 tokens of English: the whole of A fits a 1024-token context, and a 4-input run of the 7m model takes minutes on 2 cores. */
export const DEFAULT_JOINT_LIMIT = 4096;

function builder(y: Argv) {
  return modelOptions(y)
    .positional('inputs', {
      type: 'string',
      array: true,
      demandOption: true,
      describe: `Two or more: files, corpora (snappy/alice29.txt, enwik8:test) or npm datasets (${NPM_DATASETS.map((d) => `npm:${d.id}`).join(', ')})`,
    })
    .option('model', { alias: 'm', type: 'string', coerce: modelNames, describe: 'Model id, alias, folder or order-k[:K]; repeatable. None: baselines only' })
    .option('mix', { type: 'string', coerce: modelNames, describe: 'Also run mix:MODEL (the model mixed with online match and context models); repeatable' })
    .option('baselines', { type: 'string', default: DEFAULT_BASELINES, describe: BASELINES_SYNTAX })
    .option('skip-missing', { type: 'boolean', default: false, describe: 'Leave out baselines whose command is not on PATH (each is named on stderr) instead of failing' })
    .option('limit', { type: 'string', coerce: wholeNumber('limit', 0, 'a whole number of bytes ≥ 0 (0 = whole inputs)'), default: DEFAULT_JOINT_LIMIT, describe: 'Bytes taken from the start of each input (0 = whole inputs: slow for LMs)' })
    .option('primer-tokens', { type: 'string', coerce: wholeNumber('primer-tokens', 0, 'a whole number of tokens ≥ 0'), describe: "LMs: tokens of A primed before B in direct conditional coding (default: half the model's context)" })
    .option('self', { type: 'boolean', default: false, describe: 'Also code each input after itself (A‖A): how much each compressor can copy' })
    .option('reach-split', { type: 'boolean', default: true, describe: "Split the gain into within/beyond reach (codes A's last window before B when A exceeds it; --no-reach-split skips)" })
    .option('conditional', { type: 'boolean', default: true, describe: 'LMs: also code B after a primer of A directly (--no-conditional skips)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON (schema in docs/joint.md)' })
    .option('html', { type: 'string', describe: 'Write a self-contained HTML page (heatmaps, dendrograms) to this file' })
    .example('$0 joint -m order-k --baselines gzip:9 README.md docs/design.md', 'what each compressor gains by coding the two files together');
}

type JointOptions = OptionsOf<typeof builder>;

async function joint(a: ArgsOf<typeof builder>): Promise<number> {
  const specs = list(a.inputs);
  if (specs.length < 2) throw new UsageError('joint needs at least two inputs: compress-bench joint [--model M] A B [C ...]');
  const limit = a.limit === 0 ? null : (a.limit ?? DEFAULT_JOINT_LIMIT);
  const inputs = await loadJointInputs(specs, limit);
  const compressors: Compressor[] = [];
  for (const m of [...list(a.model), ...list(a.mix).map((x) => MIX_PREFIX + x)]) {
    const model = await loadModelOrMix(modelRequest(a, m));
    // One segment: the concatenation A‖B must be coded in one context, or B never sees A.
    compressors.push(lmCompressor(model, { segments: 1 }));
  }
  const { usable, skipped } = await requireAvailable(parseBaselines(a.baselines), a['skip-missing']);
  compressors.push(...usable);
  if (compressors.length === 0) throw new UsageError('nothing to measure: give --model and/or --baselines');

  const show = progressEnabled(a.quiet);
  const log = (line: string) => !a.quiet && process.stderr.write(line + '\n');
  try {
    const report = await runJoint(inputs, compressors, {
      limit,
      primerTokens: a['primer-tokens'],
      self: a.self,
      reachSplit: a['reach-split'],
      conditional: a.conditional,
      argv: process.argv.slice(2),
      skipped,
      progress: (label) => progressBar(label, show),
      done: (name, seconds) => log(`joint: ${name} done in ${seconds.toFixed(1)} s`),
    });
    if (a.html) {
      await writeFileAtomic(a.html, jointHtml(report));
      log(`joint: wrote ${a.html}`);
    }
    process.stdout.write(a.json ? JSON.stringify(report, null, 2) + '\n' : jointText(report));
    return 0;
  } catch (e) {
    if (!(e instanceof RoundTripError)) throw e;
    process.stderr.write(`compress-bench: ${e.message}\n`);
    return 1;
  } finally {
    for (const c of compressors) await c.dispose?.();
  }
}

export const jointCommand: CommandModule<object, JointOptions> = {
  command: 'joint <inputs..>',
  describe: 'Joint compression: joint gain, C(B|A), NCD and clustering of two or more inputs, per compressor',
  builder,
  handler: async (argv) => {
    process.exitCode = await joint(argv);
  },
};
