import { randomInt } from 'node:crypto';
import { secretsError } from './errors.js';

/**
 * GetRandomPassword: characters drawn with a CSPRNG (crypto.randomInt, no modulo bias) from the sets AWS
 * uses. https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetRandomPassword.html
 */
export type PasswordRules = {
  PasswordLength?: number;
  ExcludeCharacters?: string;
  ExcludeNumbers?: boolean;
  ExcludePunctuation?: boolean;
  ExcludeUppercase?: boolean;
  ExcludeLowercase?: boolean;
  IncludeSpace?: boolean;
  RequireEachIncludedType?: boolean;
};

const CHARACTER_SETS = {
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  numbers: '0123456789',
  punctuation: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
  space: ' ',
} as const;

const DEFAULT_LENGTH = 32;

export function randomPassword(rules: PasswordRules): string {
  const length = rules.PasswordLength ?? DEFAULT_LENGTH;
  const excluded = new Set(rules.ExcludeCharacters ?? '');
  const groups = includedGroups(rules)
    .map((group) => [...group].filter((character) => !excluded.has(character)).join(''))
    .filter((group) => group.length > 0);
  if (groups.length === 0) {
    throw secretsError('InvalidParameterException', 'The password rules exclude every character, so no password can be generated.');
  }
  const requireEach = rules.RequireEachIncludedType ?? true;
  if (requireEach && groups.length > length) {
    throw secretsError('InvalidParameterException', `PasswordLength ${length} is too short to include a character of each of the ${groups.length} required types.`);
  }
  const all = groups.join('');
  const characters = Array.from({ length }, () => all[randomInt(all.length)]!);
  if (requireEach) {
    // Put one character of each type at distinct random positions.
    const positions = shuffled([...Array(length).keys()]).slice(0, groups.length);
    groups.forEach((group, index) => (characters[positions[index]!] = group[randomInt(group.length)]!));
  }
  return characters.join('');
}

function includedGroups(rules: PasswordRules): string[] {
  const groups: string[] = [];
  if (!rules.ExcludeLowercase) groups.push(CHARACTER_SETS.lowercase);
  if (!rules.ExcludeUppercase) groups.push(CHARACTER_SETS.uppercase);
  if (!rules.ExcludeNumbers) groups.push(CHARACTER_SETS.numbers);
  if (!rules.ExcludePunctuation) groups.push(CHARACTER_SETS.punctuation);
  if (rules.IncludeSpace) groups.push(CHARACTER_SETS.space);
  return groups;
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
