// CSV files from 4 MB up are parsed on a worker thread: the rows, the counts and the errors must be
// the ones the reader gives when it parses on its own thread. Each file is read both ways here
// (parseOnWorkerFrom 0 forces the worker onto small files).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { openInput, type DataRow } from '../../src/io/read.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'email-verify-parse-worker-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Everything the reader says of a file, or the message it refused it with. */
async function readAll(
  path: string,
  parseOnWorkerFrom: number,
): Promise<{ rows?: DataRow[]; shape?: unknown; encoding?: unknown; stats?: unknown; refused?: string }> {
  try {
    const input = await openInput(path, { parseOnWorkerFrom });
    const rows: DataRow[] = [];
    for await (const row of input.rows) rows.push(row);
    return { rows, shape: input.shape, encoding: input.encoding, stats: input.stats };
  } catch (error) {
    return { refused: (error as Error).message };
  }
}

/** The rows of a file the reader takes, on the worker. */
async function rowsOnWorker(path: string): Promise<DataRow[]> {
  const read = await readAll(path, 0);
  if (read.rows === undefined) throw new Error(read.refused);
  return read.rows;
}

const lines = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i)).join('');

const files: [string, string | Buffer][] = [
  [
    'quoted.csv',
    'id,name,email,notes\r\n' +
      lines(3000, (i) => `${i},"Doe, Jane ${i}",jane${i}@x${i % 7}.example,"said ""hi""\non two lines"\r\n`),
  ],
  ['cp1252.csv', iconv.encode('email;name\r\na@x.example;José – €5\r\n', 'windows-1252')],
  ['utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode('email\tname\r\nzoe@x.example\tZoë\r\n', 'utf-16le')])],
  ['bom.csv', '\uFEFFemail,name\na@x.example,A\n\nb@x.example,B\n'],
  ['extra-cells.csv', 'email,name\na@x.example,A,extra,more\nb@x.example\n'],
  [
    'bad-bytes.csv',
    Buffer.concat([
      Buffer.from('email,name\n' + lines(600, (i) => `u${i}@x.example,U\n`)),
      Buffer.from([0x61, 0x00, 0xc3, 0x28, 0x0a]),
    ]),
  ],
  ['bad-header.csv', Buffer.from('email,na\x00me\n' + lines(3000, (i) => `u${i}@x.example,U${i % 100 === 0 ? '\x07' : ''}\n`))],
  ['unclosed.csv', 'email,name\n' + lines(3000, (i) => `u${i}@x.example,U\n`) + '"open@x.example,U\nlast@x.example,V\n'],
  ['too-long.csv', 'email,name\nok@x.example,"' + 'x'.repeat(2 ** 20 + 10) + '"\n'],
  ['empty.csv', ''],
];

describe('the parse worker', () => {
  it.each(files)('reads %s as the reader does on its own thread', async (name, content) => {
    const path = join(dir, name);
    await writeFile(path, content);
    const here = await readAll(path, Number.POSITIVE_INFINITY);
    const onWorker = await readAll(path, 0);
    expect(onWorker).toEqual(here);
  });

  it('gives the rows of a file of many batches, in order, each once', async () => {
    const path = join(dir, 'many.csv');
    await writeFile(path, 'email,n\n' + lines(50_000, (i) => `u${i}@x.example,${i}\n`));
    const rows = await rowsOnWorker(path);
    expect(rows.map((r) => r.index)).toEqual(Array.from({ length: 50_000 }, (_, i) => i));
    expect(rows.at(-1)?.address).toBe('u49999@x.example');
  });

  it('says where an unclosed quote opens, as on the main thread', async () => {
    const path = join(dir, 'unclosed.csv');
    expect(await readAll(path, 0)).toEqual({
      refused: `${path}: a quote opened in the row at line 3002 is never closed; close it ("") or remove it`,
    });
  });

  it('lets the process exit when the rows are no longer wanted, closed or not', async () => {
    const path = join(dir, 'wanted.csv');
    await writeFile(path, 'email,n\n' + lines(50_000, (i) => `u${i}@x.example,${i}\n`));
    // The built reader in a process of its own, which must end by itself once it stops reading:
    // one loop breaks (closing the rows), the other just stops asking for more.
    const script = `
      import { openInput } from './dist/io/read.js';
      const take = async (close) => {
        const input = await openInput(${JSON.stringify(path)}, { parseOnWorkerFrom: 0 });
        const rows = input.rows[Symbol.asyncIterator]();
        for (let i = 0; i < 10; i++) await rows.next();
        if (close) await rows.return();
      };
      await take(true);
      await take(false);
      process.stdout.write('read 10 rows twice');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    // A process that never ends (the failure this test looks for) must not outlive the test.
    onTestFinished(() => void child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    expect({ code, out }).toEqual({ code: 0, out: 'read 10 rows twice' });
  });
});
