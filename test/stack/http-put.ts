/** A PUT of `totalBytes` that stops sending once answered: how a client pushes a huge body at a server. */
import { request } from 'node:http';

export interface HugePutResult {
  status: number;
  body: string;
  /** From the first byte sent to the answer's end. */
  ms: number;
  /** How much of the body went out before the answer came. */
  sentBytes: number;
}

export function hugePut(url: string, totalBytes: number, declareLength: boolean): Promise<HugePutResult> {
  const chunk = Buffer.alloc(64 * 1024, 'x');
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let sent = 0;
    let answered = false;
    const req = request(url, {
      method: 'PUT',
      headers: declareLength ? { 'content-length': String(totalBytes) } : { 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, ms: performance.now() - t0, sentBytes: sent });
        req.destroy();
      });
    });
    // The server closes the connection after refusing: a reset while still sending is expected then.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const pump = () => {
      while (!answered && sent < totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}
