import type { RequestContext } from '../../core/index.js';
import { Sensitive } from '../../core/index.js';
import { randomPassword } from '../random-password.js';
import type { SecretsInput } from '../schemas.js';

export async function getRandomPassword(_ctx: RequestContext, input: SecretsInput<'GetRandomPassword'>) {
  return { RandomPassword: new Sensitive(randomPassword(input)) };
}
