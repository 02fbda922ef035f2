/**
 * The `sticky` strategy's memory: when each client last wrote. Per API process (a multi-instance deployment
 * would keep this in Redis); bounded, oldest entries evicted first.
 */
export class StickyWindows {
  private readonly lastWrite = new Map<string, number>();

  constructor(
    readonly windowMs: number,
    private readonly maxClients = 100_000,
  ) {}

  recordWrite(clientId: string, now: number): void {
    // Delete first so the Map's insertion order stays "least recently written first".
    this.lastWrite.delete(clientId);
    this.lastWrite.set(clientId, now);
    if (this.lastWrite.size > this.maxClients) {
      const oldest = this.lastWrite.keys().next();
      if (!oldest.done) this.lastWrite.delete(oldest.value);
    }
  }

  /** True while `clientId` is inside the window after its last write. */
  pinned(clientId: string | undefined, now: number): boolean {
    if (clientId === undefined) return false;
    const at = this.lastWrite.get(clientId);
    return at !== undefined && now - at < this.windowMs;
  }

  get size(): number {
    return this.lastWrite.size;
  }
}
