/**
 * A bad value of a named setting, found below the CLI (docs/design.md: lower layers name
 * settings, the CLI maps them to its flags). The message names the setting as the library's
 * options do (`contextShift kv: …`); the CLI prints its flag instead (`--context-shift kv: …`).
 */
export class SettingError extends Error {
  constructor(
    /** The option's name in the library (`primeTokens`, `segments`, `contextShift`, `device`, `model`). */
    readonly setting: string,
    /** The value given, as text; undefined when the problem is the setting's absence. */
    readonly value: string | undefined,
    /** What is wrong, and what is accepted. */
    readonly reason: string,
  ) {
    super(`${setting}${value === undefined ? '' : ` ${value}`}: ${reason}`);
  }
}
