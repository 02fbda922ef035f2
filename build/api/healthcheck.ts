/**
 * The images' health check (Dockerfile HEALTHCHECK, Compose healthchecks): exit 0 when a GET answers 2xx within
 * two seconds, else 1. No argument: the API's own /healthz on its configured port (CQRS_API_PORT, read with
 * the API's config table); an argument: that URL (the delay proxy's control port). The images have no curl.
 */

import { API_VARS } from '../../config/api.ts';
import { readEnv } from '../../config/env.ts';

const url =
  process.argv[2] ?? `http://127.0.0.1:${readEnv({ port: API_VARS.port }, process.env).port}/healthz`;

fetch(url, { signal: AbortSignal.timeout(2000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
