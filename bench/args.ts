/** The command-line flags every benchmark takes: `--name value` for positive numbers, `--flag` switches. */
const argv = process.argv.slice(2);

/** A positive number given as `--name N`, else the fallback. */
export function numberFlag(name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const v = i === -1 ? NaN : Number(argv[i + 1]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export function hasFlag(name: string): boolean {
  return argv.includes(name);
}

/** A string given as `--name value`, else undefined. */
export function stringFlag(name: string): string | undefined {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
}
