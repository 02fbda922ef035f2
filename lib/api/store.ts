/**
 * The probe and reconciliation interfaces (lib/store.ts) through the CQRS API: writes are POST /users, the
 * immediate read goes through the strategy under test, polls are plain `eventual` reads. The ledger and
 * reconciliation use SQL directly (they measure the API; they do not go through it).
 */
import type { Strategy } from '../../common/strategies.ts';
import type { TimedDb } from '../k6/db.ts';
import { ackChecks } from '../reconcile.ts';
import { SQL } from '../sql/statements.ts';
import type {
  AckCheck,
  Endpoint,
  ProbeKey,
  ProbeTarget,
  ReconcileSource,
  RunScope,
  WriteAck,
} from '../store.ts';
import type { ApiClient } from './client.ts';
import { API_SQL, probeEmail } from './sql.ts';

export class ApiStore implements ProbeTarget {
  constructor(
    private readonly api: ApiClient,
    private readonly strategy: Strategy,
    private readonly ledgerDb: ApiLedger,
  ) {}

  write(key: ProbeKey): WriteAck {
    const created = this.api.createUser(probeEmail(key), `probe ${key.vu}/${key.seq}`, this.strategy);
    return created.token === undefined ? { id: created.id } : { id: created.id, gtid: created.token };
  }

  readAfterWrite(_key: ProbeKey, ack: WriteAck): boolean {
    return this.api.readUser(ack.id, this.strategy, ack.gtid, true).found;
  }

  poll(_key: ProbeKey, ack: WriteAck): boolean {
    return this.api.readUser(ack.id, 'eventual', undefined, false).found;
  }

  recordAck(key: ProbeKey): void {
    this.ledgerDb.recordAck(key);
  }
}

/** The per-ack ledger and its reconciliation, in SQL: what teardown reconciles (no API client needed there). */
export class ApiLedger implements ReconcileSource {
  constructor(
    private readonly writer: TimedDb,
    private readonly reader: TimedDb,
  ) {}

  recordAck(key: ProbeKey): void {
    this.writer.exec('ledger', SQL.ackWrite, key.runId, key.runner, key.vu, key.seq);
  }

  acks(endpoint: Endpoint, scope: RunScope): ReadonlyMap<number, AckCheck> {
    const db = endpoint === 'writer' ? this.writer : this.reader;
    return ackChecks(db.query('reconcile_acks', API_SQL.acksByVu, scope.runId, scope.runner));
  }
}
