/**
 * Request bodies are JSON in valid UTF-8, uncompressed. Fastify would otherwise accept text/plain, ignore a
 * Content-Encoding it does not decode, decode a body declared `charset=latin1` as UTF-8 anyway, and turn invalid
 * UTF-8 into U+FFFD that then gets stored.
 */
import fp from 'fastify-plugin';
import { ClientError } from '../errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The charset parameter of a Content-Type (RFC 9110: case-insensitive, optionally quoted); undefined if none. */
export function charsetOf(contentType: string): string | undefined {
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? '') : undefined;
}

/** JSON is UTF-8 (RFC 8259); `utf8` is the WHATWG alias clients also send. */
const isUtf8 = (charset: string) => /^utf-?8$/i.test(charset);

export const strictBody = fp(
  async (app) => {
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      // Checked here rather than in a hook: only requests with a body pay for it.
      const encoding = request.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        done(
          new ClientError(415, `content-encoding ${encoding} is not supported; send uncompressed JSON`),
          undefined,
        );
        return;
      }
      const charset = charsetOf(request.headers['content-type'] ?? '');
      if (charset !== undefined && !isUtf8(charset)) {
        done(
          new ClientError(415, `charset ${JSON.stringify(charset)} is not supported; send JSON in UTF-8`),
          undefined,
        );
        return;
      }
      let text: string;
      try {
        text = utf8.decode(body as Buffer);
      } catch {
        done(new ClientError(400, 'body is not valid UTF-8'), undefined);
        return;
      }
      parseJson(request, text, done);
    });
  },
  { name: 'strict-body', fastify: '5.x' },
);
