/** Progress hooks, given from above so no layer prints by itself (docs/design.md). */
export interface ProgressHooks {
  /** `done` and `total` in the unit the compressor counts (tokens for LMs, bytes otherwise). */
  progress?(done: number, total: number, phase: 'encode' | 'decode' | 'download'): void;
  /** The work is over: drop any display (a TTY bar's redraw timer would keep the process alive). */
  stop?(): void;
}
