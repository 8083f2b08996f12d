/**
 * The flags of the bench's plain scripts (bench/*.mjs): `takeOption(args, '--rounds', 3)` removes `--rounds N` from
 * `args` and answers N (as text), or the fallback when the flag is absent; what is left in `args` are the operands.
 */
export function takeOption(args, name, fallback) {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const [value] = args.splice(at, 2).slice(1);
  return value;
}
