import { readFileSync } from 'node:fs';
import { FalconerError } from '../errors.ts';

/**
 * Reads a bearer token from a file (a mounted secret); trailing whitespace is
 * trimmed. `what` names the token in errors (never its value).
 */
export function readTokenFile(file: string, what: string, minLength = 16): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new FalconerError(
      'CONFIG_INVALID',
      `cannot read the token file of ${what}`,
      { file },
      { cause: err },
    );
  }
  if (text.length < minLength) {
    throw new FalconerError(
      'CONFIG_INVALID',
      `the token of ${what} is shorter than ${minLength} characters`,
      {
        file,
      },
    );
  }
  return text;
}
