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
      let text: string;
      try {
        text = utf8.decode(body as Buffer);
      } catch {
        done(new ClientError(400, 'body is not valid UTF-8'), undefined);
        return;
      }
      parseJson(request, text, done);
    });
    app.addHook('onRequest', async (request) => {
      const encoding = request.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        throw new ClientError(415, `content-encoding ${encoding} is not supported; send uncompressed JSON`);
      }
    });
  },
  { name: 'strict-body', fastify: '5.x' },
);
