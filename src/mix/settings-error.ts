/** A mixer setting that cannot be used: a bad value, or an archive's mixer version this build does not have. */
export class MixSettingsError extends Error {}
