/**
 * Hostile connection strings for the redactor (common/dsn.ts) and every config that prints one: users and passwords
 * with '@', '/', ':', '%' (raw and percent-encoded) and unicode, in Go DSN and URL forms, well-formed and not.
 */

export interface CredentialCase {
  label: string;
  value: string;
  user: string;
  /** The password as the user meant it; no 4-character window of it (raw or encoded) may be printed. */
  password: string;
}

const USERS = ['writer', 'us@er', 'u/s/r', 'ünïcødé', 'us%40er', 'ad:min'];
const PASSWORDS = [
  'Sup3r@Secr3tTail',
  'Sl/ash/Pw9',
  'Co:lo:nPw',
  '100%Pure%41',
  'Pct%40Enc%2Fqq',
  'Pässwörd✓ßΩ',
  'Trail@',
  '@Lead9xy',
  'Parens)/(Kq',
  'Qm?&=#Zw;',
  'GoDsnPw',
];

const HOST = '127.0.0.1:23306';
const enc = encodeURIComponent;

/** Every user × password in every form. */
export function credentialCases(): CredentialCase[] {
  const out: CredentialCase[] = [];
  for (const user of USERS) {
    for (const password of PASSWORDS) {
      const forms: Record<string, string> = {
        'go dsn': `${user}:${password}@tcp(${HOST})/cqrs?interpolateParams=true`,
        'go dsn, no params': `${user}:${password}@tcp(${HOST})/cqrs`,
        'go dsn, bad port': `${user}:${password}@tcp(127.0.0.1:99999)/cqrs`,
        'go dsn, unclosed address': `${user}:${password}@tcp(${HOST}/cqrs`,
        'go dsn, no tcp()': `${user}:${password}@${HOST}/cqrs`,
        'go dsn, unescaped / in params': `${user}:${password}@tcp(${HOST})/cqrs?loc=Europe/Paris`,
        'go dsn, no address': `${user}:${password}@`,
        'no @ at all': `${user}:${password}`,
        'mysql url, raw': `mysql://${user}:${password}@${HOST}/cqrs`,
        'mysql url, encoded': `mysql://${enc(user)}:${enc(password)}@${HOST}/cqrs`,
        'mysql url, no host': `mysql://${enc(user)}:${enc(password)}`,
        'mysql url, password param': `mysql://${HOST}/cqrs?user=${enc(user)}&password=${enc(password)}`,
        'redis url, raw': `redis://:${password}@127.0.0.1:26379`,
        'redis url, encoded': `redis://:${enc(password)}@127.0.0.1:26379/0`,
        'redis url, token only': `redis://${enc(password)}@127.0.0.1:26379`,
        'http url': `https://${enc(user)}:${enc(password)}@api.example/x`,
        padded: `  ${user}:${password}@tcp(${HOST})/cqrs  `,
      };
      for (const [form, value] of Object.entries(forms)) {
        out.push({ label: `${form} [${user} / ${password}]`, value, user, password });
      }
    }
  }
  return out;
}

/** The 4-character windows (by code point) of a string, raw and percent-encoded. */
export function windows(value: string): Set<string> {
  const out = new Set<string>();
  for (const form of [value, encodeURIComponent(value)]) {
    const chars = Array.from(form);
    if (chars.length < 4) out.add(form);
    for (let i = 0; i + 4 <= chars.length; i++) out.add(chars.slice(i, i + 4).join(''));
  }
  return out;
}

/**
 * The windows of `c.password` that `text` shows. Windows the user name has too (`%C3%` of two encoded unicode
 * names, say) are shown as part of the user, not of the password, and are left out.
 */
export function leakedWindows(text: string, c: Pick<CredentialCase, 'user' | 'password'>): string[] {
  const user = windows(c.user);
  return [...windows(c.password)].filter((w) => !user.has(w) && text.includes(w));
}
