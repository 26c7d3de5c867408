// Counting the sockets and timers alive in this process, to prove a test left none behind.

/** The resource kinds our code and the simulated network create. */
const WATCHED = new Set(['TCPSocketWrap', 'TCPServerWrap', 'TLSWrap', 'UDPWrap', 'Timeout']);

export type ResourceCounts = Record<string, number>;

export function activeResources(): ResourceCounts {
  const counts: ResourceCounts = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (WATCHED.has(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** The kinds that exceed `allowed` in `counts`, with how many are too many. */
function excess(counts: ResourceCounts, allowed: ResourceCounts): ResourceCounts {
  const over: ResourceCounts = {};
  for (const [kind, n] of Object.entries(counts)) {
    if (n > (allowed[kind] ?? 0)) over[kind] = n - (allowed[kind] ?? 0);
  }
  return over;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (at most `withinMs`) until no kind exceeds `allowed`, and returns what is still in
 * excess ({} when clean). Closing a socket takes a turn or two of the event loop; a leaked
 * step timer (as long as the verifier's timeout) must outlast this wait to be seen, so keep
 * `withinMs` below that timeout.
 */
export async function excessAfterSettling(allowed: ResourceCounts, withinMs = 500): Promise<ResourceCounts> {
  const deadline = Date.now() + withinMs;
  let over = excess(activeResources(), allowed);
  while (Object.keys(over).length > 0 && Date.now() < deadline) {
    await sleep(20);
    over = excess(activeResources(), allowed);
  }
  return over;
}
