import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findK6, K6_HELP, parseK6Version } from '../../run/k6-binary.ts';

const XK6_BUILD = `k6 v2.2.0 (go1.25.1, linux/amd64)
Extensions:
  github.com/grafana/xk6-sql v1.2.1, k6/x/sql [js]
  github.com/grafana/xk6-sql-driver-mysql v0.4.0, k6/x/sql/driver/mysql [js]
`;
const PLAIN = 'k6 v2.2.0 (go1.25.1, linux/amd64)\n';

const dir = mkdtempSync(join(tmpdir(), 'fake-k6-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in k6 binary: a shell script that prints the given `k6 version` output. */
function fakeK6(name: string, output: string, exitCode = 0): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, 'k6');
  writeFileSync(path, `#!/bin/sh\ncat <<'OUT'\n${output}OUT\nexit ${exitCode}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('k6 discovery', () => {
  it('parses the version and the extension modules from `k6 version`', () => {
    expect(parseK6Version(XK6_BUILD)).toEqual({
      version: '2.2.0',
      modules: ['k6/x/sql', 'k6/x/sql/driver/mysql'],
    });
    expect(parseK6Version(PLAIN)).toEqual({ version: '2.2.0', modules: [] });
    expect(parseK6Version('bash: k6: not found').version).toBeNull();
  });

  it('accepts K6_BIN pointing at an xk6 build with xk6-sql and the MySQL driver', async () => {
    const path = fakeK6('xk6', XK6_BUILD);
    await expect(findK6({ K6_BIN: path, PATH: '' })).resolves.toEqual({
      path,
      version: '2.2.0',
      sql: 'bundled',
    });
  });

  it('finds k6 on PATH when K6_BIN is unset', async () => {
    const path = fakeK6('on-path', XK6_BUILD);
    await expect(findK6({ PATH: `/nonexistent:${join(dir, 'on-path')}` })).resolves.toMatchObject({ path });
  });

  it('fails with one line naming both ways to get k6 when there is none', async () => {
    const err = findK6({ PATH: '/nonexistent' });
    await expect(err).rejects.toThrow(`no k6 found (K6_BIN is unset and there is no k6 on PATH); ${K6_HELP}`);
    await expect(findK6({ PATH: '' })).rejects.toThrow(
      /automatic extension resolution.*xk6 recipe in build\/xk6/,
    );
    await expect(findK6({ K6_BIN: join(dir, 'missing'), PATH: '' })).rejects.toThrow(
      /is not an executable file/,
    );
  });

  it('rejects a plain k6 without the extension, unless automatic resolution is allowed', async () => {
    const path = fakeK6('plain', PLAIN);
    await expect(findK6({ K6_BIN: path })).rejects.toThrow(
      `k6 v2.2.0 at ${path} lacks k6/x/sql and k6/x/sql/driver/mysql; ${K6_HELP}`,
    );
    await expect(findK6({ K6_BIN: path, CQRS_K6_AUTO_EXTENSIONS: '1' })).resolves.toMatchObject({
      sql: 'auto',
    });
    const old = fakeK6('old', 'k6 v1.1.0 (go1.24, linux/amd64)\n');
    await expect(findK6({ K6_BIN: old, CQRS_K6_AUTO_EXTENSIONS: '1' })).rejects.toThrow(/too old.*≥ 1\.2/);
  });

  it('refuses a CQRS_K6_AUTO_EXTENSIONS that is neither 0 nor 1', async () => {
    const path = fakeK6('plain-flag', PLAIN);
    await expect(findK6({ K6_BIN: path, CQRS_K6_AUTO_EXTENSIONS: 'yes' })).rejects.toThrow(
      'invalid CQRS_K6_AUTO_EXTENSIONS; reason: expected one of 0|1, got "yes"',
    );
  });

  it('rejects a binary that is not k6', async () => {
    const path = fakeK6('broken', 'segfault\n', 2);
    await expect(findK6({ K6_BIN: path })).rejects.toThrow(/does not answer `k6 version` like k6 does/);
  });
});
