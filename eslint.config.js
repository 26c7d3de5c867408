// Lint: the recommended JS and TypeScript rules; no console outside the CLI and the scripts
// (the engine reports through callbacks); and the direction of imports between the rooms of
// src/ (README.md, "Layout"), so that a leak fails CI instead of waiting for a review to notice it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The rooms of src/. Only the front doors (cli, server, runner, jobs — the server's job runner —
// and src/index.ts) wire rooms together; every other room may use core (and src/errors.ts) and
// the rooms MAY_USE names, and core nothing outside itself but its data modules (data/).
const ROOMS = ['core', 'dns', 'smtp', 'cache', 'io', 'report', 'finder', 'cli', 'server', 'runner', 'jobs'];
const FRONT_DOORS = new Set(['cli', 'server', 'runner', 'jobs']);
// The finder reads its people through io's table shape and writes its outputs with io's writer
// (finder/people-table.ts, finder/found-write.ts); its search is the engine's, handed in as a
// Verifier, so it reaches no network room itself.
const MAY_USE = { finder: ['io'] };

// What core must not reach: the network, files, processes. Module loading of files counts too
// (createRequire of a JSON file): core gets its data as modules (see core/flags.ts).
const NODE_IO = ['net', 'tls', 'dns', 'dns/promises', 'dgram', 'fs', 'fs/promises', 'child_process', 'module', 'http', 'https'];
// What the finder must not reach: it asks the engine, it opens no socket of its own.
const NODE_NET = ['net', 'tls', 'dns', 'dns/promises', 'dgram', 'http', 'https'];
// isIP/isIPv4/isIPv6 are pure parsers of address literals (core/syntax.ts), not sockets.
const PURE_FROM_NET = ['isIP', 'isIPv4', 'isIPv6'];

const CORE_IS_PURE = 'src/core is pure: no network, files or processes (README.md, "Layout"). Take what you need as a parameter.';

const FINDER_ASKS = 'src/finder asks the engine (a Verifier handed in): no network of its own.';

/** no-restricted-imports paths for Node's modules, under both spellings ('node:net' and 'net'). */
function nodePaths(names, message, { allowFromNet = [] } = {}) {
  return names.flatMap((name) => {
    const extra = name === 'net' && allowFromNet.length > 0 ? { allowImportNames: allowFromNet } : {};
    return [`node:${name}`, name].map((path) => ({ name: path, message, ...extra }));
  });
}

/** An esquery regex (no '/' allowed inside one: '\\x2F' stands for it) matching a module name. */
function nodeRegex(names) {
  const alternatives = names.map((name) => name.replace('/', '\\x2F')).join('|');
  return `/^(node:)?(${alternatives})$/`;
}

/**
 * What no-restricted-imports lets through: with allowImportNames on node:net it looks only at what
 * is imported (a default, a namespace or `import { Socket }` fail, `import { isIP }` passes), so
 * an import of nothing, `import 'node:net'`, passes it. This catches that one.
 */
function sideEffectImport(names, message) {
  return { selector: `ImportDeclaration[source.value=${nodeRegex(names)}][specifiers.length=0]`, message };
}

/** The import rules of one room: it may use core (and itself, and MAY_USE); the others are off limits. */
function roomRules(room) {
  if (room === 'core') {
    const patterns = [
      {
        // Anything up and out of src/core but the data modules: a room, src/index.ts, src/errors.ts.
        regex: '^\\.\\./(?!\\.\\./data/)',
        message: 'src/core uses nothing outside itself: the network stages are passed in (README.md, "Layout").',
      },
    ];
    return {
      'no-restricted-imports': ['error', { paths: nodePaths(NODE_IO, CORE_IS_PURE, { allowFromNet: PURE_FROM_NET }), patterns }],
      'no-restricted-syntax': [
        'error',
        sideEffectImport(['net'], CORE_IS_PURE),
        // Core's modules are all static imports; a dynamic one is how a leak would hide from the rule above.
        { selector: 'ImportExpression', message: `${CORE_IS_PURE} No dynamic import() in core.` },
      ],
      // process.getBuiltinModule('node:net'), process.env: core has no process.
      'no-restricted-globals': ['error', { name: 'process', message: CORE_IS_PURE }],
    };
  }
  const allowed = new Set([room, 'core', ...(MAY_USE[room] ?? [])]);
  const forbidden = ROOMS.filter((other) => !allowed.has(other));
  const uses = ['src/core', ...(MAY_USE[room] ?? []).map((other) => `src/${other}`)].join(' and ');
  const roomMessage = `src/${room} may use ${uses} only; only the front doors (cli, server, runner, jobs, index.ts) wire rooms together (README.md, "Layout").`;
  const indexMessage = 'src/index.ts is the public API, a front door: rooms do not import it.';
  // '../dns/mx.js', '../../smtp/session.js' …: another room reached from inside this one.
  const roomRegex = `^(\\.\\./)+(${forbidden.join('|')})(/|$)`;
  const indexRegex = '^(\\.\\./)+index\\.js$';
  const patterns = [
    { regex: roomRegex, message: roomMessage },
    { regex: indexRegex, message: indexMessage },
  ];
  const rules = {
    'no-restricted-imports': ['error', room === 'finder' ? { paths: nodePaths(NODE_NET, FINDER_ASKS), patterns } : { patterns }],
    // The same rooms through a dynamic import('…') with a literal name.
    'no-restricted-syntax': [
      'error',
      { selector: `ImportExpression[source.value=${esqueryRegex(roomRegex)}]`, message: roomMessage },
      { selector: `ImportExpression[source.value=${esqueryRegex(indexRegex)}]`, message: indexMessage },
      ...(room === 'finder' ? [{ selector: `ImportExpression[source.value=${nodeRegex(NODE_NET)}]`, message: FINDER_ASKS }] : []),
    ],
  };
  return rules;
}

/** A no-restricted-imports regex as an esquery regex literal. */
function esqueryRegex(regex) {
  return `/${regex.replaceAll('/', '\\x2F')}/`;
}

const layers = ROOMS.filter((room) => !FRONT_DOORS.has(room)).map((room) => ({
  files: [`src/${room}/**/*.ts`],
  rules: roomRules(room),
}));

export default tseslint.config(
  { ignores: ['dist/', 'dist-check/', 'node_modules/', 'coverage/', 'demo-output/', 'test-artifacts/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        queueMicrotask: 'readonly',
      },
    },
    rules: {
      // Control characters are what this project looks for: injection, escape codes.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: { 'no-console': 'error' },
  },
  // The page served at GET / (issue 14): plain JavaScript run by the browser.
  {
    files: ['src/server/page/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        sessionStorage: 'readonly',
        FormData: 'readonly',
        confirm: 'readonly',
      },
    },
  },
  ...layers,
);
