/**
 * The layering of docs/design.md, checked by `npm run lint:deps` (part of `npm test`, so CI).
 * A folder may import only folders listed BELOW it; folders on one line are peers and do not
 * import each other. Imports inside a folder are free. No cycles anywhere in src/.
 */
/** @type {string[][]} top to bottom */
const LAYERS = [
  ['cli'], // src/cli.ts and src/cli/
  ['reports'],
  ['joint', 'bench'],
  ['runner'],
  ['compressors', 'mix'],
  ['coding'],
  ['models'],
  ['step'],
  ['records', 'corpora'],
  ['suites'], // registry data; a RunRecord names the suite and protocol it ran
  ['common'],
];

const folder = (name) => (name === 'cli' ? '^src/(cli\\.ts$|cli/)' : `^src/${name}/`);
const rules = [];
LAYERS.forEach((layer, i) => {
  for (const name of layer) {
    // Everything at this level or above, except the folder itself.
    const forbidden = LAYERS.slice(0, i + 1).flat().filter((other) => other !== name);
    if (!forbidden.length) continue;
    rules.push({
      name: `layer-${name}`,
      comment: `src/${name} may import only the folders below it (docs/design.md: ${LAYERS.map((l) => l.join(',')).join(' > ')})`,
      severity: 'error',
      from: { path: folder(name) },
      to: { path: `(${forbidden.map(folder).join('|')})` },
    });
  }
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles (docs/design.md): data flows one way.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'known-layer',
      comment: 'Every file in src/ sits in a folder of the layer list (add a new folder to LAYERS and docs/design.md).',
      severity: 'error',
      from: { path: '^src/', pathNot: `(${LAYERS.flat().map(folder).join('|')})` },
      to: {},
    },
    ...rules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
