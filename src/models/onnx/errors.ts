/** A model the ONNX backend cannot load or run (shared by its files and by models/lookup.ts). */
export class CausalLmError extends Error {}
