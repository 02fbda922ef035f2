/** The user lookups' statements on one connection: the primary's, and every replica-side source's. */
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { Visibility } from '../../common/visibility.ts';
import {
  type Lookup,
  replicaVisibility,
  toUser,
  type User,
  type UserRow,
  type VisibleUserRow,
} from '../users/sql.ts';

export interface Found {
  users: User[];
  visibility: Visibility | undefined;
}

/** A row is visible on the primary from its own commit. */
const COMMITTED: Visibility = Object.freeze({ lagUs: 0, basis: 'commit' });

export async function selectPrimary(conn: PoolConnection, lookup: Lookup): Promise<Found> {
  const [rows] = await conn.execute<RowDataPacket[]>(lookup.sql, lookup.params);
  const users = (rows as unknown as UserRow[]).map(toUser);
  return { users, visibility: users.length > 0 ? COMMITTED : undefined };
}

/** Any read that is not on the primary: the replica, a GR secondary, or whatever Router picked. */
export async function selectReplica(conn: PoolConnection, lookup: Lookup): Promise<Found> {
  const [rows] = await conn.execute<RowDataPacket[]>(lookup.replicaSql, lookup.params);
  const typed = rows as unknown as VisibleUserRow[];
  const first = typed[0];
  return { users: typed.map(toUser), visibility: first && replicaVisibility(first) };
}
