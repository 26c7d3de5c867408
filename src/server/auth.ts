// API keys: who may call, and whose jobs are whose. A job belongs to the digest of the key that
// made it, so keys are never stored or logged; comparisons take the same time whatever matches.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';

export interface KeyRing {
  /** The owner id of a key, or undefined when the key is not one of ours. */
  ownerOf(key: string | undefined): string | undefined;
}

/** The owner of every job when no keys are configured. */
export const LOCAL_OWNER = 'local';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

export function keyRing(keys: readonly string[]): KeyRing {
  const digests = [...new Set(keys)].map(digest);
  return {
    ownerOf(key) {
      if (digests.length === 0) return LOCAL_OWNER;
      if (key === undefined || key === '') return undefined;
      const presented = digest(key);
      // Every stored key is compared, so the time taken says nothing about which one matched.
      let match: Buffer | undefined;
      for (const stored of digests) if (timingSafeEqual(stored, presented)) match = stored;
      return match?.toString('hex').slice(0, 32);
    },
  };
}

/** Keys from --api-key (repeatable), EMAIL_VERIFY_API_KEYS (comma-separated) and --api-keys-file (one per line, # comments). */
export async function loadKeys(flags: readonly string[], env: NodeJS.ProcessEnv, file?: string): Promise<string[]> {
  const keys = [...flags, ...(env.EMAIL_VERIFY_API_KEYS ?? '').split(',')];
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--api-keys-file ${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    keys.push(...text.split(/\r?\n/).filter((line) => !line.trimStart().startsWith('#')));
  }
  const cleaned = keys.map((k) => k.trim()).filter((k) => k !== '');
  const short = cleaned.find((k) => k.length < 8);
  if (short !== undefined)
    throw new UsageError('an API key is shorter than 8 characters; use long random keys (openssl rand -hex 24)');
  return cleaned;
}
