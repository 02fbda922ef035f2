/**
 * Which OS user the database servers run as. When the stack runs as root (CI does), they run as the dedicated
 * user `mysql`, so nothing a server writes is root's; that user must then reach its instance folder through
 * every parent of the state folder. Otherwise the servers run as the invoking user, as any daemon a user starts.
 */
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export interface ServerUser {
  user: OsUser;
  /** my.cnf `user=`, needed only when started by root (mariadbd refuses to run as root without it). */
  cnfUser?: string;
  /** Why the servers run as root after all: one line for the log. */
  warning?: string;
}

export const SERVER_OS_USER = 'mysql';

const ROOT: OsUser = { name: 'root', uid: 0, gid: 0 };

export function currentUser(): OsUser {
  const me = userInfo();
  return { name: me.username, uid: me.uid, gid: me.gid };
}

/** An entry of /etc/passwd (system users such as `mysql` live there, not in a directory service). */
export function lookupUser(name: string, passwd = '/etc/passwd'): OsUser | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) {
      return { name, uid: Number(uid), gid: Number(gid) };
    }
  }
  return undefined;
}

/** The first existing ancestor of `dir` (itself included) that `user` cannot traverse, if any. */
export function untraversable(dir: string, user: OsUser): string | undefined {
  const chain: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (d === dirname(d)) break;
  }
  for (const d of chain) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(d);
    } catch {
      return undefined; // not created yet: mkdir makes it traversable (0755 under the usual umask)
    }
    const mode = Number(st.mode);
    const ok =
      (mode & 0o001) !== 0 ||
      (Number(st.uid) === user.uid && (mode & 0o100) !== 0) ||
      (Number(st.gid) === user.gid && (mode & 0o010) !== 0);
    if (!ok) return d;
  }
  return undefined;
}

/**
 * Who the servers of `stateDir` run as: `wanted` when the stack runs as root and that user exists and can
 * reach the state folder's parent (the state folder itself is made traversable by the stack); else root, with
 * a warning; the invoking user when not root.
 */
export function serverUser(stateDir: string, wanted = SERVER_OS_USER, me = currentUser()): ServerUser {
  if (me.uid !== 0) return { user: me };
  const user = lookupUser(wanted);
  if (!user) {
    return {
      user: ROOT,
      cnfUser: 'root',
      warning: `warning: no OS user "${wanted}", so the database servers run as root (create it: adduser --system --group ${wanted})`,
    };
  }
  const blocked = untraversable(dirname(resolve(stateDir)), user);
  if (blocked) {
    return {
      user: ROOT,
      cnfUser: 'root',
      warning: `warning: OS user ${wanted} cannot reach ${blocked}, so the database servers run as root (chmod o+x ${blocked}, or set CQRS_STACK_DIR elsewhere)`,
    };
  }
  return { user, cnfUser: user.name };
}
