/**
 * The Compose lab's delay proxy: the local stack's own DelayProxy (stack/delay-proxy.ts, same chunk delaying and
 * the same GET/PUT /delay control port), started for a container network. It shares the primary's network
 * namespace (Compose `network_mode: service:mysql-primary`), listens on every interface of it so the replica
 * can reach it, and reaches the primary on that namespace's loopback.
 * Args: <listenPort> <targetPort> <controlPort>, as the stack's proxy takes them.
 */
import { DelayProxy } from '../../stack/delay-proxy.ts';

const ALL_INTERFACES = '0.0.0.0';
const PRIMARY = '127.0.0.1';

async function main(): Promise<void> {
  const ports = process.argv.slice(2, 5).map(Number);
  if (ports.length !== 3 || !ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536)) {
    console.error('usage: lag-proxy <listenPort> <targetPort> <controlPort>');
    process.exit(2);
  }
  const [listenPort, targetPort, controlPort] = ports as [number, number, number];
  const proxy = new DelayProxy({
    listenPort,
    targetPort,
    controlPort,
    host: ALL_INTERFACES,
    targetHost: PRIMARY,
  });
  await proxy.listen();
  console.log(`delay proxy :${listenPort} -> :${targetPort}, control on :${controlPort}`);
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.on('SIGTERM', stop).on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(`delay proxy: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
