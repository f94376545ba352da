/**
 * Reads a request body within limits, counted as it streams: the bytes on the
 * wire (maxBodyBytes) and, when Content-Encoding compresses it, the bytes after
 * decompression (maxDecompressedBytes), so a small gzip bomb is stopped as soon
 * as it expands past the limit. Nothing larger than the limits is ever buffered.
 */
import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import { FalconerError } from '../errors.ts';
import type { ContentEncoding } from './content.ts';

export interface BodyLimits {
  readonly maxBodyBytes: number;
  readonly maxDecompressedBytes: number;
}

export interface Body {
  readonly bytes: Buffer;
  /** Size on the wire. */
  readonly wireBytes: number;
}

/** RFC 1950 zlib header check: HTTP "deflate" should be zlib-wrapped, but some clients send raw deflate. */
function looksLikeZlib(first: Buffer): boolean {
  if (first.length < 2) return true;
  const cmf = first[0] as number;
  const flg = first[1] as number;
  return (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0;
}

function decompressor(encoding: Exclude<ContentEncoding, 'identity'>, first: Buffer): Transform {
  if (encoding === 'gzip') return createGunzip();
  if (encoding === 'br') return createBrotliDecompress();
  return looksLikeZlib(first) ? createInflate() : createInflateRaw();
}

function tooLarge(what: string, limit: number): FalconerError {
  return new FalconerError('INGEST_BODY_TOO_LARGE', `${what} exceeds the limit of ${limit} bytes`, { limit });
}

/**
 * Resolves with the (decompressed) body, or rejects with INGEST_BODY_TOO_LARGE
 * or INGEST_BAD_ENCODING. On rejection the request may not be fully read: the
 * caller should answer with `Connection: close`.
 */
export function readBody(req: IncomingMessage, encoding: ContentEncoding, limits: BodyLimits): Promise<Body> {
  return new Promise<Body>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let wire = 0;
    let out = 0;
    let inflater: Transform | undefined;
    let settled = false;

    const fail = (err: FalconerError): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      if (inflater !== undefined) inflater.destroy();
      // Keep draining (not buffering) so the client can read our answer; the caller closes the connection.
      req.resume();
      reject(err);
    };
    const succeed = (): void => {
      if (settled) return;
      settled = true;
      resolve({ bytes: Buffer.concat(chunks, out), wireBytes: wire });
    };
    const collect = (chunk: Buffer): void => {
      out += chunk.length;
      if (out > limits.maxDecompressedBytes) {
        fail(
          tooLarge(
            encoding === 'identity' ? 'request body' : 'decompressed request body',
            limits.maxDecompressedBytes,
          ),
        );
        return;
      }
      chunks.push(chunk);
    };

    const onData = (chunk: Buffer): void => {
      wire += chunk.length;
      if (wire > limits.maxBodyBytes) {
        fail(tooLarge('request body', limits.maxBodyBytes));
        return;
      }
      if (encoding === 'identity') {
        collect(chunk);
        return;
      }
      if (inflater === undefined) {
        inflater = decompressor(encoding, chunk);
        inflater.on('data', collect);
        inflater.on('end', succeed);
        inflater.on('error', (err: Error) =>
          fail(
            new FalconerError(
              'INGEST_BAD_ENCODING',
              `body is not valid ${encoding} data: ${err.message.slice(0, 100)}`,
            ),
          ),
        );
      }
      // Respect the decompressor's backpressure so expansion happens no faster than we count it.
      if (!inflater.write(chunk)) {
        req.pause();
        inflater.once('drain', () => {
          if (!settled) req.resume();
        });
      }
    };
    const onEnd = (): void => {
      if (settled) return;
      if (encoding === 'identity') succeed();
      else if (inflater === undefined)
        succeed(); // empty body
      else inflater.end();
    };

    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', (err) =>
      fail(new FalconerError('INGEST_BAD_ENCODING', `request aborted: ${err.message.slice(0, 100)}`)),
    );
  });
}
