/**
 * Request bodies are JSON in valid UTF-8, uncompressed. Fastify would otherwise accept text/plain, ignore a
 * Content-Encoding it does not decode, and turn invalid UTF-8 into U+FFFD that then gets stored.
 */
import fp from 'fastify-plugin';
import { ClientError } from '../errors.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

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
