/**
 * Which request bodies the ingest understands. Falco's http_output (json_output:
 * true) and falcosidekick's webhook output send `application/json`, one alert per
 * request; batches come as NDJSON. Falco with json_output: false sends text/plain,
 * which carries no fields to score: refused with a hint.
 */
import { FalconerError } from '../errors.ts';

export type BodyKind = 'json' | 'ndjson';
export type ContentEncoding = 'identity' | 'gzip' | 'deflate' | 'br';

const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/jsonlines',
]);

export const ACCEPTED_CONTENT_TYPES =
  'application/json (one alert), application/x-ndjson (one alert per line)';

export function bodyKind(contentType: string | undefined): BodyKind {
  if (contentType === undefined || contentType.trim() === '') {
    throw new FalconerError(
      'INGEST_UNSUPPORTED_MEDIA_TYPE',
      `missing Content-Type; accepted: ${ACCEPTED_CONTENT_TYPES}`,
    );
  }
  const [type = '', ...params] = contentType.split(';');
  const mediaType = type.trim().toLowerCase();
  for (const p of params) {
    const [k = '', v = ''] = p.split('=');
    if (k.trim().toLowerCase() === 'charset') {
      const charset = v.trim().replace(/^"|"$/g, '').toLowerCase();
      if (charset !== 'utf-8' && charset !== 'utf8') {
        throw new FalconerError(
          'INGEST_UNSUPPORTED_MEDIA_TYPE',
          'unsupported charset: only UTF-8 is accepted',
          {
            charset: charset.slice(0, 32),
          },
        );
      }
    }
  }
  if (mediaType === 'application/json') return 'json';
  if (NDJSON_TYPES.has(mediaType)) return 'ndjson';
  const hint = mediaType === 'text/plain' ? ' (for Falco, set json_output: true)' : '';
  throw new FalconerError(
    'INGEST_UNSUPPORTED_MEDIA_TYPE',
    `unsupported Content-Type ${JSON.stringify(mediaType.slice(0, 64))}${hint}; accepted: ${ACCEPTED_CONTENT_TYPES}`,
  );
}

export function contentEncoding(header: string | undefined): ContentEncoding {
  const value = (header ?? '').trim().toLowerCase();
  switch (value) {
    case '':
    case 'identity':
      return 'identity';
    case 'gzip':
    case 'x-gzip':
      return 'gzip';
    case 'deflate':
      return 'deflate';
    case 'br':
      return 'br';
    default:
      throw new FalconerError(
        'INGEST_UNSUPPORTED_MEDIA_TYPE',
        `unsupported Content-Encoding ${JSON.stringify(value.slice(0, 64))}; accepted: gzip, deflate, br, identity`,
      );
  }
}
