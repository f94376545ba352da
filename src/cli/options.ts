/** Commander argument parsers shared by the commands: a bad value is refused with the flag named. */
import { InvalidArgumentError } from 'commander';

export function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min}`);
    }
    return n;
  };
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && Number.isFinite(n)))
    throw new InvalidArgumentError('expected a positive number');
  return n;
}
