// Tokenize a text file with a tokenizer.json folder (transformers.js), for build.py's training data.
// usage: node tokenize.mjs TOKENIZER_DIR TEXT_FILE OUT_INT32_FILE
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve, basename, dirname } from 'node:path';
const [dir, textFile, out] = process.argv.slice(2);
const tf = await import('@huggingface/transformers');
tf.env.allowRemoteModels = false;
tf.env.localModelPath = dirname(resolve(dir)) + '/';
const tok = await tf.AutoTokenizer.from_pretrained(basename(resolve(dir)));
const ids = [];
for (const para of readFileSync(textFile, 'utf8').split(/\n(?=\n)/)) ids.push(...tok.encode(para, { add_special_tokens: false }));
writeFileSync(out, Buffer.from(Int32Array.from(ids).buffer));
console.log(`${ids.length} tokens`);
