/**
 * The local stack as a library: `stack/cli.ts`, `npm start`, the tests and the benchmarks all drive it through
 * these functions. Each lives in the module for its job: lifecycle.ts (up, down, one service), status.ts
 * (health and the lag measured now), lag-control.ts (`stack:lag`).
 */
export type { StackEndpoints } from '../common/endpoints.ts';
export { loadStackConfig, type StackConfig } from './config.ts';
export { StackError } from './errors.ts';
export { setLag } from './lag-control.ts';
export {
  type Log,
  runningTopology,
  stackDown,
  stackUp,
  startService,
  stopService,
  type UpResult,
} from './lifecycle.ts';
export { type ServiceStatus, type StackStatus, stackStatus } from './status.ts';
