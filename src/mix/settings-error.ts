/** A mixer setting that cannot be used (a bad value, an archive's unknown mixer version, a budget too small). */
export class MixSettingsError extends Error {}
