/** Corpora registry: well-known corpora as data (`corpora/*.json`), fetched into a cache and resolved from specs. */
export { listCorpora, loadCorpora, parseManifest, selectCorpora, DEFAULT_MANIFEST_DIR } from './manifest.js';
export type { ByteRange, CorpusEntry } from './manifest.js';
export { fetchCorpus } from './fetch.js';
export type { FetchCorpusOptions } from './fetch.js';
export type { FetchImpl } from './download.js';
export { resolveInput, CorpusNotPresentError } from './resolve.js';
export type { ResolvedInput, ResolveOptions } from './resolve.js';
export { verifyFile, sha256File, HashMismatchError } from './hash.js';
export type { VerifiedFile } from './hash.js';
export { defaultCacheDir, cachePathFor, DEFAULT_SEARCH_DIRS, DATA_DIR_ENV, dataDirsFromEnv, defaultSearchDirs, useDataDirs } from './paths.js';
export { extractZipMember, listZipMembers } from './zip-member.js';
