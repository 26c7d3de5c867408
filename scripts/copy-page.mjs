// Part of `npm run build`: the page's static files go beside the compiled server, where
// src/server/routes/page.ts looks for them (../page/ from the routes), in dist/ as in src/.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/server/page/', import.meta.url), new URL('../dist/server/page/', import.meta.url), { recursive: true });
