/** An error meant for the person at the terminal: one line, no stack trace. */
export class StackError extends Error {
  override name = 'StackError';
}

export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0] ?? msg;
}
