// SMTP sessions at once over all mail hosts (--concurrency). A free slot goes to the host with
// the most addresses still waiting for its sessions, not to whoever asked first: a big provider
// (a third of a consumer list on one host) is the run's longest chain of sessions, so it must
// run beside the small hosts from the start, not after them. First come, first served made it
// wait behind every small host's session each time one of its own ended, and it then ran alone
// at its own cap for half the run (issue 15). This is longest-processing-time-first, the rule
// that keeps a batch of jobs on parallel machines nearest its shortest finish. A host's own cap
// still bounds what it can take, so a big host never holds more slots than it may have sessions.

interface Waiter {
  /** Order of asking: among hosts with as much waiting, the one that asked first goes first. */
  seq: number;
  start(): void;
}

interface Asker {
  /** Addresses waiting for this host's sessions now: asked at each grant, never cached. */
  weight(): number;
  waiters: Waiter[];
}

export class SessionPool {
  private active = 0;
  private seq = 0;
  /** Hosts with a session waiting for a slot, by key. */
  private readonly askers = new Map<string, Asker>();

  constructor(private readonly size: number) {}

  /** Runs `fn` in a slot; `key` names the host (its sessions share a weight), `weight` its backlog. */
  run<T>(key: string, weight: () => number, fn: () => Promise<T>): Promise<T> {
    if (this.active < this.size) return this.hold(fn);
    return new Promise<T>((resolve, reject) => {
      let asker = this.askers.get(key);
      if (!asker) this.askers.set(key, (asker = { weight, waiters: [] }));
      asker.waiters.push({ seq: this.seq++, start: () => this.hold(fn).then(resolve, reject) });
    });
  }

  private async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.active += 1;
    try {
      return await fn();
    } finally {
      this.active -= 1;
      this.next();
    }
  }

  private next(): void {
    let best: [string, Asker] | undefined;
    let bestWeight = 0;
    for (const entry of this.askers) {
      const weight = entry[1].weight();
      if (!best || weight > bestWeight || (weight === bestWeight && entry[1].waiters[0]!.seq < best[1].waiters[0]!.seq)) {
        best = entry;
        bestWeight = weight;
      }
    }
    if (!best) return;
    const [key, asker] = best;
    const waiter = asker.waiters.shift()!;
    if (asker.waiters.length === 0) this.askers.delete(key);
    waiter.start();
  }
}
