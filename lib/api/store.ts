/**
 * The probe and reconciliation interfaces (lib/store.ts) through the CQRS API: writes are POST /users, the
 * immediate read goes through the strategy under test, polls are plain `eventual` reads, each reporting the
 * server-side visibility the API returns in headers. The ledger and reconciliation go through the API too
 * (POST and GET /probe-acks), so the API scenarios need nothing but k6's built-in modules. Runtime-neutral
 * (the client is passed in), so it is tested in Node.
 */

import { ACKS_PER_REQUEST } from '../../common/ledger-sql.ts';
import type { Strategy } from '../../common/strategies.ts';
import type { AckLedger, AckSink } from '../ledger.ts';
import { ackChecks } from '../reconcile.ts';
import type {
  AckCheck,
  Endpoint,
  ProbeKey,
  ProbeTarget,
  ReconcileSource,
  RunScope,
  Sighting,
  WriteAck,
} from '../store.ts';
import type { ApiClient, ReadResult } from './client.ts';
import { probeEmail } from './sql.ts';

const sighting = (r: ReadResult): Sighting =>
  r.found && r.visibility ? { seen: true, visibility: r.visibility } : { seen: r.found };

export class ApiStore implements ProbeTarget {
  constructor(
    private readonly api: ApiClient,
    private readonly strategy: Strategy,
    /** This VU's ledger, shared by its stores so that one flush at the end of the run writes them all. */
    private readonly ledger: AckLedger,
  ) {}

  write(key: ProbeKey): WriteAck {
    const created = this.api.createUser(probeEmail(key), `probe ${key.vu}/${key.seq}`, this.strategy);
    return created.token === undefined ? { id: created.id } : { id: created.id, gtid: created.token };
  }

  readAfterWrite(_key: ProbeKey, ack: WriteAck): Sighting {
    return sighting(this.api.readUser(ack.id, this.strategy, ack.gtid, true));
  }

  poll(_key: ProbeKey, ack: WriteAck): Sighting {
    return sighting(this.api.readUser(ack.id, 'eventual', undefined, false));
  }

  recordAck(key: ProbeKey): void {
    this.ledger.record(key);
  }
}

/**
 * The ledger's sink: one POST /probe-acks per batch. A batch that grew while the API was failing is split to
 * what one request may carry. A VU's keys all share one run and runner; grouping keeps it right if they ever
 * do not.
 */
export class ApiAckSink implements AckSink {
  constructor(private readonly api: () => ApiClient) {}

  writeAcks(keys: readonly ProbeKey[]): void {
    const groups = new Map<string, { scope: RunScope; acks: { vu: number; seq: number }[] }>();
    for (const k of keys) {
      const id = `${k.runId}\n${k.runner}`;
      let g = groups.get(id);
      if (!g) {
        g = { scope: { runId: k.runId, runner: k.runner }, acks: [] };
        groups.set(id, g);
      }
      g.acks.push({ vu: k.vu, seq: k.seq });
    }
    for (const g of groups.values()) {
      for (let i = 0; i < g.acks.length; i += ACKS_PER_REQUEST)
        this.api().writeAcks(g.scope, g.acks.slice(i, i + ACKS_PER_REQUEST));
    }
  }
}

/** Reconciliation through GET /probe-acks: what teardown reconciles, on the writer and on the reader. */
export class ApiLedger implements ReconcileSource {
  constructor(private readonly api: () => ApiClient) {}

  acks(endpoint: Endpoint, scope: RunScope): ReadonlyMap<number, AckCheck> {
    return ackChecks(this.api().ackReport(endpoint, scope));
  }
}
