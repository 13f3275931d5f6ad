/** A GGUF model llama.cpp cannot load or run (shared by the backend's files). */
export class GgufModelError extends Error {}
