/** The CLI's flag for each library setting a `SettingError` names (common/setting-error.ts). */
import { SettingError } from '../common/setting-error.js';

const FLAGS: Record<string, string> = {
  model: '--model',
  modelDirs: '--model-dir',
  device: '--device',
  segments: '--segments',
  primeTokens: '--prime',
  contextLength: '--context',
  contextShift: '--context-shift',
  mixMemory: '--mix-memory',
};

/** An error's message as the CLI prints it: a setting error names the flag. */
export function cliMessage(e: unknown): string {
  if (e instanceof SettingError) return `${FLAGS[e.setting] ?? e.setting}${e.value === undefined ? '' : ` ${e.value}`}: ${e.reason}`;
  return e instanceof Error ? e.message : String(e);
}
