import { readFile } from 'node:fs/promises';
import { FalconerError } from '../errors.ts';

/** Reads a UTF-8 file; failure is an IO_ERROR that names what the file was for and where it is. */
export async function readTextFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new FalconerError(
      'IO_ERROR',
      `cannot read ${what}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}
