// The settings every LMDB environment of email-verify opens with (the cache, the server's jobs,
// and the tests that open those files raw), so that no two openers of one file differ.
import type { RootDatabaseOptionsWithPath } from 'lmdb';

/**
 * The memory map reserved up front, where that costs only address space: 16 GiB.
 *
 * lmdb-js starts a map at 128 KiB and remaps it larger each time the file outgrows it. When
 * several processes write one cache (shards of a run, a cron job beside a server), each remaps
 * as the others grow the file, and about one process in 120 died of SIGSEGV under load (4 to 6
 * writers at once, 20,000 rows each: 6 of 960 processes with lmdb-js's default, 0 of 960 with
 * this size; /tmp stress runs, described in the commit). On Linux and macOS the map is address
 * space only: the file grows with its data, not to the map's size. Windows' LMDB sizes the file
 * to the map, so there the default stays.
 */
export const LMDB_MAP_SIZE = 16 * 1024 ** 3;

export function lmdbOptions(
  file: string,
  maxDbs: number,
  platform: NodeJS.Platform = process.platform,
): RootDatabaseOptionsWithPath {
  return {
    path: file,
    maxDbs,
    // overlappingSync (lmdb-js's default on Linux and macOS) syncs on a background thread that a
    // native exit hook must wind down; a cache needs no such speed. (It was not the cause of the
    // crashes at close: see lmdb-writer-guard.ts.) Commits still happen off the main thread.
    overlappingSync: false,
    ...(platform === 'win32' ? {} : { mapSize: LMDB_MAP_SIZE }),
  };
}
