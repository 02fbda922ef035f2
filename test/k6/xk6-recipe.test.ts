import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const versions = Object.fromEntries(
  readFileSync('build/xk6/versions.env', 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z0-9_]+=/.test(l))
    .map((l) => l.split('=') as [string, string]),
);
const dockerfile = readFileSync('build/xk6/Dockerfile', 'utf8');

describe('xk6 recipe', () => {
  it('pins the k6 v2 line with xk6-sql v1.2 and the MySQL driver v0.4', () => {
    expect(versions.K6_VERSION).toMatch(/^2\.\d+\.\d+$/);
    expect(versions.XK6_SQL_VERSION).toMatch(/^1\.2\.\d+$/);
    expect(versions.XK6_SQL_DRIVER_MYSQL_VERSION).toMatch(/^0\.4\.\d+$/);
  });

  it('uses the same versions in the runner image as in versions.env', () => {
    for (const [name, value] of Object.entries(versions)) {
      expect(dockerfile, name).toContain(`ARG ${name}=${value}`);
    }
    expect(dockerfile).toMatch(/^FROM grafana\/k6:\$\{K6_VERSION\}$/m);
    expect(dockerfile).toContain('COPY --from=builder /tmp/k6 /usr/bin/k6');
  });
});
