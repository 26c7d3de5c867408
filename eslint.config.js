// Lint: the recommended JS and TypeScript rules; no console outside the CLI and the scripts
// (the engine reports through callbacks, STYLE.md); and the direction of imports between the
// rooms of src/ (STYLE.md, "Direction of imports"), so that a leak fails CI instead of waiting
// for a review to notice it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The rooms of src/. Only the front doors (cli, server, runner, jobs — the server's job runner —
// and src/index.ts) wire rooms together; every other room may use core (and src/errors.ts) and
// nothing else of ours, and core nothing outside itself but its data modules (data/).
const ROOMS = ['core', 'dns', 'smtp', 'cache', 'io', 'report', 'cli', 'server', 'runner', 'jobs'];
const FRONT_DOORS = new Set(['cli', 'server', 'runner', 'jobs']);

// What core must not reach: the network, files, processes. Module loading of files counts too
// (createRequire of a JSON file): core gets its data as modules (see core/flags.ts).
const NODE_IO = ['net', 'tls', 'dns', 'dns/promises', 'dgram', 'fs', 'fs/promises', 'child_process', 'module', 'http', 'https'];
// isIP/isIPv4/isIPv6 are pure parsers of address literals (core/syntax.ts), not sockets.
const PURE_FROM_NET = ['isIP', 'isIPv4', 'isIPv6'];

function nodePath(name) {
  const message = `src/core is pure: no network, files or processes (STYLE.md). Take what you need as a parameter.`;
  const extra = name === 'net' ? { allowImportNames: PURE_FROM_NET } : {};
  return [`node:${name}`, name].map((path) => ({ name: path, message, ...extra }));
}

/** The import rule of one room: it may use core (and itself); the others are off limits. */
function roomRule(room) {
  if (room === 'core') {
    const patterns = [
      {
        // Anything up and out of src/core but the data modules: a room, src/index.ts, src/errors.ts.
        regex: '^\\.\\./(?!\\.\\./data/)',
        message: 'src/core uses nothing outside itself: the network stages are passed in (STYLE.md).',
      },
    ];
    return { 'no-restricted-imports': ['error', { paths: NODE_IO.flatMap(nodePath), patterns }] };
  }
  const forbidden = ROOMS.filter((other) => other !== room && other !== 'core');
  const patterns = [
    {
      // '../dns/mx.js', '../../smtp/session.js' …: another room reached from inside this one.
      regex: `^(\\.\\./)+(${forbidden.join('|')})(/|$)`,
      message: `src/${room} may use src/core only; only the front doors (cli, server, runner, jobs, index.ts) wire rooms together (STYLE.md).`,
    },
    {
      regex: '^(\\.\\./)+index\\.js$',
      message: 'src/index.ts is the public API, a front door: rooms do not import it.',
    },
  ];
  return { 'no-restricted-imports': ['error', { patterns }] };
}

const layers = ROOMS.filter((room) => !FRONT_DOORS.has(room)).map((room) => ({
  files: [`src/${room}/**/*.ts`],
  rules: roomRule(room),
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
