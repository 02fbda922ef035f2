/**
 * Jepsen-style session guarantees, checked per VU:
 * - read-your-writes: once this VU's write is acknowledged, its own later client reads must see it;
 * - monotonic reads: values this VU observes on a stream (heartbeat time, highest id) never go backwards.
 * Violations are counted; the first few are kept (and logged) with ids and timings.
 */
export type ViolationKind = 'read-your-writes' | 'monotonic-reads';

export interface Violation {
  readonly kind: ViolationKind;
  readonly vu: number;
  readonly atMs: number;
  readonly detail: string;
}

/** Acknowledged tags are remembered up to this many per VU (oldest forgotten first). */
const ACK_MEMORY = 10_000;

export class SessionChecker {
  readonly counts: Record<ViolationKind, number> = { 'read-your-writes': 0, 'monotonic-reads': 0 };
  readonly examples: Violation[] = [];
  private readonly acked = new Map<string, number>();
  private readonly highest = new Map<string, { value: number; atMs: number }>();

  constructor(
    private readonly vu: number,
    private readonly exampleLimit: number,
    private readonly log: (line: string) => void = () => {},
  ) {}

  acknowledged(tag: string, atMs: number): void {
    this.acked.set(tag, atMs);
    if (this.acked.size > ACK_MEMORY) {
      const oldest = this.acked.keys().next().value;
      if (oldest !== undefined) this.acked.delete(oldest);
    }
  }

  /** A client read of a row this VU wrote; returns true when it is a violation. */
  readOwnWrite(tag: string, found: boolean, atMs: number): boolean {
    const ackedAt = this.acked.get(tag);
    if (found || ackedAt === undefined) return false;
    const since = (atMs - ackedAt).toFixed(3);
    this.violate('read-your-writes', atMs, `tag=${tag} missing ${since}ms after its acknowledgement`);
    return true;
  }

  /** Observes a value on a stream that must not decrease; returns true when it went backwards. */
  observe(stream: string, value: number, atMs: number): boolean {
    const prev = this.highest.get(stream);
    if (prev && value < prev.value) {
      this.violate(
        'monotonic-reads',
        atMs,
        `${stream} went back from ${prev.value} (seen at ${prev.atMs.toFixed(3)}ms) to ${value}`,
      );
      return true;
    }
    if (!prev || value > prev.value) this.highest.set(stream, { value, atMs });
    return false;
  }

  private violate(kind: ViolationKind, atMs: number, detail: string): void {
    this.counts[kind]++;
    if (this.examples.length < this.exampleLimit) {
      const v: Violation = { kind, vu: this.vu, atMs, detail };
      this.examples.push(v);
      this.log(`${kind} violation (vu ${this.vu}, t=${atMs.toFixed(3)}ms): ${detail}`);
    }
  }
}
