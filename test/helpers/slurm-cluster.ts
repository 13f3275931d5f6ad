/**
 * A one-node Slurm cluster in a temporary directory, for test/slurm.test.ts: munged with its own
 * key, socket, pid and log files; slurmctld and slurmd as root on 127.0.0.1 on two free ports;
 * state, spool and logs in the directory; no systemd, nothing under /etc or /var touched.
 * `stop()` cancels the jobs, then ends the three daemons by the PIDs in their pid files.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** What the cluster and the test need on PATH (Debian: slurm-wlm and munge). */
export const SLURM_BINARIES = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'scancel'];

const onPath = (bin: string) => (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, bin)));

/** Why a real cluster cannot be started here, or null. */
export function slurmSkipReason(): string | null {
  // slurmd lives in /usr/sbin, which a non-root PATH may lack.
  const missing = SLURM_BINARIES.filter((b) => !onPath(b) && !existsSync(join('/usr/sbin', b)));
  if (missing.length) return `Slurm binaries absent (${missing.join(', ')}; Debian: apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return 'not root: the one-node cluster runs munged, slurmctld and slurmd as root';
  return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export class SlurmCluster {
  readonly conf: string;
  readonly node = hostname().split('.')[0];
  private readonly munge: { socket: string; key: string; pid: string; log: string; seed: string };
  private readonly pidFiles: { name: string; path: string }[];
  private readonly logs: string[];

  constructor(readonly dir: string) {
    this.conf = join(dir, 'slurm.conf');
    const m = join(dir, 'munge');
    this.munge = { socket: join(m, 'run', 'munge.socket'), key: join(m, 'etc', 'munge.key'), pid: join(m, 'run', 'munged.pid'), log: join(m, 'log', 'munged.log'), seed: join(m, 'lib', 'munged.seed') };
    this.pidFiles = [
      { name: 'slurmd', path: join(dir, 'slurmd.pid') },
      { name: 'slurmctld', path: join(dir, 'slurmctld.pid') },
      { name: 'munged', path: this.munge.pid },
    ];
    this.logs = [join(dir, 'log', 'slurmctld.log'), join(dir, 'log', 'slurmd.log'), this.munge.log];
  }

  /** The environment for sbatch, squeue, scontrol, scancel: they find the cluster by SLURM_CONF. */
  get env(): Record<string, string> {
    return { SLURM_CONF: this.conf };
  }

  async start(): Promise<void> {
    const { dir, munge } = this;
    for (const d of ['munge/etc', 'munge/lib', 'munge/log', 'munge/run', 'state', 'spool', 'log']) mkdirSync(join(dir, d), { recursive: true });
    // munged refuses a key or directories that others can read or write; its socket's directory must be searchable.
    for (const d of ['munge/etc', 'munge/lib', 'munge/log']) chmodSync(join(dir, d), 0o700);
    for (const d of ['munge', 'munge/run']) chmodSync(join(dir, d), 0o755);
    writeFileSync(munge.key, randomBytes(1024), { mode: 0o600 }); // what `mungekey` or `dd if=/dev/urandom` would write
    this.daemon('munged', ['--force', `--socket=${munge.socket}`, `--key-file=${munge.key}`, `--pid-file=${munge.pid}`, `--log-file=${munge.log}`, `--seed-file=${munge.seed}`]);

    // The node as slurmd sees the hardware (CPUs, sockets, cores, memory), so it is not drained for a mismatch.
    const hardware = this.daemon('slurmd', ['-C']).split('\n')[0].replace(/^NodeName=\S+\s*/, '');
    const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'plugstack.conf'), ''); // not /etc/slurm's SPANK plugins
    writeFileSync(
      this.conf,
      [
        'ClusterName=cbtest',
        `SlurmctldHost=${this.node}(127.0.0.1)`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${slurmdPort}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        'AuthType=auth/munge',
        'CredType=cred/munge',
        `AuthInfo=socket=${munge.socket}`,
        `StateSaveLocation=${join(dir, 'state')}`,
        `SlurmdSpoolDir=${join(dir, 'spool')}`,
        `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
        `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
        `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
        `PlugStackConfig=${join(dir, 'plugstack.conf')}`,
        // No cgroups (none to be had in a container): processes tracked by parent PID, tasks not bound.
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'JobCompType=jobcomp/none',
        'MpiDefault=none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core',
        'SchedulerType=sched/builtin', // first in, first out; no backfill thread to wait for at shutdown
        // Schedule a job as soon as it is submitted or its dependency is met (defaults: up to 3 s and 60 s later).
        'SchedulerParameters=batch_sched_delay=0,sched_interval=1',
        'ReturnToService=2',
        // Finished jobs stay visible to scontrol (there is no accounting database for sacct).
        'MinJobAge=600',
        `NodeName=${this.node} NodeAddr=127.0.0.1 ${hardware} State=UNKNOWN`,
        `PartitionName=debug Nodes=${this.node} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    this.daemon('slurmctld', ['-f', this.conf]);
    this.daemon('slurmd', ['-f', this.conf, '-N', this.node]);
    const deadline = Date.now() + 60_000;
    let state = '';
    while (Date.now() < deadline) {
      state = (await this.scontrol(['show', 'node', this.node, '-o']).catch((e: Error) => e.message)).match(/State=(\S+)/)?.[1] ?? state;
      if (state === 'IDLE') return;
      await sleep(200);
    }
    throw new Error(`slurm cluster: node ${this.node} not IDLE after 60 s (state ${state || 'unknown'}); ${this.logTail()}`);
  }

  /** Runs a daemon (each forks into the background and writes its pid file) or `slurmd -C`. */
  private daemon(bin: string, args: string[]): string {
    const path = existsSync(join('/usr/sbin', bin)) ? join('/usr/sbin', bin) : bin;
    try {
      return execFileSync(path, args, { env: { ...process.env, SLURM_CONF: this.conf }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`slurm cluster: ${bin} ${args.join(' ')} failed: ${(err.stderr || err.message).trim().split('\n').pop()}; ${this.logTail()}`);
    }
  }

  async run(bin: string, args: string[], env: Record<string, string | undefined> = {}): Promise<string> {
    // A client that cannot reach slurmctld retries for a while; a minute is a dead controller.
    const { stdout } = await promisify(execFile)(bin, args, { env: { ...env, ...this.env }, cwd: this.dir, timeout: 60_000 });
    return stdout;
  }

  scontrol(args: string[]): Promise<string> {
    return this.run('scontrol', args, process.env);
  }

  /** The last line of each daemon log, for error messages. */
  logTail(): string {
    return this.logs
      .filter((f) => existsSync(f))
      .map((f) => `${f}: ${readFileSync(f, 'utf8').trim().split('\n').pop()}`)
      .join('; ');
  }

  /** Cancels every job, waits for the queue to empty, then ends the daemons by their pid files. Returns what it stopped. */
  async stop(): Promise<string[]> {
    const stopped: string[] = [];
    if (existsSync(join(this.dir, 'slurmctld.pid'))) {
      try {
        const jobs = (await this.run('squeue', ['-h', '-o', '%A'], process.env)).split('\n').filter(Boolean);
        if (jobs.length) await this.run('scancel', [...new Set(jobs)], process.env);
        for (let waited = 0; waited < 20_000 && (await this.run('squeue', ['-h', '-o', '%A'], process.env)).trim(); waited += 250) await sleep(250);
      } catch {
        // slurmctld already gone: nothing left to cancel through it; the daemons are still ended below.
      }
    }
    const end = async ({ name, path }: { name: string; path: string }) => {
      if (!existsSync(path)) return;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
      process.kill(pid, 'SIGTERM');
      for (let waited = 0; waited < 10_000 && alive(pid); waited += 50) await sleep(50);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      stopped.push(`${name} (pid ${pid})`);
    };
    // The two Slurm daemons together, then munged, which both authenticate through.
    await Promise.all(this.pidFiles.filter((p) => p.name !== 'munged').map(end));
    await end(this.pidFiles.find((p) => p.name === 'munged')!);
    return stopped;
  }
}
